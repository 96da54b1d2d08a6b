import Foundation
import SubterraGeometry
import SubterraModel

/// The pipe graph of one layer (or one gas pressure system): nodes where pipe ends meet, edges
/// the pipes, and the survey points (valves, sources, service connections) attached to nodes.
///
/// **Building.** Every segment of the scope is an edge. Its two plan ends are snapped: two ends
/// lie on one node exactly when a chain of ends joins them in which consecutive ends are at
/// most ``tolerance`` metres apart (single-linkage, so the result does not depend on input
/// order; `dx² + dy² <= tolerance²`, tolerance 0 joins equal coordinates only). Pipes that
/// merely cross are not joined: only ends are snapped. Each survey point of the scope's layer
/// is then attached to the node of the nearest segment end within the tolerance (ties: the
/// earlier end); a point farther than that from every end is *unattached*
/// (``unattachedPoints``; the quality report says which of them lie on a pipe).
///
/// **Layout.** Compact arrays: edge `e` runs from ``edgeFrom``[e] to ``edgeTo``[e] and is
/// ``segments``[e]; the edges at node `v` are `adjacencyEdges[adjacencyStart[v] ..<
/// adjacencyStart[v + 1]]` (CSR; a self-loop appears twice); the points at node `v` are
/// `nodePointIndices[nodePointStart[v] ..< nodePointStart[v + 1]]`, indices into ``points``.
/// Nodes are numbered in the order their first end appears (edge 0 start, edge 0 end, edge 1
/// start, …), so a build is deterministic.
///
/// **Invariants.** `edgeFrom.count == edgeTo.count == segments.count`;
/// `adjacencyStart.count == nodeCount + 1`, non-decreasing, ending at `2 * edgeCount`; every
/// node has at least one edge (nodes come from segment ends); ``pointNode``[i] is a node or -1.
///
/// - Complexity: building is O((m + p) log m) for m segments and p points (sorting ends into
///   grid cells of side `max(tolerance, 1 mm)`; each end compares with the ends of its 3 × 3
///   cells), plus the vertex count for lengths. Memory O(m + p).
public struct NetworkTopology: Sendable {
    /// Which pipes make up a topology: one layer, optionally one gas pressure class.
    public struct Scope: Hashable, Sendable, Codable, CustomStringConvertible {
        public var layer: LayerCode
        /// Only segments in this pressure class (gas: each pressure system is its own network,
        /// joined through regulator stations). Points not attached to one of its pipes are
        /// left out of such a topology rather than reported as unattached.
        public var gasPressureClass: GasPressureClass?

        public init(layer: LayerCode, gasPressureClass: GasPressureClass? = nil) {
            self.layer = layer
            self.gasPressureClass = gasPressureClass
        }

        /// Whether `s` is one of the scope's pipes.
        public func contains(_ s: PipeSegment) -> Bool {
            s.layer == layer && (gasPressureClass.map { s.gasPressureClass == $0 } ?? true)
        }

        public var description: String { layer.rawValue + (gasPressureClass.map { " (\($0.rawValue))" } ?? "") }
    }

    public let scope: Scope
    /// The snapping tolerance in metres.
    public let tolerance: Double
    /// The pipes, one per edge, in the network's order.
    public let segments: [PipeSegment]
    /// Start node of each edge (the node of the segment's first plan point).
    public let edgeFrom: [Int32]
    /// End node of each edge.
    public let edgeTo: [Int32]
    /// CSR offsets into ``adjacencyEdges``, `nodeCount + 1` entries.
    public let adjacencyStart: [Int32]
    /// Edge indices grouped by node.
    public let adjacencyEdges: [Int32]
    /// Each node's position: the first segment end snapped to it.
    public let nodePositions: [Point]
    /// The scope's survey points: attached ones and, for a whole-layer scope, unattached ones.
    public let points: [FeaturePoint]
    /// The node each point is attached to, or -1.
    public let pointNode: [Int32]
    /// CSR offsets into ``nodePointIndices``, `nodeCount + 1` entries.
    public let nodePointStart: [Int32]
    /// Point indices grouped by node, in point order.
    public let nodePointIndices: [Int32]
    /// Connected component of each node (ignoring valve states), numbered from 0 in node order.
    public let componentOfNode: [Int32]
    /// How many connected components there are.
    public let componentCount: Int

