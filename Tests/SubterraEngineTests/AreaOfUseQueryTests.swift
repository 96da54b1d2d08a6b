import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

@testable import SubterraEngine

/// Query points outside the map CRS's area of use are refused, with one line naming the point,
/// its coordinates and the area, by every query and check; huge distances are answered right.
@Suite struct AreaOfUseQueryTests {
    static let map = randomDistrict(count: 300, seed: 11)
    static let engine = try! UtilityEngine(network: map)

    static func refusal(_ body: () throws -> Void) -> String? {
        do { try body() } catch let e as EngineError { return e.description } catch { return "\(error)" }
        return nil
    }

    @Test func pointsFarOutsideTheAreaAreRefusedByEveryEntryPoint() throws {
        let e = Self.engine
        let far = Point(1e155, 3_140_200)
        let site = rect(origin.x, origin.y, origin.x + 4, origin.y + 4)
        var huge = site.exterior.points
        huge[2] = Point(1e300, origin.y + 4)
        let hugeSite = Polygon(exterior: try LinearRing(huge))
        let cases: [(String, () throws -> Void)] = [
            ("nearest", { _ = try e.nearest(to: .point(far)) }),
            ("nearest -1e308", { _ = try e.nearest(to: .point(Point(origin.x, -1e308)), k: 3) }),
            ("within", { _ = try e.within(distance: 5, of: .point(far)) }),
            ("intersects", { _ = try e.intersecting(.polygon(hugeSite)) }),
            ("buffer", { _ = try e.bufferZone(of: .point(far), distance: 1) }),
            ("dig", { _ = try e.digCheck(DigRequest(area: .polygon(hugeSite), plannedDepth: 1.5)) }),
            ("route", {
                let route = try LineString([origin, Point(origin.x, 1e300)])
                _ = try e.routeCheck(PlannedPipe(profile: PipeProfile(layer: .gas), route: route, depthAtStart: 1, depthAtEnd: 1))
            }),
            ("section", { _ = try e.crossSection(along: try LineString([origin, far])) }),
        ]
        for (name, body) in cases {
            let line = try #require(Self.refusal(body), "\(name) was not refused")
            #expect(line.contains("is outside the area of use of EPSG:4549: x ") && line.contains("widened by 1.5°"),
                    "\(name): \(line)")
            #expect(!line.contains("\n"), "\(name): one line")
        }
        #expect(Self.refusal({ _ = try e.nearest(to: .point(far)) })?.contains("nearest: point (1e+155, 3140200) is outside the area of use of EPSG:4549: x ") == true)
        #expect(Self.refusal({ _ = try e.intersecting(.polygon(hugeSite)) })?.contains("exterior ring point 2 (1e+300, ") == true)
        // Just outside the zone's widened edge (x ≈ 192 000 at this latitude): refused too.
        #expect(Self.refusal({ _ = try e.nearest(to: .point(Point(100_000, 3_140_200))) }) != nil)
        // WGS84 input keeps the transformer's own refusal; inside it is answered.
        #expect(Self.refusal({ _ = try e.nearest(to: .point(Point(-170, 28.37)), crs: "EPSG:4326") })?
            .contains("outside the area of use") == true)
        #expect(try e.nearest(to: .point(origin)).count == 1)
    }

    @Test func hugeDistancesCoverEverything() throws {
        let e = Self.engine
        for d in [1e308, Double.greatestFiniteMagnitude] {
            let hits = try e.within(distance: d, of: .point(origin))
            #expect(hits.count == Self.map.segments.count, "within \(d)")
            #expect(hits.map(\.distance) == hits.map(\.distance).sorted())
        }
        let all = try e.nearest(to: .point(origin), k: 10_000, maxDistance: 1e308)
        #expect(all.count == Self.map.segments.count)
        // The nearest of all, by brute force.
        var best: (id: Int64, d: Double) = (0, .infinity)
        for s in Self.map.segments {
            let pts = s.geometry.points
            var d = Double.infinity
            for i in 1..<pts.count { d = min(d, Kernel.distance(origin, segment: pts[i - 1], pts[i])) }
            if d < best.d || (d == best.d && s.id < best.id) { best = (s.id, d) }
        }
        #expect(all.first?.pipe.id == best.id)
    }

    /// Edits are held to the same area as imports: an upsert with a vertex or point outside it is
    /// refused naming the record, and neither the engine's version nor its map changes.
    @Test func editsOutsideTheAreaAreRefused() throws {
        let e = try UtilityEngine(network: Self.map)
        var moved = try #require(Self.map.segments.first)
        var pts = moved.geometry.points
        pts[pts.count - 1] = Point(1e300, pts[pts.count - 1].y)
        moved.geometry = try LineString(pts)
        let line = try #require(Self.refusal({ try e.apply(StoreEdit(upsertSegments: [moved])) }))
        #expect(line.contains("segment \(moved.id)") && line.contains("vertex \(pts.count - 1) (1e+300, "), "\(line)")
        #expect(line.contains("is outside the area of use of EPSG:4549"), "\(line)")
        #expect(e.version == 0)
        #expect(e.segment(id: moved.id)?.geometry == Self.map.segments.first?.geometry)

        let far = FeaturePoint(number: "FAR1", layer: .water, kind: .tee, position: Point(origin.x, -1e308))
        let pointLine = try #require(Self.refusal({ try e.apply(StoreEdit(upsertPoints: [far])) }))
        #expect(pointLine.contains("point \(far.number)") && pointLine.contains("position ("), "\(pointLine)")
        #expect(e.version == 0)
        // Inside the area the same kind of edit goes through.
        var near = try #require(Self.map.segments.first)
        var q = near.geometry.points
        q[q.count - 1] = Point(q[q.count - 1].x + 0.5, q[q.count - 1].y)
        near.geometry = try LineString(q)
        try e.apply(StoreEdit(upsertSegments: [near]))
        #expect(e.version == 1)
    }
}
