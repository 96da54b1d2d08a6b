import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

@Suite("Import into a store is all or nothing")
struct ImportTransactionTests {
    /// A store with some content, and a CSV survey table to import on top of it.
    func fixture() throws -> (dir: URL, store: GeoPackageStore, path: String, sources: [ImportSource]) {
        let dir = storeTempDir()
        let path = dir.appendingPathComponent("s.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        let (segs, pts) = randomNetwork(segments: 80, seed: 21)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        var p = "点号,管线类别,附属物,X,Y,埋深\n"
        var s = "起点号,终点号,管线类别,起点埋深,终点埋深\n"
        for i in 0..<400 {
            p += "N\(i),DL,手孔,\(3_380_000 + Double(i) * 3),\(502_000 + Double(i % 7)),1.0\n"
            if i > 0 { s += "N\(i - 1),N\(i),DL,1.0,1.0\n" }
        }
        try Data(p.utf8).write(to: dir.appendingPathComponent("p.csv"))
        try Data(s.utf8).write(to: dir.appendingPathComponent("s.csv"))
        let sources = [
            ImportSource(path: dir.appendingPathComponent("p.csv").path, format: .csv(geometryColumn: nil), content: .points,
                         mapping: try mapping("cjj61-survey-points.json")),
            ImportSource(path: dir.appendingPathComponent("s.csv").path, format: .csv(geometryColumn: nil), content: .segments,
                         mapping: try mapping("cjj61-survey-segments.json")),
        ]
        return (dir, store, path, sources)
    }

    @Test("a failure injected halfway through the write leaves the file byte-identical")
    func injectedFailure() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let before = try Data(contentsOf: URL(fileURLWithPath: f.path))
        struct DiskFull: Error {}
        f.store._afterRowWritten = { n in if n == 500 { throw DiskFull() } } // 399 segments + 400 points
        #expect(throws: (any Error).self) { try Importer.run(f.sources, into: f.store, options: ImportOptions()) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.path)) == before)
        // Without the fault the same import lands completely.
        f.store._afterRowWritten = nil
        let r = try Importer.run(f.sources, into: f.store, options: ImportOptions())
        #expect(r.segments.count == 399 && r.points.count == 400)
        #expect(try f.store.counts() == (80 + 399, try f.store.loadAll().points.count))
    }

    @Test("read-then-write into a non-empty store never replaces stored segments with made-up ids")
    func readThenWrite() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        let stored = try f.store.loadAll().segments
        let r = try Importer.read(f.sources, options: ImportOptions()) // ids 1…399, colliding
        try Importer.write(r, to: f.store)
        let after = try f.store.loadAll()
        #expect(after.segments.count == stored.count + 399)
        for s in stored { #expect(after.segment(id: s.id) == s) }
        #expect(try f.store.metadata()["import.last.idOffset"] == "80")
    }

    @Test("a strict rejection writes nothing")
    func strictRejection() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        // One bad depth in the last row of the segment table.
        let segPath = f.sources[1].path
        var text = try String(contentsOfFile: segPath, encoding: .utf8)
        text += "N398,N399,DL,1.0,-3\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: segPath))
        let before = try Data(contentsOf: URL(fileURLWithPath: f.path))
        let e = #expect(throws: ImportError.self) { try Importer.run(f.sources, into: f.store, options: ImportOptions(policy: .strict)) }
        #expect(e?.report?.errors.first?.location.index == 401)
        #expect(e?.report?.errors.first?.location.field == "终点埋深")
        #expect(try Data(contentsOf: URL(fileURLWithPath: f.path)) == before)
    }

    @Test("reading our own GeoPackage back runs the cross-record checks on it")
    func ownGeoPackage() throws {
        let f = try fixture()
        defer { try? FileManager.default.removeItem(at: f.dir) }
        var (segs, _) = randomNetwork(segments: 80, seed: 21)
        var dup = segs[5]
        dup.id = 10_000
        segs = [dup]
        try f.store.apply(StoreEdit(upsertSegments: segs))
        let r = try Importer.read(
            [ImportSource(path: f.path, format: .geoPackage(table: nil), content: .segments, mapping: FieldMapping(fields: [:]))],
            options: ImportOptions(policy: .lenient))
        #expect(r.segments.count == 81)
        let d = r.report.issues(.duplicateSegment)
        #expect(d.count == 1 && d.first?.location.index == 10_000 && d.first?.location.unit == .fid)
    }
}
