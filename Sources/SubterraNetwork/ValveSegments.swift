import SubterraModel

/// The valve segments of a network: every pipe labelled with the part that closing the valves
/// around it isolates, with each part's size and customers, and what each valve costs if it
/// will not close.
///
/// **Definition.** Nodes take the roles the isolation search (``IsolationPlan``) gives them:
/// a *boundary* node stops it — a source (plant, regulator or pumping station; checked first),
/// a valve a crew can close (open, or of unknown status taken as open) or a valve already
/// closed; every other node is *interior* — a plain node, or a valve that is inoperable or
/// inaccessible (it cannot be closed, so it bounds nothing). Two pipes are in one segment
/// exactly when a chain of pipes joins them in which consecutive pipes share an interior node.
/// So a segment is a connected part of the network once every boundary node is cut apart (each
/// pipe end at it kept on its own side), and isolating a break on any of its pipes takes exactly
/// that segment (the first pass of ``IsolationPlan``; see ``isolation(of:)``).
///
/// Boundary nodes belong to no segment (``segmentOfNode`` is -1): a valve node separates the
/// pipes that meet at it. A segment's customers are the service connections at its interior
/// nodes, so each connection counts in at most one segment; connections at a boundary node (a
/// valve or source and a connection snapped to one spot) are counted in
/// ``boundaryConnections`` only. These are the customers who lose supply whatever else happens;
/// an ``IsolationPlan`` for a break in the segment also counts customers farther on whose only
/// feed ran through it, which a segment table cannot know without a supply search per segment.
///
/// **Valve criticality** (``criticality()``), for every valve a crew can close: the segments at
/// its node (its *sides*, 1 or more distinct ones; a valve in a loop may see one segment on both
/// sides) merge when it fails, and its own node joins them. The *merged* figures are the sums
/// over the distinct sides plus the valve node's own connections. The *extra* figures are the
/// merged figure minus the smallest side's figure, taken per measure (pipes, length, customers):
/// the worst case over where the break was, since a break in the smallest side isolates only
/// that side when the valve works and the whole merge when it does not. A valve with one side
/// costs only the connections at its own node. WNTR's ratios (`valve_segment_attributes`:
/// `length_increase` and `demand_increase`, the merged figure over the largest side's, minus
/// 1, 0 when the sides are empty) are given as ``ValveCriticality/lengthIncrease`` and
/// ``ValveCriticality/customerIncrease``. Closed valves need no action and inoperable ones
/// cannot act, so neither has a criticality; sources are shut, not closed, and are left out too.
///
/// **Layout.** Compact arrays. Segments are numbered from 0 in the order of their first pipe.
/// The pipes of segment `s` are `segmentEdges[segmentEdgeStart[s] ..< segmentEdgeStart[s + 1]]`
/// (ascending edge order); its boundary nodes `boundaryNodes[boundaryStart[s] ..<
/// boundaryStart[s + 1]]` (ascending, each once); its inoperable or inaccessible valve nodes
/// `passedNodes[passedStart[s] ..< passedStart[s + 1]]` (ascending). Per-category customer
/// figures sit at `s * CustomerCategory.allCases.count + category.priority`.
///
/// - Complexity: building is O(n + m + p) for n nodes, m pipes and p points (one depth-first
///   search over the edges, crossing each interior node once, then counting sorts);
///   ``criticality()`` is O(n + m + v log v) for v valves; ``isolation(of:)`` is O(size of the part it
///   returns). Memory O(n + m).
public struct ValveSegments: Sendable {
    /// What a node is to the segmentation.
    public enum NodeRole: UInt8, Sendable, Hashable {
        /// A plain node (fitting, connection, pipe end): joins the pipes that meet there.
        case interior
        /// An inoperable or inaccessible valve: joins the pipes too, and the isolation passes it.
        case passedValve
        /// A valve a crew can close (open, or status unknown): bounds segments.
        case closableValve
        /// A valve already closed: bounds segments, needs no action.
        case closedValve
        /// A plant, regulator or pumping station: bounds segments; its feed must be shut.
        case source

        /// Whether the node bounds segments (and belongs to none).
        public var isBoundary: Bool { self == .closableValve || self == .closedValve || self == .source }
    }

