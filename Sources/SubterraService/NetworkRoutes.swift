import Foundation
import Hummingbird
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import SubterraRequests

extension SubterraServer {
    // MARK: Network routes (`POST /isolate`, `POST /trace`, and those ops in `/batch`)

    /// `POST /isolate`, `POST /trace`: the body is one batch line (`op` may be left out).
    func networkQuery(_ op: QueryRequest.Op, _ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let p = try Self.principal(context)
        let text = String(decoding: try await body(request), as: UTF8.self)
        let q = try Self.decode(text, op: op, limits: runner.limits)
        let (answer, layers) = try scopedNetwork(q, p.scope)
        context.note.set(area: nil, layers: layers, features: Self.networkFeatureCount(answer))
        return Self.json(GeoJSON.write(answer))
    }

    /// The answer to a network request under `scope`.
    ///
    /// The caller must see the request's layer (403 otherwise, whether or not the map has it).
    /// The isolation or trace runs over the whole network, since hiding a pipe from an answer
    /// must not change where the water goes; then ``NetworkMask`` removes every pipe the scope
    /// does not admit (owners, area) and every valve, source and connection that no admitted
    /// pipe meets, recomputes the totals from what is left, and masks pipe fields.
    /// `valve-segments` is refused: its segments are figures over pipes the caller may not see.
    func scopedNetwork(_ q: QueryRequest, _ scope: AccessScope) throws(Problem) -> (JSONValue, [String]) {
        let layer: LayerCode
        do {
            switch q.op {
            case .isolate: layer = try NetworkAnswers.pressurisedScope(q).layer
            case .trace: layer = NetworkAnswers.traceScope(q).layer
            case .valveSegments:
                throw Problem.badRequest("op valve-segments: not served over HTTP (its figures count pipes across grants); run subterra valve-segments")
            default: throw Problem.badRequest("op \(q.op.rawValue) is no network request")
            }
        } catch let e as Problem { throw e } catch { throw Problem.badRequest(RequestError(error).description) }
        guard scope.layers.contains(layer) else {
            throw Problem(.forbidden, "field layer: '\(QueryRequest.clip(q.layer ?? layer.rawValue))' is not a layer you may see")
        }
        guard let stored = runner.network else {
            throw Problem(.serviceUnavailable, "this service was started without the map's survey points: isolate and trace are unavailable")
        }
        let value: JSONValue
        do {
            let source = try currentNetwork(stored)
            let enc = JSONValueEncoder()
            if q.op == .isolate {
                let plan = try RequestRunner(engine: runner.engine, limits: runner.limits, network: source).isolationPlan(for: q)
                let t = try NetworkAnswers.topology(q, try NetworkAnswers.pressurisedScope(q), source)
                value = try enc.encode(NetworkMask(t, scope).apply(plan))
            } else {
                let trace = try NetworkAnswers.trace(q, source)
                let t = try NetworkAnswers.topology(q, NetworkAnswers.traceScope(q), source)
                value = try enc.encode(NetworkMask(t, scope).apply(trace))
            }
        } catch let e as Problem { throw e } catch let e as RequestError { throw Problem.badRequest(e.description) } catch {
            throw Problem.badRequest(RequestError(error).description)
        }
        return (value, [layer.rawValue])
    }

    /// The network a request answers from, with topologies from ``networkTopologies``.
    ///
    /// With the whole engine loaded, that is the engine's map at its current data version, so
    /// an edit over HTTP shows in the next answer (the version and the map are read until
    /// both agree: versions only grow, so an equal version before and after means no edit came
    /// between). While a snapshot file answers (no engine yet), the store's network `stored`,
    /// read once, under version nil.
    func currentNetwork(_ stored: NetworkSource) throws -> NetworkSource {
        let engine: UtilityEngine? = (map as? UtilityEngine) ?? (map as? WarmingMap)?.engine
        let cache = networkTopologies
        guard let engine else {
            let net = try stored.utilityNetwork()
            return NetworkSource(network: net) { scope, tolerance in
                try cache.topology(.init(scope: scope, version: nil, tolerance: tolerance)) {
                    try NetworkTopology(network: net, scope: scope, tolerance: tolerance)
                }
            }
        }
        var version = engine.version
        var net = try engine.currentNetwork()
        while engine.version != version {
            version = engine.version
            net = try engine.currentNetwork()
        }
        let (v, map) = (version, net)
        return NetworkSource(network: map) { scope, tolerance in
            try cache.topology(.init(scope: scope, version: v, tolerance: tolerance)) {
                try NetworkTopology(network: map, scope: scope, tolerance: tolerance)
            }
        }
    }

