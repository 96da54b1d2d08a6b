import Foundation
import SubterraAccess
import SubterraGeometry
import SubterraRequests

/// Where the service listens: a host and a TCP port.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (`127.0.0.1:8080`, `[::1]:8080`, `localhost:0`).
    public init(parsing text: String, field: String) throws(ConfigError) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigError("\(field): '\(text)' is not HOST:PORT (e.g. 127.0.0.1:8080)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw ConfigError("\(field): '\(text)' has no host") }
        self.host = host
        self.port = port
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// The limits every request is held to. Each is configurable under `limits`.
public struct ServiceLimits: Sendable, Hashable {
    /// Largest request body, bytes (413 above it). Default 1 MiB.
    public var maxBodyBytes: Int = 1 << 20
    /// Most vertices of a request geometry. Default 10,000.
    public var maxVertices: Int = 10_000
    /// Largest dig area (or trench footprint), square metres in the map CRS. Default 250,000
    /// (half a kilometre square), far beyond one excavation.
    public var maxDigAreaM2: Double = 250_000
    /// Widest trench, metres. Default 20.
    public var maxTrenchWidthM: Double = 20
    /// Most lines of one `POST /batch`. Default 10,000.
    public var maxBatchLines: Int = 10_000
    /// Most stored dig checks kept in memory for replay (oldest dropped first). Default 100,000.
    public var maxStoredChecks: Int = 100_000
    /// Seconds a client has to deliver a whole request (from connecting, or from the end of the
    /// previous response); past it the connection is closed. Default 30. Bounds what a slow
    /// client (a header or body trickled byte by byte, an idle socket) can hold.
    public var requestTimeoutS: Double = 30
    /// Longest wait, seconds, for the map to reach a request's `X-Min-Data-Version` (503 with
    /// `Retry-After` past it). Default 5: a follower on loopback lags by milliseconds.
    public var maxVersionWaitS: Double = 5
    /// ``maxVersionWaitS`` as a duration (milliseconds).
    var maxVersionWait: Duration { .milliseconds(Int64(maxVersionWaitS * 1000)) }

    public init() {}

    static let memberNames = [
        "maxBodyBytes", "maxVertices", "maxDigAreaM2", "maxTrenchWidthM", "maxBatchLines", "maxStoredChecks", "requestTimeoutS",
        "maxVersionWaitS",
    ]

    init(_ v: JSONValue?, path: String) throws(ConfigError) {
        guard let v else { return }
        let r = try ConfigReader(v, path: path, allowed: Self.memberNames)
        if let n = try r.int("maxBodyBytes", min: 1024) { maxBodyBytes = n }
        if let n = try r.int("maxVertices", min: 4) { maxVertices = n }
        if let n = try r.number("maxDigAreaM2", min: 1) { maxDigAreaM2 = n }
        if let n = try r.number("maxTrenchWidthM", min: 0.01) { maxTrenchWidthM = n }
        if let n = try r.int("maxBatchLines", min: 1) { maxBatchLines = n }
        if let n = try r.int("maxStoredChecks", min: 1) { maxStoredChecks = n }
        if let n = try r.number("requestTimeoutS", min: 0.1) { requestTimeoutS = n }
        if let n = try r.number("maxVersionWaitS", min: 0) {
            guard n <= 300 else { throw ConfigError("\(path).maxVersionWaitS must be at most 300, not \(n)") }
            maxVersionWaitS = n
        }
    }
}

/// When the audit log is flushed to disk.
public enum FsyncPolicy: String, Sendable, Hashable, CaseIterable {
    /// `fsync` after every line: a line the service wrote survives a power cut. The default.
    case always
    /// Leave it to the kernel (lines survive a crash of the service, not of the machine);
    /// for benchmarks.
    case never
}

/// JWT verification keys: an HS256 secret, an ES256 public key (PEM), or both.
public struct JWTSettings: Sendable, Hashable {
    public var hmacSecret: String?
    public var es256PublicKeyPEM: String?
    /// Required `iss` claim, when set.
    public var issuer: String?

    public init(hmacSecret: String? = nil, es256PublicKeyPEM: String? = nil, issuer: String? = nil) {
        self.hmacSecret = hmacSecret
        self.es256PublicKeyPEM = es256PublicKeyPEM
        self.issuer = issuer
    }
}

/// The service configuration file (JSON). Every member is optional except what the service
/// cannot run without (a store, from here or `--store`); unknown members are refused, and
/// every error names the member.
///
/// ```json
/// {
///   "listen": "127.0.0.1:8080",
///   "store": "city.gpkg",
///   "rules": "gb50289",
///   "limits": { "maxBodyBytes": 1048576, "maxVertices": 10000, "maxDigAreaM2": 250000 },
///   "audit": { "path": "audit.jsonl", "fsync": "always" },
///   "digChecks": { "path": "dig-checks.jsonl" },
///   "roles": {
///     "planner":    { "layers": "*", "fields": "*" },
///     "contractor": { "layers": ["JS", "PS"], "area": "POLYGON((…))", "fields": ["depth"] },
///     "auditor":    { "admin": true }
///   },
///   "users": [ { "name": "ana", "keyHash": "sha256:…:…", "roles": ["planner"] } ],
///   "contacts": { "Wenling Gas Co.": "+86 576 8000 0000" },
///   "jwt": { "hmacSecret": "…", "issuer": "permits" },
///   "tls": { "cert": "server.pem", "key": "server.key" },
///   "rateLimit": { "requestsPerSecond": 20, "burst": 40, "roles": { "permits": { "requestsPerSecond": 200 } } }
/// }
/// ```
public struct ServiceConfig: Sendable {
    public var listen = ListenAddress(host: "127.0.0.1", port: 8080)
    public var store: String?
    public var rules: String?
    public var limits = ServiceLimits()
    /// The audit log file; nil: audit lines go to the structured log only.
    public var auditPath: String?
    public var auditFsync = FsyncPolicy.always
    /// Where stored dig checks are appended (and read back at start); nil: memory only.
    public var digCheckPath: String?
    public var roles: [String: RoleConfig] = [:]
    public var users: [AccessPolicy.User] = []
    public var contacts: [String: String] = [:]
    public var jwt: JWTSettings?
    public var tlsCert: String?
    public var tlsKey: String?
    /// Request rate limits (``RateLimitConfig``); nil: none.
    public var rateLimit: RateLimitConfig?

    public init() {}

    static let memberNames = ["listen", "store", "rules", "limits", "audit", "digChecks", "roles", "users", "contacts", "jwt", "tls", "rateLimit"]

    /// Parses the configuration file's text.
    /// - Throws: ``ConfigError`` naming the member.
    public static func parse(_ data: Data) throws(ConfigError) -> ServiceConfig {
        let value: JSONValue
        do { value = try JSONDecoder().decode(AnyJSON.self, from: data).value } catch {
            throw ConfigError("the configuration is not valid JSON: \(error.localizedDescription)")
        }
        let r = try ConfigReader(value, path: "", allowed: memberNames)
        var c = ServiceConfig()
        if let l = try r.string("listen") { c.listen = try ListenAddress(parsing: l, field: "listen") }
        c.store = try r.string("store")
        c.rules = try r.string("rules")
        c.limits = try ServiceLimits(r.value("limits"), path: "limits")
        if let a = r.value("audit") {
            let ar = try ConfigReader(a, path: "audit", allowed: ["path", "fsync"])
            c.auditPath = try ar.string("path")
            if let f = try ar.string("fsync") {
                guard let p = FsyncPolicy(rawValue: f) else {
                    throw ConfigError("audit.fsync: '\(f)' is not \(FsyncPolicy.allCases.map(\.rawValue).joined(separator: " or "))")
                }
                c.auditFsync = p
            }
        }
        if let d = r.value("digChecks") {
            c.digCheckPath = try ConfigReader(d, path: "digChecks", allowed: ["path"]).string("path")
        }
        if let roles = r.value("roles") {
            guard case .object(let o) = roles else { throw ConfigError("roles must be an object of role name to grant") }
            for (name, v) in o.members {
                let rr = try ConfigReader(v, path: "roles.\(name)", allowed: RoleConfig.memberNames)
                c.roles[name] = RoleConfig(
                    layers: try rr.strings("layers"), owners: try rr.strings("owners"), area: try rr.string("area"),
                    fields: try rr.strings("fields"), edit: try rr.strings("edit"), admin: try rr.bool("admin") ?? false)
            }
        }
        if let users = r.value("users") {
            guard case .array(let a) = users else { throw ConfigError("users must be a list of {name, keyHash, roles}") }
            for (i, u) in a.enumerated() {
                let ur = try ConfigReader(u, path: "users[\(i)]", allowed: ["name", "keyHash", "roles"])
                guard let name = try ur.string("name") else { throw ConfigError("users[\(i)].name is missing") }
                var hash: APIKey.Stored?
                if let h = try ur.string("keyHash") {
                    guard let s = APIKey.Stored(h) else {
                        throw ConfigError("users[\(i)].keyHash is not sha256:<32 hex salt>:<64 hex digest> (make one with `subterra serve hash-key`)")
                    }
                    hash = s
                }
                c.users.append(AccessPolicy.User(name: name, keyHash: hash, roles: try ur.strings("roles") ?? []))
            }
        }
        if let contacts = r.value("contacts") {
            guard case .object(let o) = contacts else { throw ConfigError("contacts must be an object of owner name to contact") }
            for (owner, v) in o.members {
                guard let s = v.stringValue else { throw ConfigError("contacts.\(owner) must be a string") }
                c.contacts[owner] = s
            }
        }
        if let j = r.value("jwt") {
            let jr = try ConfigReader(j, path: "jwt", allowed: ["hmacSecret", "es256PublicKey", "issuer"])
            let s = JWTSettings(hmacSecret: try jr.string("hmacSecret"), es256PublicKeyPEM: try jr.string("es256PublicKey"), issuer: try jr.string("issuer"))
            if let h = s.hmacSecret, h.utf8.count < 32 { throw ConfigError("jwt.hmacSecret must be at least 32 bytes") }
            guard s.hmacSecret != nil || s.es256PublicKeyPEM != nil else { throw ConfigError("jwt needs hmacSecret or es256PublicKey") }
            c.jwt = s
        }
        if let t = r.value("tls") {
            let tr = try ConfigReader(t, path: "tls", allowed: ["cert", "key"])
            c.tlsCert = try tr.string("cert")
            c.tlsKey = try tr.string("key")
            guard (c.tlsCert == nil) == (c.tlsKey == nil) else { throw ConfigError("tls needs both cert and key") }
        }
        if let rl = r.value("rateLimit") {
            let limits = try RateLimitConfig(rl, path: "rateLimit")
            for role in limits.perRole.keys.sorted() where c.roles[role] == nil && r.value("roles") != nil {
                throw ConfigError("rateLimit.roles.\(role): no such role")
            }
            c.rateLimit = limits
        }
        return c
    }
}
