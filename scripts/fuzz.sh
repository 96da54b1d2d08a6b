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
mkdir -p Fuzz/.build
build_log=Fuzz/.build/fuzz-build.log
# grep -v exits 1 when it passes no line through; only the build's own status counts.
build_status=0
swift build --package-path Fuzz -j "$JOBS" "${FLAGS[@]}" 2>&1 | tee "$build_log" \
    | { grep -vE "Cannot export local symbol" || true; } >&2 || build_status=$?
if [ "$build_status" != 0 ]; then
    echo "fuzz: FAILED: the fuzz targets did not build (swift build exit $build_status):" >&2
    { grep -m 20 -E "error:|Killed|signal|No space" "$build_log" || tail -20 "$build_log"; } \
        | sed 's/^/fuzz:   /' >&2
    exit 1
fi
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
    # -timeout: one input taking 20 s is a hang (inputs take milliseconds; 20 s leaves room for a
    # slow, loaded CI box under ASan); -rss_limit_mb: 2 GB is a memory blow-up.
    if TMPDIR="$RUNS/$t.tmp" "$exe" "$RUNS/$t" "Fuzz/corpus/$t" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="Fuzz/crashes/$t/" -print_final_stats=1 >"$log" 2>&1; then
        echo "fuzz: fuzz-$t ok: $(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$') runs" >&2
    else
        echo "fuzz: fuzz-$t FAILED (log $log, reproducer in Fuzz/crashes/$t/):" >&2
        grep -E "ERROR:|invariant failed|Fatal error|SUMMARY|Test unit written|==[0-9]+==" "$log" | head -12 >&2 || true
        echo "fuzz: the last lines of $log:" >&2
        tail -25 "$log" | sed 's/^/fuzz:   /' >&2
        failed+=("$t")
    fi
    rm -rf "$RUNS/$t.tmp"
done
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: FAILED: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: every target ran ${SECONDS_PER_TARGET}s without a crash" >&2
