import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

@Suite("Network: drainage tracing up- and downstream by invert")
struct DrainageTraceTests {
    /// M1 -1- M2 -2- M3 -3- O(outfall) -7- X; M4 -4- M2; M5 -5- M3 (flat); M6 -6- M3 drawn
    /// against its flow (runs M3 → M6); all inverts surveyed as pipe bottoms.
    static func network() -> NetBuilder {
        var b = NetBuilder(layer: .drainage)
        b.point("M1", 0, 0, .manhole)
        b.point("M2", 100, 0, .manhole)
        b.point("M3", 200, 0, .manhole)
        b.point("O", 300, 0, .outfall)
        b.point("X", 400, 0, .manhole)
        b.point("M4", 100, 100, .manhole)
        b.point("M5", 200, 100, .manhole)
        b.point("M6", 200, -100, .manhole)
        let pipes: [(Int64, String, String, Double?, Double?)] = [
            (1, "M1", "M2", 5.0, 4.8), (2, "M2", "M3", 4.8, 4.6), (3, "M3", "O", 4.6, 4.4), (4, "M4", "M2", 5.2, 4.9),
            (5, "M5", "M3", 4.7, 4.7), (6, "M6", "M3", 4.5, 4.9), (7, "O", "X", 4.4, 4.2),
        ]
        for (id, a, c, e0, e1) in pipes {
            b.pipe(id, a, c, dn: 400)
            b.segments[b.segments.count - 1].startElevation = e0
            b.segments[b.segments.count - 1].endElevation = e1
            b.segments[b.segments.count - 1].elevationReference = .bottom
        }
        return b
    }

    func node(_ t: NetworkTopology, _ n: PointNumber) -> DrainageTrace.Start { .node(Int(t.pointNode[t.pointIndex(number: n)!])) }

    @Test("downstream from a manhole: to the outfall and no further; flat pipes flagged")
    func downstream() throws {
        let t = try Self.network().topology()
        let d = try DrainageTrace(topology: t, from: [node(t, "M1")], direction: .downstream)
        #expect(d.pipes.map(\.segmentID) == [1, 2, 3, 6])
        #expect(d.pipes.first { $0.segmentID == 6 }?.flow == .backward)
        #expect(d.terminals == ["O"] && d.indeterminatePipes == [5])
        #expect(d.points == ["M1", "M2", "M3", "M6", "O"])
        #expect(abs(d.length - (100 + 100 + 100 + 100)) < 1e-9)
        // From the outfall itself the trace goes on.
        let o = try DrainageTrace(topology: t, from: [node(t, "O")], direction: .downstream)
        #expect(o.pipes.map(\.segmentID) == [7])
    }

    @Test("upstream from a manhole and from a pipe; several flooded manholes at once")
    func upstream() throws {
        let t = try Self.network().topology()
        let u = try DrainageTrace(topology: t, from: [node(t, "M3")], direction: .upstream)
        #expect(u.pipes.map(\.segmentID) == [1, 2, 4])
        #expect(u.indeterminatePipes == [5] && u.terminals.isEmpty)
        let p = try DrainageTrace(topology: t, from: [.edge(t.edge(segmentID: 2)!)], direction: .upstream)
        #expect(p.pipes.map(\.segmentID) == [1, 2, 4])
        let q = try DrainageTrace(topology: t, from: [.edge(t.edge(segmentID: 2)!)], direction: .downstream)
        #expect(q.pipes.map(\.segmentID) == [2, 3, 6])
        let both = try DrainageTrace(topology: t, from: [node(t, "M4"), node(t, "M6")], direction: .upstream)
        #expect(both.pipes.map(\.segmentID) == [1, 2, 4, 6])
        #expect(throws: NetworkError.self) { try DrainageTrace(topology: t, from: [], direction: .upstream) }
    }

    @Test("flow directions from inverts, top elevations and missing values")
    func flowDirections() throws {
        let line = try LineString([Point(0, 0), Point(1, 0)])
        func seg(_ a: Double?, _ b: Double?, _ ref: ElevationReference, dn: Double? = 300) -> PipeSegment {
            PipeSegment(
                id: 1, layer: .drainage, startPoint: "a", endPoint: "b", geometry: line, startElevation: a, endElevation: b,
                elevationReference: ref, section: dn.map { .circular(diameterMM: $0) })
        }
        #expect(FlowDirection(seg(3, 2, .bottom)) == .forward)
        #expect(FlowDirection(seg(2, 3, .top)) == .backward)
        #expect(FlowDirection(seg(2, 2, .bottom)) == .indeterminate)
        #expect(FlowDirection(seg(nil, 2, .bottom)) == .indeterminate)
        #expect(FlowDirection(seg(3, 2, .top, dn: nil)) == .indeterminate, "a top without a section gives no invert")
    }

