import Foundation
import SubterraGeometry
import Testing

@testable import SubterraModel

/// Multi-part lines (a pipe of several polylines keeps its identity) and operators' text ids,
/// through import, the importer's id assignment and the GeoPackage store, old stores included.
@Suite("Import: multi-part features and source ids")
struct FeaturesAndIDsTests {
    /// Three features in EPSG:4549: a three-part cable with an IMKL text id and end depths, a
    /// water main with the numeric id 17, and a two-part main with the numeric id 9 whose parts
    /// share a vertex.
    static let delivery = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},
         "features":[
          {"type":"Feature","properties":{"id":"nl.imkl-KL1031.EKBL_0042","layer":"DL","start_depth":1.0,"end_depth":2.0,"owner":"Liander"},
           "geometry":{"type":"MultiLineString","coordinates":[
             [[501000,3379000],[501010,3379000]],[[501020,3379000],[501030,3379000]],[[501030,3379010],[501030,3379030]]]}},
          {"type":"Feature","properties":{"id":"17","layer":"JS","start_depth":1.2,"end_depth":1.2},
           "geometry":{"type":"LineString","coordinates":[[501000,3379100],[501050,3379100]]}},
          {"type":"Feature","properties":{"id":9,"layer":"JS"},
           "geometry":{"type":"MultiLineString","coordinates":[
             [[501000,3379200],[501010,3379200]],[[501010,3379200],[501020,3379210]]]}}
         ]}
        """

    static let mapping = FieldMapping(
        name: "test delivery",
        fields: [
            "id": .field("id"), "layer": .field("layer"), "startDepth": .field("start_depth"),
            "endDepth": .field("end_depth"), "owner": .field("owner"),
        ])

    static func source(in dir: URL) throws -> ImportSource {
        let path = dir.appendingPathComponent("delivery.geojson").path
        try Data(delivery.utf8).write(to: URL(fileURLWithPath: path))
        return ImportSource(path: path, format: .geoJSON, content: .segments, mapping: mapping)
    }

    @Test("strict import keeps a MultiLineString as one feature of several parts")
    func multiLineStringKeepsTheFeature() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Importer.read([try Self.source(in: dir)], options: ImportOptions(policy: .strict))
        #expect(!r.report.hasErrors, "\(r.report.errors)")
        let byID = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.id, $0) })
        #expect(r.segments.count == 6)
        // The text id is kept verbatim; its row ids are assigned from 1, one per part.
        let cable = r.segments.filter { $0.sourceID == "nl.imkl-KL1031.EKBL_0042" }.sorted { $0.id < $1.id }
        #expect(cable.map(\.id) == [1, 2, 3])
        #expect(cable.map(\.feature) == [1, 1, 1])
        #expect(cable.map(\.part) == [1, 2, 3])
        #expect(cable.allSatisfy { $0.featureID == 1 && $0.layer == .power && $0.owner == "Liander" })
        #expect(cable.map { $0.geometry.points.count } == [2, 2, 2])
        #expect(cable[2].geometry.points[1] == Point(501030, 3379030))
        // End depths run along the feature's 40 m: parts of 10, 10 and 20 m.
        let depths = cable.map { [$0.startDepth ?? .nan, $0.endDepth ?? .nan] }
        let want: [[Double]] = [[1.0, 1.25], [1.25, 1.5], [1.5, 2.0]]
        for (got, w) in zip(depths, want) { #expect(zip(got, w).allSatisfy { abs($0 - $1) < 1e-12 }, "\(depths)") }
        // A whole-number id stays the row id, with no source id; a single part has no feature.
        #expect(byID[17]?.sourceID == nil)
        #expect(byID[17]?.feature == nil && byID[17]?.part == nil && byID[17]?.featureID == 17)
        // A multi-part feature with a numeric id: the first part keeps it, the next is assigned.
        #expect(byID[9]?.feature == 9 && byID[9]?.part == 1)
        #expect(byID[4]?.feature == 9 && byID[4]?.part == 2)
        #expect(byID[4]?.geometry.points.last == Point(501020, 3379210))
        // The inner ends of the two touching parts are one node.
        #expect(byID[9]?.endPoint == byID[4]?.startPoint)
        #expect(r.assignedIDs == [1, 2, 3, 4])
    }

    @Test("a foreign GeoPackage of MULTILINESTRING features imports like the GeoJSON",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ogr2ogr"), "ogr2ogr (gdal-bin) not installed"))
    func multiLineStringFromGeoPackage() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = try Self.source(in: dir)
        let gpkg = dir.appendingPathComponent("delivery.gpkg").path
        // Every feature a MULTILINESTRING, single lines as one part, as many tools write them.
        let conv = try #require(runTool("/usr/bin/ogr2ogr", ["-f", "GPKG", gpkg, json.path, "-nln", "lines", "-nlt", "MULTILINESTRING"]))
        #expect(conv.status == 0, "\(conv.output)")
        let viaJSON = try Importer.read([json], options: ImportOptions(policy: .strict))
        let viaGpkg = try Importer.read(
            [ImportSource(path: gpkg, format: .geoPackage(table: nil), content: .segments, mapping: Self.mapping)],
            options: ImportOptions(policy: .strict))
        #expect(withoutSourceFiles(viaGpkg.segments) == withoutSourceFiles(viaJSON.segments))
        #expect(viaGpkg.segments.allSatisfy { $0.sourceFile == gpkg } && viaJSON.segments.allSatisfy { $0.sourceFile == json.path })
    }

    @Test("a text id is no longer refused as 'not a number'")
    func textIDIsKeptNotRefused() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let r = try Importer.read([try Self.source(in: dir)], options: ImportOptions(policy: .lenient))
        #expect(!r.report.issues.contains { $0.message.contains("is not a number") }, "\(r.report.issues)")
        #expect(!r.report.issues.contains { $0.message.contains("MultiLineString") }, "\(r.report.issues)")
    }

    @Test("a fractional id is still refused and a new id assigned")
    func fractionalIDStillRefused() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("f.geojson").path
        try Data("""
            {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
             {"type":"Feature","properties":{"id":"1.5","layer":"JS"},
              "geometry":{"type":"LineString","coordinates":[[501000,3379100],[501050,3379100]]}}]}
            """.utf8).write(to: URL(fileURLWithPath: path))
        let r = try Importer.read(
            [ImportSource(path: path, format: .geoJSON, content: .segments, mapping: Self.mapping)],
            options: ImportOptions(policy: .lenient))
        #expect(r.segments.map(\.id) == [1])
        #expect(r.segments.first?.sourceID == nil)
        #expect(r.report.issues.contains { $0.message.contains("not a whole number") })
    }

    @Test("source id, feature and part round-trip through the store")
    func roundTripThroughStore() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        let r = try Importer.run([try Self.source(in: dir)], into: store, options: ImportOptions(policy: .strict))
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll().segments.sorted { $0.id < $1.id }
        #expect(back == r.segments.sorted { $0.id < $1.id })
        #expect(back.contains { $0.sourceID == "nl.imkl-KL1031.EKBL_0042" && $0.part == 3 && $0.feature == 1 })
        #expect(try store.metadata()["subterra.schema"] == "2")
    }

    @Test("a feature re-imported under its id replaces all its stored parts")
    func reimportReplacesParts() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        func delivery(_ geometry: String) throws -> ImportSource {
            let path = dir.appendingPathComponent("d.geojson").path
            try Data("""
                {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
                 {"type":"Feature","properties":{"id":9,"layer":"JS"},"geometry":\(geometry)}]}
                """.utf8).write(to: URL(fileURLWithPath: path))
            return ImportSource(path: path, format: .geoJSON, content: .segments, mapping: Self.mapping)
        }
        let three = """
            {"type":"MultiLineString","coordinates":[[[501000,3379200],[501010,3379200]],
             [[501010,3379200],[501020,3379210]],[[501020,3379210],[501030,3379210]]]}
            """
        try Importer.run([try delivery(three)], into: store, options: ImportOptions(policy: .strict))
        let ids = try store.loadAll().segments.map(\.id)
        try Importer.run([try delivery(three)], into: store, options: ImportOptions(policy: .strict))
        var parts = try store.loadAll().segments.filter { $0.featureID == 9 }
        #expect(parts.map(\.id) == ids, "the same delivery twice keeps the part ids: \(parts.map(\.id))")
        // The first part keeps the explicit id; the others were assigned 1 and 2 the first time.
        #expect(parts.sorted { ($0.part ?? 0) < ($1.part ?? 0) }.map(\.id) == [9, 1, 2])
        // The pipe is delivered again as one line: its old parts go.
        let one = #"{"type":"LineString","coordinates":[[501000,3379200],[501030,3379210]]}"#
        try Importer.run([try delivery(one)], into: store, options: ImportOptions(policy: .strict))
        parts = try store.loadAll().segments
        #expect(parts.map(\.id) == [9] && parts[0].feature == nil, "\(parts.map(\.id))")
    }

    @Test("a feature re-imported under its text id takes its stored row ids again")
    func reimportByTextID() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        let source = try Self.source(in: dir)
        let first = try Importer.run([source], into: store, options: ImportOptions(policy: .strict))
        try Importer.run([source], into: store, options: ImportOptions(policy: .strict))
        let again = try store.loadAll().segments
        #expect(again.sorted { $0.id < $1.id } == first.segments.sorted { $0.id < $1.id }, "\(again.map(\.id))")
        // Delivered again in two parts: the parts keep ids 1 and 2, the third goes.
        let two = Self.delivery.replacingOccurrences(
            of: "[[501020,3379000],[501030,3379000]],[[501030,3379010],[501030,3379030]]",
            with: "[[501020,3379000],[501030,3379030]]")
        try Data(two.utf8).write(to: URL(fileURLWithPath: source.path))
        try Importer.run([source], into: store, options: ImportOptions(policy: .strict))
        let cable = try store.loadAll().segments.filter { $0.sourceID == "nl.imkl-KL1031.EKBL_0042" }
        #expect(cable.map(\.id).sorted() == [1, 2] && cable.allSatisfy { $0.feature == 1 }, "\(cable.map(\.id))")
        #expect(try store.counts().segments == 5)
    }

    @Test("assigned ids moved past a store's ids move the feature keys with them")
    func shiftedIDsKeepFeatures() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        let existing = (1...5).map { i in
            PipeSegment(
                id: Int64(i), layer: .water, startPoint: PointNumber("A\(i)"), endPoint: PointNumber("B\(i)"),
                geometry: try! LineString([Point(501000, 3379300 + Double(i)), Point(501010, 3379300 + Double(i))]))
        }
        try store.apply(StoreEdit(upsertSegments: existing))
        // Read with ids from 1, as a caller of `read` + `write` does: they collide.
        let r = try Importer.read([try Self.source(in: dir)], options: ImportOptions(policy: .strict))
        try Importer.write(r, to: store)
        let all = try store.loadAll().segments
        #expect(all.count == 11)
        let ids = Set(all.map(\.id))
        for s in all where s.feature != nil { #expect(ids.contains(s.feature!), "feature \(s.feature!) of \(s.id)") }
        let cable = all.filter { $0.sourceID != nil }
        #expect(cable.count == 3 && Set(cable.map(\.featureID)).count == 1)
        #expect(cable.allSatisfy { $0.id > 5 } && cable.contains { $0.id == $0.featureID && $0.part == 1 })
        #expect(all.filter { $0.featureID == 9 }.count == 2)
    }

    @Test("a store written before the feature columns opens, reads them as absent, and upgrades on write")
    func oldStoreOpens() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("old.gpkg").path
        let old = PipeSegment(
            id: 7, layer: .water, startPoint: "A", endPoint: "B",
            geometry: try LineString([Point(501000, 3379000), Point(501010, 3379000)]), startDepth: 1, endDepth: 1)
        do {
            let store = try GeoPackageStore.create(at: path)
            try store.apply(StoreEdit(upsertSegments: [old]))
        }
        // Make it a schema 1 store: the columns of that schema only.
        do {
            let db = try Database(path: path, mode: .readWrite)
            for c in ["part", "feature", "source_id"] { try db.execute("ALTER TABLE subterra_segments DROP COLUMN \(c)") }
            try db.execute("UPDATE subterra_metadata SET value = '1' WHERE key = 'subterra.schema'")
            try db.execute("VACUUM")
        }
        let ro = try GeoPackageStore.open(at: path, readOnly: true)
        #expect(try ro.loadAll().segments == [old])
        #expect(try ro.metadata()["subterra.schema"] == "1")
        let rw = try GeoPackageStore.open(at: path)
        #expect(try rw.loadAll().segments == [old])
        var part = old
        part.id = 8
        part.sourceID = "OP-8"
        part.feature = 7
        part.part = 2
        try rw.apply(StoreEdit(upsertSegments: [part]))
        #expect(try rw.metadata()["subterra.schema"] == "2")
        #expect(try GeoPackageStore.open(at: path, readOnly: true).loadAll().segments == [old, part])
    }

    @Test("a part number below 1 is refused")
    func partNumbersCountFromOne() throws {
        var s = PipeSegment(
            id: 1, layer: .water, startPoint: "A", endPoint: "B",
            geometry: try LineString([Point(501000, 3379000), Point(501010, 3379000)]), feature: 1, part: 1)
        try s.validate()
        s.part = 0
        #expect(throws: ModelError.self) { try s.validate() }
    }

    @Test("a store with only some of the feature columns is refused, naming the missing one")
    func partialFeatureColumnsRefused() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("half.gpkg").path
        _ = try GeoPackageStore.create(at: path)
        do {
            let db = try Database(path: path, mode: .readWrite)
            try db.execute("ALTER TABLE subterra_segments DROP COLUMN part")
        }
        #expect(throws: StoreError.self) { try GeoPackageStore.open(at: path, readOnly: true) }
        do {
            _ = try GeoPackageStore.open(at: path, readOnly: true)
        } catch {
            #expect(error.field == "part", "\(error)")
        }
    }
}
