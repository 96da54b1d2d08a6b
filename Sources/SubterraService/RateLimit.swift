import Foundation
import SubterraGeometry

/// A rate as a token bucket: `requestsPerSecond` tokens a second flow in, up to `burst`.
public struct RateLimit: Sendable, Hashable {
    public var requestsPerSecond: Double
    public var burst: Double

    public init(requestsPerSecond: Double, burst: Double) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }

    init(_ r: ConfigReader, rate: String, burst burstKey: String) throws(ConfigError) {
        guard let rps = try r.number(rate, min: 0.001) else { throw ConfigError("\(r.at(rate)) is missing") }
        requestsPerSecond = rps
        burst = try r.number(burstKey, min: 1) ?? max(1, rps)
    }
}

/// The `rateLimit` member of the configuration. Absent: no limits.
///
/// ```json
/// "rateLimit": { "requestsPerSecond": 20, "burst": 40,
///                "failedAuthPerSecond": 0.2, "failedAuthBurst": 10,
///                "roles": { "permits": { "requestsPerSecond": 200, "burst": 400 } } }
/// ```
/// - `requestsPerSecond`/`burst`: each authenticated principal's bucket (by user name, so one
///   user's API keys and tokens share it).
/// - `roles`: overrides per role; a user holding several gets the most generous.
/// - `failedAuthPerSecond`/`failedAuthBurst`: each client IP's bucket of failed
///   authentications; while it is empty, every unauthenticated request from that IP is refused
///   before its credential is checked (guessing keys costs time). Default 1/s, burst 20, when
///   `rateLimit` is given.
public struct RateLimitConfig: Sendable, Hashable {
    public var perPrincipal: RateLimit?
    public var perRole: [String: RateLimit] = [:]
    public var failedAuth = RateLimit(requestsPerSecond: 1, burst: 20)

    public init(perPrincipal: RateLimit? = nil, perRole: [String: RateLimit] = [:], failedAuth: RateLimit = RateLimit(requestsPerSecond: 1, burst: 20)) {
        self.perPrincipal = perPrincipal
        self.perRole = perRole
        self.failedAuth = failedAuth
    }

    static let memberNames = ["requestsPerSecond", "burst", "failedAuthPerSecond", "failedAuthBurst", "roles"]

    init(_ v: JSONValue, path: String) throws(ConfigError) {
        let r = try ConfigReader(v, path: path, allowed: Self.memberNames)
        if r.value("requestsPerSecond") != nil || r.value("burst") != nil {
            perPrincipal = try RateLimit(r, rate: "requestsPerSecond", burst: "burst")
        }
        if r.value("failedAuthPerSecond") != nil || r.value("failedAuthBurst") != nil {
            failedAuth = try RateLimit(r, rate: "failedAuthPerSecond", burst: "failedAuthBurst")
        }
        if let roles = r.value("roles") {
            guard case .object(let o) = roles else { throw ConfigError("\(path).roles must be an object of role name to limit") }
            for (name, v) in o.members {
                let rr = try ConfigReader(v, path: "\(path).roles.\(name)", allowed: ["requestsPerSecond", "burst"])
                perRole[name] = try RateLimit(rr, rate: "requestsPerSecond", burst: "burst")
            }
        }
    }

    /// The limit of a principal holding `roles`: the most generous role override, else the
    /// default; nil: unlimited.
    func limit(roles: [String]) -> RateLimit? {
        let overrides = roles.compactMap { perRole[$0] }
        return overrides.max { $0.requestsPerSecond < $1.requestsPerSecond } ?? perPrincipal
    }
}

/// Seconds on a monotonic clock: the rate limiter's time, replaced by a fake in tests.
public protocol RateClock: Sendable {
    func seconds() -> Double
}

/// `ContinuousClock` as seconds since the clock was made.
public struct ContinuousRateClock: RateClock {
    let start = ContinuousClock.now
    public init() {}
    public func seconds() -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

/// Token buckets by key (`user:ana`, `ip:10.0.0.7`), refilled lazily from the clock when
/// touched: O(1) per request under one lock. Buckets that have refilled completely carry no
/// state, so when the table passes ``maxBuckets`` those are dropped (O(buckets), amortised
/// over at least as many new keys).
final class RateLimiter: @unchecked Sendable {
    struct Bucket {
        var tokens: Double
        var at: Double
    }

    let clock: any RateClock
    private let lock = NSLock()
    /// Guarded by `lock`.
    private var table: [String: Bucket] = [:]
    static let maxBuckets = 10_000

    init(clock: any RateClock) { self.clock = clock }

    /// The bucket of `key` refilled to now.
    private static func refilled(_ b: Bucket?, _ limit: RateLimit, now: Double) -> Bucket {
        guard var b else { return Bucket(tokens: limit.burst, at: now) }
        b.tokens = min(limit.burst, b.tokens + max(0, now - b.at) * limit.requestsPerSecond)
        b.at = now
        return b
    }

    /// Takes a token from `key`'s bucket: nil when there was one, else the whole seconds until
    /// there will be (for `Retry-After`, at least 1).
    func take(_ key: String, _ limit: RateLimit) -> Int? {
        let now = clock.seconds()
        return lock.withLock {
            var b = Self.refilled(table[key], limit, now: now)
            defer {
                table[key] = b
                if table.count > Self.maxBuckets { Self.prune(&table, limit, now: now) }
            }
            guard b.tokens >= 1 else { return Self.wait(b, limit) }
            b.tokens -= 1
            return nil
        }
    }

    /// Whether `key`'s bucket is empty now (nil) or how long until it holds a token, without
    /// taking one.
    func peek(_ key: String, _ limit: RateLimit) -> Int? {
        let now = clock.seconds()
        return lock.withLock {
            let b = Self.refilled(table[key], limit, now: now)
            return b.tokens >= 1 ? nil : Self.wait(b, limit)
        }
    }

    private static func wait(_ b: Bucket, _ limit: RateLimit) -> Int {
        max(1, Int(((1 - b.tokens) / limit.requestsPerSecond).rounded(.up)))
    }

    /// Drops the buckets that are full by now (with `limit`'s refill rate).
    private static func prune(_ table: inout [String: Bucket], _ limit: RateLimit, now: Double) {
        table = table.filter { refilled($0.value, limit, now: now).tokens < limit.burst }
    }
}
