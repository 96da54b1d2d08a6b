import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

/// Damages a store the way real corruption does, deterministically, with nothing but SQLite and
/// byte edits: the oracle for the integrity checks `GeoPackageStore.open` runs.
enum Corrupt {
    /// Removes `rowid`'s entry from the index `name` (a `CREATE INDEX` over `table`): the index is
    /// rebuilt as a partial index without that row, then its definition is put back, so SQLite's
    /// integrity check reports "row … missing from index". `PRAGMA quick_check` does not see it.
    static func dropIndexEntry(_ path: String, index name: String, rowid: Int64) throws {
        let sql = try #require(try Database(path: path, mode: .readOnly).scalarText("SELECT sql FROM sqlite_master WHERE name = ?", .text(name)))
        try rewriteIndex(path, name, sql + " WHERE rowid <> \(rowid)")
        try Database(path: path, mode: .readWrite).execute("REINDEX \(name)")
        try rewriteIndex(path, name, sql)
    }

    /// Replaces an index's definition in the schema (a new connection reads it).
    private static func rewriteIndex(_ path: String, _ name: String, _ sql: String) throws {
        let db = try Database(path: path, mode: .readWrite)
        let version = try #require(try db.scalarInt("PRAGMA schema_version"))
        try db.execute("PRAGMA writable_schema = ON")
        let s = try db.prepare("UPDATE sqlite_master SET sql = ? WHERE name = ?")
        try s.run([.text(sql), .text(name)])
        try db.execute("PRAGMA schema_version = \(version + 1); PRAGMA writable_schema = OFF")
    }

    /// Swaps the first two cell pointers of `table`'s root page, which must be a table leaf
    /// (a small table): its rowids are then out of order, which `PRAGMA quick_check` reports.
    static func swapFirstRows(_ path: String, table: String) throws {
        let (root, pageSize): (Int64, Int64)
        do {
            let db = try Database(path: path, mode: .readOnly)
            root = try #require(try db.scalarInt("SELECT rootpage FROM sqlite_master WHERE name = ?", .text(table)))
            pageSize = try #require(try db.scalarInt("PRAGMA page_size"))
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let page = Int((root - 1) * pageSize)
        try #require(bytes[page] == 0x0D, "root page of \(table) is a table leaf")
        try #require(Int(bytes[page + 3]) << 8 | Int(bytes[page + 4]) >= 2, "at least two rows")
        let first = bytes[(page + 8)..<(page + 10)], second = bytes[(page + 10)..<(page + 12)]
        bytes.replaceSubrange((page + 8)..<(page + 12), with: second + first)
        try bytes.write(to: URL(fileURLWithPath: path))
    }
}

@Suite("Store integrity")
struct StoreIntegrityTests {
    /// A small healthy store (every table fits its root page) at a fresh path.
    func smallStore(_ name: String) throws -> String {
        let path = storeTempDir().appendingPathComponent("\(name).gpkg").path
        let (segs, pts) = randomNetwork(segments: 3, seed: 11)
        try GeoPackageStore.create(at: path).apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        return path
    }

    func expectCorrupt(_ body: () throws -> Void, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try body()
            Issue.record("opened a corrupt store", sourceLocation: sourceLocation)
        } catch let e as StoreError {
            #expect(e.kind == .corrupt, "\(e)", sourceLocation: sourceLocation)
            #expect(e.message.contains(needle), "\(e)", sourceLocation: sourceLocation)
            #expect(!e.description.contains("\n"), "one line: \(e)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not a StoreError: \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("a missing index row is refused for writing and the file is unchanged")
    func missingIndexRowRefusedForWriting() throws {
        let path = try smallStore("index")
        try Corrupt.dropIndexEntry(path, index: "subterra_segments_start", rowid: 2)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        expectCorrupt({ _ = try GeoPackageStore.open(at: path) }, "missing from index subterra_segments_start")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "opening wrote nothing")
        // Nothing can be written through any verification choice.
        expectCorrupt({ _ = try GeoPackageStore.open(at: path, verification: .header) }, "missing from index")
    }

    @Test("rowids out of order are refused for reading and writing")
    func outOfOrderRowsRefused() throws {
        let path = try smallStore("order")
        try Corrupt.swapFirstRows(path, table: GeoPackageStore.segmentTable)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        expectCorrupt({ _ = try GeoPackageStore.open(at: path, readOnly: true) }, "out of order")
        expectCorrupt({ _ = try GeoPackageStore.open(at: path) }, "out of order")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
    }

    @Test("a read-only open checks what its verification asks for")
    func readVerificationLevels() throws {
        let path = try smallStore("levels")
        try Corrupt.dropIndexEntry(path, index: "subterra_segments_start", rowid: 1)
        // quick_check does not compare indexes with tables; reads scan tables, so this is allowed.
        #expect(throws: Never.self) { _ = try GeoPackageStore.open(at: path, readOnly: true).loadAll() }
        expectCorrupt({ _ = try GeoPackageStore.open(at: path, readOnly: true, verification: .integrity) }, "missing from index")
    }

    @Test("the header check catches a truncated or extended file")
    func headerCheck() throws {
        let path = try smallStore("header")
        #expect(throws: Never.self) { _ = try GeoPackageStore.open(at: path, readOnly: true, verification: .header) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let pageSize = Int(bytes[16]) << 8 | Int(bytes[17])
        try bytes.prefix(bytes.count - pageSize).write(to: URL(fileURLWithPath: path))
        expectCorrupt({ _ = try GeoPackageStore.open(at: path, readOnly: true, verification: .header) }, "pages")
        try (bytes + Data(count: pageSize)).write(to: URL(fileURLWithPath: path))
        expectCorrupt({ _ = try GeoPackageStore.open(at: path, readOnly: true, verification: .header) }, "pages")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == bytes + Data(count: pageSize), "nothing written")
    }

    @Test("a corrupt store is not read as an import source")
    func corruptStoreIsNoImportSource() throws {
        let path = try smallStore("source")
        try Corrupt.swapFirstRows(path, table: GeoPackageStore.segmentTable)
        let source = ImportSource(path: path, format: .geoPackage(table: nil), content: .segments, mapping: FieldMapping(fields: [:]))
        do {
            _ = try Importer.read([source], options: ImportOptions(policy: .lenient))
            Issue.record("read a corrupt store")
        } catch {
            #expect(error.message.contains("corrupt") && error.message.contains("out of order"), "\(error)")
        }
    }

    @Test("a healthy store passes every level")
    func healthyStorePasses() throws {
        let path = try smallStore("healthy")
        for v in [StoreVerification.automatic, .header, .quick, .integrity] {
            #expect(throws: Never.self) { _ = try GeoPackageStore.open(at: path, readOnly: true, verification: v) }
            #expect(throws: Never.self) { _ = try GeoPackageStore.open(at: path, verification: v) }
        }
    }
}
