import Foundation
import CSQLite
import SubterraGeometry

/// How much of a store ``GeoPackageStore/open(at:readOnly:verification:)`` checks before
/// handing it out. A store that fails is refused with a ``StoreError`` of kind `.corrupt` whose
/// message is SQLite's own report on one line ("row 2 missing from index …", "Rowid 7 out of
/// order"); opening never writes, so a refused store is byte-identical afterwards.
///
/// Every level starts with the O(1) ``header`` check.
public enum StoreVerification: Hashable, Sendable {
    /// What the use needs. A writable open always runs ``integrity`` (whatever is asked): a
    /// write through a damaged index spreads the damage, e.g. a point upsert finds the existing
    /// point through the `number` index, so a missing entry makes a duplicate that the UNIQUE
    /// constraint, checked through the same index, cannot see. A read-only open runs ``quick``
    /// up to ``GeoPackageStore/quickCheckReadLimit`` bytes and ``header`` above: reads scan the
    /// feature tables in rowid order, whose b-trees `quick_check` verifies whole, and never use
    /// the ordinary indexes `quick_check` leaves out; on a large store its O(n) page walk would
    /// exceed a one-shot command's cold-start budget, and a damaged page met later while
    /// reading still fails as `.corrupt` (SQLite checks each page it reads).
    case automatic
    /// `PRAGMA integrity_check`: every page, the order of every b-tree, and every index entry
    /// against its table row. O(n log n).
    case integrity
    /// `PRAGMA quick_check`: every page and the order of every b-tree, without matching index
    /// contents to tables (so "row missing from index" passes). O(n).
    case quick
    /// The 100-byte file header against the file: page size, page count against the file
    /// size (a truncated or extended file), free-page list within the file. O(1); damaged
    /// pages inside the file are not seen until read.
    case header
}

/// The default `UtilityStore`: a GeoPackage 1.3 file (SQLite) that GDAL/QGIS open as two layers.
///
/// Schema: `subterra_segments` (LINESTRING, `fid` = segment id) and `subterra_points` (POINT,
/// `number` unique), each with every model attribute as a column and an R-tree index
/// (`gpkg_rtree_index`); `subterra_metadata` is a registered attributes table. Schema 2 (the
/// `subterra.schema` entry) adds `source_id`, `feature` and `part` at the end of the segment
/// columns; a schema 1 store opens as it is and gains them on its first segment write. Coordinates are
/// x = easting, y = northing in `spatialReference` (EPSG:4549 by default).
///
/// Thread-safe: one connection guarded by a lock; every write is one transaction, so a failed
/// edit leaves the file as it was.
public final class GeoPackageStore: UtilityStore, @unchecked Sendable {
    public static let segmentTable = "subterra_segments"
    public static let pointTable = "subterra_points"
    public static let metadataTable = "subterra_metadata"

    /// The file.
    public let path: String
    /// The CRS of the feature tables (from `gpkg_geometry_columns`).
    public let spatialReference: SpatialReference
    /// Whether the connection is read-only (`open(at:readOnly: true)`); writes then throw.
    public let isReadOnly: Bool
    // Every use of `db` holds `lock`; that is what makes the @unchecked Sendable sound.
    let db: Database
    private let lock = NSLock()

    /// Called after each row written inside `apply`, with the running row count; a throw aborts
    /// the edit. Tests use it to fail an import halfway.
    var _afterRowWritten: ((Int) throws -> Void)?

    private init(db: Database, path: String, srs: SpatialReference, readOnly: Bool, featureColumns: Bool) {
        self.db = db
        self.path = path
        self.spatialReference = srs
        self.isReadOnly = readOnly
        self.hasFeatureColumns = featureColumns
    }

    /// Whether the segment table has the schema 2 ``featureColumns``; guarded by `lock`.
    private var hasFeatureColumns: Bool

    public static let segmentColumns: [(String, String)] = [
        ("layer", "TEXT NOT NULL"), ("subtype", "TEXT"), ("start_point", "TEXT NOT NULL"),
        ("end_point", "TEXT NOT NULL"), ("start_depth", "DOUBLE"), ("end_depth", "DOUBLE"),
        ("start_elevation", "DOUBLE"), ("end_elevation", "DOUBLE"), ("elevation_reference", "TEXT NOT NULL"),
        ("diameter_mm", "DOUBLE"), ("width_mm", "DOUBLE"), ("height_mm", "DOUBLE"), ("duct_holes", "INTEGER"),
        ("duct_holes_occupied", "INTEGER"), ("cable_count", "INTEGER"), ("material", "TEXT"), ("burial", "TEXT"),
        ("gas_pressure_mpa", "DOUBLE"), ("voltage_kv", "DOUBLE"), ("owner", "TEXT"), ("road", "TEXT"),
        ("laying_date", "TEXT"), ("status", "TEXT"), ("accuracy_h_m", "DOUBLE"), ("accuracy_v_m", "DOUBLE"),
        ("quality_level", "TEXT"),
    ]

    /// Segment columns added in schema 2 (multi-part features and source ids), after
    /// `segmentColumns`. A store written before them opens as it is: they read as NULL, and the
    /// first write adds them (`ALTER TABLE … ADD COLUMN`, in the write's transaction) and records
    /// `subterra.schema` = 2.
    public static let featureColumns: [(String, String)] = [("source_id", "TEXT"), ("feature", "INTEGER"), ("part", "INTEGER")]
    /// Segment columns added after the first schema, in order: created in new stores, optional
    /// when opening (an older store reads them as NULL), and added by `ALTER TABLE` the first
    /// time such a store is written to.
    /// `source_file` is an id in `subterra_source_files` (`GeoPackageStore+SourceFiles`), read
    /// back as the path.
    public static let addedSegmentColumns: [(String, String)] = [
        ("nominal_depth", "DOUBLE"), ("feature_kind", "TEXT"), ("accuracy_assumed", "INTEGER"),
        ("source_file", "INTEGER"),
    ]

    /// Which of ``addedSegmentColumns`` the segment table has; guarded by `lock`.
    private var addedColumnsPresent: [Bool] = []

    /// Source-file ids looked up or added by the current write, by path; guarded by `lock` and
    /// emptied after every write (a rollback forgets the rows it added).
    var sourceFileIDs: [String: Int64] = [:]

