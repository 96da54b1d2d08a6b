import Foundation
import SubterraGeometry
import SubterraModel

/// Which way water runs in a gravity pipe, from its inverts.
public enum FlowDirection: String, Hashable, Sendable, Codable {
    /// From the segment's start to its end: the start invert is higher.
    case forward
    /// From end to start: the end invert is higher.
    case backward
    /// Not known: an invert is missing, or both are equal (a flat pipe runs either way).
    case indeterminate

    /// The direction of `s` from ``PipeSegment/startInvert`` and ``PipeSegment/endInvert``. O(1).
    public init(_ s: PipeSegment) {
        guard let a = s.startInvert, let b = s.endInvert, a != b else {
            self = .indeterminate
            return
        }
        self = a > b ? .forward : .backward
    }
}

/// Which way a trace runs.
public enum TraceDirection: String, Hashable, Sendable, Codable, CaseIterable {
    /// Against the flow: everything that drains to the start (its catchment).
    case upstream
    /// With the flow: where water from the start goes, to the outfalls and pumping stations.
    case downstream
}

/// An up- or downstream trace of a gravity network from one or more flooded manholes or pipes.
///
/// Flow directions come from the inverts (``FlowDirection``); a pipe of indeterminate
/// direction met at a reached node is not followed but listed in ``indeterminatePipes``, so the
/// answer never rests on a guess (the trace is complete except beyond those pipes). A
/// downstream trace stops at outfalls and pumping stations (``terminals``); an upstream trace
/// stops nowhere short of the network's heads, except that it does not climb back through a
/// pumping station (water is lifted there, not drained).
///
/// - Complexity: O(k log k) for the k nodes and pipes reached (each once; the answer is sorted),
///   and O(k + (m + p) / 64) instead for an answer of at least max(64, m / 1024) pipes (or
///   points), sorted through bit sets of ranks. A topology's
///   first trace also builds its trace tables, O(m + p log p) (``TraceTables``). The visit marks
///   are generation-stamped arrays of the topology's size, allocated on a topology's first trace
///   and reused by later ones (``TraceMarksPool``), so no trace zeroes them.
public struct DrainageTrace: Hashable, Sendable, Codable {
    public var scope: NetworkTopology.Scope
    public var direction: TraceDirection
    /// Pipes reached, by segment id, with the direction each runs.
    public var pipes: [TracedPipe]
    /// Plan length of ``pipes``.
    public var length: Double
    /// Survey points at reached nodes (manholes, inlets, …), by number.
    public var points: [PointNumber]
    /// Outfalls and pumping stations reached, by number.
    public var terminals: [PointNumber]
    /// Pipes at reached nodes whose direction is indeterminate: the trace may go on beyond them.
    public var indeterminatePipes: [Int64]

    /// One pipe of a trace.
    public struct TracedPipe: Hashable, Sendable, Codable {
        public var segmentID: Int64
        public var displayID: String
        public var flow: FlowDirection
        public var length: Double
    }

    /// Where a trace starts.
    public enum Start: Hashable, Sendable {
        /// A node (a flooded manhole).
        case node(Int)
        /// A pipe: the trace takes it and goes on from its downstream end (downstream) or its
        /// upstream end (upstream); a pipe of indeterminate direction goes on from both ends.
        case edge(Int)
    }