    /// The topology the segments partition.
    public let topology: NetworkTopology
    /// How many segments there are.
    public let segmentCount: Int
    /// Segment of each edge.
    public let segmentOfEdge: [Int32]
    /// Segment of each interior node; -1 for boundary nodes.
    public let segmentOfNode: [Int32]
    /// Role of each node.
    public let nodeRole: [NodeRole]
    /// CSR offsets into ``segmentEdges``, `segmentCount + 1` entries.
    public let segmentEdgeStart: [Int32]
    /// Edge indices grouped by segment.
    public let segmentEdges: [Int32]
    /// CSR offsets into ``boundaryNodes``, `segmentCount + 1` entries.
    public let boundaryStart: [Int32]
    /// Boundary nodes grouped by segment.
    public let boundaryNodes: [Int32]
    /// CSR offsets into ``passedNodes``, `segmentCount + 1` entries.
    public let passedStart: [Int32]
    /// Inoperable or inaccessible valve nodes grouped by segment.
    public let passedNodes: [Int32]
    /// Plan length of each segment's pipes, metres.
    public let segmentLength: [Double]
    /// Volume of each segment's pipes with a section, m³.
    public let segmentVolume: [Double]
    /// Pipes of each segment without a section (not in its volume).
    public let segmentPipesWithoutSection: [Int32]
    /// Customers per segment and category (`s * categories + priority`).
    public let segmentCustomers: [Int32]
    /// Connection points per segment and category, same layout.
    public let segmentConnections: [Int32]
    /// Service connections at boundary nodes, in no segment's figures.
    public let boundaryConnections: Int

    private static let categories = CustomerCategory.allCases

    /// Segments `topology`.
    ///
    /// - Complexity: O(n + m + p); see the type.
    public init(_ topology: NetworkTopology) {
        let t = topology
        self.topology = t
        let n = t.nodeCount, m = t.edgeCount

        // Roles, in the isolation search's order of checks: source first, then the valve.
        var role = [NodeRole](repeating: .interior, count: n)
        for v in 0..<n {
            if t.isSource(v) {
                role[v] = .source
            } else if let valve = t.valve(at: v) {
                switch valve.valveStatus ?? .open {
                case .open: role[v] = .closableValve
                case .closed: role[v] = .closedValve
                case .inoperable, .inaccessible: role[v] = .passedValve
                }
            }
        }

        // Depth-first over edges from each unlabelled edge in ascending order, crossing interior
        // nodes only (each visited once), so segments are numbered by their first edge.
        var segOfEdge = [Int32](repeating: -1, count: m)
        var crossed = [Bool](repeating: false, count: n)
        var stack: [Int32] = []
        var count: Int32 = 0
        for e in 0..<m where segOfEdge[e] < 0 {
            segOfEdge[e] = count
            stack.append(Int32(e))
            while let f = stack.popLast() {
                for side in 0..<2 {
                    let v = Int(side == 0 ? t.edgeFrom[Int(f)] : t.edgeTo[Int(f)])
                    guard !crossed[v], !role[v].isBoundary else { continue }
                    crossed[v] = true
                    for g in t.edges(at: v) where segOfEdge[Int(g)] < 0 {
                        segOfEdge[Int(g)] = count
                        stack.append(g)
                    }
                }
            }
            count += 1
        }
        let s = Int(count)
        segmentCount = s
        segmentOfEdge = segOfEdge
        nodeRole = role

        var segOfNode = [Int32](repeating: -1, count: n)
        for v in 0..<n where !role[v].isBoundary {
            if let first = t.edges(at: v).first { segOfNode[v] = segOfEdge[Int(first)] }
        }
        segmentOfNode = segOfNode

        // Edges by segment (counting sort keeps ascending edge order).
        (segmentEdgeStart, segmentEdges) = Self.group(count: s, pairs: m) { i in (segOfEdge[i], Int32(i)) }

        // Boundary nodes by segment, each once: nodes in ascending order, a mark per segment.
        var pairs: [(Int32, Int32)] = []
        var mark = [Int32](repeating: -1, count: s)
        for v in 0..<n where role[v].isBoundary {
            for k in t.edges(at: v) {
                let g = Int(segOfEdge[Int(k)])
                if mark[g] != Int32(v) {
                    mark[g] = Int32(v)
                    pairs.append((Int32(g), Int32(v)))
                }
            }
        }
        (boundaryStart, boundaryNodes) = Self.group(count: s, pairs: pairs.count) { pairs[$0] }
        let passed = (0..<n).filter { role[$0] == .passedValve }
        (passedStart, passedNodes) = Self.group(count: s, pairs: passed.count) { i in (segOfNode[passed[i]], Int32(passed[i])) }

        var length = [Double](repeating: 0, count: s)
        var volume = [Double](repeating: 0, count: s)
        var noSection = [Int32](repeating: 0, count: s)
        for e in 0..<m {
            let g = Int(segOfEdge[e])
            let pipe = IsolationPlan.pipe(t.segments[e])
            length[g] += pipe.length
            if let v = pipe.volume { volume[g] += v } else { noSection[g] += 1 }
        }
        segmentLength = length
        segmentVolume = volume
        segmentPipesWithoutSection = noSection

        let c = Self.categories.count
        var customers = [Int32](repeating: 0, count: s * c)
        var connections = [Int32](repeating: 0, count: s * c)
        var atBoundary = 0
        for (i, p) in t.points.enumerated() {
            let v = Int(t.pointNode[i])
            guard let conn = p.connection, v >= 0 else { continue }
            let g = Int(segOfNode[v])
            if g < 0 {
                atBoundary += 1
                continue
            }
            customers[g * c + conn.category.priority] += Int32(clamping: conn.count)
            connections[g * c + conn.category.priority] += 1
        }
        segmentCustomers = customers
        segmentConnections = connections
        boundaryConnections = atBoundary
    }

