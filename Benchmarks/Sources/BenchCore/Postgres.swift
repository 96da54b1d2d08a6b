import CPostgres

/// A libpq failure: what was being done and the server's message.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    public var step: String
    public var message: String
    public init(_ message: String, at step: String) {
        self.message = message
        self.step = step
    }
    public var description: String { "PostGIS peer, \(step): \(message)" }
}

/// One libpq connection (blocking API), used from one thread at a time (a libpq connection is
/// not safe to share, so the class is not `Sendable`); the benchmark's PostGIS peer talks to a
/// throwaway server on a loopback port that `with-postgis.sh` starts and removes. Every method is
/// one round trip (COPY: one per MiB of rows) and throws a `PostgresError` naming the statement
/// and the server's message, never crashes on a refused statement or a lost server.
public final class PostgresConnection {
    let conn: OpaquePointer

    /// Connects with a libpq connection string (`"host=127.0.0.1 port=54321 dbname=digbench user=bench"`).
    public init(_ conninfo: String) throws(PostgresError) {
        guard let c = PQconnectdb(conninfo) else { throw PostgresError("out of memory", at: "connect") }
        guard PQstatus(c) == CONNECTION_OK else {
            let m = String(cString: PQerrorMessage(c))
            PQfinish(c)
            throw PostgresError(m.trimmingTrailingNewlines, at: "connect to \(conninfo)")
        }
        conn = c
    }

    deinit { PQfinish(conn) }

    var lastError: String { String(cString: PQerrorMessage(conn)).trimmingTrailingNewlines }

    /// Runs one or more statements without parameters; returns the first column of the first row, if any.
    @discardableResult
    public func exec(_ sql: String) throws(PostgresError) -> String? {
        guard let r = PQexec(conn, sql) else { throw PostgresError(lastError, at: sql) }
        defer { PQclear(r) }
        let st = PQresultStatus(r)
        guard st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK else {
            throw PostgresError(String(cString: PQresultErrorMessage(r)).trimmingTrailingNewlines, at: sql)
        }
        guard st == PGRES_TUPLES_OK, PQntuples(r) > 0, PQnfields(r) > 0 else { return nil }
        return String(cString: PQgetvalue(r, 0, 0))
    }

    /// All rows of a query as text (`nil` for SQL NULL); for EXPLAIN and small lookups.
    public func rows(_ sql: String) throws(PostgresError) -> [[String?]] {
        guard let r = PQexec(conn, sql) else { throw PostgresError(lastError, at: sql) }
        defer { PQclear(r) }
        guard PQresultStatus(r) == PGRES_TUPLES_OK else {
            throw PostgresError(String(cString: PQresultErrorMessage(r)).trimmingTrailingNewlines, at: sql)
        }
        return (0..<PQntuples(r)).map { i in
            (0..<PQnfields(r)).map { j in PQgetisnull(r, i, j) != 0 ? nil : String(cString: PQgetvalue(r, i, j)) }
        }
    }

    /// `COPY … FROM STDIN` (text format): `fill` appends rows to the buffer and returns false when
    /// done; the buffer is sent whenever it passes 1 MiB, so memory stays flat at any size.
    public func copyIn(_ sql: String, fill: (inout [UInt8]) -> Bool) throws(PostgresError) {
        guard let r = PQexec(conn, sql) else { throw PostgresError(lastError, at: sql) }
        let st = PQresultStatus(r)
        PQclear(r)
        guard st == PGRES_COPY_IN else { throw PostgresError(lastError, at: sql) }
        var buffer = [UInt8]()
        buffer.reserveCapacity(1 << 21)
        var more = true
        while more {
            while more && buffer.count < (1 << 20) { more = fill(&buffer) }
            let ok = buffer.withUnsafeBufferPointer { b in
                b.baseAddress!.withMemoryRebound(to: CChar.self, capacity: b.count) { PQputCopyData(conn, $0, Int32(b.count)) }
            }
            guard ok == 1 else { throw PostgresError(lastError, at: "COPY data") }
            buffer.removeAll(keepingCapacity: true)
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw PostgresError(lastError, at: "COPY end") }
        guard let done = PQgetResult(conn) else { throw PostgresError(lastError, at: "COPY result") }
        let doneStatus = PQresultStatus(done)
        let message = String(cString: PQresultErrorMessage(done)).trimmingTrailingNewlines
        PQclear(done)
        while let extra = PQgetResult(conn) { PQclear(extra) }
        guard doneStatus == PGRES_COMMAND_OK else { throw PostgresError(message, at: sql) }
    }

    /// Prepares `sql` as the named statement (parameter types from the casts in the text).
    public func prepare(_ name: String, _ sql: String, parameters: Int) throws(PostgresError) {
        guard let r = PQprepare(conn, name, sql, Int32(parameters), nil) else { throw PostgresError(lastError, at: sql) }
        defer { PQclear(r) }
        guard PQresultStatus(r) == PGRES_COMMAND_OK else {
            throw PostgresError(String(cString: PQresultErrorMessage(r)).trimmingTrailingNewlines, at: "prepare \(name)")
        }
    }

    /// Executes a prepared statement with text parameters and hands the result to `body`
    /// (valid only inside it).
    public func execPrepared<R>(
        _ name: String, _ params: [String], _ body: (OpaquePointer) -> R
    ) throws(PostgresError) -> R {
        // Contiguous C strings for the parameters, without Foundation.
        var storage = [CChar]()
        var offsets = [Int]()
        for p in params {
            offsets.append(storage.count)
            storage.append(contentsOf: p.utf8CString)
        }
        let result: OpaquePointer? = storage.withUnsafeBufferPointer { s in
            let pointers: [UnsafePointer<CChar>?] = offsets.map { s.baseAddress! + $0 }
            return pointers.withUnsafeBufferPointer { pp in
                PQexecPrepared(conn, name, Int32(params.count), pp.baseAddress, nil, nil, 0)
            }
        }
        guard let r = result else { throw PostgresError(lastError, at: "execute \(name)") }
        defer { PQclear(r) }
        guard PQresultStatus(r) == PGRES_TUPLES_OK else {
            throw PostgresError(String(cString: PQresultErrorMessage(r)).trimmingTrailingNewlines, at: "execute \(name)")
        }
        return body(r)
    }
}

/// Rows, fields and text values of a libpq result (`PGresult *`).
public enum PGResult {
    @inline(__always) public static func rows(_ r: OpaquePointer) -> Int { Int(PQntuples(r)) }
    @inline(__always) public static func int64(_ r: OpaquePointer, _ row: Int, _ col: Int) -> Int64 {
        strtoll(PQgetvalue(r, Int32(row), Int32(col)), nil, 10)
    }
    @inline(__always) public static func double(_ r: OpaquePointer, _ row: Int, _ col: Int) -> Double {
        strtod(PQgetvalue(r, Int32(row), Int32(col)), nil)
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while s.last == "\n" || s.last == "\r" || s.last == " " { s.removeLast() }
        return String(s)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
