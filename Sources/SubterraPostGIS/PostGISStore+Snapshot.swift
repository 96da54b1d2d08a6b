import Foundation
import Logging
import PostgresNIO
import SubterraModel

extension PostGISStore {
    /// How many connections a whole-map read (``snapshot(connections:)``, ``loadAll()``) uses
    /// unless told: two, or one on a one-core machine. More than the cores gains nothing: the
    /// client's row decoding is the bound (`Benchmarks/NOTES.md`, snapshot load).
    public static var defaultSnapshotConnections: Int { min(2, max(1, ProcessInfo.processInfo.activeProcessorCount)) }

    /// One key range of one table, read by one connection (``readAll(connections:leadTakesParts:)``).
    private struct Part: Sendable {
        enum Table: Sendable { case segments, points }
        var table: Table
        /// Inclusive key range (`id` for segments, `fid` for points).
        var low: Int64, high: Int64
    }

    /// The rows one part returned.
    private enum PartRows: Sendable {
        case segments([PipeSegment])
        case points([FeaturePoint])
    }

    /// The parts not yet taken, handed out first come, first served.
    private final class PartQueue: @unchecked Sendable {
        private let lock = NSLock()
        private var next = 0
        let parts: [Part]
        init(_ parts: [Part]) { self.parts = parts }
        /// The index of the next part to read, nil when every part is taken or the read failed.
        func take() -> Int? {
            lock.withLock {
                guard next < parts.count else { return nil }
                defer { next += 1 }
                return next
            }
        }
        /// Hands out no more parts (a reader failed: the others stop after their current part).
        func close() { lock.withLock { next = parts.count } }
    }

    /// A part's read failed on a worker connection (as opposed to the worker never getting a
    /// connection or into the snapshot, which only leaves its parts to the others).
    private struct PartFailed: Error { var underlying: any Error }

    /// `low...high` cut into `count` consecutive ranges of (nearly) equal span, fewer when the
    /// span is smaller than `count`.
    static func ranges(_ low: Int64, _ high: Int64, count: Int) -> [ClosedRange<Int64>] {
        guard low <= high, count > 0 else { return [] }
        let span = high.subtractingReportingOverflow(low)
        // A span past Int64 (ids at both ends of the range): one range.
        guard !span.overflow, span.partialValue < Int64.max else { return [low...high] }
        let n = min(Int64(count), span.partialValue + 1)
        let step = (span.partialValue + 1) / n, extra = (span.partialValue + 1) % n
        var out: [ClosedRange<Int64>] = []
        var start = low
        for i in 0..<n {
            let end = start + (step + (i < extra ? 1 : 0) - 1)
            out.append(start...end)
            if i < n - 1 { start = end + 1 }  // not past the last: `high` may be Int64.max
        }
        return out
    }

