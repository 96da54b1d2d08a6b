#!/usr/bin/env bash
# `subterra serve` under load (issue 15, speed): POST /dig-checks with wrk on loopback, bounded in
# time, reporting dig checks/s and latency percentiles, with TLS off and on, optionally while an
# edit stream runs, and a soak that samples the server's resident memory.
#
#   Benchmarks/serve-wrk.sh --store STORE.gpkg [--duration 20] [--connections 32] [--threads 2]
#                           [--sites 2000] [--seed 15] [--tls both|off|on] [--audit-fsync always|never]
#                           [--edits RATE] [--soak SECONDS] [--subterra PATH] [--work DIR]
#
# What it does:
# - writes a serve.json in the work folder (one user "bench" holding a full-grant role; a new
#   random key from `subterra serve hash-key`; the audit log and the dig-check file in the work
#   folder, audit fsync as given: `always` is the service's default and the honest figure);
#   for TLS a self-signed P-256 certificate made by openssl;
# - starts `subterra serve` on a free loopback port and waits for /health to say `loaded`;
# - picks `--sites` dig sites the way planners draw them: a 4–8-vertex star 3–20 m across
#   (depth 1–3 m) centred on a vertex of a random pipe, fetched through the OGC items route;
# - runs wrk (`--latency`, a Lua script cycling through the sites) for `--duration` seconds after
#   a 3 s warm-up, per TLS setting;
# - with `--edits RATE`, a Python client PUTs RATE item replacements per second, open loop (one
#   sent every 1/RATE s from a pool of threads, whatever the earlier ones are doing; the same
#   geometry and attributes each time: the map's answers do not change, the data version does)
#   through `PUT /collections/{layer}/items/{id}` during the timed run, and reports how many it
#   made and their failures;
# - with `--soak S`, one more run of S seconds, sampling the server's RSS every 5 s.
#
# Every wrk response is checked: wrk counts non-2xx answers and socket errors itself; any makes
# the exit status 1 (the figures are then not a result), and the audit log in the work folder
# has each request's status. Requests are built once, in the Lua `init` (wrk's documented fast
# form), so the client spends its share of the 2 cores sending, not formatting.
#
# Exit status: 0 when measured; 1 when any request failed; 2 on a usage or start error.
set -euo pipefail

store="" duration=20 connections=32 threads=2 sites=2000 seed=15 tls=both fsync=always edits=0 soak=0
subterra="" work=""
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store="$2"; shift 2 ;;
    --duration) duration="$2"; shift 2 ;;
    --connections) connections="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --sites) sites="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --tls) tls="$2"; shift 2 ;;
    --audit-fsync) fsync="$2"; shift 2 ;;
    --edits) edits="$2"; shift 2 ;;
    --soak) soak="$2"; shift 2 ;;
    --subterra) subterra="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "serve-wrk.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
say() { echo "serve-wrk: $*" >&2; }
[ -n "$store" ] && [ -e "$store" ] || { say "--store STORE (a store, or a folder or file subterra serve opens) is needed"; exit 2; }
command -v wrk >/dev/null || { say "wrk is needed (apt-get install wrk)"; exit 2; }
command -v python3 >/dev/null || { say "python3 is needed"; exit 2; }
case "$tls" in both) modes="off on" ;; off|on) modes="$tls" ;; *) say "--tls both|off|on"; exit 2 ;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
subterra="${subterra:-$root/.build/release/subterra}"
[ -x "$subterra" ] || { say "no subterra at $subterra (swift build -c release --product subterra)"; exit 2; }
work="${work:-$(mktemp -d /tmp/serve-wrk.XXXXXX)}"
mkdir -p "$work"

