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
/// - Complexity: O(k log k) for the k nodes and pipes reached (each once; the answer is sorted).
///   The visit marks are generation-stamped arrays of the topology's size, allocated on a
///   topology's first trace and reused by later ones (``TraceMarksPool``), so no trace zeroes them.
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
        // Only the pipes met are looked at (directions, the answer): a small trace of a large
        // network costs what it reaches, not the whole layer. A direction is read once per pipe.
        // (Read inline, not through a local function: a captured array costs on every access.)
        // The marks are moved out of their set (a uniquely held array is written in place) and
        // back at the end; a mark counts when it equals this trace's stamp.
        var marks = t.traceMarks.take(nodes: t.nodeCount, edges: t.edgeCount)
        let stamp = marks.stamp
        var flows: [FlowDirection] = [], flowKnown: [UInt32] = [], reachedNode: [UInt32] = [], takenEdge: [UInt32] = []
        swap(&marks.flow, &flows)
        swap(&marks.flowKnown, &flowKnown)
        swap(&marks.node, &reachedNode)
        swap(&marks.taken, &takenEdge)
        var taken: [Int] = []
        var indeterminate = Set<Int>()
        var queue: [Int] = []
        func reach(_ v: Int) {
            guard reachedNode[v] != stamp else { return }
            reachedNode[v] = stamp
            queue.append(v)
        }
        for s in starts {
            switch s {
            case .node(let v):
                reach(v)
            case .edge(let e):
                if takenEdge[e] != stamp { taken.append(e) }
                takenEdge[e] = stamp
                let (up, down) = (Int(t.edgeFrom[e]), Int(t.edgeTo[e]))
                let f = flowKnown[e] == stamp ? flows[e] : FlowDirection(t.segments[e])
                flows[e] = f
                flowKnown[e] = stamp
                switch (f, direction) {
                case (.forward, .downstream), (.backward, .upstream): reach(down)
                case (.forward, .upstream), (.backward, .downstream): reach(up)
                case (.indeterminate, _):
                    indeterminate.insert(e)
                    reach(up)
                    reach(down)
                }
            }
        }
        let startNodes = Set(starts.compactMap { if case .node(let v) = $0 { v } else { nil } })
        var head = 0
        while head < queue.count {
            let v = queue[head]
            head += 1
            // A trace goes no further than a terminal it arrives at (a start is never cut short).
            if !startNodes.contains(v), Self.stops(t, v, direction) { continue }
            for k in t.edges(at: v) {
                let e = Int(k)
                let w = t.otherEnd(of: e, from: v)
                // The pipe's high (draining) and low ends.
                let high: Int, low: Int
                let f = flowKnown[e] == stamp ? flows[e] : FlowDirection(t.segments[e])
                flows[e] = f
                flowKnown[e] = stamp
                switch f {
                case .indeterminate:
                    indeterminate.insert(e)
                    continue
                case .forward: (high, low) = (Int(t.edgeFrom[e]), Int(t.edgeTo[e]))
                case .backward: (high, low) = (Int(t.edgeTo[e]), Int(t.edgeFrom[e]))
                }
                // Downstream follows pipes that leave v; upstream, pipes that enter it.
                guard (direction == .downstream ? high : low) == v, takenEdge[e] != stamp else { continue }
                takenEdge[e] = stamp
                taken.append(e)
                reach(w)
            }
        }
        // Pipes and nodes in index order, as a scan of the flags gives them (the sorts below are
        // much faster on the nearly sorted runs that gives); sorting the lists is cheaper for a
        // small trace.
        let edgeOrder = taken.count < t.edgeCount / 16 ? taken.sorted() : takenEdge.indices.filter { takenEdge[$0] == stamp }
        let nodeOrder = queue.count < t.nodeCount / 16 ? queue.sorted() : reachedNode.indices.filter { reachedNode[$0] == stamp }
        let flowOf = edgeOrder.map { flows[$0] }
        // Swapped back, not copied: the set given back is then held by the pool alone.
        swap(&marks.flow, &flows)
        swap(&marks.flowKnown, &flowKnown)
        swap(&marks.node, &reachedNode)
        swap(&marks.taken, &takenEdge)
        t.traceMarks.give(marks)
        pipes = zip(edgeOrder, flowOf)
            .map { e, f in TracedPipe(segmentID: t.segments[e].id, displayID: t.segments[e].displayID, flow: f, length: t.segments[e].length) }
            .sorted { $0.segmentID < $1.segmentID }
        length = pipes.reduce(0) { $0 + $1.length }
        var pts: [PointNumber] = [], ends: [PointNumber] = []
        for v in nodeOrder {
            for i in t.pointIndices(at: v) {
                let p = t.points[Int(i)]
                pts.append(p.number)
                if p.kind == .outfall || p.kind == .pumpStation { ends.append(p.number) }
            }
        }
        points = pts.sorted()
        terminals = ends.sorted()
        indeterminatePipes = indeterminate.map { t.segments[$0].id }.sorted()
    }

    /// Whether a trace arriving at `v` ends there: downstream at an outfall or pumping station,
    /// upstream at a pumping station.
    static func stops(_ t: NetworkTopology, _ v: Int, _ direction: TraceDirection) -> Bool {
        t.pointIndices(at: v).contains {
            let k = t.points[Int($0)].kind
            return k == .pumpStation || (direction == .downstream && k == .outfall)
        }
    }
}

/// Visit marks for ``DrainageTrace``, kept per topology and reused across its traces.
///
/// A trace takes a set under the lock (a new one when none is free) and gives it back when done,
/// so no two traces ever hold the same set: concurrent traces of a shared topology each work on
/// their own. A mark is current when it equals the set's stamp, which each take advances, so a
/// set is never zeroed but on the stamp's wrap-around (once in 2^32 traces).
final class TraceMarksPool: @unchecked Sendable {
    struct Marks {
        var stamp: UInt32 = 0
        /// Nodes reached.
        var node: [UInt32]
        /// Pipes taken.
        var taken: [UInt32]
        /// Pipes whose direction is in ``flow``.
        var flowKnown: [UInt32]
        var flow: [FlowDirection]
    }

    /// Sets kept at most (one per trace running at once); more are dropped when given back.
    static let kept = 4
    private let lock = NSLock()
    private var free: [Marks] = []

    func take(nodes: Int, edges: Int) -> Marks {
        var m = lock.withLock { free.popLast() }
        if m == nil || m!.stamp == .max {
            m = Marks(
                node: [UInt32](repeating: 0, count: nodes), taken: [UInt32](repeating: 0, count: edges),
                flowKnown: [UInt32](repeating: 0, count: edges), flow: [FlowDirection](repeating: .indeterminate, count: edges))
        }
        m!.stamp += 1
        return m!
    }

    func give(_ m: Marks) {
        lock.withLock { if free.count < Self.kept { free.append(m) } }
    }
}