    /// Pipes an isolation or trace answer shows (for the audit log).
    static func networkFeatureCount(_ v: JSONValue) -> Int {
        guard case .object(let o) = v else { return 0 }
        if case .array(let a)? = o["isolatedPipes"] { return a.count }
        if case .array(let a)? = o["pipes"] { return a.count }
        return 0
    }
}

/// Cuts an isolation plan or a drainage trace to what a scope shows.
///
/// A pipe is shown when the scope admits its segment (layer, owners, area); a survey point
/// (valve, source, connection, manhole) when at least one shown pipe meets its node, so a
/// point never reveals a hidden pipe's position. Lengths, volumes and customer tallies are
/// recomputed from the shown parts only: a hidden pipe is never returned, counted or drawn. A
/// pipe's volume is shown only with its section (``VisibleField/section``), its operator id only
/// with ``VisibleField/source`` (else the segment id stands in).
/// - Complexity: O(m) to decide every pipe, then O(answer size).
struct NetworkMask {
    let t: NetworkTopology
    let scope: AccessScope
    /// Whether each edge of `t` is shown.
    let shown: [Bool]

    init(_ t: NetworkTopology, _ scope: AccessScope) {
        self.t = t
        self.scope = scope
        shown = t.segments.map(scope.admits)
    }

    func nodeShown(_ v: Int) -> Bool { v >= 0 && v < t.nodeCount && t.edges(at: v).contains { shown[Int($0)] } }

    func pointShown(_ n: PointNumber) -> Bool {
        guard let i = t.pointIndex(number: n) else { return false }
        return nodeShown(Int(t.pointNode[i]))
    }

    func segmentShown(_ id: Int64) -> Bool { t.edge(segmentID: id).map { shown[$0] } ?? false }

    /// The pipe as shown: nil when hidden; volume and operator id by field grant.
    func pipe(_ p: IsolatedPipe) -> IsolatedPipe? {
        guard let e = t.edge(segmentID: p.segmentID), shown[e] else { return nil }
        let fields = scope.fields(for: t.segments[e])
        var q = p
        if !fields.contains(.section) { q.volume = nil }
        if !fields.contains(.source) { q.displayID = String(p.segmentID) }
        return q
    }

    func tally(_ numbers: [PointNumber]) -> [CustomerTally] {
        var by: [CustomerCategory: (Int, Int)] = [:]
        for n in numbers {
            guard let i = t.pointIndex(number: n), let c = t.points[i].connection else { continue }
            by[c.category, default: (0, 0)].0 += 1
            by[c.category, default: (0, 0)].1 += c.count
        }
        return CustomerCategory.allCases.compactMap { c in
            by[c].map { CustomerTally(category: c, connections: $0.0, customers: $0.1) }
        }
    }

    func apply(_ plan: IsolationPlan) -> IsolationPlan {
        var p = plan
        p.brokenSegmentIDs = plan.brokenSegmentIDs.filter(segmentShown)
        p.brokenAt = plan.brokenAt.filter(pointShown)
        p.valvesToClose = plan.valvesToClose.filter { nodeShown($0.node) }
        p.closedBarriers = plan.closedBarriers.filter { nodeShown($0.node) }
        p.passedValves = plan.passedValves.filter { nodeShown($0.node) }
        p.unverifiedValves = plan.unverifiedValves.filter(pointShown)
        p.sourcesToShut = plan.sourcesToShut.filter(pointShown)
        p.isolatedPipes = plan.isolatedPipes.compactMap(pipe)
        p.isolatedLength = p.isolatedPipes.reduce(0) { $0 + $1.length }
        p.isolatedVolume = p.isolatedPipes.reduce(0) { $0 + ($1.volume ?? 0) }
        p.pipesWithoutSection = p.isolatedPipes.filter { $0.volume == nil }.count
        p.cutOffConnections = plan.cutOffConnections.filter { pointShown($0.number) }
        p.customersCutOff = tally(p.cutOffConnections.map(\.number))
        p.failures = plan.failures.filter { pointShown($0.valve) }.map { f in
            var g = f
            g.nextRing = f.nextRing.filter { nodeShown($0.node) }
            g.extraSourcesToShut = f.extraSourcesToShut.filter(pointShown)
            g.extraPipes = f.extraPipes.compactMap(pipe)
            g.extraLength = g.extraPipes.reduce(0) { $0 + $1.length }
            g.extraConnections = f.extraConnections.filter(pointShown)
            g.extraCustomers = tally(g.extraConnections)
            return g
        }
        return p
    }

