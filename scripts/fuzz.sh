#!/usr/bin/env bash
# Builds the libFuzzer targets (the fuzz preset: clang-14, ASan + UBSan) and runs each of them.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# SECONDS_PER_TARGET: default 600; 0 runs each target over its seeds only (no new inputs).
# TARGET: names from fuzz/ (gguf, safetensors, ...); default all of them.
# Targets run side by side, one per core (FUZZ_JOBS=N sets how many at once). Each starts from a
# copy of its committed seeds (fuzz/corpus/<target>, never modified here) plus the cut fixture
# models of fuzz/make_seeds.sh --big, with its dictionary (fuzz/<target>.dict). Per target it prints executions, seconds, coverage gained and findings;
# a finding's input is kept in build/fuzz/findings/ and makes the script exit 1.
# Reproduce one: build/fuzz/fuzz/fuzz_<target> build/fuzz/findings/<file>
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-600}"
shift || true
all=(safetensors gguf config tokenizer_load bpe chat_template harmony_output server_http dataset results verdict)
targets=("$@")
((${#targets[@]})) || targets=("${all[@]}")

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null
fuzz/make_seeds.sh --big >/dev/null

out=build/fuzz
mkdir -p "$out/findings" "$out/logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# One target per core at a time: each libFuzzer run is a single process on one thread.
jobs="${FUZZ_JOBS:-$(nproc)}"

# Runs one target and writes its table row to $out/logs/<target>.row; a finding leaves <target>.found.
run_target() {
  local t="$1" bin="$out/fuzz/fuzz_$1" corpus="$out/run/$1"
  rm -rf "$corpus" "$out/logs/$t.found"
  mkdir -p "$corpus"
  cp -r "fuzz/corpus/$t/." "$corpus/"
  local dirs=("$corpus")
  [ -d "$out/seeds/$t" ] && dirs+=("$out/seeds/$t")
  local args=(-rss_limit_mb=4096 -timeout=10 -print_final_stats=1 -artifact_prefix="$out/findings/$t-")
  [ -f "fuzz/$t.dict" ] && args+=(-dict="fuzz/$t.dict")
  if [ "$seconds" = 0 ]; then args+=(-runs=0); else args+=(-max_total_time="$seconds"); fi
  local before after found rc=0 log="$out/logs/$t.log" start elapsed execs cov0 cov1 result
  before=$(ls "$out/findings" | grep -c "^$t-" || true)
  start=$(date +%s%N)
  # The hard limit covers the targets that load a model or a tokenizer first.
  timeout --kill-after=30 $((seconds + 120)) "$bin" "${dirs[@]}" "${args[@]}" >"$log" 2>&1 || rc=$?
  elapsed=$(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov0=$(sed -n 's/.*INITED cov: \([0-9]*\).*/\1/p' "$log" | head -1)
  cov1=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  after=$(ls "$out/findings" | grep -c "^$t-" || true)
  found=$((after - before))
  if ((rc != 0 && found == 0)); then found=1; fi  # a crash that left no input (e.g. killed by the time limit)
  if ((found)); then
    touch "$out/logs/$t.found"
    result="$found ($(grep -m1 -E 'FINDING|ERROR: |runtime error|SUMMARY' "$log" | cut -c1-160); log: $log)"
  else
    result=0
  fi
  printf '%-15s %8s %12s %22s  %s\n' "$t" "$elapsed" "${execs:-?}" "${cov0:-?} -> ${cov1:-?} (+$(( ${cov1:-0} - ${cov0:-0} )))" "$result" \
    >"$out/logs/$t.row"
}

for t in "${targets[@]}"; do
  [ -x "$out/fuzz/fuzz_$t" ] || { echo "fuzz.sh: no target '$t' (have: ${all[*]})" >&2; exit 2; }
done
printf '%-15s %8s %12s %22s  %s\n' target seconds executions "coverage (edges)" findings
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then wait -n; running=$((running - 1)); fi
  run_target "$t" &
  running=$((running + 1))
done
wait
status=0
for t in "${targets[@]}"; do
  cat "$out/logs/$t.row"
  [ -e "$out/logs/$t.found" ] && status=1
done
exit $status
