#!/usr/bin/env bash
# The README's main command: on a fresh Debian 12 machine with Swift 6.1+, installs the system
# libraries, builds the `subterra` tool in release, imports the bundled sample district into
# out/sample.gpkg (once), and runs a dig check on a sample dig site that hits a gas main:
# the conflict report goes to the terminal, the SVG map to out/dig-site.svg. Then a burst water
# main (pipe 273): the valves to close and the customers cut off, hospitals first, map in
# out/isolation.svg.
#
#   bash scripts/run-sample.sh            # dig site 2 of Datasets/sample/dig-sites.geojson
#   SITE=4 bash scripts/run-sample.sh     # another site (1..5)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/opt/swift/usr/bin"

bash scripts/install-deps.sh

SCRATCH="${SUBTERRA_SCRATCH:-.build}"
echo "run-sample: building subterra (release) ..." >&2
swift build -c release --scratch-path "$SCRATCH" --product subterra >&2
BIN="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/subterra"

SAMPLE=Datasets/sample
SITE="${SITE:-2}"
mkdir -p out
STORE=out/sample.gpkg
if [ ! -f "$STORE" ] || [ "$SAMPLE/segments.geojson" -nt "$STORE" ]; then
    rm -f "$STORE"
    echo "run-sample: importing $SAMPLE into $STORE ..." >&2
    "$BIN" import "$SAMPLE" --store "$STORE"
    echo
fi

"$BIN" info --store "$STORE"
echo
# Exit status 1 means "conflicts found" (--fail-on-conflict): that is the expected answer here.
set +e
"$BIN" check-dig "@$SAMPLE/dig-sites.geojson" --feature "$SITE" --store "$STORE" \
    --map out/dig-site.svg --fail-on-conflict
status=$?
set -e
# A cut across Xiangyang Street through dig site 2 (coordinates of the committed sample).
"$BIN" section 'LINESTRING (637840 3140130, 637870 3140130)' --store "$STORE" --svg out/section.svg > out/section.txt
echo
"$BIN" isolate 273 --layer JS --store "$STORE" --svg out/isolation.svg
echo
case $status in
    0) echo "run-sample: the dig site is clear; map in out/dig-site.svg" ;;
    1) echo "run-sample: conflicts found (exit 1 with --fail-on-conflict); map in out/dig-site.svg, cross-section of the street in out/section.svg and out/section.txt, isolation of pipe 273 in out/isolation.svg" ;;
    *) echo "run-sample: check-dig failed (exit $status)" >&2; exit "$status" ;;
esac
