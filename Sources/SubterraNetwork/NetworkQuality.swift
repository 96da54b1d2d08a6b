import SubterraGeometry
import SubterraIndex
import SubterraModel

/// What is wrong with a network's topology, as a planner must know before trusting an isolation.
///
/// - ``components``: the connected parts (largest first). More than one usually means a gap the
///   snapping tolerance did not bridge, or a part fed from another layer's data.
/// - ``danglingEnds``: nodes where exactly one pipe end lies and no survey point explains it
///   (a cap, a service connection, a hydrant would): an undershoot, overshoot or missing pipe.
/// - ``valvesOffNode`` and ``valvesNotOnPipe``: valves attached to no node. The first lie within
///   the tolerance of a pipe, between its ends: the survey did not split the pipe there, so the
///   valve cannot act as a barrier (isolation ignores it, which over-isolates). The second are
///   farther than the tolerance from every pipe of the scope.
/// - ``connectionsOffNetwork``: service connections attached to no node: an isolation never
///   counts their customers, so a planner must know they are missing.
/// - ``uphillDrainage`` (drainage layer): pipes whose invert rises from start to end. The model
///   holds inverts (a surveyed bottom elevation, or top − section height) but no flow-direction
///   attribute, so the survey's start → end order is taken as the stated direction (CJJ 61 tables
///   record drainage lines downstream); ``drainageWithoutInverts`` counts pipes that cannot be
///   checked.
public struct NetworkQualityReport: Hashable, Sendable, Codable {
    /// One connected component.
    public struct Component: Hashable, Sendable, Codable {
        public var nodes: Int
        public var pipes: Int
        /// Plan length of its pipes, metres.
        public var length: Double
        /// Whether a source (plant, regulator or pumping station) is attached to it.
        public var hasSource: Bool
    }

    /// A node with one pipe end and no survey point.
    public struct DanglingEnd: Hashable, Sendable, Codable {
        public var node: Int
        public var position: [Double]
        /// The one pipe ending there.
        public var segmentID: Int64
    }

    /// A valve attached to no node.
    public struct LooseValve: Hashable, Sendable, Codable {
        public var number: PointNumber
        public var position: [Double]
        /// The nearest pipe of the scope and the plan distance to it (metres).
        public var nearestSegmentID: Int64?
        public var distance: Double?
    }

    /// A drainage pipe whose invert rises along its start → end direction.
    public struct UphillPipe: Hashable, Sendable, Codable {
        public var segmentID: Int64
        public var startInvert: Double
        public var endInvert: Double
        /// `endInvert − startInvert`, > 0.
        public var rise: Double
    }

    public var scope: NetworkTopology.Scope
    public var tolerance: Double
    public var nodes: Int
    public var pipes: Int
    /// Largest first (pipes, then nodes); ties in component order.
    public var components: [Component]
    public var danglingEnds: [DanglingEnd]
    public var valvesOffNode: [LooseValve]
    public var valvesNotOnPipe: [LooseValve]
    /// Points with customers (``FeaturePoint/connection``) attached to no node, by number.
    public var connectionsOffNetwork: [PointNumber]
    /// Empty unless the scope is the drainage layer `PS`.
    public var uphillDrainage: [UphillPipe]
    /// Drainage pipes without an invert at both ends (not checked).
    public var drainageWithoutInverts: Int
    /// What the model lacks for the drainage check, in words; nil for other layers.
    public var drainageNote: String?

    /// One line for people: what was found, counted.
    public var summary: String {
        var parts = ["\(components.count) component\(components.count == 1 ? "" : "s")", "\(danglingEnds.count) dangling end\(danglingEnds.count == 1 ? "" : "s")"]
        parts.append("\(valvesOffNode.count + valvesNotOnPipe.count) valve\(valvesOffNode.count + valvesNotOnPipe.count == 1 ? "" : "s") off the pipe ends (ignored as barriers)")
        parts.append("\(connectionsOffNetwork.count) connection\(connectionsOffNetwork.count == 1 ? "" : "s") off the network (not counted)")
        if scope.layer == .drainage { parts.append("\(uphillDrainage.count) drainage pipes rising against their direction") }
        return parts.joined(separator: ", ")
    }

