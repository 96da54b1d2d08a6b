import CSQLite
import Foundation

/// An SQLite failure: the result code, `sqlite3_errmsg`, the statement and the file it came from.
public struct SQLiteError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The primary or extended SQLite result code.
    public var code: Int32
    /// The message SQLite gave (`sqlite3_errmsg`), or our own when the failure is ours.
    public var message: String
    /// The SQL text being prepared or run, when there was one.
    public var sql: String?
    /// The database file.
    public var path: String

    public init(code: Int32, message: String, sql: String? = nil, path: String) {
        self.code = code
        self.message = message
        self.sql = sql
        self.path = path
    }

    public var description: String {
        var s = "SQLite error \(code) in \(path): \(message)"
        if let sql { s += " (while running: \(sql.prefix(200)))" }
        return s
    }
}

/// SQLite's `SQLITE_TRANSIENT`: tells SQLite to copy bound text and blobs before the bind returns,
/// so Swift may free its buffers immediately.
@usableFromInline
let _sqliteTransient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// One SQLite connection.
///
/// Not `Sendable`: a connection is used from one thread at a time; types that share one
/// (`GeoPackageStore`) serialize access with a lock. The connection closes in `deinit`, after
/// every `Statement` made from it has been released (statements keep their database alive).
public final class Database {
    /// How to open a file.
    public enum Mode: Sendable {
        /// Read only; the file must exist. Nothing this connection does can change it.
        case readOnly
        /// Read and write; the file must exist.
        case readWrite
        /// Read and write, creating the file when it is absent.
        case create
    }

    @usableFromInline
    let handle: OpaquePointer
    /// The file path (or `:memory:`), kept for error messages.
    public let path: String

    /// Opens `path`.
    ///
    /// - Throws: `SQLiteError` naming the path when the file is missing (modes other than
    ///   `.create`), is not a database, or cannot be opened.
    public init(path: String, mode: Mode = .create) throws(SQLiteError) {
        var flags: Int32 = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .create: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        }
        if mode != .create, path != ":memory:", !FileManager.default.fileExists(atPath: path) {
            throw SQLiteError(code: SQLITE_CANTOPEN, message: "file does not exist", path: path)
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            if let db { sqlite3_close_v2(db) }
            throw SQLiteError(code: rc, message: message, path: path)
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        // Wait rather than fail at once when another process holds a lock.
        sqlite3_busy_timeout(db, 5_000)
        // A 64 MiB page cache (default 2 MiB): a bulk import into a large store otherwise spills
        // pages to the file and journal over and over; measured 35% of write time in the kernel.
        sqlite3_exec(db, "PRAGMA cache_size = -65536", nil, nil, nil)
        // Statement journals (every trigger-firing insert in a transaction opens one) in memory:
        // on disk they cost about 20 pwrite calls per inserted row (measured with strace).
        sqlite3_exec(db, "PRAGMA temp_store = MEMORY", nil, nil, nil)
    }

    deinit { sqlite3_close_v2(handle) }

    @usableFromInline
    func error(_ rc: Int32, sql: String?) -> SQLiteError {
        SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), sql: sql, path: path)
    }

    /// Compiles one SQL statement.
    ///
    /// - Throws: `SQLiteError` with `sqlite3_errmsg` and the SQL text.
    public func prepare(_ sql: String) throws(SQLiteError) -> Statement {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw error(rc, sql: sql) }
        return Statement(database: self, handle: stmt, sql: sql)
    }

    /// Runs one or more SQL statements that return no rows of interest (DDL, pragmas).
    public func execute(_ sql: String) throws(SQLiteError) {
        var message: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &message)
        if rc != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw SQLiteError(code: rc, message: text, sql: sql, path: path)
        }
    }

    /// Runs `sql` with `bindings` and returns the first column of the first row, if any.
    public func scalarInt(_ sql: String, _ bindings: SQLiteValue...) throws(SQLiteError) -> Int64? {
        let s = try prepare(sql)
        try s.bind(bindings)
        return try s.step() && !s.isNull(0) ? s.int64(0) : nil
    }

    /// Runs `sql` with `bindings` and returns the first text column of the first row, if any.
    public func scalarText(_ sql: String, _ bindings: SQLiteValue...) throws(SQLiteError) -> String? {
        let s = try prepare(sql)
        try s.bind(bindings)
        return try s.step() ? s.text(0) : nil
    }

    /// Whether a table (or view) of that name exists.
    public func tableExists(_ name: String) throws(SQLiteError) -> Bool {
        try scalarInt("SELECT count(*) FROM sqlite_master WHERE type IN ('table','view') AND name = ?", .text(name)) ?? 0 > 0
    }

    /// The rowid of the last successful insert on this connection.
    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last statement.
    public var changes: Int { Int(sqlite3_changes(handle)) }

    /// Whether a transaction is open (SQLite is not in autocommit mode).
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs `body` inside one transaction: all of its writes land, or none do.
    ///
    /// Starts with `BEGIN IMMEDIATE` so the write lock is taken up front (two writers fail at the
    /// start, not halfway). When `body` throws, the transaction is rolled back and the error is
    /// rethrown unchanged. Nested calls use a savepoint, so an inner failure the caller catches
    /// undoes only the inner part.
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        let nested = isInTransaction
        let begin = nested ? "SAVEPOINT subterra_nested" : "BEGIN IMMEDIATE"
        let commit = nested ? "RELEASE subterra_nested" : "COMMIT"
        let rollback = nested ? "ROLLBACK TO subterra_nested; RELEASE subterra_nested" : "ROLLBACK"
        try execute(begin)
        let result: T
        do {
            result = try body()
        } catch {
            try? execute(rollback)
            throw error
        }
        do {
            try execute(commit)
        } catch {
            try? execute(rollback)
            throw error
        }
        return result
    }
}

