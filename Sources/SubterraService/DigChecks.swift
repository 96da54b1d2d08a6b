import Crypto
import Foundation
import SubterraAccess
import SubterraEngine
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import SubterraRequests

/// The body of `POST /dig-checks`: a dig polygon, or a trench line with its width.
///
/// ```json
/// {"geometry": "POLYGON((…))", "crs": "EPSG:4549", "depth": 1.5, "workType": "trench",
///  "startDate": "2026-12-01", "endDate": "2026-12-05"}
/// {"geometry": {"type": "LineString", …}, "width": 0.8, "depth": 1.2}
/// ```
/// Unknown members are refused; each error names its field.
public struct DigCheckInput: Sendable {
    /// WKT text or a GeoJSON geometry.
    public var geometry: JSONValue
    public var crs: String?
    /// Trench width in metres (required for a line, refused for a polygon).
    public var width: Double?
    /// Planned depth, metres.
    public var depth: Double
    public var workType: String?
    public var startDate: String?
    public var endDate: String?

    static let memberNames = ["geometry", "crs", "width", "depth", "workType", "startDate", "endDate"]

    /// Reads a request body.
    /// - Throws: ``Problem`` (400) naming the field.
    public init(json value: JSONValue) throws(Problem) {
        guard case .object(let o) = value else { throw Problem.badRequest("the body must be a JSON object") }
        for k in o.keys where !Self.memberNames.contains(k) {
            throw Problem.badRequest("field \(QueryRequest.clip(k)): unknown field (fields: \(Self.memberNames.joined(separator: ", ")))")
        }
        func string(_ k: String) throws(Problem) -> String? {
            guard let v = o[k], v != .null else { return nil }
            guard let s = v.stringValue else { throw Problem.badRequest("field \(k) must be a string") }
            return s
        }
        func number(_ k: String) throws(Problem) -> Double? {
            guard let v = o[k], v != .null else { return nil }
            guard let n = v.numberValue, n.isFinite else { throw Problem.badRequest("field \(k) must be a finite number") }
            return n
        }
        switch o["geometry"] {
        case nil, .null?: throw Problem.badRequest("field geometry is missing (a polygon, or a trench line with width)")
        case .string(let s)?: geometry = .string(s)
        case .object(let g)?: geometry = .object(g)
        default: throw Problem.badRequest("field geometry must be a WKT string or a GeoJSON object")
        }
        crs = try string("crs")
        width = try number("width")
        guard let d = try number("depth") else { throw Problem.badRequest("field depth is missing (planned depth, metres)") }
        guard d > 0, d <= 100 else { throw Problem.badRequest("field depth must be more than 0 and at most 100 metres") }
        depth = d
        workType = try string("workType")
        startDate = try string("startDate")
        endDate = try string("endDate")
        for (k, v) in [("startDate", startDate), ("endDate", endDate)] {
            if let v, v.wholeMatch(of: #/\d{4}-\d{2}-\d{2}/#) == nil { throw Problem.badRequest("field \(k) must be a date YYYY-MM-DD") }
        }
        if let s = startDate, let e = endDate, e < s { throw Problem.badRequest("field endDate is before startDate") }
    }
}

/// The dig area as validated: in the map CRS, a valid polygon (a trench line buffered by half its
/// width, flat ends), within the vertex and area limits.
struct ValidatedDig {
    var area: Geometry
    /// Bounds in the map CRS (for the audit log).
    var bounds: Envelope
    var squareMetres: Double

