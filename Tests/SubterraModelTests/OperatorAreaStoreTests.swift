import Foundation
import SubterraGeometry
import Testing

@testable import SubterraModel

/// Operator areas through import, store and reload.
@Suite struct OperatorAreaStoreTests {
    static func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-areas-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    static let geojson = """
        {"type":"FeatureCollection","features":[
        {"type":"Feature","properties":{"id":"nl.imkl-GU.zone1","netbeheerder":"Gasunie","type":"voorzorgsmaatregel","thema":"RQ","opmerking":"presence required"},
         "geometry":{"type":"Polygon","coordinates":[[[637000,3140000],[637050,3140000],[637050,3140050],[637000,3140050],[637000,3140000]]]}},
        {"type":"Feature","properties":{"id":"nl.imkl-KPN.belang7","netbeheerder":"KPN","type":"belang"},
         "geometry":{"type":"MultiPolygon","coordinates":[[[[637100,3140100],[637120,3140100],[637120,3140120],[637100,3140100]]],[[[637200,3140200],[637210,3140200],[637210,3140210],[637200,3140200]]]]}},
        {"type":"Feature","properties":{"id":"x","type":"belang"},
         "geometry":{"type":"Polygon","coordinates":[[[637000,3140000],[637001,3140000],[637001,3140001],[637000,3140000]]]}},
        {"type":"Feature","properties":{"id":"y","netbeheerder":"Liander","type":"maybe"},
         "geometry":{"type":"Polygon","coordinates":[[[637000,3140000],[637001,3140000],[637001,3140001],[637000,3140000]]]}}
        ]}
        """

    @Test func importStoreAndReloadKeepEveryField() throws {
        let src = Self.tempPath("areas.geojson")
        try Self.geojson.write(toFile: src, atomically: true, encoding: .utf8)
        let source = ImportSource(path: src, format: .geoJSON, content: .areas, mapping: .operatorAreas)
        var options = ImportOptions(policy: .lenient)
        options.sourceCRS = "EPSG:4549"
        let result = try Importer.read([source], options: options)
        #expect(result.areas.count == 2)
        // The two bad records are dropped with what and where.
        let dropped = result.report.dropped.map(\.message)
        #expect(dropped.contains { $0.contains("needs its operator") }, "\(dropped)")
        #expect(dropped.contains { $0.contains("'maybe' is not an area kind") }, "\(dropped)")
        let zone = try #require(result.areas.first { $0.sourceID == "nl.imkl-GU.zone1" })
        #expect(zone.kind == .precaution && zone.owner == "Gasunie" && zone.layers == [LayerCode("RQ")] && zone.note == "presence required")
        let interest = try #require(result.areas.first { $0.sourceID == "nl.imkl-KPN.belang7" })
        #expect(interest.kind == .interest && interest.polygons.count == 2)

        let path = Self.tempPath("areas.gpkg")
        let store = try GeoPackageStore.create(at: path, spatialReference: try SpatialReference(crs: "EPSG:4549"))
        try Importer.write(result, to: store)
        let reopened = try GeoPackageStore.open(at: path, readOnly: true)
        let loaded = try reopened.loadAll().areas
        #expect(loaded.map(\.sourceID) == result.areas.map(\.sourceID))
        #expect(loaded.map(\.geometry) == result.areas.map { .multiPolygon($0.polygons) })
        #expect(loaded.map(\.owner) == ["Gasunie", "KPN"] && loaded.map(\.kind) == [.precaution, .interest])

        // Delivered again: the areas are replaced by their text ids, not added twice.
        let again = try GeoPackageStore.open(at: path)
        try Importer.write(result, to: again)
        #expect(try again.loadAll().areas.count == 2)
    }

    @Test func aStoreWithoutTheAreaTableOpensAndGainsItOnTheFirstAreaWrite() throws {
        let path = Self.tempPath("old.gpkg")
        let store = try GeoPackageStore.create(at: path)
        // A store from before areas: drop the table as such stores never had it.
        try store.locked { () throws in
            try store.db.execute("DROP TABLE \(GeoPackageStore.areaTable)")
            try store.db.execute("DELETE FROM gpkg_contents WHERE table_name = '\(GeoPackageStore.areaTable)'")
            try store.db.execute("DELETE FROM gpkg_geometry_columns WHERE table_name = '\(GeoPackageStore.areaTable)'")
        }
        let old = try GeoPackageStore.open(at: path)
        #expect(try old.loadAll().areas.isEmpty)
        let area = try OperatorArea(
            id: 7, kind: .interest, owner: "KPN",
            geometry: .polygon(Polygon(rings: [[Point(637000, 3140000), Point(637010, 3140000), Point(637010, 3140010), Point(637000, 3140000)]])))
        try old.apply(StoreEdit(upsertAreas: [area]))
        #expect(try GeoPackageStore.open(at: path, readOnly: true).loadAll().areas.map(\.id) == [7])
        try old.apply(StoreEdit(deleteAreas: [7]))
        #expect(try old.loadAll().areas.isEmpty)
    }

    @Test func kindsReadFromDeliveryWords() {
        #expect(OperatorArea.Kind(source: "Voorzorgsmaatregel") == .precaution)
        #expect(OperatorArea.Kind(source: "precaution_zone") == .precaution)
        #expect(OperatorArea.Kind(source: "Interest Area") == .interest)
        #expect(OperatorArea.Kind(source: "belanghebbende") == .interest)
        #expect(OperatorArea.Kind(source: "pipe") == nil)
    }
}
