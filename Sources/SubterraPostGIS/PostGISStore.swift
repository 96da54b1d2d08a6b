import Foundation
import Logging
import PostgresNIO
import SubterraGeometry
import SubterraModel

/// The city's store of record: a PostgreSQL + PostGIS database behind ``UtilityStore``.
///
/// Connections come from a pooled `PostgresClient` (postgres-nio, binary protocol, at most 8
/// connections). `UtilityStore` is synchronous, so each call runs its queries as a task on the
/// bridge's own threads and blocks the caller until they finish (``runBlocking(_:)``; documented
/// there why it cannot deadlock). The schema is ``PostGISSchema``'s, created and migrated on a
/// writable open.
///
/// Writes: ``apply(_:)`` runs one transaction that takes the next data version (the
/// `subterra_state` row lock orders concurrent writers, so versions commit in order), sends the
/// upserted rows by `COPY` into temporary tables and merges them with `INSERT … ON CONFLICT`,
/// logs one `subterra_changes` row per feature touched, and `NOTIFY`s ``PostGISSchema/channel``
/// with the version, delivered on commit. Any failure rolls back all of it. Per-feature
/// optimistic edits are ``commit(_:)``.
public final class PostGISStore: UtilityStore, @unchecked Sendable {
    /// Where the store lives (the URL without password).
    public let location: PostGISLocation
    public let spatialReference: SpatialReference
    /// Whether writes are refused (a replica, or an open for reading only).
    public let isReadOnly: Bool
    let client: PostgresClient
    private let runTask: Task<Void, Never>
    let logger: Logger

    private let hookLock = NSLock()
    // Guarded by hookLock.
    private var _rowHook: (@Sendable (Int) throws -> Void)?
    /// Called after each row is put into a `COPY` stream inside ``apply(_:)`` with the running row
    /// count; a throw fails the copy and rolls the edit back. Tests use it to fail an import halfway.
    public var _afterRowCopied: (@Sendable (Int) throws -> Void)? {
        get { hookLock.withLock { _rowHook } }
        set { hookLock.withLock { _rowHook = newValue } }
    }

    var path: String { location.description }
    var srid: Int32 { spatialReference.srsID }

    private init(location: PostGISLocation, client: PostgresClient, runTask: Task<Void, Never>, srs: SpatialReference, readOnly: Bool) {
        self.location = location
        self.client = client
        self.runTask = runTask
        spatialReference = srs
        isReadOnly = readOnly
        var l = Logger(label: "subterra.postgis")
        l.logLevel = .critical
        logger = l
    }

    deinit { runTask.cancel() }

    /// Opens the store at `url` (`postgresql://user@host:port/database`). A writable open
    /// creates the schema in `spatialReference` when the database has none (the `postgis`
    /// extension must exist or be creatable), and migrates an older schema, under an advisory
    /// lock so concurrent opens migrate once. A read-only open (a replica) changes nothing and
    /// needs the current schema. An existing store keeps its own CRS.
    ///
    /// - Throws: `StoreError` when the server cannot be reached, the schema is missing (read-only)
    ///   or newer than this code knows.
    ///
    /// `applicationName` is the connections' `application_name` (what `pg_stat_activity` shows).
    /// With a `timeout`, connecting and reading the store's state (migrating included) may take
    /// that long at most.
    public static func open(
        _ url: String, spatialReference: SpatialReference = .cgcs2000GK120E, readOnly: Bool = false,
        applicationName: String = "subterra", timeout: Duration? = nil
    ) throws(StoreError) -> PostGISStore {
        let location = try PostGISLocation(url: url)
        var configuration = try location.clientConfiguration()
        configuration.options.additionalStartupParameters = [("application_name", applicationName)]
        let client = PostgresClient(configuration: configuration)
        let runTask = Task(executorPreference: BridgeExecutor.shared) { await client.run() }
        var logger = Logger(label: "subterra.postgis")
        logger.logLevel = .critical
        let state: (srid: Int32, crs: String)
        do {
            // The first connection is made directly, not through the pool: a pool retries a
            // failing connect (a wrong port, a refused certificate, a bad password) for a minute
            // before it gives up, with a generic error; a direct connect fails at once, saying why.
            let first = try location.connectionConfiguration(applicationName: applicationName)
            state = try runBlocking(timeout: timeout) { [logger] in
                let conn = try await PostgresConnection.connect(configuration: first, id: 0, logger: logger)
                do {
                    if !readOnly { try await Self.migrate(conn, srs: spatialReference, logger: logger) }
                    let state = try await Self.readState(conn, logger: logger, path: location.description)
                    try? await conn.close()
                    return state
                } catch {
                    try? await conn.close()
                    throw error
                }
            }
        } catch {
            runTask.cancel()
            throw storeError(error, path: location.description, doing: "cannot open store")
        }
        let srs: SpatialReference
        if state.crs == spatialReference.authorityString {
            srs = spatialReference
        } else {
            do { srs = try SpatialReference(crs: state.crs) } catch {
                runTask.cancel()
                throw StoreError("the store's CRS \(state.crs) is unknown to PROJ: \(error)", path: location.description)
            }
        }
        guard srs.srsID == state.srid else {
            runTask.cancel()
            throw StoreError("the store's SRID \(state.srid) does not match its CRS \(state.crs)", path: location.description)
        }
        return PostGISStore(location: location, client: client, runTask: runTask, srs: srs, readOnly: readOnly)
    }

