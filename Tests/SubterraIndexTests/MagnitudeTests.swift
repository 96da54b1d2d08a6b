import Testing
@testable import SubterraIndex

/// Distances stay right at every magnitude: coordinates up to ±1e308, subnormal spacing, and
/// mixtures (a query at 1e155 against data at 1e6), on packed trees and dynamic snapshots, in
/// every nearest and within form. The oracle works in `Float80` (15-bit exponent: no square of a
/// `Double` overflows or underflows there), so it needs no scaling of its own.
@Suite struct MagnitudeTests {
    /// Point–segment distance in `Float80`, rounded to `Double` (inf only where the true value is
    /// beyond `Double.greatestFiniteMagnitude`).
    static func oracle(_ px: Double, _ py: Double, _ s: Segment) -> Double {
        let x = Float80(px), y = Float80(py)
        let ax = Float80(s.x0), ay = Float80(s.y0), bx = Float80(s.x1), by = Float80(s.y1)
        let dx = bx - ax, dy = by - ay
        let len2 = dx * dx + dy * dy
        var t: Float80 = 0
        if len2 > 0 { t = max(0, min(1, ((x - ax) * dx + (y - ay) * dy) / len2)) }
        let qx = ax + t * dx - x, qy = ay + t * dy - y
        return Double((qx * qx + qy * qy).squareRoot())
    }

    /// Point–box distance in `Float80` (the lower bound the test hands the closure forms is the
    /// index's own `Box.distance(toX:y:)`; this checks it).
    static func oracle(_ px: Double, _ py: Double, _ b: Box) -> Double {
        let x = Float80(px), y = Float80(py)
        let dx = max(0, Float80(b.minX) - x, x - Float80(b.maxX))
        let dy = max(0, Float80(b.minY) - y, y - Float80(b.maxY))
        return Double((dx * dx + dy * dy).squareRoot())
    }

    /// Segments on a 1/16 grid in [-512, 512], scaled by `2^scale` (exact at every scale used:
    /// the grid needs 14 bits, and the smallest scale keeps the spacing at 2^-1070, above the
    /// subnormal step 2^-1074), shifted by `shift` (exact when `shift` is a multiple of the
    /// scaled spacing, as the huge shifts below are).
    static func grid(_ n: Int, scale: Int, shift: Double = 0, seed: UInt64) -> [Segment] {
        var rng = SplitMix64(seed: seed)
        let f = Double(sign: .plus, exponent: scale, significand: 1)
        func g() -> Double { Double(Int.random(in: -8192...8192, using: &rng)) / 16 * f + shift }
        return (0..<n).map { _ in
            let x = g(), y = g()
            let len = Double(Int.random(in: 0...64, using: &rng)) / 16 * f
            return Bool.random(using: &rng) ? Segment(x0: x, y0: y, x1: x + len, y1: y) : Segment(x0: x, y0: y, x1: x, y1: y + len)
        }
    }

    /// `got` is a correct k-nearest answer: ascending, each distance the oracle's (to a few ulps
    /// or the subnormal step), as many as the brute force, and nothing nearer left out.
    static func checkNearest(_ got: [Neighbor], _ segs: [Segment], k: Int, maxDistance: Double = .infinity,
                             x: Double, y: Double, _ label: String) {
        var truth: [(id: UInt32, d: Double)] = []
        for i in segs.indices {
            let d = oracle(x, y, segs[i])
            if d <= maxDistance { truth.append((UInt32(i), d)) }
        }
        truth.sort { a, b in a.d < b.d || (a.d == b.d && a.id < b.id) }
        let want = Array(truth.prefix(k))
        func close(_ a: Double, _ b: Double) -> Bool {
            if a == b { return true }
            let tol: Double = max(abs(a), abs(b)) * 0x1p-48 + 0x1p-1072
            return abs(a - b) <= tol
        }
        #expect(got.count == want.count, "\(label): \(got.count) answers, want \(want.count)")
        var previous = -Double.infinity
        for n in got {
            let d = oracle(x, y, segs[Int(n.id)])
            #expect(close(n.distance, d), "\(label): id \(n.id) reported \(n.distance), oracle \(d)")
            #expect(n.distance >= previous, "\(label): not ascending at id \(n.id)")
            previous = n.distance
        }
        if let last = got.last, got.count == want.count, let kth = want.last {
            #expect(close(oracle(x, y, segs[Int(last.id)]), kth.d), "\(label): k-th answer \(last) vs \(kth)")
        }
    }

