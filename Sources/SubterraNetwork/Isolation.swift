import SubterraGeometry
import SubterraModel

/// Where a main burst: on a pipe, or at a node (a fitting or valve that broke itself).
public enum BreakLocation: Hashable, Sendable {
    /// The pipe (edge index of the topology).
    case edge(Int)
    /// The node: every pipe meeting there is broken, and a valve there cannot hold.
    case node(Int)
}

/// A valve in an isolation answer.
public struct IsolationValve: Hashable, Sendable, Codable {
    public var number: PointNumber
    public var position: [Double]
    /// As recorded; nil when unknown (taken as open and operable).
    public var status: ValveStatus?
    public var node: Int
}

/// A pipe in an isolation answer.
public struct IsolatedPipe: Hashable, Sendable, Codable {
    public var segmentID: Int64
    /// The id to show a person (``PipeSegment/displayID``).
    public var displayID: String
    /// Plan length, metres.
    public var length: Double
    /// Water (or gas) held, m³: section area × plan length; nil without a section.
    public var volume: Double?
}

/// A service connection that loses supply.
public struct CutOffConnection: Hashable, Sendable, Codable {
    public var number: PointNumber
    public var position: [Double]
    public var category: CustomerCategory
    public var count: Int
    /// Whether it was already without supply before the break (behind a closed valve, or in a
    /// part of the network no source reaches); it still counts among the cut-off customers.
    public var alreadyWithoutSupply: Bool
}

/// Customers of one category.
public struct CustomerTally: Hashable, Sendable, Codable {
    public var category: CustomerCategory
    /// Connection points.
    public var connections: Int
    /// Customers behind them.
    public var customers: Int

    public init(category: CustomerCategory, connections: Int, customers: Int) {
        self.category = category
        self.connections = connections
        self.customers = customers
    }
}

/// What one valve failing to close costs: the next ring of valves and what it adds.
public struct ValveFailure: Hashable, Sendable, Codable {
    /// The valve that will not turn.
    public var valve: PointNumber
    /// Valves to close instead (the next ring), not already in the plan.
    public var nextRing: [IsolationValve]
    /// Sources that must be shut in addition.
    public var extraSourcesToShut: [PointNumber]
    /// Pipes isolated in addition.
    public var extraPipes: [IsolatedPipe]
    public var extraLength: Double
    /// Connections cut off in addition, by category (hospitals first).
    public var extraCustomers: [CustomerTally]
    public var extraConnections: [PointNumber]
}

