import Foundation

/// The files features were imported from (``PipeSegment/sourceFile``,
/// ``OperatorArea/sourceFile``) in the store.
///
/// Table `subterra_source_files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE)` holds each
/// distinct path once, as it was given to the import; the segment and area tables refer to it
/// by the integer column `source_file` (NULL: not known). An import of 10^6 segments from a
/// handful of files so stores a handful of paths, not 10^6 copies. Reads resolve the id with a
/// correlated sub-select on the table's primary key (O(log f) per row, f files), so every
/// segment read (`loadAll`, `load(in:)`, `segments(ids:)`) returns the path without a cache that
/// another connection's writes could make stale.
///
/// Stores written before source files were kept have neither the table nor the columns: they
/// open and read as before (every `sourceFile` nil). The first segment write creates the table
/// and adds the segment column, the first area write adds the area column, each inside the
/// write's transaction. Rows are never deleted: a path no feature names any more costs one row.
extension GeoPackageStore {
    public static let sourceFileTable = "subterra_source_files"

    /// Creates the source-file table, registered in `gpkg_contents` as an attributes table like
    /// `subterra_metadata` (inside the caller's transaction).
    static func createSourceFileTable(in db: Database) throws(SQLiteError) {
        try db.execute(
            """
            CREATE TABLE \(sourceFileTable) (id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
            INSERT INTO gpkg_contents (table_name, data_type, identifier, description)
              VALUES ('\(sourceFileTable)', 'attributes', '\(sourceFileTable)', 'Files the features were imported from');
            """)
    }

    /// Every source file recorded in the store, as given to the imports, sorted; empty for a store
    /// written before source files were kept. O(f log f) in the number of files: the feature
    /// tables are not read, so a file no feature names any more is still listed (rows are never
    /// deleted, see above).
    ///
    /// ```swift
    /// for path in try store.sourceFiles() { print(path) }   // "deliveries/kabels.geojson", ...
    /// ```
    public func sourceFiles() throws(StoreError) -> [String] {
        try locked {
            guard try db.tableExists(Self.sourceFileTable) else { return [] }
            let s = try db.prepare("SELECT path FROM \(Self.sourceFileTable) ORDER BY path")
            var out: [String] = []
            while try s.step() { if let p = s.text(0) { out.append(p) } }
            return out
        }
    }

    /// The SQL expression that reads the path a `source_file` column refers to.
    static func sourceFilePath(_ column: String) -> String {
        "(SELECT path FROM \(sourceFileTable) WHERE id = \"\(column)\")"
    }

    /// The id of `path` in the source-file table, adding the row when it is new; NULL for nil.
    /// Caller holds the lock, inside a write transaction, after the table exists. O(1) once a
    /// path is known to the write, else O(log f).
    func sourceFileID(_ path: String?) throws -> SQLiteValue {
        guard let path else { return .null }
        if let id = sourceFileIDs[path] { return .integer(id) }
        try db.prepare("INSERT OR IGNORE INTO \(Self.sourceFileTable) (path) VALUES (?)").run([.text(path)])
        guard let id = try db.scalarInt("SELECT id FROM \(Self.sourceFileTable) WHERE path = ?", .text(path)) else {
            throw StoreError("source file '\(path)' was not recorded", path: self.path, table: Self.sourceFileTable)
        }
        sourceFileIDs[path] = id
        return .integer(id)
    }
}