    /// Traces `topology` (a gravity drainage layer) from `starts` in `direction`.
    ///
    /// - Throws: ``NetworkError`` for a start outside the topology or no start.
    public init(topology t: NetworkTopology, from starts: [Start], direction: TraceDirection) throws(NetworkError) {
        guard !starts.isEmpty else { throw NetworkError("no manhole or pipe to trace from", at: "trace") }
        scope = t.scope
        self.direction = direction
        for s in starts {
            switch s {
            case .node(let v) where v < 0 || v >= t.nodeCount: throw NetworkError("no node \(v)", at: "trace")
            case .edge(let e) where e < 0 || e >= t.edgeCount: throw NetworkError("no pipe \(e)", at: "trace")
            default: break
            }
        }
        let tab = t.traceTables.value { TraceTables(t) }
        let down = direction == .downstream
        let links = down ? tab.downstream : tab.upstream
        // The marks are moved out of their set (a uniquely held array is written in place) and
        // back at the end. A node is reached when its mark is at least this trace's stamp, and
        // is a start (never cut short at a terminal) when the mark is stamp + 1.
        var marks = t.traceMarks.take(nodes: t.nodeCount, edges: t.edgeCount)
        let stamp = marks.stamp
        var reachedNode: [UInt32] = [], flaggedEdge: [UInt32] = []
        swap(&marks.node, &reachedNode)
        swap(&marks.flagged, &flaggedEdge)
        var reached: [Int32] = [], taken: [Int32] = [], flagged: [Int32] = [], stack: [Int32] = []
        // One allocation each for a typical trace, not one per doubling from a single element.
        reached.reserveCapacity(64)
        taken.reserveCapacity(64)
        stack.reserveCapacity(64)
        // Nodes in the tables' numbering from here on (``TraceTables/place``).
        for case .node(let node) in starts {
            let v = Int(tab.place[node])
            guard reachedNode[v] < stamp else { continue }
            reachedNode[v] = stamp + 1
            reached.append(Int32(v))
            stack.append(Int32(v))
        }
        // A start pipe is taken, and the search goes on from its low end (downstream) or high
        // end (upstream), from both when its direction is indeterminate (then it is flagged too).
        var startEdges = Set<Int32>()
        for case .edge(let e) in starts where startEdges.insert(Int32(e)).inserted {
            taken.append(Int32(e))
            let f = tab.edges[e].flow
            let (from, to) = (tab.place[Int(t.edgeFrom[e])], tab.place[Int(t.edgeTo[e])])
            var next = [(f == .forward) == down ? to : from]
            if f == .indeterminate {
                flaggedEdge[e] = stamp
                flagged.append(Int32(e))
                next = [from, to]
            }
            for w in next where reachedNode[Int(w)] < stamp {
                reachedNode[Int(w)] = stamp
                reached.append(w)
                stack.append(w)
            }
        }
        // Depth first: a chain of pipes is followed while its nodes are still in cache (nodes
        // are numbered along the network's pipes); the answer is sorted, so order is free.
        let checkStarts = !startEdges.isEmpty
        while let v32 = stack.popLast() {
            let v = Int(v32)
            let first = links.nodes[v].links
            if first & TraceTables.Links.stop != 0, reachedNode[v] != stamp + 1 { continue }
            for i in Int(first & TraceTables.Links.offset)..<Int(links.nodes[v + 1].links & TraceTables.Links.offset) {
                let l = links.links[i]
                if l.edge < 0 {
                    let e = Int(~l.edge)
                    if flaggedEdge[e] != stamp {
                        flaggedEdge[e] = stamp
                        flagged.append(~l.edge)
                    }
                    continue
                }
                if checkStarts, startEdges.contains(l.edge) { continue }
                taken.append(l.edge)
                if reachedNode[Int(l.next)] < stamp {
                    reachedNode[Int(l.next)] = stamp
                    reached.append(l.next)
                    stack.append(l.next)
                }
            }
        }
        // Swapped back, not copied: the set given back is then held by the pool alone.
        swap(&marks.node, &reachedNode)
        swap(&marks.flagged, &flaggedEdge)
        t.traceMarks.give(marks)

        // Pipes by segment id, points by number. A small answer sorts its own lists; a large
        // one sorts ranks through a bit set and reads the tables in rank order.
        if taken.count < TraceTables.bitSetFrom(universe: t.edgeCount), tab.idRank == nil {
            taken.sort()
            pipes = taken.map { tab.edges[Int($0)].traced }
        } else {
            var ranks = taken
            if let rank = tab.idRank {
                for i in ranks.indices { ranks[i] = rank[Int(ranks[i])] }
            }
            TraceTables.sortRanks(&ranks, universe: t.edgeCount)
            pipes = ranks.map { r in tab.edges[tab.idOrder.map { Int($0[Int(r)]) } ?? Int(r)].traced }
        }
        length = pipes.reduce(0) { $0 + $1.length }
        // Points: entries of the reached nodes (stored beside each other, node by node).
        var entries: [Int32] = []
        entries.reserveCapacity(reached.count)
        for v in reached {
            for i in links.nodes[Int(v)].points..<links.nodes[Int(v) + 1].points { entries.append(Int32(i)) }
        }
        if entries.count < TraceTables.bitSetFrom(universe: tab.pointNumbers.count) {
            entries.sort { tab.points[Int($0)].rank < tab.points[Int($1)].rank }
            points = entries.map { tab.points[Int($0)].number }
            terminals = entries.compactMap { tab.points[Int($0)].terminal ? tab.points[Int($0)].number : nil }
        } else {
            var ranks = entries.map { tab.points[Int($0)].rank }
            TraceTables.sortRanks(&ranks, universe: tab.pointNumbers.count)
            points = ranks.map { tab.pointNumbers[Int($0)] }
            terminals = ranks.compactMap { tab.terminal[Int($0)] ? tab.pointNumbers[Int($0)] : nil }
        }
        indeterminatePipes = flagged.map { tab.edges[Int($0)].segmentID }.sorted()
    }
}