    /// A random drainage network: an invert level per place (so chains drain consistently), some
    /// ties (flat pipes) and gaps, and manholes, outfalls and pumping stations.
    static func randomDrainage(seed: Int, sites: Int, rng: inout SplitMix) -> NetBuilder {
        var b = IsolationOracleTests.randomNetwork(seed: UInt64(seed) &+ 99, sites: sites, tolerance: 0)
        b.layer = .drainage
        var level: [String: Double?] = [:]
        func invert(_ place: PointNumber, _ rng: inout SplitMix) -> Double? {
            if let l = level[place.rawValue] { return l }
            let l: Double? = Int.random(in: 0..<10, using: &rng) == 0 ? nil : Double(Int.random(in: 0..<12, using: &rng))
            level[place.rawValue] = l
            return l
        }
        for i in b.segments.indices {
            b.segments[i].layer = .drainage
            b.segments[i].startElevation = invert(b.segments[i].startPoint, &rng)
            b.segments[i].endElevation = invert(b.segments[i].endPoint, &rng)
            b.segments[i].elevationReference = .bottom
        }
        let kinds: [PointKind] = [.manhole, .manhole, .manhole, .manhole, .outfall, .pumpStation]
        b.points = b.points.map { p in
            FeaturePoint(number: p.number, layer: .drainage, kind: kinds.randomElement(using: &rng)!, position: p.position)
        }
        return b
    }

    @Test("random drainage networks: traces equal a brute-force search", arguments: 0..<20)
    func oracle(seed: Int) throws {
        var rng = SplitMix(seed: UInt64(seed) &* 104_729 &+ 3)
        let b = Self.randomDrainage(seed: seed, sites: 10 + seed % 25, rng: &rng)
        let t = try b.topology(tolerance: 0)
        let naive = NaiveNetwork(segments: t.segments, points: t.points, tolerance: 0)
        var longest = 0, flagged = 0, stopped = 0
        for direction in TraceDirection.allCases {
            for e in 0..<t.edgeCount {
                let got = try DrainageTrace(topology: t, from: [.node(Int(t.edgeFrom[e]))], direction: direction)
                longest = max(longest, got.pipes.count)
                flagged += got.indeterminatePipes.count
                stopped += got.terminals.count
                let want = naive.trace(fromEnd: 2 * e, direction)
                #expect(Set(got.pipes.map(\.segmentID)) == want.pipes, "seed \(seed) \(direction) from segment \(t.segments[e].id) start")
                #expect(Set(got.indeterminatePipes) == want.indeterminate)
                #expect(Set(got.terminals.map(\.rawValue)) == want.terminals)
            }
        }
        // Not vacuous: chains of pipes, and flat pipes or terminals, occur.
        #expect(longest >= 3 && flagged + stopped > 0, "longest \(longest), flagged \(flagged), terminals \(stopped)")
    }

    @Test("traces from pipes and many manholes at once, pipes in any id order: equal a brute-force search", arguments: 0..<16)
    func oracleManyStarts(seed: Int) throws {
        var rng = SplitMix(seed: UInt64(seed) &* 7_919 &+ 11)
        var b = Self.randomDrainage(seed: seed + 40, sites: 15 + seed % 20, rng: &rng)
        // Odd seeds number the pipes against the network's order: answers must still come by id.
        if seed % 2 == 1 {
            for i in b.segments.indices { b.segments[i].id = Int64(100_000 - 7 * i) }
        }
        let t = try b.topology(tolerance: 0)
        let naive = NaiveNetwork(segments: t.segments, points: t.points, tolerance: 0)
        var large = 0, fromPipes = 0
        for round in 0..<24 {
            // From a few starts up to most of the network (a large answer is built another way).
            let share = [0.02, 0.1, 0.3, 0.8][round % 4]
            var ends: [Int] = [], edges: [Int] = []
            for e in 0..<t.edgeCount {
                if Double.random(in: 0..<1, using: &rng) < share { ends.append(2 * e + Int.random(in: 0...1, using: &rng)) }
                if Double.random(in: 0..<1, using: &rng) < share / 2 { edges.append(e) }
            }
            if ends.isEmpty && edges.isEmpty { edges.append(Int.random(in: 0..<t.edgeCount, using: &rng)) }
            let starts: [DrainageTrace.Start] = (ends.map { .node(Int($0 % 2 == 0 ? t.edgeFrom[$0 / 2] : t.edgeTo[$0 / 2])) } + edges.map { .edge($0) })
                .shuffled(using: &rng)
            for direction in TraceDirection.allCases {
                let got = try DrainageTrace(topology: t, from: starts, direction: direction)
                let want = naive.trace(startEnds: Set(ends), startEdges: edges, direction)
                let where_ = "seed \(seed) round \(round) \(direction)"
                #expect(got.pipes.map(\.segmentID) == want.pipes.sorted(), "\(where_): pipes")
                #expect(got.indeterminatePipes == want.indeterminate.sorted(), "\(where_): indeterminate")
                #expect(got.points.map(\.rawValue) == want.points.sorted(), "\(where_): points")
                #expect(got.terminals.map(\.rawValue) == want.terminals.sorted(), "\(where_): terminals")
                let ids = Dictionary(uniqueKeysWithValues: t.segments.map { ($0.id, $0) })
                for p in got.pipes {
                    #expect(p.length == ids[p.segmentID]!.length && p.displayID == ids[p.segmentID]!.displayID)
                    #expect(p.flow == FlowDirection(ids[p.segmentID]!))
                }
                #expect(got.length == got.pipes.reduce(0) { $0 + $1.length })
                if got.pipes.count * 16 >= t.edgeCount { large += 1 }
                if !edges.isEmpty { fromPipes += 1 }
            }
        }
        // Not vacuous: both ways of building the answer, and pipe starts, are exercised.
        #expect(large > 0 && fromPipes > 0, "large \(large), from pipes \(fromPipes)")
    }

