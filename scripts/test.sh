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
if [ "${FUZZ_SECONDS:-40}" != 0 ]; then
    bash scripts/fuzz.sh "${FUZZ_SECONDS:-40}" || fuzz_status=$?
fi
swift build --build-tests
swift test --skip-build
if [ "$fuzz_status" != 0 ]; then
    echo "test.sh: the fuzzing run failed (exit $fuzz_status); see the fuzz: lines above" >&2
    exit "$fuzz_status"
fi
