import SubterraGeometry
import Testing

/// Hand-checked kernel cases: the degenerate configurations the oracle tests hit at random, here
/// with their exact expected answers, plus what GEOS cannot check (z interpolation, parameters).
@Suite struct KernelTests {
    let o = Point(0, 0)

    @Test func orientationOfDegenerateTriples() {
        #expect(Kernel.orientation(Point(0, 0), Point(1, 1), Point(2, 2)) == .collinear)
        #expect(Kernel.orientation(Point(0, 0), Point(1, 0), Point(0, 1)) == .counterClockwise)
        #expect(Kernel.orientation(Point(0, 0), Point(1, 0), Point(0, -1)) == .clockwise)
        #expect(Kernel.orientation(Point(3, 3), Point(3, 3), Point(5, 1)) == .collinear)
        // 0.1 + 0.2 is not 0.3 in binary: the exact predicate sees the point off the line.
        #expect(Kernel.orientation(Point(0, 0), Point(0.3, 0.3), Point(0.1 + 0.2, 0.3)) != .collinear)
        // Survey-sized coordinates 1 mm apart along an exactly representable direction.
        let a = Point(40_500_000.125, 3_150_000.5), b = Point(40_500_100.125, 3_150_100.5)
        #expect(Kernel.orientation(a, b, Point(40_500_050.125, 3_150_050.5)) == .collinear)
        #expect(Kernel.orientation(a, b, Point(40_500_050.125, 3_150_050.5.nextUp)) == .counterClockwise)
    }

    @Test func projectionParameterAndDepth() {
        // A pipe 1.2 m deep at one end and 2.0 m at the other: depth at the closest point.
        let a = Point(0, 0, 1.2), b = Point(10, 0, 2.0)
        let pr = Kernel.project(Point(2.5, 3), ontoSegment: a, b)
        #expect(pr.t == 0.25)
        #expect(pr.distance == 3)
        #expect(pr.point == Point(2.5, 0, 1.4))
        #expect(Kernel.project(Point(-4, 3), ontoSegment: a, b) == SegmentProjection(t: 0, point: a, distance: 5))
        #expect(Kernel.project(Point(14, 3), ontoSegment: a, b) == SegmentProjection(t: 1, point: b, distance: 5))
        // Zero-length segment behaves as its point.
        #expect(Kernel.project(Point(3, 4), ontoSegment: o, o) == SegmentProjection(t: 0, point: o, distance: 5))
        // z only when both ends have one.
        #expect(Kernel.interpolate(Point(0, 0, 1), Point(2, 0), t: 0.5) == Point(1, 0))
    }

    @Test func segmentIntersectionCases() {
        let p = { (x: Double, y: Double) in Point(x, y) }
        #expect(Kernel.intersection(p(0, 0), p(2, 2), p(0, 2), p(2, 0)) == .point(p(1, 1)))
        #expect(Kernel.intersection(p(0, 0), p(2, 0), p(2, 0), p(3, 5)) == .point(p(2, 0)))
        #expect(Kernel.intersection(p(0, 0), p(4, 0), p(2, 0), p(2, 3)) == .point(p(2, 0)))
        #expect(Kernel.intersection(p(0, 0), p(4, 0), p(2, 0), p(6, 0)) == .overlap(from: p(2, 0), to: p(4, 0)))
        #expect(Kernel.intersection(p(4, 0), p(0, 0), p(6, 0), p(2, 0)) == .overlap(from: p(4, 0), to: p(2, 0)))
        #expect(Kernel.intersection(p(0, 0), p(4, 0), p(4, 0), p(6, 0)) == .point(p(4, 0)))
        #expect(Kernel.intersection(p(0, 0), p(4, 0), p(5, 0), p(6, 0)) == .none)
        #expect(Kernel.intersection(p(0, 0), p(0, 4), p(0, 1), p(0, 3)) == .overlap(from: p(0, 1), to: p(0, 3)))
        #expect(Kernel.intersection(p(1, 1), p(1, 1), p(0, 0), p(2, 2)) == .point(p(1, 1)))
        #expect(Kernel.intersection(p(1, 1), p(1, 1), p(1, 1), p(1, 1)) == .point(p(1, 1)))
        #expect(Kernel.intersection(p(1, 1), p(1, 1), p(1, 2), p(1, 2)) == .none)
        #expect(Kernel.intersection(p(0, 0), p(1, 0), p(0, 1), p(1, 1)) == .none)
        let d = Kernel.segmentDistance(p(0, 0), p(1, 0), p(2, 1), p(3, 5))
        #expect(d.distance == 2.0.squareRoot() && d.first == p(1, 0) && d.second == p(2, 1) && d.t1 == 1 && d.t2 == 0)
    }

