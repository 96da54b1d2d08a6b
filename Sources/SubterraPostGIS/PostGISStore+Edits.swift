import Foundation
import Logging
import PostgresNIO
import SubterraGeometry
import SubterraModel

/// A stored record with its row version: what an editor read, and must name when it writes.
public struct Versioned<Record: Hashable & Sendable>: Hashable, Sendable {
    public var record: Record
    /// The row's version when read: 1 when inserted, +1 on every change.
    public var version: Int64

    public init(_ record: Record, version: Int64) {
        self.record = record
        self.version = version
    }
}

/// One change of an optimistic edit (``PostGISStore/commit(_:)``). Updates and deletes name the
/// row version the editor read; inserts require that no row with the key exists.
public enum FeatureChange: Hashable, Sendable {
    case insertSegment(PipeSegment)
    case updateSegment(PipeSegment, expectedVersion: Int64)
    case deleteSegment(id: Int64, expectedVersion: Int64)
    case insertPoint(FeaturePoint)
    case updatePoint(FeaturePoint, expectedVersion: Int64)
    case deletePoint(PointNumber, expectedVersion: Int64)
}

extension PostGISStore {
    /// Segment `id` with its row version, nil when absent.
    public func segment(id: Int64) throws(StoreError) -> Versioned<PipeSegment>? {
        let (srid, path, logger) = (self.srid, self.path, self.logger)
        return try withConnection("cannot read segment \(id)") { conn in
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.segmentSelect + " WHERE id = $1", binds: Self.binds(id)), logger: logger) {
                let (s, v) = try PostGISRows.segment(row.makeRandomAccess(), srid: srid, path: path)
                return Versioned(s, version: v)
            }
            return nil
        }
    }

    /// Point `number` with its row version, nil when absent.
    public func point(number: PointNumber) throws(StoreError) -> Versioned<FeaturePoint>? {
        let (srid, path, logger) = (self.srid, self.path, self.logger)
        return try withConnection("cannot read point \(number)") { conn in
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.pointSelect + " WHERE number = $1", binds: Self.binds(number.rawValue)), logger: logger) {
                let (p, v) = try PostGISRows.point(row.makeRandomAccess(), srid: srid, path: path)
                return Versioned(p, version: v)
            }
            return nil
        }
    }

    static func binds(_ values: any PostgresDynamicTypeEncodable...) -> PostgresBindings {
        var b = PostgresBindings()
        for v in values { b.append(v) }
        return b
    }

    /// Commits `changes` in one transaction with optimistic concurrency per feature: an update
    /// or delete applies only if the row is still at `expectedVersion` (`… WHERE version = $v`;
    /// under READ COMMITTED a concurrent writer's lock is waited for and the condition checked
    /// against its committed row), an insert only if the key is free. The first change that
    /// does not apply rolls everything back with a `StoreError` of kind `.conflict` naming the
    /// feature, the version expected and the version found. Returns the new data version.
    ///
    /// - Complexity: one statement per change.
    @discardableResult
    public func commit(_ changes: [FeatureChange]) throws(StoreError) -> Int64 {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        for c in changes {
            switch c {
            case .insertSegment(let s), .updateSegment(let s, _):
                do { try s.validate() } catch { throw StoreError(error.message, path: path, table: PostGISSchema.segmentTable, record: s.location) }
            case .insertPoint(let p), .updatePoint(let p, _):
                do { try p.validate() } catch { throw StoreError(error.message, path: path, table: PostGISSchema.pointTable, record: p.location) }
            case .deleteSegment, .deletePoint: break
            }
        }
        let (srid, logger, path) = (self.srid, self.logger, self.path)
        return try withConnection("cannot commit the edit") { conn in
            try await conn.withTransaction(logger: logger) { conn in
                let version = try await Self.nextVersion(conn, logger)
                for c in changes { try await Self.apply(c, conn, logger, srid: srid, version: version, path: path) }
                try await Self.notify(conn, logger, version: version)
                return version
            }
        }
    }

    private static func apply(_ change: FeatureChange, _ conn: PostgresConnection, _ logger: Logger, srid: Int32, version: Int64, path: String) async throws {
        let segCols = PostGISSchema.quoted(PostGISSchema.segmentColumns)
        let ptCols = PostGISSchema.quoted(PostGISSchema.pointColumns)
        var b = PostgresBindings()
        let sql: String
        let table: String, record: String, kind: String, feature: String, operation: String
        var expected: Int64?
        switch change {
        case .insertSegment(let s), .updateSegment(let s, _):
            b.append(s.id)
            b.append(ByteBuffer(bytes: EWKB.encode(.lineString(s.geometry), srid: srid)))
            for c in PostGISRows.segmentCells(s) { c.bind(&b) }
            (table, record, kind, feature) = (PostGISSchema.segmentTable, s.location, "segment", String(s.id))
            let params = (0..<segCols.count).map { "$\($0 + 3)" }
            if case .updateSegment(_, let v) = change {
                expected = v
                b.append(v)
                operation = "update"
                sql = "UPDATE subterra_segments SET geom = ST_GeomFromEWKB($2), "
                    + zip(segCols, params).map { "\($0) = \($1)" }.joined(separator: ", ")
                    + ", version = version + 1 WHERE id = $1 AND version = $\(segCols.count + 3) RETURNING version"
            } else {
                operation = "insert"
                sql = "INSERT INTO subterra_segments (id, geom, \(segCols.joined(separator: ", "))) VALUES ($1, ST_GeomFromEWKB($2), \(params.joined(separator: ", "))) ON CONFLICT (id) DO NOTHING RETURNING version"
            }
        case .insertPoint(let p), .updatePoint(let p, _):
            b.append(ByteBuffer(bytes: EWKB.encode(.point(p.position), srid: srid)))
            for c in PostGISRows.pointCells(p) { c.bind(&b) }
            (table, record, kind, feature) = (PostGISSchema.pointTable, p.location, "point", p.number.rawValue)
            let params = (0..<ptCols.count).map { "$\($0 + 2)" }
            if case .updatePoint(_, let v) = change {
                expected = v
                b.append(v)
                operation = "update"
                // $2 is `number`, the key: it stays.
                sql = "UPDATE subterra_points SET geom = ST_GeomFromEWKB($1), "
                    + zip(ptCols, params).dropFirst().map { "\($0) = \($1)" }.joined(separator: ", ")
                    + ", version = version + 1 WHERE number = $2 AND version = $\(ptCols.count + 2) RETURNING version"
            } else {
                operation = "insert"
                sql = "INSERT INTO subterra_points (geom, \(ptCols.joined(separator: ", "))) VALUES (ST_GeomFromEWKB($1), \(params.joined(separator: ", "))) ON CONFLICT (number) DO NOTHING RETURNING version"
            }
        case .deleteSegment(let id, let v):
            b.append(id)
            b.append(v)
            expected = v
            (table, record, kind, feature, operation) = (PostGISSchema.segmentTable, "segment \(id)", "segment", String(id), "delete")
            sql = "DELETE FROM subterra_segments WHERE id = $1 AND version = $2 RETURNING version"
        case .deletePoint(let n, let v):
            b.append(n.rawValue)
            b.append(v)
            expected = v
            (table, record, kind, feature, operation) = (PostGISSchema.pointTable, "point \(n)", "point", n.rawValue, "delete")
            sql = "DELETE FROM subterra_points WHERE number = $1 AND version = $2 RETURNING version"
        }
        var applied = false
        for try await _ in try await conn.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: logger) { applied = true }
        guard applied else {
            let keyColumn = kind == "segment" ? "id::text" : "number"
            var found: Int64?
            for try await v in try await conn.query(
                PostgresQuery(unsafeSQL: "SELECT version FROM \(table) WHERE \(keyColumn) = $1", binds: binds(feature)), logger: logger
            ).decode(Int64.self) { found = v }
            let why: String
            var denied = false
            if found != nil, expected != nil {
                // Still there at some version: row-level security may be what hid it from the edit.
                for try await may in try await conn.query(
                    PostgresQuery(unsafeSQL: "SELECT subterra_may_edit(owner, current_user) OR pg_has_role((SELECT tableowner FROM pg_tables WHERE tablename = '\(table)' LIMIT 1), 'USAGE') OR (SELECT rolbypassrls OR rolsuper FROM pg_roles WHERE rolname = current_user) FROM \(table) WHERE \(keyColumn) = $1", binds: binds(feature)),
                    logger: logger
                ).decode(Bool?.self) { denied = may == false }
            }
            if denied {
                throw StoreError(
                    "permission denied: \(record) belongs to an owner this database role may not edit (row-level security; subterra_editors lists the owners each role may edit)",
                    path: path, table: table, record: record, kind: .invalid)
            }
            if let expected {
                why = found.map { "edit conflict: \(record) is at version \($0), not the version \(expected) this edit was made from; another editor changed it. Read it again and redo the edit" }
                    ?? "edit conflict: \(record) no longer exists (deleted by another editor since version \(expected) was read)"
            } else {
                why = "edit conflict: \(record) already exists (version \(found ?? 0)); another editor inserted it"
            }
            throw StoreError(why, path: path, table: table, record: record, kind: .conflict)
        }
        try await conn.query(
            "INSERT INTO subterra_changes (version, operation, feature_kind, feature) VALUES (\(version), \(operation), \(kind), \(feature))",
            logger: logger)
    }
}
