import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraDatasets
@testable import SubterraNetwork

/// The answers of large traces, which are sorted through bit sets of ranks rather than by
/// comparison (``TraceTables/sortRanks(_:universe:)`` from max(64, n / 1024) items on): checked
/// on generated districts against a plain search over the topology's public arrays, and the
/// rank sort itself against `sort()`.
@Suite("Network: large traces and the rank sort")
struct LargeTraceTests {
    @Test("sorting ranks through a bit set equals sort(), at every size around the switch")
    func rankSort() {
        var rng = SplitMix64(seed: 4242)
        for universe in [1, 63, 64, 65, 1000, 70_000, 200_000] {
            for k in [0, 1, 2, 63, 64, 65, 200, 1000, 5000] where k <= universe {
                var all = Array(0..<Int32(universe))
                all.shuffle(using: &rng)
                var ranks = Array(all.prefix(k))
                let want = ranks.sorted()
                TraceTables.sortRanks(&ranks, universe: universe)
                #expect(ranks == want, "universe \(universe), \(k) ranks")
            }
        }
        // The bit-set path is taken by these sizes (not vacuous).
        #expect(TraceTables.bitSetFrom(universe: 200_000) <= 1000)
    }

    /// Plain search: pipes draining away from (downstream) or towards (upstream) each reached
    /// node, through the topology's adjacency and the pipes' inverts; stops at pumping stations,
    /// and downstream at outfalls, except at a start.
    static func search(_ t: NetworkTopology, from starts: Set<Int>, _ direction: TraceDirection)
        -> (pipes: [Int64], flat: [Int64], points: [String], terminals: [String])
    {
        var reached = starts, taken = Set<Int>(), flat = Set<Int64>()
        var stack = Array(starts)
        while let v = stack.popLast() {
            let kinds = t.pointIndices(at: v).map { t.points[Int($0)].kind }
            if !starts.contains(v), kinds.contains(.pumpStation) || (direction == .downstream && kinds.contains(.outfall)) { continue }
            for k in t.edges(at: v) {
                let e = Int(k), s = t.segments[e]
                guard let a = s.startInvert, let b = s.endInvert, a != b else {
                    flat.insert(s.id)
                    continue
                }
                let high = Int(a > b ? t.edgeFrom[e] : t.edgeTo[e]), low = Int(a > b ? t.edgeTo[e] : t.edgeFrom[e])
                guard (direction == .downstream ? high : low) == v, taken.insert(e).inserted else { continue }
                let w = direction == .downstream ? low : high
                if reached.insert(w).inserted { stack.append(w) }
            }
        }
        var points: [String] = [], terminals: [String] = []
        for v in reached {
            for i in t.pointIndices(at: v) {
                let p = t.points[Int(i)]
                points.append(p.number.rawValue)
                if p.kind == .outfall || p.kind == .pumpStation { terminals.append(p.number.rawValue) }
            }
        }
        return (taken.map { t.segments[$0].id }.sorted(), flat.sorted(), points.sorted(), terminals.sorted())
    }

    @Test("whole-network and large traces of generated districts equal a plain search", arguments: [(UInt64(3), 20000), (11, 12000)])
    func largeTraces(seed: UInt64, segments: Int) throws {
        let net = DistrictGenerator(segments: segments, seed: seed).district().network
        let t = try NetworkTopology(network: net, scope: .init(layer: .drainage), tolerance: 0.05)
        let outfalls = (0..<t.nodeCount).filter { v in t.pointIndices(at: v).contains { t.points[Int($0)].kind == .outfall } }
        var rng = SplitMix64(seed: seed &* 31)
        var large = 0
        for round in 0..<6 {
            // Every outfall upstream (the whole network), then random halves of all nodes.
            let starts: Set<Int> = round == 0 ? Set(outfalls) : Set((0..<t.nodeCount).filter { _ in rng.next() % 2 == 0 })
            for direction in TraceDirection.allCases {
                let got = try DrainageTrace(topology: t, from: starts.map { .node($0) }, direction: direction)
                let want = Self.search(t, from: starts, direction)
                #expect(got.pipes.map(\.segmentID) == want.pipes, "round \(round) \(direction): pipes")
                #expect(got.indeterminatePipes == want.flat, "round \(round) \(direction): indeterminate")
                #expect(got.points.map(\.rawValue) == want.points, "round \(round) \(direction): points")
                #expect(got.terminals.map(\.rawValue) == want.terminals, "round \(round) \(direction): terminals")
                if got.pipes.count >= TraceTables.bitSetFrom(universe: t.edgeCount) { large += 1 }
            }
        }
        // Not vacuous: the bit-set path built most of these answers.
        #expect(large >= 6, "\(large) answers through the bit sets, \(t.edgeCount) pipes")
    }
}
