import Foundation
import Logging
import SubterraGeometry
import SubterraRequests

/// One audit line: who asked what, where, and what they got.
public struct AuditEntry: Codable, Sendable, Hashable {
    /// ISO 8601, UTC, milliseconds.
    public var time: String
    /// The user; nil when authentication failed.
    public var user: String?
    /// `api-key` or `jwt`; nil when authentication failed.
    public var auth: String?
    public var method: String
    /// The route as registered (`/dig-checks/{id}`), or the path for unknown routes.
    public var route: String
    public var status: Int
    /// Bounds of the request geometry in the map CRS (minX, minY, maxX, maxY), when it had one.
    public var area: [Double]?
    /// Layers the request was answered over (the caller's visible layers, narrowed by the request).
    public var layers: [String]?
    /// Features returned (hits, conflicts, items); nil when the answer holds none.
    public var features: Int?
    /// Why authentication failed, or the dig check id stored.
    public var detail: String?

    /// This entry as `JSONValueEncoder` encodes it (members sorted, absent ones left out),
    /// written member by member: one is made per request, and the generic encoder was 2 % of a
    /// served dig check.
    public var jsonValue: JSONValue {
        var o = JSONObject()
        o.reserveCapacity(10)
        if let area { o.append("area", .array(area.map(JSONValue.encodedNumber))) }
        if let auth { o.append("auth", .string(auth)) }
        if let detail { o.append("detail", .string(detail)) }
        if let features { o.append("features", .number(Double(features))) }
        if let layers { o.append("layers", .array(layers.map(JSONValue.string))) }
        o.append("method", .string(method))
        o.append("route", .string(route))
        o.append("status", .number(Double(status)))
        o.append("time", .string(time))
        if let user { o.append("user", .string(user)) }
        return .object(o)
    }
}

/// The append-only audit log: one JSON line per request, failed authentications included.
///
/// The file is opened with `O_APPEND` (every `write` lands at the end, also with several
/// writers) and mode 0600, and never truncated or rewritten by the service. Lines are written
/// whole and in order by a ``DurableAppender``. **fsync policy:** with ``FsyncPolicy/always``
/// (the default) ``record(_:)`` returns once the line is `fsync`ed, so a request whose answer was
/// received is in the log after a power cut; the syncs are grouped (one covers every line that
/// queued while the previous one ran), so the disk's sync rate does not cap the request rate.
/// ``FsyncPolicy/never`` leaves flushing to the kernel. Without a file, lines go to the
/// structured log at `info`.
public final class AuditLog: Sendable {
    private let file: DurableAppender?
    public let path: String?
    let fsyncPolicy: FsyncPolicy
    let logger: Logger

    /// Opens (creating) `path` for appending.
    /// - Throws: ``ConfigError`` naming `audit.path` when it cannot be opened.
    public init(path: String?, fsync: FsyncPolicy, logger: Logger) throws(ConfigError) {
        self.path = path
        self.fsyncPolicy = fsync
        self.logger = logger
        if let path {
            do { file = try DurableAppender(path: path, policy: fsync) } catch {
                throw ConfigError("audit.path \(path): cannot open for appending (\(error.reason))")
            }
        } else {
            file = nil
        }
    }

    /// Appends `entry` as one line; returns once it is written (and synced, per the policy).
    public func record(_ entry: AuditEntry) async {
        let data = GeoJSON.writeBytes(entry.jsonValue)
        guard let file else {
            logger.info("audit", metadata: ["entry": "\(String(decoding: data, as: UTF8.self))"])
            return
        }
        if await file.append(data) == nil {
            logger.error("audit log write failed", metadata: ["path": "\(file.path)", "error": "\(String(cString: strerror(errno)))"])
        }
    }

    /// fsync groups so far (each makes every line queued before it durable); 0 without a file
    /// or with `never`.
    var syncGroups: Int { file?.groupCount ?? 0 }

    /// The entries of the file, oldest first, filtered by user and time (ISO 8601 bounds,
    /// inclusive), at most `limit` (the newest). Reads the whole file: O(file size).
    public func entries(user: String?, since: String?, until: String?, limit: Int) -> [AuditEntry] {
        guard let path, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        let dec = JSONDecoder()
        var out: [AuditEntry] = []
        for line in text.split(separator: "\n") {
            guard let e = try? dec.decode(AuditEntry.self, from: Data(line.utf8)) else { continue }
            if let user, e.user != user { continue }
            if let since, e.time < since { continue }
            if let until, e.time > until { continue }
            out.append(e)
        }
        return Array(out.suffix(limit))
    }

    /// Now as the log writes it.
    static func now() -> String { Date().formatted(timeStyle) }

    /// ISO 8601 in UTC with milliseconds. A value type made once: creating an
    /// `ISO8601DateFormatter` per call was a tenth of a served dig check's time.
    static let timeStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
