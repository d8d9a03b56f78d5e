#!/usr/bin/env bash
# The rooms-server benchmark: `kinoroom serve` in the background with load-test settings,
# then `kinoroom loadtest` with 10,000 phones voting in one 10 s window, then stop.
#
#   bench/loadtest.sh                       # 10,000 phones, 2 bot processes
#   PHONES=2000 PROCS=2 bench/loadtest.sh   # smaller
#
# Figures go to bench/results/loadtest.json (and the terminal). Targets (issue 4):
# vote-ack p99 <= 250 ms, decision-to-all-phones p99 <= 1 s, server RSS <= 1.5 GB.
# The server runs with the embedded defaults (SQLite in a fresh temporary directory, the
# in-process bus): only the demo room is turned off and logging kept to warnings.
# Joins are not rate-limited (only failed joins are), so nothing else needs raising.
# Each socket is a file descriptor: the server needs one per phone, so its open-file
# limit is raised to the hard limit here; the bot processes raise their own.
set -euo pipefail
cd "$(dirname "$0")/.."

PHONES=${PHONES:-10000}
PROCS=${PROCS:-2}
WINDOW=${WINDOW:-10}
PORT=${PORT:-8765}
PYTHON=${PYTHON:-.venv/bin/python}
KINOROOM=${KINOROOM:-.venv/bin/kinoroom}
OUT=${OUT:-bench/results/loadtest.json}

ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((PHONES + 1000)) ]; then
    echo "open-file limit $(ulimit -n) is too low for $PHONES phones" >&2
    exit 1
fi

data=$(mktemp -d -t kinoroom-loadtest-XXXXXX)
KINOROOM_DATA_DIR="$data" KINOROOM_DEMO_ROOM=false KINOROOM_HOST=127.0.0.1 \
    KINOROOM_PORT="$PORT" KINOROOM_LOG_LEVEL=WARNING \
    "$KINOROOM" serve >"$data/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -rf "$data"' EXIT

for _ in $(seq 100); do
    if "$PYTHON" -c "import httpx, sys; httpx.get('http://127.0.0.1:$PORT/healthz', trust_env=False).raise_for_status()" 2>/dev/null; then
        break
    fi
    kill -0 "$server" 2>/dev/null || { cat "$data/serve.log" >&2; exit 1; }
    sleep 0.2
done

"$KINOROOM" loadtest --url "http://127.0.0.1:$PORT" --phones "$PHONES" \
    --duration "$WINDOW" --procs "$PROCS" --server-pid "$server" --out "$OUT"
