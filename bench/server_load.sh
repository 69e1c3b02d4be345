#!/usr/bin/env bash
# The server under load and faults (docs/RELIABILITY.md, section 4): starts `fare serve` on a free
# loopback port and runs bench/server_load/load.mjs against it for SECONDS (default 120).
#   bench/server_load.sh [MODEL] [SECONDS] [extra fare serve flags...]
# MODEL defaults to the micro fixture model. Exit 1 when any rule was broken (see load.mjs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
model="${1:-$root/../shared/fixtures/micro-qwen3/hf-bf16}"
seconds="${2:-120}"
shift $(( $# > 2 ? 2 : $# ))
fare="${FARE:-$root/build/release/apps/cli/fare}"
if [ ! -d "$here/server_load/node_modules/autocannon" ]; then
  (cd "$here/server_load" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
body_limit=65536
log="$(mktemp)"
"$fare" serve -m "$model" --port 0 -t 2 -c 4096 --parallel 4 --max-queue 40 --body-limit "$body_limit" "$@" >"$log" 2>&1 &
pid=$!
trap 'kill -9 $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
  grep -q "serve: ready" "$log" && break
  kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
port="$(sed -n 's#.*listening on http://127.0.0.1:\([0-9]*\).*#\1#p' "$log" | head -1)"
echo "fare serve pid $pid on port $port: $(grep 'serve: ready' "$log")" >&2
status=0
node "$here/server_load/load.mjs" "http://127.0.0.1:$port" "$pid" "$seconds" "$body_limit" || status=$?
kill -TERM $pid
wait $pid || { echo "fare serve did not exit 0 after SIGTERM" >&2; status=1; }
exit $status
