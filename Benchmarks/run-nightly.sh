#!/usr/bin/env bash
# Nightly benchmark: build release, run the correctness gate and the side-by-side comparison
# (Subterra vs Boost.Geometry vs GEOS, one process, same data and queries), check Subterra's
# package-benchmark figures against the stored thresholds, and write a dated report.
#
#   Benchmarks/run-nightly.sh [--large] [--sizes 10000,100000,1000000] [--seed N] [--no-readme]
#                             [--dig-sites N] [--dig-families LIST] [--no-postgis] [--families LIST] [--vermont DIR]
#                             [--no-cli]
#   Benchmarks/run-nightly.sh --update-thresholds     # after an intended change: record new ones
#
# The dig-check workload runs against a throwaway PostGIS server that with-postgis.sh installs
# (apt, when missing), starts on a loopback port and deletes afterwards. When it cannot be
# installed or started the run fails (status 2) naming why; --no-postgis runs without it and the
# report says the peer was skipped.
#
# Data families (Benchmarks/README.md): our street generator at every size, and uniform random,
# clustered and the Vermont sewer network (tiled) at 10^6, every peer on the same data and the
# same gate per family. The Vermont files are ../shared/datasets/vermont-sewer next to the repo
# checkout unless --vermont DIR or SUBTERRA_VERMONT_SEWER says otherwise; the run fails (status 2)
# naming the directory when they are absent.
#
# The dig check runs on the generated district and on uniform and clustered segments carrying the
# district's attributes (--dig-families, default all three).
#
# The one-shot CLI stage (cli-cold-start.sh) imports a 10^6-segment map and times `nearest`,
# `within`, `check-dig`, `section` and `info` as new processes against `ogrinfo -spat` on the same
# store; a median over 0.2 s or a peak RSS over 200 MB is a regression. --no-cli skips it.
# On the same store, batch-scaling.sh times `query --batch` (30,000 mixed lines) at 1 and 2
# threads into batch-scaling.md: answers that differ between thread counts fail the run; the
# speed-up is reported, not gated (its CPU/wall column says whether a second core was free).
#
# Exit status: 0 when nothing regressed (improvements are reported, not failed), 1 on a
# threshold regression (each regressed benchmark and metric is named), 3 when the correctness
# gate fails (workload and first differing query are named), 2 on a build or usage error.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

sizes="10000,100000,1000000"
seed=20261130
large=""
readme="$here/../README.md"
queries=2000
update=""
pb_failed=""
dig_sites=1000
dig_families="district,uniform,clustered"
no_postgis=""
no_cli=""
families="streets,uniform@1000000,clustered@1000000,vermont@1000000"
vermont=()
while [ $# -gt 0 ]; do
  case "$1" in
    --large) large="--large"; shift ;;
    --sizes) sizes="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --queries) queries="$2"; shift 2 ;;
    --no-readme) readme=""; shift ;;
    --update-thresholds) update=1; shift ;;
    --dig-sites) dig_sites="$2"; shift 2 ;;
    --dig-families) dig_families="$2"; shift 2 ;;
    --families) families="$2"; shift 2 ;;
    --vermont) vermont=(--vermont "$2"); shift 2 ;;
    --no-cli) no_cli=1; shift ;;
    --no-postgis) no_postgis="run-nightly.sh --no-postgis (PostGIS not installed or not wanted on this machine)"; shift ;;
    *) echo "run-nightly.sh: unknown option '$1'" >&2; exit 2 ;;
  esac
done

day=$(date -u +%F)
out="reports/$day"  # relative: it is also the path written into the root README
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
toolchain=$(swift --version 2>/dev/null | head -1 | sed -E 's/.*Swift version ([0-9]+\.[0-9]+).*/swift-\1/')
thresholds="Thresholds/$toolchain"
export SUBTERRA_TOOLCHAIN="$(swift --version 2>/dev/null | head -1)"