    func apply(_ trace: DrainageTrace) -> DrainageTrace {
        var r = trace
        r.pipes = trace.pipes.compactMap { p in
            guard let e = t.edge(segmentID: p.segmentID), shown[e] else { return nil }
            var q = p
            if !scope.fields(for: t.segments[e]).contains(.source) { q.displayID = String(p.segmentID) }
            return q
        }
        r.length = r.pipes.reduce(0) { $0 + $1.length }
        r.points = trace.points.filter(pointShown)
        r.terminals = trace.terminals.filter(pointShown)
        r.indeterminatePipes = trace.indeterminatePipes.filter(segmentShown)
        return r
    }
}

/// The topologies `POST /isolate`, `/trace` and their batch lines answer from, per (scope, data
/// version, tolerance): a build costs O((m + p) log m), an answer from a kept topology only the
/// isolation or trace itself.
///
/// **Bounded.** At most ``capacity`` topologies, least recently used dropped first (a client
/// varying the tolerance cannot grow it). **Invalidated by edits.** A topology of an engine data
/// version older than the newest one asked for is dropped when the newer one is first built,
/// and never stored afterwards (a request still running on the old map gets its answer, not a
/// place in the cache). Version nil is the store's network read at start (no engine loaded).
/// Thread-safe: lookups hold a lock; builds run outside it (two concurrent misses of one key
/// may both build; the first stored is kept).
public final class NetworkTopologyCache: @unchecked Sendable {
    /// What a topology is kept under.
    public struct Key: Hashable, Sendable {
        public var scope: NetworkTopology.Scope
        /// The engine's data version, or nil for the store's network.
        public var version: UInt64?
        public var tolerance: Double

        public init(scope: NetworkTopology.Scope, version: UInt64?, tolerance: Double) {
            self.scope = scope
            self.version = version
            self.tolerance = tolerance
        }
    }

    /// How many topologies are kept at most.
    public let capacity: Int
    private let lock = NSLock()
    /// Least recently used first.
    private var entries: [(key: Key, topology: NetworkTopology)] = []
    private var newestVersion: UInt64?
    private var builtCount = 0
    private var hitCount = 0

    public init(capacity: Int = 4) { self.capacity = max(1, capacity) }

    /// Topologies built so far (cache misses), for tests and metrics.
    public var builds: Int { lock.withLock { builtCount } }
    /// Answers given from a kept topology.
    public var hits: Int { lock.withLock { hitCount } }
    /// How many topologies are kept now.
    public var count: Int { lock.withLock { entries.count } }

    /// The topology under `key`, built with `build` when not kept.
    public func topology(_ key: Key, build: () throws -> NetworkTopology) throws -> NetworkTopology {
        let kept: NetworkTopology? = lock.withLock {
            guard let i = entries.firstIndex(where: { $0.key == key }) else { return nil }
            let e = entries.remove(at: i)
            entries.append(e)
            hitCount += 1
            return e.topology
        }
        if let kept { return kept }
        let t = try build()
        return lock.withLock {
            builtCount += 1
            if let v = key.version {
                if let n = newestVersion, v < n { return t }
                if newestVersion != v {
                    newestVersion = v
                    entries.removeAll { $0.key.version != nil }
                }
            }
            if let i = entries.firstIndex(where: { $0.key == key }) { return entries[i].topology }
            entries.append((key, t))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
            return t
        }
    }
}
