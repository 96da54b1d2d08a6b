import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Operators' precaution zones and interest areas in the dig check, against GEOS.
@Suite struct OperatorAreaTests {
    static let owners = ["Gas Co.", "Power Co.", "Water Co.", "Fibre Ltd (no lines)", "Heat Co."]

    /// Random areas: convex-ish polygons, some with a hole, some multipolygons, around the
    /// district of `randomDistrict`.
    static func randomAreas(_ n: Int, seed: UInt64) -> [OperatorArea] {
        var rng = TestRandom(seed)
        return (0..<n).map { i in
            let c = Point(origin.x + rng.uniform(-220, 220), origin.y + rng.uniform(-220, 220))
            var polys = [randomPolygon(&rng, around: c, radius: rng.uniform(5, 60))]
            if rng.chance(0.2) {
                // A square hole well inside: the dig may sit in it without touching the area.
                let h = rng.uniform(1, 3)
                polys[0] = Polygon(exterior: rect(c.x - 8, c.y - 8, c.x + 8, c.y + 8).exterior,
                                   holes: [rect(c.x - h, c.y - h, c.x + h, c.y + h).exterior])
            }
            if rng.chance(0.2) {
                let d = Point(c.x + rng.uniform(30, 80), c.y + rng.uniform(-40, 40))
                polys.append(randomPolygon(&rng, around: d, radius: rng.uniform(4, 20)))
            }
            return try! OperatorArea(
                id: Int64(i + 1), kind: rng.chance(0.5) ? .precaution : .interest,
                owner: owners[Int(rng.next() % UInt64(owners.count))], layers: rng.chance(0.5) ? [.gas] : [],
                geometry: polys.count == 1 ? .polygon(polys[0]) : .multiPolygon(polys), note: "note \(i)")
        }
    }

    static func geosIntersects(_ a: Geometry, _ b: Geometry) -> Bool {
        try! GEOS.withContext { ctx throws(GEOSError) in try ctx.intersects(a, b) }
    }

    @Test func digCheckReportsExactlyTheAreasGEOSSaysItTouches() throws {
        let areas = Self.randomAreas(120, seed: 77)
        let district = randomDistrict(count: 600, seed: 78)
        let map = try UtilityNetwork(crs: district.crs, segments: district.segments, points: district.points, areas: areas)
        let engine = try UtilityEngine(network: map)
        var rng = TestRandom(79)
        var touchedSome = 0, ownerOnly = 0
        for k in 0..<400 {
            // Sites, lines and points, some placed on area vertices and inside holes.
            var site: Geometry
            switch k % 4 {
            case 0: site = randomSite(&rng, spread: 240, radius: 1...25)
            case 1:
                let c = Point(origin.x + rng.uniform(-240, 240), origin.y + rng.uniform(-240, 240))
                site = .lineString(try LineString([c, Point(c.x + rng.uniform(-30, 30), c.y + rng.uniform(-30, 30))]))
            case 2:
                let a = areas[Int(rng.next() % UInt64(areas.count))]
                site = .point(a.polygons[0].exterior.points[Int(rng.next() % 3)])
            default:
                let a = areas[Int(rng.next() % UInt64(areas.count))]
                let v = a.polygons[0].exterior.points[0]
                site = .polygon(rect(v.x, v.y, v.x + rng.uniform(0.5, 5), v.y + rng.uniform(0.5, 5)))
            }
            let report = try engine.digCheck(DigRequest(area: site, plannedDepth: 1.5))
            // Part by part: random parts of one area may overlap, which GEOS refuses as a multipolygon.
            let expected = areas.filter { $0.polygons.contains { Self.geosIntersects(.polygon($0), site) } }.map(\.id).sorted()
            #expect(report.areas.map(\.areaID).sorted() == expected, "site \(k): \(site.wkt)")
            touchedSome += expected.isEmpty ? 0 : 1
            // Every touched area's operator is among the owners to notify, with the area.
            for id in expected {
                let a = try #require(areas.first { $0.id == id })
                let notice = try #require(report.owners.first { $0.owner == a.owner }, "site \(k): \(a.owner) not notified")
                #expect(notice.areaIDs.contains(id))
                if a.kind == .precaution { #expect(notice.highestSeverity >= .high) }
                if notice.pipeIDs.isEmpty { ownerOnly += 1 }
            }
            // Owners with no conflicting pipe appear only because of an area.
            for n in report.owners where n.pipeIDs.isEmpty { #expect(!n.areaIDs.isEmpty) }
            #expect(report.areas.map(\.kind) == report.areas.map(\.kind).sorted { $0 == .precaution && $1 != .precaution } )
        }
        #expect(touchedSome > 100, "the sites must exercise the areas: \(touchedSome)")
        #expect(ownerOnly > 0, "some operator must be notified for an area alone")
    }

    @Test func areaEditsReachTheNextSnapshot() throws {
        let areas = Self.randomAreas(10, seed: 5)
        let engine = try UtilityEngine(network: try UtilityNetwork(crs: "EPSG:4549", areas: areas))
        let a = areas[0]
        let inside = Geometry.point(a.polygons[0].exterior.points[0])
        #expect(try engine.digCheck(DigRequest(area: inside, plannedDepth: 1)).areas.contains { $0.areaID == a.id })
        try engine.apply(StoreEdit(deleteAreas: [a.id]))
        #expect(try !engine.digCheck(DigRequest(area: inside, plannedDepth: 1)).areas.contains { $0.areaID == a.id })
        var moved = a
        moved.owner = "New Operator"
        try engine.apply(StoreEdit(upsertAreas: [moved]))
        let r = try engine.digCheck(DigRequest(area: inside, plannedDepth: 1))
        #expect(r.areas.first { $0.areaID == a.id }?.owner == "New Operator")
        #expect(engine.network.areas.count == areas.count)
        // An invalid area is refused with where and why, and changes nothing.
        var bad = a
        bad.owner = " "
        #expect(throws: EngineError.self) { try engine.apply(StoreEdit(upsertAreas: [bad])) }
        #expect(engine.network.areas.first { $0.id == a.id }?.owner == "New Operator")
    }
}