    private let edgeIndexBySegmentID: [Int64: Int32]
    private let pointIndexByNumber: [PointNumber: Int32]
    /// Visit marks reused by traces of this topology (each trace holds its own set).
    let traceMarks = TraceMarksPool()
    /// Flow, ends, ids and stops as flat arrays for traces (``TraceTables``), built on the first
    /// trace.
    let traceTables = BuiltOnce<TraceTables>()
    /// The valve-segment graph isolation plans search for supply (``SupplyGraph``) and the supply
    /// before any break (``SupplyTree``), built on the first plan (about 80 ms at 10^6 segments).
    let supplyGraph = BuiltOnce<(graph: SupplyGraph, tree: SupplyTree)>()

    public var nodeCount: Int { nodePositions.count }
    public var edgeCount: Int { segments.count }

    /// Builds the topology of `scope` from `network`.
    ///
    /// - Parameter tolerance: snapping distance in metres, finite, 0...100.
    /// - Throws: ``NetworkError`` for a bad tolerance or a scope with no segments.
    /// - Complexity: see the type.
    public init(network: UtilityNetwork, scope: Scope, tolerance: Double = 0.05) throws(NetworkError) {
        try self.init(segments: network.segments, points: network.points, scope: scope, tolerance: tolerance)
    }

    /// Builds the topology of `scope` from segments and points (those outside the scope are
    /// skipped). See ``init(network:scope:tolerance:)``.
    public init(
        segments allSegments: [PipeSegment], points allPoints: [FeaturePoint], scope: Scope, tolerance: Double = 0.05
    ) throws(NetworkError) {
        guard tolerance.isFinite, tolerance >= 0, tolerance <= 100 else {
            throw NetworkError("snapping tolerance \(tolerance) m must be finite, 0...100 m", at: "tolerance")
        }
        let segs = allSegments.filter(scope.contains)
        guard !segs.isEmpty else {
            throw NetworkError("no pipes in layer \(scope)", at: "scope")
        }
        guard segs.count < Int(Int32.max) / 2 else {
            throw NetworkError("\(segs.count) pipes exceed the topology's 32-bit node numbering", at: "scope")
        }
        self.scope = scope
        self.tolerance = tolerance
        self.segments = segs

        // Ends: 2e = start of edge e, 2e + 1 = its end.
        var ends: [Point] = []
        ends.reserveCapacity(segs.count * 2)
        for s in segs {
            ends.append(s.start)
            ends.append(s.end)
        }
        let grid = EndGrid(ends, tolerance: tolerance)
        let root = grid.clusters()
        // Nodes in order of first appearance.
        var nodeOfRoot = [Int32](repeating: -1, count: ends.count)
        var positions: [Point] = []
        var endNode = [Int32](repeating: 0, count: ends.count)
        for i in ends.indices {
            let r = Int(root[i])
            if nodeOfRoot[r] < 0 {
                nodeOfRoot[r] = Int32(positions.count)
                positions.append(ends[i])
            }
            endNode[i] = nodeOfRoot[r]
        }
        let n = positions.count
        var from = [Int32](repeating: 0, count: segs.count)
        var to = [Int32](repeating: 0, count: segs.count)
        for e in segs.indices {
            from[e] = endNode[2 * e]
            to[e] = endNode[2 * e + 1]
        }
        // End 2e and 2e + 1 both list edge e at their node.
        let (start, adjacency) = Self.group(endNode, nodeCount: n) { Int32($0 / 2) }
        edgeFrom = from
        edgeTo = to
        adjacencyStart = start
        adjacencyEdges = adjacency
        nodePositions = positions

        // Points: attach to the node of the nearest end within the tolerance.
        var pts: [FeaturePoint] = []
        var ptNode: [Int32] = []
        for p in allPoints where p.layer == scope.layer {
            let node: Int32 = grid.nearestEnd(to: p.position).map { endNode[$0] } ?? -1
            if node < 0, scope.gasPressureClass != nil { continue }
            pts.append(p)
            ptNode.append(node)
        }
        let (pStart, pIndices) = Self.group(ptNode, nodeCount: n) { Int32($0) }
        points = pts
        pointNode = ptNode
        nodePointStart = pStart
        nodePointIndices = pIndices

        // Components by BFS over the CSR.
        var comp = [Int32](repeating: -1, count: n)
        var count: Int32 = 0
        var stack: [Int32] = []
        for s in 0..<n where comp[s] < 0 {
            comp[s] = count
            stack.append(Int32(s))
            while let v = stack.popLast() {
                for k in Int(start[Int(v)])..<Int(start[Int(v) + 1]) {
                    let e = Int(adjacency[k])
                    let w = from[e] == v ? to[e] : from[e]
                    if comp[Int(w)] < 0 {
                        comp[Int(w)] = count
                        stack.append(w)
                    }
                }
            }
            count += 1
        }
        componentOfNode = comp
        componentCount = Int(count)

        var byID: [Int64: Int32] = [:]
        byID.reserveCapacity(segs.count)
        for (e, s) in segs.enumerated() { byID[s.id] = Int32(e) }
        edgeIndexBySegmentID = byID
        var byNumber: [PointNumber: Int32] = [:]
        byNumber.reserveCapacity(pts.count)
        for (i, p) in pts.enumerated() where byNumber[p.number] == nil { byNumber[p.number] = Int32(i) }
        pointIndexByNumber = byNumber
    }

