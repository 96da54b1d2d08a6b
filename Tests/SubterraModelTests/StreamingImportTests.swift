import Foundation
import SubterraDatasets
import SubterraGeometry
import Testing
@testable import SubterraModel

/// The streamed GeoJSON import (feature by feature into the builder, issue 14) against the
/// whole-file path it replaced: every file loaded into records first (`SourceLoader.load`), then
/// handed to the same import as `.records` sources.
@Suite("Import: streamed GeoJSON equals the whole-file read")
struct StreamingImportTests {
    /// The fields `subterra-gen` writes, as the CLI's district mappings read them.
    static let segmentMapping = FieldMapping(name: "district segments", fields: [
        "id": .field("id"), "layer": .field("layer"), "subtype": .field("subtype"),
        "startPoint": .field("start_point"), "endPoint": .field("end_point"),
        "startDepth": .field("start_depth"), "endDepth": .field("end_depth"),
        "startElevation": .field("start_elevation"), "endElevation": .field("end_elevation"),
        "elevationReference": FieldMapping.Rule(from: ["elevation_ref"], default: "top"),
        "section": .field("section"), "material": .field("material"), "owner": .field("owner"),
        "road": .field("road"), "status": .field("status"), "cableCount": .field("cable_count"),
    ])
    static let pointMapping = FieldMapping(name: "district points", fields: [
        "pointNumber": .field("number"), "layer": .field("layer"), "category": .field("category"),
        "kind": .field("kind"), "groundElevation": .field("ground_elevation"), "depth": .field("depth"),
    ])

    /// A generated district in a fresh directory: segments.geojson and points.geojson.
    func district(segments: Int = 1500, seed: UInt64 = 7) throws -> URL {
        let dir = storeTempDir()
        try DistrictFiles.write(DistrictGenerator(segments: segments, seed: seed), to: dir.path, format: .geojson)
        return dir
    }

    func sources(_ dir: URL, segmentsFile: String = "segments.geojson") -> [ImportSource] {
        [
            ImportSource(path: dir.appendingPathComponent(segmentsFile).path, format: .geoJSON, content: .segments,
                         mapping: Self.segmentMapping),
            ImportSource(path: dir.appendingPathComponent("points.geojson").path, format: .geoJSON, content: .points,
                         mapping: Self.pointMapping),
        ]
    }

    /// The previous path: each file read whole into records, then imported as `.records`.
    func wholeFile(_ sources: [ImportSource], options: ImportOptions) throws -> [ImportSource] {
        var report = QualityReport()
        return try sources.map { s in
            guard case .records(let recs, let crs) = try SourceLoader.load(s, options: options, report: &report) else {
                Issue.record("a GeoJSON file loads as records")
                return s
            }
            #expect(report.issues.isEmpty)
            // Geometries are in the target CRS already; x/y fields (none here) stay in `crs`.
            #expect(crs == options.targetCRS)
            return ImportSource(path: s.path, format: .records(recs, crs: options.targetCRS), content: s.content, mapping: s.mapping)
        }
    }

    /// Writes `late.geojson` beside `segments.geojson` in `dir`: the same file with its `crs`
    /// member moved after the features.
    func writeLateCRSCopy(_ dir: URL) throws {
        let path = dir.appendingPathComponent("segments.geojson").path
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let member = try #require(text.range(of: #""crs":\{"type":"name","properties":\{"name":"[^"]*"\}\},"#, options: .regularExpression))
        let crs = String(text[member].dropLast())
        text.removeSubrange(member)
        let close = try #require(text.range(of: "}", options: .backwards))
        text.replaceSubrange(close, with: "," + crs + "}")
        try text.write(toFile: dir.appendingPathComponent("late.geojson").path, atomically: true, encoding: .utf8)
    }

    /// Gives the last feature of the segments file at `path` a negative start depth (an error
    /// under strict); returns the new text.
    @discardableResult
    func spoilLastStartDepth(_ path: String) throws -> String {
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let key = try #require(text.range(of: #""start_depth":"#, options: .backwards))
        let value = try #require(text[key.upperBound...].firstIndex(of: ","))
        text.replaceSubrange(key.upperBound..<value, with: "-3")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return text
    }

