import SubterraGeometry
import SubterraIndex
import Testing

/// Runs the README's "The index on its own" example (the same calls and data) and checks each
/// answer the README's comments state, so the example cannot rot.
@Suite struct ReadmeSegmentIndexExampleTests {
    @Test func readmeSegmentIndexExample() throws {
        let pipes = [
            try LineString([Point(636900, 3140200), Point(636940, 3140200)]),
            try LineString([Point(636900, 3140204), Point(636940, 3140201), Point(636960, 3140201)]),
            try LineString([Point(636950, 3140150), Point(636950, 3140190)]),
        ]
        let index = try SegmentIndex(lines: pipes, ids: [101, 102, 103])

        let nearest = index.nearest(k: 2, to: Point(636920, 3140203))
        #expect(nearest.map(\.id) == [102, 101])
        #expect(nearest[1].distance == 3)

        let dig = Polygon(exterior: try LinearRing([
            Point(636935, 3140195), Point(636955, 3140195), Point(636955, 3140205), Point(636935, 3140205),
            Point(636935, 3140195),
        ]))
        let conflicts = index.within(1.0, of: dig)
        #expect(conflicts == [Neighbor(id: 101, distance: 0), Neighbor(id: 102, distance: 0)])

        let scratch = NearestScratch()
        var hits: [SegmentHit] = []
        index.forEachNearest(k: 10, to: Point(636920, 3140203), maxDistance: 50, scratch: scratch) { hit in
            hits.append(hit)
            return .continue
        }
        // Per segment: pipe 102's two segments, pipe 101's one, pipe 103's one (about 13.9 m).
        #expect(hits.map(\.id) == [102, 101, 102, 103])
        #expect(hits.map(\.distance) == hits.map(\.distance).sorted())

        let live = try DynamicSegmentIndex(lines: pipes, ids: [101, 102, 103])
        try live.replace(id: 103, line: try LineString([Point(636930, 3140150), Point(636930, 3140190)]))
        let moved = live.snapshot().within(2.0, of: Point(636931, 3140170))
        #expect(moved == [Neighbor(id: 103, distance: 1)])

        let segments = pipes.flatMap { p in zip(p.points, p.points.dropFirst()).map { Segment($0, $1) } }
        let owners = ["Water Co.", "Gas Co.", "Gas Co.", "Heat Co."]
        let (rows, order) = try SegmentIndex.renumbered(segments: segments)
        let ownerOfRow = order.map { owners[Int($0)] }
        let closest = rows.nearest(k: 1, to: Point(636950, 3140170))[0]
        #expect(ownerOfRow[Int(closest.id)] == "Heat Co.")
        #expect(closest.distance == 0)
        let withIDs = try SegmentIndex(segments: segments)
        #expect(rows.idsAreLeafPositions && rows.memoryFootprint < withIDs.memoryFootprint)
    }
}
