#!/usr/bin/env bash
# import-vs-ogr2ogr.sh: `subterra import` against `ogr2ogr -f GPKG` on the same GeoJSON files.
#
#   Benchmarks/import-vs-ogr2ogr.sh [--segments N] [--reps R] [--seed S] [--data DIR] [--policy P]
#
# 1. builds `subterra` and `subterra-gen` (root package) in release;
# 2. writes a district of N segments (default 10^6, seed 7) with
#    `subterra-gen --segments N --seed S --format geojson` into DIR (default a temp dir, removed
#    at the end); a DIR that already holds segments.geojson and points.geojson is used as it is;
# 3. times R rounds (default 2), alternating the tools so the neighbours' load hits both alike:
#      subterra   subterra import segments.geojson points.geojson --store S.gpkg --policy P
#                 (quality checks on; one process; default policy lenient, as the generated
#                 district carries seeded quality issues; the store is removed before each run)
#      ogr2ogr    ogr2ogr -f GPKG O.gpkg segments.geojson, then
#                 ogr2ogr -f GPKG -update O.gpkg points.geojson (two processes: wall summed,
#                 peak RSS the larger)
#    each under /usr/bin/time -v (elapsed wall, maximum resident set size);
# 4. reads both stores' segment and point row counts (ogrinfo); a lenient import drops the
#    records with errors, so Subterra may hold a few fewer, never more, and never none;
# 5. prints a Markdown table: every round's wall and peak RSS per tool, the medians, and
#    Subterra's wall over ogr2ogr's.
#
# Scratch folder: SCRATCH (default .build) under the root package, e.g. SCRATCH=.build-me.
# Exit status 0, 2 on a usage/build error, 3 when Subterra's store holds no segments or more
# rows than ogr2ogr's, 4 when a run fails.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
segments=1000000
reps=2
seed=7
data=""
policy=lenient
scratch=${SCRATCH:-.build}

usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --segments) segments=${2:?}; shift 2 ;;
        --reps) reps=${2:?}; shift 2 ;;
        --seed) seed=${2:?}; shift 2 ;;
        --data) data=${2:?}; shift 2 ;;
        --policy) policy=${2:?}; shift 2 ;;
        -h|--help) usage ;;
        *) echo "import-vs-ogr2ogr.sh: unknown argument '$1'" >&2; usage ;;
    esac
done
case "$segments$reps$seed" in *[!0-9]*) echo "import-vs-ogr2ogr.sh: --segments, --reps and --seed take integers" >&2; exit 2 ;; esac
for tool in ogr2ogr ogrinfo /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "import-vs-ogr2ogr.sh: $tool is not installed (gdal-bin, time)" >&2; exit 2; }
done

echo "== building subterra and subterra-gen (release, scratch $scratch)" >&2
(cd "$root" && swift build -c release -j 2 --product subterra --scratch-path "$root/$scratch" >&2) || exit 2
(cd "$root" && swift build -c release -j 2 --product subterra-gen --scratch-path "$root/$scratch" >&2) || exit 2
subterra="$root/$scratch/release/subterra"
gen="$root/$scratch/release/subterra-gen"

out=$(mktemp -d "${TMPDIR:-/tmp}/import-vs-ogr2ogr-out.XXXXXX")
if [ -n "$data" ]; then
    mkdir -p "$data"
    trap 'rm -rf "$out"' EXIT
else
    data=$(mktemp -d "${TMPDIR:-/tmp}/import-vs-ogr2ogr.XXXXXX")
    trap 'rm -rf "$out" "$data"' EXIT
fi
if [ ! -s "$data/segments.geojson" ] || [ ! -s "$data/points.geojson" ]; then
    echo "== generating $segments segments (seed $seed) into $data" >&2
    "$gen" --segments "$segments" --seed "$seed" --out "$data" --format geojson >&2
fi
seg="$data/segments.geojson"
pts="$data/points.geojson"
size_mb=$(( ($(stat -c %s "$seg") + $(stat -c %s "$pts")) / 1000000 ))

