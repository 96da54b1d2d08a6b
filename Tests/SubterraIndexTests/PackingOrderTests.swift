import Testing
@testable import SubterraIndex

/// The bulk build's top-down leaf order (`PackedRTree+Packing.swift`): every item once, the
/// implicit node-full layout, one answer whatever the cores and the input's history, the split rule
/// on data whose answer is known, and exact queries on degenerate data at the sizes around node
/// boundaries.
@Suite struct PackingOrderTests {
    static let sizes = [1, 2, 15, 16, 17, 255, 256, 257, 4097]
    static func identity(_ n: Int) -> [UInt32] { (0..<UInt32(n)).map { $0 } }

    @Test(arguments: [DataKind.uniform, .streets, .identical, .oneLine, .points])
    func everyItemOnceInTheNodeFullLayoutAndRenumberingIsTheIdentity(kind: DataKind) throws {
        for n in Self.sizes {
            let boxes = makeSegments(kind, count: n, seed: 5 &+ UInt64(n)).map(\.box)
            for nodeSize in [2, 3, 16] {
                let order = try PackedRTree.indexOrder(boxes: boxes, nodeSize: nodeSize)
                #expect(order.sorted() == Self.identity(n), "\(kind) n=\(n) M=\(nodeSize): not a permutation")
                let tree = try PackedRTree(boxes: boxes, nodeSize: nodeSize)
                try tree.validate()  // level table of full nodes, each node the union of its children
                #expect(tree.leafIDs == order)
                #expect(tree.items.map(\.box) == order.map { boxes[Int($0)] })
                let again = try PackedRTree(boxes: boxes, nodeSize: nodeSize)
                #expect(again.items.map(\.box) == tree.items.map(\.box) && again.leafIDs == tree.leafIDs)
                let renumbered = order.map { boxes[Int($0)] }
                #expect(try PackedRTree.indexOrder(boxes: renumbered, nodeSize: nodeSize) == Self.identity(n),
                        "\(kind) n=\(n) M=\(nodeSize): packing the packed order moved items")
            }
        }
    }

    /// Top splits on several cores: the same order as one core (70 000 items make subtrees large
    /// enough to be handed out), for any number of subtrees.
    @Test(arguments: [DataKind.uniform, .streets, .identical])
    func orderDoesNotDependOnTheCores(kind: DataKind) throws {
        let n = 70_000
        #expect(n >= 2 * PackedRTree._parallelPackMinimum)
        let boxes = makeSegments(kind, count: n, seed: 77).map(\.box)
        let one = try PackedRTree._leafOrder(boxes, nodeSize: 16, parallelism: 1)
        #expect(one.sorted() == Self.identity(n))
        for cores in [2, 3, 8] {
            let many = try PackedRTree._leafOrder(boxes, nodeSize: 16, parallelism: cores)
            #expect(many == one, "\(kind): \(cores) cores give another order")
        }
        let renumbered = one.map { boxes[Int($0)] }
        #expect(try PackedRTree._leafOrder(renumbered, nodeSize: 16) == Self.identity(n))
    }

    /// Where the split rule fixes the answer: identical boxes keep input order; distinct points on a
    /// line (horizontal, vertical, diagonal) fill the leaves in order along it, since each split puts
    /// the smaller coordinates first, and each leaf keeps its items in input order.
    @Test func knownOrders() throws {
        for n in Self.sizes + [1000] {
            let same = [Box](repeating: Box(minX: 3, minY: 4, maxX: 5, maxY: 4), count: n)
            #expect(try PackedRTree.indexOrder(boxes: same) == Self.identity(n), "identical n=\(n)")

            var rng = SplitMix64(seed: UInt64(n))
            let steps = Self.identity(n).shuffled(using: &rng).map { Double($0) * 2.5 }
            let lines: [(String, (Double) -> Box)] = [
                ("horizontal", { Box(x: 1000 + $0, y: 7) }),
                ("vertical", { Box(x: -3, y: $0 - 50) }),
                ("diagonal", { Box(minX: $0, minY: $0, maxX: $0 + 1, maxY: $0 + 1) }),
            ]
            for (name, box) in lines {
                let boxes = steps.map(box)
                for nodeSize in [2, 16] {
                    // Leaf nodes (runs of nodeSize) come in order along the line, each in input order.
                    let order = try PackedRTree.indexOrder(boxes: boxes, nodeSize: nodeSize)
                    let leaves = stride(from: 0, to: n, by: nodeSize).map { Array(order[$0..<Swift.min(n, $0 + nodeSize)]) }
                    let along = leaves.map { $0.map { steps[Int($0)] } }
                    #expect(along.flatMap { $0.sorted() } == steps.sorted(), "\(name) n=\(n) M=\(nodeSize): leaves out of order along the line")
                    #expect(leaves.allSatisfy { $0 == $0.sorted() }, "\(name) n=\(n) M=\(nodeSize): a leaf not in input order")
                }
            }
        }
    }

    /// Window, within-distance and kNN on degenerate data at node-boundary sizes equal brute force.
    @Test(arguments: [DataKind.identical, .oneLine, .points, .uniform])
    func degenerateDataAnswersEqualBruteForce(kind: DataKind) throws {
        for n in Self.sizes {
            var segs = makeSegments(kind, count: n, seed: 11 &+ UInt64(n))
            if kind == .points {  // collinear points: every centre on one vertical line
                segs = segs.map { Segment(x0: 3, y0: $0.y0, x1: 3, y1: $0.y0) }
            }
            let items = segs.enumerated().map { (box: $0.element.box, id: UInt32($0.offset)) }
            let ids = Self.identity(n)
            let scratch = NearestScratch()
            var rng = SplitMix64(seed: 3)
            for nodeSize in [2, 16] {
                let tree = try PackedRTree(items: items, nodeSize: nodeSize)
                try tree.validate()
                for round in 0..<30 {
                    let q = queryBox(near: segs, using: &rng)
                    let window = tree.intersecting(q)
                    #expect(window.count == Set(window).count)
                    #expect(Set(window) == bruteIntersecting(items, q), "\(kind) n=\(n) window \(q)")

                    let p = queryPoint(near: segs, using: &rng)
                    let r = [0, 1.5, 40][round % 3]
                    let want = Set(bruteNearest(ids, k: .max, maxDistance: r) { segs[Int($0)].distance(toX: p.x, y: p.y) }.map(\.id))
                    var got = Set<UInt32>()
                    tree.forEachWithin(
                        distance: r, envelope: Box(minX: p.x - r, minY: p.y - r, maxX: p.x + r, maxY: p.y + r),
                        boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                        exactDistance: { segs[Int($0)].distance(toX: p.x, y: p.y) }
                    ) { neighbor in
                        got.insert(neighbor.id)
                        return .continue
                    }
                    #expect(got == want, "\(kind) n=\(n) within r=\(r) p=\(p)")

                    let k = [1, 10, 20][round % 3]
                    let wantK = bruteNearest(ids, k: k) { segs[Int($0)].distance(toX: p.x, y: p.y) }
                    var gotK: [Neighbor] = []
                    tree.forEachNearest(
                        k: k, maxDistance: .infinity, boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                        exactDistance: { segs[Int($0)].distance(toX: p.x, y: p.y) }, filter: { _ in true },
                        scratch: scratch
                    ) { neighbor in
                        gotK.append(neighbor)
                        return .continue
                    }
                    // Distances exactly; ids may differ only between equal distances.
                    #expect(gotK.map(\.distance) == wantK.map(\.distance), "\(kind) n=\(n) kNN k=\(k) p=\(p)")
                    #expect(Set(gotK.map(\.id)).count == gotK.count)
                    for g in gotK { #expect(segs[Int(g.id)].distance(toX: p.x, y: p.y) == g.distance) }
                }
            }
        }
    }
}
