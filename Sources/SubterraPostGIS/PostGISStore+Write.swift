import Foundation
import Logging
import PostgresNIO
import SubterraGeometry
import SubterraModel

extension PostGISStore {
    /// Applies `edit` in one transaction (see the type's notes): validates every record first
    /// (naming the first bad one), then takes the next data version, deletes, copies the
    /// upserted segments and points into temporary tables with `COPY` (text format, geometry
    /// as hex EWKB) and merges them (`ON CONFLICT … DO UPDATE`, row version + 1; points keep
    /// their fid), upserts areas, writes metadata, logs each change and notifies. A failure
    /// anywhere, including in the copy stream, rolls everything back.
    ///
    /// - Complexity: O(k) rows sent for k records, plus the server's index maintenance.
    public func apply(_ edit: StoreEdit) throws(StoreError) {
        guard !isReadOnly else { throw StoreError("store was opened read-only", path: path) }
        if edit.isEmpty { return }
        // Last one wins within an edit, as the GeoPackage store's statement-per-row upserts do.
        let segments = Self.lastOfEach(edit.upsertSegments, by: \.id)
        let points = Self.lastOfEach(edit.upsertPoints, by: \.number)
        for s in segments {
            do { try s.validate() } catch { throw StoreError(error.message, path: path, table: PostGISSchema.segmentTable, record: s.location) }
        }
        for p in points {
            do { try p.validate() } catch { throw StoreError(error.message, path: path, table: PostGISSchema.pointTable, record: p.location) }
        }
        for a in edit.upsertAreas {
            do { try a.validate() } catch { throw StoreError(error.message, path: path, table: PostGISSchema.areaTable, record: a.location) }
        }
        let (srid, logger) = (self.srid, self.logger)
        let hook = _afterRowCopied
        try withConnection("cannot write the edit") { conn in
            try await conn.withTransaction(logger: logger) { conn in
                let version = try await Self.nextVersion(conn, logger)
                if !edit.deleteSegments.isEmpty {
                    try await conn.query(
                        "WITH d AS (DELETE FROM subterra_segments WHERE id = ANY(\(edit.deleteSegments)) RETURNING id) INSERT INTO subterra_changes (version, operation, feature_kind, feature) SELECT \(version), 'delete', 'segment', id::text FROM d",
                        logger: logger)
                }
                if !edit.deletePoints.isEmpty {
                    try await conn.query(
                        "WITH d AS (DELETE FROM subterra_points WHERE number = ANY(\(edit.deletePoints.map(\.rawValue))) RETURNING number) INSERT INTO subterra_changes (version, operation, feature_kind, feature) SELECT \(version), 'delete', 'point', number FROM d",
                        logger: logger)
                }
                if !edit.deleteAreas.isEmpty {
                    try await conn.query(
                        "WITH d AS (DELETE FROM subterra_operator_areas WHERE id = ANY(\(edit.deleteAreas)) RETURNING id) INSERT INTO subterra_changes (version, operation, feature_kind, feature) SELECT \(version), 'delete', 'area', id::text FROM d",
                        logger: logger)
                }
                var copied = 0
                if !segments.isEmpty {
                    try await Self.copyMerge(
                        conn, logger, table: PostGISSchema.segmentTable, key: "id", keyColumns: ["id"],
                        columns: PostGISSchema.segmentColumns, kind: "segment", version: version, count: segments.count
                    ) { i, line in
                        Cell.int(segments[i].id).appendCopyText(to: &line)
                        line += "\t" + EWKB.hex(EWKB.encode(.lineString(segments[i].geometry), srid: srid))
                        for c in PostGISRows.segmentCells(segments[i]) {
                            line += "\t"
                            c.appendCopyText(to: &line)
                        }
                        copied += 1
                        try hook?(copied)
                    }
                }
                if !points.isEmpty {
                    try await Self.copyMerge(
                        conn, logger, table: PostGISSchema.pointTable, key: "number", keyColumns: [],
                        columns: PostGISSchema.pointColumns, kind: "point", version: version, count: points.count
                    ) { i, line in
                        line += EWKB.hex(EWKB.encode(.point(points[i].position), srid: srid))
                        for c in PostGISRows.pointCells(points[i]) {
                            line += "\t"
                            c.appendCopyText(to: &line)
                        }
                        copied += 1
                        try hook?(copied)
                    }
                }
                for a in edit.upsertAreas {
                    var b = PostgresBindings()
                    b.append(a.id)
                    b.append(ByteBuffer(bytes: EWKB.encode(.multiPolygon(a.polygons), srid: srid)))
                    for c in PostGISRows.areaCells(a) { c.bind(&b) }
                    let cols = PostGISSchema.quoted(PostGISSchema.areaColumns)
                    let sql = "WITH up AS (INSERT INTO subterra_operator_areas (id, geom, \(cols.joined(separator: ", "))) VALUES ($1, ST_GeomFromEWKB($2), "
                        + (0..<cols.count).map { "$\($0 + 3)" }.joined(separator: ", ")
                        + ") ON CONFLICT (id) DO UPDATE SET geom = EXCLUDED.geom, " + cols.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
                        + ", version = subterra_operator_areas.version + 1 RETURNING id, (xmax = 0) AS inserted) "
                        + "INSERT INTO subterra_changes (version, operation, feature_kind, feature) SELECT \(version), CASE WHEN inserted THEN 'insert' ELSE 'update' END, 'area', id::text FROM up"
                    try await conn.query(PostgresQuery(unsafeSQL: sql, binds: b), logger: logger)
                }
                if !edit.metadata.isEmpty { try await Self.writeMetadata(edit.metadata, conn, logger) }
                try await Self.notify(conn, logger, version: version)
            }
        }
    }

