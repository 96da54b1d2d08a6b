import Testing
@testable import SubterraIndex

@Suite struct PackedRTreeTests {
    static let sizes: [(DataKind, Int)] = [
        (.uniform, 3000), (.streets, 4000), (.points, 2000), (.identical, 1500), (.oneLine, 2000), (.huge, 3000),
        (.uniform, 0), (.uniform, 1), (.streets, 17),
    ]

    @Test(arguments: [2, 3, 16, 64])
    func windowQueriesMatchBruteForce(nodeSize: Int) throws {
        for (kind, n) in Self.sizes {
            let segs = makeSegments(kind, count: n, seed: UInt64(n * 31 + nodeSize))
            let items = segs.enumerated().map { (box: $0.element.box, id: UInt32($0.offset * 3 + 1)) }
            let tree = try PackedRTree(items: items, nodeSize: nodeSize)
            try tree.validate()
            #expect(tree.count == n)
            var rng = SplitMix64(seed: 99)
            for _ in 0..<60 {
                let q = queryBox(near: segs, using: &rng)
                let got = tree.intersecting(q)
                #expect(got.count == Set(got).count, "duplicate hits")
                #expect(Set(got) == bruteIntersecting(items, q), "\(kind) n=\(n) M=\(nodeSize) q=\(q)")
                // Refined by an exact predicate (segment endpoint inside the window).
                let pred: (UInt32) -> Bool = { id in
                    let s = segs[Int(id - 1) / 3]
                    return q.contains(x: s.x0, y: s.y0)
                }
                #expect(Set(tree.intersecting(q, where: pred)) == bruteIntersecting(items, q).filter(pred))
            }
        }
    }

    @Test func earlyStopAndNaNQuery() throws {
        let segs = makeSegments(.identical, count: 500, seed: 1)
        let tree = try PackedRTree(boxes: segs.map(\.box))
        var seen = 0
        tree.forEachIntersecting(Box(minX: 0, minY: 0, maxX: 100, maxY: 100)) { _ in
            seen += 1
            return seen == 3 ? .stop : .continue
        }
        #expect(seen == 3)
        #expect(tree.intersecting(Box(minX: .nan, minY: 0, maxX: 100, maxY: 100)).isEmpty)
        // Touching edges count; a query just outside does not.
        #expect(tree.intersecting(Box(x: 30, y: 20)).count == 500)
        #expect(tree.intersecting(Box(x: 30.000001, y: 20)).isEmpty)
    }

