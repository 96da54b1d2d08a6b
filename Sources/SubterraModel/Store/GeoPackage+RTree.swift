import CSQLite
import SubterraGeometry

/// The GeoPackage R-tree spatial index extension (`gpkg_rtree_index`, OGC 12-128r18 §F.3): an
/// SQLite `rtree` virtual table per geometry column, kept current by the spec's 1.3 triggers
/// (`insert`, `update1`–`update4`, `delete`, as GDAL's `validate_gpkg.py` requires). `update1`
/// does `INSERT OR REPLACE` into the R-tree, which an outer `UPSERT` overrides into a constraint
/// failure, so writers here use plain `UPDATE` then `INSERT` rather than `ON CONFLICT DO UPDATE`.
///
/// The triggers call `ST_MinX`, `ST_MaxX`, `ST_MinY`, `ST_MaxY` and `ST_IsEmpty`, which plain
/// SQLite lacks; `registerFunctions` adds them to a connection (GDAL does the same in its own),
/// so the index stays right whoever writes the file.
extension GeoPackage {
    /// Registers the `ST_*` functions the R-tree triggers need on `db`.
    public static func registerFunctions(_ db: Database) throws(SQLiteError) {
        let flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC
        let functions: [(String, @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<OpaquePointer?>?) -> Void)] = [
            ("ST_MinX", { ctx, _, argv in _envelopeResult(ctx, argv) { $0.minX } }),
            ("ST_MaxX", { ctx, _, argv in _envelopeResult(ctx, argv) { $0.maxX } }),
            ("ST_MinY", { ctx, _, argv in _envelopeResult(ctx, argv) { $0.minY } }),
            ("ST_MaxY", { ctx, _, argv in _envelopeResult(ctx, argv) { $0.maxY } }),
            ("ST_IsEmpty", { ctx, _, argv in
                guard let v = argv?[0], sqlite3_value_type(v) == SQLITE_BLOB else { sqlite3_result_null(ctx); return }
                sqlite3_result_int(ctx, _blobEnvelope(v) == nil ? 1 : 0)
            }),
        ]
        for (name, fn) in functions {
            let rc = sqlite3_create_function_v2(db.handle, name, 1, flags, nil, fn, nil, nil, nil)
            if rc != SQLITE_OK { throw db.error(rc, sql: "create function \(name)") }
        }
    }

    /// Creates the R-tree for `table.geom`, fills it from existing rows, adds the triggers and
    /// registers the extension.
    public static func createSpatialIndex(_ table: String, in db: Database) throws(SQLiteError) {
        let t = table, r = quote("rtree_\(table)_geom"), q = quote(table)
        try db.execute(
            """
            CREATE TABLE IF NOT EXISTS gpkg_extensions (
              table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
              scope TEXT NOT NULL, CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
            INSERT INTO gpkg_extensions VALUES ('\(t)', 'geom', 'gpkg_rtree_index',
              'http://www.geopackage.org/spec120/#extension_rtree', 'write-only');
            CREATE VIRTUAL TABLE \(r) USING rtree(id, minx, maxx, miny, maxy);
            INSERT OR REPLACE INTO \(r) SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom)
              FROM \(q) WHERE geom NOT NULL AND NOT ST_IsEmpty(geom);
            """)
        try db.execute(rtreeTriggers(table))
    }

    /// The spec's six R-tree triggers of `table.geom`, as one SQL script.
    static func rtreeTriggers(_ table: String) -> String {
        let t = table, r = quote("rtree_\(table)_geom"), q = quote(table)
        let box = "ST_MinX(NEW.geom), ST_MaxX(NEW.geom), ST_MinY(NEW.geom), ST_MaxY(NEW.geom)"
        return """
            CREATE TRIGGER \(quote("rtree_\(t)_geom_insert")) AFTER INSERT ON \(q)
              WHEN (NEW.geom NOT NULL AND NOT ST_IsEmpty(NEW.geom))
              BEGIN INSERT OR REPLACE INTO \(r) VALUES (NEW.fid, \(box)); END;
            CREATE TRIGGER \(quote("rtree_\(t)_geom_update1")) AFTER UPDATE OF geom ON \(q)
              WHEN OLD.fid = NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
              BEGIN INSERT OR REPLACE INTO \(r) VALUES (NEW.fid, \(box)); END;
            CREATE TRIGGER \(quote("rtree_\(t)_geom_update2")) AFTER UPDATE OF geom ON \(q)
              WHEN OLD.fid = NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
              BEGIN DELETE FROM \(r) WHERE id = OLD.fid; END;
            CREATE TRIGGER \(quote("rtree_\(t)_geom_update3")) AFTER UPDATE ON \(q)
              WHEN OLD.fid != NEW.fid AND (NEW.geom NOTNULL AND NOT ST_IsEmpty(NEW.geom))
              BEGIN DELETE FROM \(r) WHERE id = OLD.fid; INSERT OR REPLACE INTO \(r) VALUES (NEW.fid, \(box)); END;
            CREATE TRIGGER \(quote("rtree_\(t)_geom_update4")) AFTER UPDATE ON \(q)
              WHEN OLD.fid != NEW.fid AND (NEW.geom ISNULL OR ST_IsEmpty(NEW.geom))
              BEGIN DELETE FROM \(r) WHERE id IN (OLD.fid, NEW.fid); END;
            CREATE TRIGGER \(quote("rtree_\(t)_geom_delete")) AFTER DELETE ON \(q)
              WHEN OLD.geom NOT NULL
              BEGIN DELETE FROM \(r) WHERE id = OLD.fid; END;
            """
    }

    /// Drops the R-tree triggers of `table.geom` for a bulk write; the caller must call
    /// `endBulkSpatialIndex` in the same transaction (a rollback restores them with the rest).
    static func beginBulkSpatialIndex(_ table: String, in db: Database) throws(SQLiteError) {
        for suffix in ["insert", "update1", "update2", "update3", "update4", "delete"] {
            try db.execute("DROP TRIGGER IF EXISTS \(quote("rtree_\(table)_geom_\(suffix)"))")
        }
    }

    /// Refills the R-tree of `table.geom` from every row in one `INSERT … SELECT` (in fid order)
    /// and recreates its triggers: the end of a bulk write begun by `beginBulkSpatialIndex`.
    ///
    /// - Complexity: O(n log n) for the n rows of `table`; one pass instead of one trigger call
    ///   per written row.
    static func endBulkSpatialIndex(_ table: String, in db: Database) throws(SQLiteError) {
        let r = quote("rtree_\(table)_geom"), q = quote(table)
        try db.execute(
            """
            DELETE FROM \(r);
            INSERT INTO \(r) SELECT fid, ST_MinX(geom), ST_MaxX(geom), ST_MinY(geom), ST_MaxY(geom)
              FROM \(q) WHERE geom NOT NULL AND NOT ST_IsEmpty(geom) ORDER BY fid;
            """)
        try db.execute(rtreeTriggers(table))
    }
}

/// The envelope of a GeoPackage blob value: from the header when it has one, else from the WKB;
/// nil for NULL, empty or unreadable blobs.
private func _blobEnvelope(_ v: OpaquePointer) -> Envelope? {
    let n = Int(sqlite3_value_bytes(v))
    guard n > 0, let p = sqlite3_value_blob(v) else { return nil }
    return GeoPackageGeometry.envelope(of: UnsafeRawBufferPointer(start: p, count: n))
}

private func _envelopeResult(
    _ ctx: OpaquePointer?, _ argv: UnsafeMutablePointer<OpaquePointer?>?, _ pick: (Envelope) -> Double
) {
    guard let v = argv?[0], sqlite3_value_type(v) == SQLITE_BLOB, let e = _blobEnvelope(v) else {
        sqlite3_result_null(ctx)
        return
    }
    sqlite3_result_double(ctx, pick(e))
}
