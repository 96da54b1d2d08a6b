#!/usr/bin/env bash
# `subterra query --batch` at 1 thread against N threads (issue 14, item 5: on 2 cores ≥ 1.7× the
# 1-core speed): one batch file of mixed lines over the store's extent, runs alternated between
# the thread counts, each a new process timed with /usr/bin/time.
#
#   Benchmarks/batch-scaling.sh --store STORE.gpkg [--lines 30000] [--runs 3] [--seed 14]
#                               [--threads "1 2"] [--subterra PATH] [--work DIR]
#
# The lines: a third `check-dig` (a 4–8-vertex star 3–20 m across, depth 1–3 m), a third
# `nearest` (k 1–10), a third `within` (1.5–10 m), at uniform random points of the extent that
# `subterra info --format json` reports. Every run's answers must be byte-identical to the first
# (the output order does not depend on the thread count); a difference fails the script.
#
# Per run it prints wall, process CPU time (user + system), CPU / wall (the cores the process
# actually got: on a shared machine a second thread may find no free core, and the rate then
# says nothing about how the code scales), peak RSS, lines/s, and the load average at the start.
# The batch answers from the snapshot file while the whole engine loads on another thread
# (`WarmingMap`); that load is in every run's wall and CPU time, at every thread count, and
# until it ends a batch runs the workers that leave it a core of its own (one at 2 threads on 2 cores).
#
# Exit status: 0 when measured; 1 when answers differ between runs; 2 on a usage or run error.
set -euo pipefail

store="" lines=30000 runs=3 seed=14 threads="1 2" subterra="" work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store="$2"; shift 2 ;;
    --lines) lines="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --subterra) subterra="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "batch-scaling.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$store" ] && [ -f "$store" ] || { echo "batch-scaling.sh: --store STORE.gpkg (an existing store) is needed" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "batch-scaling.sh: /usr/bin/time (package time) is needed" >&2; exit 2; }
command -v python3 >/dev/null || { echo "batch-scaling.sh: python3 is needed to write the batch file" >&2; exit 2; }
root="$(cd "$(dirname "$0")/.." && pwd)"
subterra="${subterra:-$root/.build/release/subterra}"
[ -x "$subterra" ] || { echo "batch-scaling.sh: no subterra at $subterra (swift build -c release --product subterra)" >&2; exit 2; }
work="${work:-$(mktemp -d)}"
mkdir -p "$work"

extent=$("$subterra" info --store "$store" --format json | python3 -c 'import json,sys; print(*json.load(sys.stdin)["extent"])')
batch="$work/batch-$lines-$seed.jsonl"
python3 - "$extent" "$lines" "$seed" >"$batch" <<'EOF'
import sys, random, math
x0, y0, x1, y1 = map(float, sys.argv[1].split()); n = int(sys.argv[2]); rnd = random.Random(int(sys.argv[3]))
for i in range(n):
    x = rnd.uniform(x0, x1); y = rnd.uniform(y0, y1); kind = i % 3
    if kind == 0:
        v = rnd.randint(4, 8); r = rnd.uniform(1.5, 10.0); pts = []
        for j in range(v):
            a = 2 * math.pi * j / v + rnd.uniform(-0.3, 0.3); rr = r * rnd.uniform(0.6, 1.0)
            pts.append("%.3f %.3f" % (x + rr * math.cos(a), y + rr * math.sin(a)))
        pts.append(pts[0])
        print('{"id":%d,"op":"check-dig","geometry":"POLYGON ((%s))","depth":%.2f}' % (i, ", ".join(pts), rnd.uniform(1, 3)))
    elif kind == 1:
        print('{"id":%d,"op":"nearest","geometry":"POINT (%.3f %.3f)","k":%d}' % (i, x, y, rnd.randint(1, 10)))
    else:
        print('{"id":%d,"op":"within","geometry":"POINT (%.3f %.3f)","distance":%.2f}' % (i, x, y, rnd.uniform(1.5, 10)))
EOF
echo "store $store, extent $extent, $lines lines ($batch), $runs rounds of threads: $threads"
printf '| round | threads | load (1 min) | wall s | CPU s | CPU/wall | peak RSS MB | lines/s |\n|---|---|---|---|---|---|---|---|\n'
reference=""
for round in $(seq 1 "$runs"); do
  for t in $threads; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" "$subterra" query --batch "$batch" --store "$store" --threads "$t" \
      >"$work/answers.jsonl" 2>"$work/stderr.txt" || { cat "$work/stderr.txt" >&2; exit 2; }
    read -r wall user sys peak <"$work/time.txt"
    sum=$(cksum <"$work/answers.jsonl")
    if [ -z "$reference" ]; then reference=$sum; cp "$work/answers.jsonl" "$work/reference.jsonl"
    elif [ "$sum" != "$reference" ]; then
      echo "batch-scaling.sh: answers at $t threads (round $round) differ from the first run's:" >&2
      cmp "$work/reference.jsonl" "$work/answers.jsonl" >&2 || true
      exit 1
    fi
    python3 -c "w,u,s,m,n=$wall,$user,$sys,$peak,$lines; print('| $round | $t | $load | %.2f | %.2f | %.2f | %d | %.0f |' % (w, u+s, (u+s)/max(w,1e-9), m/1024, n/max(w,1e-9)))"
  done
done
echo "answers identical across all runs ($(wc -l <"$work/reference.jsonl") lines, $(grep -c '"ok":false' "$work/reference.jsonl" || true) error answers)"