    /// Every nearest and within form of `index` against the oracle, around `(x, y)`.
    static func checkAll<Q: SpatialQueries>(_ index: Q, _ segs: [Segment], x: Double, y: Double, _ label: String) {
        let scratch = NearestScratch()
        let exact: (UInt32, Box) -> Double = { id, _ in oracle(x, y, segs[Int(id)]) }
        for k in [1, 7, 40] {
            var plain: [Neighbor] = []
            index.forEachNearest(k: k, maxDistance: .infinity, boxLowerBound: { $0.distance(toX: x, y: y) },
                                 itemDistance: exact, filter: { _ in true }, scratch: scratch) {
                plain.append($0)
                return .continue
            }
            checkNearest(plain, segs, k: k, x: x, y: y, "\(label) plain k=\(k)")
            var squared: [Neighbor] = []
            index.forEachNearest(k: k, maxDistance: .infinity, toX: x, y: y,
                                 itemSquaredDistance: { id, b in let d = exact(id, b); return d * d },
                                 itemDistance: exact, filter: { _ in true }, scratch: scratch) {
                squared.append($0)
                return .continue
            }
            checkNearest(squared, segs, k: k, x: x, y: y, "\(label) squared k=\(k)")
            let sequence = Array(index.nearestSequence(maxDistance: .infinity, boxLowerBound: { $0.distance(toX: x, y: y) },
                                                       exactDistance: { id in exact(id, Box(x: 0, y: 0)) },
                                                       filter: { _ in true }).prefix(k))
            checkNearest(sequence, segs, k: k, x: x, y: y, "\(label) sequence k=\(k)")
        }
        let all = Set(segs.indices.map { UInt32($0) })
        for r in [1e308, Double.greatestFiniteMagnitude, .infinity] {
            // Only items whose true distance is finite and ≤ r qualify.
            let want = Set(segs.indices.filter { oracle(x, y, segs[$0]) <= r }.map { UInt32($0) })
            var closure = Set<UInt32>(), point = Set<UInt32>(), envelope = Set<UInt32>()
            index.forEachWithin(distance: r, boxLowerBound: { $0.distance(toX: x, y: y) }, itemDistance: exact) {
                closure.insert($0.id)
                return .continue
            }
            index.forEachWithin(distance: r, ofX: x, y: y, itemDistance: exact) {
                point.insert($0.id)
                return .continue
            }
            index.forEachWithin(distance: r, envelope: Box(x: x, y: y).expanded(by: r),
                                boxLowerBound: { $0.distance(toX: x, y: y) }, itemDistance: exact) {
                envelope.insert($0.id)
                return .continue
            }
            #expect(closure == want && point == want && envelope == want,
                    "\(label) within \(r): \(closure.count) / \(point.count) / \(envelope.count) of \(want.count)")
            if r == .infinity { #expect(closure == all, "\(label) within inf") }
        }
        // A within radius at the scale of the data: the k=7 distance.
        var seven: [Neighbor] = []
        index.forEachNearest(k: 7, maxDistance: .infinity, boxLowerBound: { $0.distance(toX: x, y: y) },
                             itemDistance: exact, filter: { _ in true }, scratch: scratch) {
            seven.append($0)
            return .continue
        }
        if let r = seven.last?.distance {
            let want = Set(segs.indices.filter { oracle(x, y, segs[$0]) <= r }.map { UInt32($0) })
            var point = Set<UInt32>(), closure = Set<UInt32>()
            index.forEachWithin(distance: r, ofX: x, y: y, itemDistance: exact) {
                point.insert($0.id)
                return .continue
            }
            index.forEachWithin(distance: r, boxLowerBound: { $0.distance(toX: x, y: y) }, itemDistance: exact) {
                closure.insert($0.id)
                return .continue
            }
            #expect(point == want && closure == want, "\(label) within \(r)")
        }
    }