echo "== build (release)"
# The Subterra modules (a path dependency) and the benchmark code are rebuilt from scratch:
# incremental release builds across the path dependency were seen to link stale objects after
# model changes (subterra-compare crashed in the dig check; packed_build_1e6's resident peak
# read 110-122 MB instead of 66), see Benchmarks/NOTES.md. The build database goes too, or
# SwiftPM expects derived sources it no longer has. Fetched dependencies stay cached.
rm -f .build/build.db .build/release.yaml
for d in .build/*/release; do
  [ -d "$d" ] || continue
  rm -rf "$d"/Subterra*.build "$d"/BenchCore.build "$d"/subterra_compare.build "$d"/SubterraIndexBenchmarks.build \
    "$d"/Modules/Subterra* "$d"/Modules/BenchCore*
done
# Retried: in a shared work tree a file edited mid-build fails it ("modified during the build").
built=""
for attempt in 1 2 3; do
  if swift build -c release --product subterra-compare >"$work/build.log" 2>&1; then built=1; break; fi
  grep -q "modified during the build" "$work/build.log" || break
  sleep 20
done
[ -n "$built" ] || { tail -40 "$work/build.log" >&2; echo "run-nightly.sh: release build failed" >&2; exit 2; }

echo "== correctness gate and side-by-side run (sizes $sizes ${large:+and 1e7}, families $families, seed $seed)"
compare=(.build/release/subterra-compare run --sizes "$sizes" $large --seed "$seed" --queries "$queries"
  --families "$families" "${vermont[@]}" --dig-sites "$dig_sites" --dig-families "$dig_families"
  --out "$work/compare.json")
if [ -n "$no_postgis" ]; then
  echo "PostGIS peer SKIPPED (--no-postgis); the report says so" >&2
  "${compare[@]}" --no-postgis "$no_postgis" >"$work/compare.md"
else
  # with-postgis.sh stops the server and deletes its cluster however the run ends.
  ./with-postgis.sh "${compare[@]}" >"$work/compare.md"
fi
status=$?
if [ $status -eq 4 ]; then
  echo "run-nightly.sh: the PostGIS peer could not be installed or started (above); rerun with --no-postgis to report it as skipped" >&2
  exit 2
elif [ $status -eq 3 ]; then
  echo "run-nightly.sh: correctness gate failed; no timing reported (see the message above)" >&2
  exit 3
elif [ $status -ne 0 ]; then
  echo "run-nightly.sh: subterra-compare failed with status $status" >&2
  exit 2
fi
cat "$work/compare.md"

if [ -n "$update" ]; then
  echo "== recording thresholds in $thresholds"
  mkdir -p "$thresholds"
  SUBTERRA_BENCH_SIZES="$sizes" swift package --allow-writing-to-package-directory benchmark thresholds update \
    --path "$thresholds" --no-progress >"$work/update.txt" 2>&1 || { tail -40 "$work/update.txt" >&2; exit 2; }
  .build/release/subterra-compare update-ratios --compare "$work/compare.json" --out "$thresholds/ratios.json" || exit 2
  echo "thresholds and ratios recorded in $thresholds; review and commit them"
  exit 0
fi

echo "== package-benchmark threshold check ($thresholds)"
if ls "$thresholds"/*.p90.json >/dev/null 2>&1; then
  for attempt in 1 2 3; do
    SUBTERRA_BENCH_SIZES="$sizes" swift package --allow-writing-to-package-directory benchmark thresholds check \
      --path "$thresholds" --no-progress >"$work/thresholds.txt" 2>&1
    pb=$?
    grep -q "modified during the build" "$work/thresholds.txt" || break
    sleep 20
  done
  # Through `swift package` a regression and an improvement both exit non-zero; the text says
  # which ("Deviations worse/better than threshold"), and the report step parses it.
  if [ $pb -ne 0 ] && ! grep -q "Deviations \(worse\|better\) than threshold" "$work/thresholds.txt"; then
    # Still write the report (the side-by-side figures and ratio check stand on their own),
    # then exit 2: an error, not a regression.
    tail -40 "$work/thresholds.txt" >&2
    echo "run-nightly.sh: package-benchmark failed (status $pb) without a threshold verdict" >&2
    pb_failed=1
    threshold_arg=()
  else
    threshold_arg=(--thresholds "$work/thresholds.txt")
  fi
else
  echo "no stored thresholds for $toolchain: see Benchmarks/README.md to record them" >&2
  threshold_arg=()
fi

echo "== report ($out)"
mkdir -p "$out"
cli_regressed=""
if [ -z "$no_cli" ]; then
  echo "== one-shot commands on a 10^6 store (cli-cold-start.sh)"
  ./cli-cold-start.sh --segments 1000000 --seed "$seed" --work "$work/cli" --out "$out/cli-cold-start.md"
  case $? in
    0) ;;
    1) cli_regressed=1 ;;
    *) echo "run-nightly.sh: cli-cold-start.sh failed" >&2; exit 2 ;;
  esac
  echo "== query --batch at 1 and 2 threads on the same store (batch-scaling.sh)"
  ./batch-scaling.sh --store "$work/cli/city.gpkg" --work "$work/batch" >"$out/batch-scaling.md"
  case $? in
    0) ;;
    1) echo "run-nightly.sh: query --batch answers differ between thread counts (see $out/batch-scaling.md)" >&2; exit 3 ;;
    *) echo "run-nightly.sh: batch-scaling.sh failed" >&2; exit 2 ;;
  esac
fi
[ -f "$work/thresholds.txt" ] && cp "$work/thresholds.txt" "$out/thresholds-check.txt"
cp "$work/compare.json" "$out/compare.json"
ratio_arg=()
[ -f "$thresholds/ratios.json" ] && ratio_arg=(--ratios "$thresholds/ratios.json")
.build/release/subterra-compare report --compare "$work/compare.json" "${threshold_arg[@]}" "${ratio_arg[@]}" --out "$out" \
  ${readme:+--readme "$readme"}
status=$?
if [ $status -eq 1 ]; then
  echo "run-nightly.sh: regression against stored thresholds (named above)" >&2
  exit 1
elif [ $status -ne 0 ]; then
  echo "run-nightly.sh: report step failed" >&2
  exit 2
fi
[ -n "$pb_failed" ] && exit 2
if [ -n "$cli_regressed" ]; then
  echo "run-nightly.sh: one-shot command regression (see $out/cli-cold-start.md and the FAIL lines above)" >&2
  exit 1
fi
exit 0