    public static let pointColumns: [(String, String)] = [
        ("number", "TEXT NOT NULL UNIQUE"), ("layer", "TEXT NOT NULL"), ("category", "TEXT NOT NULL"),
        ("kind", "TEXT NOT NULL"), ("ground_elevation", "DOUBLE"), ("depth", "DOUBLE"), ("owner", "TEXT"),
        ("road", "TEXT"), ("status", "TEXT"),
    ]

    /// Point columns added after the first schema, after `pointColumns`, for the network room
    /// (valve isolation): a valve's ``ValveStatus`` and a service connection's customers
    /// (``ServiceConnection``; count without category is refused on read). Created in new
    /// stores; optional when opening (an older store reads them as NULL: status unknown, no
    /// customers), and added by `ALTER TABLE` the first time such a store's points are written.
    public static let addedPointColumns: [(String, String)] = [
        ("valve_status", "TEXT"), ("customer_category", "TEXT"), ("customer_count", "INTEGER"),
    ]

    /// Which of ``addedPointColumns`` the point table has; guarded by `lock`.
    private var addedPointColumnsPresent: [Bool] = []

    /// Creates a new, empty store at `path`.
    ///
    /// - Throws: `StoreError` when the file exists (never overwritten) or cannot be written.
    public static func create(at path: String, spatialReference srs: SpatialReference = .cgcs2000GK120E)
        throws(StoreError) -> GeoPackageStore
    {
        if FileManager.default.fileExists(atPath: path) {
            throw StoreError("file exists; refusing to overwrite it", path: path)
        }
        do {
            let db = try Database(path: path, mode: .create)
            try GeoPackage.registerFunctions(db)
            try db.transaction {
                try GeoPackage.initialize(db)
                try GeoPackage.register(srs, in: db)
                try GeoPackage.createFeatureTable(
                    segmentTable, geometryType: "LINESTRING", srsID: srs.srsID, hasZ: true,
                    columns: segmentColumns + featureColumns + addedSegmentColumns,
                    description: "Subterra pipe segments (CJJ 61 管线段)", in: db)
                try GeoPackage.createFeatureTable(
                    pointTable, geometryType: "POINT", srsID: srs.srsID, hasZ: true, columns: pointColumns + addedPointColumns,
                    description: "Subterra survey points (CJJ 61 管线点)", in: db)
                try db.execute(
                    """
                    CREATE INDEX subterra_segments_start ON subterra_segments(start_point);
                    CREATE INDEX subterra_segments_end ON subterra_segments(end_point);
                    CREATE TABLE subterra_metadata (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
                      key TEXT NOT NULL UNIQUE, value TEXT NOT NULL);
                    INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
                      VALUES ('subterra_metadata', 'attributes', 'subterra_metadata', 'Subterra store metadata');
                    INSERT INTO subterra_metadata (key, value) VALUES ('subterra.schema', '2');
                    """)
                try GeoPackage.createSpatialIndex(segmentTable, in: db)
                try GeoPackage.createSpatialIndex(pointTable, in: db)
                try createAreaTable(srsID: srs.srsID, in: db)
                try createSourceFileTable(in: db)
            }
            let store = GeoPackageStore(db: db, path: path, srs: srs, readOnly: false, featureColumns: true)
            store.addedColumnsPresent = addedSegmentColumns.map { _ in true }
            store.addedPointColumnsPresent = addedPointColumns.map { _ in true }
            return store
        } catch {
            // A half-created file is worse than none: the caller asked for a new one.
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError("cannot create store: \(error)", path: path)
        }
    }

    /// A read-only ``StoreVerification/automatic`` open runs `PRAGMA quick_check` up to this
    /// file size (16 MiB, about 25 000 segments with their points) and the header check above.
    /// `quick_check` walks every page, O(n); this bounds it to about a fifth of a one-shot
    /// command's 0.2 s cold-start budget (measured figures in Benchmarks/NOTES.md).
    public static let quickCheckReadLimit = 16 << 20

    /// Opens an existing store, checking that it is a GeoPackage written by Subterra and that
    /// its pages are sound (`verification`; a writable open always runs SQLite's full
    /// integrity check first).
    ///
    /// - Complexity: O(1) for a read-only open of a file over ``quickCheckReadLimit``; O(n) below
    ///   it; O(n log n) for a writable open (`integrity_check`).
    /// - Throws: `StoreError` for a missing file, a file that is not SQLite, a GeoPackage without
    ///   Subterra's tables (use `GeoPackageImporter` for those), or a table missing a column;
    ///   of kind `.corrupt`, with SQLite's report, when the pages are damaged.
    ///   Opening never writes to the file.
    public static func open(
        at path: String, readOnly: Bool = false, verification: StoreVerification = .automatic
    ) throws(StoreError) -> GeoPackageStore {
        guard FileManager.default.fileExists(atPath: path) else {
            throw StoreError("file does not exist", path: path)
        }
        guard GeoPackage.looksLikeSQLite(path: path) else {
            throw StoreError("not a GeoPackage: the file does not start with the SQLite header", path: path)
        }
        if let problem = headerProblem(path) { throw StoreError("corrupt store: \(problem)", path: path, kind: .corrupt) }
        do {
            let db = try Database(path: path, mode: readOnly ? .readOnly : .readWrite)
            let level: StoreVerification
            switch (readOnly, verification) {
            case (false, _): level = .integrity
            case (true, .automatic): level = (fileSize(path) ?? .max) <= quickCheckReadLimit ? .quick : .header
            case (true, let v): level = v
            }
            if level == .integrity || level == .quick {
                let pragma = level == .integrity ? "integrity_check" : "quick_check"
                if let report = try sqliteCheck(pragma, db) {
                    throw StoreError("corrupt store (PRAGMA \(pragma)): \(report); restore it from a backup or import it anew", path: path, kind: .corrupt)
                }
            }
            try GeoPackage.registerFunctions(db)
            let appID = try db.scalarInt("PRAGMA application_id") ?? 0
            guard appID == GeoPackage.applicationID else {
                throw StoreError(
                    "not a GeoPackage: application_id is 0x\(String(appID, radix: 16)), expected 0x47504B47 ('GPKG')",
                    path: path)
            }
            for t in ["gpkg_spatial_ref_sys", "gpkg_contents", "gpkg_geometry_columns"] where try !db.tableExists(t) {
                throw StoreError("not a valid GeoPackage: required table \(t) is missing", path: path)
            }
            for (t, cols) in [(segmentTable, segmentColumns), (pointTable, pointColumns)] {
                guard try db.tableExists(t) else {
                    throw StoreError(
                        "a GeoPackage but not a Subterra store (no \(t) table); import it with GeoPackageImporter",
                        path: path, table: t)
                }
                let have = try columnNames(t, db)
                for (c, _) in cols where !have.contains(c) {
                    throw StoreError("column is missing", path: path, table: t, field: c)
                }
            }
            // All three schema 2 columns, or none (a store from before them).
            let have = try columnNames(segmentTable, db)
            let present = featureColumns.filter { have.contains($0.0) }.count
            if present != 0, present != featureColumns.count {
                let missing = featureColumns.first { !have.contains($0.0) }!.0
                throw StoreError("column is missing", path: path, table: segmentTable, field: missing)
            }
            let srsID = try db.scalarInt(
                "SELECT srs_id FROM gpkg_geometry_columns WHERE table_name = ?", .text(segmentTable))
            guard let srsID, let srs = try GeoPackage.spatialReference(Int32(truncatingIfNeeded: srsID), in: db) else {
                throw StoreError("segment table has no registered spatial reference", path: path, table: segmentTable)
            }
            let store = GeoPackageStore(db: db, path: path, srs: srs, readOnly: readOnly, featureColumns: present != 0)
            store.addedColumnsPresent = addedSegmentColumns.map { have.contains($0.0) }
            let havePoints = try columnNames(pointTable, db)
            store.addedPointColumnsPresent = addedPointColumns.map { havePoints.contains($0.0) }
            return store
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError("cannot open store: \(error)", path: path, kind: kind(of: error))
        }
    }

