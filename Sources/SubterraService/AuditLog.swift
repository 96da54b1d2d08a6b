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
}

/// The append-only audit log: one JSON line per request, failed authentications included.
///
/// The file is opened with `O_APPEND` (every `write` lands at the end, also with several
/// writers) and mode 0600, and never truncated or rewritten by the service. Each line is one
/// `write(2)` under a lock, so lines never interleave. **fsync policy:** with
/// ``FsyncPolicy/always`` (the default) the line is `fsync`ed before the response is sent, so a
/// request whose answer was received is in the log after a power cut; ``FsyncPolicy/never``
/// leaves flushing to the kernel. Without a file, lines go to the structured log at `info`.
public final class AuditLog: @unchecked Sendable {
    private let lock = NSLock()
    private let fd: Int32?
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
            let d = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard d >= 0 else { throw ConfigError("audit.path \(path): cannot open for appending (\(String(cString: strerror(errno))))") }
            fd = d
        } else {
            fd = nil
        }
    }

    deinit { if let fd { close(fd) } }

    /// Appends `entry` as one line (and flushes it per the fsync policy).
    public func record(_ entry: AuditEntry) {
        let enc = AnswerJSON.encoder(pretty: false)
        guard let data = try? enc.encode(entry) else { return }
        guard let fd else {
            logger.info("audit", metadata: ["entry": "\(String(decoding: data, as: UTF8.self))"])
            return
        }
        var line = [UInt8](data)
        line.append(10)
        lock.lock()
        defer { lock.unlock() }
        var off = 0
        while off < line.count {
            let n = line[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                logger.error("audit log write failed", metadata: ["error": "\(String(cString: strerror(errno)))"])
                return
            }
            off += n
        }
        if fsyncPolicy == .always { _ = fsync(fd) }
    }

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
    static func now() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date())
    }
}