    /// Groups entries by node in CSR form: entry `i` with `nodes[i] >= 0` lists `item(i)` at
    /// that node, in entry order; negative nodes are skipped. Returns the `nodeCount + 1`
    /// offsets and the items. O(entries + nodeCount), by counting sort.
    private static func group(_ nodes: [Int32], nodeCount n: Int, item: (Int) -> Int32) -> ([Int32], [Int32]) {
        var start = [Int32](repeating: 0, count: n + 1)
        for v in nodes where v >= 0 { start[Int(v) + 1] += 1 }
        for v in 0..<n { start[v + 1] += start[v] }
        var fill = Array(start.dropLast())
        var items = [Int32](repeating: 0, count: Int(start[n]))
        for (i, v) in nodes.enumerated() where v >= 0 {
            items[Int(fill[Int(v)])] = item(i)
            fill[Int(v)] += 1
        }
        return (start, items)
    }

    // MARK: Lookups

    /// The edge of the segment with `id`, or nil when it is not in the scope. O(1).
    public func edge(segmentID id: Int64) -> Int? { edgeIndexBySegmentID[id].map(Int.init) }

    /// The index into ``points`` of the point numbered `number`, or nil. O(1).
    public func pointIndex(number: PointNumber) -> Int? { pointIndexByNumber[number].map(Int.init) }

    /// The edges at `node`, each once per end there. O(degree).
    public func edges(at node: Int) -> ArraySlice<Int32> {
        adjacencyEdges[Int(adjacencyStart[node])..<Int(adjacencyStart[node + 1])]
    }

    /// How many edge ends meet at `node` (a self-loop counts twice). O(1).
    public func degree(of node: Int) -> Int { Int(adjacencyStart[node + 1] - adjacencyStart[node]) }

    /// The node at the other end of edge `e` from `node`. O(1).
    @inline(__always)
    public func otherEnd(of e: Int, from node: Int) -> Int {
        Int(edgeFrom[e]) == node ? Int(edgeTo[e]) : Int(edgeFrom[e])
    }

    /// Indices into ``points`` of the points attached to `node`. O(points there).
    public func pointIndices(at node: Int) -> ArraySlice<Int32> {
        nodePointIndices[Int(nodePointStart[node])..<Int(nodePointStart[node + 1])]
    }

    /// The isolation valve at `node`: the first attached point (in point order) whose kind is
    /// an isolation valve, or nil. O(points there).
    public func valve(at node: Int) -> FeaturePoint? {
        for i in pointIndices(at: node) where points[Int(i)].kind.isIsolationValve { return points[Int(i)] }
        return nil
    }

    /// Whether a source (plant, regulator or pumping station) is attached to `node`.
    public func isSource(_ node: Int) -> Bool { pointIndices(at: node).contains { points[Int($0)].kind.isSource } }

    /// Indices into ``points`` of the unattached points, in point order. O(p).
    public var unattachedPoints: [Int] { pointNode.indices.filter { pointNode[$0] < 0 } }

    /// The edge nearest to `p` in plan (distance to the polyline; ties: the lower edge index)
    /// with that distance, or nil for an empty topology. O(vertices) — a linear scan, meant for
    /// one look-up per command.
    public func nearestEdge(to p: Point) -> (edge: Int, distance: Double)? {
        var best: (Int, Double)?
        for (e, s) in segments.enumerated() {
            let d = planDistance(p, s.geometry)
            if best == nil || d < best!.1 { best = (e, d) }
        }
        return best
    }
}

