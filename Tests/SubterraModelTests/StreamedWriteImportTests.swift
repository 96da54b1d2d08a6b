import Foundation
import SubterraDatasets
import SubterraGeometry
import Testing
@testable import SubterraModel

/// `Importer.stream`, which writes each record to the store as soon as it is checked and runs
/// the cross-record checks on compact keys, against `Importer.read` + `Importer.write`, which
/// hold every record and check the whole list (issue 14).
@Suite("Import: rows written during the read")
struct StreamedWriteImportTests {
    typealias Mappings = StreamingImportTests

    /// One GeoJSON feature in EPSG:4549 (metres): a point, a line or a multi-line.
    static func feature(_ geometry: String, _ properties: [String: Any]) -> String {
        let props = try! JSONSerialization.data(withJSONObject: properties, options: [.sortedKeys])
        return #"{"type":"Feature","geometry":"# + geometry + #","properties":"# + String(decoding: props, as: UTF8.self) + "}"
    }

    static func point(_ x: Double, _ y: Double) -> String { #"{"type":"Point","coordinates":["# + "\(x),\(y)]}" }

    static func line(_ pts: [(Double, Double)]) -> String {
        #"{"type":"LineString","coordinates":["# + pts.map { "[\($0.0),\($0.1)]" }.joined(separator: ",") + "]}"
    }

    static func collection(_ features: [String]) -> String {
        #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},"features":["#
            + features.joined(separator: ",\n") + "]}"
    }

    /// Points and segments carrying every cross-record finding: duplicate ids (segments and
    /// points), duplicate, reversed and coincident segments (named ends, snapped ends, synthetic
    /// nodes and unknown points), inconsistent depths and ground elevations, start = end, zero
    /// length, ends that miss their point, and a multi-part line.
    static func defectFiles(in dir: URL) throws -> [ImportSource] {
        let x0 = 637_000.0, y0 = 3_140_000.0
        func p(_ n: String, _ dx: Double, _ dy: Double, ground: Double? = nil) -> String {
            var props: [String: Any] = ["number": n, "layer": "JS", "category": "feature", "kind": "tee"]
            if let ground { props["ground_elevation"] = ground }
            return feature(point(x0 + dx, y0 + dy), props)
        }
        let points = [
            p("P1", 0, 0, ground: 5.0), p("P2", 30, 0, ground: 5.0), p("P3", 30, 30), p("P4", 60, 30),
            p("P5", 0, 60), p("P6", 40, 60), p("P3", 90, 90), p("P7", 90, 0),
        ]
        func s(_ id: Any?, _ a: String?, _ b: String?, _ pts: [(Double, Double)], depth: (Double, Double)? = (1.2, 1.3),
               owner: String = "Water Co", elevation: Double? = nil) -> String {
            var props: [String: Any] = ["layer": "JS", "material": "PE", "section": "DN200", "owner": owner]
            if let id { props["id"] = id }
            if let a { props["start_point"] = a }
            if let b { props["end_point"] = b }
            if let depth { props["start_depth"] = depth.0; props["end_depth"] = depth.1 }
            if let elevation { props["start_elevation"] = elevation }
            return feature(line(pts.map { (x0 + $0.0, y0 + $0.1) }), props)
        }
        let segments = [
            s(1, "P1", "P2", [(0, 0), (30, 0)], elevation: 3.8),            // ground 3.8 + 1.2 = 5.0: fine
            s(2, "P1", "P2", [(0, 0), (30, 0.004)]),                        // duplicate of 1
            s(3, "P2", "P1", [(30, 0), (0, 0)]),                            // reversed 1
            s(4, "P2", "P3", [(30, 0), (30, 30)], depth: (1.3, 1.0)),
            s(5, "P3", "P2", [(30, 30), (30, 0)], depth: (1.0, 1.3), owner: "Other Co"),  // coincident trace
            s(1, "P1", "P7", [(0, 0), (90, 0)]),                            // duplicate id: dropped
            s(6, "P3", "P4", [(30, 30), (60, 30)], depth: (2.0, 1.1)),      // depth at P3 differs
            s(7, "", "", [(0.03, 60), (40, 60.02)]),                        // unnamed ends snap to P5, P6
            s(8, "", "", [(200, 200), (230, 200)]),                         // synthetic nodes
            s(9, "", "", [(230, 200.01), (200.02, 200)]),                   // reversed 8, on the nodes
            s(10, "P4", "P4", [(60, 30), (61, 30)]),                        // start = end
            s(11, "P5", "P6", [(0, 60), (41, 60)]),                         // end misses P6; duplicate of 7
            s(12, "Q9", "P7", [(300, 0), (90, 0)]),                         // unknown point
            s(13, "P7", "Q9", [(90, 0), (300, 0)], owner: "Other Co"),      // coincident, reversed, unknown point
            s(14, "P1", "P7", [(0, 0), (90, 0)], depth: (1.5, 1.0), elevation: 4.5),  // ground and depth at P1 differ
            s(15, "P6", "P4", [(40, 60), (40, 60)]),                        // zero length
            s(nil, "P2", "P7", [(30, 0), (90, 0)]),                         // assigned id
            feature(#"{"type":"MultiLineString","coordinates":[[[637060,3140030],[637070,3140040]],[[637070,3140040],[637090,3140000]]]}"#,
                    ["id": 20, "layer": "JS", "start_point": "P4", "end_point": "P7", "start_depth": 1.0, "end_depth": 1.4]),
            s(16, "P7", "P4", [(90, 0), (60, 30)]),                         // the multi-part line's ends, reversed: no match
            // A 9 mm part (a warning) beside a closed loop (its ends meet: still an error).
            feature(#"{"type":"MultiLineString","coordinates":[[[637100,3140100],[637100.009,3140100]],[[637120,3140100],[637130,3140110],[637120,3140120],[637120,3140100]]]}"#,
                    ["id": 21, "layer": "JS"]),
        ]
        let pts = dir.appendingPathComponent("points.geojson"), segs = dir.appendingPathComponent("segments.geojson")
        try collection(points).write(to: pts, atomically: true, encoding: .utf8)
        try collection(segments).write(to: segs, atomically: true, encoding: .utf8)
        return [
            ImportSource(path: segs.path, format: .geoJSON, content: .segments, mapping: Mappings.segmentMapping),
            ImportSource(path: pts.path, format: .geoJSON, content: .points, mapping: Mappings.pointMapping),
        ]
    }

    /// Every row of a store, in fid order.
    func rows(_ store: GeoPackageStore) throws -> (segments: [PipeSegment], points: [FeaturePoint]) {
        let n = try store.loadAll()
        return (n.segments.sorted { $0.id < $1.id }, n.points.sorted { $0.number.rawValue < $1.number.rawValue })
    }

    @Test("compact-key checks report what the whole-record checks report: same messages, records and order")
    func sameFindings() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sources = try Self.defectFiles(in: dir)
        let options = ImportOptions(policy: .lenient)
        let kept = try Importer.read(sources, options: options)
        let checks = Set(kept.report.issues.map(\.check))
        // The fixture reaches every cross-record check and both kinds of snapped ends.
        for c in [QualityCheck.duplicateSegment, .reversedSegment, .coincidentTrace, .inconsistentPointDepth,
                  .startEqualsEnd, .zeroLength, .endMissesPoint, .unknownPoint, .duplicateIdentifier, .missingField] {
            #expect(checks.contains(c), "\(c) not reached: \(kept.report.issues.map(\.description))")
        }
        #expect(kept.syntheticNodes >= 2)
        #expect(kept.report.issues.contains { $0.check == .reversedSegment && $0.message.contains("~N") })
        #expect(kept.report.issues.contains { $0.check == .coincidentTrace && $0.message.contains("Q9") })
        // One short part does not excuse another part of its record whose ends meet.
        let ends = kept.report.issues(.startEqualsEnd)
        #expect(ends.filter { $0.message.contains("shorter than") }.count == 1, "\(ends)")
        #expect(ends.filter { !$0.message.contains("shorter than") }.count == 2, "segment 10 and the loop: \(ends)")

        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("streamed.gpkg").path)
        let streamed = try Importer.stream(sources, into: store, options: options)
        #expect(streamed.segments.isEmpty && streamed.points.isEmpty)
        #expect(streamed.report == kept.report, "\(streamed.report.issues.map(\.description))")
        #expect(streamed.segmentCount == kept.segments.count && streamed.pointCount == kept.points.count)
        #expect(streamed.syntheticNodes == kept.syntheticNodes && streamed.assignedIDs == kept.assignedIDs)
        #expect(streamed.recordsRead == kept.recordsRead)
        #expect(streamed.multiPart == kept.multiPart && streamed.multiPart.features == 2)

