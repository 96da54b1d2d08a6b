#!/usr/bin/env python3
"""Compares `subterra valve-segments` with WNTR's valve_segments on the same networks.

Not part of CI. Needs `pip install wntr` and a built `subterra` (default .build/debug/subterra).

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
    import networkx as nx
    import pandas as pd
    import wntr
except ImportError as e:  # pragma: no cover
    print(f"skipped: {e} (pip install wntr)")
    sys.exit(0)

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
        capture_output=True, text=True, check=True)
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
        print(f"{label}: {len(ours)} segments agree")
        return True
    print(f"{label}: DIFFER: {len(ours - theirs)} of ours not in WNTR's, {len(theirs - ours)} of WNTR's not in ours")
    for s in list(ours - theirs)[:3]:
        print("  ours:", sorted(s))
    for s in list(theirs - ours)[:3]:
        print("  wntr:", sorted(s))
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--subterra", default=".build/debug/subterra")
    ap.add_argument("--networks", type=int, default=20)
    ap.add_argument("--sites", type=int, default=60)
    ap.add_argument("--store", help="a directory in the sample layout instead of random networks")
    ap.add_argument("--layer", default="JS")
    args = ap.parse_args()
    ok = True
    if args.store:
        ours, t_ours = subterra_partition(args.subterra, args.store, args.layer)
        theirs, t_wntr = wntr_partition(*read(args.store), args.layer)
        ok = compare(f"{args.store} {args.layer} (subterra {t_ours:.2f} s whole command, wntr {t_wntr:.2f} s)", ours, theirs)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            for seed in range(args.networks):
                d = os.path.join(tmp, str(seed))
                os.makedirs(d)
                points, segments = random_network(seed, args.sites + seed % 40)
                write(d, points, segments)
                ours, _ = subterra_partition(args.subterra, d, "JS")
                theirs, _ = wntr_partition(points, segments, "JS")
                ok &= compare(f"seed {seed}, {len(segments)} pipes", ours, theirs)
    print("all agree" if ok else "MISMATCH")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
