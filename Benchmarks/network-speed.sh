#!/usr/bin/env bash
# Network operations at 10^6 segments against WNTR (issue 16, speed): builds `network-speed`
# (release, Benchmarks/.build-release), runs it on a generated district of `--segments` segments
# (topology build, isolation of one break p50/p99 over `--breaks` random water pipes, drainage
# traces per 10^4 pipes reached, segmentation of the whole water layer), then for each WNTR size
# exports a smaller district's water layer and times `wntr.metrics.valve_segments` on it under
# `--timeout` seconds, checking WNTR's partition equals ours, and prints the ratio at equal size.
#
#   Benchmarks/network-speed.sh [--segments 1000000] [--seed 1] [--breaks 200]
#                               [--wntr-sizes "40000 120000 400000"] [--timeout 900] [--work DIR]
#
# `--wntr-sizes` are district segment counts (the water layer is about a seventh of them; the
# output names its pipe count). WNTR comes from a venv in the work folder (`wntr>=1.5,<2`, `six`).
# Exit status: 0 when measured; 2 on a usage or build error.
set -euo pipefail
segments=1000000 seed=1 breaks=200 sizes="40000 120000 400000" timeout=900 work=/tmp/subterra-network-speed
while [ $# -gt 0 ]; do
    case "$1" in
        --segments) segments=$2; shift 2 ;;
        --seed) seed=$2; shift 2 ;;
        --breaks) breaks=$2; shift 2 ;;
        --wntr-sizes) sizes=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --work) work=$2; shift 2 ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
(cd "$here" && swift build -c release --scratch-path .build-release --product network-speed -j 2) >&2 || exit 2
bin="$here/.build-release/release/network-speed"
# The pins of scripts/install-deps.sh (SUBTERRA_WNTR_DEPS): WNTR 1.5 needs six without saying so.
if ! "$work/venv/bin/python" -c 'import wntr' 2>/dev/null; then
    python3 -m venv "$work/venv" && "$work/venv/bin/pip" -q install 'wntr>=1.5,<2' 'six>=1.16,<2' >&2 || exit 2
fi
echo "== $segments segments (seed $seed)"
"$bin" --segments "$segments" --seed "$seed" --breaks "$breaks"
for n in $sizes; do
    d="$work/wntr-$n"
    echo "== WNTR at $n segments"
    "$bin" --segments "$n" --seed "$seed" --breaks 20 --traces 20 --export "$d" > "$d.json"
    python3 - "$d.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
print(f"subterra: {o['waterPipes']} water pipes, {o['valveSegments']} segments, segmentation {o['segmentationMs']:.2f} ms, topology {o['waterTopologyMs']:.1f} ms")
PY
    status=0
    timeout "$timeout" "$work/venv/bin/python" "$here/wntr-segments-time.py" "$d" > "$d.wntr" 2>&1 || status=$?
    if [ "$status" = 0 ]; then
        cat "$d.wntr"
        python3 - "$d.json" "$d.wntr" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
w = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
print(f"ratio WNTR / subterra segmentation at {o['waterPipes']} pipes: {w['seconds'] * 1000 / o['segmentationMs']:.0f}x (partitions equal: {w['equal']})")
PY
    elif [ "$status" = 124 ]; then
        echo "wntr: no answer within $timeout s at $n segments"
    else
        echo "wntr: FAILED (exit $status) at $n segments:"
        tail -5 "$d.wntr"
    fi
done