    /// `records` with only the last of each key, in their order. O(n).
    static func lastOfEach<R, K: Hashable>(_ records: [R], by key: (R) -> K) -> [R] {
        var seen = Set<K>()
        var out: [R] = []
        for r in records.reversed() where seen.insert(key(r)).inserted { out.append(r) }
        return out.reversed()
    }

    /// Takes the next data version inside the current transaction. The `subterra_state` row
    /// stays locked until commit, so writers queue here and their versions commit in order:
    /// a follower reading the change log up to version v never later sees a smaller one.
    /// The version gets its `subterra_versions` row in the same statement.
    static func nextVersion(_ conn: PostgresConnection, _ logger: Logger) async throws -> Int64 {
        for try await v in try await conn.query(
            "WITH v AS (UPDATE subterra_state SET data_version = data_version + 1 RETURNING data_version) INSERT INTO subterra_versions (version) SELECT data_version FROM v RETURNING version",
            logger: logger
        ).decode(Int64.self) { return v }
        throw StoreError("subterra_state is empty", path: "")
    }

    /// `NOTIFY subterra_changes, '<version>'`: PostgreSQL delivers it when the transaction commits.
    static func notify(_ conn: PostgresConnection, _ logger: Logger, version: Int64) async throws {
        try await conn.query("SELECT pg_notify(\(PostGISSchema.channel), \(String(version)))", logger: logger)
    }

    /// Sends `count` rows (`row(i, &line)` writes row i's tab-separated `COPY` text: the key
    /// columns, hex EWKB geometry, then `columns`) into a temporary copy of `table`, then merges
    /// it into `table` on `key`, logging an insert or update per row at `version`.
    static func copyMerge(
        _ conn: PostgresConnection, _ logger: Logger, table: String, key: String, keyColumns: [String],
        columns: [(String, String)], kind: String, version: Int64, count: Int,
        row: (Int, inout String) throws -> Void
    ) async throws {
        let stage = "subterra_stage_\(kind)"
        try await conn.query(
            PostgresQuery(unsafeSQL: "CREATE TEMP TABLE IF NOT EXISTS \(stage) (LIKE \(table) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"),
            logger: logger)
        try await conn.query(PostgresQuery(unsafeSQL: "TRUNCATE \(stage)"), logger: logger)
        let names = keyColumns + ["geom"] + columns.map(\.0)
        try await conn.copyFrom(table: stage, columns: names, logger: logger) { writer in
            var chunk = ""
            chunk.reserveCapacity(1 << 20)
            for i in 0..<count {
                try row(i, &chunk)
                chunk += "\n"
                if chunk.utf8.count >= 1 << 20 {
                    try await writer.write(ByteBuffer(string: chunk))
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            if !chunk.isEmpty { try await writer.write(ByteBuffer(string: chunk)) }
        }
        let cols = names.map { "\"\($0)\"" }
        let updates = cols.filter { $0 != "\"\(key)\"" }.map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let featureText = key == "id" ? "id::text" : key
        let sql = "WITH up AS (INSERT INTO \(table) (\(cols.joined(separator: ", "))) SELECT \(cols.joined(separator: ", ")) FROM \(stage) "
            + "ON CONFLICT (\(key)) DO UPDATE SET \(updates), version = \(table).version + 1 RETURNING \(key), (xmax = 0) AS inserted) "
            + "INSERT INTO subterra_changes (version, operation, feature_kind, feature) "
            + "SELECT \(version), CASE WHEN inserted THEN 'insert' ELSE 'update' END, '\(kind)', \(featureText) FROM up"
        try await conn.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }
}