    @Test(arguments: DataKind.allCases)
    func nearestAndWithinMatchBruteForce(kind: DataKind) throws {
        for n in [0, 1, 5, 2500] {
            let segs = makeSegments(kind, count: n, seed: UInt64(n) &+ 7)
            let tree = try PackedRTree(boxes: segs.map(\.box))
            let ids = (0..<UInt32(n)).map { $0 }
            var rng = SplitMix64(seed: 5)
            for round in 0..<40 {
                let p = queryPoint(near: segs, using: &rng)
                let exact: (UInt32) -> Double = { segs[Int($0)].distance(toX: p.x, y: p.y) }
                for k in [0, 1, 10, n + 3] {
                    let maxD = round % 3 == 0 ? 25.0 : .infinity
                    let got = tree.nearest(k: k, toX: p.x, y: p.y, maxDistance: maxD, exactDistance: exact)
                    let want = bruteNearest(ids, k: k, maxDistance: maxD, distance: exact)
                    #expect(got == want, "\(kind) n=\(n) k=\(k) p=\(p)")
                }
                // Filter: only ids divisible by 3 ("gas mains").
                let f: (UInt32) -> Bool = { $0 % 3 == 0 }
                #expect(tree.nearest(k: 7, toX: p.x, y: p.y, exactDistance: exact, filter: f)
                        == bruteNearest(ids, k: 7, filter: f, distance: exact))
                // Incremental iterator: a prefix of the full ordering.
                let seq = Array(tree.nearestSequence(boxLowerBound: { $0.distance(toX: p.x, y: p.y) },
                                                     exactDistance: exact).prefix(30))
                #expect(seq == bruteNearest(ids, k: 30, distance: exact))
                // Within distance, point and box forms.
                for d in [0.0, 1.5, 5, 40] {
                    let got = tree.within(distance: d, ofX: p.x, y: p.y, exactDistance: exact)
                    let want = ids.map { Neighbor(id: $0, distance: exact($0)) }.filter { $0.distance <= d }
                    #expect(Set(got) == Set(want), "\(kind) n=\(n) d=\(d)")
                    let qb = Box(minX: p.x, minY: p.y, maxX: p.x + 12, maxY: p.y + 3)
                    let boxExact: (UInt32) -> Double = { segs[Int($0)].box.distance(to: qb) }
                    let gotB = tree.within(distance: d, of: qb, exactDistance: boxExact)
                    let wantB = ids.map { Neighbor(id: $0, distance: boxExact($0)) }.filter { $0.distance <= d }
                    #expect(Set(gotB) == Set(wantB))
                }
            }
        }
    }

    @Test func thousandsOfEqualDistancesAreOrderedByID() throws {
        // 4000 identical points plus 4 at exactly equal distance on the axes.
        var boxes = [Box](repeating: Box(x: 100, y: 100), count: 4000)
        boxes += [Box(x: 103, y: 100), Box(x: 97, y: 100), Box(x: 100, y: 103), Box(x: 100, y: 97)]
        let ids = (0..<UInt32(boxes.count)).reversed().map { $0 }  // ids descending vs input order
        let tree = try PackedRTree(boxes: boxes, ids: ids, nodeSize: 8)
        let exact: (UInt32) -> Double = { id in
            let b = boxes[Int(UInt32(boxes.count - 1) - id)]
            return b.distance(toX: 100, y: 100)
        }
        let got = tree.nearest(k: 4004, toX: 100, y: 100, exactDistance: exact)
        #expect(got.map(\.id) == (4...4003).map { UInt32($0) } + [0, 1, 2, 3])
        #expect(got.last?.distance == 3)
        let far = tree.nearest(k: 3, toX: 1e7, y: -1e7, exactDistance: { id in
            boxes[Int(UInt32(boxes.count - 1) - id)].distance(toX: 1e7, y: -1e7)
        })
        #expect(far == bruteNearest(ids, k: 3) { boxes[Int(UInt32(boxes.count - 1) - $0)].distance(toX: 1e7, y: -1e7) })
    }

    @Test func buildRefusesBadInputNamingTheItem() throws {
        var boxes = makeSegments(.uniform, count: 100, seed: 3).map(\.box)
        boxes[7].minX = .nan
        #expect(throws: IndexError.self) { try PackedRTree(boxes: boxes) }
        do {
            _ = try PackedRTree(boxes: boxes)
        } catch let IndexError.invalidBox(index, _, reason) {
            #expect(index == 7)
            #expect(reason.contains("NaN"))
        }
        boxes[7].minX = 0
        boxes[42].maxY = .infinity
        do { _ = try PackedRTree(boxes: boxes) } catch let IndexError.invalidBox(index, _, reason) {
            #expect(index == 42 && reason.contains("infinite"))
        }
        boxes[42] = Box(minX: 5, minY: 5, maxX: 4, maxY: 6)
        do { _ = try PackedRTree(boxes: boxes) } catch let e as IndexError {
            #expect(e == .invalidBox(index: 42, box: boxes[42], reason: "minX 5.0 > maxX 4.0"))
            #expect(e.description.contains("item 42"))
        }
        boxes[42] = Box(x: 1, y: 1)
        #expect(throws: IndexError.invalidNodeSize(1)) { try PackedRTree(boxes: boxes, nodeSize: 1) }
        #expect(throws: IndexError.lengthMismatch(boxes: 100, ids: 2)) { try PackedRTree(boxes: boxes, ids: [1, 2]) }
        #expect(throws: Never.self) { try PackedRTree(boxes: boxes, nodeSize: 2).validate() }
    }

    @Test func extremeFiniteCoordinatesDoNotCrash() throws {
        let big = Double.greatestFiniteMagnitude
        let boxes = [Box(minX: -big, minY: -big, maxX: big, maxY: big), Box(x: big, y: big), Box(x: -big, y: 0),
                     Box(x: 0, y: 0), Box(minX: 1, minY: 1, maxX: 2, maxY: 2)]
        let tree = try PackedRTree(boxes: boxes, nodeSize: 2)
        try tree.validate()
        #expect(Set(tree.intersecting(Box(x: 0, y: 0))) == [0, 3])
        #expect(Set(tree.intersecting(Box(x: big, y: big))) == [0, 1])
        let near = tree.nearest(k: 2, toX: 1.5, y: 1.5) { boxes[Int($0)].distance(toX: 1.5, y: 1.5) }
        #expect(near.map(\.id) == [0, 4])
    }

    @Test func validateDetectsBrokenTrees() throws {
        let tree = try PackedRTree(boxes: makeSegments(.streets, count: 300, seed: 4).map(\.box))
        var boxes = tree._boxes.array
        boxes[boxes.count - 2].maxX += 1  // an internal node no longer equals its children's union
        let broken = PackedRTree(_boxes: boxes, _ids: tree.leafIDs, _levelEnds: tree._levelEnds, nodeSize: tree.nodeSize)
        #expect(throws: IndexError.self) { try broken.validate() }
        let wrongLevels = PackedRTree(_boxes: tree._boxes, _ids: tree.leafIDs, _levelEnds: [300, 320], nodeSize: tree.nodeSize)
        #expect(throws: IndexError.self) { try wrongLevels.validate() }
    }

    @Test func hilbertKeysWalkAdjacentCells() {
        // On a 2^16 grid the curve visits every cell once and consecutive cells are neighbours;
        // check the 64×64 corner block, which the curve fills completely before leaving.
        var byKey: [UInt32: (Int, Int)] = [:]
        for x in 0..<64 { for y in 0..<64 { byKey[_hilbert(UInt32(x), UInt32(y))] = (x, y) } }
        #expect(byKey.count == 4096)
        #expect(Set(byKey.keys) == Set((0..<4096).map { UInt32($0) }))
        for k in 1..<4096 {
            let a = byKey[UInt32(k - 1)]!, b = byKey[UInt32(k)]!
            #expect(abs(a.0 - b.0) + abs(a.1 - b.1) == 1)
        }
    }

    @Test func radixSortIsStableAndSorted() {
        var rng = SplitMix64(seed: 11)
        var keys = (0..<20000).map { UInt64(UInt32.random(in: 0..<5000, using: &rng)) << 32 | UInt64($0) }
        let want = keys.sorted()
        var scratch = [UInt64](repeating: 0, count: keys.count)
        _radixSortByHighWord(&keys, scratch: &scratch)
        #expect(keys == want)
    }
}

