import Foundation
import Synchronization
import Prometheus

/// The service's Prometheus metrics, in a registry of its own (not the process-wide
/// `MetricsSystem`, which can be bootstrapped once per process: tests run many services).
///
/// - `subterra_http_requests_total{route,method,status}`: requests answered.
/// - `subterra_http_request_duration_seconds{route,method}`: latency histogram.
/// - `subterra_auth_failures_total`: refused credentials.
/// - `subterra_http_rate_limited_total`: requests refused by the rate limit (429).
/// - `subterra_engine_info{version,crs}`: 1, labelled with the map's data version and CRS.
/// - `subterra_engine_loaded`: 1 once the whole engine answers, 0 while it warms.
/// - `subterra_engine_data_version`: the data version answers are given at (the engine's
///   published edits).
/// - `subterra_edits_total{verb}`: edits taken over HTTP (create, replace, delete).
/// - `subterra_edit_lag_seconds{verb}`: edit lag, from the edit request's arrival to its
///   snapshot being published (what a reader starting then would still miss).
/// - `subterra_follow_lag_versions`, `subterra_follow_lag_seconds`: how far the served map is
///   behind its store of record, when it follows one (``followLag(from:)``: `subterra serve` on
///   a `postgresql://` store); absent otherwise.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [
        .microseconds(250), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    public init() {}

    /// The counter and histogram of one (route, method, status), looked up once: the registry's
    /// `make…` calls build the metric's full name and label key and take its lock, on every
    /// request. Routes are the registered ones (or `unmatched`), so the table stays small.
    private struct RequestKey: Hashable {
        var route: String
        var method: String
        var status: Int
    }
    private let requestMetrics = Mutex<[RequestKey: (Counter, DurationHistogram)]>([:])

    /// Counts one answered request and its latency.
    public func request(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let pair = requestMetrics.withLock { table in
            if let p = table[key] { return p }
            let p = (
                registry.makeCounter(
                    descriptor: .init(namespace: "subterra", subsystem: "http", metricName: "requests", unitName: "total", helpText: "Requests answered"),
                    labels: [("route", route), ("method", method), ("status", String(status))]),
                registry.makeDurationHistogram(
                    descriptor: .init(namespace: "subterra", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "Request latency"),
                    labels: [("route", route), ("method", method)], buckets: Self.buckets))
            table[key] = p
            return p
        }
        pair.0.increment()
        pair.1.record(duration)
    }

    /// Counts one refused credential.
    public func authFailure() { count("auth", "failures", "Refused credentials") }

    /// Counts one request refused by the rate limit.
    public func rateLimited() { count("http", "rate_limited", "Requests refused by the rate limit") }

    /// Sets the engine gauges.
    public func engine(version: UInt64, crs: String, loaded: Bool) {
        set(1, "engine", "info", "Map data version and CRS", [("version", String(version)), ("crs", crs)])
        set(loaded ? 1 : 0, "engine", "loaded", "1 when the whole engine answers")
        dataVersion(version)
    }

    /// Counts one edit taken and its lag, and sets the data version it published.
    public func edit(verb: String, lag: Duration, version: UInt64) {
        count("", "edits", "Edits taken over HTTP", [("verb", verb)])
        record(lag, "edit", "lag", "Edit request to snapshot published", [("verb", verb)])
        dataVersion(version)
    }

    /// Sets the data version gauge.
    public func dataVersion(_ version: UInt64) { set(Double(version), "engine", "data_version", "Data version answers are given at") }

    private func count(_ subsystem: String, _ name: String, _ help: String, _ labels: [(String, String)] = []) {
        registry.makeCounter(
            descriptor: .init(namespace: "subterra", subsystem: subsystem, metricName: name, unitName: "total", helpText: help), labels: labels
        ).increment()
    }

    private func record(_ d: Duration, _ subsystem: String, _ name: String, _ help: String, _ labels: [(String, String)]) {
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "subterra", subsystem: subsystem, metricName: name, unitName: "seconds", helpText: help),
            labels: labels, buckets: Self.buckets
        ).record(d)
    }

    private func set(_ v: Double, _ subsystem: String, _ name: String, _ help: String, _ labels: [(String, String)] = []) {
        registry.makeGauge(
            descriptor: .init(namespace: "subterra", subsystem: subsystem, metricName: name, unitName: "", helpText: help), labels: labels
        ).set(v)
    }

    /// Where the follow-lag gauges are read from at each exposition: set by `subterra serve`
    /// when the map it serves follows a store (a PostGIS follower); nil, the default: no
    /// follow gauges. Process-wide, as one `serve` process serves one map; the service module
    /// so stays free of any store's code.
    public static func followLag(from source: (@Sendable () -> (versions: Int64, seconds: Double))?) {
        followLagSource.withLock { $0 = source }
    }

    private static let followLagSource = FollowLagSource()

    /// The exposition text.
    public func text() -> String {
        if let lag = Self.followLagSource.withLock({ $0 })?() {
            set(Double(lag.versions), "follow", "lag_versions", "Versions the served map is behind its store of record")
            set(lag.seconds, "follow", "lag_seconds", "Seconds since the oldest store version the served map has not applied was committed")
        }
        return registry.emitToString()
    }
}

/// The follow-lag source behind a lock (``ServiceMetrics/followLag(from:)``).
private final class FollowLagSource: @unchecked Sendable {
    private let lock = NSLock()
    // Guarded by lock.
    private var source: (@Sendable () -> (versions: Int64, seconds: Double))?

    func withLock<R>(_ body: (inout (@Sendable () -> (versions: Int64, seconds: Double))?) -> R) -> R {
        lock.withLock { body(&source) }
    }
}
