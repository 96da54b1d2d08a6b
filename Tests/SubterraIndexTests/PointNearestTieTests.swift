import Testing
@testable import SubterraIndex

/// The squared point-nearest search (`forEachNearest(toX:y:itemSquaredDistance:…)`) must give
/// brute force's exact list (ascending distance, ties by ascending id) on tie-heavy data, on a
/// packed tree and on every tier of a dynamic snapshot, with filters, distance caps, zero
/// distances (the plain-distance fallback), re-entrant scratch use and early stops.
@Suite struct PointNearestTieTests {
    /// Unit squares on an integer grid, many at equal distance from any grid-aligned query.
    static func grid(_ n: Int, seed: UInt64) -> [(box: Box, id: UInt32)] {
        var rng = SplitMix64(seed: seed)
        return (0..<n).map { i in
            let x = Double(Int.random(in: 0..<120, using: &rng)), y = Double(Int.random(in: 0..<120, using: &rng))
            let w = Double(Int.random(in: 0...2, using: &rng)), h = Double(Int.random(in: 0...2, using: &rng))
            return (Box(minX: x, minY: y, maxX: x + w, maxY: y + h), UInt32(i * 3 + 1))
        }
    }

    /// Exact point–box distance, squared (boxes here stand for the items themselves).
    static func squared(_ b: Box, _ x: Double, _ y: Double) -> Double { b.squaredDistance(toX: x, y: y) }

    func collect(
        _ search: (Int, Double, (UInt32) -> Bool, (Neighbor) -> SearchControl) -> Void,
        k: Int, maxDistance: Double, filter: @escaping (UInt32) -> Bool, stopAfter: Int = .max
    ) -> [Neighbor] {
        var out: [Neighbor] = []
        search(k, maxDistance, filter) { n in
            out.append(n)
            return out.count == stopAfter ? .stop : .continue
        }
        return out
    }