# time_run LOG CMD...: runs CMD under /usr/bin/time -v; prints "wall_s rss_kb".
time_run() {
    local log=$1; shift
    /usr/bin/time -v "$@" >"$log.out" 2>"$log" || { cat "$log" "$log.out" >&2; return 4; }
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s }' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$log")
    echo "$wall $rss"
}

sub_walls=(); sub_rss=(); ogr_walls=(); ogr_rss=()
for r in $(seq 1 "$reps"); do
    for tool in subterra ogr2ogr; do
        # Alternate which tool goes first each round.
        if [ $((r % 2)) -eq 0 ]; then tool=$([ "$tool" = subterra ] && echo ogr2ogr || echo subterra); fi
        if [ "$tool" = subterra ]; then
            rm -f "$out/s.gpkg"*
            read -r w m < <(time_run "$out/sub.$r" "$subterra" import "$seg" "$pts" --store "$out/s.gpkg" --policy "$policy") || exit 4
            sub_walls+=("$w"); sub_rss+=("$m")
            echo "round $r subterra: ${w} s, $((m / 1024)) MB" >&2
        else
            rm -f "$out/o.gpkg"*
            read -r w1 m1 < <(time_run "$out/ogr1.$r" ogr2ogr -f GPKG "$out/o.gpkg" "$seg") || exit 4
            read -r w2 m2 < <(time_run "$out/ogr2.$r" ogr2ogr -f GPKG -update "$out/o.gpkg" "$pts") || exit 4
            w=$(awk -v a="$w1" -v b="$w2" 'BEGIN { printf "%.2f", a + b }')
            m=$(( m1 > m2 ? m1 : m2 ))
            ogr_walls+=("$w"); ogr_rss+=("$m")
            echo "round $r ogr2ogr: ${w} s, $((m / 1024)) MB" >&2
        fi
    done
done

count() { ogrinfo -so "$1" "$2" 2>/dev/null | awk -F': ' '/Feature Count/ { print $2 }'; }
s_seg=$(count "$out/s.gpkg" subterra_segments); s_pts=$(count "$out/s.gpkg" subterra_points)
o_seg=$(count "$out/o.gpkg" segments); o_pts=$(count "$out/o.gpkg" points)

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
sw=$(median "${sub_walls[@]}"); sm=$(median "${sub_rss[@]}")
ow=$(median "${ogr_walls[@]}"); om=$(median "${ogr_rss[@]}")

echo
echo "Import of $segments segments + points ($size_mb MB GeoJSON, subterra-gen seed $seed), policy $policy, $(date -u +%Y-%m-%d), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(ogr2ogr --version | cut -d, -f1)"
echo
echo "| tool | rows (segments / points) | median wall | median peak RSS | rounds (wall s / RSS MB) |"
echo "|---|---|---|---|---|"
rounds() { local -n w=$1 m=$2; local i s=""; for i in "${!w[@]}"; do s+="${w[$i]} / $((m[$i] / 1024)); "; done; echo "${s%; }"; }
echo "| subterra import | $s_seg / $s_pts | $sw s | $((${sm%.*} / 1024)) MB | $(rounds sub_walls sub_rss) |"
echo "| ogr2ogr -f GPKG | $o_seg / $o_pts | $ow s | $((${om%.*} / 1024)) MB | $(rounds ogr_walls ogr_rss) |"
echo
echo "subterra / ogr2ogr wall: $(awk -v a="$sw" -v b="$ow" 'BEGIN { printf "%.2f", a / b }')"
if [ "${s_seg:-0}" -eq 0 ] || [ "$s_seg" -gt "$o_seg" ] || [ "${s_pts:-0}" -gt "$o_pts" ]; then
    echo "import-vs-ogr2ogr.sh: row counts differ (subterra $s_seg/$s_pts, ogr2ogr $o_seg/$o_pts)" >&2
    exit 3
fi