/// A value to bind to a statement parameter.
public enum SQLiteValue: Hashable, Sendable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A compiled statement; finalized when released.
///
/// Typical use: `prepare` once, then for each row `reset()`, `bind`, `step()`.
public final class Statement {
    @usableFromInline let handle: OpaquePointer
    @usableFromInline let database: Database
    /// The SQL text, kept for error messages.
    public let sql: String

    init(database: Database, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    @inline(__always)
    func check(_ rc: Int32) throws(SQLiteError) {
        if rc != SQLITE_OK { throw database.error(rc, sql: sql) }
    }

    /// Resets the statement so it can run again, and clears its bindings.
    public func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Binds `value` to the 1-based parameter `index`.
    public func bind(_ value: SQLiteValue, at index: Int32) throws(SQLiteError) {
        switch value {
        case .null: try check(sqlite3_bind_null(handle, index))
        case .integer(let v): try check(sqlite3_bind_int64(handle, index, v))
        case .real(let v): try check(sqlite3_bind_double(handle, index, v))
        case .text(let v): try check(sqlite3_bind_text(handle, index, v, -1, _sqliteTransient))
        case .blob(let v):
            try check(v.withUnsafeBytes { raw in
                // A zero-length blob must still bind as a blob, not NULL.
                sqlite3_bind_blob(handle, index, raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32(v.count), _sqliteTransient)
            })
        }
    }

    /// Binds a Double, or NULL when absent.
    public func bind(_ value: Double?, at index: Int32) throws(SQLiteError) {
        try bind(value.map(SQLiteValue.real) ?? .null, at: index)
    }

    /// Binds an integer, or NULL when absent.
    public func bind(_ value: Int64?, at index: Int32) throws(SQLiteError) {
        try bind(value.map(SQLiteValue.integer) ?? .null, at: index)
    }

    /// Binds text, or NULL when absent.
    public func bind(_ value: String?, at index: Int32) throws(SQLiteError) {
        try bind(value.map(SQLiteValue.text) ?? .null, at: index)
    }

    /// Binds a blob, or NULL when absent.
    public func bind(_ value: [UInt8]?, at index: Int32) throws(SQLiteError) {
        try bind(value.map(SQLiteValue.blob) ?? .null, at: index)
    }

    /// Binds `values` to parameters 1, 2, … in order.
    public func bind(_ values: [SQLiteValue]) throws(SQLiteError) {
        for (i, v) in values.enumerated() { try bind(v, at: Int32(i + 1)) }
    }

    /// Advances to the next row: `true` when a row is available, `false` when done.
    public func step() throws(SQLiteError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let e = database.error(rc, sql: sql)
            sqlite3_reset(handle)
            throw e
        }
    }

    /// Runs a statement that returns no rows (insert, update, delete).
    public func run(_ values: [SQLiteValue] = []) throws(SQLiteError) {
        reset()
        try bind(values)
        _ = try step()
    }

    /// Number of result columns.
    public var columnCount: Int32 { sqlite3_column_count(handle) }

    /// Name of result column `i` (0-based).
    public func columnName(_ i: Int32) -> String { String(cString: sqlite3_column_name(handle, i)) }

    /// Whether column `i` of the current row is NULL.
    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }

    /// Column `i` as an integer (SQLite converts; NULL reads as 0).
    public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }

    /// Column `i` as a Double (NULL reads as 0).
    public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }

    /// Column `i` as a Double, or nil when NULL.
    public func optionalDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }

    /// Column `i` as an integer, or nil when NULL.
    public func optionalInt64(_ i: Int32) -> Int64? { isNull(i) ? nil : int64(i) }

    /// Column `i` as text, or nil when NULL.
    public func text(_ i: Int32) -> String? {
        guard let p = sqlite3_column_text(handle, i) else { return nil }
        return String(cString: p)
    }

    /// Column `i` as bytes, or nil when NULL.
    public func blob(_ i: Int32) -> [UInt8]? {
        if isNull(i) { return nil }
        let n = Int(sqlite3_column_bytes(handle, i))
        guard n > 0, let p = sqlite3_column_blob(handle, i) else { return [] }
        return Array(UnsafeRawBufferPointer(start: p, count: n))
    }

    /// Calls `body` with a view of column `i`'s bytes, valid only during the call (no copy).
    public func withBlob<R>(_ i: Int32, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let n = Int(sqlite3_column_bytes(handle, i))
        let p = sqlite3_column_blob(handle, i)
        return try body(UnsafeRawBufferPointer(start: n > 0 ? p : nil, count: n))
    }

    /// Column `i` as a value of its stored type.
    public func value(_ i: Int32) -> SQLiteValue {
        switch sqlite3_column_type(handle, i) {
        case SQLITE_INTEGER: return .integer(int64(i))
        case SQLITE_FLOAT: return .real(double(i))
        case SQLITE_TEXT: return .text(text(i) ?? "")
        case SQLITE_BLOB: return .blob(blob(i) ?? [])
        default: return .null
        }
    }
}