    /// Checks `topology`.
    ///
    /// - Complexity: O(n + m + v log m) for n nodes, m pipes and v unattached valves (a packed
    ///   R-tree over pipe boxes finds the pipes near each loose valve).
    public init(_ topology: NetworkTopology) {
        let t = topology
        scope = t.scope
        tolerance = t.tolerance
        nodes = t.nodeCount
        pipes = t.edgeCount
        var comps = [Component](repeating: Component(nodes: 0, pipes: 0, length: 0, hasSource: false), count: t.componentCount)
        for v in 0..<t.nodeCount {
            let c = Int(t.componentOfNode[v])
            comps[c].nodes += 1
            if t.isSource(v) { comps[c].hasSource = true }
        }
        for (e, s) in t.segments.enumerated() {
            let c = Int(t.componentOfNode[Int(t.edgeFrom[e])])
            comps[c].pipes += 1
            comps[c].length += s.length
        }
        components = comps.enumerated().sorted {
            ($0.element.pipes, $0.element.nodes, -$0.offset) > ($1.element.pipes, $1.element.nodes, -$1.offset)
        }.map(\.element)

        danglingEnds = (0..<t.nodeCount).compactMap { v in
            guard t.degree(of: v) == 1, t.pointIndices(at: v).isEmpty else { return nil }
            let p = t.nodePositions[v]
            return DanglingEnd(node: v, position: [p.x, p.y], segmentID: t.segments[Int(t.edges(at: v).first!)].id)
        }

        var off: [LooseValve] = [], notOn: [LooseValve] = []
        let loose = t.unattachedPoints.filter { t.points[$0].kind.isIsolationValve }
        if !loose.isEmpty {
            let boxes = t.segments.map { s -> Box in
                let e = s.geometry.envelope
                return Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY)
            }
            let tree = try? PackedRTree(boxes: boxes)
            for i in loose {
                let p = t.points[i]
                var near: (Int, Double)?
                // Pipes within the tolerance first (the question asked), then the nearest at all.
                tree?.forEachIntersecting(Box(x: p.position.x, y: p.position.y).expanded(by: t.tolerance)) { id, _ in
                    let d = planDistance(p.position, t.segments[Int(id)].geometry)
                    if near == nil || d < near!.1 || (d == near!.1 && Int(id) < near!.0) { near = (Int(id), d) }
                    return .continue
                }
                if let (e, d) = near, d <= t.tolerance {
                    off.append(LooseValve(number: p.number, position: [p.position.x, p.position.y], nearestSegmentID: t.segments[e].id, distance: d))
                } else {
                    let n = t.nearestEdge(to: p.position)
                    notOn.append(LooseValve(
                        number: p.number, position: [p.position.x, p.position.y],
                        nearestSegmentID: n.map { t.segments[$0.edge].id }, distance: n?.distance))
                }
            }
        }
        valvesOffNode = off
        valvesNotOnPipe = notOn
        connectionsOffNetwork = t.unattachedPoints.filter { t.points[$0].connection != nil }.map { t.points[$0].number }

        var uphill: [UphillPipe] = []
        var unchecked = 0
        if t.scope.layer == .drainage {
            for s in t.segments {
                guard let a = s.startInvert, let b = s.endInvert else {
                    unchecked += 1
                    continue
                }
                if b > a { uphill.append(UphillPipe(segmentID: s.id, startInvert: a, endInvert: b, rise: b - a)) }
            }
            drainageNote = "the model holds no flow-direction attribute: the survey's start-to-end order is taken as the stated flow direction"
        } else {
            drainageNote = nil
        }
        uphillDrainage = uphill
        drainageWithoutInverts = unchecked
    }

    /// Whether nothing was found: one component, no dangling ends, no loose valves or
    /// connections, no uphill pipes.
    public var isClean: Bool {
        components.count <= 1 && danglingEnds.isEmpty && valvesOffNode.isEmpty && valvesNotOnPipe.isEmpty
            && connectionsOffNetwork.isEmpty && uphillDrainage.isEmpty
    }
}

extension PipeSegment {
    /// Invert (inside bottom, taken as the outer bottom: the survey records DN, not the wall)
    /// elevation at the start: the surveyed bottom, or the surveyed top − section height; nil
    /// when neither is known.
    public var startInvert: Double? { invert(startElevation) }

    /// Invert elevation at the end; see ``startInvert``.
    public var endInvert: Double? { invert(endElevation) }

    private func invert(_ e: Double?) -> Double? {
        guard let e else { return nil }
        switch elevationReference {
        case .bottom: return e
        case .top: return outerHeightM.map { e - $0 }
        }
    }
}