        // The rows equal those of the two-step import.
        let other = try GeoPackageStore.create(at: dir.appendingPathComponent("kept.gpkg").path)
        try Importer.write(kept, to: other)
        let a = try rows(store), b = try rows(other)
        #expect(a.segments == b.segments && a.points == b.points)
        #expect(a.segments.count == kept.segments.count)
        let ma = try store.metadata(), mb = try other.metadata()
        for k in ["import.last.records", "import.last.segments", "import.last.points", "import.last.issues"] {
            #expect(ma[k] == mb[k], "\(k)")
        }

        // Strict: the same rejection, with the same report, and nothing left in the store.
        let strictStore = try GeoPackageStore.create(at: dir.appendingPathComponent("strict.gpkg").path)
        let before = try Data(contentsOf: URL(fileURLWithPath: strictStore.path))
        let e1 = #expect(throws: ImportError.self) { try Importer.read(sources, options: ImportOptions(policy: .strict)) }
        let e2 = #expect(throws: ImportError.self) {
            try Importer.stream(sources, into: strictStore, options: ImportOptions(policy: .strict))
        }
        #expect(e1 != nil && e1 == e2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: strictStore.path)) == before)
    }

    @Test("a generated district streams into the same rows and report as the two-step import")
    func districtSameRows() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try DistrictFiles.write(DistrictGenerator(segments: 5000, seed: 5), to: dir.path, format: .geojson)
        let sources = StreamingImportTests().sources(dir)
        let options = ImportOptions(policy: .lenient)
        let kept = try Importer.read(sources, options: options)
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        let streamed = try Importer.stream(sources, into: store, options: options)
        #expect(streamed.report == kept.report)
        #expect(streamed.segmentCount == kept.segments.count && streamed.segmentCount >= GeoPackageStore.bulkSpatialIndexRows)
        let other = try GeoPackageStore.create(at: dir.appendingPathComponent("k.gpkg").path)
        try Importer.write(kept, to: other)
        let a = try rows(store), b = try rows(other)
        #expect(a.segments == b.segments && a.points == b.points)
        // Both R-trees hold every row, and the triggers and end-point indexes are back.
        let db = try Database(path: store.path, mode: .readOnly)
        for t in [GeoPackageStore.segmentTable, GeoPackageStore.pointTable] {
            #expect(try db.scalarInt("SELECT count(*) FROM \"rtree_\(t)_geom\"") == (try db.scalarInt("SELECT count(*) FROM \(t)")))
        }
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'rtree_%'") == 12)
        #expect(try db.scalarInt("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN ('subterra_segments_start', 'subterra_segments_end')") == 2)
        // A `crs` member after the features: the rows written in the assumed CRS are rolled back
        // to the file's start and the file is written again in the declared one.
        try StreamingImportTests().writeLateCRSCopy(dir)
        let late = try GeoPackageStore.create(at: dir.appendingPathComponent("late.gpkg").path)
        let lateResult = try Importer.stream(StreamingImportTests().sources(dir, segmentsFile: "late.geojson"), into: late, options: options)
        #expect(lateResult.segmentCount == kept.segments.count)
        let c = try rows(late)
        // The same features, each naming the file it was read from.
        #expect(withoutSourceFiles(c.segments) == withoutSourceFiles(b.segments) && c.points == b.points)
    }

    @Test("rows written during the read are rolled back on a strict failure late in the file")
    func lateStrictFailureRollsBack() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try DistrictFiles.write(DistrictGenerator(segments: 6000, seed: 11), to: dir.path, format: .geojson)
        let sources = StreamingImportTests().sources(dir)
        // The last feature of the segments file gets a negative depth (an error under strict).
        try StreamingImportTests().spoilLastStartDepth(dir.appendingPathComponent("segments.geojson").path)

        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))
        var written = 0
        store._afterRowWritten = { written = $0 }
        let e = #expect(throws: ImportError.self) { try Importer.stream(sources, into: store, options: ImportOptions(policy: .strict)) }
        store._afterRowWritten = nil
        #expect(e?.report?.errors.contains { $0.location.index == 5999 && $0.location.field == "start_depth" } == true)
        // Every point and every segment before the bad one had been written when it was read.
        let points = try GeoJSON.forEachFeature(inFile: dir.appendingPathComponent("points.geojson").path) { _, _ in }.featureCount
        #expect(written >= points + 5999, "\(written) rows written")
        #expect(try store.counts() == (0, 0))
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)

        // A write that fails halfway rolls back too, with the store's error.
        struct Injected: Error {}
        store._afterRowWritten = { n in if n == 4500 { throw Injected() } }
        #expect(throws: (any Error).self) { try Importer.stream(sources, into: store, options: ImportOptions(policy: .lenient)) }
        store._afterRowWritten = nil
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)

        // The store takes the lenient import afterwards, without the dropped record.
        let result = try Importer.stream(sources, into: store, options: ImportOptions(policy: .lenient))
        #expect(try store.counts() == (result.segmentCount, result.pointCount))
        #expect(result.segmentCount == 6000)
    }

    @Test("compact record locations give back file, unit and index, large and missing indexes too")
    func compactLocations() {
        var files = _FileNames()
        let locations = [
            RecordLocation(file: "a.geojson", unit: .feature, index: 0),
            RecordLocation(file: "b.csv", unit: .line, index: 2),
            RecordLocation(file: "a.geojson", unit: .feature, index: Int(Int32.max)),
            RecordLocation(file: "c.gpkg", unit: .fid, index: Int(Int32.max) + 1),
            RecordLocation(file: "c.gpkg", unit: .fid, index: -5),
            RecordLocation(file: "c.gpkg", unit: .fid, index: nil),
            RecordLocation(file: "b.csv", unit: .line, index: 7),
        ]
        let compact = locations.map { files.compact($0) }
        #expect(compact.map { files.location($0) } == locations)
        #expect(MemoryLayout<_CompactLocation>.stride == 8)
    }
}