    @Test func packedMatchesBruteForce() throws {
        let items = Self.grid(5000, seed: 11)
        let tree = try PackedRTree(items: items, nodeSize: 8)
        let boxOf = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.box) })
        let scratch = NearestScratch()
        var rng = SplitMix64(seed: 12)
        for round in 0..<300 {
            // Grid-aligned and half-way queries (exact ties), and some far outside.
            let x = Double(Int.random(in: -20..<140, using: &rng)) + [0, 0.5][round % 2]
            let y = Double(Int.random(in: -20..<140, using: &rng)) + [0, 0.5][round / 2 % 2]
            let k = [1, 2, 10, 31, 32, 33, 64][round % 7]
            let maxDistance = [Double.infinity, 3, 0.5, 1e-300][round % 4]
            let filter: (UInt32) -> Bool = round % 3 == 0 ? { _ in true } : { $0 % 7 != 1 }
            let got = collect({ k, m, f, body in
                tree.forEachNearest(k: k, maxDistance: m, toX: x, y: y,
                                    itemSquaredDistance: { _, b in Self.squared(b, x, y) },
                                    itemDistance: { _, b in b.distance(toX: x, y: y) },
                                    filter: f, scratch: scratch, body)
            }, k: k, maxDistance: maxDistance, filter: filter)
            let want = bruteNearest(items.map(\.id), k: k, maxDistance: maxDistance, filter: filter) {
                boxOf[$0]!.distance(toX: x, y: y)
            }
            #expect(got == want, "k=\(k) max=\(maxDistance) at (\(x), \(y))")
        }
    }

    @Test func dynamicSnapshotTiersMatchBruteForce() throws {
        var items = Self.grid(3000, seed: 21)
        let index = try DynamicRTree(items: items, nodeSize: 6, mergeThreshold: 400)
        var rng = SplitMix64(seed: 22)
        // Removals and moves leave tombstones in the base, a delta and a tail.
        var edits: [IndexEdit] = []
        for i in stride(from: 0, to: 600, by: 3) { edits.append(.remove(id: items[i].id)) }
        for i in stride(from: 1, to: 300, by: 3) {
            let b = Box(minX: items[i].box.minX + 0.5, minY: items[i].box.minY, maxX: items[i].box.maxX + 0.5,
                        maxY: items[i].box.maxY)
            edits.append(.update(id: items[i].id, box: b))
            items[i].box = b
        }
        try index.apply(edits)
        for j in 0..<40 {
            let b = Box(minX: Double(j), minY: Double(j % 7), maxX: Double(j) + 1, maxY: Double(j % 7))
            try index.apply([.insert(id: 100_000 + UInt32(j), box: b)])
            items.append((b, 100_000 + UInt32(j)))
        }
        let removed = Set(stride(from: 0, to: 600, by: 3).map { items[$0].id })
        let live = items.filter { !removed.contains($0.id) }
        let boxOf = Dictionary(uniqueKeysWithValues: live.map { ($0.id, $0.box) })
        let snap = index.snapshot()
        #expect(!snap._tail.isEmpty, "the edits should leave a tail")
        let scratch = NearestScratch()
        for round in 0..<200 {
            let x = Double(Int.random(in: -5..<125, using: &rng)), y = Double(Int.random(in: -5..<125, using: &rng))
            let k = [1, 5, 32, 33, 100][round % 5]
            let filter: (UInt32) -> Bool = round % 2 == 0 ? { _ in true } : { $0 % 2 == 0 }
            let got = collect({ k, m, f, body in
                snap.forEachNearest(k: k, maxDistance: m, toX: x, y: y,
                                    itemSquaredDistance: { _, b in Self.squared(b, x, y) },
                                    itemDistance: { _, b in b.distance(toX: x, y: y) },
                                    filter: f, scratch: scratch, body)
            }, k: k, maxDistance: .infinity, filter: filter)
            let want = bruteNearest(live.map(\.id), k: k, filter: filter) { boxOf[$0]!.distance(toX: x, y: y) }
            #expect(got == want, "k=\(k) at (\(x), \(y))")
        }
    }

    /// A query on an item (squared distance 0, untrustworthy) falls back to plain distances;
    /// a search started inside another's callback with the same scratch gets its own memory;
    /// `.stop` ends the report.
    @Test func zeroDistancesReentrancyAndStop() throws {
        let items = Self.grid(2000, seed: 31)
        let tree = try PackedRTree(items: items, nodeSize: 16)
        let boxOf = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.box) })
        let scratch = NearestScratch()
        let p = items[17].box
        let want = bruteNearest(items.map(\.id), k: 12) { boxOf[$0]!.distance(toX: p.minX, y: p.minY) }
        #expect(want[0].distance == 0)
        var outer: [Neighbor] = [], inner: [[Neighbor]] = []
        tree.forEachNearest(k: 12, toX: p.minX, y: p.minY,
                            itemSquaredDistance: { _, b in Self.squared(b, p.minX, p.minY) },
                            itemDistance: { _, b in b.distance(toX: p.minX, y: p.minY) },
                            scratch: scratch) { n in
            outer.append(n)
            var nested: [Neighbor] = []
            let q = boxOf[n.id]!
            tree.forEachNearest(k: 3, toX: q.maxX + 0.25, y: q.maxY + 0.25,
                                itemSquaredDistance: { _, b in Self.squared(b, q.maxX + 0.25, q.maxY + 0.25) },
                                itemDistance: { _, b in b.distance(toX: q.maxX + 0.25, y: q.maxY + 0.25) },
                                scratch: scratch) { nested.append($0); return .continue }
            inner.append(nested)
            return .continue
        }
        #expect(outer == want)
        for (n, nested) in zip(outer, inner) {
            let q = boxOf[n.id]!
            #expect(nested == bruteNearest(items.map(\.id), k: 3) { boxOf[$0]!.distance(toX: q.maxX + 0.25, y: q.maxY + 0.25) })
        }
        var stopped: [Neighbor] = []
        tree.forEachNearest(k: 20, toX: 60.5, y: 60.5,
                            itemSquaredDistance: { _, b in Self.squared(b, 60.5, 60.5) },
                            itemDistance: { _, b in b.distance(toX: 60.5, y: 60.5) },
                            scratch: scratch) { stopped.append($0); return stopped.count == 4 ? .stop : .continue }
        #expect(stopped == Array(bruteNearest(items.map(\.id), k: 4) { boxOf[$0]!.distance(toX: 60.5, y: 60.5) }))
    }
}
