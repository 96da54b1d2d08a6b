import Foundation
import SubterraGeometry
import Testing

@testable import SubterraModel

/// Every feature keeps the file it was imported from (``PipeSegment/sourceFile``,
/// ``OperatorArea/sourceFile``), through import, the GeoPackage store and old stores.
@Suite("Import and store: each feature names its source file")
struct SourceFileTests {
    static let cables = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
         {"type":"Feature","properties":{"id":"KL-1","layer":"DL","owner":"Liander"},
          "geometry":{"type":"MultiLineString","coordinates":[[[501000,3379000],[501010,3379000]],[[501012,3379000],[501030,3379000]]]}}]}
        """
    static let water = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
         {"type":"Feature","properties":{"id":"40","layer":"JS","owner":"Vitens"},
          "geometry":{"type":"LineString","coordinates":[[501000,3379040],[501030,3379040]]}}]}
        """
    static let areas = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
         {"type":"Feature","properties":{"id":"zone-1","netbeheerder":"Gasunie","type":"voorzorgsmaatregel"},
          "geometry":{"type":"Polygon","coordinates":[[[501000,3379000],[501050,3379000],[501050,3379050],[501000,3379000]]]}}]}
        """
    static let mapping = FieldMapping(
        name: "test", fields: ["id": .field("id"), "layer": .field("layer"), "owner": .field("owner")])

    /// The three files in `dir`, named by paths as a user might type them: one with a `./`
    /// step, which must be kept verbatim.
    static func sources(_ dir: URL) throws -> (cables: String, water: String, areas: String, all: [ImportSource]) {
        let cables = dir.path + "/./kabels.geojson", water = dir.path + "/water.geojson", areas = dir.path + "/zones.geojson"
        try Self.cables.write(toFile: cables, atomically: true, encoding: .utf8)
        try Self.water.write(toFile: water, atomically: true, encoding: .utf8)
        try Self.areas.write(toFile: areas, atomically: true, encoding: .utf8)
        return (cables, water, areas, [
            ImportSource(path: cables, format: .geoJSON, content: .segments, mapping: mapping),
            ImportSource(path: water, format: .geoJSON, content: .segments, mapping: mapping),
            ImportSource(path: areas, format: .geoJSON, content: .areas, mapping: .operatorAreas),
        ])
    }

    @Test("two files into one store: every part and area names its file, as given, through the store")
    func twoFilesIntoOneStore() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (cables, water, areas, sources) = try Self.sources(dir)
        let result = try Importer.read(sources, options: ImportOptions(policy: .strict))
        #expect(result.segments.count == 3)
        #expect(result.segments.filter { $0.sourceID == "KL-1" }.map(\.sourceFile) == [cables, cables])
        #expect(result.segments.first { $0.id == 40 }?.sourceFile == water)
        #expect(result.areas.map(\.sourceFile) == [areas])

        let path = dir.appendingPathComponent("s.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try Importer.write(result, to: store)
        let reopened = try GeoPackageStore.open(at: path, readOnly: true)
        let loaded = try reopened.loadAll()
        #expect(loaded.segments == result.segments.sorted { $0.id < $1.id })
        #expect(loaded.areas.map(\.sourceFile) == [areas])
        #expect(try reopened.segments(ids: [40]).first?.sourceFile == water)
        // Each path once, however many features name it.
        let db = try Database(path: path, mode: .readOnly)
        #expect(try db.scalarInt("SELECT count(*) FROM \(GeoPackageStore.sourceFileTable)") == 3)
        #expect(try reopened.sourceFiles() == [cables, water, areas].sorted())

        // Imported again: the features are replaced, the paths not added twice.
        let again = try GeoPackageStore.open(at: path)
        try Importer.run(sources, into: again, options: ImportOptions(policy: .strict))
        #expect(try db.scalarInt("SELECT count(*) FROM \(GeoPackageStore.sourceFileTable)") == 3)
        #expect(try again.loadAll().segments.map(\.sourceFile) == loaded.segments.map(\.sourceFile))
    }

    @Test("a Subterra store read as a source keeps its features' files; features without one take the store's")
    func storeAsSourceKeepsFiles() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (cables, _, _, sources) = try Self.sources(dir)
        let first = dir.appendingPathComponent("first.gpkg").path
        let store = try GeoPackageStore.create(at: first)
        try Importer.run(Array(sources.prefix(1)), into: store, options: ImportOptions(policy: .strict))
        var bare = PipeSegment(
            id: 90, layer: .water, startPoint: "X1", endPoint: "X2",
            geometry: try LineString([Point(501000, 3379080), Point(501010, 3379080)]))
        bare.sourceFile = nil
        try store.apply(StoreEdit(upsertSegments: [bare]))
        let r = try Importer.read(
            [ImportSource(path: first, format: .geoPackage(table: nil), content: .segments, mapping: Self.mapping)],
            options: ImportOptions(policy: .lenient))
        #expect(r.segments.filter { $0.sourceID == "KL-1" }.allSatisfy { $0.sourceFile == cables })
        #expect(r.segments.first { $0.id == 90 }?.sourceFile == first)
    }

    @Test("a store from before source files opens unchanged, reads none, and gains them on its first write")
    func oldStoreOpens() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.gpkg").path
        let seg = PipeSegment(
            id: 7, layer: .water, startPoint: "A", endPoint: "B",
            geometry: try LineString([Point(501000, 3379000), Point(501010, 3379000)]), sourceID: "W-7")
        let area = try OperatorArea(
            id: 3, kind: .interest, owner: "KPN",
            geometry: .polygon(Polygon(rings: [[Point(501000, 3379000), Point(501010, 3379000), Point(501010, 3379010), Point(501000, 3379000)]])))
        do {
            let store = try GeoPackageStore.create(at: path)
            try store.apply(StoreEdit(upsertSegments: [seg], upsertAreas: [area]))
        }
        // As such stores were written: no table, no columns.
        do {
            let db = try Database(path: path, mode: .readWrite)
            try db.execute("ALTER TABLE subterra_segments DROP COLUMN source_file")
            try db.execute("ALTER TABLE \(GeoPackageStore.areaTable) DROP COLUMN source_file")
            try db.execute("DROP TABLE \(GeoPackageStore.sourceFileTable)")
            try db.execute("DELETE FROM gpkg_contents WHERE table_name = '\(GeoPackageStore.sourceFileTable)'")
            try db.execute("VACUUM")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let ro = try GeoPackageStore.open(at: path, readOnly: true)
        #expect(try ro.loadAll().segments == [seg])
        // Areas come back as multipolygons: compare what identifies them.
        #expect(try ro.loadAll().areas.map { [$0.id, $0.sourceFile] as [AnyHashable?] } == [[3, nil]])
        let rw = try GeoPackageStore.open(at: path)
        #expect(try rw.loadAll().segments == [seg])
        #expect(try rw.sourceFiles() == [], "no table: no files, and no error")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes, "opening and reading never write")

        var named = seg
        named.sourceFile = "deliveries/water.geojson"
        var namedArea = area
        namedArea.sourceFile = "deliveries/zones.geojson"
        try rw.apply(StoreEdit(upsertSegments: [named], upsertAreas: [namedArea]))
        let after = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        #expect(after.segments == [named])
        #expect(after.areas.map(\.sourceFile) == ["deliveries/zones.geojson"])
        #expect(try rw.sourceFiles() == ["deliveries/water.geojson", "deliveries/zones.geojson"])
    }

    /// A 10 m water main `id` from `file`.
    static func seg(_ id: Int64, _ file: String) throws -> PipeSegment {
        PipeSegment(
            id: id, layer: .water, startPoint: PointNumber("A\(id)"), endPoint: PointNumber("B\(id)"),
            geometry: try LineString([Point(501000, 3379000 + Double(id)), Point(501010, 3379000 + Double(id))]),
            sourceFile: file)
    }

    @Test("a write rolled back forgets the source files it added")
    func rollbackForgetsAddedFiles() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        store._afterRowWritten = { _ in throw StoreError("stop", path: "test") }
        #expect(throws: StoreError.self) { try store.apply(StoreEdit(upsertSegments: [try Self.seg(1, "a.geojson")])) }
        store._afterRowWritten = nil
        // "b" now takes the id the rolled-back "a" had; "a" must get its own again.
        try store.apply(StoreEdit(upsertSegments: [try Self.seg(2, "b.geojson")]))
        try store.apply(StoreEdit(upsertSegments: [try Self.seg(3, "a.geojson")]))
        #expect(try store.loadAll().segments.map(\.sourceFile) == ["b.geojson", "a.geojson"])
    }

    @Test("rows rolled back to a streamed write's mark take their new source files with them")
    func streamedRollbackForgetsAddedFiles() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        try store.withStreamedWrite { w in
            try w.mark()
            try w.write(try Self.seg(1, "a.geojson"))
            try w.rollBackToMark()
            try w.write(try Self.seg(2, "b.geojson"))
            try w.write(try Self.seg(3, "a.geojson"))
            return ((), StoreEdit())
        }
        #expect(try store.loadAll().segments.map(\.sourceFile) == ["b.geojson", "a.geojson"])
    }

    @Test("the source file is Codable, optional, and absent from JSON without one")
    func codable() throws {
        var s = PipeSegment(
            id: 1, layer: .power, startPoint: "A", endPoint: "B",
            geometry: try LineString([Point(0, 0), Point(1, 0)]))
        let plain = try JSONEncoder().encode(s)
        #expect(!String(decoding: plain, as: UTF8.self).contains("sourceFile"))
        #expect(try JSONDecoder().decode(PipeSegment.self, from: plain) == s)
        s.sourceFile = "d/kabels.geojson"
        #expect(try JSONDecoder().decode(PipeSegment.self, from: JSONEncoder().encode(s)) == s)
        var a = try OperatorArea(
            id: 1, kind: .precaution, owner: "Gasunie",
            geometry: .polygon(Polygon(rings: [[Point(0, 0), Point(1, 0), Point(1, 1), Point(0, 0)]])))
        #expect(try JSONDecoder().decode(OperatorArea.self, from: JSONEncoder().encode(a)).sourceFile == nil)
        a.sourceFile = "d/zones.geojson"
        #expect(try JSONDecoder().decode(OperatorArea.self, from: JSONEncoder().encode(a)) == a)
    }
}
