#!/usr/bin/env python3
"""Times wntr.metrics.valve_segments on a water layer `network-speed --export DIR` wrote.

DIR/links.csv: link,from,to,segment (our label); DIR/valves.csv: link,node (a valve on the link
at every boundary node, as in Tests/wntr/wntr_segments_oracle.py). Prints one JSON line:
seconds, WNTR's segment count, and whether its partition of the links equals ours.
"""
import json
import sys
import time

import networkx as nx
import pandas as pd
import wntr

d = sys.argv[1]
links = pd.read_csv(d + "/links.csv", dtype={"link": str})
valves = pd.read_csv(d + "/valves.csv", dtype={"link": str})
g = nx.MultiDiGraph()
for link, a, b in zip(links["link"], links["from"], links["to"]):
    g.add_edge(a, b, key=link)
start = time.perf_counter()
_, link_segments, _ = wntr.metrics.valve_segments(g, valves)
seconds = time.perf_counter() - start
theirs, ours = {}, {}
for link, label in link_segments.items():
    theirs.setdefault(label, set()).add(link)
for link, label in zip(links["link"], links["segment"]):
    ours.setdefault(label, set()).add(link)
equal = {frozenset(v) for v in theirs.values()} == {frozenset(v) for v in ours.values()}
print(json.dumps({"seconds": seconds, "segments": len(theirs), "links": len(links), "equal": equal, "wntr": wntr.__version__}))
