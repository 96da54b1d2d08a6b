#!/usr/bin/env bash
# Runs a command next to a throwaway PostgreSQL 15 + PostGIS 3 server, the dig-check benchmark's
# peer: installs postgresql-15-postgis-3 with apt when missing, initdb's a cluster in a temporary
# directory, starts it on a free loopback port (127.0.0.1 only; as the postgres user when run as
# root), creates database "digbench", runs "$@" with SUBTERRA_POSTGIS set to the libpq connection
# string, then stops the server and deletes the cluster — on success, failure or interrupt.
#
#   Benchmarks/with-postgis.sh .build/release/subterra-compare run --workloads digcheck --sizes 10000
#
# Exit status: the command's; 4 when PostGIS cannot be installed or the server cannot start
# (the reason is printed; run-nightly.sh --no-postgis then reports the peer as skipped).
set -uo pipefail

say() { echo "with-postgis: $*" >&2; }
[ $# -gt 0 ] || { say "usage: with-postgis.sh COMMAND [ARGS…]"; exit 2; }

# shellcheck source=scripts/postgres-common.sh
source "$(dirname "$0")/../scripts/postgres-common.sh"
pg_ensure_installed
pg_make_dir subterra-pg

cleanup() {
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || say "could not stop the server in $dir"
  fi
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

as_pg "$pgbin/initdb" -D "$dir/data" -U bench -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; say "initdb failed"; exit 4; }

# A free high port: try random ones not listening now; a race with another process starting on
# the same port makes the start fail, and the next port is tried.
started=""
for attempt in 1 2 3 4 5 6 7 8; do
  port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  if command -v ss >/dev/null && [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; then continue; fi
  # Durability off (a throwaway cluster), memory enough to hold 10^6 pipes and their index,
  # no JIT or parallel workers: one backend answers each dig site, as in a planning office.
  if as_pg "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 120 -o "-p $port -k $dir \
      -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
      -c shared_buffers=512MB -c maintenance_work_mem=1GB -c work_mem=64MB -c max_wal_size=8GB \
      -c jit=off -c max_parallel_workers_per_gather=0 -c autovacuum=off -c dynamic_shared_memory_type=mmap" \
      start >/dev/null 2>&1; then
    started=1
    break
  fi
  as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
done
[ -n "$started" ] || { tail -20 "$dir/server.log" >&2; say "the server did not start"; exit 4; }

"$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U bench -d postgres -c "CREATE DATABASE digbench" >&2 \
  || { say "CREATE DATABASE failed"; exit 4; }
"$pgbin/psql" -X -q -h 127.0.0.1 -p "$port" -U bench -d digbench -c "CREATE EXTENSION postgis" >&2 \
  || { say "CREATE EXTENSION postgis failed"; exit 4; }
version=$("$pgbin/psql" -X -qAt -h 127.0.0.1 -p "$port" -U bench -d digbench \
  -c "SELECT split_part(version(), ' ', 2) || ' + PostGIS ' || postgis_lib_version()")
say "PostgreSQL $version on 127.0.0.1:$port, cluster in $dir"

export SUBTERRA_POSTGIS="host=127.0.0.1 port=$port dbname=digbench user=bench"
export SUBTERRA_POSTGIS_VERSION="PostgreSQL $version"
# In the background and waited for, so an interrupt is handled at once (bash runs a trap only
# after a foreground child returns): the command is stopped, then the server and the cluster.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 130' INT TERM HUP
wait "$child"
exit $?