    /// - Throws: ``Problem`` (400) naming the field.
    init(_ input: DigCheckInput, map: any PipeMap, runner: RequestRunner, limits: ServiceLimits) throws(Problem) {
        var q = QueryRequest(op: .checkDig, geometry: input.geometry)
        q.crs = input.crs
        let parsed: InputGeometry
        do { parsed = try runner.geometry(q) } catch { throw Problem.badRequest(error.description) }
        var g = parsed.geometry
        if let crs = parsed.crs, crs != map.crs {
            do { g = try Transformer(from: crs, to: map.crs).transform(g) } catch {
                throw Problem.badRequest("field crs: cannot transform from '\(QueryRequest.clip(crs))' to the map CRS (\(error))")
            }
        }
        switch g {
        case .polygon, .multiPolygon:
            guard input.width == nil else { throw Problem.badRequest("field width: a width is for a trench line, not a polygon") }
            let validity: GEOSValidity
            do { validity = try GEOS.withContext { (c) throws(GEOSError) in try c.validity(g) } } catch {
                throw Problem.badRequest("field geometry: \(error)")
            }
            guard validity.isValid else {
                let at = validity.location.map { " at (\($0.x), \($0.y))" } ?? ""
                throw Problem.badRequest("field geometry: the polygon is not valid: \(validity.reason ?? "invalid")\(at)")
            }
        case .lineString:
            guard let w = input.width else { throw Problem.badRequest("field width is missing (a trench line needs its width in metres)") }
            guard w > 0, w <= limits.maxTrenchWidthM else {
                throw Problem.badRequest("field width must be more than 0 and at most \(limits.maxTrenchWidthM) m (limits.maxTrenchWidthM)")
            }
            do {
                g = try GEOS.withContext { (c) throws(GEOSError) in
                    try c.buffer(g, distance: w / 2, parameters: BufferParameters(capStyle: .flat, joinStyle: .mitre))
                }
            } catch { throw Problem.badRequest("field geometry: cannot make the trench footprint: \(error)") }
        default:
            throw Problem.badRequest("field geometry must be a Polygon, a MultiPolygon or a trench LineString, not \(g.typeName)")
        }
        let a = Self.area(g)
        guard a > 0 else { throw Problem.badRequest("field geometry: the dig area is empty") }
        guard a <= limits.maxDigAreaM2 else {
            throw Problem.badRequest("field geometry: the dig area is \(Int(a.rounded())) m², more than \(Int(limits.maxDigAreaM2)) m² (limits.maxDigAreaM2)")
        }
        area = g
        bounds = g.envelope
        squareMetres = a
    }

    /// Planar area (shoelace), holes subtracted.
    static func area(_ g: Geometry) -> Double {
        func ring(_ ps: [Point]) -> Double {
            var s = 0.0
            for i in 0..<(ps.count - 1) { s += ps[i].x * ps[i + 1].y - ps[i + 1].x * ps[i].y }
            return abs(s) / 2
        }
        func poly(_ p: Polygon) -> Double { ring(p.exterior.points) - p.holes.reduce(0) { $0 + ring($1.points) } }
        switch g {
        case .polygon(let p): return poly(p)
        case .multiPolygon(let ps): return ps.reduce(0) { $0 + poly($1) }
        default: return 0
        }
    }
}

/// One stored dig check: the exact answer body given, who asked, and the idempotency key.
public struct StoredDigCheck: Codable, Sendable, Hashable {
    public var id: String
    public var user: String
    public var idempotencyKey: String?
    /// SHA-256 of the request body, to tell a replay from a reused key.
    public var fingerprint: String
    /// The answer body, byte for byte.
    public var answer: String
    /// Features the answer showed (for the audit log of replays).
    public var features: Int
}

/// Dig checks kept for `GET /dig-checks/{id}` and idempotent replays: at most
/// ``ServiceLimits/maxStoredChecks`` (oldest dropped first), and, when configured, appended to a
/// JSON-lines file that is read back at start, so a restart replays what was told. The file is
/// compacted at start to the newest ``ServiceLimits/maxStoredChecks`` lines (atomically), so it
/// holds at most that many plus the checks answered since.
///
/// Memory: with a file, only an index is kept per check (id, user, key, fingerprint, features
/// and where its line starts and ends in the file); the answer, the bulk, is read back from the
/// file (`pread`, one line) when it is replayed. So a long-running server's memory does not grow
/// with the checks it has answered (10^5 checks of 2–5 KB each were 0.2–0.5 GB held in memory).
/// Without a file the answers are held in memory, bounded by the limit.
public final class DigCheckStore: @unchecked Sendable {
    /// One stored check, without its answer when that is in the file.
    private struct Entry {
        var id: String
        var user: String
        var idempotencyKey: String?
        var fingerprint: String
        var features: Int
        /// The answer when there is no file.
        var answer: String?
        /// The line's byte range in the file.
        var offset: Int64
        var length: Int
        /// Where the answer's own bytes start in the line (they run to the line's closing
        /// brace) when the line embeds it as JSON; nil for a line that holds it as a string.
        var answerStart: Int?
    }

