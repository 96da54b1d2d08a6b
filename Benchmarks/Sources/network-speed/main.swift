// Speed of the network operations at 10^6 segments (issue 16): topology build, isolation of one
// break, drainage tracing, valve segmentation; and an export of a water layer for WNTR's
// `valve_segments` at the same size (Benchmarks/network-speed.sh runs both; figures in NOTES.md).
//
//   network-speed [--segments N] [--seed S] [--breaks K] [--traces K] [--export DIR]
//
// Only the public library API: DistrictGenerator, NetworkTopology, IsolationPlan, DrainageTrace,
// ValveSegments. Prints one JSON object.
import Foundation
import SubterraDatasets
import SubterraModel
import SubterraNetwork

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}
func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

let args = Array(CommandLine.arguments.dropFirst())
func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name), i + 1 < args.count else { return nil }
    return args[i + 1]
}
let segments = Int(option("--segments") ?? "1000000")!
let seed = UInt64(option("--seed") ?? "1")!
let breaks = Int(option("--breaks") ?? "200")!
let traces = Int(option("--traces") ?? "200")!
let export = option("--export")

var out: [String: Any] = ["segments": segments, "seed": seed, "loadavgStart": loadAverage()]
var pick = Xoshiro256(seed: seed &* 7919)

var t0 = now()
let district = DistrictGenerator(segments: segments, seed: seed).district()
out["generateS"] = ms(now() - t0) / 1000

// Topology builds.
t0 = now()
let water = try NetworkTopology(network: district.network, scope: .init(layer: .water), tolerance: 0.05)
out["waterTopologyMs"] = ms(now() - t0)
out["waterPipes"] = water.edgeCount
out["waterNodes"] = water.nodeCount
t0 = now()
let drainage = try NetworkTopology(network: district.network, scope: .init(layer: .drainage), tolerance: 0.05)
out["drainageTopologyMs"] = ms(now() - t0)
out["drainagePipes"] = drainage.edgeCount

// Segmentation of the whole water layer: best of three.
var segTimes: [Double] = []
var vs: ValveSegments?
for _ in 0..<3 {
    t0 = now()
    vs = ValveSegments(water)
    segTimes.append(ms(now() - t0))
}
out["segmentationMs"] = segTimes.min()!
out["segmentationAllMs"] = segTimes
out["valveSegments"] = vs!.segmentCount

if let dir = export {
    // The water layer for WNTR: links (id, from, to), the valve layer (link, node) at every
    // boundary node, and our label of each link, for the script to time and compare.
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var links = "link,from,to,segment\n"
    var valves = "link,node\n"
    for e in 0..<water.edgeCount {
        let a = Int(water.edgeFrom[e]), b = Int(water.edgeTo[e])
        links += "\(e),n\(a),n\(b),\(vs!.segmentOfEdge[e])\n"
        for n in Set([a, b]) where vs!.nodeRole[n].isBoundary { valves += "\(e),n\(n)\n" }
    }
    try links.write(toFile: dir + "/links.csv", atomically: true, encoding: .utf8)
    try valves.write(toFile: dir + "/valves.csv", atomically: true, encoding: .utf8)
}

// Isolation of one break: random water pipes, the whole plan (with the failure scenarios the
// command prints) and the plan alone.
var withFailures: [Double] = [], plain: [Double] = [], isolated: [Int] = []
for _ in 0..<breaks {
    let e = pick.integer(in: 0...(water.edgeCount - 1))
    t0 = now()
    let p = try IsolationPlan(topology: water, break: .edge(e), failureScenarios: false)
    plain.append(ms(now() - t0))
    t0 = now()
    _ = try IsolationPlan(topology: water, break: .edge(e))
    withFailures.append(ms(now() - t0))
    isolated.append(p.isolatedPipes.count)
}
out["isolationMs"] = ["p50": percentile(plain, 0.5), "p99": percentile(plain, 0.99), "max": plain.max() ?? 0]
out["isolationWithFailuresMs"] = ["p50": percentile(withFailures, 0.5), "p99": percentile(withFailures, 0.99), "max": withFailures.max() ?? 0]
out["isolatedPipesMedian"] = percentile(isolated.map(Double.init), 0.5)

// Tracing from random drainage nodes, both ways: time per 10^4 pipes reached.
var traceMs = 0.0, reached = 0, bigMs = 0.0, bigReached = 0, traceCount = 0
for k in 0..<traces {
    let v = pick.integer(in: 0...(drainage.nodeCount - 1))
    let dir: TraceDirection = k % 2 == 0 ? .downstream : .upstream
    t0 = now()
    let tr = try DrainageTrace(topology: drainage, from: [.node(v)], direction: dir)
    let dt = ms(now() - t0)
    traceMs += dt
    reached += tr.pipes.count
    traceCount += 1
    if tr.pipes.count >= 1000 {
        bigMs += dt
        bigReached += tr.pipes.count
    }
}
out["traces"] = traceCount
out["tracePipesReached"] = reached
out["traceMsPer10kPipes"] = reached > 0 ? traceMs / Double(reached) * 1e4 : Double.nan
out["traceMsPer10kPipesLargeTraces"] = bigReached > 0 ? bigMs / Double(bigReached) * 1e4 : Double.nan
out["traceMeanMs"] = traceMs / Double(max(traceCount, 1))
// The whole network from every outfall upstream at once: the largest trace there is.
let outfalls = (0..<drainage.nodeCount).filter { v in drainage.pointIndices(at: v).contains { drainage.points[Int($0)].kind == .outfall } }
t0 = now()
let whole = try DrainageTrace(topology: drainage, from: outfalls.map { .node($0) }, direction: .upstream)
let wholeMs = ms(now() - t0)
out["wholeUpstreamTrace"] = ["outfalls": outfalls.count, "pipes": whole.pipes.count, "ms": wholeMs,
                             "msPer10kPipes": wholeMs / Double(max(whole.pipes.count, 1)) * 1e4]
out["loadavgEnd"] = loadAverage()
// JSON has no NaN (no trace of 1,000 pipes or more at a small size): such figures print as null.
func finiteOrNull(_ v: Any) -> Any {
    switch v {
    case let x as Double: x.isFinite ? x : NSNull()
    case let xs as [Double]: xs.map(finiteOrNull)
    case let d as [String: Any]: d.mapValues(finiteOrNull)
    default: v
    }
}
let data = try JSONSerialization.data(withJSONObject: finiteOrNull(out), options: [.sortedKeys, .prettyPrinted])
print(String(decoding: data, as: UTF8.self))
