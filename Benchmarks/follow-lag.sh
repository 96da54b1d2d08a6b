#!/usr/bin/env bash
# Follow-lag and snapshot-load figures for PostGIS followers (issue 17 item 4), on loopback. Run
# inside scripts/with-postgres.sh (a primary and a streaming replica), with the release build:
#
#   swift build -c release --product subterra -j 2 && swift build -c release --product subterra-gen -j 2
#   scripts/with-postgres.sh Benchmarks/follow-lag.sh [SEGMENTS=100000] [EDITS_PER_S=1000] [SECONDS=30]
#
# 1. subterra-gen --segments N --seed 7 --format geojson into a temporary folder; `subterra import`
#    into the primary (timed);
# 2. waits until the replica has replayed the import;
# 3. starts two followers (`subterra follow`), one on the primary (woken by NOTIFY, 500 ms poll as
#    the safety net) and one on the replica (50 ms poll: a replica gets no NOTIFY); each reports
#    its snapshot load from PostGIS;
# 4. streams edits at EDITS_PER_S for SECONDS with pgbench (-R: Poisson arrivals at that rate,
#    4 clients): each edit is one transaction doing what PostGISStore.commit does for one
#    update: take the next data version (row lock on subterra_state, a subterra_versions row),
#    move one random pipe by 1 cm (row version + 1), log it in subterra_changes, NOTIFY;
# 5. prints pgbench's report and both followers' JSON summaries: delayP99Seconds is the p99,
#    over every version, of (engine published it − its writer took the version).
# Figures and their context go in Benchmarks/NOTES.md.
set -euo pipefail
segments=${1:-100000} rate=${2:-1000} seconds=${3:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SUBTERRA_BIN:-$root/.build/release}
[ -n "${SUBTERRA_PG_PRIMARY:-}" ] && [ -n "${SUBTERRA_PG_REPLICA:-}" ] \
  || { echo "follow-lag.sh: run inside scripts/with-postgres.sh" >&2; exit 2; }
[ -x "$bin/subterra" ] && [ -x "$bin/subterra-gen" ] || { echo "follow-lag.sh: build subterra and subterra-gen in release first ($bin)" >&2; exit 2; }
psql() { /usr/lib/postgresql/15/bin/psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
work=$(mktemp -d /tmp/follow-lag.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"' EXIT

echo "== $segments segments, $rate edits/s for $seconds s; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/subterra-gen" --segments "$segments" --seed 7 --out "$work/data" --format geojson >/dev/null
t0=$(date +%s.%N)
"$bin/subterra" import "$work/data" --store "$SUBTERRA_PG_PRIMARY" >/dev/null
t1=$(date +%s.%N)
echo "import into PostGIS: $(echo "$t1 - $t0" | bc) s"
head=$(psql "$SUBTERRA_PG_PRIMARY" -c "SELECT data_version FROM subterra_state")
until [ "$(psql "$SUBTERRA_PG_REPLICA" -c "SELECT data_version FROM subterra_state" 2>/dev/null || true)" = "$head" ]; do sleep 0.2; done
echo "replica at version $head"

follow_for=$((seconds + 10))
"$bin/subterra" follow --store "$SUBTERRA_PG_PRIMARY" --seconds "$follow_for" --report-every 5 >"$work/primary.json" 2>"$work/primary.log" &
pids+=($!)
"$bin/subterra" follow --store "$SUBTERRA_PG_REPLICA" --seconds "$follow_for" --report-every 5 >"$work/replica.json" 2>"$work/replica.log" &
pids+=($!)
# Both snapshots loaded (the first progress line) before the edits start.
until grep -q applied "$work/primary.log" 2>/dev/null && grep -q applied "$work/replica.log" 2>/dev/null; do sleep 0.2; done

range=$(psql "$SUBTERRA_PG_PRIMARY" -c "SELECT min(id) || ' ' || max(id) FROM subterra_segments")
read -r lo hi <<<"$range"
cat >"$work/edit.sql" <<SQL
\set id random($lo, $hi)
BEGIN;
WITH v AS (UPDATE subterra_state SET data_version = data_version + 1 RETURNING data_version),
     w AS (INSERT INTO subterra_versions (version) SELECT data_version FROM v RETURNING version),
     u AS (UPDATE subterra_segments SET geom = ST_Translate(geom, 0.01, 0), version = version + 1 WHERE id = :id RETURNING id)
INSERT INTO subterra_changes (version, operation, feature_kind, feature) SELECT w.version, 'update', 'segment', u.id::text FROM w, u;
SELECT pg_notify('subterra_changes', data_version::text) FROM subterra_state;
END;
SQL
port=$(sed -E 's|.*:([0-9]+)/.*|\1|' <<<"$SUBTERRA_PG_PRIMARY")
/usr/lib/postgresql/15/bin/pgbench -n -h 127.0.0.1 -p "$port" -U subterra -c 4 -j 2 -R "$rate" -T "$seconds" -f "$work/edit.sql" subterra 2>&1 \
  | grep -E "^(number of transactions actually processed|latency average|rate limit schedule lag|tps)" || true
for p in "${pids[@]}"; do wait "$p"; done
pids=()
echo "== follower on the primary"; cat "$work/primary.json"
echo "== follower on the replica"; cat "$work/replica.json"
