#!/usr/bin/env bash
# Starts `fare serve` on a free port with an API key, runs the official openai client's checks
# against it (check.mjs), then stops the server with SIGTERM and expects exit code 0.
#   run.sh FARE MODEL
set -euo pipefail
fare="$1"; model="$2"
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/node_modules/openai" ]; then
  echo "the openai client is not installed: run scripts/setup.sh (npm ci in $here)" >&2
  exit 1
fi
log="$(mktemp)"
export FARE_API_KEY="test-key-$$"
"$fare" serve -m "$model" --port 0 -t 2 -c 2048 >"$log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 300); do
  grep -q "serve: ready" "$log" && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
port="$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$log" | head -1)"
[ -n "$port" ] || { echo "no port in the server's log:" >&2; cat "$log" >&2; exit 1; }
node "$here/check.mjs" "http://127.0.0.1:$port/v1"
kill -TERM $pid
wait $pid
echo "fare serve exited with 0 after SIGTERM"