/// The answer to "a main burst here: what do we shut, and who loses supply?".
///
/// Computed in two passes over a ``NetworkTopology``:
/// 1. **Isolation** — a breadth-first search from the break over pipes, stopping at valves a crew
///    can close (``valvesToClose``: open, or of unknown status, taken as open and operable and
///    listed in ``unverifiedValves``), at valves already closed (``closedBarriers``, no action),
///    and at sources (plants, regulator and pumping stations: ``sourcesToShut``); it passes
///    through inoperable and inaccessible valves (``passedValves``). The pipes it reaches are
///    ``isolatedPipes``.
/// 2. **Supply** — a search from every source of the break's connected part that is not shut,
///    over the pipes that are not isolated, stopping at closed valves and at the valves of the
///    plan (a shut source feeds nothing, but its node still joins the pipes that meet there).
///    Every service connection of that part it does not reach is cut off, including those
///    that closed valves or missing sources had already cut (flagged
///    ``CutOffConnection/alreadyWithoutSupply``, from the same search before the break).
///
/// For each valve to close, ``failures`` says what it costs if it will not turn: the plan is
/// recomputed with that valve passable.
///
/// The supply pass is not run pipe by pipe: the supply before any break is searched once per
/// topology on its valve-segment graph (``SupplyTree``), and a plan finds what its isolation takes
/// from it (``SupplyLoss``), which gives the same answer.
///
/// - Complexity: the isolation pass is O(size of the isolated part) plus two flag arrays of the
///   topology's size; the supply pass is O(size of the supply tree's subtrees below the isolated
///   segments, the plan's valves and the shut sources) — small, but up to the component's
///   segments for a break next to the source feeding most of it — plus a sort of the cut-off
///   connections; the graph and the tree are built once per topology on its first plan
///   (O(n + m + p), ``ValveSegments``); k failure scenarios cost k times the two passes.
public struct IsolationPlan: Hashable, Sendable, Codable {
    public var scope: NetworkTopology.Scope
    /// The broken pipes (one for a pipe break; all at the node for a node break).
    public var brokenSegmentIDs: [Int64]
    /// The broken node's point numbers, for a node break.
    public var brokenAt: [PointNumber]
    /// Valves to close, by point number.
    public var valvesToClose: [IsolationValve]
    /// Valves already closed that bound the isolated part (no action).
    public var closedBarriers: [IsolationValve]
    /// Inoperable or inaccessible valves the isolation had to pass.
    public var passedValves: [IsolationValve]
    /// Valves to close whose status is not recorded (taken as open and operable): check on site.
    public var unverifiedValves: [PointNumber]
    /// Sources inside or on the boundary of the isolated part: their feed must be shut too.
    public var sourcesToShut: [PointNumber]
    public var isolatedPipes: [IsolatedPipe]
    public var isolatedLength: Double
    /// Sum of the volumes of the isolated pipes with a section.
    public var isolatedVolume: Double
    /// Isolated pipes without a section (their volume is not in ``isolatedVolume``).
    public var pipesWithoutSection: Int
    /// Cut-off customers by category, hospitals first; categories with none left out.
    public var customersCutOff: [CustomerTally]
    /// Cut-off connections, hospitals first, then by point number.
    public var cutOffConnections: [CutOffConnection]
    /// Sources in the break's connected part (0: nothing there is supplied at all).
    public var sourcesInComponent: Int
    /// One entry per valve to close, in ``valvesToClose`` order.
    public var failures: [ValveFailure]

    /// Plans the isolation of `location` in `topology`.
    ///
    /// - Parameter failureScenarios: whether to compute ``failures`` (k more passes).
    /// - Throws: ``NetworkError`` for an edge or node outside the topology.
    public init(
        topology t: NetworkTopology, break location: BreakLocation, failureScenarios: Bool = true
    ) throws(NetworkError) {
        switch location {
        case .edge(let e) where e < 0 || e >= t.edgeCount:
            throw NetworkError("no pipe \(e) in a topology of \(t.edgeCount)", at: "break")
        case .node(let v) where v < 0 || v >= t.nodeCount:
            throw NetworkError("no node \(v) in a topology of \(t.nodeCount)", at: "break")
        default: break
        }
        scope = t.scope
        let base = IsolationSearch(t, location, failed: -1)
        let component: Int
        switch location {
        case .edge(let e):
            brokenSegmentIDs = [t.segments[e].id]
            brokenAt = []
            component = Int(t.componentOfNode[Int(t.edgeFrom[e])])
        case .node(let v):
            brokenSegmentIDs = Array(Set(t.edges(at: v).map { t.segments[Int($0)].id })).sorted()
            brokenAt = t.pointIndices(at: v).map { t.points[Int($0)].number }
            component = Int(t.componentOfNode[v])
        }
        valvesToClose = base.toClose.map { Self.valve(t, $0) }.sorted { $0.number < $1.number }
        closedBarriers = base.barriers.map { Self.valve(t, $0) }.sorted { $0.number < $1.number }
        passedValves = base.passed.map { Self.valve(t, $0) }.sorted { $0.number < $1.number }
        unverifiedValves = valvesToClose.filter { $0.status == nil }.map(\.number)
        sourcesToShut = Self.sourceNumbers(t, base.sources)
        isolatedPipes = base.edges.sorted().map { Self.pipe(t.segments[$0]) }
        isolatedLength = isolatedPipes.reduce(0) { $0 + $1.length }
        isolatedVolume = isolatedPipes.reduce(0) { $0 + ($1.volume ?? 0) }
        pipesWithoutSection = isolatedPipes.filter { $0.volume == nil }.count

        // One search from every source of every component (components share nothing, so each
        // component's part is what a search from its own sources gives), kept per topology.
        let (g, tree) = t.supplyGraph.value {
            let g = SupplyGraph(t)
            return (g, SupplyTree(t, g))
        }
        sourcesInComponent = g.sources(ofComponent: component).count
        let cut = Self.cutOff(t, g, tree, component: component, lost: SupplyLoss(t, g, tree, isolation: base))
        cutOffConnections = cut
        customersCutOff = Self.tally(cut)

        var fails: [ValveFailure] = []
        if failureScenarios {
            let planned = Set(base.toClose)
            let isolated = Set(base.edges)
            let cutNumbers = Set(cut.map(\.number))
            let shut = Set(base.sources)
            for v in valvesToClose {
                let alt = IsolationSearch(t, location, failed: v.node)
                let altCut = Self.cutOff(t, g, tree, component: component, lost: SupplyLoss(t, g, tree, isolation: alt))
                    .filter { !cutNumbers.contains($0.number) }
                let ring = alt.toClose.filter { !planned.contains($0) }.map { Self.valve(t, $0) }.sorted { $0.number < $1.number }
                let extra = alt.edges.filter { !isolated.contains($0) }.sorted().map { Self.pipe(t.segments[$0]) }
                fails.append(ValveFailure(
                    valve: v.number, nextRing: ring,
                    extraSourcesToShut: Self.sourceNumbers(t, alt.sources.filter { !shut.contains($0) }),
                    extraPipes: extra, extraLength: extra.reduce(0) { $0 + $1.length },
                    extraCustomers: Self.tally(altCut), extraConnections: altCut.map(\.number)))
            }
        }
        failures = fails
    }

