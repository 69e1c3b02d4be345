#!/usr/bin/env bash
# fare bench and llama.cpp (the prebuilt CPU build in the npm package node-llama-cpp 3.21.1) on the
# same GGUF file with the same threads, alternating run by run so that both see the same machine
# load, then the median of each and the ratios fare / llama.cpp. Never part of CI.
#
#   bench/vs_llamacpp.sh MODEL.gguf [--threads N] [--pp 512] [--tg 64] [--reps R]
#                        [--kernels NAME] [--fare PATH] [--fare-model PATH] [--cache-dir DIR]
#                        [--fare-arg ARG]... [--llama-flash-attention] [--json FILE]
#
# --fare-model gives fare another copy of the same weights, e.g. the Hugging Face safetensors
# folder MODEL.gguf was converted from (llama.cpp reads only GGUF). --fare-arg adds one argument
# to fare's command line (repeatable), e.g. --fare-arg --repack. --llama-flash-attention runs
# llama.cpp with its flash attention (off by default: its other path is the arithmetic fare does).
#
# Every run starts from a warm page cache: its engine's model files are read right before it.
# Two copies of a large model (a 16 GB BF16 GGUF and its safetensors) may not both fit in the page
# cache; without this each run would evict part of the other engine's file and time disk reads.
#
# Decode speed follows the memory's read bandwidth, which on a shared machine moves from one
# minute to the next. fare bench probes it right before and after each of its decode runs; for
# llama.cpp's, this script runs its prefill and its decode as two processes and probes the
# bandwidth between them and after the decode (with `fare bench --pp 0 --tg 0`), so that each
# engine's decode is also given as a share of the bandwidth around it.
#
# node-llama-cpp is installed once into the cache folder (default ~/.cache/fare/node-llama-cpp-3.21.1)
# with `npm i -E`; it ships prebuilt binaries, so nothing is compiled. Exactly this version: newer
# ones may fail to install here.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
model="" fare_model="" threads=2 pp=512 tg=64 reps=3 kernels=auto json_out=""
fare_args=() llama_args=()
fare="$repo/build/release/apps/cli/fare"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fare/node-llama-cpp-3.21.1"
usage() { sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --pp) pp="$2"; shift 2 ;;
    --tg) tg="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --kernels) kernels="$2"; shift 2 ;;
    --fare) fare="$2"; shift 2 ;;
    --fare-model) fare_model="$2"; shift 2 ;;
    --fare-arg) fare_args+=("$2"); shift 2 ;;
    --llama-flash-attention) llama_args+=(--flash-attention); shift ;;
    --cache-dir) cache="$2"; shift 2 ;;
    --json) json_out="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    -*) echo "vs_llamacpp.sh: unknown option $1" >&2; usage ;;
    *) [ -z "$model" ] || { echo "vs_llamacpp.sh: more than one model given" >&2; usage; }; model="$1"; shift ;;
  esac
done
[ -n "$model" ] || usage
[ -f "$model" ] || { echo "vs_llamacpp.sh: $model: no such file" >&2; exit 1; }
[ -n "$fare_model" ] || fare_model="$model"
[ -e "$fare_model" ] || { echo "vs_llamacpp.sh: $fare_model: no such file or folder" >&2; exit 1; }
[ -x "$fare" ] || { echo "vs_llamacpp.sh: $fare: not built (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }

if [ ! -f "$cache/node_modules/node-llama-cpp/package.json" ]; then
  echo "installing node-llama-cpp@3.21.1 into $cache" >&2
  mkdir -p "$cache"
  (cd "$cache" && { [ -f package.json ] || echo '{"private": true}' > package.json; } && npm i -E node-llama-cpp@3.21.1 >&2)
fi

# Reads FILE or every file under FOLDER once, so the run after it finds them in the page cache.
warm() {
  local start=$SECONDS
  find "$1" -type f -print0 | xargs -0 cat > /dev/null
  echo "  page cache warmed with $1 in $((SECONDS - start)) s" >&2
}

# The read bandwidth (GB/s) with the benchmark's threads, as fare bench measures it.
probe() {
  "$fare" bench -m "$fare_model" --pp 0 --tg 0 --no-warmup -t "$threads" --json |
    node -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => console.log(JSON.parse(s).decode.mem_read_gb_per_s_outside));'
}

# One llama.cpp round as one JSON line: the prefill run, then the decode run between two probes
# (its pp and load time from the first process, its tg from the second).
llama_round() {
  local bench=(node "$repo/bench/llamacpp_bench.mjs" --module "$cache" "$model" --reps 1 --threads "$threads"
               ${llama_args[@]+"${llama_args[@]}"})
  local first second before=0 after=0
  first="$("${bench[@]}" --pp "$pp" --tg 0)"
  second='{"tg": {"tokens": 0, "runs": [], "tok_per_s": 0}}'
  if [ "$tg" -gt 0 ]; then
    before="$(probe)"
    second="$("${bench[@]}" --pp 0 --tg "$tg")"
    after="$(probe)"
  fi
  node -e 'const [a, b, before, after] = process.argv.slice(1);
    const r = JSON.parse(a);
    r.tg = JSON.parse(b).tg;
    r.mem_read_gb_per_s_around_tg = Math.max(Number(before), Number(after));
    console.log(JSON.stringify(r));' "$first" "$second" "$before" "$after"
}