    /// Groups `pairs` (group, item) by group in CSR form, items in pair order; pairs with a
    /// negative group are skipped. O(pairs + count), by counting sort.
    static func group(count n: Int, pairs: Int, _ pair: (Int) -> (Int32, Int32)) -> ([Int32], [Int32]) {
        var start = [Int32](repeating: 0, count: n + 1)
        for i in 0..<pairs {
            let g = pair(i).0
            if g >= 0 { start[Int(g) + 1] += 1 }
        }
        for g in 0..<n { start[g + 1] += start[g] }
        var fill = Array(start.dropLast())
        var items = [Int32](repeating: 0, count: Int(start[n]))
        for i in 0..<pairs {
            let (g, item) = pair(i)
            guard g >= 0 else { continue }
            items[Int(fill[Int(g)])] = item
            fill[Int(g)] += 1
        }
        return (start, items)
    }

    // MARK: Lookups

    /// The edges of segment `s`, ascending. O(1).
    public func edges(of s: Int) -> ArraySlice<Int32> {
        segmentEdges[Int(segmentEdgeStart[s])..<Int(segmentEdgeStart[s + 1])]
    }

    /// The boundary nodes of segment `s`, ascending. O(1).
    public func boundary(of s: Int) -> ArraySlice<Int32> {
        boundaryNodes[Int(boundaryStart[s])..<Int(boundaryStart[s + 1])]
    }

    /// The inoperable or inaccessible valve nodes inside segment `s`, ascending. O(1).
    public func passed(of s: Int) -> ArraySlice<Int32> {
        passedNodes[Int(passedStart[s])..<Int(passedStart[s + 1])]
    }

    /// Customers of segment `s` in all categories. O(categories).
    public func customerTotal(of s: Int) -> Int {
        let c = Self.categories.count
        return segmentCustomers[(s * c)..<(s * c + c)].reduce(0) { $0 + Int($1) }
    }

    /// The distinct segments at `node`, ascending: its own for an interior node, the ones it
    /// bounds for a boundary node. O(degree · log degree).
    public func segments(at node: Int) -> [Int] {
        Array(Set(topology.edges(at: node).map { Int(segmentOfEdge[Int($0)]) })).sorted()
    }

    /// The figures of segment `s` for a report.
    public func summary(_ s: Int) -> SegmentSummary {
        let t = topology
        let c = Self.categories.count
        var close: [PointNumber] = [], closed: [PointNumber] = [], sources: [PointNumber] = []
        for v in boundary(of: s) {
            let v = Int(v)
            switch nodeRole[v] {
            case .closableValve: close.append(t.valve(at: v)!.number)
            case .closedValve: closed.append(t.valve(at: v)!.number)
            case .source: sources += IsolationPlan.sourceNumbers(t, [v])
            case .interior, .passedValve: break
            }
        }
        let tallies = Self.categories.enumerated().compactMap { (k, category) -> CustomerTally? in
            let n = Int(segmentConnections[s * c + k])
            return n == 0 ? nil : CustomerTally(category: category, connections: n, customers: Int(segmentCustomers[s * c + k]))
        }
        return SegmentSummary(
            segment: s, pipes: Int(segmentEdgeStart[s + 1] - segmentEdgeStart[s]),
            pipeIDs: edges(of: s).map { t.segments[Int($0)].id }.sorted(), length: segmentLength[s],
            volume: segmentVolume[s], pipesWithoutSection: Int(segmentPipesWithoutSection[s]),
            valvesToClose: close.sorted(), closedValves: closed.sorted(), sourcesToShut: sources.sorted(),
            passedValves: passed(of: s).map { t.valve(at: Int($0))!.number }.sorted(),
            customers: tallies, customersTotal: tallies.reduce(0) { $0 + $1.customers })
    }