    /// Customers cut off in total (all categories).
    public var customersCutOffTotal: Int { customersCutOff.reduce(0) { $0 + $1.customers } }

    static func valve(_ t: NetworkTopology, _ node: Int) -> IsolationValve {
        let p = t.valve(at: node)!
        return IsolationValve(number: p.number, position: [p.position.x, p.position.y], status: p.valveStatus, node: node)
    }

    static func sourceNumbers(_ t: NetworkTopology, _ nodes: [Int]) -> [PointNumber] {
        nodes.flatMap { v in t.pointIndices(at: v).map { t.points[Int($0)] }.filter(\.kind.isSource).map(\.number) }.sorted()
    }

    static func pipe(_ s: PipeSegment) -> IsolatedPipe {
        let area: Double?
        switch s.section {
        case .circular(let d)?: area = Double.pi * (d / 2000) * (d / 2000)
        case .rectangular(let w, let h)?: area = (w / 1000) * (h / 1000)
        case nil: area = nil
        }
        let length = s.length
        return IsolatedPipe(segmentID: s.id, displayID: s.displayID, length: length, volume: area.map { $0 * length })
    }

    /// The connections of `component` without supply after the break, hospitals first: those
    /// without supply before it (``SupplyTree``), and those at the items the break `lost`.
    static func cutOff(
        _ t: NetworkTopology, _ g: SupplyGraph, _ tree: SupplyTree, component: Int, lost: SupplyLoss
    ) -> [CutOffConnection] {
        var out: [CutOffConnection] = []
        func add(_ i: Int, alreadyWithoutSupply: Bool) {
            let p = t.points[i]
            guard let c = p.connection else { return }
            out.append(CutOffConnection(
                number: p.number, position: [p.position.x, p.position.y], category: c.category, count: c.count,
                alreadyWithoutSupply: alreadyWithoutSupply))
        }
        for i in tree.unsupplied(ofComponent: component) { add(Int(i), alreadyWithoutSupply: true) }
        for x in lost.items {
            if Int(x) < g.segmentCount {
                for i in g.connections(of: Int(x)) { add(Int(i), alreadyWithoutSupply: false) }
            } else {
                for i in t.pointIndices(at: Int(g.boundaryList[Int(x) - g.segmentCount])) { add(Int(i), alreadyWithoutSupply: false) }
            }
        }
        return out.sorted { ($0.category, $0.number) < ($1.category, $1.number) }
    }

    static func tally(_ cut: [CutOffConnection]) -> [CustomerTally] {
        CustomerCategory.allCases.compactMap { c in
            let of = cut.filter { $0.category == c }
            return of.isEmpty ? nil : CustomerTally(category: c, connections: of.count, customers: of.reduce(0) { $0 + $1.count })
        }
    }
}

