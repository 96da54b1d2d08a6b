import Foundation
import SubterraGeometry

/// What a file derived from a store (the engine's persisted snapshot) records about the store it
/// was built from, to be trusted only while the store still holds exactly that data.
///
/// Any committed write changes at least one field, whoever writes:
/// - ``dataVersion``: Subterra's own count of write transactions (`subterra.data.version` in
///   `subterra_metadata`, bumped inside each transaction of ``GeoPackageStore/apply(_:)``);
/// - ``changeCounter``: SQLite's file change counter (header bytes 24–27), bumped by every
///   commit of any program in rollback-journal mode;
/// - ``modified`` and ``fileSize`` of the file, and ``walSize`` of a `-wal` file beside it:
///   a program writing in WAL mode (where SQLite may leave the counter alone) changes the WAL
///   file, and its checkpoint writes the main file.
///
/// So QGIS or `ogr2ogr -update` editing the store makes every stamp taken before stale. A copy
/// of the store (new modification time) is stale too: the derived file is rebuilt once, which
/// costs time, never a wrong answer.
public struct StoreStamp: Hashable, Sendable, Codable, CustomStringConvertible {
    public var dataVersion: Int64
    public var changeCounter: UInt32
    public var fileSize: Int64
    /// Modification time of the file, nanoseconds since 1970.
    public var modified: Int64
    /// Size of the `-wal` file beside the store; 0 when there is none.
    public var walSize: Int64

    public init(dataVersion: Int64, changeCounter: UInt32, fileSize: Int64, modified: Int64, walSize: Int64) {
        self.dataVersion = dataVersion
        self.changeCounter = changeCounter
        self.fileSize = fileSize
        self.modified = modified
        self.walSize = walSize
    }

    public var description: String {
        "data version \(dataVersion), change counter \(changeCounter), \(fileSize) bytes, modified \(modified) ns, WAL \(walSize) bytes"
    }
}

extension GeoPackageStore {
    static let dataVersionKey = "subterra.data.version"

    /// How many write transactions Subterra has committed to this store (0 for a new store or
    /// one written before the count existed). O(1).
    public func dataVersion() throws(StoreError) -> Int64 {
        try locked { try readDataVersion() }
    }

    private func readDataVersion() throws -> Int64 {
        Int64(try db.scalarText("SELECT value FROM subterra_metadata WHERE key = ?", .text(Self.dataVersionKey)) ?? "0") ?? 0
    }

    /// Adds one to ``dataVersion()``; called inside every write transaction.
    func bumpDataVersion() throws {
        let next = try readDataVersion() + 1
        try db.prepare(
            "INSERT INTO subterra_metadata (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"
        ).run([.text(Self.dataVersionKey), .text(String(next))])
    }

    /// The store's current ``StoreStamp``. O(1): one metadata row, the 100-byte header, two `stat`s.
    public func stamp() throws(StoreError) -> StoreStamp {
        let version = try dataVersion()
        let attributes = (try? FileManager.default.attributesOfItem(atPath: path)) ?? [:]
        let modified = (attributes[.modificationDate] as? Date).map { Int64(($0.timeIntervalSince1970 * 1e9).rounded()) } ?? 0
        var counter: UInt32 = 0
        if let h = FileHandle(forReadingAtPath: path) {
            defer { try? h.close() }
            let b = [UInt8]((try? h.read(upToCount: 28)) ?? Data())
            if b.count == 28 { counter = b[24..<28].reduce(0) { $0 << 8 | UInt32($1) } }
        }
        return StoreStamp(
            dataVersion: version, changeCounter: counter, fileSize: Int64(Self.fileSize(path) ?? 0), modified: modified,
            walSize: Int64(Self.fileSize(path + "-wal") ?? 0))
    }

    /// The segments with these ids (fids), in ascending id order; ids not in the store are left
    /// out. O(k log n): 500 ids per `SELECT … WHERE fid IN (…)`.
    ///
    /// - Throws: `StoreError` naming table, fid and field of an unreadable record.
    public func segments(ids: some Sequence<Int64>) throws(StoreError) -> [PipeSegment] {
        let sorted = Array(Set(ids)).sorted()
        return try locked {
            var out: [PipeSegment] = []
            out.reserveCapacity(sorted.count)
            for chunk in stride(from: 0, to: sorted.count, by: 500) {
                let part = sorted[chunk..<min(chunk + 500, sorted.count)]
                let s = try db.prepare(
                    segmentSelect + " WHERE fid IN (" + Array(repeating: "?", count: part.count).joined(separator: ",")
                        + ") ORDER BY fid")
                try s.bind(part.map { .integer($0) })
                out += try readSegments(s)
            }
            return out
        }
    }

    /// The points with these numbers, in no particular order; numbers not in the store are left out.
    /// O(k log n) through the `number` index.
    public func points(numbers: some Sequence<PointNumber>) throws(StoreError) -> [FeaturePoint] {
        let all = Array(Set(numbers.map(\.rawValue))).sorted()
        return try locked {
            var out: [FeaturePoint] = []
            for chunk in stride(from: 0, to: all.count, by: 500) {
                let part = all[chunk..<min(chunk + 500, all.count)]
                let s = try db.prepare(
                    pointSelect + " WHERE number IN (" + Array(repeating: "?", count: part.count).joined(separator: ",")
                        + ") ORDER BY fid")
                try s.bind(part.map { .text($0) })
                out += try readPoints(s)
            }
            return out
        }
    }

    /// Every segment in id order, decoded one at a time: a whole-map pass (building a derived
    /// file) in memory bounded by one record, not the map. Holds the store's lock throughout.
    ///
    /// - Throws: `StoreError` naming table, fid and field of an unreadable record, or what
    ///   `body` throws.
    public func forEachSegment(_ body: (PipeSegment) throws -> Void) throws(StoreError) {
        try locked { try forEachSegment(db.prepare(segmentSelect + " ORDER BY fid"), body) }
    }

    /// Every point in store order, decoded one at a time. See ``forEachSegment(_:)``.
    public func forEachPoint(_ body: (FeaturePoint) throws -> Void) throws(StoreError) {
        try locked { try forEachPoint(db.prepare(pointSelect + " ORDER BY fid"), body) }
    }
}

extension GeoPackageStore {
    /// Every point, then every segment in fid order, each validated and checked unique (point
    /// number, segment id) as `UtilityNetwork` checks a loaded map: a whole-map pass that builds
    /// something else from the records (a snapshot file, an engine) without loading the map.
    ///
    /// - Throws: `StoreError` naming the unreadable, invalid or repeated record, or what a body
    ///   throws.
    public func forEachValidRecord(
        point: (FeaturePoint) throws -> Void, segment: (PipeSegment) throws -> Void
    ) throws(StoreError) {
        var numbers = Set<PointNumber>()
        try forEachPoint { p throws in
            try p.validate()
            guard numbers.insert(p.number).inserted else { throw ModelError("point number is used twice", at: p.location) }
            try point(p)
        }
        numbers = []
        var ids = Set<Int64>()
        try forEachSegment { s throws in
            try s.validate()
            guard ids.insert(s.id).inserted else { throw ModelError("segment id is used twice", at: s.location) }
            try segment(s)
        }
    }
}