    func expectSame(_ a: ImportResult, _ b: ImportResult) {
        #expect(a.segments == b.segments)
        #expect(a.points == b.points)
        #expect(a.report == b.report)
        #expect(a.recordsRead == b.recordsRead)
        #expect(a.syntheticNodes == b.syntheticNodes)
        #expect(a.assignedIDs == b.assignedIDs)
    }

    @Test("a generated district imports identically, in either file order and under both policies")
    func districtMatchesWholeFileRead() throws {
        let dir = try district()
        defer { try? FileManager.default.removeItem(at: dir) }
        for policy in [ImportPolicy.lenient, .strict] {
            let options = ImportOptions(policy: policy)
            for srcs in [sources(dir), sources(dir).reversed()] {
                let streamed: ImportResult
                do { streamed = try Importer.read(srcs, options: options) } catch {
                    // The seeded district carries quality errors: strict refuses both ways alike.
                    #expect(policy == .strict)
                    let old = #expect(throws: ImportError.self) { try Importer.read(try wholeFile(srcs, options: options), options: options) }
                    #expect(old?.report == error.report && old?.message == error.message)
                    continue
                }
                let previous = try Importer.read(try wholeFile(srcs, options: options), options: options)
                #expect(streamed.segments.count > 1000 && streamed.points.count > 500)
                expectSame(streamed, previous)
            }
        }
        // Written to stores, both give the same rows.
        let options = ImportOptions(policy: .lenient)
        let a = try GeoPackageStore.create(at: dir.appendingPathComponent("a.gpkg").path)
        let b = try GeoPackageStore.create(at: dir.appendingPathComponent("b.gpkg").path)
        try Importer.run(sources(dir), into: a, options: options)
        try Importer.write(try Importer.read(try wholeFile(sources(dir), options: options), options: options), to: b)
        let na = try a.loadAll(), nb = try b.loadAll()
        #expect(na.segments == nb.segments && na.points == nb.points)
    }

    @Test("a `crs` member after the features is honoured: the file is read again in it")
    func lateCRSMember() throws {
        let dir = try district(segments: 300)
        defer { try? FileManager.default.removeItem(at: dir) }
        try writeLateCRSCopy(dir)
        let options = ImportOptions(policy: .lenient)
        let late = try Importer.read(sources(dir, segmentsFile: "late.geojson"), options: options)
        let early = try Importer.read(sources(dir), options: options)
        #expect(withoutSourceFiles(late.segments) == withoutSourceFiles(early.segments) && late.points == early.points)
        #expect(late.segments.allSatisfy { $0.sourceFile?.hasSuffix("late.geojson") == true })
        #expect(late.recordsRead == early.recordsRead && late.syntheticNodes == early.syntheticNodes)
        // The report differs only in the file name.
        #expect(late.report.issues.map(\.message) == early.report.issues.map(\.message))
        #expect(late.segments.count > 250)
    }

