import Foundation
import Logging
import PostgresNIO
import SubterraGeometry
import SubterraModel

/// What a follower reads to catch up from version `after` (``PostGISStore/changes(after:)``),
/// all from one repeatable-read snapshot of the store at ``head``.
public struct ChangeBatch: Sendable {
    /// One committed data version: when its writer took it, and the features it touched.
    public struct Version: Sendable {
        public var version: Int64
        /// `subterra_versions.at`: the server's clock when the writer took the version (just
        /// before its commit; the writer's transaction holds the version lock until then).
        public var at: Date
        /// The features the version changed, as (kind, key): `segment` id, `point` number,
        /// `area` id.
        public var touched: [FeatureKey]
    }

    /// A feature a change touched: its kind and key.
    public struct FeatureKey: Hashable, Sendable {
        public var kind: String
        public var key: String
    }

    /// The version the batch is read at (the store's data version in the snapshot).
    public var head: Int64
    /// Every version after `after` up to ``head``, in order, one each; empty when nothing
    /// changed. Nil when the log cannot say (a version has no row: trimmed, or committed before
    /// the store had the version table): the reader must load a whole snapshot instead.
    public var versions: [Version]?
    /// The touched segments, points and areas as they are at ``head`` (absent: deleted by then).
    public var segments: [Int64: PipeSegment] = [:]
    public var points: [PointNumber: FeaturePoint] = [:]
    public var areas: [Int64: OperatorArea] = [:]
}

/// A whole map at one data version (``PostGISStore/snapshot(connections:)``).
public struct VersionedSnapshot: Sendable {
    public var network: UtilityNetwork
    public var version: Int64
}

/// Every record of a store at one data version, not yet checked as a map
/// (``PostGISStore/records(connections:)``): for `UtilityEngine(crs:segments:points:areas:…)`,
/// which checks them as it builds, with no `UtilityNetwork` in between.
public struct VersionedRecords: Sendable {
    /// The store's CRS (`EPSG:…`).
    public var crs: String
    /// Segments, in id order. Reading it concatenates the parts they were read in (O(n)); a
    /// change in place (`records.segments[i].road = …`) makes them one part first, once.
    public var segments: [PipeSegment] {
        get { SnapshotRows.joined(segmentParts) }
        set { segmentParts = [newValue] }
        _modify {
            var all = SnapshotRows.joined(segmentParts)
            segmentParts = []
            defer { segmentParts = [all] }
            yield &all
        }
    }
    /// Points, in the order they were written (fid). Reading it concatenates the parts they were
    /// read in (O(n)); a change in place makes them one part first, once.
    public var points: [FeaturePoint] {
        get { SnapshotRows.joined(pointParts) }
        set { pointParts = [newValue] }
        _modify {
            var all = SnapshotRows.joined(pointParts)
            pointParts = []
            defer { pointParts = [all] }
            yield &all
        }
    }
    /// Operator areas, in id order.
    public var areas: [OperatorArea]
    /// The store's data version the records are at.
    public var version: Int64
    /// ``segments`` and ``points`` as read, in order: what a follower builds its engine from,
    /// with no copy into one array.
    var segmentParts: [[PipeSegment]]
    var pointParts: [[FeaturePoint]]
}

extension PostGISStore {
    /// Everything, as one validated map, with the data version it is at: one snapshot of the
    /// store, read on up to `connections` connections at once, at most 8
    /// (``readAll(connections:leadTakesParts:)``).
    /// What a follower starts from. O(n) rows.
    public func snapshot(connections: Int = PostGISStore.defaultSnapshotConnections) throws(StoreError) -> VersionedSnapshot {
        let r = try records(connections: connections)
        do {
            return VersionedSnapshot(
                network: try UtilityNetwork(crs: r.crs, segments: r.segments, points: r.points, areas: r.areas), version: r.version)
        } catch {
            throw StoreError("stored data is invalid: \(error)", path: path)
        }
    }

    /// Every record at one data version, read as ``snapshot(connections:)`` reads them, not yet
    /// checked as a map (the engine's records initializer checks them as it builds). O(n) rows.
    public func records(connections: Int = PostGISStore.defaultSnapshotConnections) throws(StoreError) -> VersionedRecords {
        let r = try readAll(connections: connections)
        return VersionedRecords(
            crs: spatialReference.authorityString, areas: r.areas, version: r.version, segmentParts: r.segmentParts, pointParts: r.pointParts)
    }