/// What a trace reads of a topology, as flat arrays: built once per topology, on its first trace
/// (``NetworkTopology/traceTables``), so a trace step never touches a ``PipeSegment`` (whose length is a sum
/// over its vertices and whose display id may be formatted on each call) or a ``FeaturePoint``.
///
/// **Layout.** Laid out for few cache misses: a small trace from a random manhole is bound by
/// them, not by instructions (each step of a trace touches about five places in tables of tens
/// of megabytes). Nodes are renumbered depth first from the sinks (``place``). For each direction, ``Links``: per node, where its links and its points begin
/// (8 bytes, with the node's terminal flag in the top bit), and a run of links: the pipes a
/// trace follows from the node (downstream: those draining from it, each with its low end;
/// upstream: those draining into it, each with its high end) and the pipes of indeterminate
/// direction there (edge stored as `~e`), 8 bytes each. Per edge, one record of what the answer
/// shows (``Edge``, 40 bytes). Per point, one record in node order (rank, terminal kind,
/// number), and the numbers and terminal kinds again in number order, for large answers that
/// read them in that order. About 80 bytes per edge and 45 per point.
///
/// **Invariants.** Each pipe of known direction is listed once per direction (at its high node
/// downstream, at its low node upstream); each of indeterminate direction once at each distinct
/// end node, in both directions. ``idOrder`` and ``idRank`` are nil exactly when the edges are
/// already in ascending segment id order (the usual case: networks hold their pipes by id);
/// otherwise `idOrder` lists the edges by id and `idRank[idOrder[r]] == r`. Point ranks are
/// positions in (number, point index) order.
/// A class: a trace takes one reference to it, not one per array.
final class TraceTables: Sendable {
    /// One direction's links: node v's are `links[nodes[v].links & offset ..< nodes[v + 1].links
    /// & offset]`, and `nodes[v].links & stop` says a trace arriving at v ends there
    /// (downstream: an outfall or a pumping station; upstream: a pumping station). Its points
    /// are `points[nodes[v].points ..< nodes[v + 1].points]` of the tables.
    struct Links: Sendable {
        struct Node: Sendable {
            var links: UInt32
            var points: UInt32
        }
        struct Link: Sendable {
            /// The pipe, or `~edge` for one of indeterminate direction (not followed).
            var edge: Int32
            /// The node the pipe leads to.
            var next: Int32
        }
        static let stop: UInt32 = 1 << 31
        static let offset: UInt32 = stop - 1
        let nodes: [Node]
        let links: [Link]
    }

    /// What an answer shows of a pipe.
    struct Edge: Sendable {
        var segmentID: Int64
        var length: Double
        var displayID: String
        var flow: FlowDirection

        var traced: DrainageTrace.TracedPipe { .init(segmentID: segmentID, displayID: displayID, flow: flow, length: length) }
    }

    /// A point, in node order.
    struct PointEntry: Sendable {
        var rank: Int32
        var terminal: Bool
        var number: PointNumber
    }