    /// Summaries of every segment, worst first: most customers, then longest, then by number.
    /// O(s log s + m).
    public func summariesWorstFirst() -> [SegmentSummary] {
        (0..<segmentCount).map(summary).sorted {
            ($1.customersTotal, $1.length, $0.segment) < ($0.customersTotal, $0.length, $1.segment)
        }
    }

    // MARK: Isolation fast path

    /// The first pass of ``IsolationPlan`` read off the segments: for a break on a pipe, its
    /// segment; for a break at a node, every segment at the node (the node itself cannot hold,
    /// so it is neither closed nor passed; a source there must still be shut).
    ///
    /// Equal, as sets, to the valves, pipes and sources of ``IsolationPlan`` for the same break.
    ///
    /// - Throws: ``NetworkError`` for an edge or node outside the topology.
    /// - Complexity: O(pipes and boundary of the segments returned), plus the degree for a node.
    public func isolation(of location: BreakLocation) throws(NetworkError) -> SegmentIsolation {
        let t = topology
        let parts: [Int]
        var except = -1
        switch location {
        case .edge(let e):
            guard e >= 0, e < t.edgeCount else { throw NetworkError("no pipe \(e) in a topology of \(t.edgeCount)", at: "break") }
            parts = [Int(segmentOfEdge[e])]
        case .node(let v):
            guard v >= 0, v < t.nodeCount else { throw NetworkError("no node \(v) in a topology of \(t.nodeCount)", at: "break") }
            parts = segments(at: v)
            if nodeRole[v] != .source { except = v }
        }
        var out = SegmentIsolation(segments: parts)
        var seen = Set<Int>()
        for s in parts {
            out.edges += edges(of: s).map(Int.init)
            for v in boundary(of: s) where Int(v) != except && seen.insert(Int(v)).inserted {
                switch nodeRole[Int(v)] {
                case .closableValve: out.valvesToClose.append(Int(v))
                case .closedValve: out.closedBarriers.append(Int(v))
                case .source: out.sources.append(Int(v))
                case .interior, .passedValve: break
                }
            }
            out.passedValves += passed(of: s).map(Int.init).filter { $0 != except }
        }
        if parts.count > 1 {
            out.edges.sort()
            out.passedValves.sort()
        }
        out.valvesToClose.sort()
        out.closedBarriers.sort()
        out.sources.sort()
        return out
    }

    // MARK: Valve criticality