    @Test func pointInPolygonWithHole() throws {
        let poly = try Polygon(rings: [
            [Point(0, 0), Point(10, 0), Point(10, 10), Point(0, 10), Point(0, 0)],
            [Point(4, 4), Point(4, 6), Point(6, 6), Point(6, 4), Point(4, 4)],
        ])
        #expect(Kernel.locate(Point(1, 1), in: poly) == .interior)
        #expect(Kernel.locate(Point(5, 5), in: poly) == .exterior)
        #expect(Kernel.locate(Point(4, 5), in: poly) == .boundary)
        #expect(Kernel.locate(Point(0, 0), in: poly) == .boundary)
        #expect(Kernel.locate(Point(10, 5), in: poly) == .boundary)
        #expect(Kernel.locate(Point(11, 5), in: poly) == .exterior)
        #expect(Kernel.locate(Point(5, 0), in: poly) == .boundary)
        #expect(Kernel.distance(Point(13, 14), polygon: poly) == 5)
        #expect(Kernel.distance(Point(5, 5), polygon: poly) == 1)
        #expect(Kernel.distance(segment: Point(-5, 5), Point(20, 5), polygon: poly) == 0)
        #expect(Kernel.distance(segment: Point(4.5, 5), Point(5.5, 5), polygon: poly) == 0.5)
        #expect(Kernel.distance(try LineString([Point(12, 0), Point(12, 10)]), polygon: poly) == 2)
        #expect(Kernel.distance(segment: Point(12, 1), Point(13, 1), envelope: poly.envelope) == 2)
        #expect(Kernel.distance(segment: Point(-1, 11), Point(11, -1), envelope: poly.envelope) == 0)
        #expect(Kernel.distance(segment: o, o, envelope: .empty) == .infinity)
    }

    @Test func lineStringMeasures() throws {
        let l = try LineString([Point(0, 0, 1), Point(3, 4, 2), Point(3, 4, 2), Point(3, 10, 5)])
        #expect(l.length == 11)
        #expect(l.position(atDistance: 2.5) == LinePosition(segment: 0, t: 0.5, point: Point(1.5, 2, 1.5), distance: 0, distanceAlong: 2.5))
        // The zero-length middle segment is skipped, never divided by.
        #expect(l.position(atDistance: 8).point == Point(3, 7, 3.5))
        #expect(l.position(atDistance: -1).point == Point(0, 0, 1))
        #expect(l.position(atDistance: 100).point == Point(3, 10, 5))
        let c = l.closestPosition(to: Point(5, 7))
        #expect(c.segment == 2 && c.point == Point(3, 7, 3.5) && c.distance == 2 && c.distanceAlong == 8)
        #expect(l.distance(to: Point(5, 7)) == 2)
        let m = try LineString([Point(10, 0), Point(0, 10)])
        #expect(l.intersects(m))
        #expect(!l.intersects(try LineString([Point(20, 0), Point(20, 10)])))
        #expect(l.distance(to: try LineString([Point(20, 0), Point(20, 10)])) == 17)
    }

    @Test func validationErrors() {
        #expect(throws: GeometryError("a line string needs at least 2 points, got 1")) { try LineString([Point(0, 0)]) }
        #expect(throws: GeometryError("line string point 1 has a non-finite coordinate")) {
            try LineString([Point(0, 0), Point(.nan, 0)])
        }
        #expect(throws: GeometryError("polygon ring 1: a linear ring needs at least 4 points, got 3")) {
            try Polygon(rings: [[Point(0, 0), Point(1, 0), Point(1, 1), Point(0, 0)], [Point(0, 0), Point(1, 0), Point(0, 0)]])
        }
        #expect(throws: GeometryError("a polygon needs at least an exterior ring")) { try Polygon(rings: []) }
    }
}

@Suite struct GeometryValueTests {
    @Test func validateFindsNonFinitePoints() {
        #expect(throws: GeometryError("point has a non-finite coordinate")) { try Geometry.point(Point(.infinity, 0)).validate() }
        #expect(throws: GeometryError("collection member 1: multipoint point 0 has a non-finite coordinate")) {
            try Geometry.collection([.point(Point(0, 0)), .multiPoint([Point(0, .nan)])]).validate()
        }
        #expect(throws: Never.self) { try Geometry.multiPoint([Point(1, 2, 3)]).validate() }
    }

    @Test func envelopesAndZ() throws {
        let g = Geometry.collection([.point(Point(1, 2, 0)), .lineString(try LineString([Point(-1, 5, 1), Point(3, -2, 2)]))])
        #expect(g.envelope == Envelope(minX: -1, minY: -2, maxX: 3, maxY: 5))
        #expect(g.hasZ)
        #expect(!Geometry.multiPoint([Point(0, 0, 1), Point(1, 1)]).hasZ)
        #expect(Geometry.multiPolygon([]).envelope.isEmpty)
        #expect(Geometry.collection([.multiPoint([])]).isEmpty)
    }

    /// Value types and no shared mutable state: parsing the same bytes from many tasks at once
    /// gives identical results.
    @Test func concurrentParsingAgrees() async throws {
        var gen = CaseGen(seed: 41)
        let docs = (0..<50).map { k in GeoJSON.write(gen.geometry(z: k % 2 == 0)) }
        let expected = try docs.map { try GeoJSON.parseGeometry($0) }
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for (d, e) in zip(docs, expected) {
                        guard try GeoJSON.parseGeometry(d) == e, try WKT.parse(WKT.write(e)) == e,
                              try WKB.read(WKB.write(e)).geometry == e else { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}