    /// Each topology node's number in these tables: a depth-first order of the pipe graph
    /// rooted at the network's sinks (nodes no pipe drains from), so that what drains to a
    /// node lies mostly just after it and a trace reads runs of neighbouring entries.
    let place: [Int32]
    let downstream: Links
    let upstream: Links
    let edges: [Edge]
    let idOrder: [Int32]?
    let idRank: [Int32]?
    /// The topology's points grouped by table node.
    let points: [PointEntry]
    /// By rank.
    let pointNumbers: [PointNumber]
    /// By rank: whether the point is an outfall or a pumping station.
    let terminal: [Bool]

    /// O(m log m + p log p) at worst (the sorts; O(m + p log p) when edges are in id order).
    init(_ t: NetworkTopology) {
        let m = t.edgeCount, n = t.nodeCount
        var edges: [Edge] = []
        edges.reserveCapacity(m)
        var ascending = true
        for e in 0..<m {
            let s = t.segments[e]
            if e > 0, edges[e - 1].segmentID >= s.id { ascending = false }
            edges.append(Edge(segmentID: s.id, length: s.length, displayID: s.displayID, flow: FlowDirection(s)))
        }
        self.edges = edges
        if ascending {
            idOrder = nil
            idRank = nil
        } else {
            let order = (0..<Int32(m)).sorted { edges[Int($0)].segmentID < edges[Int($1)].segmentID }
            var rank = [Int32](repeating: 0, count: m)
            for (r, e) in order.enumerated() { rank[Int(e)] = Int32(r) }
            idOrder = order
            idRank = rank
        }
        // Table order: depth first over the undirected graph, from the sinks first (then any
        // node not yet placed), so an upstream catchment is nearly one run of the tables.
        var place = [Int32](repeating: -1, count: n), order: [Int32] = []
        order.reserveCapacity(n)
        var drains = [Bool](repeating: false, count: n)
        for e in 0..<m {
            switch edges[e].flow {
            case .forward: drains[Int(t.edgeFrom[e])] = true
            case .backward: drains[Int(t.edgeTo[e])] = true
            case .indeterminate: break
            }
        }
        var stack: [Int32] = []
        for pass in 0..<2 {
            for root in 0..<n where place[root] < 0 && (pass == 1 || !drains[root]) {
                stack.append(Int32(root))
                while let v = stack.popLast() {
                    guard place[Int(v)] < 0 else { continue }
                    place[Int(v)] = Int32(order.count)
                    order.append(v)
                    for k in Int(t.adjacencyStart[Int(v)])..<Int(t.adjacencyStart[Int(v) + 1]) {
                        let e = Int(t.adjacencyEdges[k])
                        let w = t.edgeFrom[e] == v ? t.edgeTo[e] : t.edgeFrom[e]
                        if place[Int(w)] < 0 { stack.append(w) }
                    }
                }
            }
        }
        self.place = place
        var pumps = [Bool](repeating: false, count: n), outfalls = [Bool](repeating: false, count: n)
        for (i, p) in t.points.enumerated() where t.pointNode[i] >= 0 {
            if p.kind == .pumpStation { pumps[Int(place[Int(t.pointNode[i])])] = true }
            if p.kind == .outfall { outfalls[Int(place[Int(t.pointNode[i])])] = true }
        }
        // Points grouped by table node.
        var pointStart = [UInt32](repeating: 0, count: n + 1)
        for u in 0..<n { pointStart[u + 1] = pointStart[u] + UInt32(t.pointIndices(at: Int(order[u])).count) }
        // Links by counting sort: per edge, the node it is listed at and the entry.
        func links(downstream: Bool) -> Links {
            var count = [UInt32](repeating: 0, count: n + 1)
            func each(_ body: (Int, Links.Link) -> Void) {
                for e in 0..<m {
                    let (a, b) = (place[Int(t.edgeFrom[e])], place[Int(t.edgeTo[e])])
                    switch edges[e].flow {
                    case .indeterminate:
                        body(Int(a), .init(edge: ~Int32(e), next: b))
                        if b != a { body(Int(b), .init(edge: ~Int32(e), next: a)) }
                    case .forward: downstream ? body(Int(a), .init(edge: Int32(e), next: b)) : body(Int(b), .init(edge: Int32(e), next: a))
                    case .backward: downstream ? body(Int(b), .init(edge: Int32(e), next: a)) : body(Int(a), .init(edge: Int32(e), next: b))
                    }
                }
            }
            each { v, _ in count[v + 1] += 1 }
            for v in 0..<n { count[v + 1] += count[v] }
            var fill = count
            var out = [Links.Link](repeating: .init(edge: 0, next: 0), count: Int(count[n]))
            each { v, l in
                out[Int(fill[v])] = l
                fill[v] += 1
            }
            let nodes = (0...n).map { v in
                let stop = v < n && (pumps[v] || (downstream && outfalls[v]))
                return Links.Node(links: count[v] | (stop ? Links.stop : 0), points: pointStart[v])
            }
            return Links(nodes: nodes, links: out)
        }
        downstream = links(downstream: true)
        upstream = links(downstream: false)

        let byNumber = (0..<Int32(t.points.count)).sorted {
            let a = t.points[Int($0)].number, b = t.points[Int($1)].number
            return a == b ? $0 < $1 : a < b
        }
        var rank = [Int32](repeating: 0, count: t.points.count)
        for (r, i) in byNumber.enumerated() { rank[Int(i)] = Int32(r) }
        func isTerminal(_ p: FeaturePoint) -> Bool { p.kind == .outfall || p.kind == .pumpStation }
        pointNumbers = byNumber.map { t.points[Int($0)].number }
        terminal = byNumber.map { isTerminal(t.points[Int($0)]) }
        points = order.flatMap { v in
            t.pointIndices(at: Int(v)).map { i in
                PointEntry(rank: rank[Int(i)], terminal: isTerminal(t.points[Int(i)]), number: t.points[Int(i)].number)
            }
        }
    }