runs="$(mktemp)"
trap 'rm -f "$runs"' EXIT
for ((r = 1; r <= reps; r++)); do
  echo "round $r/$reps: fare" >&2
  warm "$fare_model"
  "$fare" bench -m "$fare_model" --pp "$pp" --tg "$tg" --reps 1 -t "$threads" --kernels "$kernels" ${fare_args[@]+"${fare_args[@]}"} --json | tr -d '\n' >> "$runs"
  echo >> "$runs"
  echo "round $r/$reps: llama.cpp" >&2
  warm "$model"
  llama_round >> "$runs"
done

node --input-type=module - "$runs" "$json_out" <<'JS'
import fs from "node:fs";
const [runsFile, jsonOut] = process.argv.slice(2);
const runs = fs.readFileSync(runsFile, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = {};
for (const engine of ["fare", "llama.cpp"]) {
  const mine = runs.filter((r) => r.engine === engine);
  summary[engine] = {
    pp: median(mine.map((r) => r.pp.tok_per_s)), tg: median(mine.map((r) => r.tg.tok_per_s)),
    pp_runs: mine.map((r) => r.pp.tok_per_s), tg_runs: mine.map((r) => r.tg.tok_per_s),
    load_s: median(mine.map((r) => r.load_s)),
  };
}
const f = runs.find((r) => r.engine === "fare");
summary.fare.decode_gb_per_s = median(runs.filter((r) => r.engine === "fare").map((r) => r.decode.gb_per_s));
summary.fare.mem_read_gb_per_s = median(runs.filter((r) => r.engine === "fare").map((r) => r.decode.mem_read_gb_per_s));
// Each fare run's decode against the bandwidth probed right around it (fare bench --json).
summary.fare.fraction_runs = runs.filter((r) => r.engine === "fare").map((r) => r.decode.fraction_of_mem_read);
summary.fare.fraction_of_mem_read = median(summary.fare.fraction_runs);
summary.fare.peak_rss_over_weights_kv = f.memory.rss_over_weights_kv;
// llama.cpp streams the same weights: its decode in GB/s at fare's bytes per token (the KV
// cache's share may differ), against the better of the probes right before and after its decode
// (fare bench's rule for its own runs), so that a decode ratio can be told apart: both engines at
// the memory's wall, or one short of it.
summary.ratio = {pp: summary.fare.pp / summary["llama.cpp"].pp, tg: summary.fare.tg / summary["llama.cpp"].tg};
const fareRuns = runs.filter((r) => r.engine === "fare"), llamaRuns = runs.filter((r) => r.engine === "llama.cpp");
summary["llama.cpp"].decode_gb_per_s_runs = llamaRuns.map((r, i) => r.tg.tok_per_s * fareRuns[i].decode.bytes_per_token / 1e9);
summary["llama.cpp"].mem_read_runs = llamaRuns.map((r) => r.mem_read_gb_per_s_around_tg);
summary["llama.cpp"].fraction_runs = summary["llama.cpp"].decode_gb_per_s_runs.map((g, i) => g / llamaRuns[i].mem_read_gb_per_s_around_tg);
summary["llama.cpp"].fraction_of_mem_read = median(summary["llama.cpp"].fraction_runs);
summary.fare.mem_read_runs = fareRuns.map((r) => r.decode.mem_read_gb_per_s);
summary.ratio.tg_share_of_bandwidth = summary.fare.fraction_of_mem_read / summary["llama.cpp"].fraction_of_mem_read;
const fix = (x, d) => x.toFixed(d).padStart(9);
console.log(`model ${f.model} (llama.cpp: ${runs.find((r) => r.engine === "llama.cpp").model ?? "the same"}), ${f.threads} threads, ${runs.length / 2} alternating rounds (median)`);
console.log(`| engine    |   pp t/s |   tg t/s |  load s |`);
for (const e of ["fare", "llama.cpp"])
  console.log(`| ${e.padEnd(9)} |${fix(summary[e].pp, 2)} |${fix(summary[e].tg, 3)} |${fix(summary[e].load_s, 2)} |`);
for (const e of ["fare", "llama.cpp"])
  console.log(`${e} runs in order: pp ${summary[e].pp_runs.map((v) => v.toFixed(2)).join(", ")}; tg ${summary[e].tg_runs.map((v) => v.toFixed(3)).join(", ")}`);
const ratio = (name, v, n) => (n > 0 ? `${name} ${v.toFixed(2)}x` : `${name} -`);
console.log(`ratio fare / llama.cpp: ${ratio("pp", summary.ratio.pp, f.pp.tokens)}, ${ratio("tg", summary.ratio.tg, f.tg.tokens)}`);
const pct = (v) => (100 * v).toFixed(0) + " %";
const each = (gbs, probes) => gbs.map((g, i) => `${g.toFixed(1)}/${probes[i].toFixed(1)}`).join(", ");
if (f.tg.tokens > 0) {
  const fareGbs = fareRuns.map((r) => r.decode.gb_per_s), l = summary["llama.cpp"];
  console.log(`decode GB/s / read bandwidth probed around each run, at fare's bytes per token:`);
  console.log(`  fare      ${each(fareGbs, summary.fare.mem_read_runs)}: ${summary.fare.fraction_runs.map(pct).join(", ")} ` +
              `(median ${pct(summary.fare.fraction_of_mem_read)})`);
  console.log(`  llama.cpp ${each(l.decode_gb_per_s_runs, l.mem_read_runs)}: ${l.fraction_runs.map(pct).join(", ")} ` +
              `(median ${pct(l.fraction_of_mem_read)})`);
  console.log(`ratio of the shares: ${summary.ratio.tg_share_of_bandwidth.toFixed(2)}x`);
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({summary, runs}, null, 1));
JS
