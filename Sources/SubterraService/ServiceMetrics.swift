import Foundation
import Prometheus

/// The service's Prometheus metrics, in a registry of its own (not the process-wide
/// `MetricsSystem`, which can be bootstrapped once per process: tests run many services).
///
/// - `subterra_http_requests_total{route,method,status}`: requests answered.
/// - `subterra_http_request_duration_seconds{route,method}`: latency histogram.
/// - `subterra_auth_failures_total`: refused credentials.
/// - `subterra_engine_info{version,crs}`: 1, labelled with the map's data version and CRS.
/// - `subterra_engine_loaded`: 1 once the whole engine answers, 0 while it warms.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let buckets: [Duration] = [
        .microseconds(250), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(10),
    ]

    public init() {}

    /// Counts one answered request and its latency.
    public func request(route: String, method: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: .init(namespace: "subterra", subsystem: "http", metricName: "requests", unitName: "total", helpText: "Requests answered"),
            labels: [("route", route), ("method", method), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: .init(namespace: "subterra", subsystem: "http", metricName: "request_duration", unitName: "seconds", helpText: "Request latency"),
            labels: [("route", route), ("method", method)], buckets: Self.buckets
        ).record(duration)
    }

    /// Counts one refused credential.
    public func authFailure() {
        registry.makeCounter(
            descriptor: .init(namespace: "subterra", subsystem: "auth", metricName: "failures", unitName: "total", helpText: "Refused credentials"),
            labels: []
        ).increment()
    }

    /// Sets the engine gauges.
    public func engine(version: UInt64, crs: String, loaded: Bool) {
        registry.makeGauge(
            descriptor: .init(namespace: "subterra", subsystem: "engine", metricName: "info", unitName: "", helpText: "Map data version and CRS"),
            labels: [("version", String(version)), ("crs", crs)]
        ).set(Double(1))
        registry.makeGauge(
            descriptor: .init(namespace: "subterra", subsystem: "engine", metricName: "loaded", unitName: "", helpText: "1 when the whole engine answers"),
            labels: []
        ).set(Double(loaded ? 1 : 0))
    }

    /// The exposition text.
    public func text() -> String { registry.emitToString() }
}