key_line=$("$subterra" serve hash-key --name bench --role bench)
key=$(printf '%s\n' "$key_line" | sed -n 's/^key: //p')
entry=$(printf '%s\n' "$key_line" | sed -n 's/^entry for "users": //p')
if [[ " $modes " == *" on "* ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$work/server.key" -out "$work/server.pem" 2>/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pid=""
stop_server() { if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap stop_server EXIT INT TERM

# start_server MODE: writes serve-MODE.json, starts the server, sets $base and $pid.
start_server() {
  local mode=$1 port tlsline="" scheme=http
  port=$(free_port)
  if [ "$mode" = on ]; then tlsline=", \"tls\": {\"cert\": \"$work/server.pem\", \"key\": \"$work/server.key\"}"; scheme=https; fi
  rm -f "$work/audit-$mode.jsonl" "$work/dig-checks-$mode.jsonl"
  cat >"$work/serve-$mode.json" <<JSON
{ "listen": "127.0.0.1:$port", "store": "$store",
  "audit": { "path": "$work/audit-$mode.jsonl", "fsync": "$fsync" },
  "digChecks": { "path": "$work/dig-checks-$mode.jsonl" },
  "roles": { "bench": { "layers": "*", "fields": "*", "edit": "*" } },
  "users": [ $entry ]$tlsline }
JSON
  "$subterra" serve --config "$work/serve-$mode.json" >"$work/server-$mode.log" 2>&1 &
  pid=$!
  base="$scheme://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    if curl -sk "$base/health" 2>/dev/null | grep -q '"loaded"'; then return 0; fi
    kill -0 "$pid" 2>/dev/null || { say "the server stopped:"; cat "$work/server-$mode.log" >&2; exit 2; }
    sleep 0.5
  done
  say "the server did not load within 300 s"; exit 2
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# make_sites: the wrk Lua script with the dig sites, from pipes fetched through OGC.
make_sites() {
  python3 - "$base" "$key" "$sites" "$seed" "$work/sites.lua" <<'EOF'
import json, math, random, ssl, sys, urllib.parse, urllib.request
base, key, n, seed, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
ctx = ssl._create_unverified_context()
def get(path):
    r = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + key, "Accept": "application/geo+json"})
    return json.load(urllib.request.urlopen(r, context=ctx, timeout=60))
rnd = random.Random(seed)
collections = get("/collections")["collections"]
layers = [c["id"] for c in collections]
storage = next((c["storageCrs"] for c in collections if c.get("storageCrs")), None)
crs = "&crs=" + urllib.parse.quote(storage, safe="") if storage else ""
vertices = []
for layer in layers:
    first = get("/collections/%s/items?limit=1" % layer)
    total = first.get("numberMatched") or 0
    for _ in range(3):
        off = rnd.randrange(max(total - 500, 1))
        for f in get("/collections/%s/items?limit=500&offset=%d%s" % (layer, off, crs))["features"]:
            g = f["geometry"]
            lines = g["coordinates"] if g["type"] == "MultiLineString" else [g["coordinates"]]
            for line in lines:
                vertices.append(rnd.choice(line)[:2])
if not vertices:
    sys.exit("serve-wrk: the map has no pipes to dig near")
bodies = []
for i in range(n):
    x, y = rnd.choice(vertices)
    v = rnd.randint(4, 8); r = rnd.uniform(1.5, 10.0); pts = []
    for j in range(v):
        a = 2 * math.pi * j / v + rnd.uniform(-0.3, 0.3); rr = r * rnd.uniform(0.6, 1.0)
        pts.append("%.3f %.3f" % (x + rr * math.cos(a), y + rr * math.sin(a)))
    pts.append(pts[0])
    bodies.append('{"geometry":"POLYGON ((%s))","crs":"EPSG:4549","depth":%.2f}' % (", ".join(pts), rnd.uniform(1, 3)))
with open(out, "w") as f:
    f.write("local bodies = {\n")
    for b in bodies:
        f.write("  [[%s]],\n" % b)
    f.write("}\n")
    # wrk's documented fast form (SCRIPTING): every request built once, in init, and no
    # `response` function, so wrk neither builds requests nor parses answers during the run
    # (a Lua `wrk.format` per request and a `response` callback cost the client CPU that the
    # server shares on 2 cores). wrk counts non-2xx answers itself; the audit log has each
    # request's status.
    f.write('''local i = 0
local requests = {}
init = function(args)
  local headers = {}
  headers["Authorization"] = "Bearer %s"
  headers["Content-Type"] = "application/json"
  for k, b in ipairs(bodies) do requests[k] = wrk.format("POST", "/dig-checks", headers, b) end
end
request = function()
  i = i %% #requests + 1
  return requests[i]
end
''' % key)
print(len(vertices))
EOF
}

# edit_stream RATE SECONDS: PUTs RATE replacements/s for SECONDS through the items route.
edit_stream() {
  python3 - "$base" "$key" "$1" "$2" "$seed" >"$work/edits.txt" 2>&1 <<'EOF'
import json, random, ssl, sys, time, urllib.request, urllib.error
base, key, rate, seconds, seed = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
ctx = ssl._create_unverified_context()
def call(method, path, body=None, headers={}):
    h = {"Authorization": "Bearer " + key, "Accept": "application/geo+json"}; h.update(headers)
    r = urllib.request.Request(base + path, method=method, data=body, headers=h)
    with urllib.request.urlopen(r, context=ctx, timeout=30) as resp:
        return resp.status, resp.read()
rnd = random.Random(seed)
layers = [c["id"] for c in json.loads(call("GET", "/collections")[1])["collections"]]
pool = []
for layer in layers:
    for f in json.loads(call("GET", "/collections/%s/items?limit=200" % layer)[1])["features"]:
        pool.append((layer, f))
# Open loop: an edit is sent every 1/RATE s whatever the answers before it are doing (a
# closed loop of one client would measure its own round trips, not the server under RATE).
import threading
from concurrent.futures import ThreadPoolExecutor
lock = threading.Lock()
made = failed = 0; lat = []
def edit(layer, f, due):
    # Latency from when the edit was due, not from when a worker took it: time spent queued
    # for a free worker counts (no coordinated omission).
    global made, failed
    s = due
    try:
        call("PUT", "/collections/%s/items/%s" % (layer, f["id"]), json.dumps(f).encode(),
             {"Content-Type": "application/geo+json"})
        ok = True
    except urllib.error.HTTPError as e:
        ok = False
        with lock:
            if failed < 3: print("edit failed: %d %s" % (e.code, e.read()[:200]), file=sys.stderr)
    except Exception as e:
        ok = False
        with lock:
            if failed < 3: print("edit failed: %s" % e, file=sys.stderr)
    with lock:
        lat.append(time.monotonic() - s)
        if ok: made += 1
        else: failed += 1
t0 = time.monotonic(); nxt = t0
with ThreadPoolExecutor(max_workers=64) as pool_:
    while time.monotonic() - t0 < seconds:
        layer, f = rnd.choice(pool)
        pool_.submit(edit, layer, f, nxt)
        nxt += 1.0 / rate
        time.sleep(max(0.0, nxt - time.monotonic()))
lat.sort()
el = time.monotonic() - t0
print("edits: %d made, %d failed, %.1f/s, p50 %.1f ms, p99 %.1f ms" % (made, failed, made / el,
      1000 * lat[len(lat) // 2] if lat else 0, 1000 * lat[int(len(lat) * 0.99)] if lat else 0))
EOF
}

status=0
printf '| TLS | edits/s | connections | dig checks/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors | RSS MB after | load |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for mode in $modes; do
  start_server "$mode"
  nvert=$(make_sites)
  wrk -t"$threads" -c"$connections" -d3s -s "$work/sites.lua" "$base" >/dev/null 2>&1 || true
  editpid=""
  if [ "$edits" != 0 ]; then edit_stream "$edits" "$duration" & editpid=$!; fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/sites.lua" "$base" >"$work/wrk-$mode.txt" 2>"$work/wrk-$mode.err" || true
  if [ -n "$editpid" ]; then wait "$editpid" || true; fi
  rss=$(rss_kb "$pid")
  python3 - "$work/wrk-$mode.txt" "$mode" "$edits" "$connections" "$rss" "$load" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s*%s\s+([\d.]+)(us|ms|s)\s*$" % re.escape(label), text, re.M)
    if not m: return float("nan")
    v, u = float(m.group(1)), m.group(2)
    return v / 1000 if u == "us" else v * 1000 if u == "s" else v
rate = re.search(r"Requests/sec:\s+([\d.]+)", text)
non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
sock = re.search(r"Socket errors:(.*)", text)
print("| %s | %s | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %.0f | %s |" % (
    sys.argv[2], sys.argv[3], sys.argv[4], float(rate.group(1)) if rate else float("nan"),
    ms("50%"), ms("90%"), ms("99%"), non2xx.group(1) if non2xx else "0",
    sock.group(1).strip() if sock else "none", int(sys.argv[5]) / 1024, sys.argv[6]))
EOF
  if grep -q "Non-2xx\|Socket errors" "$work/wrk-$mode.txt" || [ -s "$work/wrk-$mode.err" ]; then
    status=1; say "TLS $mode: failed requests (wrk said; each request's status is in $work/audit-$mode.jsonl):"
    grep "Non-2xx\|Socket errors" "$work/wrk-$mode.txt" >&2 || true; cat "$work/wrk-$mode.err" >&2
  fi
  if [ "$edits" != 0 ]; then
    cat "$work/edits.txt" >&2
    grep -q " 0 failed" "$work/edits.txt" || status=1
  fi
  if [ "$soak" != 0 ] && [ "$mode" = off ]; then
    samples=""
    wrk -t"$threads" -c"$connections" -d"${soak}s" -s "$work/sites.lua" "$base" >"$work/wrk-soak.txt" 2>&1 &
    wpid=$!
    for _ in $(seq 5 5 "$soak"); do sleep 5; samples="$samples $(( $(rss_kb "$pid") / 1024 ))"; done
    wait "$wpid" || true
    say "soak ${soak}s: RSS MB every 5 s:$samples; $(grep Requests/sec "$work/wrk-soak.txt")"
  fi
  stop_server
done
say "sites near $nvert pipe vertices; work folder $work"
exit $status
