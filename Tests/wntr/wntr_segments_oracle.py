#!/usr/bin/env python3
"""Compares `subterra valve-segments` with WNTR's valve_segments on the same networks.

Run by scripts/test.sh after the Swift suite (WNTR from PyPI in .build/wntr-venv:
SUBTERRA_WNTR_DEPS=1 bash scripts/install-deps.sh). Without `wntr` it prints `wntr: skipped: ...`
and exits 0; a `wntr` that does not import, any disagreement or error (a missing binary, a
failing command, a network with no pipes) exits 1. One run covers random networks and the
sample district's layers JS, RQ and RL, and ends with a `wntr: ok|FAILED: ...` summary line.

Each network is written in the sample district's file layout (points.geojson, segments.geojson)
and read by both sides: Subterra with --tolerance 0 (pipe ends meet where their coordinates are
equal), WNTR as a networkx MultiDiGraph with the same nodes and links. Subterra's valve nodes
separate every pipe that meets at them; in WNTR's valve layer that is one valve (link, node) on
each pipe at the node. The nodes that bound segments are the same as Subterra's: sources (plant,
regulator or pumping station), and valves that are open, closed or of unknown status;
inoperable and inaccessible valves bound nothing. The pipe partitions must be equal (segment
numbers differ: they are compared as sets of pipe ids).

Usage:
  python3 Tests/wntr/wntr_segments_oracle.py [--subterra PATH] [--networks N] [--sites N]
                                             [--sample DIR] [--layers JS,RQ,RL]
  python3 Tests/wntr/wntr_segments_oracle.py --store Datasets/sample --layer JS
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time

try:
    import wntr
except ImportError as e:  # pragma: no cover
    if e.name != "wntr":  # installed but broken (a missing dependency): an error, not a skip
        print(f"wntr: ERROR: wntr is installed but does not import: {e}")
        sys.exit(1)
    print(f"wntr: skipped: {e} (SUBTERRA_WNTR_DEPS=1 bash scripts/install-deps.sh installs it "
          "into .build/wntr-venv)")
    sys.exit(0)
import networkx as nx  # noqa: E402 - WNTR's own dependencies: their absence is an error
import pandas as pd  # noqa: E402

SOURCES = {"plant", "regulator-station", "pump-station"}
VALVES = {"valve", "valve-chamber"}
X0, Y0 = 637000.0, 3140000.0


def random_network(seed, sites):
    """Places on a grid of whole metres (so pipe ends meet exactly), a spanning tree plus loops,
    a point at every place: valves of every status, connections, sources, tees."""
    rng = random.Random(seed)
    place = [(X0 + rng.randrange(0, 2000), Y0 + rng.randrange(0, 2000)) for _ in range(sites)]
    pairs = [(rng.randrange(0, i), i) for i in range(1, sites)]
    for _ in range(sites // 4):
        a, c = rng.randrange(sites), rng.randrange(sites)
        if a != c and place[a] != place[c]:
            pairs.append((a, c))
    points = []
    for i, (x, y) in enumerate(place):
        r = rng.randrange(10)
        props = {"number": f"P{i}", "layer": "JS"}
        if r < 4:
            props["kind"] = "valve"
            status = rng.choice(["open", "open", "open", "closed", "inoperable", "inaccessible", None])
            if status:
                props["valve_status"] = status
        elif r < 7:
            props["kind"] = "service-connection"
            props["customer_category"] = rng.choice(["hospital", "school", "household", "industry"])
            props["customer_count"] = rng.randint(1, 20)
        elif r == 7:
            props["kind"] = rng.choice(sorted(SOURCES))
        else:
            props["kind"] = "tee"
        points.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]}, "properties": props})
    segments = []
    for k, (a, c) in enumerate(pairs):
        segments.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [list(place[a]), list(place[c])]},
            "properties": {"id": k + 1, "layer": "JS", "start_point": f"P{a}", "end_point": f"P{c}", "section": "DN150"},
        })
    return points, segments


def write(directory, points, segments):
    crs = {"type": "name", "properties": {"name": "EPSG:4549"}}
    for name, features in (("points", points), ("segments", segments)):
        with open(os.path.join(directory, name + ".geojson"), "w") as f:
            json.dump({"type": "FeatureCollection", "crs": crs, "features": features}, f)


def read(directory):
    with open(os.path.join(directory, "points.geojson")) as f:
        points = json.load(f)["features"]
    with open(os.path.join(directory, "segments.geojson")) as f:
        segments = json.load(f)["features"]
    return points, segments


def subterra_partition(subterra, directory, layer):
    start = time.perf_counter()
    out = subprocess.run(
        [subterra, "valve-segments", "--layer", layer, "--store", directory, "--tolerance", "0", "--json"],
        capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        raise RuntimeError(f"subterra valve-segments exited {out.returncode}: {out.stderr.strip()[-500:]}")
    wall = time.perf_counter() - start
    report = json.loads(out.stdout)
    return {frozenset(s["pipeIDs"]) for s in report["segments"]}, wall


def wntr_partition(points, segments, layer):
    """Nodes are distinct end coordinates; a point sits on the node at its exact position."""
    segments = [s for s in segments if s["properties"]["layer"] == layer]
    node_of = {}

    def node(c):
        return node_of.setdefault((c[0], c[1]), f"n{len(node_of)}")

    g = nx.MultiDiGraph()
    ends = []
    for s in segments:
        c = s["geometry"]["coordinates"]
        a, b = node(c[0]), node(c[-1])
        link = str(s["properties"]["id"])
        g.add_edge(a, b, key=link)
        ends.append((link, a, b))
    # The first point at a node decides as in Subterra: a source anywhere there wins, else the
    # first isolation valve.
    at = {}
    for p in points:
        q = p["properties"]
        if q.get("layer") != layer:
            continue
        n = node_of.get(tuple(p["geometry"]["coordinates"][:2]))
        if n is not None:
            at.setdefault(n, []).append(q)

    def bounds(n):
        ps = at.get(n, [])
        if any(q["kind"] in SOURCES for q in ps):
            return True
        valves = [q for q in ps if q["kind"] in VALVES]
        return bool(valves) and valves[0].get("valve_status") in (None, "open", "closed")

    rows = []
    for link, a, b in ends:
        for n in {a, b}:
            if bounds(n):
                rows.append({"link": link, "node": n})
    valve_layer = pd.DataFrame(rows, columns=["link", "node"])
    start = time.perf_counter()
    _, link_segments, _ = wntr.metrics.valve_segments(g, valve_layer)
    wall = time.perf_counter() - start
    groups = {}
    for link, label in link_segments.items():
        groups.setdefault(label, set()).add(int(link))
    return {frozenset(v) for v in groups.values()}, wall


def compare(label, ours, theirs):
    if ours == theirs:
        print(f"wntr: {label}: {len(ours)} segments agree")
        return True
    print(f"wntr: {label}: DIFFER: {len(ours - theirs)} of ours not in WNTR's, "
          f"{len(theirs - ours)} of WNTR's not in ours")
    for s in list(ours - theirs)[:3]:
        print("wntr:   ours:", sorted(s))
    for s in list(theirs - ours)[:3]:
        print("wntr:   WNTR:", sorted(s))
    return False


class Tally:
    """Networks compared, pipes and segments (WNTR's), and what went wrong."""

    def __init__(self):
        self.networks = self.pipes = self.segments = self.differ = self.errors = 0

    def run(self, label, subterra, directory, layer, load):
        """Compares one layer; `load` gives its (points, segments) features."""
        try:
            points, segments = load()
            pipes = sum(1 for f in segments if f["properties"].get("layer") == layer)
            if pipes == 0:
                raise RuntimeError(f"no {layer} pipes: nothing to compare")
            ours, t_ours = subterra_partition(subterra, directory, layer)
            theirs, t_wntr = wntr_partition(points, segments, layer)
        except Exception as e:  # noqa: BLE001 - every error fails the run, with its reason
            print(f"wntr: {label}: ERROR: {type(e).__name__}: {e}")
            self.errors += 1
            return
        self.networks += 1
        self.pipes += pipes
        self.segments += len(theirs)
        if not compare(f"{label}, {pipes} pipes (subterra {t_ours:.2f} s, WNTR {t_wntr:.2f} s)", ours, theirs):
            self.differ += 1

    def ok(self):
        return self.networks > 0 and self.differ == 0 and self.errors == 0

    def summary(self):
        verdict = "ok" if self.ok() else "FAILED"
        return (f"wntr: {verdict}: {self.networks} networks compared, {self.pipes} pipes, "
                f"{self.segments} segments; {self.differ} differ, {self.errors} errors "
                f"(WNTR {wntr.__version__})")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--subterra", default=".build/debug/subterra")
    ap.add_argument("--networks", type=int, default=20, help="random networks (0: none)")
    ap.add_argument("--sites", type=int, default=60, help="places in the smallest random network")
    ap.add_argument("--sample", default=os.path.join(here, "..", "..", "Datasets", "sample"),
                    help="the sample district, compared on --layers ('' skips it)")
    ap.add_argument("--layers", default="JS,RQ,RL")
    ap.add_argument("--store", help="only this directory in the sample layout, on --layer")
    ap.add_argument("--layer", default="JS")
    args = ap.parse_args()
    tally = Tally()
    if not (os.path.isfile(args.subterra) and os.access(args.subterra, os.X_OK)):
        print(f"wntr: ERROR: no subterra executable at {args.subterra} (--subterra PATH)")
        tally.errors += 1
    elif args.store:
        tally.run(f"{args.store} {args.layer}", args.subterra, args.store, args.layer, lambda: read(args.store))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.networks):
                d = os.path.join(tmp, str(seed))
                os.makedirs(d)
                points, segments = random_network(seed, args.sites + seed % 40)
                write(d, points, segments)
                tally.run(f"seed {seed}", args.subterra, d, "JS", lambda: (points, segments))
        if args.sample:
            for layer in filter(None, args.layers.split(",")):
                tally.run(f"sample {layer}", args.subterra, args.sample, layer, lambda: read(args.sample))
    print(tally.summary())
    sys.exit(0 if tally.ok() else 1)


if __name__ == "__main__":
    main()
