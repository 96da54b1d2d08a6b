import Testing
@testable import SubterraGeometry

/// The distance kernels stay right at every magnitude: coordinates up to ±1e308, subnormal
/// spacing and mixtures (a point at 1e155 against a segment at 1e6). The oracle computes in
/// `Float80`, whose 15-bit exponent holds every square of a `Double`, so it needs no scaling.
@Suite struct KernelMagnitudeTests {
    typealias F = Float80

    static func pointSegment(_ p: Point, _ a: Point, _ b: Point) -> Double {
        let x = F(p.x), y = F(p.y), ax = F(a.x), ay = F(a.y), bx = F(b.x), by = F(b.y)
        let dx = bx - ax, dy = by - ay
        let len2 = dx * dx + dy * dy
        var t: F = 0
        if len2 > 0 { t = max(0, min(1, ((x - ax) * dx + (y - ay) * dy) / len2)) }
        let qx = ax + t * dx - x, qy = ay + t * dy - y
        return Double((qx * qx + qy * qy).squareRoot())
    }

    /// Disjoint segments only (the tests place them apart): the least endpoint distance.
    static func segmentSegment(_ a0: Point, _ a1: Point, _ b0: Point, _ b1: Point) -> Double {
        min(pointSegment(a0, b0, b1), pointSegment(a1, b0, b1), pointSegment(b0, a0, a1), pointSegment(b1, a0, a1))
    }

    static func close(_ got: Double, _ want: Double) -> Bool {
        if got == want { return true }
        return abs(got - want) <= max(abs(got), abs(want)) * 0x1p-48 + 0x1p-1072
    }

    /// Configurations at survey scale (a unit square dig polygon, segments around it, points)
    /// that the tests scale by 2^k and shift.
    static let base: [(p: Point, a: Point, b: Point)] = [
        (Point(3, 4), Point(0, 0), Point(10, 0)),
        (Point(-2, 1), Point(0, 0), Point(10, 0)),
        (Point(12, -1), Point(0, 0), Point(10, 0)),
        (Point(5, 0.001), Point(0, 0), Point(10, 0)),
        (Point(1, 1), Point(0, 0), Point(7, 3)),
        (Point(0.5, 0.25), Point(0.125, -3), Point(0.75, 2)),
        (Point(2, 2), Point(2, 2), Point(2, 2)),
        (Point(2, 3), Point(2, 2), Point(2, 2)),
    ]

    static func scaled(_ p: Point, _ k: Int, shift: Point = Point(0, 0)) -> Point {
        let f = Double(sign: .plus, exponent: k, significand: 1)
        return Point(p.x * f + shift.x, p.y * f + shift.y)
    }

    /// Scales from 2^-1060 (subnormal results) through 2^-530 (squares underflow) and 2^520
    /// (squares overflow) to 2^1016 (coordinates near 1e306, differences near the top).
    static let scales = [-1062, -1040, -530, -300, 0, 300, 520, 900, 1016]

