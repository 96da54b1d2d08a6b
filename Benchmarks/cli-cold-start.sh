#!/usr/bin/env bash
# What a planner feels on a city-sized map: one-shot `subterra` commands (a new process each,
# as a shell or a script runs them) on a GeoPackage store of N segments, against GDAL's
# `ogrinfo -spat` window query on the same store through its R-tree (the peer: the fastest
# documented way GDAL answers "what is in this window" on a GeoPackage).
#
#   Benchmarks/cli-cold-start.sh [--segments N] [--seed S] [--runs R] [--work DIR] [--out FILE]
#                                [--max-wall SECONDS] [--max-rss-mb MB] [--subterra PATH]
#                                [--store PATH]
#
# Steps: build the release `subterra` and `subterra-gen` (unless --subterra is given), generate
# the map as GeoJSON (kept in --work and reused when present), import it (wall and peak RSS
# recorded; the import also writes the snapshot file), time the snapshot file's rebuild alone
# (`info` with the file removed), then R rounds of every command alternated with the peer. The
# page cache is warm (the files were just written or read); each command is a new process, so
# dynamic linking, opening the store and the snapshot file and building PROJ objects count.
#
# --store times the commands on a copy of an existing store instead (no generation, no import
# figures; the snapshot file's rebuild is still timed).
#
# Output: a markdown table (median and worst wall, peak RSS, ratio to `ogrinfo`) on stdout and
# in --out when given. Exit status 1 when a command's median wall exceeds --max-wall (default
# 0.2 s, issue 14's aim at 10^6) or its peak RSS exceeds --max-rss-mb (default 200); 2 on a
# build or usage error.
set -euo pipefail

segments=1000000 seed=7 runs=5 work="" out="" max_wall=0.2 max_rss=200 subterra="" given_store=""
while [ $# -gt 0 ]; do
  case "$1" in
    --segments) segments="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --max-wall) max_wall="$2"; shift 2 ;;
    --max-rss-mb) max_rss="$2"; shift 2 ;;
    --subterra) subterra="$2"; shift 2 ;;
    --store) given_store="$2"; shift 2 ;;
    *) echo "cli-cold-start.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
command -v ogrinfo >/dev/null || { echo "cli-cold-start.sh: ogrinfo (gdal-bin) is needed for the peer" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "cli-cold-start.sh: /usr/bin/time (package time) is needed" >&2; exit 2; }

root="$(cd "$(dirname "$0")/.." && pwd)"
work="${work:-$root/.build/cli-cold-start-$segments-$seed}"
mkdir -p "$work"
export PATH="/opt/swift/usr/bin:$PATH"
if [ -z "$subterra" ]; then
  (cd "$root" && swift build -c release --product subterra >/dev/null && swift build -c release --product subterra-gen >/dev/null) \
    || { echo "cli-cold-start.sh: release build failed" >&2; exit 2; }
  subterra="$root/.build/release/subterra"
fi
gen="$(dirname "$subterra")/subterra-gen"

# Runs "$@" once, stdout discarded; sets wall (seconds) and peak (kB). Exits 2 on a failed run.
measure() {
  if ! /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt"; then
    echo "cli-cold-start.sh: failed: $*" >&2; cat "$work/stderr.txt" >&2; exit 2
  fi
  read -r wall peak <"$work/time.txt"
}

store="$work/city.gpkg"
rm -f "$store" "$store.subterra-snapshot"
if [ -n "$given_store" ]; then
  [ -f "$given_store" ] || { echo "cli-cold-start.sh: no store at $given_store" >&2; exit 2; }
  import_note="Import: not run (--store $given_store)."
  cp "$given_store" "$store"
else
  data="$work/data"
  if [ ! -f "$data/segments.geojson" ]; then
    echo "== generating $segments segments (seed $seed)" >&2
    "$gen" --segments "$segments" --seed "$seed" --out "$data" --format geojson >&2
  fi
  echo "== importing into $store" >&2
  measure "$subterra" import "$data" --store "$store"
  import_note="Import: $wall s, peak RSS $((peak / 1024)) MB (including the snapshot file)."
  rm -f "$store.subterra-snapshot"
fi
measure "$subterra" info --store "$store"
rebuild_note="Snapshot file rebuilt alone (\`info\` with no file): $wall s, peak RSS $((peak / 1024)) MB."

# Query sites inside the map: the centre of the extent GDAL reports for the segments.
read -r cx cy < <(ogrinfo -so -ro "$store" subterra_segments 2>/dev/null \
  | awk -F'[(), -]+' '/^Extent/ {printf "%.1f %.1f\n", ($2+$4)/2, ($3+$5)/2}')
[ -n "${cx:-}" ] || { echo "cli-cold-start.sh: cannot read the store's extent with ogrinfo" >&2; exit 2; }
x1=$(awk -v v="$cx" 'BEGIN{printf "%.1f", v+10}')
y1=$(awk -v v="$cy" 'BEGIN{printf "%.1f", v+10}')
declare -A cmd
cmd[nearest]="$subterra|nearest|POINT ($cx $cy)|-k|3|--store|$store"
cmd[within]="$subterra|within|POINT ($cx $cy)|--distance|5|--store|$store"
cmd[check-dig]="$subterra|check-dig|POLYGON (($cx $cy, $x1 $cy, $x1 $y1, $cx $y1, $cx $cy))|--depth|2|--store|$store"
cmd[section]="$subterra|section|LINESTRING ($cx $cy, $x1 $y1)|--store|$store"
cmd[info]="$subterra|info|--store|$store"
cmd[ogrinfo-spat]="ogrinfo|-ro|-q|-spat|$cx|$cy|$x1|$y1|$store|subterra_segments"
names=(nearest within check-dig section info ogrinfo-spat)

declare -A walls rss
for ((r = 0; r < runs; r++)); do
  for n in "${names[@]}"; do
    IFS='|' read -r -a argv <<<"${cmd[$n]}"
    measure "${argv[@]}"
    walls[$n]+="$wall "
    rss[$n]=$(( ${rss[$n]:-0} > peak ? ${rss[$n]:-0} : peak ))
  done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
worst() { tr ' ' '\n' | grep -v '^$' | sort -g | tail -1; }
peer=$(echo "${walls[ogrinfo-spat]}" | median)
fail=0
{
  echo "## One-shot commands on a $segments-segment store, $runs rounds ($(date -u +%F))"
  echo
  echo "$import_note"
  echo "$rebuild_note"
  echo
  echo "| command | median wall s | worst wall s | peak RSS MB | ÷ ogrinfo -spat |"
  echo "|---|---|---|---|---|"
  for n in "${names[@]}"; do
    med=$(echo "${walls[$n]}" | median)
    echo "| $n | $med | $(echo "${walls[$n]}" | worst) | $((rss[$n] / 1024)) | $(awk -v a="$med" -v b="$peer" 'BEGIN{printf "%.1f", (b > 0 ? a / b : 0)}') |"
    if [ "$n" != ogrinfo-spat ]; then
      if awk -v a="$med" -v b="$max_wall" 'BEGIN{exit !(a > b)}'; then echo "FAIL: $n median wall $med s > $max_wall s" >&2; fail=1; fi
      if [ $((rss[$n] / 1024)) -gt "$max_rss" ]; then echo "FAIL: $n peak RSS $((rss[$n] / 1024)) MB > $max_rss MB" >&2; fail=1; fi
    fi
  done
} >"$work/report.md"
cat "$work/report.md"
if [ -n "$out" ]; then cp "$work/report.md" "$out"; fi
exit $fail
