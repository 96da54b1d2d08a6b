import Foundation
import SubterraGEOS
import SubterraGeometry
import Testing

@Suite struct GEOSPreparedGeometryTests {
    /// An L-shaped district with a square hole, on a 1 m grid at survey coordinates.
    static let district: Geometry = {
        let x = 500_000.0, y = 3_000_000.0
        let outer = try! LinearRing([
            Point(x, y), Point(x + 20, y), Point(x + 20, y + 10), Point(x + 10, y + 10), Point(x + 10, y + 20),
            Point(x, y + 20), Point(x, y),
        ])
        let hole = try! LinearRing([
            Point(x + 2, y + 2), Point(x + 2, y + 6), Point(x + 6, y + 6), Point(x + 6, y + 2), Point(x + 2, y + 2),
        ])
        return .polygon(Polygon(exterior: outer, holes: [hole]))
    }()

    /// Cases with a known answer: inside, touching the boundary from inside, lying on it, leaving
    /// through a vertex, crossing the hole, outside.
    @Test func knownCases() throws {
        let p = try PreparedGeometry(Self.district)
        func line(_ a: (Double, Double), _ b: (Double, Double)) throws -> Geometry {
            .lineString(try LineString([Point(500_000 + a.0, 3_000_000 + a.1), Point(500_000 + b.0, 3_000_000 + b.1)]))
        }
        #expect(try p.contains(line((8, 1), (15, 5))))
        #expect(try p.contains(line((8, 1), (20, 1))))  // ends on the boundary
        #expect(try !p.contains(line((0, 0), (20, 0))))  // on the boundary only: no interior point
        #expect(try !p.contains(line((8, 8), (12, 12))))  // leaves through the notch
        #expect(try !p.contains(line((1, 4), (8, 4))))  // crosses the hole
        #expect(try !p.contains(line((30, 30), (31, 31))))
        #expect(try p.intersects(line((0, 0), (-5, -5))))  // touches a corner
        #expect(try !p.intersects(line((3, 3), (5, 5))))  // inside the hole
    }

    /// Random lines whose ends fall on a half-metre grid (so they often run along edges, through
    /// vertices and across the hole), tested by 8 tasks at once: the prepared answer equals
    /// GEOS's unprepared one every time.
    @Test func agreesWithUnpreparedGEOSFromEightTasks() async throws {
        let prepared = try PreparedGeometry(Self.district)
        let area = Self.district
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var rng = GEOSBridgeRNG(seed: UInt64(700 + t))
                    var bad = 0
                    for _ in 0..<400 {
                        let n = rng.int(2, 4)
                        var ps: [Point] = []
                        for _ in 0..<n {
                            ps.append(Point(500_000 + Double(rng.int(-4, 48)) / 2, 3_000_000 + Double(rng.int(-4, 48)) / 2))
                        }
                        guard ps.count >= 2, ps[0] != ps[1] else { continue }
                        let g = Geometry.lineString(try LineString(ps))
                        let (c, i) = try GEOS.withContext { (ctx) throws(GEOSError) in (try ctx.contains(area, g), try ctx.intersects(area, g)) }
                        if try prepared.contains(g) != c { bad += 1 }
                        if try prepared.intersects(g) != i { bad += 1 }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