/// Plan distance from `p` to a polyline. O(vertices).
func planDistance(_ p: Point, _ line: LineString) -> Double {
    let pts = line.points
    var best = Double.infinity
    if pts.count == 1 { return ((p.x - pts[0].x) * (p.x - pts[0].x) + (p.y - pts[0].y) * (p.y - pts[0].y)).squareRoot() }
    for i in 1..<pts.count {
        let a = pts[i - 1], b = pts[i]
        let dx = b.x - a.x, dy = b.y - a.y
        let len2 = dx * dx + dy * dy
        var u = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0
        u = min(max(u, 0), 1)
        let qx = a.x + u * dx - p.x, qy = a.y + u * dy - p.y
        best = min(best, qx * qx + qy * qy)
    }
    return best.squareRoot()
}

/// Segment ends sorted into square grid cells, for snapping without comparing all pairs.
///
/// Cells have side `max(tolerance, 0.001)` m, at least the tolerance, so every end within the
/// tolerance of another lies in one of the 3 × 3 cells around it.
struct EndGrid {
    let ends: [Point]
    let tolerance2: Double
    let cell: Double
    /// End indices sorted by cell.
    let order: [Int32]
    /// Cell → range in `order`.
    let ranges: [CellKey: Range<Int>]

    struct CellKey: Hashable {
        var x: Int64
        var y: Int64
    }

    init(_ ends: [Point], tolerance: Double) {
        self.ends = ends
        tolerance2 = tolerance * tolerance
        let side = max(tolerance, 0.001)
        cell = side
        let keys = ends.map { Self.key($0, side) }
        let sorted = ends.indices.sorted { (keys[$0].x, keys[$0].y, $0) < (keys[$1].x, keys[$1].y, $1) }
        order = sorted.map { Int32($0) }
        var r: [CellKey: Range<Int>] = [:]
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count, keys[sorted[j]] == keys[sorted[i]] { j += 1 }
            r[keys[sorted[i]]] = i..<j
            i = j
        }
        ranges = r
    }

    static func key(_ p: Point, _ cell: Double) -> CellKey {
        // Clamped so that a far-off coordinate cannot trap on conversion.
        func k(_ v: Double) -> Int64 { Int64(max(min((v / cell).rounded(.down), 4e18), -4e18)) }
        return CellKey(x: k(p.x), y: k(p.y))
    }

    @inline(__always)
    func within(_ a: Point, _ b: Point) -> Bool {
        let dx = a.x - b.x, dy = a.y - b.y
        return dx * dx + dy * dy <= tolerance2
    }

    /// Calls `body` with every end in the 3 × 3 cells around `p`.
    func forEachCandidate(near p: Point, _ body: (Int) -> Void) {
        let k = Self.key(p, cell)
        for dx in -1...1 {
            for dy in -1...1 {
                guard let r = ranges[CellKey(x: k.x &+ Int64(dx), y: k.y &+ Int64(dy))] else { continue }
                for i in r { body(Int(order[i])) }
            }
        }
    }

    /// The cluster root of each end (union-find with path halving; the root is the smallest end
    /// index of the cluster).
    func clusters() -> [Int32] {
        var sets = UnionFind(count: ends.count)
        for i in ends.indices {
            forEachCandidate(near: ends[i]) { j in
                guard j > i, within(ends[i], ends[j]) else { return }
                sets.union(i, j)
            }
        }
        return ends.indices.map { Int32(sets.find($0)) }
    }

    /// The end nearest to `p` within the tolerance (ties: the lower index), or nil.
    func nearestEnd(to p: Point) -> Int? {
        var best: (Int, Double)?
        forEachCandidate(near: p) { j in
            let dx = ends[j].x - p.x, dy = ends[j].y - p.y
            let d2 = dx * dx + dy * dy
            guard d2 <= tolerance2 else { return }
            if best == nil || d2 < best!.1 || (d2 == best!.1 && j < best!.0) { best = (j, d2) }
        }
        return best?.0
    }
}

/// A network build or query that cannot be answered: what and where.
public struct NetworkError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// What it concerns: `"tolerance"`, `"segment 12"`, `"point JS0012"`.
    public var location: String

    public init(_ message: String, at location: String) {
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): \(message)" }
}

/// A value derived from a topology, built on first use and kept (topologies are shared between
/// concurrent requests).
///
/// The build runs outside the lock, which guards only the stored value: callers that start at
/// once on a new topology may each build it (the first stored wins), but none blocks its thread
/// on the lock for a build's duration, so no cooperative thread waits behind a long build.
final class BuiltOnce<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var built: Value?

    /// The stored value, or `build()`'s, stored unless another caller stored one first.
    func value(_ build: () -> Value) -> Value {
        if let b = lock.withLock({ built }) { return b }
        let b = build()
        return lock.withLock {
            if let first = built { return first }
            built = b
            return b
        }
    }
}
