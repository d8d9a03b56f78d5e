#!/usr/bin/env bash
# The rooms-server benchmark: `kinoroom serve` in the background with load-test settings,
# then `kinoroom loadtest` with 10,000 phones voting in one 10 s window, then stop.
#
#   bench/loadtest.sh                       # 10,000 phones, 2 bot processes
#   PHONES=2000 PROCS=2 bench/loadtest.sh   # smaller
#   bench/loadtest.sh --smoke --out FILE    # 20 phones, a 2 s window: does it work?
#   bench/loadtest.sh --workers 2           # a cluster: serve --workers 2 + Redis + PostgreSQL
#
# Figures go to bench/results/loadtest.json (--out or OUT moves them) and the terminal.
# Targets (issue 4): vote-ack p99 <= 250 ms, decision-to-all-phones p99 <= 1 s, server
# RSS <= 1.5 GB. The server runs with the embedded defaults (SQLite in a fresh temporary
# directory, the in-process bus): only the demo room is turned off and logging kept to
# warnings. It listens on a free port (PORT=0 unless set), which its banner names.
# Joins are not rate-limited (only failed joins are), so nothing else needs raising.
# Each socket is a file descriptor: the server needs one per phone, so its open-file
# limit is raised to the hard limit here; the bot processes raise their own.
# With --workers N (WORKERS=N) the server is `kinoroom serve --workers N`, a cluster of N
# processes on one port: it gets a redis-server of its own on a free port (nothing on
# disk, so its command counts are this run's alone) and a fresh PostgreSQL database on
# PG_URL (127.0.0.1:5432, database `test`, by default), both removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PHONES=${PHONES:-10000}
PROCS=${PROCS:-2}
WINDOW=${WINDOW:-10}
PORT=${PORT:-0}
PYTHON=${PYTHON:-.venv/bin/python}
KINOROOM=${KINOROOM:-.venv/bin/kinoroom}
OUT=${OUT:-bench/results/loadtest.json}
START_S=${START_S:-60}  # the longest the server may take to answer /healthz
WORKERS=${WORKERS:-1}
PG_URL=${PG_URL:-postgresql://postgres@127.0.0.1:5432/test}

while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) PHONES=20 PROCS=1 WINDOW=2 ;;
        --out) OUT=${2:?--out needs a file}; shift ;;
        --workers) WORKERS=${2:?--workers needs a number}; shift ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error bad-argument: bench/loadtest.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

case "$WORKERS" in
    '' | *[!0-9]* | 0) echo "error bad-argument: bench/loadtest.sh: --workers must be a whole number ≥ 1, not '$WORKERS'" >&2; exit 2 ;;
esac
ulimit -n "$(ulimit -Hn)"
per_process=$(( (PHONES + WORKERS - 1) / WORKERS + 1000 ))  # a server process's sockets
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$per_process" ]; then
    echo "error open-file-limit: $(ulimit -n) open files per process is too few for" \
        "$PHONES phones on $WORKERS server process(es)" >&2
    exit 1
fi

data=$(mktemp -d -t kinoroom-loadtest-XXXXXX)
: >"$data/serve.log"
server= redis= database= cluster=() loadtest_cluster=()
stop() {  # the load test's exit status, not the stopped server's
    status=$?
    [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
    [ -z "$redis" ] || { kill "$redis" 2>/dev/null || true; wait "$redis" 2>/dev/null || true; }
    [ -z "$database" ] || psql -q "$PG_URL" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1 || true
    rm -rf "$data"
    exit "$status"
}
trap stop EXIT

if [ "$WORKERS" -gt 1 ]; then
    redis_port=$("$PYTHON" -c "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
    redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no \
        --dir "$data" --maxclients 10000 >"$data/redis.log" 2>&1 &
    redis=$!
    database=kinoroom_loadtest_$$
    psql -q "$PG_URL" -c "CREATE DATABASE $database" >/dev/null
    redis_url=redis://127.0.0.1:$redis_port/0
    until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.05; done
    secret=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    cluster=(
        KINOROOM_REDIS_URL="$redis_url"
        KINOROOM_DATABASE_URL="postgresql+asyncpg://$(echo "${PG_URL#postgresql://}" | sed "s,/[^/]*\$,/$database,")"
        KINOROOM_SECRET_KEY="loadtest-$secret"
    )
    loadtest_cluster=(--redis-url "$redis_url")
fi
env "${cluster[@]}" KINOROOM_DATA_DIR="$data" KINOROOM_DEMO_ROOM=false KINOROOM_HOST=127.0.0.1 \
    KINOROOM_PORT="$PORT" KINOROOM_LOG_LEVEL=WARNING \
    "$KINOROOM" serve --workers "$WORKERS" >"$data/serve.log" 2>&1 &
server=$!

# The banner names the address once the services are up; then /healthz answers.
url=
deadline=$((SECONDS + START_S))
while [ -z "$url" ]; do
    url=$(sed -n 's/^Kinoroom is running at \(http:[^ ]*\).*/\1/p' "$data/serve.log")
    kill -0 "$server" 2>/dev/null || { cat "$data/serve.log" >&2; exit 1; }
    if [ "$SECONDS" -ge "$deadline" ]; then
        echo "error server-start: kinoroom serve did not start in ${START_S} s" >&2
        cat "$data/serve.log" >&2
        exit 1
    fi
    [ -n "$url" ] || sleep 0.1
done
"$PYTHON" -c "import httpx, sys; httpx.get(sys.argv[1] + '/healthz', trust_env=False).raise_for_status()" "$url"

"$KINOROOM" loadtest --url "$url" --phones "$PHONES" "${loadtest_cluster[@]}" \
    --duration "$WINDOW" --procs "$PROCS" --server-pid "$server" --out "$OUT"
