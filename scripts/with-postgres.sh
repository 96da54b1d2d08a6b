#!/usr/bin/env bash
# Runs a command next to a throwaway PostgreSQL 15 + PostGIS 3 primary and a streaming replica of
# it, for the PostGIS store's tests (SubterraPostGISTests) and measurements:
#   - installs postgresql-15-postgis-3 with apt when missing (scripts/postgres-common.sh);
#   - initdb's a primary in a temporary directory and starts it on a free loopback port
#     (127.0.0.1 only; as the postgres user when run as root), creates database "subterra" with
#     the postgis extension;
#   - makes a replica with `pg_basebackup -R` (standby.signal + primary_conninfo) and starts it on
#     a second free port: a hot standby that replays the primary's WAL as it streams;
#   - starts a third, stand-alone primary for the tests that restart their server mid-stream
#     (so the restart breaks no other test's connections): SUBTERRA_PG_RESTARTABLE is its URL;
#     a test restarts it (`pg_ctl restart -m fast`, same port and options) by creating
#     $SUBTERRA_PG_RESTART_DIR/NAME.request, answered by NAME.done once it accepts connections
#     again (NAME.failed if it did not restart);
#   - runs "$@" with SUBTERRA_PG_PRIMARY and SUBTERRA_PG_REPLICA set to postgresql:// URLs;
#   - every server offers TLS with a certificate from a throwaway CA (SUBTERRA_PG_TLS_CA);
#   - stops the servers and deletes the clusters on success, failure or interrupt.
#
#   scripts/with-postgres.sh swift test --skip-build --filter SubterraPostGISTests
#
# Durability is off (fsync, full-page writes): the clusters are thrown away. Both start in about
# a second each. Exit status: the command's; 4 when PostgreSQL/PostGIS cannot be installed or a
# server cannot start (the reason is printed).
set -uo pipefail