    @Test("a bad record at the end of a large file leaves the store untouched under strict")
    func lateBadRecordStrict() throws {
        let dir = try district(segments: 6000, seed: 11)
        defer { try? FileManager.default.removeItem(at: dir) }
        let options = ImportOptions(policy: .lenient)
        // A clean copy first: only the records the lenient import keeps without issues.
        let clean = try Importer.read(sources(dir), options: options)
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        try store.apply(StoreEdit(upsertSegments: Array(clean.segments.prefix(10)), upsertPoints: []))
        let before = try Data(contentsOf: URL(fileURLWithPath: store.path))
        // The last feature of the segments file gets a negative depth (an error under strict).
        let path = dir.appendingPathComponent("segments.geojson").path
        let text = try spoilLastStartDepth(path)
        var strict = ImportOptions(policy: .strict)
        strict.firstSegmentID = 1
        let e = #expect(throws: ImportError.self) { try Importer.run(sources(dir), into: store, options: strict) }
        let features = try GeoJSON.forEachFeature(inFile: path) { _, _ in }.featureCount
        #expect(features == 6000)
        #expect(e?.report?.errors.contains { $0.location.index == features - 1 && $0.location.field == "start_depth" } == true,
                "\(e?.report?.errors.map(\.description) ?? [])")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)
        // A file cut off near its end (unreadable JSON) is refused as a whole, too.
        try String(text.dropLast(200)).write(toFile: path, atomically: true, encoding: .utf8)
        let cut = #expect(throws: ImportError.self) { try Importer.run(sources(dir), into: store, options: options) }
        #expect(cut?.message.contains("not readable as GeoJSON") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: store.path)) == before)
    }

    @Test("a large write loads the R-tree in bulk: same index as row-by-row triggers, triggers and indexes kept")
    func bulkRTree() throws {
        let dir = try district(segments: 5000, seed: 3)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Importer.read(sources(dir), options: ImportOptions(policy: .lenient))
        #expect(result.segments.count >= GeoPackageStore.bulkSpatialIndexRows)
        // Bulk: one large edit. Row by row: edits below the bulk threshold (the triggers).
        let bulk = try GeoPackageStore.create(at: dir.appendingPathComponent("bulk.gpkg").path)
        try bulk.apply(StoreEdit(upsertSegments: result.segments, upsertPoints: result.points))
        let rows = try GeoPackageStore.create(at: dir.appendingPathComponent("rows.gpkg").path)
        for chunk in stride(from: 0, to: result.segments.count, by: 1000) {
            try rows.apply(StoreEdit(upsertSegments: Array(result.segments[chunk..<min(chunk + 1000, result.segments.count)]), upsertPoints: []))
        }
        for chunk in stride(from: 0, to: result.points.count, by: 1000) {
            try rows.apply(StoreEdit(upsertSegments: [], upsertPoints: Array(result.points[chunk..<min(chunk + 1000, result.points.count)])))
        }
        func rtree(_ s: GeoPackageStore, _ table: String) throws -> [[Double]] {
            let db = try Database(path: s.path, mode: .readOnly)
            let st = try db.prepare("SELECT id, minx, maxx, miny, maxy FROM \"rtree_\(table)_geom\" ORDER BY id")
            var out: [[Double]] = []
            while try st.step() { out.append((0..<5).map { st.double(Int32($0)) }) }
            return out
        }
        func triggers(_ s: GeoPackageStore) throws -> [String] {
            let db = try Database(path: s.path, mode: .readOnly)
            let st = try db.prepare("SELECT name || ': ' || sql FROM sqlite_master WHERE type IN ('trigger', 'index') ORDER BY name")
            var out: [String] = []
            while try st.step() { out.append(st.text(0) ?? "") }
            return out
        }
        for t in [GeoPackageStore.segmentTable, GeoPackageStore.pointTable] {
            let a = try rtree(bulk, t)
            #expect(a.count > 1000)
            #expect(a == (try rtree(rows, t)))
        }
        #expect(try triggers(bulk) == (try triggers(rows)))
        #expect(try triggers(bulk).filter { $0.hasPrefix("rtree_") }.count == 12)
        #expect(try triggers(bulk).filter { $0.hasPrefix("subterra_segments_") }.count == 2)
        // The triggers work after a bulk write: a moved segment moves in the R-tree.
        var moved = result.segments[0]
        moved.geometry = try LineString([Point(x: 640_000, y: 3_140_000), Point(x: 640_010, y: 3_140_000)])
        try bulk.apply(StoreEdit(upsertSegments: [moved], upsertPoints: []))
        #expect(try bulk.load(in: Envelope(minX: 639_999, minY: 3_139_999, maxX: 640_011, maxY: 3_140_001)).segments.map(\.id) == [moved.id])
        // A bulk write that fails rolls back rows, index and triggers alike.
        let before = try Data(contentsOf: URL(fileURLWithPath: bulk.path))
        struct Injected: Error {}
        bulk._afterRowWritten = { n in if n == 4500 { throw Injected() } }
        #expect(throws: (any Error).self) { try bulk.apply(StoreEdit(upsertSegments: result.segments, upsertPoints: [])) }
        bulk._afterRowWritten = nil
        #expect(try Data(contentsOf: URL(fileURLWithPath: bulk.path)) == before)
        #expect(try triggers(bulk) == (try triggers(rows)))
    }
}
