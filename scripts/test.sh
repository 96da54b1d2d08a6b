#!/usr/bin/env bash
# The README's test command: installs what the tests need, runs a short fuzzing run of every
# parser of untrusted input (scripts/fuzz.sh, FUZZ_SECONDS per target, 40 by default;
# FUZZ_SECONDS=0 skips it), then the whole suite. The fuzzing report is repeated at the end (CI
# shows only the end of a long run); a fuzzing failure still fails the run. After the suite, the planners' page
# is tested in headless Chromium (Tests/browser/test_page.py: it starts `subterra serve` on a
# loopback port and stops it, screenshots in $TEST_OUT, .build/browser-test by default);
# BROWSER_TEST=0 skips it. Its failure fails the run, with `browser:` lines saying why. Then
# schemathesis fuzzes the running service against its OpenAPI document for a bounded time
# (Tests/api/run_schemathesis.py, SCHEMA_SECONDS, 75 by default; report in $API_TEST_OUT,
# .build/api-test by default); SCHEMA_TEST=0 skips it. Its failure fails the run (`api:` lines).
# Then WNTR's valve_segments checks `subterra valve-segments` on random networks and the sample's
# JS, RQ and RL layers (Tests/wntr/wntr_segments_oracle.py, WNTR in .build/wntr-venv);
# WNTR_TEST=0 skips it. Its failure fails the run (`wntr:` lines).
# The suite runs under scripts/with-postgres.sh (a primary + replica on loopback, torn down after).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
if [ "${BROWSER_TEST:-1}" != 0 ]; then export SUBTERRA_BROWSER_DEPS=1; fi
if [ "${SCHEMA_TEST:-1}" != 0 ]; then export SUBTERRA_API_DEPS=1; fi
if [ "${WNTR_TEST:-1}" != 0 ]; then export SUBTERRA_WNTR_DEPS=1; fi
bash scripts/install-deps.sh
fuzz_status=0
fuzz_log="$(mktemp)"
trap 'rm -f "$fuzz_log"' EXIT
if [ "${FUZZ_SECONDS:-40}" != 0 ]; then
    # Its report goes to the terminal and to $fuzz_log, to be repeated after the suite: CI
    # shows only the end of a long run.
    bash scripts/fuzz.sh "${FUZZ_SECONDS:-40}" 2> >(tee "$fuzz_log" >&2) || fuzz_status=$?
fi
swift build --build-tests
# Under a throwaway PostgreSQL 15 + PostGIS 3 primary and streaming replica, so the PostGIS
# store's tests (SubterraPostGISTests) run against a real server; they skip themselves without one.
# The restarted-primary follower case runs on its own after the suite: under the parallel runner
# its follower has not caught up within a minute of the restart (one run of 2026-12-07; alone it
# passes), and a restart must not stall the tests beside it.
restart_case=killedConnectionsAndARestartedPrimaryLoseNothingAndDoubleNothing
bash scripts/with-postgres.sh swift test --skip-build --skip "$restart_case"
bash scripts/with-postgres.sh swift test --skip-build --filter "$restart_case"
browser_status=0
if [ "${BROWSER_TEST:-1}" != 0 ]; then
    browser_out="${TEST_OUT:-.build/browser-test}"
    .build/browser-venv/bin/python Tests/browser/test_page.py --bin "$(swift build --show-bin-path)/subterra" \
        --out "$browser_out" || browser_status=$?
    if [ "$browser_status" != 0 ]; then
        echo "browser: FAILED (exit $browser_status): the planners' page test; server log, console and screenshots in $browser_out" >&2
    fi
fi
api_status=0
if [ "${SCHEMA_TEST:-1}" != 0 ]; then
    api_out="${API_TEST_OUT:-.build/api-test}"
    .build/api-venv/bin/python Tests/api/run_schemathesis.py --bin "$(swift build --show-bin-path)/subterra" \
        --out "$api_out" || api_status=$?
    if [ "$api_status" != 0 ]; then
        echo "api: FAILED (exit $api_status): schemathesis against /openapi.json; server log and report in $api_out" >&2
    fi
fi
wntr_status=0
if [ "${WNTR_TEST:-1}" != 0 ]; then
    .build/wntr-venv/bin/python Tests/wntr/wntr_segments_oracle.py \
        --subterra "$(swift build --show-bin-path)/subterra" || wntr_status=$?
    if [ "$wntr_status" != 0 ]; then
        echo "wntr: FAILED (exit $wntr_status): valve-segments against WNTR's valve_segments; the wntr: lines above say where" >&2
    fi
fi
if [ "$fuzz_status" != 0 ]; then
    sleep 1 # lets tee finish writing the fuzzing report
    echo "test.sh: the fuzzing run failed (exit $fuzz_status); its report again:" >&2
    grep -E '^fuzz:' "$fuzz_log" | tail -60 >&2 || tail -40 "$fuzz_log" >&2
    exit "$fuzz_status"
fi
if [ "$browser_status" != 0 ]; then exit "$browser_status"; fi
if [ "$api_status" != 0 ]; then exit "$api_status"; fi
exit "$wntr_status"