say() { echo "with-postgres: $*" >&2; }
[ $# -gt 0 ] || { say "usage: with-postgres.sh COMMAND [ARGS…]"; exit 2; }

# shellcheck source=scripts/postgres-common.sh
source "$(dirname "$0")/postgres-common.sh"
pg_ensure_installed
pg_make_dir subterra-pgrep

stop_cluster() {
  if [ -f "$1/postmaster.pid" ]; then
    as_pg "$pgbin/pg_ctl" -D "$1" -m immediate -w stop >/dev/null 2>&1 || say "could not stop the server in $1"
  fi
}
cleanup() {
  if [ -n "${restart_watcher:-}" ]; then kill "$restart_watcher" 2>/dev/null; wait "$restart_watcher" 2>/dev/null; fi
  stop_cluster "$dir/restartable"
  stop_cluster "$dir/replica"
  stop_cluster "$dir/primary"
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# TLS: every server offers it (ssl=on) with a certificate for localhost and 127.0.0.1 signed by
# a throwaway CA, so the default sslmode (prefer) runs the tests over TLS; SUBTERRA_PG_TLS_CA is
# that CA for the sslmode=verify-* tests, SUBTERRA_PG_TLS_OTHER_CA one that signed nothing here.
command -v openssl >/dev/null || { say "openssl is needed to make the servers' TLS certificates"; exit 4; }
tls="$dir/tls"
mkdir "$tls"
make_tls() {
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=Subterra test CA" -keyout "$tls/ca.key" -out "$tls/ca.crt" &&
    openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=Subterra other CA" -keyout "$tls/other-ca.key" -out "$tls/other-ca.crt" &&
    openssl req "${ec[@]}" -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" &&
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$tls/server.ext" &&
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 2 \
      -extfile "$tls/server.ext" -out "$tls/server.crt"
}
make_tls >"$dir/tls.log" 2>&1 || { cat "$dir/tls.log" >&2; say "could not make the TLS certificates"; exit 4; }
chmod 600 "$tls/server.key" "$tls/ca.key" "$tls/other-ca.key"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tls/server.key" "$tls/server.crt"
export SUBTERRA_PG_TLS_CA="$tls/ca.crt" SUBTERRA_PG_TLS_OTHER_CA="$tls/other-ca.crt"

# Starts the cluster in $1 on a free high port (tries random ones not listening now; a race with
# another process on the same port makes the start fail, and the next port is tried). Sets $port.
start_cluster() {
  local data=$1 log=$2
  for attempt in 1 2 3 4 5 6 7 8; do
    port=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
    if command -v ss >/dev/null && [ -n "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; then continue; fi
    if as_pg "$pgbin/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "-p $port -k $dir \
        -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c shared_buffers=256MB \
        -c maintenance_work_mem=512MB -c work_mem=32MB -c max_wal_size=4GB -c jit=off \
        -c wal_level=replica -c max_wal_senders=4 -c hot_standby=on -c dynamic_shared_memory_type=mmap \
        -c ssl=on -c ssl_cert_file=$tls/server.crt -c ssl_key_file=$tls/server.key" \
        start >/dev/null 2>&1; then
      return 0
    fi
    as_pg "$pgbin/pg_ctl" -D "$data" -m immediate stop >/dev/null 2>&1
  done
  tail -20 "$log" >&2
  return 1
}

as_pg "$pgbin/initdb" -D "$dir/primary" -U subterra -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; say "initdb failed"; exit 4; }
start_cluster "$dir/primary" "$dir/primary.log" || { say "the primary did not start"; exit 4; }
primary_port=$port
psql_p() { "$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$primary_port" -U subterra "$@"; }
psql_p -d postgres -c "CREATE DATABASE subterra" >&2 || { say "CREATE DATABASE failed"; exit 4; }
psql_p -d subterra -c "CREATE EXTENSION postgis" >&2 || { say "CREATE EXTENSION postgis failed"; exit 4; }

# The replica: a base backup of the running primary; -R writes standby.signal and
# primary_conninfo, -X stream copies the WAL made meanwhile, --checkpoint=fast starts at once
# (the default spreads the checkpoint over minutes).
as_pg "$pgbin/pg_basebackup" -h 127.0.0.1 -p "$primary_port" -U subterra -D "$dir/replica" -R -X stream --checkpoint=fast \
  --no-sync >"$dir/basebackup.log" 2>&1 || { cat "$dir/basebackup.log" >&2; say "pg_basebackup failed"; exit 4; }
start_cluster "$dir/replica" "$dir/replica.log" || { say "the replica did not start"; exit 4; }
replica_port=$port
in_recovery=$("$pgbin/psql" -X -qAt -h 127.0.0.1 -p "$replica_port" -U subterra -d subterra -c "SELECT pg_is_in_recovery()")
[ "$in_recovery" = t ] || { say "the replica on port $replica_port is not in recovery"; exit 4; }
version=$(psql_p -At -d subterra -c "SELECT split_part(version(), ' ', 2) || ' + PostGIS ' || postgis_lib_version()")
say "PostgreSQL $version: primary on 127.0.0.1:$primary_port, streaming replica on 127.0.0.1:$replica_port, clusters in $dir"

# The restartable stand-alone primary and its restart script (pg_ctl restart reuses the
# options recorded in postmaster.opts: same port, same settings).
as_pg "$pgbin/initdb" -D "$dir/restartable" -U subterra -A trust -E UTF8 --no-sync >>"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; say "initdb (restartable) failed"; exit 4; }
start_cluster "$dir/restartable" "$dir/restartable.log" || { say "the restartable server did not start"; exit 4; }
restartable_port=$port
"$pgbin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$restartable_port" -U subterra -d postgres -c "CREATE DATABASE subterra" >&2 \
  || { say "CREATE DATABASE (restartable) failed"; exit 4; }
if [ "$(id -u)" -eq 0 ]; then run_as="runuser -u postgres --"; else run_as=""; fi
printf '#!/bin/sh\nexec %s "%s" -D "%s" -l "%s" -m fast -w -t 60 restart >/dev/null\n' \
  "$run_as" "$pgbin/pg_ctl" "$dir/restartable" "$dir/restartable.log" >"$dir/restart-restartable.sh"
chmod 755 "$dir/restart-restartable.sh"
export SUBTERRA_PG_RESTARTABLE="postgresql://subterra@127.0.0.1:$restartable_port/subterra"
# Restarts on request, made by this script, not by the test process: a server restarted by a
# child of the test inherits the test's open descriptors, and Foundation's Process there left
# the restart script a zombie it never reported (the test hung in waitUntilExit). A test creates
# $SUBTERRA_PG_RESTART_DIR/NAME.request and waits for NAME.done (or NAME.failed).
mkdir -m 700 "$dir/restart-requests"
# TERM (cleanup) lets a restart under way finish first: bash runs the trap after it returns.
( trap 'stopping=1' TERM
  while [ -z "${stopping:-}" ] && [ -d "$dir/restart-requests" ]; do
    for r in "$dir"/restart-requests/*.request; do
      [ -e "$r" ] || continue
      rm -f "$r"
      rm -f "${r%.request}.done" "${r%.request}.failed"
      if "$dir/restart-restartable.sh" </dev/null; then : >"${r%.request}.done"; else : >"${r%.request}.failed"; fi
    done
    sleep 0.1
  done ) &
restart_watcher=$!
export SUBTERRA_PG_RESTART_DIR="$dir/restart-requests"

export SUBTERRA_PG_PRIMARY="postgresql://subterra@127.0.0.1:$primary_port/subterra"
export SUBTERRA_PG_REPLICA="postgresql://subterra@127.0.0.1:$replica_port/subterra"
# In the background and waited for, so an interrupt is handled at once (bash runs a trap only
# after a foreground child returns): the command is stopped, then the servers and the clusters.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 130' INT TERM HUP
wait "$child"
exit $?
