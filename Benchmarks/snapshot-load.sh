#!/usr/bin/env bash
# Snapshot load from PostGIS (issue 17 item 4: a 10^6-segment map in ≤ 10 s), on loopback. Run
# inside scripts/with-postgres.sh, with the release build:
#
#   swift build -c release --product subterra -j 2 && swift build -c release --product subterra-gen -j 2
#   scripts/with-postgres.sh Benchmarks/snapshot-load.sh [SEGMENTS=1000000] [RUNS=3]
#
# 1. subterra-gen --segments N --seed 7 into a temporary folder; `subterra import` into the
#    primary; waits until the replica has replayed it;
# 2. RUNS times, one follower alone on the primary (`subterra follow --seconds 0`): its load time
#    (open, read the rows, check them and build the engine), split into the read and the build;
# 3. once, two followers at once (primary and replica), as in follow-lag.sh;
# 4. the floor on the server's side: the same rows in binary COPY to /dev/null through psql
#    (PostgreSQL producing and sending them, nothing decoded), over the same TLS connection.
set -euo pipefail
segments=${1:-1000000} runs=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${SUBTERRA_BIN:-$root/.build/release}
[ -n "${SUBTERRA_PG_PRIMARY:-}" ] && [ -n "${SUBTERRA_PG_REPLICA:-}" ] \
  || { echo "snapshot-load.sh: run inside scripts/with-postgres.sh" >&2; exit 2; }
[ -x "$bin/subterra" ] && [ -x "$bin/subterra-gen" ] || { echo "snapshot-load.sh: build subterra and subterra-gen in release first ($bin)" >&2; exit 2; }
psql() { /usr/lib/postgresql/15/bin/psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
work=$(mktemp -d /tmp/snapshot-load.XXXXXX)
trap 'rm -rf "$work"' EXIT
figures() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("load %.2f s (read %.2f s, check and build %.2f s), %d segments" % (d["snapshotLoadSeconds"], d.get("snapshotReadSeconds", -1), d.get("engineBuildSeconds", -1), d["snapshotSegments"]))' "$1"; }

echo "== $segments segments; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$bin/subterra-gen" --segments "$segments" --seed 7 --out "$work/data" --format geojson >/dev/null
"$bin/subterra" import "$work/data" --store "$SUBTERRA_PG_PRIMARY" >/dev/null
head=$(psql "$SUBTERRA_PG_PRIMARY" -c "SELECT data_version FROM subterra_state")
until [ "$(psql "$SUBTERRA_PG_REPLICA" -c "SELECT data_version FROM subterra_state" 2>/dev/null || true)" = "$head" ]; do sleep 0.2; done
psql "$SUBTERRA_PG_PRIMARY" -c "VACUUM ANALYZE"
echo "rows: $(psql "$SUBTERRA_PG_PRIMARY" -c "SELECT (SELECT count(*) FROM subterra_segments) || ' segments, ' || (SELECT count(*) FROM subterra_points) || ' points'")"

for i in $(seq "$runs"); do
  "$bin/subterra" follow --store "$SUBTERRA_PG_PRIMARY" --seconds 0 --report-every 0 >"$work/alone$i.json" 2>"$work/alone$i.log" \
    || { cat "$work/alone$i.log" >&2; exit 1; }
  echo "alone, run $i: $(figures "$work/alone$i.json")"
done

"$bin/subterra" follow --store "$SUBTERRA_PG_PRIMARY" --seconds 0 --report-every 0 >"$work/p.json" 2>"$work/p.log" & p=$!
"$bin/subterra" follow --store "$SUBTERRA_PG_REPLICA" --seconds 0 --report-every 0 >"$work/r.json" 2>"$work/r.log" & r=$!
wait "$p" && wait "$r" || { cat "$work/p.log" "$work/r.log" >&2; exit 1; }
echo "two at once, primary: $(figures "$work/p.json")"
echo "two at once, replica: $(figures "$work/r.json")"

t0=$(date +%s.%N)
psql "$SUBTERRA_PG_PRIMARY" -c "COPY (SELECT id, version, ST_AsEWKB(geom), * FROM subterra_segments ORDER BY id) TO STDOUT (FORMAT binary)" >/dev/null
psql "$SUBTERRA_PG_PRIMARY" -c "COPY (SELECT fid, version, ST_AsEWKB(geom), * FROM subterra_points ORDER BY fid) TO STDOUT (FORMAT binary)" >/dev/null
t1=$(date +%s.%N)
echo "server floor (binary COPY of the same rows to /dev/null through psql): $(echo "$t1 - $t0" | bc) s"