    /// Every segment, point and area at one data version, read on up to `connections` pooled
    /// connections at once (at most the pool's 8), all from one snapshot of the store.
    ///
    /// How: a lead connection opens a repeatable-read, read-only transaction, reads the data
    /// version and exports its snapshot (`pg_export_snapshot()`, which a hot standby allows
    /// too). The segment and point key ranges (`min`…`max` of `id` and `fid`) are cut into
    /// parts, segments first (their rows are the larger). The lead and up to `connections − 1`
    /// more connections, each in a repeatable-read transaction that imports the snapshot
    /// (`SET TRANSACTION SNAPSHOT`), take parts off one list until none is left; the lead's
    /// transaction stays open until every part is read, so the snapshot can be imported all
    /// along. The parts are put back in key order: the result is what one connection reading
    /// `ORDER BY id` returns, at the same version.
    ///
    /// A worker that gets no connection, or cannot begin or import the snapshot, leaves its
    /// parts to the others (the lead reads whatever is left, so a short pool or a server at its
    /// connection limit slows the read, never stops it); once every part is taken, workers still
    /// waiting for a connection are cancelled. A part that fails to read fails the whole read,
    /// and the other readers stop after the part they are on.
    ///
    /// `leadTakesParts: false` (tests) leaves every part to the workers.
    ///
    /// Why: one connection keeps about one core busy, taking turns between the server making
    /// rows, NIO reading them and the caller decoding them; parts on several connections overlap
    /// those turns.
    ///
    /// - Complexity: O(n) rows; two `min`/`max` index lookups, then one indexed range query per part.
    func readAll(connections: Int, leadTakesParts: Bool = true) throws(StoreError) -> SnapshotRows {
        let workers = min(max(1, connections), PostGISLocation.poolSize)
        guard workers > 1 else {
            let r = try read(where: "")
            return SnapshotRows(segmentParts: [r.segments], pointParts: [r.points], areas: r.areas, version: r.version)
        }
        let (srid, path, logger, client) = (self.srid, self.path, self.logger, self.client)
        return try withConnection("cannot read the store") { lead in
            try await lead.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            do {
                var version: Int64 = 0
                for try await v in try await lead.query("SELECT data_version FROM subterra_state", logger: logger).decode(Int64.self) { version = v }
                var snapshotID = ""
                for try await s in try await lead.query("SELECT pg_export_snapshot()", logger: logger).decode(String.self) { snapshotID = s }
                // Embedded in SET TRANSACTION (which takes no parameters): the server's own
                // token, checked to be hex words and dashes all the same.
                guard !snapshotID.isEmpty, snapshotID.allSatisfy({ $0.isHexDigit || $0 == "-" }) else {
                    throw StoreError("the server exported an unexpected snapshot id '\(snapshotID)'", path: path)
                }
                var parts: [Part] = []
                for (table, sql, count) in [
                    (Part.Table.segments, "SELECT min(id), max(id) FROM subterra_segments", 4 * workers),
                    (.points, "SELECT min(fid), max(fid) FROM subterra_points", 2 * workers),
                ] {
                    for try await (low, high) in try await lead.query(PostgresQuery(unsafeSQL: sql), logger: logger).decode((Int64?, Int64?).self) {
                        guard let low, let high else { continue }
                        parts += Self.ranges(low, high, count: count).map { Part(table: table, low: $0.lowerBound, high: $0.upperBound) }
                    }
                }
                var areas: [OperatorArea] = []
                for try await row in try await lead.query(PostgresQuery(unsafeSQL: Self.areaSelect + " ORDER BY id"), logger: logger) {
                    areas.append(try PostGISRows.area(row.makeRandomAccess(), srid: srid, path: path))
                }
                let queue = PartQueue(parts), imported = snapshotID
                @Sendable func drain(_ conn: PostgresConnection) async throws -> [(Int, PartRows)] {
                    var out: [(Int, PartRows)] = []
                    while let i = queue.take() {
                        do {
                            out.append((i, try await Self.readPart(conn, queue.parts[i], srid: srid, path: path, logger: logger)))
                        } catch {
                            queue.close()
                            throw error
                        }
                    }
                    return out
                }
                let done = try await withThrowingTaskGroup(of: [(Int, PartRows)].self) { group in
                    let extra = leadTakesParts ? workers - 1 : max(1, workers - 1)
                    for _ in 0..<(parts.isEmpty ? 0 : extra) {
                        group.addTask {
                            do {
                                return try await client.withConnection { conn in
                                    // Past the wait for a connection, the work runs in a task of its
                                    // own, which the group's cancellation does not reach: postgres-nio
                                    // ends a cancelled query, and a part cut short would be lost.
                                    try await Task(executorPreference: BridgeExecutor.shared) { () async throws -> [(Int, PartRows)] in
                                        do {
                                            try await conn.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
                                            try await conn.query(PostgresQuery(unsafeSQL: "SET TRANSACTION SNAPSHOT '\(imported)'"), logger: logger)
                                        } catch {
                                            _ = try? await conn.query("ROLLBACK", logger: logger)
                                            return []  // not in the snapshot: the others read the parts
                                        }
                                        do {
                                            let out = try await drain(conn)
                                            try await conn.query("COMMIT", logger: logger)
                                            return out
                                        } catch {
                                            _ = try? await conn.query("ROLLBACK", logger: logger)
                                            throw PartFailed(underlying: error)
                                        }
                                    }.value
                                }
                            } catch let failed as PartFailed {
                                throw failed.underlying
                            } catch {
                                return []  // no connection (or cancelled once every part was taken)
                            }
                        }
                    }
                    var all = leadTakesParts ? try await drain(lead) : []
                    if leadTakesParts {
                        // Every part is taken: a worker still waiting for a connection has none to
                        // read (and in a pool full of leads it could wait for ever); one at work
                        // carries on.
                        group.cancelAll()
                    }
                    for try await more in group { all += more }
                    // Parts no worker could take (none got a connection): the lead reads them.
                    all += try await drain(lead)
                    return all.sorted { $0.0 < $1.0 }
                }
                try await lead.query("COMMIT", logger: logger)
                var segments: [[PipeSegment]] = [], points: [[FeaturePoint]] = []
                for (_, rows) in done {
                    switch rows {
                    case .segments(let s): segments.append(s)
                    case .points(let p): points.append(p)
                    }
                }
                return SnapshotRows(segmentParts: segments, pointParts: points, areas: areas, version: version)
            } catch {
                _ = try? await lead.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The rows of `part`, in key order.
    private static func readPart(
        _ conn: PostgresConnection, _ part: Part, srid: Int32, path: String, logger: Logger
    ) async throws -> PartRows {
        var b = PostgresBindings()
        b.append(part.low)
        b.append(part.high)
        // Keys are mostly dense, so the range's width is about the row count: reserved once
        // rather than grown by doubling (each doubling touches fresh pages). Capped at 2^17 rows
        // (a part of a 10^6 map holds about 125,000), so a sparse range reserves no more than
        // that and grows from there.
        let (width, overflow) = part.high.subtractingReportingOverflow(part.low)
        let expected = overflow || width >= 1 << 17 ? 1 << 17 : Int(width) + 1
        switch part.table {
        case .segments:
            var out: [PipeSegment] = []
            out.reserveCapacity(expected)
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: segmentSelect + " WHERE id BETWEEN $1 AND $2 ORDER BY id", binds: b), logger: logger) {
                out.append(try PostGISRows.segment(row.makeRandomAccess(), srid: srid, path: path).0)
            }
            return .segments(out)
        case .points:
            var out: [FeaturePoint] = []
            out.reserveCapacity(expected)
            for try await row in try await conn.query(PostgresQuery(unsafeSQL: pointSelect + " WHERE fid BETWEEN $1 AND $2 ORDER BY fid", binds: b), logger: logger) {
                out.append(try PostGISRows.point(row.makeRandomAccess(), srid: srid, path: path).0)
            }
            return .points(out)
        }
    }
}

/// A snapshot's rows as ``PostGISStore/readAll(connections:leadTakesParts:)`` read them: segments
/// and points in parts, each part in key order and the parts in key order too, so the parts
/// concatenated are the tables in key order. Kept in parts so that the engine can be built from
/// them without a copy of every record into one array first (`UtilityEngine`'s parts
/// initializer).
struct SnapshotRows: Sendable {
    var segmentParts: [[PipeSegment]]
    var pointParts: [[FeaturePoint]]
    var areas: [OperatorArea]
    var version: Int64

    /// Every segment, in id order. O(n): the parts concatenated.
    var segments: [PipeSegment] { Self.joined(segmentParts) }
    /// Every point, in fid order. O(n): the parts concatenated.
    var points: [FeaturePoint] { Self.joined(pointParts) }

    /// `parts` concatenated, into one allocation of the right size.
    static func joined<T>(_ parts: [[T]]) -> [T] {
        if parts.count == 1 { return parts[0] }
        var out: [T] = []
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts { out += p }
        return out
    }
}