    /// Creates or migrates the schema to ``PostGISSchema/version`` in one transaction, under a
    /// transaction-scoped advisory lock. Idempotent.
    static func migrate(_ conn: PostgresConnection, srs: SpatialReference, logger: Logger) async throws {
        try await conn.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(7374627265)", logger: logger)
            try await conn.query("CREATE EXTENSION IF NOT EXISTS postgis", logger: logger)
            var current = 0
            let exists = try await conn.query("SELECT to_regclass('subterra_meta') IS NOT NULL", logger: logger)
            for try await hasMeta in exists.decode(Bool.self) where hasMeta {
                let v = try await conn.query("SELECT value FROM subterra_meta WHERE key = 'subterra.schema'", logger: logger)
                for try await text in v.decode(String.self) { current = Int(text) ?? 0 }
            }
            guard current <= PostGISSchema.version else {
                throw StoreError(
                    "the store's schema version \(current) is newer than this Subterra's (\(PostGISSchema.version)); upgrade Subterra",
                    path: "")
            }
            let steps = PostGISSchema.migrations(srid: srs.srsID, crs: srs.authorityString)
            // One statement per query: the extended protocol prepares one statement at a time.
            for step in steps[current...] {
                for statement in PostGISSchema.statements(step) {
                    try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            // The store's identity, once: what tells this store (and its replicas) from one made
            // again at the same address (ETags of several servers compare by it). Written only
            // when missing, so a role that may only read subterra_meta (an owner's editor under
            // row-level security) still opens an identified store writable.
            var identified = false
            for try await has in try await conn.query(
                "SELECT EXISTS (SELECT 1 FROM subterra_meta WHERE key = 'subterra.store_id')", logger: logger
            ).decode(Bool.self) { identified = has }
            if !identified {
                try await conn.query(
                    "INSERT INTO subterra_meta (key, value) VALUES ('subterra.store_id', md5(random()::text || clock_timestamp()::text)) ON CONFLICT (key) DO NOTHING",
                    logger: logger)
            }
            if current < PostGISSchema.version {
                try await conn.query(
                    "INSERT INTO subterra_meta (key, value) VALUES ('subterra.schema', \(String(PostGISSchema.version))) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    logger: logger)
            }
        }
    }

    static func readState(_ conn: PostgresConnection, logger: Logger, path: String) async throws -> (srid: Int32, crs: String) {
        let exists = try await conn.query("SELECT to_regclass('subterra_state') IS NOT NULL", logger: logger)
        for try await has in exists.decode(Bool.self) where !has {
            throw StoreError("the database holds no Subterra store (no subterra_state table); import into it first", path: path)
        }
        let rows = try await conn.query("SELECT srid, crs, (SELECT value FROM subterra_meta WHERE key = 'subterra.schema') FROM subterra_state", logger: logger)
        for try await (srid, crs, schema) in rows.decode((Int32, String, String?).self) {
            guard Int(schema ?? "") == PostGISSchema.version else {
                throw StoreError("the store's schema version is \(schema ?? "none"), this Subterra reads \(PostGISSchema.version); open it writable once to migrate", path: path)
            }
            return (srid, crs)
        }
        throw StoreError("subterra_state is empty", path: path)
    }

    /// Stops the pool. The store is unusable afterwards; dropping the last reference does the same.
    public func close() { runTask.cancel() }

    /// A `StoreError` for `error` (a server error's message and detail, not postgres-nio's
    /// generic description); a `StoreError` passes through.
    static func storeError(_ error: any Error, path: String, doing: String) -> StoreError {
        if let e = error as? StoreError {
            var e = e
            if e.path.isEmpty { e.path = path }
            return e
        }
        if let t = error as? PostgresTransactionError {
            if let inner = t.closureError ?? t.commitError ?? t.beginError { return storeError(inner, path: path, doing: doing) }
        }
        if let p = error as? PSQLError {
            if let server = p.serverInfo, let message = server[.message] {
                let detail = server[.detail].map { " (\($0))" } ?? ""
                let kind: StoreError.Kind = server[.sqlState] == "40001" ? .conflict : .invalid
                if server[.sqlState] == "42501", message.contains("row-level security") {
                    return StoreError(
                        "\(doing): permission denied: \(message); this database role may edit only the pipes and points of the owners "
                            + "subterra_editors lists for it", path: path, table: server[.tableName], kind: .invalid)
                }
                return StoreError("\(doing): \(message)\(detail)", path: path, table: server[.tableName], field: server[.columnName], kind: kind)
            }
            return StoreError("\(doing): \(p.code.description)\(p.underlying.map { ": \($0)" } ?? "")", path: path)
        }
        return StoreError("\(doing): \(error)", path: path)
    }

    /// Runs `body` with a pooled connection, blocking the caller; errors become `StoreError`s.
    /// With a `timeout`, waiting for the connection and running `body` together may take that
    /// long at most (``runBlocking(timeout:_:)``).
    func withConnection<T: Sendable>(
        _ doing: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) throws(StoreError) -> T {
        do {
            return try runBlocking(timeout: timeout) { [client] in try await client.withConnection(body) }
        } catch let e as BridgeTimeout {
            throw StoreError("\(doing): \(e) (no free connection, or the server did not answer)", path: path)
        } catch {
            throw Self.storeError(error, path: path, doing: doing)
        }
    }

    // MARK: Reading

    static let segmentSelect = "SELECT id, version, ST_AsEWKB(geom), " + PostGISSchema.quoted(PostGISSchema.segmentColumns).joined(separator: ", ") + " FROM subterra_segments"
    static let pointSelect = "SELECT fid, version, ST_AsEWKB(geom), " + PostGISSchema.quoted(PostGISSchema.pointColumns).joined(separator: ", ") + " FROM subterra_points"
    static let areaSelect = "SELECT id, version, ST_AsEWKB(geom), " + PostGISSchema.quoted(PostGISSchema.areaColumns).joined(separator: ", ") + " FROM subterra_operator_areas"

    /// Segments, points and areas of `filter` (SQL after each table's FROM, with `binds`), read in
    /// one repeatable-read transaction so the three tables come from one data version.
    func read(where filter: String, binds: PostgresBindings = PostgresBindings()) throws(StoreError) -> (segments: [PipeSegment], points: [FeaturePoint], areas: [OperatorArea], version: Int64) {
        let (srid, path, logger) = (self.srid, self.path, self.logger)
        return try withConnection("cannot read the store") { conn in
            try await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                var version: Int64 = 0
                for try await v in try await conn.query("SELECT data_version FROM subterra_state", logger: logger).decode(Int64.self) { version = v }
                var segs: [PipeSegment] = [], pts: [FeaturePoint] = [], areas: [OperatorArea] = []
                for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.segmentSelect + filter + " ORDER BY id", binds: binds), logger: logger) {
                    segs.append(try PostGISRows.segment(row.makeRandomAccess(), srid: srid, path: path).0)
                }
                for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.pointSelect + filter + " ORDER BY fid", binds: binds), logger: logger) {
                    pts.append(try PostGISRows.point(row.makeRandomAccess(), srid: srid, path: path).0)
                }
                for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.areaSelect + " ORDER BY id"), logger: logger) {
                    areas.append(try PostGISRows.area(row.makeRandomAccess(), srid: srid, path: path))
                }
                try await conn.query("COMMIT", logger: logger)
                return (segs, pts, areas, version)
            } catch {
                _ = try? await conn.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The store's identity: a random token written by the first writable open (kept in
    /// `subterra_meta` as `subterra.store_id`), the same on the primary and its replicas and new
    /// when the database is made again; nil for a store no writable open has touched since.
    public func storeID() throws(StoreError) -> String? {
        try metadata()["subterra.store_id"]
    }

    /// Everything, as one validated map at one data version (``snapshot(connections:)``'s read).
    /// O(n) rows.
    public func loadAll() throws(StoreError) -> UtilityNetwork {
        let r = try readAll(connections: Self.defaultSnapshotConnections)
        return try network(r.segments, r.points, r.areas)
    }

    /// Segments whose box meets `envelope` and points in it (`geom && ST_MakeEnvelope`, through
    /// the GiST indexes), and every area.
    public func load(in envelope: Envelope) throws(StoreError) -> UtilityNetwork {
        var b = PostgresBindings()
        b.append(envelope.minX)
        b.append(envelope.minY)
        b.append(envelope.maxX)
        b.append(envelope.maxY)
        let r = try read(where: " WHERE geom && ST_MakeEnvelope($1, $2, $3, $4, \(srid))", binds: b)
        return try network(r.segments, r.points, r.areas)
    }

    private func network(_ segs: [PipeSegment], _ pts: [FeaturePoint], _ areas: [OperatorArea]) throws(StoreError) -> UtilityNetwork {
        do {
            return try UtilityNetwork(crs: spatialReference.authorityString, segments: segs, points: pts, areas: areas)
        } catch {
            throw StoreError("stored data is invalid: \(error)", path: path)
        }
    }

    /// The store's data version: +1 per committed change (what a follower's snapshot is "at").
    public func dataVersion() throws(StoreError) -> Int64 {
        let logger = logger
        return try withConnection("cannot read the data version") { conn in
            for try await v in try await conn.query("SELECT data_version FROM subterra_state", logger: logger).decode(Int64.self) { return v }
            return 0
        }
    }

    func scalarInt(_ sql: String, _ doing: String) throws(StoreError) -> Int64 {
        let logger = logger
        return try withConnection(doing) { conn in
            for try await v in try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode(Int64?.self) { return v ?? 0 }
            return 0
        }
    }

    public func counts() throws(StoreError) -> (segments: Int, points: Int) {
        let logger = logger
        return try withConnection("cannot count rows") { conn in
            for try await (s, p) in try await conn.query(
                "SELECT (SELECT count(*) FROM subterra_segments), (SELECT count(*) FROM subterra_points)", logger: logger
            ).decode((Int64, Int64).self) { return (Int(s), Int(p)) }
            return (0, 0)
        }
    }

    public func nextSegmentID() throws(StoreError) -> Int64 {
        try scalarInt("SELECT max(id) FROM subterra_segments", "cannot read the largest segment id") + 1
    }

    private func parts(_ sql: String, _ bind: @escaping @Sendable (inout PostgresBindings) -> Void) throws(StoreError) -> [StoredPart] {
        let logger = logger
        return try withConnection("cannot read stored parts") { conn in
            var b = PostgresBindings()
            bind(&b)
            var out: [StoredPart] = []
            for try await (id, feature, part, sid) in try await conn.query(
                PostgresQuery(unsafeSQL: "SELECT id, feature, part, source_id FROM subterra_segments WHERE " + sql, binds: b), logger: logger
            ).decode((Int64, Int64?, Int64?, String?).self) {
                out.append(StoredPart(id: id, featureID: feature ?? id, part: part.map { Int($0) }, sourceID: sid))
            }
            return out
        }
    }

    public func storedParts(ofFeatures keys: Set<Int64>) throws(StoreError) -> [StoredPart] {
        guard !keys.isEmpty else { return [] }
        let k = Array(keys)
        return try parts("feature = ANY($1)") { $0.append(k) }
    }

    public func segments(withSourceIDs ids: Set<String>) throws(StoreError) -> [StoredPart] {
        guard !ids.isEmpty else { return [] }
        let k = Array(ids)
        return try parts("source_id = ANY($1)") { $0.append(k) }
    }

    public func storedAreas() throws(StoreError) -> [OperatorArea] {
        let (srid, path, logger) = (self.srid, self.path, self.logger)
        return try withConnection("cannot read areas") { conn in
            var out: [OperatorArea] = []
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: Self.areaSelect + " ORDER BY id"), logger: logger) {
                out.append(try PostGISRows.area(row.makeRandomAccess(), srid: srid, path: path))
            }
            return out
        }
    }

    // MARK: Metadata

    public func metadata() throws(StoreError) -> [String: String] {
        let logger = logger
        return try withConnection("cannot read metadata") { conn in
            var out: [String: String] = [:]
            for try await (k, v) in try await conn.query("SELECT key, value FROM subterra_meta", logger: logger).decode((String, String).self) {
                out[k] = v
            }
            return out
        }
    }

    public func setMetadata(_ entries: [String: String?]) throws(StoreError) {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        let logger = logger
        try withConnection("cannot write metadata") { conn in
            try await conn.withTransaction(logger: logger) { conn in try await Self.writeMetadata(entries, conn, logger) }
        }
    }

    static func writeMetadata(_ entries: [String: String?], _ conn: PostgresConnection, _ logger: Logger) async throws {
        for (k, v) in entries.sorted(by: { $0.key < $1.key }) {
            if let v {
                try await conn.query("INSERT INTO subterra_meta (key, value) VALUES (\(k), \(v)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", logger: logger)
            } else {
                try await conn.query("DELETE FROM subterra_meta WHERE key = \(k)", logger: logger)
            }
        }
    }
}
