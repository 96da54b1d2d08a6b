#!/usr/bin/env bash
# PostGIS forms for the dig check, on the `pipes` and `clearance` tables that
# `subterra-compare run --workloads digcheck` leaves loaded (the last dig family it ran): run it
# inside with-postgis.sh after subterra-compare, which sets SUBTERRA_POSTGIS.
#
#   ./with-postgis.sh bash -c '.build/release/subterra-compare run --workloads digcheck \
#       --sizes 1000000 --dig-sites 1000 --reps 3 && ./postgis-forms.sh'
#
# It makes 1000 sites of its own (8-vertex buffers 1.5–10 m around random points on random
# pipes, seeded: similar to DigSiteGenerator's sites, not the same) and prints, with the load:
# - the conflicts over those sites;
# - every site in one statement (a lateral join, EXPLAIN ANALYZE server time, no round trips),
#   3 runs, and once with `geom && ST_Expand(site, r)` written out;
# - pgbench, one client for 10 s, the dig statement per site (site read by key) over TCP and
#   the Unix socket, prepared (generic plan) and unprepared; then two clients;
# - the generic plan of the prepared statement (it must be the GiST index scan).
# Timings only: the conflict sets are gated in subterra-compare, not here.
set -u
pg() { /usr/lib/postgresql/15/bin/psql -X -q -v ON_ERROR_STOP=1 "$SUBTERRA_POSTGIS" "$@"; }
[ -n "${SUBTERRA_POSTGIS:-}" ] || { echo "postgis-forms.sh: run inside with-postgis.sh (SUBTERRA_POSTGIS unset)" >&2; exit 2; }
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"$SUBTERRA_POSTGIS")
sock=$(dirname "$(ls /tmp/subterra-pg.*/.s.PGSQL.$port 2>/dev/null | head -1)")
echo "== forms on $(pg -At -c 'SELECT count(*) FROM pipes') pipes; socket dir $sock; load $(cut -d' ' -f1-3 /proc/loadavg)"
pg -c "SET seed TO 0.42; DROP TABLE IF EXISTS sites; CREATE TABLE sites AS
  SELECT row_number() OVER () AS id, ST_Buffer(ST_LineInterpolatePoint(geom, random()), 1.5 + random()*8.5, 2) AS g
  FROM (SELECT geom FROM pipes ORDER BY random() LIMIT 1000) s; ALTER TABLE sites ADD PRIMARY KEY (id); ANALYZE sites;"
reach=$(pg -At -c "SELECT (SELECT max(clearance_m) FROM clearance) + max(accuracy_m) + max(half_width_m) FROM pipes")
echo "reach $reach"
body="FROM pipes p JOIN clearance c ON c.rule_key = p.rule_key
  CROSS JOIN LATERAL (SELECT ST_Distance(p.geom, s.g) AS d OFFSET 0) q
  WHERE ST_DWithin(p.geom, s.g, $reach)
    AND (q.d - p.half_width_m <= 0 OR q.d - p.half_width_m < c.clearance_m + p.accuracy_m - 1e-9)"
cols="p.id, q.d, GREATEST(q.d - p.half_width_m, 0) AS clear_m, p.layer, p.owner, p.depth_m, c.clearance_m + p.accuracy_m AS required_m"
echo "conflicts over the 1000 SQL sites: $(pg -At -c "SELECT count(*) FROM sites s CROSS JOIN LATERAL (SELECT $cols $body) x")"
echo "-- every site in one statement (server time only, no round trips), 3 runs"
for r in 1 2 3; do
  pg -c "EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) SELECT count(*) FROM sites s CROSS JOIN LATERAL (SELECT $cols $body) x" | grep "Execution Time"
done
echo "-- the same with geom && ST_Expand(site, r) written out"
pg -c "EXPLAIN (ANALYZE, TIMING OFF) SELECT count(*) FROM sites s CROSS JOIN LATERAL (SELECT $cols $body AND p.geom && ST_Expand(s.g, $reach)) x" | grep "Execution Time"
printf '%s\n' '\set i random(1, 1000)' "SELECT $cols FROM (SELECT g FROM sites WHERE id = :i) s CROSS JOIN pipes p JOIN clearance c ON c.rule_key = p.rule_key CROSS JOIN LATERAL (SELECT ST_Distance(p.geom, s.g) AS d OFFSET 0) q WHERE ST_DWithin(p.geom, s.g, $reach) AND (q.d - p.half_width_m <= 0 OR q.d - p.half_width_m < c.clearance_m + p.accuracy_m - 1e-9);" > "$work/site.sql"
for host in 127.0.0.1 "$sock"; do
  for mode in prepared extended; do
    for r in 1 2; do
      out=$(PGOPTIONS='-c plan_cache_mode=force_generic_plan' /usr/bin/pgbench -n -h "$host" -p "$port" -U bench -M $mode -c 1 -T 10 -f "$work/site.sql" digbench 2>&1 | grep -E "^tps|latency average")
      echo "pgbench 1 client host=$host mode=$mode run $r: $(echo $out | tr '\n' ' ') load $(cut -d' ' -f1-3 /proc/loadavg)"
    done
  done
done
echo "-- pgbench 2 clients (both cores), prepared, socket"
PGOPTIONS='-c plan_cache_mode=force_generic_plan' /usr/bin/pgbench -n -h "$sock" -p "$port" -U bench -M prepared -c 2 -j 2 -T 10 -f "$work/site.sql" digbench 2>&1 | grep -E "^tps|latency average"
echo "-- plan"
pg -c "PREPARE d(geometry) AS SELECT $cols FROM pipes p JOIN clearance c ON c.rule_key = p.rule_key CROSS JOIN LATERAL (SELECT ST_Distance(p.geom, \$1) AS d OFFSET 0) q WHERE ST_DWithin(p.geom, \$1, $reach); SET plan_cache_mode=force_generic_plan; EXPLAIN EXECUTE d('$(pg -At -c "SELECT ST_AsEWKT(g) FROM sites WHERE id=1")');" 2>&1 | head -20
