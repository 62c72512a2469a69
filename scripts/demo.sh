#!/usr/bin/env bash
# `make demo`: the local pipeline as it stands: emulators up, the market simulator, `coattail ingest`
# into the local Kinesis stream, then what arrived. Everything it starts is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
C=(node bin/coattail)
RUN_SECONDS=${DEMO_SECONDS:-20}
PORT=${COATTAIL_SIM_PORT:-9443}

"${C[@]}" local up
SIM=""
cleanup() {
  [ -n "$SIM" ] && kill "$SIM" 2>/dev/null && wait "$SIM" 2>/dev/null
  "${C[@]}" local down || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${C[@]}" simulate --scenario default --port "$PORT" &
SIM=$!
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
  sleep 0.1
done

echo "== ingesting from the simulator for ${RUN_SECONDS}s (Ctrl-C stops early and still flushes) ==" >&2
"${C[@]}" ingest --local --binance-url "ws://127.0.0.1:$PORT" --coinbase-url "ws://127.0.0.1:$PORT/coinbase" \
  --duration "$RUN_SECONDS" --stats-interval 5

echo "== what arrived in the local Kinesis stream ==" >&2
"${C[@]}" local peek --last 3