    /// `.corrupt` for SQLite's "database disk image is malformed" and "file is not a database".
    static func kind(of error: any Error) -> StoreError.Kind {
        guard let e = error as? SQLiteError else { return .invalid }
        return [SQLITE_CORRUPT, SQLITE_NOTADB].contains(e.code & 0xFF) ? .corrupt : .invalid
    }

    /// Runs `PRAGMA <pragma>(10)` (at most ten problems); nil when SQLite answers "ok", else its
    /// report on one line (the "*** in database main ***" heading dropped).
    private static func sqliteCheck(_ pragma: String, _ db: Database) throws(SQLiteError) -> String? {
        let s = try db.prepare("PRAGMA \(pragma)(10)")
        var lines: [String] = []
        while try s.step() {
            for line in (s.text(0) ?? "").split(whereSeparator: \.isNewline) where !line.hasPrefix("***") {
                lines.append(line.trimmingCharacters(in: .whitespaces))
            }
        }
        return lines == ["ok"] ? nil : lines.joined(separator: "; ")
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int
    }

    /// What is wrong with the 100-byte SQLite header against the file, or nil: a page size that
    /// is not a power of two in 512...65536, a page count (valid when the header's change
    /// counters agree) that disagrees with the file size, a free-page list outside the file.
    /// The size is not compared while a `-journal` or `-wal` file beside it is non-empty: the
    /// file is then legitimately mid-transaction. O(1).
    static func headerProblem(_ path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return "cannot read the file header" }
        defer { try? h.close() }
        let b = [UInt8]((try? h.read(upToCount: 100)) ?? Data())
        guard b.count == 100, let size = fileSize(path) else { return "the file header is cut short (\(b.count) of 100 bytes)" }
        func u32(_ i: Int) -> Int { b[i..<(i + 4)].reduce(0) { $0 << 8 | Int($1) } }
        let raw = Int(b[16]) << 8 | Int(b[17])
        let pageSize = raw == 1 ? 65_536 : raw
        guard pageSize >= 512, pageSize <= 65_536, pageSize & (pageSize - 1) == 0 else {
            return "the header's page size \(raw) is not a power of two in 512...65536"
        }
        let busy = ["-journal", "-wal"].contains { (fileSize(path + $0) ?? 0) > 0 }
        let pages = u32(28)
        if !busy, u32(24) == u32(92), pages > 0, pages * pageSize != size {
            return "the header counts \(pages) pages of \(pageSize) bytes (\(pages * pageSize) bytes) but the file has \(size) bytes: it was cut short or extended"
        }
        let filePages = size / pageSize
        guard u32(36) <= filePages, u32(32) <= filePages else {
            return "the free-page list (\(u32(36)) pages from page \(u32(32))) lies outside the file's \(filePages) pages"
        }
        return nil
    }

    static func columnNames(_ table: String, _ db: Database) throws(SQLiteError) -> Set<String> {
        let s = try db.prepare("PRAGMA table_info(\(GeoPackage.quote(table)))")
        var names = Set<String>()
        while try s.step() { if let n = s.text(1) { names.insert(n) } }
        return names
    }

    func locked<T>(_ body: () throws -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        do {
            return try body()
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError("\(error)", path: path, kind: Self.kind(of: error))
        }
    }

    // MARK: Reading

    /// The segment columns in `readSegments` order: the schema 2 ones and the added ones the
    /// table lacks as NULL, so `readSegments` reads old and new stores alike.
    var segmentSelect: String {
        let features = Self.featureColumns.map { hasFeatureColumns ? "\"\($0.0)\"" : "NULL" }
        let added = zip(Self.addedSegmentColumns, addedColumnsPresent).map {
            $1 ? ($0.0 == "source_file" ? Self.sourceFilePath("source_file") : "\"\($0.0)\"") : "NULL"
        }
        return "SELECT fid, geom, " + (Self.segmentColumns.map { "\"\($0.0)\"" } + features + added).joined(separator: ", ")
            + " FROM subterra_segments"
    }
    /// The point columns in `readPoints` order, the added ones the table lacks as NULL.
    var pointSelect: String {
        let added = zip(Self.addedPointColumns, addedPointColumnsPresent).map { $1 ? "\"\($0.0)\"" : "NULL" }
        return "SELECT fid, geom, " + (Self.pointColumns.map { "\"\($0.0)\"" } + added).joined(separator: ", ")
            + " FROM subterra_points"
    }

    /// Loads every segment and point (one ordered `SELECT` per table, blobs decoded in place).
    ///
    /// - Complexity: O(n); about half of it is `UtilityNetwork`'s validation and indexes
    ///   (timings in `Benchmarks/NOTES.md`).
    /// - Throws: `StoreError` naming table, fid and field of the first unreadable record.
    public func loadAll() throws(StoreError) -> UtilityNetwork {
        try locked {
            let segs = try readSegments(db.prepare(segmentSelect + " ORDER BY fid"))
            let pts = try readPoints(db.prepare(pointSelect + " ORDER BY fid"))
            return try network(segs, pts, readAreas())
        }
    }

    /// Loads the segments whose R-tree box meets `envelope` and the points inside it.
    ///
    /// - Complexity: O(log n + k) through `rtree_<table>_geom`; boxes there are float32 rounded
    ///   outward, so a candidate may lie up to float32 resolution (0.25 m at 3·10^6) outside.
    public func load(in envelope: Envelope) throws(StoreError) -> UtilityNetwork {
        try locked {
            let filter = " WHERE fid IN (SELECT id FROM \"rtree_%@_geom\" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?) ORDER BY fid"
            let bind: [SQLiteValue] = [.real(envelope.maxX), .real(envelope.minX), .real(envelope.maxY), .real(envelope.minY)]
            let s1 = try db.prepare(segmentSelect + filter.replacingOccurrences(of: "%@", with: Self.segmentTable))
            try s1.bind(bind)
            let s2 = try db.prepare(pointSelect + filter.replacingOccurrences(of: "%@", with: Self.pointTable))
            try s2.bind(bind)
            return try network(readSegments(s1), readPoints(s2), readAreas())
        }
    }

    private func network(_ segs: [PipeSegment], _ pts: [FeaturePoint], _ areas: [OperatorArea]) throws(StoreError) -> UtilityNetwork {
        do {
            return try UtilityNetwork(crs: spatialReference.authorityString, segments: segs, points: pts, areas: areas)
        } catch {
            throw StoreError("stored data is invalid: \(error)", path: path)
        }
    }

    /// Row counts of the two feature tables. O(n) in SQLite's `count(*)`, no decoding.
    public func counts() throws(StoreError) -> (segments: Int, points: Int) {
        try locked {
            (Int(try db.scalarInt("SELECT count(*) FROM subterra_segments") ?? 0),
             Int(try db.scalarInt("SELECT count(*) FROM subterra_points") ?? 0))
        }
    }

    /// `max(fid) + 1` of the segment table (1 when empty). O(log n).
    public func nextSegmentID() throws(StoreError) -> Int64 {
        try locked { (try db.scalarInt("SELECT max(fid) FROM subterra_segments") ?? 0) + 1 }
    }

    /// The rows of `filter` (a condition on the id columns) that `keep` passes: one scan of the
    /// segment table's `fid`, `feature`, `part` and `source_id`, O(n) without decoding geometry;
    /// none in a store from before those columns.
    private func storedParts(where filter: String, _ keep: (StoredPart) -> Bool) throws(StoreError) -> [StoredPart] {
        try locked {
            guard hasFeatureColumns else { return [] }
            let s = try db.prepare("SELECT fid, feature, part, source_id FROM subterra_segments WHERE \(filter)")
            var out: [StoredPart] = []
            while try s.step() {
                let fid = s.int64(0)
                let p = StoredPart(
                    id: fid, featureID: s.optionalInt64(1) ?? fid, part: s.optionalInt64(2).map { Int($0) }, sourceID: s.text(3))
                if keep(p) { out.append(p) }
            }
            return out
        }
    }

    public func storedParts(ofFeatures keys: Set<Int64>) throws(StoreError) -> [StoredPart] {
        keys.isEmpty ? [] : try storedParts(where: "feature IS NOT NULL") { keys.contains($0.featureID) }
    }

    public func segments(withSourceIDs ids: Set<String>) throws(StoreError) -> [StoredPart] {
        ids.isEmpty ? [] : try storedParts(where: "source_id IS NOT NULL") { $0.sourceID.map(ids.contains) ?? false }
    }

    /// Makes errors about one stored record: table, fid, field.
    private func badField(_ table: String, _ fid: Int64) -> (String, String) -> StoreError {
        { [path] field, why in StoreError(why, path: path, table: table, record: "fid \(fid)", field: field) }
    }

    /// Decodes the `geom` column (index 1) of the current row without copying the blob.
    private func geometry(_ s: Statement, _ bad: (String, String) -> StoreError) throws(StoreError) -> Geometry? {
        do {
            return try s.withBlob(1) { raw throws(GeoPackageGeometryError) in try GeoPackageGeometry.decode(raw) }.geometry
        } catch { throw bad("geom", "\(error)") }
    }

    func readSegments(_ s: Statement) throws -> [PipeSegment] {
        var out: [PipeSegment] = []
        try forEachSegment(s) { out.append($0) }
        return out
    }

    /// Decodes the rows of `s` (a `segmentSelect`) one at a time, in its order.
    func forEachSegment(_ s: Statement, _ body: (PipeSegment) throws -> Void) throws {
        while try s.step() {
            let fid = s.int64(0)
            let bad = badField(Self.segmentTable, fid)
            guard case .lineString(let line)? = try geometry(s, bad) else {
                throw bad("geom", "geometry is not a non-empty LINESTRING")
            }
            guard let layer = s.text(2), let start = s.text(4), let end = s.text(5) else {
                throw bad("layer/start_point/end_point", "required value is NULL")
            }
            let ref = ElevationReference(rawValue: s.text(10) ?? "top") ?? .top
            var section: PipeSection?
            if let d = s.optionalDouble(11) {
                section = .circular(diameterMM: d)
            } else if let w = s.optionalDouble(12), let h = s.optionalDouble(13) {
                section = .rectangular(widthMM: w, heightMM: h)
            }
            var accuracy: PositionalAccuracy?
            if let h = s.optionalDouble(25) {
                accuracy = PositionalAccuracy(
                    horizontalM: h, verticalM: s.optionalDouble(26), qualityLevel: s.text(27).flatMap(QualityLevel.init))
            }
            // NULL (an older store, or a utility line) is a utility line.
            var kind = FeatureKind.utilityLine
            if let k = s.text(32) {
                guard let known = FeatureKind(rawValue: k) else { throw bad("feature_kind", "'\(k)' is not a feature kind") }
                kind = known
            }
            try body(PipeSegment(
                id: fid, layer: LayerCode(layer), subtype: s.text(3).map(SubtypeCode.init),
                startPoint: PointNumber(start), endPoint: PointNumber(end), geometry: line,
                startDepth: s.optionalDouble(6), endDepth: s.optionalDouble(7),
                startElevation: s.optionalDouble(8), endElevation: s.optionalDouble(9), elevationReference: ref,
                section: section, ductHoles: s.optionalInt64(14).map { Int($0) },
                ductHolesOccupied: s.optionalInt64(15).map { Int($0) }, cableCount: s.optionalInt64(16).map { Int($0) },
                material: s.text(17).map(Material.init), burial: s.text(18).map(BurialMethod.init),
                gasPressureMPa: s.optionalDouble(19), voltageKV: s.optionalDouble(20), owner: s.text(21),
                road: s.text(22), layingDate: s.text(23), status: s.text(24).map(RecordStatus.init),
                accuracy: accuracy, sourceID: s.text(28), feature: s.optionalInt64(29),
                part: s.optionalInt64(30).map { Int($0) }, nominalDepth: s.optionalDouble(31),
                featureKind: kind, accuracyAssumed: accuracy != nil && (s.optionalInt64(33) ?? 0) != 0,
                sourceFile: s.text(34)))
        }
    }

    func readPoints(_ s: Statement) throws -> [FeaturePoint] {
        var out: [FeaturePoint] = []
        try forEachPoint(s) { out.append($0) }
        return out
    }

    /// Decodes the rows of `s` (a `pointSelect`) one at a time, in its order.
    func forEachPoint(_ s: Statement, _ body: (FeaturePoint) throws -> Void) throws {
        while try s.step() {
            let fid = s.int64(0)
            let bad = badField(Self.pointTable, fid)
            guard case .point(let p)? = try geometry(s, bad) else { throw bad("geom", "geometry is not a non-empty POINT") }
            guard let number = s.text(2), let layer = s.text(3), let cat = s.text(4), let kind = s.text(5) else {
                throw bad("number/layer/category/kind", "required value is NULL")
            }
            guard let category = PointCategory(rawValue: cat) else {
                throw bad("category", "'\(cat)' is neither feature nor appurtenance")
            }
            var valve: ValveStatus?
            if let v = s.text(11) {
                guard let known = ValveStatus(rawValue: v) else { throw bad("valve_status", "'\(v)' is not a valve status") }
                valve = known
            }
            var connection: ServiceConnection?
            if let c = s.text(12) {
                guard let known = CustomerCategory(rawValue: c) else { throw bad("customer_category", "'\(c)' is not a customer category") }
                connection = ServiceConnection(category: known, count: Int(s.optionalInt64(13) ?? 1))
            } else if s.optionalInt64(13) != nil {
                throw bad("customer_count", "a customer count without a customer_category")
            }
            try body(FeaturePoint(
                number: PointNumber(number), layer: LayerCode(layer), category: category, kind: PointKind(kind),
                position: p, groundElevation: s.optionalDouble(6), depth: s.optionalDouble(7), owner: s.text(8),
                road: s.text(9), status: s.text(10).map(RecordStatus.init), valveStatus: valve, connection: connection))
        }
    }

    // MARK: Writing

    /// Applies `edit` in one `BEGIN IMMEDIATE … COMMIT`: deletes, then segment upserts
    /// (`INSERT OR REPLACE` by fid), then point upserts (by number, keeping the fid), each record
    /// validated first; any failure rolls back and names the record. The R-tree follows through
    /// the GeoPackage triggers, except for a table with `bulkSpatialIndexRows` or more upserts:
    /// its triggers (and, for segments, the end-point indexes) are dropped for the write and the
    /// R-tree refilled and the indexes built in one pass each at the end, in the same
    /// transaction. `gpkg_contents` extents are refreshed.
    ///
    /// - Complexity: O(k log n) for k records (timings in `Benchmarks/NOTES.md`).
    public func apply(_ edit: StoreEdit) throws(StoreError) {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        if edit.isEmpty { return }
        try locked {
            defer { refreshAddedColumns() }
            try writeTransaction(edit)
        }
    }

    /// Re-reads which added columns exist, after a write that may have added them or rolled
    /// them back. Called under `lock`.
    private func refreshAddedColumns() {
        let have = (try? Self.columnNames(Self.segmentTable, db)) ?? []
        addedColumnsPresent = Self.addedSegmentColumns.map { have.contains($0.0) }
        let havePoints = (try? Self.columnNames(Self.pointTable, db)) ?? []
        addedPointColumnsPresent = Self.addedPointColumns.map { havePoints.contains($0.0) }
        // A rolled-back write takes its new source-file rows with it.
        sourceFileIDs = [:]
    }

    /// ``apply(_:)`` reporting `(rows written, rows in the edit)` every 1024 rows and at the end,
    /// on the calling thread, for a progress bar over a long import.
    ///
    /// - Complexity: as ``apply(_:)``; the callback costs O(k / 1024).
    public func apply(_ edit: StoreEdit, progress: (_ written: Int, _ total: Int) -> Void) throws(StoreError) {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        if edit.isEmpty { return }
        let total = edit.deleteSegments.count + edit.deletePoints.count + edit.upsertSegments.count + edit.upsertPoints.count
        // The callback is held only while this call holds the lock, so it never outlives the call.
        try withoutActuallyEscaping(progress) { (progress) throws(StoreError) in
            try locked {
                rowProgress = { rows in if rows % 1024 == 0 || rows == total { progress(rows, total) } }
                defer { rowProgress = nil }
                defer { refreshAddedColumns() }
                try writeTransaction(edit)
            }
        }
    }

    /// Called for every row `write` changes; held under `lock` like `db`.
    private var rowProgress: ((Int) -> Void)?

    private func rowWritten(_ rows: Int) throws {
        rowProgress?(rows)
        try _afterRowWritten?(rows)
    }

    /// `write` in one transaction; a rollback also forgets a schema upgrade made inside it.
    private func writeTransaction(_ edit: StoreEdit) throws {
        let had = hasFeatureColumns
        do {
            try db.transaction {
                try write(edit)
                try bumpDataVersion()
            }
        } catch {
            hasFeatureColumns = had
            throw error
        }
    }

    /// Rows a table's upserts must reach for `write` to load its R-tree in bulk.
    static let bulkSpatialIndexRows = 4096

    private func write(_ edit: StoreEdit) throws {
        var rows = 0
        // A large write fills each R-tree once at the end instead of through a trigger per row
        // (same transaction, so a rollback restores triggers and index with the rows).
        var bulk: [String] = []
        if edit.upsertSegments.count >= Self.bulkSpatialIndexRows { bulk.append(Self.segmentTable) }
        if edit.upsertPoints.count >= Self.bulkSpatialIndexRows { bulk.append(Self.pointTable) }
        let droppedIndexes = try beginBulk(bulk)
        // The boxes of the rows this write removes or replaces, read before it does.
        var extents = ExtentChange()
        if edit.deleteSegments.count + edit.upsertSegments.count <= ExtentChange.largest, bulk.isEmpty {
            extents.segmentsBefore = try segmentBoxes(edit.deleteSegments + edit.upsertSegments.map(\.id))
        }
        if edit.deletePoints.count + edit.upsertPoints.count <= ExtentChange.largest, bulk.isEmpty {
            extents.pointsBefore = try pointBoxes(edit.deletePoints + edit.upsertPoints.map(\.number))
        }
        if !edit.deleteSegments.isEmpty {
            let del = try db.prepare("DELETE FROM subterra_segments WHERE fid = ?")
            for id in edit.deleteSegments {
                try del.run([.integer(id)])
                rows += 1
                try rowWritten(rows)
            }
        }
        if !edit.deletePoints.isEmpty {
            let del = try db.prepare("DELETE FROM subterra_points WHERE number = ?")
            for n in edit.deletePoints {
                try del.run([.text(n.rawValue)])
                rows += 1
                try rowWritten(rows)
            }
        }
        if !edit.upsertSegments.isEmpty {
            try upgradeSegmentColumns()
            let ins = try segmentUpsertStatement()
            for seg in edit.upsertSegments {
                try upsertSegment(seg, with: ins)
                rows += 1
                try rowWritten(rows)
            }
        }
        if !edit.upsertPoints.isEmpty {
            try upgradePointColumns()
            let statements = try pointUpsertStatements()
            for p in edit.upsertPoints {
                try upsertPoint(p, with: statements)
                rows += 1
                try rowWritten(rows)
            }
        }
        try endBulk(bulk, droppedIndexes: droppedIndexes)
        try writeAreas(edit)
        if !edit.metadata.isEmpty { try writeMetadata(edit.metadata) }
        if extents.segmentsBefore != nil { extents.segmentsAfter = try segmentBoxes(edit.upsertSegments.map(\.id)) }
        if extents.pointsBefore != nil { extents.pointsAfter = try pointBoxes(edit.upsertPoints.map(\.number)) }
        try updateExtents(extents)
    }

    /// What a write did to each feature table's boxes, when it touched few enough rows for
    /// ``updateExtents(_:)`` to follow the extent from them: the R-tree boxes of the rows it
    /// removed or replaced (read before) and of the rows it wrote (read after). Nil: recompute.
    struct ExtentChange {
        /// Above this many rows, a write recomputes the extent (one scan of the R-tree costs
        /// about what this many look-ups do).
        static let largest = 1024
        var segmentsBefore: [Envelope]?
        var segmentsAfter: [Envelope] = []
        var pointsBefore: [Envelope]?
        var pointsAfter: [Envelope] = []
    }

    /// The R-tree boxes of the segments with these fids (those that exist). O(k log n).
    private func segmentBoxes(_ ids: [Int64]) throws -> [Envelope] {
        try rtreeBoxes(Self.segmentTable, ids)
    }

    /// The R-tree boxes of the points with these numbers (those that exist). O(k log n).
    private func pointBoxes(_ numbers: [PointNumber]) throws -> [Envelope] {
        guard !numbers.isEmpty else { return [] }
        let fid = try db.prepare("SELECT fid FROM \"\(Self.pointTable)\" WHERE number = ?")
        var ids: [Int64] = []
        for n in numbers {
            fid.reset()
            try fid.bind([.text(n.rawValue)])
            while try fid.step() { ids.append(fid.int64(0)) }
        }
        return try rtreeBoxes(Self.pointTable, ids)
    }

    /// The boxes `table`'s R-tree holds for the rows `ids` (those it holds). O(k log n).
    private func rtreeBoxes(_ table: String, _ ids: [Int64]) throws -> [Envelope] {
        guard !ids.isEmpty else { return [] }
        let q = try db.prepare("SELECT minx, miny, maxx, maxy FROM \"rtree_\(table)_geom\" WHERE id = ?")
        var out: [Envelope] = []
        for id in ids {
            q.reset()
            try q.bind([.integer(id)])
            if try q.step() { out.append(Envelope(minX: q.double(0), minY: q.double(1), maxX: q.double(2), maxY: q.double(3))) }
        }
        return out
    }

    /// Drops the R-tree triggers of `tables` for a bulk write, and, when the segment table is
    /// one, its end-point indexes (one sort each at the end instead of a random b-tree insert
    /// per row). Returns the dropped indexes' SQL for ``endBulk(_:droppedIndexes:)``. Inside the
    /// write transaction, so a rollback restores them.
    private func beginBulk(_ tables: [String]) throws -> [String] {
        for t in tables { try GeoPackage.beginBulkSpatialIndex(t, in: db) }
        var droppedIndexes: [String] = []
        if tables.contains(Self.segmentTable) {
            let q = try db.prepare("SELECT sql FROM sqlite_master WHERE type = 'index' AND name IN ('subterra_segments_start', 'subterra_segments_end') AND sql NOT NULL ORDER BY name")
            while try q.step() { if let sql = q.text(0) { droppedIndexes.append(sql) } }
            try db.execute("DROP INDEX IF EXISTS subterra_segments_start; DROP INDEX IF EXISTS subterra_segments_end;")
        }
        return droppedIndexes
    }

    /// Refills the R-trees of `tables` and recreates their triggers and the dropped indexes.
    private func endBulk(_ tables: [String], droppedIndexes: [String]) throws {
        for t in tables { try GeoPackage.endBulkSpatialIndex(t, in: db) }
        for sql in droppedIndexes { try db.execute(sql) }
    }

    /// Gives an older store the schema 2 and added segment columns before its first segment
    /// write (in the write's transaction, so a rollback takes them back).
    private func upgradeSegmentColumns() throws {
        if !hasFeatureColumns { try addFeatureColumns() }
        for (i, (name, type)) in Self.addedSegmentColumns.enumerated() where !addedColumnsPresent[i] {
            try db.execute("ALTER TABLE subterra_segments ADD COLUMN \"\(name)\" \(type)")
        }
        if try !db.tableExists(Self.sourceFileTable) { try Self.createSourceFileTable(in: db) }
    }

    /// Gives an older store the added point columns before its first point write (in the
    /// write's transaction, so a rollback takes them back; `refreshAddedColumns` re-reads them).
    private func upgradePointColumns() throws {
        for (i, (name, type)) in Self.addedPointColumns.enumerated() where !addedPointColumnsPresent[i] {
            try db.execute("ALTER TABLE subterra_points ADD COLUMN \"\(name)\" \(type)")
        }
    }

    // MARK: Streamed writes

    /// Rows written one at a time inside the write transaction of
    /// ``GeoPackageStore/withStreamedWrite(_:)``, for an import that writes each record as soon
    /// as it is checked instead of holding the whole map (`Importer.stream`). Valid only inside
    /// that call, on its thread.
    final class RowWriter {
        private unowned let store: GeoPackageStore
        private let segmentInsert: Statement
        private let points: (update: Statement, insert: Statement)
        private var segmentByID: Statement?
        private var rows = 0

        fileprivate init(_ store: GeoPackageStore) throws {
            self.store = store
            segmentInsert = try store.segmentUpsertStatement()
            points = try store.pointUpsertStatements()
        }

        /// Upserts one segment (by fid).
        func write(_ s: PipeSegment) throws {
            try store.upsertSegment(s, with: segmentInsert)
            rows += 1
            try store.rowWritten(rows)
        }

        /// Upserts one point (by number).
        func write(_ p: FeaturePoint) throws {
            try store.upsertPoint(p, with: points)
            rows += 1
            try store.rowWritten(rows)
        }

        /// The segment row `id` as written so far in this transaction, nil when there is none.
        /// O(log n).
        func segment(id: Int64) throws -> PipeSegment? {
            let s: Statement
            if let known = segmentByID { s = known } else {
                s = try store.db.prepare(store.segmentSelect + " WHERE fid = ?")
                segmentByID = s
            }
            s.reset()
            try s.bind([.integer(id)])
            var found: PipeSegment?
            try store.forEachSegment(s) { found = $0 }
            return found
        }

        /// The areas stored before this transaction's writes (areas are written at its end).
        func storedAreas() throws -> [OperatorArea] { try store.readAreas() }

        /// Marks the rows written so far (`SAVEPOINT`), so ``rollBackToMark()`` can undo the
        /// ones after it (a file read again in the CRS it declares only after its features).
        func mark() throws { try store.db.execute("SAVEPOINT subterra_file") }
        func rollBackToMark() throws {
            try store.db.execute("ROLLBACK TO subterra_file; RELEASE subterra_file")
            // Source-file rows added since the mark are gone with it.
            store.sourceFileIDs = [:]
        }
        func releaseMark() throws { try store.db.execute("RELEASE subterra_file") }
    }

    /// Runs `body` inside one write transaction with a ``RowWriter`` for its rows, then applies
    /// `body`'s closing edit (areas and metadata; its segment and point lists must be empty),
    /// refills both R-trees and rebuilds the end-point indexes in one pass each (triggers and
    /// indexes are dropped for the rows, as in a bulk ``apply(_:)``), refreshes the extents and
    /// bumps the data version, and commits. A throw from `body` or from any write rolls back
    /// everything: the store is left as it was.
    ///
    /// - Complexity: O(n log n) for the n rows; memory is SQLite's page cache and the index
    ///   builds' sorts, not the rows.
    func withStreamedWrite<T>(_ body: (RowWriter) throws -> (T, StoreEdit)) throws(StoreError) -> T {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        return try locked {
            defer { refreshAddedColumns() }
            let had = hasFeatureColumns
            do {
                return try db.transaction {
                    let tables = [Self.segmentTable, Self.pointTable]
                    let dropped = try beginBulk(tables)
                    try upgradeSegmentColumns()
                    try upgradePointColumns()
                    let (result, edit) = try body(RowWriter(self))
                    precondition(edit.upsertSegments.isEmpty && edit.upsertPoints.isEmpty, "rows go through the RowWriter")
                    try write(edit)
                    try endBulk(tables, droppedIndexes: dropped)
                    try updateExtents()
                    try bumpDataVersion()
                    return result
                }
            } catch {
                hasFeatureColumns = had
                throw error
            }
        }
    }

    /// The `INSERT OR REPLACE` of one segment row (every column, fid first), prepared once per write.
    func segmentUpsertStatement() throws -> Statement {
        let cols = ["fid", "geom"] + (Self.segmentColumns + Self.featureColumns + Self.addedSegmentColumns).map(\.0)
        return try db.prepare(
            "INSERT OR REPLACE INTO subterra_segments (\(cols.map { "\"\($0)\"" }.joined(separator: ","))) VALUES ("
                + Array(repeating: "?", count: cols.count).joined(separator: ",") + ")")
    }

    /// Validates `seg` and writes its row with `ins` (a ``segmentUpsertStatement()``); a failure
    /// names the record. Caller holds the lock, inside a write transaction.
    func upsertSegment(_ seg: PipeSegment, with ins: Statement) throws {
        let srs = spatialReference.srsID
        do { try seg.validate() } catch {
            throw StoreError(error.message, path: path, table: Self.segmentTable, record: seg.location)
        }
        var diameter: Double?, width: Double?, height: Double?
        switch seg.section {
        case .circular(let d)?: diameter = d
        case .rectangular(let w, let h)?: width = w; height = h
        case nil: break
        }
        ins.reset()
        try ins.bind([
            .integer(seg.id), .blob(GeoPackageGeometry.encode(.lineString(seg.geometry), srsID: srs)),
            .text(seg.layer.rawValue), opt(seg.subtype?.rawValue), .text(seg.startPoint.rawValue),
            .text(seg.endPoint.rawValue), opt(seg.startDepth), opt(seg.endDepth), opt(seg.startElevation),
            opt(seg.endElevation), .text(seg.elevationReference.rawValue), opt(diameter), opt(width),
            opt(height), opt(seg.ductHoles), opt(seg.ductHolesOccupied), opt(seg.cableCount),
            opt(seg.material?.rawValue), opt(seg.burial?.rawValue), opt(seg.gasPressureMPa),
            opt(seg.voltageKV), opt(seg.owner), opt(seg.road), opt(seg.layingDate), opt(seg.status?.rawValue),
            opt(seg.accuracy?.horizontalM), opt(seg.accuracy?.verticalM),
            opt(seg.accuracy?.qualityLevel?.rawValue), opt(seg.sourceID), opt(seg.feature.map { Int($0) }),
            opt(seg.part), opt(seg.nominalDepth),
            opt(seg.featureKind == .utilityLine ? nil : seg.featureKind.rawValue),
            opt(seg.accuracyAssumed ? Int(1) : nil), try sourceFileID(seg.sourceFile),
        ])
        do { _ = try ins.step() } catch {
            throw StoreError(error.message, path: path, table: Self.segmentTable, record: seg.location)
        }
    }

    /// The point upsert's two statements: replace by number, keeping the fid of an existing
    /// point so outside references stay valid (UPDATE, then INSERT when nothing was updated; no
    /// UPSERT, see GeoPackage+RTree).
    func pointUpsertStatements() throws -> (update: Statement, insert: Statement) {
        let cols = (Self.pointColumns + Self.addedPointColumns).map(\.0).filter { $0 != "number" } + ["geom"]
        let upd = try db.prepare(
            "UPDATE subterra_points SET " + cols.map { "\"\($0)\" = ?" }.joined(separator: ", ") + " WHERE number = ?")
        let ins = try db.prepare(
            "INSERT INTO subterra_points (" + (cols + ["number"]).map { "\"\($0)\"" }.joined(separator: ",") + ") VALUES ("
                + Array(repeating: "?", count: cols.count + 1).joined(separator: ",") + ")")
        return (upd, ins)
    }

    /// Validates `p` and writes its row with `statements` (``pointUpsertStatements()``); a
    /// failure names the record. Caller holds the lock, inside a write transaction.
    func upsertPoint(_ p: FeaturePoint, with statements: (update: Statement, insert: Statement)) throws {
        do { try p.validate() } catch {
            throw StoreError(error.message, path: path, table: Self.pointTable, record: p.location)
        }
        let values: [SQLiteValue] = [
            .text(p.layer.rawValue), .text(p.category.rawValue), .text(p.kind.rawValue),
            opt(p.groundElevation), opt(p.depth), opt(p.owner), opt(p.road), opt(p.status?.rawValue),
            opt(p.valveStatus?.rawValue), opt(p.connection?.category.rawValue), opt(p.connection?.count),
            .blob(GeoPackageGeometry.encode(.point(p.position), srsID: spatialReference.srsID)), .text(p.number.rawValue),
        ]
        do {
            try statements.update.run(values)
            if db.changes == 0 { try statements.insert.run(values) }
        } catch {
            throw StoreError(error.message, path: path, table: Self.pointTable, record: p.location)
        }
    }

    /// Brings a schema 1 store to schema 2 inside the current write transaction (a rollback
    /// undoes it, and `writeTransaction` resets the flag then).
    private func addFeatureColumns() throws {
        for (name, type) in Self.featureColumns {
            try db.execute("ALTER TABLE subterra_segments ADD COLUMN \"\(name)\" \(type)")
        }
        try writeMetadata(["subterra.schema": "2"])
        hasFeatureColumns = true
    }

    /// Sets each feature table's `gpkg_contents` extent to the bounds of its R-tree boxes.
    ///
    /// Followed from `change` where it can be, exactly: when no box the write removed touched
    /// the recorded extent's edge, the bounds of the rows left are the old extent's, and the
    /// new extent is that joined with the written rows' boxes, O(k log n) for k rows. Otherwise
    /// (an edge row removed, no extent recorded, a large or bulk write) the R-tree is scanned,
    /// O(n): at 10^5 rows that scan took 40 ms, paid by every edit before.
    private func updateExtents(_ change: ExtentChange = ExtentChange()) throws {
        for (t, before, after) in [
            (Self.segmentTable, change.segmentsBefore, change.segmentsAfter), (Self.pointTable, change.pointsBefore, change.pointsAfter),
        ] {
            if let before, let recorded = try recordedExtent(t), !recorded.isEmpty, !before.contains(where: { $0.reachesEdge(of: recorded) }) {
                let e = after.reduce(recorded) { $0.union($1) }
                if e != recorded { try GeoPackage.updateExtent(t, e, in: db) }
                continue
            }
            let s = try db.prepare("SELECT min(minx), min(miny), max(maxx), max(maxy) FROM \"rtree_\(t)_geom\"")
            var e = Envelope.empty
            if try s.step(), !s.isNull(0) {
                e = Envelope(minX: s.double(0), minY: s.double(1), maxX: s.double(2), maxY: s.double(3))
            }
            try GeoPackage.updateExtent(t, e, in: db)
        }
    }

    /// The extent `gpkg_contents` records for `table`, or nil when it records none.
    private func recordedExtent(_ table: String) throws -> Envelope? {
        let s = try db.prepare("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?")
        try s.bind([.text(table)])
        guard try s.step(), !s.isNull(0), !s.isNull(1), !s.isNull(2), !s.isNull(3) else { return nil }
        return Envelope(minX: s.double(0), minY: s.double(1), maxX: s.double(2), maxY: s.double(3))
    }

    // MARK: Metadata

    /// All `subterra_metadata` entries (`subterra.schema` = format version, `import.last.*`).
    public func metadata() throws(StoreError) -> [String: String] {
        try locked {
            let s = try db.prepare("SELECT key, value FROM subterra_metadata")
            var out: [String: String] = [:]
            while try s.step() { out[s.text(0) ?? ""] = s.text(1) ?? "" }
            return out
        }
    }

    /// Sets (or, for nil, removes) entries in one transaction.
    public func setMetadata(_ entries: [String: String?]) throws(StoreError) {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        try locked {
            try db.transaction { try writeMetadata(entries) }
        }
    }

    private func writeMetadata(_ entries: [String: String?]) throws {
        let up = try db.prepare(
            "INSERT INTO subterra_metadata (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        let del = try db.prepare("DELETE FROM subterra_metadata WHERE key = ?")
        for (k, v) in entries.sorted(by: { $0.key < $1.key }) {
            if let v { try up.run([.text(k), .text(v)]) } else { try del.run([.text(k)]) }
        }
    }
}

@inline(__always)
private func opt(_ v: Double?) -> SQLiteValue { v.map(SQLiteValue.real) ?? .null }
@inline(__always)
private func opt(_ v: String?) -> SQLiteValue { v.map(SQLiteValue.text) ?? .null }
@inline(__always)
private func opt(_ v: Int?) -> SQLiteValue { v.map { SQLiteValue.integer(Int64($0)) } ?? .null }
