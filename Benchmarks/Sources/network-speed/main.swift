// Speed of the network operations at 10^6 segments (issue 16): topology build, isolation of one
// break, drainage tracing, valve segmentation; and an export of a water layer for WNTR's
// `valve_segments` at the same size (Benchmarks/network-speed.sh runs both; figures in NOTES.md).
//
//   network-speed [--segments N] [--seed S] [--breaks K] [--traces K] [--export DIR]
//                 [--family district|vermont|grid] [--vermont DIR]
//
// `--family` picks the data (default `district`, our generator: every operation). The other two
// time tracing only, on drainage layers of about N pipes made another way (`drainageFamily`):
// `vermont`, the real Vermont sewer lines tiled (BenchCore's `SegmentSet.vermont`), each straight
// piece a pipe drawn in its flow direction; `grid`, a jittered square lattice over a random
// terrain, each pipe running downhill.
//
// Only the public library API: DistrictGenerator, NetworkTopology, IsolationPlan, DrainageTrace,
// ValveSegments. Prints one JSON object.
import BenchCore
import Foundation
import SubterraDatasets
import SubterraGeometry
import SubterraModel
import SubterraNetwork

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
func ms(_ ns: UInt64) -> Double { Double(ns) / 1e6 }
func percentile(_ xs: [Double], _ p: Double) -> Double {
    guard !xs.isEmpty else { return .nan }
    let s = xs.sorted()
    return s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
}
func loadAverages() -> String {
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
let family = option("--family") ?? "district"

var out: [String: Any] = ["segments": segments, "seed": seed, "family": family, "loadavgStart": loadAverages()]
var pick = Xoshiro256(seed: seed &* 7919)

/// A drainage layer from straight pieces (x0, y0, x1, y1 each), every piece a pipe running from
/// its first end to its second (start invert `rise` metres above the end's, `rise(k)` > 0 for
/// piece k); a manhole at every distinct end, and an outfall at each end no pipe drains from.
func drainageLayer(_ c: [Double], rise: (Int) -> Double, invert: (Double, Double) -> Double) throws
    -> (segments: [PipeSegment], points: [FeaturePoint]) {
    struct Key: Hashable { var x: UInt64, y: UInt64 }
    var number: [Key: Int] = [:], position: [Point] = [], drains: [Bool] = []
    func node(_ x: Double, _ y: Double) -> Int {
        let k = Key(x: x.bitPattern, y: y.bitPattern)
        if let n = number[k] { return n }
        number[k] = position.count
        position.append(Point(x, y))
        drains.append(false)
        return position.count - 1
    }
    var segs: [PipeSegment] = []
    segs.reserveCapacity(c.count / 4)
    for k in 0..<(c.count / 4) {
        let (x0, y0, x1, y1) = (c[4 * k], c[4 * k + 1], c[4 * k + 2], c[4 * k + 3])
        let a = node(x0, y0), b = node(x1, y1)
        drains[a] = true
        let low = invert(x1, y1)
        segs.append(PipeSegment(
            id: Int64(k + 1), layer: .drainage, startPoint: PointNumber(rawValue: "N\(a)"), endPoint: PointNumber(rawValue: "N\(b)"),
            geometry: try LineString([Point(x0, y0), Point(x1, y1)]), startElevation: low + rise(k), endElevation: low,
            elevationReference: .bottom))
    }
    let points = position.indices.map { n in
        FeaturePoint(number: PointNumber(rawValue: "N\(n)"), layer: .drainage, kind: drains[n] ? .manhole : .outfall, position: position[n])
    }
    return (segs, points)
}

/// About `n` drainage pipes of `family` (see the header).
func drainageFamily(_ family: String, n: Int, seed: UInt64) throws -> (segments: [PipeSegment], points: [FeaturePoint]) {
    switch family {
    case "vermont":
        // Real topology; each line is drawn in flow direction (the stated direction), inverts
        // falling 0.1 m along each straight piece.
        let net = try VermontNetwork.load(directory: SegmentSet.vermontDirectory(explicit: option("--vermont")))
        let c = SegmentSet.vermont(count: n, network: net).coordinates
        return try drainageLayer(c, rise: { _ in 0.1 }, invert: { _, _ in 0 })
    case "grid":
        // A k × k lattice, 40 m apart, jittered ±10 m, over a terrain of a tilt plus random
        // hills; every pipe (to the right and upper neighbour) runs downhill, 2 m below ground.
        let k = max(2, Int((Double(n) / 2).squareRoot()))
        var rng = Xoshiro256(seed: seed &* 31 &+ 5)
        func unit() -> Double { Double(rng.integer(in: 0...1_000_000)) / 1_000_000 }
        let hills = (0..<40).map { _ in (unit() * Double(k) * 40, unit() * Double(k) * 40, 5 + unit() * 20, 200 + unit() * 800) }
        func ground(_ x: Double, _ y: Double) -> Double {
            var z = 0.002 * x + 0.001 * y
            for (hx, hy, h, r) in hills {
                let d2 = ((x - hx) * (x - hx) + (y - hy) * (y - hy)) / (r * r)
                z += h * Foundation.exp(-d2)
            }
            return z
        }
        var pos: [Point] = []
        for j in 0..<k { for i in 0..<k { pos.append(Point(Double(i) * 40 + (unit() - 0.5) * 20, Double(j) * 40 + (unit() - 0.5) * 20)) } }
        var c: [Double] = []
        var rises: [Double] = []
        for j in 0..<k {
            for i in 0..<k {
                for (di, dj) in [(1, 0), (0, 1)] where i + di < k && j + dj < k {
                    var a = pos[j * k + i], b = pos[(j + dj) * k + i + di]
                    if ground(a.x, a.y) < ground(b.x, b.y) { swap(&a, &b) }
                    c += [a.x, a.y, b.x, b.y]
                    rises.append(ground(a.x, a.y) - ground(b.x, b.y))
                }
            }
        }
        return try drainageLayer(c, rise: { rises[$0] }, invert: { x, y in ground(x, y) - 2 })
    default:
        fatalError("unknown --family \(family): district, vermont or grid")
    }
}

/// Traces from random nodes of `drainage`, both ways, and the whole network upstream from every
/// outfall at once: time per 10^4 pipes reached.
func timeTraces(_ drainage: NetworkTopology, count traces: Int, pick: inout Xoshiro256, into out: inout [String: Any]) throws {
    // The topology's first trace builds its trace tables: timed on its own, not in the figures.
    var t0 = now()
    _ = try DrainageTrace(topology: drainage, from: [.node(0)], direction: .downstream)
    out["firstTraceMs"] = ms(now() - t0)
    var traceMs = 0.0, reached = 0, bigMs = 0.0, bigReached = 0, traceCount = 0
    var each: [Double] = []
    for k in 0..<traces {
        let v = pick.integer(in: 0...(drainage.nodeCount - 1))
        let dir: TraceDirection = k % 2 == 0 ? .downstream : .upstream
        t0 = now()
        let tr = try DrainageTrace(topology: drainage, from: [.node(v)], direction: dir)
        let dt = ms(now() - t0)
        traceMs += dt
        each.append(dt)
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
    out["traceMs"] = ["p50": percentile(each, 0.5), "p99": percentile(each, 0.99), "max": each.max() ?? 0]
    // The whole network from every outfall upstream at once: the largest trace there is.
    let outfalls = (0..<drainage.nodeCount).filter { v in drainage.pointIndices(at: v).contains { drainage.points[Int($0)].kind == .outfall } }
    var wholeRuns: [Double] = []
    var whole: DrainageTrace?
    for _ in 0..<3 {
        t0 = now()
        whole = try DrainageTrace(topology: drainage, from: outfalls.map { .node($0) }, direction: .upstream)
        wholeRuns.append(ms(now() - t0))
    }
    let wholeMs = wholeRuns.min()!
    out["wholeUpstreamTrace"] = ["outfalls": outfalls.count, "pipes": whole!.pipes.count, "ms": wholeMs, "allMs": wholeRuns,
                                 "msPer10kPipes": wholeMs / Double(max(whole!.pipes.count, 1)) * 1e4]
}

/// JSON has no NaN (no trace of 1,000 pipes or more at a small size): such figures print as null.
func finiteOrNull(_ v: Any) -> Any {
    switch v {
    case let x as Double: x.isFinite ? x : NSNull()
    case let xs as [Double]: xs.map(finiteOrNull)
    case let d as [String: Any]: d.mapValues(finiteOrNull)
    default: v
    }
}

func printOut(_ out: [String: Any]) throws {
    var out = out
    out["loadavgEnd"] = loadAverages()
    let data = try JSONSerialization.data(withJSONObject: finiteOrNull(out), options: [.sortedKeys, .prettyPrinted])
    print(String(decoding: data, as: UTF8.self))
}

if family != "district" {
    var t0 = now()
    let layer = try drainageFamily(family, n: segments, seed: seed)
    out["generateS"] = ms(now() - t0) / 1000
    t0 = now()
    let drainage = try NetworkTopology(segments: layer.segments, points: layer.points, scope: .init(layer: .drainage), tolerance: 0.05)
    out["drainageTopologyMs"] = ms(now() - t0)
    out["drainagePipes"] = drainage.edgeCount
    out["drainageNodes"] = drainage.nodeCount
    try timeTraces(drainage, count: traces, pick: &pick, into: &out)
    try printOut(out)
    exit(0)
}

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

// Tracing from random drainage nodes, both ways, and the whole network.
try timeTraces(drainage, count: traces, pick: &pick, into: &out)
try printOut(out)
