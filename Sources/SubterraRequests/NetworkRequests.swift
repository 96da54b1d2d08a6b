import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraNetwork

/// The pipe networks that network requests (`isolate`, `trace`, `valve-segments`) work on: the
/// map's segments and points, read on first use, and one ``NetworkTopology`` per scope and
/// tolerance, built on first use and kept (a topology is immutable, so lines on any thread
/// share it).
///
/// The index a ``PipeMap`` holds has no survey points, so the network is read separately: the
/// command line from the store, tests from a ``UtilityNetwork`` in memory.
///
/// - Complexity: the first request of a scope costs the topology build, O((m + p) log m);
///   later ones a dictionary lookup under a lock.
public final class NetworkSource: @unchecked Sendable {
    private let load: @Sendable () throws -> UtilityNetwork
    private let lock = NSLock()
    private var network: Result<UtilityNetwork, any Error>?
    private var topologies: [Key: NetworkTopology] = [:]
    /// Where topologies come from when the owner keeps them (see ``init(network:topologies:)``).
    private let provider: (@Sendable (NetworkTopology.Scope, Double) throws -> NetworkTopology)?

    private struct Key: Hashable {
        var scope: NetworkTopology.Scope
        var tolerance: Double
    }

    /// A source that reads the network with `load` when a request first needs it (a failure is
    /// kept and answered to every network request).
    public init(load: @escaping @Sendable () throws -> UtilityNetwork) {
        self.load = load
        provider = nil
    }

    /// A source over `network` whose topologies come from `topologies` (scope, tolerance), a
    /// cache its owner keeps and bounds (the HTTP service keeps one per data version) instead
    /// of this source's own, unbounded one.
    public init(
        network: UtilityNetwork,
        topologies: @escaping @Sendable (NetworkTopology.Scope, Double) throws -> NetworkTopology
    ) {
        load = { network }
        provider = topologies
    }

    /// A source over a network already in memory.
    public convenience init(_ network: UtilityNetwork) { self.init(load: { network }) }

    /// The map's network.
    public func utilityNetwork() throws -> UtilityNetwork {
        lock.lock()
        defer { lock.unlock() }
        if network == nil { network = Result { try load() } }
        return try network!.get()
    }

    /// The topology of `scope` at `tolerance`.
    public func topology(_ scope: NetworkTopology.Scope, tolerance: Double) throws -> NetworkTopology {
        if let provider { return try provider(scope, tolerance) }
        let key = Key(scope: scope, tolerance: tolerance)
        let net = try utilityNetwork()
        lock.lock()
        if let t = topologies[key] {
            lock.unlock()
            return t
        }
        lock.unlock()
        let t = try NetworkTopology(network: net, scope: scope, tolerance: tolerance)
        lock.lock()
        defer { lock.unlock() }
        if let kept = topologies[key] { return kept }
        topologies[key] = t
        return t
    }
}

/// The answers of network requests, computed from a decoded ``QueryRequest``: the same values
/// `subterra isolate`, `trace` and `valve-segments` print with `--json`.
public enum NetworkAnswers {
    /// The pressurised layers valve isolation works on.
    public static let pressurisedLayers: [LayerCode] = [.water, .gas, .heat]

    /// The scope an `isolate` or `valve-segments` request names (`layer`, `pressureClass`).
    public static func pressurisedScope(_ q: QueryRequest) throws(RequestError) -> NetworkTopology.Scope {
        guard let text = q.layer else { throw RequestError("field layer is missing (JS, RQ or RL)") }
        let code = LayerCode(text.uppercased())
        guard pressurisedLayers.contains(code) else {
            throw RequestError("field layer: valve isolation is for pressurised networks: JS, RQ or RL, not '\(QueryRequest.clip(text))'")
        }
        var pressure: GasPressureClass?
        if let p = q.pressureClass {
            guard code == .gas else { throw RequestError("field pressureClass applies to gas (layer RQ) only") }
            guard let c = GasPressureClass(rawValue: p) else {
                throw RequestError(
                    "field pressureClass: '\(QueryRequest.clip(p))' is not one of \(GasPressureClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            pressure = c
        }
        return .init(layer: code, gasPressureClass: pressure)
    }

    /// The scope a `trace` request names (`layer`, default `PS`).
    public static func traceScope(_ q: QueryRequest) -> NetworkTopology.Scope {
        .init(layer: LayerCode((q.layer ?? "PS").uppercased()))
    }

    /// The request's tolerance, checked.
    static func tolerance(_ q: QueryRequest) throws(RequestError) -> Double {
        let t = q.tolerance ?? 0.05
        guard t >= 0, t <= 100 else { throw RequestError("field tolerance must be 0...100 metres") }
        return t
    }

    /// The topology a request works on (`tolerance`, default 0.05 m), from `source`'s cache.
    public static func topology(_ q: QueryRequest, _ scope: NetworkTopology.Scope, _ source: NetworkSource) throws -> NetworkTopology {
        let tol = try tolerance(q)
        do { return try source.topology(scope, tolerance: tol) } catch {
            guard let e = error as? NetworkError else { throw error }
            throw RequestError("field layer \(scope.layer): \(e.message)")
        }
    }

    /// The isolation plan of an `isolate` request: the break is `target` (pipe id, point number,
    /// source id or 'x,y') or a POINT `geometry` in the map CRS (the nearest pipe within
    /// `maxDistance`, default 5 m).
    public static func isolation(_ q: QueryRequest, _ source: NetworkSource, point: Point?) throws -> IsolationPlan {
        let t = try topology(q, try pressurisedScope(q), source)
        let target: String
        if let s = q.target {
            guard point == nil else { throw RequestError("fields target and geometry: give one break, not both") }
            target = s
        } else if let p = point {
            target = "\(p.x),\(p.y)"
        } else {
            throw RequestError("field target is missing (a pipe id or point number; or a POINT geometry)")
        }
        let net = try source.utilityNetwork()
        // (NetworkError is CustomStringConvertible: "break <target>: <what>".)
        let location: BreakLocation
        do { location = try t.locateBreak(target, maxDistance: q.maxDistance ?? 5) { net.segment(id: $0) }.location } catch {
            throw RequestError("\(error)")
        }
        do { return try IsolationPlan(topology: t, break: location) } catch { throw RequestError("\(error)") }
    }

    /// The drainage trace of a `trace` request.
    public static func trace(_ q: QueryRequest, _ source: NetworkSource) throws -> DrainageTrace {
        guard let d = q.direction else { throw RequestError("field direction is missing (upstream or downstream)") }
        guard let direction = TraceDirection(rawValue: d.lowercased()) else {
            throw RequestError("field direction: '\(QueryRequest.clip(d))' is not upstream or downstream")
        }
        guard let starts = q.from else { throw RequestError("field from is missing (manhole point numbers or pipe ids)") }
        let t = try topology(q, traceScope(q), source)
        var from: [DrainageTrace.Start] = []
        for s in starts {
            do { from.append(try t.locateTraceStart(s)) } catch { throw RequestError("\(error)") }
        }
        do { return try DrainageTrace(topology: t, from: from, direction: direction) } catch { throw RequestError("\(error)") }
    }

    /// The planning figures of a `valve-segments` request.
    public static func valveSegments(_ q: QueryRequest, _ source: NetworkSource) throws -> ValveSegmentsReport {
        if let top = q.top, top < 1 { throw RequestError("field top must be at least 1") }
        let t = try topology(q, try pressurisedScope(q), source)
        return ValveSegmentsReport(ValveSegments(t), top: q.top ?? .max)
    }
}
