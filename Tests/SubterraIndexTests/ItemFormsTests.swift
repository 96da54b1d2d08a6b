import Foundation
import Testing
@testable import SubterraIndex

/// The item forms (`forEachIntersecting(_:items:)`, `forEachWithin(…itemDistance:…)`,
/// `forEachNearest(…itemDistance:…)`) hand the refinement the item's box as built, on packed trees
/// with explicit or positional ids and on dynamic snapshots whose items sit in the base, the delta
/// and the tail (with tombstones); and a caller that rebuilds its segment from that box alone (a
/// straight segment is one of its box's diagonals) gets answers equal to brute force.
@Suite struct ItemFormsTests {
    /// The segment whose box is `box`, its endpoints at the corners `segs[id]` uses (the caller's
    /// two bits per segment), so the rebuild is exact.
    static func segment(from box: Box, like s: Segment) -> Segment {
        let xSwap = s.x0 > s.x1, ySwap = s.y0 > s.y1
        return Segment(x0: xSwap ? box.maxX : box.minX, y0: ySwap ? box.maxY : box.minY,
                       x1: xSwap ? box.minX : box.maxX, y1: ySwap ? box.minY : box.maxY)
    }

    /// Every query kind on `index` against brute force over `live` (id → segment), refining from
    /// the handed box only, and checking that box is the item's.
    static func check<Q: SpatialQueries>(_ index: Q, live: [UInt32: Segment], label: String, rounds: Int = 40) {
        let segs = Array(live.values)
        let items = live.map { (box: $0.value.box, id: $0.key) }
        let ids = Array(live.keys)
        var rng = SplitMix64(seed: 5)
        let scratch = NearestScratch()
        var wrongBoxes = 0
        func rebuilt(_ id: UInt32, _ box: Box) -> Segment {
            guard let s = live[id] else {
                wrongBoxes += 1
                return Segment(x0: .nan, y0: .nan, x1: .nan, y1: .nan)
            }
            if box != s.box { wrongBoxes += 1 }
            return segment(from: box, like: s)
        }
        for round in 0..<rounds {
            let q = queryBox(near: segs, using: &rng)
            var window = Set<UInt32>()
            index.forEachIntersecting(q, items: { id, box in
                _ = rebuilt(id, box)
                window.insert(id)
                return .continue
            })
            #expect(window == bruteIntersecting(items, q), "\(label) window \(q)")

            let p = queryPoint(near: segs, using: &rng)
            let r = [0, 1.5, 5, 40][round % 4]
            let want = Set(bruteNearest(ids, k: .max, maxDistance: r) { live[$0]!.distance(toX: p.x, y: p.y) }.map(\.id))
            var closure = Set<UInt32>(), envelope = Set<UInt32>(), point = Set<UInt32>()
            index.forEachWithin(distance: r, boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                                itemDistance: { rebuilt($0, $1).distance(toX: p.x, y: p.y) }) {
                closure.insert($0.id)
                return .continue
            }
            index.forEachWithin(distance: r, envelope: Box(minX: p.x - r, minY: p.y - r, maxX: p.x + r, maxY: p.y + r),
                                boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                                itemDistance: { rebuilt($0, $1).distance(toX: p.x, y: p.y) }) {
                envelope.insert($0.id)
                return .continue
            }
            index.forEachWithin(distance: r, ofX: p.x, y: p.y, itemDistance: { rebuilt($0, $1).distance(toX: p.x, y: p.y) }) {
                point.insert($0.id)
                return .continue
            }
            #expect(closure == want && envelope == want && point == want, "\(label) within \(r) of \(p)")

            let k = [1, 10, 100][round % 3]
            let wantNearest = bruteNearest(ids, k: k) { live[$0]!.distance(toX: p.x, y: p.y) }
            var got: [Neighbor] = []
            index.forEachNearest(k: k, maxDistance: .infinity, boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                                 itemDistance: { rebuilt($0, $1).distance(toX: p.x, y: p.y) },
                                 filter: { _ in true }, scratch: scratch) {
                got.append($0)
                return .continue
            }
            #expect(got == wantNearest, "\(label) kNN k=\(k) at \(p)")
            // Squared form: same order (squaring is strictly monotone on doubles) and the same
            // distances (the root of a rounded square is the number squared).
            var squared: [Neighbor] = []
            index.forEachNearest(k: k, maxDistance: .infinity, toX: p.x, y: p.y,
                                 itemSquaredDistance: { id, box in
                                     let d = rebuilt(id, box).distance(toX: p.x, y: p.y)
                                     return d * d
                                 },
                                 itemDistance: { rebuilt($0, $1).distance(toX: p.x, y: p.y) },
                                 filter: { _ in true }, scratch: scratch) {
                squared.append($0)
                return .continue
            }
            #expect(squared == wantNearest, "\(label) squared kNN k=\(k) at \(p)")
        }
        #expect(wrongBoxes == 0, "\(label): \(wrongBoxes) refinements were handed a box that is not the item's")
    }

