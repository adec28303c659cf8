#!/usr/bin/env bash
# Measures the wallet and the machine's limits in one run, as reported in
# docs/PERFORMANCE.md. Needs: a release build, openssl, pgbench and
# pg_test_fsync (PostgreSQL's client tools), and PostgreSQL at
# $PG_URL (default postgres://postgres@127.0.0.1:5432/test).
#
#   scripts/perf-suite.sh [RESULTS_DIR]
#
# SKIP_LIMITS=1, SKIP_SQLITE=1, SKIP_POSTGRES=1 leave a part out;
# CONNECTIONS (64) and DURATION (20s) set the load.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$REPO/bench-results/$(date +%Y%m%d-%H%M%S)}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
mkdir -p "$OUT"
cd "$REPO"
cargo build --release -q -p freewalker-server -p freewalker-bench -p freewalker-protocol --examples
if curl -sf http://127.0.0.1:8080/readyz >/dev/null; then
    echo "something already listens on 127.0.0.1:8080: stop it first" >&2
    exit 1
fi
W=$REPO/target/release/freewalker
B=$REPO/target/release/freewalker-bench

echo "== machine" | tee "$OUT/machine.txt"
{ nproc; grep -m1 "model name" /proc/cpuinfo; free -g | head -2; uname -r; } | tee -a "$OUT/machine.txt"

if [ -z "${SKIP_LIMITS:-}" ]; then
echo "== crypto limit: openssl speed rsa2048 on every core" | tee "$OUT/openssl.txt"
openssl speed -seconds 10 -multi "$(nproc)" rsa2048 2>/dev/null | tail -2 | tee -a "$OUT/openssl.txt"
"$REPO/target/release/examples/sign_rate" "$(nproc)" 10 | tee -a "$OUT/openssl.txt"

echo "== durability limit: fsync rate of the disk under $REPO" | tee "$OUT/fsync.txt"
PG_TEST_FSYNC=$(ls /usr/lib/postgresql/*/bin/pg_test_fsync | tail -1)
"$PG_TEST_FSYNC" -s 5 -f "$REPO/target/fsync_probe" | sed -n '4,10p' | tee -a "$OUT/fsync.txt"
rm -f "$REPO/target/fsync_probe"

echo "== database limit: pgbench TPC-B, $CONNECTIONS clients" | tee "$OUT/pgbench.txt"
PGB_DB=freewalker_pgbench
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PGB_DB" -c "CREATE DATABASE $PGB_DB" 2>/dev/null
PGB_URL=${PG_URL%/*}/$PGB_DB
pgbench -i -s "$CONNECTIONS" -q "$PGB_URL" >/dev/null 2>&1
pgbench -c "$CONNECTIONS" -j "$(nproc)" -T 20 -M prepared "$PGB_URL" 2>&1 | grep -E "tps|latency average" | tee -a "$OUT/pgbench.txt"
psql "$PG_URL" -qc "DROP DATABASE $PGB_DB"
fi

# A wallet this script started is stopped however the script ends.
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null' EXIT

wait_ready() {
    # Nothing else may be answering on the port: the wallet just started must be the one.
    for _ in $(seq 1 200); do curl -sf http://127.0.0.1:8080/readyz >/dev/null && return 0; sleep 0.05; done
    echo "the wallet did not become ready" >&2; return 1
}

run_backend() { # name, then env assignments for the wallet
    local name=$1; shift
    local dir; dir=$(mktemp -d)
    (cd "$dir" && exec env "$@" RUST_LOG=warn "$W" serve >"$OUT/$name-wallet.log" 2>&1) &
    pid=$!
    wait_ready
    for scenario in recharge query withdraw mixed user-sync; do
        local presigned=60000
        [ "$scenario" = query ] && presigned=160000
        ( cd "$dir" && env "$@" "$B" --url http://127.0.0.1:8080 --scenario "$scenario" \
            --connections "$CONNECTIONS" --duration "$DURATION" --max-presigned "$presigned" \
            --json "$OUT/$name-$scenario.json" --no-progress ) 2>&1 | tee "$OUT/$name-$scenario.txt" | sed -n '2,4p;$p' || true
    done
    grep -E "VmHWM" "/proc/$pid/status" | tee "$OUT/$name-memory.txt"
    kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; rm -rf "$dir"
}

if [ -z "${SKIP_SQLITE:-}" ]; then
echo "== wallet on SQLite"
run_backend sqlite FREEWALKER_DATABASE_URL=sqlite://freewalker-data/wallet.db
echo "== wallet on SQLite, signature cache off"
dir=$(mktemp -d)
(cd "$dir" && exec env FREEWALKER_SIGNATURE_CACHE_ENTRIES=0 RUST_LOG=warn "$W" serve >/dev/null 2>&1) &
pid=$!
wait_ready
( cd "$dir" && "$B" --url http://127.0.0.1:8080 --scenario query --connections "$CONNECTIONS" --duration "$DURATION" \
    --max-presigned 60000 --json "$OUT/sqlite-query-nocache.json" --no-progress ) 2>&1 | tee "$OUT/sqlite-query-nocache.txt" | sed -n '2,4p;$p' || true
kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; rm -rf "$dir"
fi

if [ -z "${SKIP_POSTGRES:-}" ]; then
echo "== wallet on PostgreSQL"
SCHEMA=perf_$(date +%s)
run_backend postgres FREEWALKER_DATABASE_URL="$PG_URL" FREEWALKER_DATABASE_SCHEMA="$SCHEMA"
psql "$PG_URL" -qc "DROP SCHEMA $SCHEMA CASCADE" 2>/dev/null
fi
echo "results in $OUT"