    /// From how many of a universe's items a sorted answer is built through a bit set rather
    /// than by sorting: about where scanning `universe / 64` words costs what sorting k does.
    static func bitSetFrom(universe: Int) -> Int { max(64, universe / 1024) }

    /// Sorts `ranks`, distinct values in `0..<universe`: by comparison when there are few
    /// (``bitSetFrom(universe:)``), else through a bit set of the universe (O(k + universe /
    /// 64), no comparisons).
    static func sortRanks(_ ranks: inout [Int32], universe: Int) {
        guard ranks.count >= bitSetFrom(universe: universe) else {
            ranks.sort()
            return
        }
        var bits = [UInt64](repeating: 0, count: (universe + 63) / 64)
        for r in ranks { bits[Int(r) >> 6] |= 1 << UInt64(r & 63) }
        var k = 0
        for (w, word) in bits.enumerated() where word != 0 {
            var x = word
            while x != 0 {
                ranks[k] = Int32(w << 6 | x.trailingZeroBitCount)
                k += 1
                x &= x - 1
            }
        }
    }
}

/// Visit marks for ``DrainageTrace``, kept per topology and reused across its traces.
///
/// A trace takes a set under the lock (a new one when none is free) and gives it back when done,
/// so no two traces ever hold the same set: concurrent traces of a shared topology each work on
/// their own. Each take advances the set's stamp by 2 (a trace marks with the stamp and the one
/// above it), and marks below the stamp are stale, so a set is never zeroed but when the stamp
/// nears its wrap-around (once in 2^31 traces).
final class TraceMarksPool: @unchecked Sendable {
    struct Marks {
        var stamp: UInt32 = 0
        /// Nodes reached.
        var node: [UInt32]
        /// Pipes of indeterminate direction listed.
        var flagged: [UInt32]
    }

    /// Sets kept at most (one per trace running at once); more are dropped when given back.
    static let kept = 4
    private let lock = NSLock()
    private var free: [Marks] = []

    func take(nodes: Int, edges: Int) -> Marks {
        var m = lock.withLock { free.popLast() }
        if m == nil || m!.stamp >= UInt32.max - 4 {
            m = Marks(node: [UInt32](repeating: 0, count: nodes), flagged: [UInt32](repeating: 0, count: edges))
        }
        m!.stamp += 2
        return m!
    }

    func give(_ m: Marks) {
        lock.withLock { if free.count < Self.kept { free.append(m) } }
    }
}
