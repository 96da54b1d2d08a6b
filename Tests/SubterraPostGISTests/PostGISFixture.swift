import Foundation
import Logging
import PostgresNIO
import Testing
@testable import SubterraPostGIS

/// The servers `scripts/with-postgres.sh` starts: every PostGIS test runs against them, and is
/// skipped (with this reason) without them.
enum PG {
    static let primary = ProcessInfo.processInfo.environment["SUBTERRA_PG_PRIMARY"]
    static let replica = ProcessInfo.processInfo.environment["SUBTERRA_PG_REPLICA"]
    static let skipReason: Comment =
        "SUBTERRA_PG_PRIMARY is not set: run under scripts/with-postgres.sh (scripts/test.sh does) for a real PostgreSQL + PostGIS"

    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    /// A new, empty database with PostGIS on the primary, named for `test`; its URL (same
    /// server and user). Each test gets its own, so tests run in parallel without sharing rows.
    static func freshDatabase(_ test: String) throws -> String {
        let base = try PostGISLocation(url: primary!)
        // One CREATE DATABASE at a time: each copies template1, which must have no other user.
        let name = try lock.withLock {
            counter += 1
            let name = "t_\(test.lowercased().filter { $0.isLetter || $0.isNumber })_\(ProcessInfo.processInfo.processIdentifier)_\(counter)"
            try sql(primary!, "DROP DATABASE IF EXISTS \(name)")
            try sql(primary!, "CREATE DATABASE \(name)")
            return name
        }
        let url = "postgresql://\(base.user)@\(base.host):\(base.port)/\(name)"
        try sql(url, "CREATE EXTENSION IF NOT EXISTS postgis")
        return url
    }

    /// Runs `text` on `url` on a connection of its own; every column must be cast to text.
    @discardableResult
    static func sql(_ url: String, _ text: String, _ binds: PostgresBindings = PostgresBindings()) throws -> [[String?]] {
        let loc = try PostGISLocation(url: url)
        return try runBlocking {
            let conn = try await PostgresConnection.connect(
                configuration: .init(host: loc.host, port: loc.port, username: loc.user, password: loc.password, database: loc.database, tls: .disable),
                id: 1, logger: Logger(label: "test"))
            do {
                var out: [[String?]] = []
                for try await row in try await conn.query(PostgresQuery(unsafeSQL: text, binds: binds), logger: Logger(label: "test")) {
                    out.append(try row.map { try $0.decode(String?.self) })
                }
                try await conn.close()
                return out
            } catch {
                try? await conn.close()
                throw error
            }
        }
    }

    /// PostGIS's own answer: ids of the segments within `d` metres of (x, y) (`ST_DWithin`),
    /// the oracle the engines' `within` answers are held to.
    static func dwithinIDs(_ url: String, x: Double, y: Double, d: Double) throws -> Set<Int64> {
        var b = PostgresBindings()
        b.append(x)
        b.append(y)
        b.append(d)
        return Set(try sql(url, "SELECT id::text FROM subterra_segments WHERE ST_DWithin(geom, ST_SetSRID(ST_MakePoint($1, $2), 4549), $3)", b)
            .compactMap { $0[0].flatMap { Int64($0) } })
    }
}