    @Test(arguments: [DataKind.streets, .huge, .identical, .oneLine])
    func packedTreesHandTheBuiltBox(kind: DataKind) throws {
        let segs = makeSegments(kind, count: 2500, seed: 17)
        // Explicit, sparse ids.
        let ids = (0..<UInt32(segs.count)).map { $0 &* 3 &+ 1 }
        let explicit = try PackedRTree(boxes: segs.map(\.box), ids: ids, nodeSize: 7)
        #expect(!explicit.idsAreLeafPositions)
        Self.check(explicit, live: Dictionary(uniqueKeysWithValues: zip(ids, segs)), label: "\(kind) explicit ids")
        // Positional ids (leaf order): the table follows the tree.
        let (tree, order) = try PackedRTree.renumbered(boxes: segs.map(\.box))
        #expect(tree.idsAreLeafPositions)
        let table = order.map { segs[Int($0)] }
        Self.check(tree, live: Dictionary(uniqueKeysWithValues: table.enumerated().map { (UInt32($0.offset), $0.element) }),
                   label: "\(kind) positional ids")
    }

    @Test func dynamicSnapshotsHandTheBuiltBoxInEveryTier() throws {
        let segs = makeSegments(.streets, count: 3000, seed: 23)
        var live: [UInt32: Segment] = [:]
        for i in 0..<2000 { live[UInt32(i)] = segs[i] }
        let index = try DynamicRTree(items: live.map { (box: $0.value.box, id: $0.key) }, nodeSize: 6, mergeThreshold: 400)
        var rng = SplitMix64(seed: 3)
        // Enough edits that the delta is built and tombstones exist, few enough that a tail remains.
        for step in 0..<700 {
            let id = UInt32(Int.random(in: 0..<2600, using: &rng))
            let s = segs[Int.random(in: 0..<segs.count, using: &rng)]
            if live[id] == nil {
                try index.insert(id: id, box: s.box)
                live[id] = s
            } else if step % 3 == 0 {
                try index.remove(id: id)
                live[id] = nil
            } else {
                try index.update(id: id, box: s.box)
                live[id] = s
            }
        }
        let snap = index.snapshot()
        try snap.validate()
        #expect(snap.delta.count > 0 && !snap._tail.isEmpty && !(snap._baseDead.isEmpty && snap._deltaDead.isEmpty),
                "the edits should leave items in every tier")
        Self.check(snap, live: live, label: "dynamic")
    }

    @Test func positionalIDsAreNotStoredAndSurviveTheFileFormat() throws {
        let boxes = makeSegments(.streets, count: 5000, seed: 29).map(\.box)
        let (tree, _) = try PackedRTree.renumbered(boxes: boxes)
        let explicit = try PackedRTree(boxes: tree.items.map(\.box), ids: (0..<UInt32(5000)).map { 4999 - $0 })
        #expect(tree.idsAreLeafPositions && !explicit.idsAreLeafPositions)
        #expect(explicit.memoryFootprint - tree.memoryFootprint == 5000 * 4)
        #expect(tree.leafIDs == (0..<UInt32(5000)).map { $0 })
        // Ids that happen to be 0..<n in leaf order are recognised too.
        let again = try PackedRTree(boxes: tree.items.map(\.box), ids: tree.leafIDs)
        #expect(again.idsAreLeafPositions)
        let back = try PackedRTree(serialized: tree.serialized())
        #expect(back.idsAreLeafPositions && back.leafIDs == tree.leafIDs && back.items.map(\.box) == tree.items.map(\.box))
        try back.validate()
    }

    /// The squared form with `maxDistance` (an item exactly at it counts, one a hair beyond does
    /// not) and a filter, at home and at 1e100 m (squares near 1e204, still exact).
    @Test(arguments: [1.0, 1e100])
    func squaredNearestHonoursMaxDistanceFiltersAndFarCoordinates(scale: Double) throws {
        let segs = makeSegments(.uniform, count: 3000, seed: 31).map {
            Segment(x0: $0.x0 * scale, y0: $0.y0 * -scale, x1: $0.x1 * scale, y1: $0.y1 * -scale)
        }
        let tree = try PackedRTree(boxes: segs.map(\.box))
        let ids = (0..<UInt32(segs.count)).map { $0 }
        let scratch = NearestScratch()
        var rng = SplitMix64(seed: 77)
        for round in 0..<40 {
            let p = (x: scale * Double.random(in: 0..<1000, using: &rng), y: -scale * Double.random(in: 0..<1000, using: &rng))
            let dist = { (id: UInt32) in segs[Int(id)].distance(toX: p.x, y: p.y) }
            let all = bruteNearest(ids, k: 30, distance: dist)
            // maxDistance exactly at the 20th answer: it is in, the 21st (farther) is not.
            let cut = all[19].distance
            let even = { (id: UInt32) in id % 2 == 0 }
            for (maxDistance, filter) in [(cut, { (_: UInt32) in true }), (cut.nextDown, { _ in true }), (Double.infinity, even)] {
                let want = bruteNearest(ids, k: 25, maxDistance: maxDistance, filter: filter, distance: dist)
                var got: [Neighbor] = []
                tree.forEachNearest(k: 25, maxDistance: maxDistance, toX: p.x, y: p.y,
                                    itemSquaredDistance: { id, _ in dist(id) * dist(id) },
                                    itemDistance: { id, _ in dist(id) }, filter: filter, scratch: scratch) {
                    got.append($0)
                    return .continue
                }
                #expect(got.map(\.id) == want.map(\.id), "scale \(scale) round \(round) max \(maxDistance)")
                #expect(got == want)
            }
        }
    }
}
