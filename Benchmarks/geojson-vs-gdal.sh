#!/usr/bin/env bash
# geojson-vs-gdal.sh: Subterra's streaming GeoJSON parse against GDAL on the same file.
#
#   Benchmarks/geojson-vs-gdal.sh [--features N] [--reps R] [--seed S] [--keep DIR]
#
# 1. builds `subterra-gen` (root package) and `geojson-parse` (this package) in release;
# 2. writes a district of N LineString segments (default 10^6) with subterra-gen into a temp dir
#    (or DIR with --keep): segments.geojson, EPSG:4549, properties as the sample has them;
# 3. checks that all three tools see N features (geojson-parse's count, ogrinfo's Feature Count,
#    ogr2ogr's CSV line count) before timing anything;
# 4. times, R rounds, interleaved so the neighbours' load hits every tool alike:
#      subterra   geojson-parse FILE                       (parse only: geometry + properties)
#      ogrinfo    ogrinfo -al -so FILE                     (GDAL opens and scans the layer)
#      ogr2ogr    ogr2ogr -f CSV /vsistdout/ FILE >/dev/null  (GDAL reads every feature)
#    each under /usr/bin/time -f "%e %U" (elapsed, user seconds);
# 5. prints a Markdown table: median elapsed and user time per tool, every round's elapsed
#    time, and each tool's median over Subterra's (ratio > 1: Subterra is faster).
#
# Scratch folders: SCRATCH (default .build) under each package, e.g. SCRATCH=.build-me.
# Exit status 0, 2 on a usage/build error, 3 when the tools disagree on the feature count.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
features=1000000
reps=3
seed=20261130
keep=""
scratch=${SCRATCH:-.build}

usage() { sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --features) features=${2:?}; shift 2 ;;
        --reps) reps=${2:?}; shift 2 ;;
        --seed) seed=${2:?}; shift 2 ;;
        --keep) keep=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) echo "geojson-vs-gdal.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
case "$features$reps" in *[!0-9]*) echo "geojson-vs-gdal.sh: --features and --reps take integers" >&2; exit 2 ;; esac
for tool in ogrinfo ogr2ogr /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "geojson-vs-gdal.sh: $tool is not installed (gdal-bin, time)" >&2; exit 2; }
done

echo "== building subterra-gen and geojson-parse (release, scratch $scratch)" >&2
(cd "$root" && swift build -c release --product subterra-gen --scratch-path "$root/$scratch" >&2) || exit 2
(cd "$here" && swift build -c release --product geojson-parse --scratch-path "$here/$scratch" >&2) || exit 2
gen="$root/$scratch/release/subterra-gen"
parse="$here/$scratch/release/geojson-parse"

if [ -n "$keep" ]; then
    dir=$keep
    mkdir -p "$dir"
else
    dir=$(mktemp -d "${TMPDIR:-/tmp}/geojson-vs-gdal.XXXXXX")
    trap 'rm -rf "$dir"' EXIT
fi
file="$dir/segments.geojson"
if [ ! -s "$file" ]; then
    echo "== generating $features segments (seed $seed) into $dir" >&2
    "$gen" --segments "$features" --seed "$seed" --out "$dir" --format geojson >&2
fi
size_mb=$(( $(stat -c %s "$file") / 1000000 ))

# The same features, or the comparison means nothing.
n_subterra=$("$parse" "$file" | awk '{print $1}')
n_ogrinfo=$(ogrinfo -al -so "$file" | awk -F': ' '/^Feature Count/ {print $2}')
n_ogr2ogr=$(( $(ogr2ogr -f CSV /vsistdout/ "$file" | wc -l) - 1 ))
echo "== feature counts: subterra $n_subterra, ogrinfo $n_ogrinfo, ogr2ogr $n_ogr2ogr (expected $features)" >&2
if [ "$n_subterra" != "$features" ] || [ "$n_ogrinfo" != "$features" ] || [ "$n_ogr2ogr" != "$features" ]; then
    echo "geojson-vs-gdal.sh: the tools disagree on the feature count" >&2
    exit 3
fi

times="$dir/times.txt"
: > "$times"
run() {  # run NAME COMMAND...: one timed run, "NAME elapsed user" appended to $times
    local name=$1; shift
    /usr/bin/time -f "%e %U" -o "$dir/t" "$@" > /dev/null
    echo "$name $(cat "$dir/t")" >> "$times"
}
for r in $(seq 1 "$reps"); do
    echo "== round $r/$reps" >&2
    run subterra "$parse" "$file"
    run ogrinfo ogrinfo -al -so "$file"
    run ogr2ogr ogr2ogr -f CSV /vsistdout/ "$file"
done

median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
col() { awk -v t="$1" -v c="$2" '$1==t {print $c}' "$times"; }
base=$(col subterra 2 | median)
echo
echo "GeoJSON parse, $features LineString features ($size_mb MB, subterra-gen seed $seed), $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(ogrinfo --version | cut -d, -f1)"
echo
echo "| tool | command | median elapsed s | median user s | elapsed s per round | ratio to Subterra (elapsed) |"
echo "|---|---|---:|---:|---|---:|"
for t in subterra ogrinfo ogr2ogr; do
    case $t in
        subterra) cmd='`geojson-parse FILE`' ;;
        ogrinfo) cmd='`ogrinfo -al -so FILE`' ;;
        ogr2ogr) cmd='`ogr2ogr -f CSV /vsistdout/ FILE`' ;;
    esac
    e=$(col $t 2 | median)
    u=$(col $t 3 | median)
    all=$(col $t 2 | paste -sd' ')
    ratio=$(awk -v a="$e" -v b="$base" 'BEGIN {printf (b > 0 ? "%.1f" : "n/a"), (b > 0 ? a / b : 0)}')
    echo "| $t | $cmd | $e | $u | $all | ${ratio}x |"
done