@Suite struct NearestScratchTests {
    @Test func reusedAndReentrantScratchGiveTheSameAnswers() throws {
        let segs = makeSegments(.streets, count: 3000, seed: 12)
        let tree = try PackedRTree(boxes: segs.map(\.box))
        let ids = (0..<UInt32(segs.count)).map { $0 }
        let scratch = NearestScratch()
        var rng = SplitMix64(seed: 4)
        for _ in 0..<50 {
            let p = queryPoint(near: segs, using: &rng)
            let exact: (UInt32) -> Double = { segs[Int($0)].distance(toX: p.x, y: p.y) }
            var outer: [Neighbor] = []
            tree.forEachNearest(k: 20, bound: PointDistanceBound(x: p.x, y: p.y), exactDistance: exact, scratch: scratch) { n in
                outer.append(n)
                // A nested search on the same scratch must neither corrupt nor see the outer one.
                if outer.count == 3 {
                    var inner: [Neighbor] = []
                    tree.forEachNearest(k: 300, boxLowerBound: { $0.distance(toX: p.x + 5, y: p.y) },
                                        exactDistance: { segs[Int($0)].distance(toX: p.x + 5, y: p.y) },
                                        scratch: scratch) { inner.append($0); return .continue }
                    #expect(inner == bruteNearest(ids, k: 300) { segs[Int($0)].distance(toX: p.x + 5, y: p.y) })
                }
                return .continue
            }
            #expect(outer == bruteNearest(ids, k: 20, distance: exact))
            // Box-to-box bound with the same scratch.
            let q = Box(minX: p.x, minY: p.y, maxX: p.x + 20, maxY: p.y + 20)
            let boxExact: (UInt32) -> Double = { segs[Int($0)].box.distance(to: q) }
            #expect(tree.nearest(k: 15, to: q, exactDistance: boxExact) == bruteNearest(ids, k: 15, distance: boxExact))
        }
    }

    @Test func iteratorWalksEverythingInOrder() throws {
        let segs = makeSegments(.oneLine, count: 700, seed: 2)
        let tree = try PackedRTree(boxes: segs.map(\.box), nodeSize: 5)
        let exact: (UInt32) -> Double = { segs[Int($0)].distance(toX: 2500, y: 9) }
        let all = Array(tree.nearestSequence(boxLowerBound: { $0.distance(toX: 2500, y: 9) }, exactDistance: exact))
        #expect(all == bruteNearest((0..<700).map { UInt32($0) }, k: 700, distance: exact))
        // "Keep going until a gas main": the first id divisible by 50.
        let firstGas = tree.nearestSequence(boxLowerBound: { $0.distance(toX: 2500, y: 9) }, exactDistance: exact)
            .first { $0.id % 50 == 0 }
        #expect(firstGas == all.first { $0.id % 50 == 0 })
    }
}