    private let lock = NSLock()
    private var byID: [String: Entry] = [:]
    /// Ids oldest first from `head` on; the dropped prefix is compacted away once it is half the
    /// array, so dropping the oldest is O(1) amortised (a `removeFirst` moved the whole array,
    /// 10^5 ids, on every check once the limit was reached).
    private var order: [String] = []
    private var head = 0
    private var byKey: [String: String] = [:]
    private let limit: Int
    /// The file, appended by group commit (one `fsync` per group of concurrent checks), and a
    /// descriptor to read lines back.
    private let file: DurableAppender?
    private let reader: Int32

    /// - Throws: ``ConfigError`` naming `digChecks.path` when it cannot be read or opened, or
    ///   a line of it is not a stored check.
    public init(path: String?, limit: Int) throws(ConfigError) {
        self.limit = limit
        guard let path else {
            file = nil
            reader = -1
            return
        }
        var loaded: [Entry] = []
        var read = Data()
        if FileManager.default.fileExists(atPath: path) {
            guard var data = FileManager.default.contents(atPath: path) else { throw ConfigError("digChecks.path \(path): cannot read") }
            // A last line without its newline: when it is no whole stored check, its append
            // never finished (a crash mid-write), its caller was never answered, and it is cut
            // off rather than refusing to start or appending after a torn line; a whole check
            // that lacks only the newline (a file copied or edited by hand) is kept, and the
            // newline added.
            if let lastByte = data.last, lastByte != 10 {
                let whole = (data.lastIndex(of: 10).map { $0 + 1 }) ?? 0
                let tail = ArraySlice([UInt8](data[whole...]))
                if Self.readLine(tail, offset: Int64(whole), decoder: JSONDecoder()) != nil {
                    let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
                    let newline: [UInt8] = [10]
                    guard fd >= 0, write(fd, newline, 1) == 1, fsync(fd) == 0 else {
                        let reason = String(cString: strerror(errno))
                        if fd >= 0 { close(fd) }
                        throw ConfigError("digChecks.path \(path): cannot end its last line (\(reason))")
                    }
                    close(fd)
                    data.append(10)
                } else {
                    guard truncate(path, off_t(whole)) == 0 else {
                        throw ConfigError("digChecks.path \(path): cannot cut off its unfinished last line (\(String(cString: strerror(errno))))")
                    }
                    data = data.prefix(whole)
                }
            }
            read = data
            let dec = JSONDecoder()
            var start = 0
            var number = 0
            let bytes = [UInt8](data)
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 10) ?? bytes.count
                number += 1
                if end > start {
                    guard let e = Self.readLine(bytes[start..<end], offset: Int64(start), decoder: dec) else {
                        throw ConfigError("digChecks.path \(path): line \(number) is not a stored dig check")
                    }
                    loaded.append(e)
                }
                start = end + 1
            }
        }
        // The file keeps every line appended since the last start; the store answers for the
        // newest `limit` only. Compacted here, before anything is appended: the kept lines are
        // written to a new file, synced, and renamed over the old one (then the folder synced),
        // so a crash leaves the old file or the new one whole, never a mix.
        // The bytes read above (the offsets are theirs), not the file read again.
        if loaded.count > limit {
            let data = read
            let keep = Array(loaded.suffix(limit))
            var out: [UInt8] = []
            var moved: [Entry] = []
            moved.reserveCapacity(keep.count)
            data.withUnsafeBytes { (b: UnsafeRawBufferPointer) in
                for var e in keep {
                    let start = out.count
                    out += b[Int(e.offset)..<Int(e.offset) + e.length]
                    out.append(10)
                    e.offset = Int64(start)
                    moved.append(e)
                }
            }
            do { try DurableFile.replace(path, mode: 0o600, with: out) } catch {
                throw ConfigError("digChecks.path \(path): cannot compact (\(error))")
            }
            loaded = moved
        }
        do { file = try DurableAppender(path: path, policy: .always) } catch {
            throw ConfigError("digChecks.path \(path): cannot open for appending (\(error.reason))")
        }
        reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw ConfigError("digChecks.path \(path): cannot open for reading (\(String(cString: strerror(errno))))") }
        for e in loaded { remember(e) }
    }

    deinit { if reader >= 0 { close(reader) } }

    private static func entry(_ c: StoredDigCheck, offset: Int64, length: Int, answerStart: Int?, keepAnswer: Bool) -> Entry {
        Entry(
            id: c.id, user: c.user, idempotencyKey: c.idempotencyKey, fingerprint: c.fingerprint, features: c.features,
            answer: keepAnswer ? c.answer : nil, offset: offset, length: length, answerStart: answerStart)
    }

    /// What a line holds besides the answer.
    struct Head: Codable, Equatable {
        var id: String
        var user: String
        var idempotencyKey: String?
        var fingerprint: String
        var features: Int

        /// As `JSONValueEncoder` encodes it, member by member (one per stored check).
        var jsonValue: JSONValue {
            var o = JSONObject()
            o.reserveCapacity(5)
            o.append("features", .number(Double(features)))
            o.append("fingerprint", .string(fingerprint))
            o.append("id", .string(id))
            if let idempotencyKey { o.append("idempotencyKey", .string(idempotencyKey)) }
            o.append("user", .string(user))
            return .object(o)
        }
    }

    /// The member that embeds the answer as JSON, always last in its line.
    static let answerMember = Array(#","answerJSON":"#.utf8)

    /// `c` as one line (no newline), and where its answer starts in it.
    ///
    /// Line format: the check's other members as a JSON object, then the answer itself as the
    /// last member, `"answerJSON"`: its bytes are copied, not escaped into a string (escaping
    /// a 2–5 KB answer was 7 % of a dig check's time under load), and read back from the file
    /// as they are. Only an answer known to be one line of JSON is embedded: `trustedJSON`
    /// (the service's own answers), else one that parses; anything else is stored as the
    /// `"answer"` string, as lines written before this form were, and both forms are read.
    /// The member marker cannot occur earlier in the line: inside a JSON string every `"` is
    /// escaped, so `,"` only ever starts a member.
    static func line(_ c: StoredDigCheck, trustedJSON: Bool) -> (bytes: [UInt8], answerStart: Int?)? {
        let answer = Array(c.answer.utf8)
        let embeds = !answer.contains(10) && !answer.contains(13)
            && (trustedJSON || (try? JSONValue.parse(answer, limits: SubterraServer.jsonLimits)) != nil)
        guard embeds else { return AnswerJSON.line(c).map { ($0, nil) } }
        let head = Head(id: c.id, user: c.user, idempotencyKey: c.idempotencyKey, fingerprint: c.fingerprint, features: c.features)
        var bytes = headPrefix(head)
        let start = bytes.count
        bytes += answer
        bytes.append(UInt8(ascii: "}"))
        return (bytes, start)
    }

    /// A line's bytes before its embedded answer: the head's members and the answer member's
    /// name (the head object without its closing brace, then `,"answerJSON":`).
    static func headPrefix(_ head: Head) -> [UInt8] {
        var bytes = GeoJSON.writeBytes(head.jsonValue)
        bytes.removeLast()  // the object's `}`
        return bytes + answerMember
    }

    /// The entry of one stored line at `offset` in the file: either form of ``line(_:trustedJSON:)``;
    /// nil when the line is neither (torn, edited, or not a stored check).
    private static func readLine(_ line: ArraySlice<UInt8>, offset: Int64, decoder: JSONDecoder) -> Entry? {
        let bytes = Array(line)
        if let at = bytes.firstRange(of: answerMember)?.lowerBound {
            let start = at + answerMember.count
            guard bytes.last == UInt8(ascii: "}"), start < bytes.count - 1,
                let head = try? decoder.decode(Head.self, from: Data(bytes[..<at] + [UInt8(ascii: "}")])),
                // Exactly the head this store writes, so a replay's check of the line holds.
                headPrefix(head) == Array(bytes[..<start]),
                (try? JSONValue.parse(Array(bytes[start..<(bytes.count - 1)]), limits: SubterraServer.jsonLimits)) != nil
            else { return nil }
            return Entry(
                id: head.id, user: head.user, idempotencyKey: head.idempotencyKey, fingerprint: head.fingerprint,
                features: head.features, answer: nil, offset: offset, length: bytes.count, answerStart: start)
        }
        guard let c = try? decoder.decode(StoredDigCheck.self, from: Data(bytes)) else { return nil }
        return entry(c, offset: offset, length: bytes.count, answerStart: nil, keepAnswer: false)
    }

    private func remember(_ e: Entry) {
        byID[e.id] = e
        order.append(e.id)
        if let k = e.idempotencyKey { byKey[Self.keyOf(user: e.user, key: k)] = e.id }
        if order.count - head > limit {
            let old = order[head]
            head += 1
            if head * 2 >= order.count {
                order.removeFirst(head)
                head = 0
            }
            if let o = byID.removeValue(forKey: old), let k = o.idempotencyKey { byKey[Self.keyOf(user: o.user, key: k)] = nil }
        }
    }

    static func keyOf(user: String, key: String) -> String { "\(user)\u{0}\(key)" }

    /// `e` whole: its answer from memory, or its line read back from the file.
    private func check(_ e: Entry) -> StoredDigCheck? {
        if let answer = e.answer {
            return StoredDigCheck(
                id: e.id, user: e.user, idempotencyKey: e.idempotencyKey, fingerprint: e.fingerprint, answer: answer, features: e.features)
        }
        guard reader >= 0 else { return nil }
        // The whole line is read, and checked to be this check's before anything of it is
        // returned: an offset that went wrong (a failed append leaves later offsets off) must
        // give nothing, never another user's answer.
        var bytes = [UInt8](repeating: 0, count: e.length)
        var done = 0
        while done < e.length {
            let n = bytes.withUnsafeMutableBytes { pread(reader, $0.baseAddress! + done, e.length - done, off_t(e.offset) + off_t(done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        if let start = e.answerStart {
            // The line starts with exactly the head this entry's check writes.
            let head = Head(id: e.id, user: e.user, idempotencyKey: e.idempotencyKey, fingerprint: e.fingerprint, features: e.features)
            let prefix = Self.headPrefix(head)
            guard prefix.count == start, bytes.count > start, bytes.last == UInt8(ascii: "}"), bytes[..<start].elementsEqual(prefix) else {
                return nil
            }
            return StoredDigCheck(
                id: e.id, user: e.user, idempotencyKey: e.idempotencyKey, fingerprint: e.fingerprint,
                answer: String(decoding: bytes[start..<(bytes.count - 1)], as: UTF8.self), features: e.features)
        }
        guard let c = try? JSONDecoder().decode(StoredDigCheck.self, from: Data(bytes)), c.id == e.id, c.user == e.user else { return nil }
        return c
    }

    /// The stored check with `id`.
    public func check(id: String) -> StoredDigCheck? {
        guard let e = lock.withLock({ byID[id] }) else { return nil }
        return check(e)
    }

    /// The check an idempotency key of `user` stored.
    public func check(user: String, idempotencyKey: String) -> StoredDigCheck? {
        guard let e = lock.withLock({ byKey[Self.keyOf(user: user, key: idempotencyKey)].flatMap { byID[$0] } }) else { return nil }
        return check(e)
    }

    /// Stores `c` and appends it to the file; returns once the line is synced to disk (so an
    /// answer given is one a restart replays). When a concurrent request with the same
    /// idempotency key stored first, that one is returned and `c` is dropped.
    public func store(_ c: StoredDigCheck) async -> StoredDigCheck {
        await store(c, trustedJSON: false)
    }

    /// ``store(_:)`` for an answer the caller wrote itself as one line of JSON (the service's
    /// own), which is then embedded without being parsed again.
    func store(_ c: StoredDigCheck, trustedJSON: Bool) async -> StoredDigCheck {
        // Hold the answer in memory until its line is in the file and indexed.
        let first: Entry? = lock.withLock {
            if let k = c.idempotencyKey, let existing = byKey[Self.keyOf(user: c.user, key: k)].flatMap({ byID[$0] }) { return existing }
            remember(Self.entry(c, offset: 0, length: 0, answerStart: nil, keepAnswer: true))
            return nil
        }
        if let first { return check(first) ?? c }
        if let file, let line = Self.line(c, trustedJSON: trustedJSON) {
            if let offset = await file.append(line.bytes) {
                lock.withLock {
                    guard byID[c.id] != nil else { return }
                    byID[c.id]!.answer = nil
                    byID[c.id]!.offset = offset
                    byID[c.id]!.length = line.bytes.count
                    byID[c.id]!.answerStart = line.answerStart
                }
            }
        }
        return c
    }

    /// A new id: `dc-` and 32 hex digits of randomness.
    /// (`SystemRandomNumberGenerator` draws from the kernel's CSPRNG; Foundation's
    /// `replacingOccurrences` on a UUID string was 2.5 % of a served dig check.)
    static func newID() -> String {
        var g = SystemRandomNumberGenerator()
        func hex(_ v: UInt64) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: 16 - s.count) + s
        }
        return "dc-" + hex(g.next()) + hex(g.next())
    }

    static func fingerprint(_ body: [UInt8]) -> String {
        APIKey.hex(Array(SHA256.hash(data: body)))
    }
}
