import Foundation
import Testing

/// Operator areas from a delivery's polygons: imported by `subterra import`, reported by
/// `check-dig` with their operators among the owners to notify.
@Suite struct OperatorAreaCLITests {
    @Test func importedZonesAndInterestAreasReachTheDigReport() throws {
        let fx = try Fixture.shared.get()
        let dir = CLI.tempDir("areas")
        let x0 = Fixture.x0, y0 = Fixture.y0
        func square(_ x: Double, _ y: Double, _ r: Double) -> String {
            "[[[\(x - r),\(y - r)],[\(x + r),\(y - r)],[\(x + r),\(y + r)],[\(x - r),\(y + r)],[\(x - r),\(y - r)]]]"
        }
        let areas = """
            {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},"features":[
            {"type":"Feature","properties":{"id":"GU-Z1","operator":"Gas Co.","kind":"precaution zone","layer":"RQ","note":"call 0800-123 first"},
             "geometry":{"type":"Polygon","coordinates":\(square(x0, y0, 20))}},
            {"type":"Feature","properties":{"id":"FIB-7","operator":"Fibre Ltd","kind":"interest"},
             "geometry":{"type":"Polygon","coordinates":\(square(x0 + 5, y0 + 5, 10))}},
            {"type":"Feature","properties":{"id":"FAR-1","operator":"Far Away BV","kind":"interest"},
             "geometry":{"type":"Polygon","coordinates":\(square(x0 + 5000, y0, 10))}}
            ]}
            """
        try areas.write(toFile: dir + "/zones.geojson", atomically: true, encoding: .utf8)
        let store = dir + "/areas.gpkg"
        let imported = try CLI.run(["import", fx.dir + "/segments.geojson", fx.dir + "/points.geojson", dir + "/zones.geojson", "--store", store])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("Imported 3 operator areas: 1 precaution zone, 2 interest areas."), "\(imported.stdout)")

        // A small dig at the origin: inside the zone and the fibre area, far from FAR-1.
        let site = "POLYGON ((\(x0 + 1) \(y0 + 1), \(x0 + 2) \(y0 + 1), \(x0 + 2) \(y0 + 2), \(x0 + 1) \(y0 + 2), \(x0 + 1) \(y0 + 1)))"
        let json = try CLI.run(["check-dig", site, "--depth", "1", "--store", store, "--format", "json"])
        #expect([0, 1].contains(json.status), "\(json.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let reported = try #require(obj["areas"] as? [[String: Any]])
        #expect(reported.compactMap { $0["sourceID"] as? String } == ["GU-Z1", "FIB-7"], "\(reported)")
        #expect((reported.first?["kind"] as? String) == "precaution")
        let owners = try #require(obj["owners"] as? [[String: Any]])
        let fibre = try #require(owners.first { ($0["owner"] as? String) == "Fibre Ltd" }, "\(owners)")
        #expect((fibre["pipeIDs"] as? [Any])?.isEmpty == true)
        #expect(!owners.contains { ($0["owner"] as? String) == "Far Away BV" })

        let table = try CLI.run(["check-dig", site, "--depth", "1", "--store", store])
        #expect(table.stdout.contains("Operator areas touched (1 precaution zone, 1 interest area):"), "\(table.stdout)")
        #expect(table.stdout.contains("inside Gas Co.'s precaution zone") && table.stdout.contains("call 0800-123 first"), "\(table.stdout)")
        #expect(table.stdout.contains("Fibre Ltd: 0 pipes"), "\(table.stdout)")

        let geo = try CLI.run(["check-dig", site, "--depth", "1", "--store", store, "--format", "geojson"])
        let fc = try #require(try JSONSerialization.jsonObject(with: Data(geo.stdout.utf8)) as? [String: Any])
        let kinds = (fc["features"] as? [[String: Any]] ?? []).compactMap { ($0["properties"] as? [String: Any])?["kind"] as? String }
        #expect(kinds.contains("precaution-zone") && kinds.contains("interest-area"), "\(kinds)")
    }
}