    /// The changes committed after data version `after`, read in one repeatable-read, read-only
    /// transaction (so it works on a streaming replica): the head version, each version's
    /// `subterra_versions` row and `subterra_changes` rows, and the touched features' rows at the
    /// head. When the head equals `after` only the head is read (the cheap poll). ``ChangeBatch/versions``
    /// is nil when the versions after `after` are not all there, or there are more than `limit`
    /// of them: the caller reloads a snapshot.
    ///
    /// With a `timeout`, the read (waiting for a pooled connection included) fails with a
    /// `StoreError` once it has taken that long, so a caller that polls is never held by a
    /// connection that stopped answering; the transaction's `statement_timeout` and
    /// `lock_timeout` are set to it too, so the server ends a query it holds up (a lock wait,
    /// say) rather than keep a backend and the pool's connection busy.
    ///
    /// - Complexity: O(c + k log n) for c change rows touching k features: one indexed query per table.
    public func changes(after: Int64, limit: Int64 = 100_000, timeout: Duration? = nil) throws(StoreError) -> ChangeBatch {
        let (srid, path, logger) = (self.srid, self.path, self.logger)
        // PostgreSQL's limits are 32-bit milliseconds: past about 24 days, none.
        let limitMS = timeout.map { t -> Int in
            let ms = nanoseconds(t) / 1_000_000
            return ms > Int(Int32.max) ? 0 : max(1, ms)
        }
        return try withConnection("cannot read the change log", timeout: timeout) { conn in
            try await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                if let limitMS {
                    try await conn.query(PostgresQuery(unsafeSQL: "SET LOCAL statement_timeout = \(limitMS)"), logger: logger)
                    try await conn.query(PostgresQuery(unsafeSQL: "SET LOCAL lock_timeout = \(limitMS)"), logger: logger)
                }
                let batch = try await Self.readChanges(conn, after: after, limit: limit, srid: srid, path: path, logger: logger)
                try await conn.query("COMMIT", logger: logger)
                return batch
            } catch {
                _ = try? await conn.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    private static func readChanges(
        _ conn: PostgresConnection, after: Int64, limit: Int64, srid: Int32, path: String, logger: Logger
    ) async throws -> ChangeBatch {
        var head: Int64 = 0
        for try await v in try await conn.query("SELECT data_version FROM subterra_state", logger: logger).decode(Int64.self) { head = v }
        var batch = ChangeBatch(head: head, versions: [])
        if head == after { return batch }
        guard head > after, head - after <= limit else {
            batch.versions = nil
            return batch
        }
        var versions: [ChangeBatch.Version] = []
        var index: [Int64: Int] = [:]
        for try await (v, at) in try await conn.query(
            "SELECT version, at FROM subterra_versions WHERE version > \(after) AND version <= \(head) ORDER BY version", logger: logger
        ).decode((Int64, Date).self) {
            guard v == after + Int64(versions.count) + 1 else { break }
            index[v] = versions.count
            versions.append(.init(version: v, at: at, touched: []))
        }
        guard versions.count == head - after else {
            batch.versions = nil
            return batch
        }
        var segIDs = Set<Int64>(), numbers = Set<String>(), areaIDs = Set<Int64>()
        for try await (v, kind, feature) in try await conn.query(
            "SELECT version, feature_kind, feature FROM subterra_changes WHERE version > \(after) AND version <= \(head) ORDER BY version",
            logger: logger
        ).decode((Int64, String, String).self) {
            guard let i = index[v] else { continue }
            versions[i].touched.append(.init(kind: kind, key: feature))
            switch kind {
            case "segment": if let id = Int64(feature) { segIDs.insert(id) }
            case "point": numbers.insert(feature)
            default: if let id = Int64(feature) { areaIDs.insert(id) }
            }
        }
        batch.versions = versions
        if !segIDs.isEmpty {
            for try await row in try await conn.query(
                PostgresQuery(unsafeSQL: segmentSelect + " WHERE id = ANY($1)", binds: binds(Array(segIDs))), logger: logger
            ) {
                let s = try PostGISRows.segment(row.makeRandomAccess(), srid: srid, path: path).0
                batch.segments[s.id] = s
            }
        }
        if !numbers.isEmpty {
            for try await row in try await conn.query(
                PostgresQuery(unsafeSQL: pointSelect + " WHERE number = ANY($1)", binds: binds(Array(numbers))), logger: logger
            ) {
                let p = try PostGISRows.point(row.makeRandomAccess(), srid: srid, path: path).0
                batch.points[p.number] = p
            }
        }
        if !areaIDs.isEmpty {
            for try await row in try await conn.query(
                PostgresQuery(unsafeSQL: areaSelect + " WHERE id = ANY($1)", binds: binds(Array(areaIDs))), logger: logger
            ) {
                let a = try PostGISRows.area(row.makeRandomAccess(), srid: srid, path: path)
                batch.areas[a.id] = a
            }
        }
        return batch
    }

    /// Whether the server is a streaming replica (`pg_is_in_recovery()`): it takes no writes
    /// and its sessions get no `NOTIFY`.
    public func isInRecovery() throws(StoreError) -> Bool {
        let logger = logger
        return try withConnection("cannot ask the server whether it is a replica") { conn in
            for try await r in try await conn.query("SELECT pg_is_in_recovery()", logger: logger).decode(Bool.self) { return r }
            return false
        }
    }

    /// Deletes the change log (`subterra_changes`, `subterra_versions`) up to and including
    /// `version`: what keeps the log small. A follower behind `version` then finds a gap and
    /// loads a whole snapshot. Returns the rows deleted.
    @discardableResult
    public func trimChangeLog(through version: Int64) throws(StoreError) -> Int {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        let logger = logger
        return try withConnection("cannot trim the change log") { conn in
            try await conn.withTransaction(logger: logger) { conn in
                var n = 0
                for try await _ in try await conn.query("DELETE FROM subterra_changes WHERE version <= \(version) RETURNING 1", logger: logger) { n += 1 }
                for try await _ in try await conn.query("DELETE FROM subterra_versions WHERE version <= \(version) RETURNING 1", logger: logger) { n += 1 }
                return n
            }
        }
    }
}
