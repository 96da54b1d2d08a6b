import SubterraGeometry
import Testing

/// `Point` keeps 2-D tables dense (24-byte stride) while `z` stays an honest optional.
@Suite struct PointLayoutTests {
    @Test func strideIsThreeDoubles() {
        #expect(MemoryLayout<Point>.size == 24)
        #expect(MemoryLayout<Point>.stride == 24)
        #expect(MemoryLayout<Point>.offset(of: \Point.x) == 0)
        #expect(MemoryLayout<Point>.offset(of: \Point.y) == 8)
    }

    @Test func zRoundTripsEveryValue() {
        let reserved = Double(bitPattern: Point.absentZBitPattern)
        #expect(reserved.isNaN)
        #expect(Point(1, 2).z == nil)
        #expect(!Point(1, 2).hasZ)
        for z in [0.0, -0.0, 1.5, -3e300, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude] {
            let p = Point(1, 2, z)
            #expect(p.hasZ)
            #expect(p.z?.bitPattern == z.bitPattern)
        }
        // A NaN height is a present height, whatever its payload, the reserved one included.
        for nan in [Double.nan, -Double.nan, Double.signalingNaN, reserved] {
            let p = Point(1, 2, nan)
            #expect(p.hasZ)
            #expect(p.z?.isNaN == true)
        }
        var p = Point(1, 2, 7)
        p.z = nil
        #expect(p.z == nil && p == Point(1, 2))
        p.z = 4
        #expect(p.z == 4 && p == Point(1, 2, 4))
    }

    @Test func finitenessLooksAtAPresentZOnly() {
        #expect(Point(1, 2).isFinite)
        #expect(Point(1, 2, 3).isFinite)
        #expect(!Point(1, 2, .nan).isFinite)
        #expect(!Point(1, 2, .infinity).isFinite)
        #expect(!Point(.nan, 2).isFinite)
    }

    @Test func equalityAndHashingFollowTheOptionalZ() {
        #expect(Point(1, 2) == Point(1, 2))
        #expect(Point(1, 2) != Point(1, 2, 0))
        #expect(Point(1, 2, 3) == Point(1, 2, 3))
        #expect(Point(0.0, 2) == Point(-0.0, 2))
        #expect(Point(1, 2, .nan) != Point(1, 2, .nan))
        let set: Set<Point> = [Point(1, 2), Point(1, 2), Point(1, 2, 0), Point(1, 2, 3), Point(1, 2, 3)]
        #expect(set.count == 3)
    }

    @Test func tablesOfPointsAreDense() throws {
        let line = try LineString([Point(0, 0), Point(1, 0), Point(1, 1)])
        line.points.withUnsafeBufferPointer { b in
            let base = UnsafeRawPointer(b.baseAddress!)
            #expect(UnsafeRawPointer(b.baseAddress! + 2) - base == 48)
        }
    }
}
