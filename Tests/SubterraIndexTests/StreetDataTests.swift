import SubterraDatasets
import Testing
@testable import SubterraIndex

/// Property tests on the realistic street data the benchmarks use (clustered along streets,
/// segments sharing end points, coordinates near x ≈ 6.4e5, y ≈ 3.15e6): every query form against
/// brute force, at several node sizes, with an exact point–segment distance as the refinement.
@Suite struct StreetDataTests {
    static let streets: [Segment] = StreetSegments.generate(count: 6000, seed: 20_261_130).map {
        Segment(x0: $0.x0, y0: $0.y0, x1: $0.x1, y1: $0.y1)
    }

    @Test(arguments: [2, 5, 10, 16])
    func everyQueryFormMatchesBruteForce(nodeSize: Int) throws {
        let segs = Self.streets
        let boxes = segs.map(\.box)
        let tree = try PackedRTree(boxes: boxes, nodeSize: nodeSize)
        try tree.validate()
        let items = boxes.enumerated().map { (box: $0.element, id: UInt32($0.offset)) }
        let ids = (0..<UInt32(segs.count)).map { $0 }
        let scratch = NearestScratch()
        var rng = SplitMix64(seed: UInt64(nodeSize) &* 7919)
        for round in 0..<80 {
            // Window: dig-sized, degenerate or huge.
            let q = queryBox(near: segs, using: &rng)
            let got = tree.intersecting(q)
            #expect(got.count == Set(got).count, "duplicate window hits")
            #expect(Set(got) == bruteIntersecting(items, q), "window M=\(nodeSize) q=\(q)")

            // Within, all three forms, radii from 0 (touching only) to a street width.
            let p = queryPoint(near: segs, using: &rng)
            let exact: (UInt32) -> Double = { segs[Int($0)].distance(toX: p.x, y: p.y) }
            let r = [0, 1.5, 5, 40][round % 4]
            let want = Set(bruteNearest(ids, k: .max, maxDistance: r, distance: exact).map(\.id))
            let closure = tree.within(distance: r, boxLowerBound: { $0.distance(toX: p.x, y: p.y) }, exactDistance: exact)
            #expect(Set(closure.map(\.id)) == want, "within closure M=\(nodeSize) r=\(r) p=\(p)")
            #expect(Set(tree.within(distance: r, ofX: p.x, y: p.y, exactDistance: exact).map(\.id)) == want)
            var viaEnvelope = Set<UInt32>()
            tree.forEachWithin(
                distance: r, envelope: Box(minX: p.x - r, minY: p.y - r, maxX: p.x + r, maxY: p.y + r),
                boxLowerBound: { $0.distance(toX: p.x, y: p.y) }, exactDistance: exact
            ) { viaEnvelope.insert($0.id); return .continue }
            #expect(viaEnvelope == want, "within envelope M=\(nodeSize) r=\(r) p=\(p)")

            // Box-to-box within (dig polygon's box) against the box distance oracle.
            let dig = Box(minX: p.x - 4, minY: p.y - 3, maxX: p.x + 6, maxY: p.y + 5)
            let boxExact: (UInt32) -> Double = { boxes[Int($0)].distance(to: dig) }
            let wantBox = Set(bruteNearest(ids, k: .max, maxDistance: 1, distance: boxExact).map(\.id))
            #expect(Set(tree.within(distance: 1, of: dig, exactDistance: boxExact).map(\.id)) == wantBox)

            // Nearest, exact order (ties by id) and distances, with and without a filter.
            for k in [1, 10] {
                let got = tree.nearest(k: k, toX: p.x, y: p.y, exactDistance: exact)
                #expect(got == bruteNearest(ids, k: k, distance: exact), "kNN k=\(k) M=\(nodeSize) p=\(p)")
                var viaScratch: [Neighbor] = []
                tree.forEachNearest(k: k, bound: PointDistanceBound(x: p.x, y: p.y), exactDistance: exact,
                                    filter: { $0 % 3 != 0 }, scratch: scratch) { viaScratch.append($0); return .continue }
                #expect(viaScratch == bruteNearest(ids, k: k, filter: { $0 % 3 != 0 }, distance: exact))
            }
        }
    }
}
