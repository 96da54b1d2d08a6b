#!/usr/bin/env bash
# The README's test command: installs what the tests need, runs the whole suite, then a short
# fuzzing run of every parser of untrusted input (scripts/fuzz.sh, FUZZ_SECONDS per target,
# 40 by default; FUZZ_SECONDS=0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
if [ "${FUZZ_SECONDS:-40}" != 0 ]; then
    bash scripts/fuzz.sh "${FUZZ_SECONDS:-40}"
fi