/// Pass 1: the breadth-first search from the break, stopping at closable valves, closed valves
/// and sources. `failed` is a node whose valve is taken as inoperable (a failure scenario), or -1.
struct IsolationSearch {
    /// Isolated edges, in visit order.
    var edges: [Int] = []
    var toClose: [Int] = []
    var barriers: [Int] = []
    var passed: [Int] = []
    /// Source nodes met (boundary or break node).
    var sources: [Int] = []
    /// Edges in ``edges``, by index.
    var isolatedEdge: [Bool]

    init(_ t: NetworkTopology, _ location: BreakLocation, failed: Int) {
        isolatedEdge = [Bool](repeating: false, count: t.edgeCount)
        var seen = [Bool](repeating: false, count: t.nodeCount)
        var queue: [Int] = []
        var head = 0
        func take(_ e: Int) {
            isolatedEdge[e] = true
            edges.append(e)
        }
        switch location {
        case .edge(let e):
            take(e)
            for v in [Int(t.edgeFrom[e]), Int(t.edgeTo[e])] where !seen[v] {
                seen[v] = true
                if classify(t, v, failed: failed) { queue.append(v) }
            }
        case .node(let v):
            seen[v] = true
            if t.isSource(v) { sources.append(v) }
            queue.append(v)
        }
        while head < queue.count {
            let v = queue[head]
            head += 1
            for k in t.edges(at: v) {
                let e = Int(k)
                guard !isolatedEdge[e] else { continue }
                take(e)
                let w = t.otherEnd(of: e, from: v)
                guard !seen[w] else { continue }
                seen[w] = true
                if classify(t, w, failed: failed) { queue.append(w) }
            }
        }
    }

    /// Records what stops the search at `v`; true when the search passes through it.
    private mutating func classify(_ t: NetworkTopology, _ v: Int, failed: Int) -> Bool {
        if t.isSource(v) {
            sources.append(v)
            return false
        }
        guard let valve = t.valve(at: v) else { return true }
        let status = v == failed ? ValveStatus.inoperable : (valve.valveStatus ?? .open)
        switch status {
        case .open:
            toClose.append(v)
            return false
        case .closed:
            barriers.append(v)
            return false
        case .inoperable, .inaccessible:
            passed.append(v)
            return true
        }
    }
}

/// Pass 2, before any break: which parts of the topology its sources reach, through nodes that
/// are not closed valves, with the tree of that search (``SupplyTree``; a break's loss is then
/// ``SupplyLoss``).
///
/// Searched on the valve-segment graph (``SupplyGraph``): a segment is reached whole (its interior
/// nodes block nothing), and a boundary node is reached from a reached segment unless it is a
/// closed valve. This is the node-by-node search over the pipes, segment by segment.
struct SupplySearch {
    var reachedSegment: [Bool]
    /// By boundary index (``SupplyGraph/boundaryIndex``).
    var reachedBoundary: [Bool]
    /// The item each reached item was reached from (segments `s`, boundary nodes
    /// `segmentCount + index`); -1 for a source it starts from.
    var parent: [Int32]

    init(_ t: NetworkTopology, _ g: SupplyGraph) {
        let sc = g.segmentCount
        parent = [Int32](repeating: -1, count: sc + g.boundaryList.count)
        reachedSegment = [Bool](repeating: false, count: sc)
        reachedBoundary = [Bool](repeating: false, count: g.boundaryList.count)
        var queue: [Int] = []
        for v in g.componentSources {
            let b = Int(g.boundaryIndex[Int(v)])
            reachedBoundary[b] = true
            queue.append(b)
        }
        var head = 0
        while head < queue.count {
            let b = queue[head]
            head += 1
            for k in t.edges(at: Int(g.boundaryList[b])) {
                let s = Int(g.segmentOfEdge[Int(k)])
                guard !reachedSegment[s] else { continue }
                reachedSegment[s] = true
                parent[s] = Int32(sc + b)
                for w in g.boundary(of: s) {
                    let c = Int(g.boundaryIndex[Int(w)])
                    guard !reachedBoundary[c], !g.closedBoundary[c] else { continue }
                    reachedBoundary[c] = true
                    parent[sc + c] = Int32(s)
                    queue.append(c)
                }
            }
        }
    }
}
