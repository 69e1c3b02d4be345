#!/usr/bin/env bash
# Regenerates a gpt-oss fixture and its goldens (README.md), then checks SHA256SUMS.
#   tests/gpt_oss/build.sh [micro-gptoss|tiny-gptoss] [--no-goldens]
# micro-gptoss is committed (micro-gptoss/, goldens/); tiny-gptoss (full vocabulary, 62 MiB GGUF,
# 76 MiB Hugging Face folder) is only built, under build/tiny-gptoss/. build/ also receives the
# all-F32 GGUF llama.cpp's F32 path runs on and the intermediate llama.cpp files.
# Needs: node and npm (npm ci installs the tokenizer and jinja packages here), python3 with numpy,
# and for the goldens node-llama-cpp 3.21.1 in ~/.cache/fare/node-llama-cpp-3.21.1
# (bench/vs_llamacpp.sh installs it). Runs niced, on 2 threads.
set -euo pipefail
cd "$(dirname "$0")"
model="${1:-micro-gptoss}"
goldens=1
[ "${2:-}" = "--no-goldens" ] && goldens=0
py=python3
python3 -c "import numpy" 2>/dev/null || py=/usr/bin/python3
export OPENBLAS_NUM_THREADS=1

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund
fi
case "$model" in
  micro-gptoss) dir=micro-gptoss ;;
  tiny-gptoss) dir=build/tiny-gptoss ;;
  *) echo "build.sh: unknown model $model" >&2; exit 2 ;;
esac
mkdir -p build
nice -n 10 "$py" make_fixtures.py tokenizer "$model"
nice -n 10 node prompts.mjs "$dir/hf" "$dir/prompts.json"
nice -n 10 "$py" make_fixtures.py model "$model" --f32 "build/$model-f32.gguf"
if [ "$goldens" = 1 ]; then
  nice -n 10 "$py" make_goldens.py "$model" --f32 "build/$model-f32.gguf"
fi
# Model files are bit-exact from the seeds; the goldens' llama.cpp columns depend on the CPU.
grep -E " (\./)?($dir|build/$model)" SHA256SUMS | sha256sum -c --quiet - && echo "build.sh: $model files match SHA256SUMS"