    @Test func pointSegmentDistances() {
        for k in Self.scales {
            for (p0, a0, b0) in Self.base {
                let p = Self.scaled(p0, k), a = Self.scaled(a0, k), b = Self.scaled(b0, k)
                let want = Self.pointSegment(p, a, b)
                let pr = Kernel.project(p, ontoSegment: a, b)
                #expect(Self.close(pr.distance, want), "project 2^\(k) \(p) onto \(a)–\(b): \(pr.distance) vs \(want)")
                let sq = Kernel.squaredDistance(p, segment: a, b)
                let wantSq = Double(F(want) * F(want))
                #expect(Self.close(sq, wantSq) || (wantSq < 0x1p-1000 && Self.close(sq.squareRoot(), want)),
                        "squared 2^\(k) \(p) onto \(a)–\(b): \(sq) vs \(wantSq)")
                #expect(Self.close(Kernel.distance(p, a), Self.pointSegment(p, a, a)), "point–point 2^\(k)")
            }
        }
    }

    @Test func pointsAcrossTheWholeRange() {
        // Differences past greatestFiniteMagnitude: only then is the distance infinite.
        let a = Point(-1.5e308, 1e308), b = Point(1.5e308, 1e308)
        #expect(Kernel.distance(a, b) == .infinity)
        #expect(Self.close(Kernel.distance(Point(1.5e308, 0), segment: a, b), 1e308))
        #expect(Self.close(Kernel.distance(Point(0, 1e308 - 0x1p973), segment: a, b), 0x1p973))
        #expect(Self.close(Kernel.distance(Point(0, 0x1p-1074), segment: Point(-1e308, 0), Point(1e308, 0)), 0x1p-1074))
        // Mixtures: a query at 1e155 against survey data; subnormal against 1e6.
        let s0 = Point(636_600, 3_139_924), s1 = Point(636_610, 3_139_930)
        let q = Point(1e155, 3_140_200)
        #expect(Self.close(Kernel.distance(q, segment: s0, s1), Self.pointSegment(q, s0, s1)))
        #expect(Self.close(Kernel.distance(Point(0x1p-1074, 0), segment: s0, s1), Self.pointSegment(Point(0x1p-1074, 0), s0, s1)))
        let env = Envelope(minX: 0, minY: 0, maxX: 1, maxY: 1)
        #expect(Self.close(Kernel.distance(q, envelope: env), 1e155))
        #expect(Self.close(Kernel.distance(segment: q, Point(1e155, 3_140_300), envelope: env), 1e155))
    }

    @Test func segmentDistances() {
        for k in Self.scales {
            let a0 = Self.scaled(Point(0, 0), k), a1 = Self.scaled(Point(10, 1), k)
            for (b0, b1) in [(Point(3, 4), Point(9, 7)), (Point(-5, -1), Point(-1, 3)), (Point(11, 0), Point(20, -2))] {
                let c0 = Self.scaled(b0, k), c1 = Self.scaled(b1, k)
                let want = Self.segmentSegment(a0, a1, c0, c1)
                let got = Kernel.distance(segment: a0, a1, segment: c0, c1)
                #expect(Self.close(got, want), "segment–segment 2^\(k): \(got) vs \(want)")
            }
            // Crossing segments are at 0 at every scale.
            #expect(Kernel.distance(segment: a0, a1, segment: Self.scaled(Point(5, -3), k), Self.scaled(Point(5, 3), k)) == 0)
        }
    }

    @Test func segmentPolygonDistances() throws {
        for k in Self.scales {
            let ring = [Point(0, 0), Point(4, 0), Point(4, 4), Point(0, 4), Point(0, 0)].map { Self.scaled($0, k) }
            let hole = [Point(1, 1), Point(1, 3), Point(3, 3), Point(3, 1), Point(1, 1)].map { Self.scaled($0, k) }
            let poly = try Polygon(exterior: LinearRing(ring), holes: [LinearRing(hole)])
            let cases: [(Point, Point)] = [
                (Point(6, 1), Point(9, 5)), (Point(-3, -2), Point(-1, -0.5)), (Point(1.5, 1.5), Point(2.5, 2)),
                (Point(5, 2), Point(5, 2)),
            ]
            for (s0, s1) in cases {
                let a = Self.scaled(s0, k), b = Self.scaled(s1, k)
                var want = Double.infinity
                for r in [ring, hole] {
                    for i in 1..<r.count { want = min(want, Self.segmentSegment(a, b, r[i - 1], r[i])) }
                }
                let got = Kernel.distance(segment: a, b, polygon: poly)
                #expect(Self.close(got, want), "segment–polygon 2^\(k) \(a)–\(b): \(got) vs \(want)")
                let line = try LineString([a, Self.scaled(Point(s1.x + 0.5, s1.y + 7), k)])
                let x = line.points[1]
                let lineWant = min((1..<ring.count).map { Self.segmentSegment(a, x, ring[$0 - 1], ring[$0]) }.min()!,
                                   (1..<hole.count).map { Self.segmentSegment(a, x, hole[$0 - 1], hole[$0]) }.min()!)
                let lineGot = Kernel.distance(line, polygon: poly)
                #expect(lineGot == 0 || Self.close(lineGot, lineWant), "line–polygon 2^\(k): \(lineGot) vs \(lineWant)")
                let pointGot = Kernel.distance(a, polygon: poly)
                var pointWant = Double.infinity
                for r in [ring, hole] { for i in 1..<r.count { pointWant = min(pointWant, Self.pointSegment(a, r[i - 1], r[i])) } }
                #expect(Self.close(pointGot, pointWant), "point–polygon 2^\(k): \(pointGot) vs \(pointWant)")
            }
            // Inside and crossing: 0.
            #expect(Kernel.distance(segment: Self.scaled(Point(0.5, 0.5), k), Self.scaled(Point(0.7, 0.5), k), polygon: poly) == 0)
            #expect(Kernel.distance(segment: Self.scaled(Point(-1, 2), k), Self.scaled(Point(5, 2), k), polygon: poly) == 0)
        }
    }

    @Test func orientationAtTheExtremes() {
        // Differences overflow here; the sign must still be right.
        #expect(Kernel.orientationSign(-1.5e308, 0, 1.5e308, 0, 0, 1) == 1)
        #expect(Kernel.orientationSign(-1.5e308, 0, 1.5e308, 0, 0, -1) == -1)
        #expect(Kernel.orientationSign(-1.5e308, -1.5e308, 1.5e308, 1.5e308, 1e308, 1e308) == 0)
        #expect(Kernel.orientationSign(-1.5e308, 1.5e308, 1.5e308, -1.5e308, 1.5e308, 1.5e308) == 1)
        // Subnormal triangles.
        let t = 0x1p-1074
        #expect(Kernel.orientationSign(0, 0, 4 * t, 0, 2 * t, t) == 1)
        #expect(Kernel.orientationSign(0, 0, 4 * t, 0, 2 * t, -t) == -1)
        #expect(Kernel.orientationSign(0, 0, 4 * t, 2 * t, 2 * t, t) == 0)
        #expect(Kernel.orientationSign(0, 0, 0x1p-540, 0x1p-540, 0x1p-540, 0) == -1)
    }
}
