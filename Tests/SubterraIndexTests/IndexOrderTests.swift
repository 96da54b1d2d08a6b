import Testing
@testable import SubterraIndex

/// `PackedRTree.indexOrder`, `renumbered(boxes:nodeSize:)` and `leafIDs`: the permutation is a
/// permutation, it is the bulk build's leaf order at every node size, renumbering then building
/// gives leaves in ascending id order, and queries over a renumbered table, translated back, equal
/// brute force over the caller's original ids.
@Suite struct IndexOrderTests {
    static let sizes = [0, 1, 2, 11, 1000, 70_000]  // 70 000: several parallel chunks in the build

    @Test(arguments: DataKind.allCases)
    func orderIsTheBuildsLeafOrderAndRenumberingIsIdempotent(kind: DataKind) throws {
        for n in Self.sizes where !(kind != .streets && n > 1000) {
            let boxes = makeSegments(kind, count: n, seed: 41 &+ UInt64(n)).map(\.box)
            let order = try PackedRTree.indexOrder(boxes: boxes)
            #expect(order.count == n)
            #expect(order.sorted() == (0..<UInt32(n)).map { $0 }, "\(kind) n=\(n): not a permutation")
            for nodeSize in [2, 10, 16] {
                let tree = try PackedRTree(boxes: boxes, nodeSize: nodeSize)
                #expect(tree.leafIDs == order, "\(kind) n=\(n) M=\(nodeSize): order differs from the build's")
            }
            // Renumber the caller's table, build with default ids: leaf order is 0..<n.
            let renumberedBoxes = order.map { boxes[Int($0)] }
            let rebuilt = try PackedRTree(boxes: renumberedBoxes)
            try rebuilt.validate()
            #expect(rebuilt.leafIDs == (0..<UInt32(n)).map { $0 }, "\(kind) n=\(n): leaves not in id order")
            let again = try PackedRTree.indexOrder(boxes: renumberedBoxes)
            #expect(again == (0..<UInt32(n)).map { $0 })

            // One-pass form: same order, same boxes, ids 0..<n.
            let (tree, order2) = try PackedRTree.renumbered(boxes: boxes)
            try tree.validate()
            #expect(order2 == order)
            #expect(tree.leafIDs == (0..<UInt32(n)).map { $0 })
            #expect(tree.items.map(\.box) == rebuilt.items.map(\.box))
            #expect(tree.levelCount == rebuilt.levelCount && tree.bounds == rebuilt.bounds)
        }
    }

    /// Queries on a tree built by `renumbered`, refining against the table in leaf order and
    /// translating ids back, equal brute force over the original table (window, within, kNN).
    @Test(arguments: [DataKind.streets, .huge, .identical, .points])
    func renumberedQueriesMatchBruteForce(kind: DataKind) throws {
        let segs = makeSegments(kind, count: 3000, seed: 7)
        let boxes = segs.map(\.box)
        let (tree, order) = try PackedRTree.renumbered(boxes: boxes, nodeSize: 8)
        let table = order.map { segs[Int($0)] }  // the caller's rows in index order
        let items = boxes.enumerated().map { (box: $0.element, id: UInt32($0.offset)) }
        let ids = (0..<UInt32(segs.count)).map { $0 }
        let scratch = NearestScratch()
        var rng = SplitMix64(seed: 99)
        for round in 0..<60 {
            let q = queryBox(near: segs, using: &rng)
            let window = tree.intersecting(q).map { order[Int($0)] }
            #expect(window.count == Set(window).count)
            #expect(Set(window) == bruteIntersecting(items, q), "\(kind) window \(q)")

            let p = queryPoint(near: segs, using: &rng)
            let r = [0, 1.5, 5, 40][round % 4]
            let wantWithin = Set(bruteNearest(ids, k: .max, maxDistance: r) { segs[Int($0)].distance(toX: p.x, y: p.y) }.map(\.id))
            var gotWithin = Set<UInt32>()
            tree.forEachWithin(
                distance: r, envelope: Box(minX: p.x - r, minY: p.y - r, maxX: p.x + r, maxY: p.y + r),
                boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                exactDistance: { table[Int($0)].distance(toX: p.x, y: p.y) }
            ) { n in
                gotWithin.insert(order[Int(n.id)])
                return .continue
            }
            #expect(gotWithin == wantWithin, "\(kind) within r=\(r) p=\(p)")

            // kNN: distances must match the oracle exactly; ids may differ only between ties
            // (the tree breaks ties by its own id, i.e. leaf position).
            let k = [1, 10, 50][round % 3]
            let want = bruteNearest(ids, k: k) { segs[Int($0)].distance(toX: p.x, y: p.y) }
            var got: [Neighbor] = []
            tree.forEachNearest(
                k: k, maxDistance: .infinity, boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                exactDistance: { table[Int($0)].distance(toX: p.x, y: p.y) }, filter: { _ in true },
                scratch: scratch
            ) { n in
                got.append(Neighbor(id: order[Int(n.id)], distance: n.distance))
                return .continue
            }
            #expect(got.map(\.distance) == want.map(\.distance), "\(kind) kNN k=\(k) p=\(p)")
            for n in got {
                #expect(segs[Int(n.id)].distance(toX: p.x, y: p.y) == n.distance, "translated id \(n.id) has another distance")
            }
            #expect(Set(got.map(\.id)).count == got.count)
        }
    }

    @Test func invalidBoxesAreRefusedNamingTheItem() throws {
        var boxes = makeSegments(.uniform, count: 50, seed: 3).map(\.box)
        boxes[17] = Box(minX: 5, minY: .nan, maxX: 6, maxY: 7)
        #expect {
            _ = try PackedRTree.indexOrder(boxes: boxes)
        } throws: { error in
            guard case IndexError.invalidBox(let index, _, _) = error else { return false }
            return index == 17
        }
        #expect(throws: IndexError.self) { _ = try PackedRTree.renumbered(boxes: boxes) }
        let none = try PackedRTree.indexOrder(boxes: [])
        #expect(none.isEmpty)
        let (empty, order) = try PackedRTree.renumbered(boxes: [])
        #expect(empty.isEmpty && order.isEmpty && empty.leafIDs.isEmpty)
    }
}
