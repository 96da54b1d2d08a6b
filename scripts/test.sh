#!/usr/bin/env bash
# The README's test command: installs what the tests need, runs a short fuzzing run of every
# parser of untrusted input (scripts/fuzz.sh, FUZZ_SECONDS per target, 40 by default;
# FUZZ_SECONDS=0 skips it), then the whole suite. The suite runs last so that its summary is the
# run's closing line; a fuzzing failure still fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
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
swift test --skip-build
if [ "$fuzz_status" != 0 ]; then
    sleep 1 # lets tee finish writing the fuzzing report
    echo "test.sh: the fuzzing run failed (exit $fuzz_status); its report again:" >&2
    grep -E '^fuzz:' "$fuzz_log" | tail -60 >&2 || tail -40 "$fuzz_log" >&2
    exit "$fuzz_status"
fi