    /// Packed tree, and a dynamic snapshot with items in base, delta and tail and a tombstone.
    static func checkBoth(_ segs: [Segment], queries: [(Double, Double)], _ label: String) throws {
        let items = segs.enumerated().map { (box: $1.box, id: UInt32($0)) }
        let packed = try PackedRTree(items: items, nodeSize: 8)
        let dynamic = try DynamicRTree(items: Array(items.prefix(items.count / 2)), nodeSize: 8, mergeThreshold: 64)
        for it in items.dropFirst(items.count / 2) { try dynamic.insert(id: it.id, box: it.box) }
        for (x, y) in queries {
            checkAll(packed, segs, x: x, y: y, "\(label) packed at (\(x), \(y))")
            checkAll(dynamic.snapshot(), segs, x: x, y: y, "\(label) dynamic at (\(x), \(y))")
        }
    }

    @Test func boxDistancesAreRightAtEveryMagnitude() {
        let cases: [(Box, Double, Double)] = [
            (Box(minX: 1e6, minY: 3e6, maxX: 1e6 + 10, maxY: 3e6), 1e155, 3140200),
            (Box(minX: -1e308, minY: -1e308, maxX: -1e308, maxY: -1e308), 1e308, 1e308),
            (Box(minX: 1e200, minY: 1e200, maxX: 1e200, maxY: 1e200), 0, 0),
            (Box(minX: .leastNonzeroMagnitude, minY: 2 * .leastNonzeroMagnitude, maxX: .leastNonzeroMagnitude, maxY: 2 * .leastNonzeroMagnitude), 0, 0),
            (Box(minX: 3e-160, minY: 4e-160, maxX: 3e-160, maxY: 4e-160), 0, 0),
        ]
        for (b, x, y) in cases {
            let d = b.distance(toX: x, y: y), want = Self.oracle(x, y, b)
            #expect(d == want || abs(d - want) <= want * 0x1p-50 + 0x1p-1074, "\(b) to (\(x), \(y)): \(d) vs \(want)")
            let q = Box(x: x, y: y)
            let bb = b.distance(to: q)
            #expect(bb == want || abs(bb - want) <= want * 0x1p-50 + 0x1p-1074, "\(b) to box (\(x), \(y)): \(bb) vs \(want)")
        }
    }

    @Test func hugeCoordinates() throws {
        // Squares of these distances overflow: 2^950 and 2^1013.
        let big = Self.grid(300, scale: 940, seed: 1)
        try Self.checkBoth(big, queries: [(0, 0), (big[3].x0, big[3].y0 + 0x1p939), (0x1p950, -0x1p948)], "2^940")
        let edge = Self.grid(300, scale: 1013, seed: 2)
        try Self.checkBoth(edge, queries: [(0, 0), (edge[5].x1, edge[5].y1), (-1e308, 1e308)], "±1e308")
    }

    @Test func subnormalSpacing() throws {
        // Coordinates on a 2^-1070 grid up to 2^-1057: every distance is subnormal or near it.
        let tiny = Self.grid(300, scale: -1066, seed: 3)
        try Self.checkBoth(tiny, queries: [(0, 0), (tiny[7].x0, tiny[7].y0), (.leastNonzeroMagnitude, -2 * .leastNonzeroMagnitude), (0x1p-1030, 0)], "subnormal")
        // Distances around 1e-160, where squares underflow, at ordinary coordinates near 0.
        let small = Self.grid(300, scale: -540, seed: 4)
        try Self.checkBoth(small, queries: [(0, 0), (small[9].x0, small[9].y0 + 0x1p-545)], "2^-540")
    }

    @Test func mixtures() throws {
        // Street data at survey coordinates; queries far away (the squared distance overflows)
        // and a second cluster at 1e300.
        var segs = makeSegments(.streets, count: 400, seed: 11)
        try Self.checkBoth(segs, queries: [(1e155, 3_140_200), (-1e300, 1e300), (40_500_100, 3_100_100)], "streets")
        segs += Self.grid(50, scale: 990, seed: 12) + Self.grid(50, scale: -1060, seed: 13)
        try Self.checkBoth(segs, queries: [(1e155, 3_140_200), (0, 0), (1e300, -1e300), (40_500_100, 3_100_100)], "mixed")
    }
}