    /// What each valve a crew can close costs if it will not: see the type for the definition.
    /// Worst first: most extra customers, then most extra length, then by valve number.
    ///
    /// - Complexity: O(n + m + v log v) for v valves.
    public func criticality() -> [ValveCriticality] {
        let t = topology
        let c = Self.categories.count
        var out: [ValveCriticality] = []
        var mark = [Int32](repeating: -1, count: segmentCount)
        for v in 0..<t.nodeCount where nodeRole[v] == .closableValve {
            var sides: [Int] = []
            for k in t.edges(at: v) {
                let g = Int(segmentOfEdge[Int(k)])
                if mark[g] != Int32(v) {
                    mark[g] = Int32(v)
                    sides.append(g)
                }
            }
            sides.sort()
            // The valve node's own connections join the merge.
            var own = [Int](repeating: 0, count: c)
            var ownConnections = [Int](repeating: 0, count: c)
            for i in t.pointIndices(at: v) {
                if let conn = t.points[Int(i)].connection {
                    own[conn.category.priority] += conn.count
                    ownConnections[conn.category.priority] += 1
                }
            }
            var pipes = 0, length = 0.0, volume = 0.0
            var customers = own, connections = ownConnections
            var minPipes = Int.max, minLength = Double.infinity, minCustomers = Int.max
            var maxLength = 0.0, maxCustomers = 0
            for g in sides {
                let p = Int(segmentEdgeStart[g + 1] - segmentEdgeStart[g])
                let total = customerTotal(of: g)
                pipes += p
                length += segmentLength[g]
                volume += segmentVolume[g]
                for k in 0..<c {
                    customers[k] += Int(segmentCustomers[g * c + k])
                    connections[k] += Int(segmentConnections[g * c + k])
                }
                minPipes = min(minPipes, p)
                minLength = min(minLength, segmentLength[g])
                minCustomers = min(minCustomers, total)
                maxLength = max(maxLength, segmentLength[g])
                maxCustomers = max(maxCustomers, total)
            }
            let total = customers.reduce(0, +)
            let valve = t.valve(at: v)!
            out.append(ValveCriticality(
                valve: valve.number, position: [valve.position.x, valve.position.y], status: valve.valveStatus, node: v,
                sides: sides, mergedPipes: pipes, mergedLength: length, mergedVolume: volume,
                mergedCustomers: Self.categories.enumerated().compactMap { k, category in
                    connections[k] == 0 ? nil : CustomerTally(category: category, connections: connections[k], customers: customers[k])
                },
                mergedCustomersTotal: total,
                extraPipes: pipes - minPipes, extraLength: length - minLength, extraCustomers: total - minCustomers,
                lengthIncrease: maxLength > 0 ? length / maxLength - 1 : 0,
                customerIncrease: maxCustomers > 0 ? Double(total) / Double(maxCustomers) - 1 : 0))
        }
        return out.sorted {
            ($1.extraCustomers, $1.extraLength, $0.valve) < ($0.extraCustomers, $0.extraLength, $1.valve)
        }
    }
}

/// The first isolation pass for a break, from ``ValveSegments/isolation(of:)``: node and edge
/// indices of the topology, each list ascending.
public struct SegmentIsolation: Hashable, Sendable {
    /// The segments isolated (one for a pipe break).
    public var segments: [Int]
    /// Isolated edges.
    public var edges: [Int] = []
    /// Nodes of valves to close.
    public var valvesToClose: [Int] = []
    /// Nodes of closed valves bounding the part.
    public var closedBarriers: [Int] = []
    /// Nodes of inoperable or inaccessible valves inside.
    public var passedValves: [Int] = []
    /// Source nodes on the boundary (or broken).
    public var sources: [Int] = []

    public init(segments: [Int]) { self.segments = segments }
}

/// One segment's figures.
public struct SegmentSummary: Hashable, Sendable, Codable {
    /// Segment number (``ValveSegments/segmentOfEdge``).
    public var segment: Int
    public var pipes: Int
    /// The pipes' segment ids, ascending.
    public var pipeIDs: [Int64]
    /// Plan length, metres.
    public var length: Double
    /// m³, pipes with a section only.
    public var volume: Double
    public var pipesWithoutSection: Int
    /// Valves that isolate it (open or status unknown).
    public var valvesToClose: [PointNumber]
    /// Closed valves bounding it.
    public var closedValves: [PointNumber]
    /// Sources on its boundary, to shut.
    public var sourcesToShut: [PointNumber]
    /// Inoperable or inaccessible valves inside it.
    public var passedValves: [PointNumber]
    /// Connections at its interior nodes, by category, hospitals first; empty ones left out.
    public var customers: [CustomerTally]
    public var customersTotal: Int
}

/// What one valve failing to close costs (``ValveSegments/criticality()``).
public struct ValveCriticality: Hashable, Sendable, Codable {
    public var valve: PointNumber
    public var position: [Double]
    /// As recorded; nil when unknown (taken as open).
    public var status: ValveStatus?
    public var node: Int
    /// The distinct segments at the valve, ascending.
    public var sides: [Int]
    /// Sums over the sides.
    public var mergedPipes: Int
    public var mergedLength: Double
    public var mergedVolume: Double
    /// Over the sides and the valve's own node, by category, hospitals first.
    public var mergedCustomers: [CustomerTally]
    public var mergedCustomersTotal: Int
    /// Merged minus the smallest side, per measure.
    public var extraPipes: Int
    public var extraLength: Double
    public var extraCustomers: Int
    /// WNTR's `length_increase`: merged length over the longest side's, minus 1 (0 if none).
    public var lengthIncrease: Double
    /// WNTR's `demand_increase` with customers for demand: merged customers over the largest
    /// side's, minus 1 (0 if none).
    public var customerIncrease: Double
}
