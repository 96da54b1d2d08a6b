#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (Swift's -sanitize=fuzzer,address) and runs each one,
# time-boxed, on its committed seed corpus (Fuzz/corpus/<target>/). Fails if any target crashes,
# leaks, times out or breaks an invariant; the reproducers are kept in Fuzz/crashes/<target>/.
#
#   scripts/fuzz.sh              # 45 s per target (scripts/test.sh runs it with 40)
#   scripts/fuzz.sh 3600         # the nightly run: an hour per target
#   FUZZ_TARGETS="wkt wkb" scripts/fuzz.sh 600
#
# New inputs a run finds go to Fuzz/.build/fuzz-runs/<target>/ (not committed; merge the useful
# ones into Fuzz/corpus/<target>/ with `-merge=1`, see Fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

SECONDS_PER_TARGET="${1:-45}"
FLAGS=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
# The CPUs are shared with the rest of CI: two build jobs unless told otherwise.
JOBS="${FUZZ_BUILD_JOBS:-2}"

echo "fuzz: building the fuzz targets (release, ASan + libFuzzer) ..." >&2
swift build --package-path Fuzz -j "$JOBS" "${FLAGS[@]}" 2>&1 | grep -vE "Cannot export local symbol" >&2
BIN="$(swift build --package-path Fuzz "${FLAGS[@]}" --show-bin-path)"

TARGETS="${FUZZ_TARGETS:-$(cd Fuzz/Sources && ls -d fuzz-* | sed 's/^fuzz-//' | tr '\n' ' ')}"
RUNS=Fuzz/.build/fuzz-runs
# libFuzzer reports crashes itself; the Swift runtime's backtracer would only get in its way.
export SWIFT_BACKTRACE=enable=no
# A Foundation leak on empty files is not ours; see the file.
export LSAN_OPTIONS="suppressions=$PWD/Fuzz/lsan-suppressions.txt"
failed=()
for t in $TARGETS; do
    exe="$BIN/fuzz-$t"
    [ -x "$exe" ] || { echo "fuzz: no target fuzz-$t" >&2; failed+=("$t"); continue; }
    mkdir -p "$RUNS/$t" "$RUNS/$t.tmp" "Fuzz/crashes/$t"
    log="$RUNS/$t.log"
    echo "fuzz: fuzz-$t for ${SECONDS_PER_TARGET}s ..." >&2
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: 2 GB is a memory blow-up.
    if TMPDIR="$RUNS/$t.tmp" "$exe" "$RUNS/$t" "Fuzz/corpus/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="Fuzz/crashes/$t/" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz: fuzz-$t ok: $(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$') runs" >&2
    else
        echo "fuzz: fuzz-$t FAILED (log $log, reproducer in Fuzz/crashes/$t/):" >&2
        grep -E "ERROR:|invariant failed|Fatal error|SUMMARY|Test unit written" "$log" | head -8 >&2 || tail -20 "$log" >&2
        failed+=("$t")
    fi
    rm -rf "$RUNS/$t.tmp"
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: every target ran ${SECONDS_PER_TARGET}s without a crash" >&2
