#!/usr/bin/env bash
# Many judgments at once, fare against llama.cpp: the first PAIRS JudgeBench pairs in both orders
# (FARE's pairwise prompts rendered with the model's chat template), each judgment generating
# TOKENS tokens (the end token ignored). Four runs on the same model file and threads:
#   fare --parallel 1, fare --parallel N (the batched engine, prefix cache on),
#   llama.cpp one sequence after another, llama.cpp with N sequences in one context
#   (node-llama-cpp 3.21.1, prebuilt, installed into the cache folder as bench/vs_llamacpp.sh does).
# Prints each run's JSON and a table with the ratios. Never part of CI.
#
#   bench/judge_throughput.sh MODEL.gguf [--threads 2] [--pairs 8] [--tokens 128] [--parallel 8]
#                             [--kernels auto] [--kv-cache f32|f16|bf16] [--input JUDGEBENCH.jsonl] [--skip-llama]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
model="" threads=2 pairs=8 tokens=128 parallel=8 kernels=auto kv_cache="" skip_llama=0
input="$(ls "$repo"/../shared/data/judgebench/*.jsonl | head -1)"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/fare/node-llama-cpp-3.21.1"
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --pairs) pairs="$2"; shift 2 ;;
    --tokens) tokens="$2"; shift 2 ;;
    --parallel) parallel="$2"; shift 2 ;;
    --kernels) kernels="$2"; shift 2 ;;
    --kv-cache) kv_cache="$2"; shift 2 ;;
    --input) input="$2"; shift 2 ;;
    --skip-llama) skip_llama=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "judge_throughput.sh: unknown option $1" >&2; exit 2 ;;
    *) model="$1"; shift ;;
  esac
done
[ -n "$model" ] || { echo "usage: bench/judge_throughput.sh MODEL.gguf [options]" >&2; exit 2; }
bin="$repo/build/release/bench/bench_judge_throughput"
[ -x "$bin" ] || { echo "judge_throughput.sh: build first ($bin missing)" >&2; exit 1; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
common=(--input "$input" --pairs "$pairs" --tokens "$tokens" --threads "$threads" --kernels "$kernels")
[ -z "$kv_cache" ] || common+=(--kv-cache "$kv_cache")

echo "fare, --parallel 1" >&2
"$bin" "$model" "${common[@]}" --parallel 1 --prompts-out "$out/prompts.jsonl" > "$out/fare1.json"
echo "fare, --parallel $parallel" >&2
"$bin" "$model" "${common[@]}" --parallel "$parallel" > "$out/fareN.json"
runs=(fare1 fareN)
if [ "$skip_llama" = 0 ]; then
  if [ ! -d "$cache/node_modules/node-llama-cpp" ]; then
    mkdir -p "$cache" && (cd "$cache" && npm i -E --silent node-llama-cpp@3.21.1 >&2)
  fi
  cp "$repo/bench/judge_throughput_llamacpp.mjs" "$cache/"
  for s in 1 "$parallel"; do
    echo "llama.cpp, $s sequence(s)" >&2
    (cd "$cache" && node judge_throughput_llamacpp.mjs "$model" "$out/prompts.jsonl" --tokens "$tokens" \
       --sequences "$s" --threads "$threads") > "$out/llama$s.json"
  done
  runs+=(llama1 "llama$parallel")
fi
for r in "${runs[@]}"; do echo "== $r"; cat "$out/$r.json"; done
node - "$out" "$parallel" "${runs[@]}" <<'JS'
const fs = require("fs");
const [out, n, ...runs] = process.argv.slice(2);
const r = Object.fromEntries(runs.map((k) => [k, JSON.parse(fs.readFileSync(`${out}/${k}.json`, "utf8"))]));
const names = {fare1: "fare --parallel 1", fareN: `fare --parallel ${n}`, llama1: "llama.cpp, one at a time",
  [`llama${n}`]: `llama.cpp, ${n} sequences`};
console.log("\n| run | judgments/hour | generated tok/s | prompt tokens computed / from cache | TTFT median s | peak RSS GiB |");
console.log("|---|---:|---:|---|---:|---:|");
for (const k of runs) {
  const j = r[k];
  const comp = j.prompt_tokens_cached !== undefined ? `${j.prompt_tokens_computed} / ${j.prompt_tokens_cached}` : `${j.prompt_tokens} / -`;
  console.log(`| ${names[k]} | ${j.judgments_per_hour.toFixed(1)} | ${j.generated_tok_per_s.toFixed(2)} | ${comp} | ` +
    `${j.ttft_median_s.toFixed(1)} | ${(j.peak_rss_bytes / 2 ** 30).toFixed(2)} |`);
}
console.log(`\nfare --parallel ${n} / fare --parallel 1: ${(r.fare1.wall_s / r.fareN.wall_s).toFixed(2)}x`);
if (r.llama1) {
  const best = Math.min(r.llama1.wall_s, r[`llama${n}`].wall_s);
  console.log(`fare --parallel ${n} / llama.cpp's best mode: ${(best / r.fareN.wall_s).toFixed(2)}x`);
}
JS