    @Test("traces of one shared topology at once equal the same traces one by one")
    func concurrentTraces() throws {
        var b = IsolationOracleTests.randomNetwork(seed: 7, sites: 30, tolerance: 0)
        b.layer = .drainage
        for i in b.segments.indices {
            b.segments[i].layer = .drainage
            b.segments[i].startElevation = Double(i % 7)
            b.segments[i].endElevation = Double((i * 3) % 5)
            b.segments[i].elevationReference = .bottom
        }
        let t = try b.topology(tolerance: 0)
        let starts = (0..<t.nodeCount).flatMap { v in TraceDirection.allCases.map { (v, $0) } }
        let serial = try starts.map { try DrainageTrace(topology: t, from: [.node($0.0)], direction: $0.1) }
        // Each trace takes its own visit marks: none sees another's, and marks reused by later
        // traces (a stamp per trace) change no answer.
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var traces: [[DrainageTrace?]]
            init(_ n: Int) { traces = Array(repeating: [], count: n) }
        }
        let results = Results(starts.count)
        DispatchQueue.concurrentPerform(iterations: starts.count * 4) { i in
            let k = i % starts.count
            let got = try? DrainageTrace(topology: t, from: [.node(starts[k].0)], direction: starts[k].1)
            results.lock.withLock { results.traces[k].append(got) }
        }
        for k in starts.indices {
            #expect(results.traces[k] == Array(repeating: serial[k], count: 4), "trace \(k)")
        }
        #expect(serial.contains { $0.pipes.count >= 2 })
    }
}

extension NaiveNetwork {
    /// Plain search over the dictionary adjacency: pipes whose inverts fall away from (downstream)
    /// or towards (upstream) each reached node; stops at pumping stations, and downstream at
    /// outfalls, unless that is where it starts.
    func trace(fromEnd end: Int, _ direction: TraceDirection) -> (pipes: Set<Int64>, indeterminate: Set<Int64>, terminals: Set<String>) {
        let r = trace(startEnds: [end], startEdges: [], direction)
        return (r.pipes, r.indeterminate, r.terminals)
    }

    /// The same from the nodes of several pipe ends and from whole pipes: a start pipe is taken
    /// and the search goes on from its low end (downstream) or high end (upstream), from both
    /// when flat (then it is also listed as indeterminate). Start nodes are never cut short.
    func trace(startEnds: Set<Int>, startEdges: [Int], _ direction: TraceDirection)
        -> (pipes: Set<Int64>, indeterminate: Set<Int64>, terminals: Set<String>, points: Set<String>) {
        let starts = Set(startEnds.map { endNode[$0] })
        var reached = starts, taken = Set<Int>(), flat = Set<Int64>()
        var stack = Array(starts)
        for e in startEdges {
            taken.insert(e)
            let s = segments[e]
            var next: [Int]
            if let a = s.startInvert, let b = s.endInvert, a != b {
                let downstreamEnd = a > b ? endNode[2 * e + 1] : endNode[2 * e]
                let upstreamEnd = a > b ? endNode[2 * e] : endNode[2 * e + 1]
                next = [direction == .downstream ? downstreamEnd : upstreamEnd]
            } else {
                flat.insert(s.id)
                next = [endNode[2 * e], endNode[2 * e + 1]]
            }
            for w in next where reached.insert(w).inserted { stack.append(w) }
        }
        while let v = stack.popLast() {
            let kinds = pointsAt(v).map(\.kind)
            if !starts.contains(v), kinds.contains(.pumpStation) || (direction == .downstream && kinds.contains(.outfall)) { continue }
            for (e, w) in adjacency[v] ?? [] {
                let s = segments[e]
                guard let a = s.startInvert, let b = s.endInvert, a != b else {
                    flat.insert(s.id)
                    continue
                }
                // The nodes this pipe drains from and to.
                let high = a > b ? endNode[2 * e] : endNode[2 * e + 1]
                let low = a > b ? endNode[2 * e + 1] : endNode[2 * e]
                let follows = direction == .downstream ? high == v : low == v
                guard follows, !taken.contains(e) else { continue }
                taken.insert(e)
                if reached.insert(w).inserted { stack.append(w) }
            }
        }
        var terminals = Set<String>(), points = Set<String>()
        for v in reached {
            for p in pointsAt(v) {
                points.insert(p.number.rawValue)
                if p.kind == .outfall || p.kind == .pumpStation { terminals.insert(p.number.rawValue) }
            }
        }
        return (Set(taken.map { segments[$0].id }), flat, terminals, points)
    }
}
