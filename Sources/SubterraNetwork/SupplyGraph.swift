import Foundation

/// The water supply seen on the valve-segment graph: a topology's segments (``ValveSegments``)
/// and boundary nodes (valves a crew can close, closed valves, sources), built once per topology
/// for ``SupplySearch``.
///
/// A segment's pipes are joined by interior nodes that nothing blocks, and ``IsolationSearch``
/// isolates whole segments, so a supply search reaches a segment whole or not at all: it needs
/// only segments and boundary nodes, not pipes and nodes. The connections are grouped by segment
/// (interior nodes) and by boundary node, and segments, sources and connection-bearing boundary
/// nodes by component, so a plan's cut-off needs no scan of the layer's points.
///
/// Holds no ``NetworkTopology`` (the topology holds it, through ``SupplyGraphCell``).
struct SupplyGraph: Sendable {
    let segmentOfEdge: [Int32]
    /// Segment of each interior node; -1 for boundary nodes.
    let segmentOfNode: [Int32]
    let segmentCount: Int
    /// Boundary nodes of each segment (CSR over ``boundaryNodes``).
    let boundaryStart: [Int32]
    let boundaryNodes: [Int32]
    /// Index of each boundary node in ``boundaryList``; -1 for interior nodes.
    let boundaryIndex: [Int32]
    let boundaryList: [Int32]
    /// Closed valves (not sources), by boundary index: they block supply.
    let closedBoundary: [Bool]
    /// Connection points of each segment's interior nodes, in point order (CSR).
    let connectionStart: [Int32]
    let connectionPoints: [Int32]
    /// Per component (CSR): its segments; its source nodes; its boundary nodes with connections.
    let componentSegmentStart: [Int32]
    let componentSegments: [Int32]
    let componentSourceStart: [Int32]
    let componentSources: [Int32]
    let componentConnectedBoundaryStart: [Int32]
    let componentConnectedBoundary: [Int32]

    init(_ t: NetworkTopology) {
        let vs = ValveSegments(t)
        let n = t.nodeCount
        segmentOfEdge = vs.segmentOfEdge
        segmentOfNode = vs.segmentOfNode
        segmentCount = vs.segmentCount
        boundaryStart = vs.boundaryStart
        boundaryNodes = vs.boundaryNodes
        var index = [Int32](repeating: -1, count: n)
        var list: [Int32] = [], closed: [Bool] = []
        for v in 0..<n where vs.nodeRole[v].isBoundary {
            index[v] = Int32(list.count)
            list.append(Int32(v))
            closed.append(vs.nodeRole[v] == .closedValve)
        }
        boundaryIndex = index
        boundaryList = list
        closedBoundary = closed
        var segmentPoints: [(Int32, Int32)] = []
        var connectedBoundary = Set<Int32>()
        for i in t.points.indices {
            let v = Int(t.pointNode[i])
            guard t.points[i].connection != nil, v >= 0 else { continue }
            if index[v] >= 0 { connectedBoundary.insert(Int32(v)) } else { segmentPoints.append((vs.segmentOfNode[v], Int32(i))) }
        }
        (connectionStart, connectionPoints) = Self.group(count: vs.segmentCount, segmentPoints)
        let c = t.componentCount
        let segs = (0..<vs.segmentCount).map { s in (t.componentOfNode[Int(t.edgeFrom[Int(vs.edges(of: s).first!)])], Int32(s)) }
        (componentSegmentStart, componentSegments) = Self.group(count: c, segs)
        let sources = list.filter { vs.nodeRole[Int($0)] == .source }.map { (t.componentOfNode[Int($0)], $0) }
        (componentSourceStart, componentSources) = Self.group(count: c, sources)
        let bounds = connectedBoundary.sorted().map { (t.componentOfNode[Int($0)], $0) }
        (componentConnectedBoundaryStart, componentConnectedBoundary) = Self.group(count: c, bounds)
    }

    /// (group, item) pairs as CSR offsets and items, items in input order within a group.
    private static func group(count: Int, _ pairs: [(Int32, Int32)]) -> ([Int32], [Int32]) {
        ValveSegments.group(count: count, pairs: pairs.count) { pairs[$0] }
    }

    func boundary(of s: Int) -> ArraySlice<Int32> { boundaryNodes[Int(boundaryStart[s])..<Int(boundaryStart[s + 1])] }
    func connections(of s: Int) -> ArraySlice<Int32> { connectionPoints[Int(connectionStart[s])..<Int(connectionStart[s + 1])] }
    func segments(ofComponent c: Int) -> ArraySlice<Int32> {
        componentSegments[Int(componentSegmentStart[c])..<Int(componentSegmentStart[c + 1])]
    }
    func sources(ofComponent c: Int) -> ArraySlice<Int32> {
        componentSources[Int(componentSourceStart[c])..<Int(componentSourceStart[c + 1])]
    }
    func connectedBoundary(ofComponent c: Int) -> ArraySlice<Int32> {
        componentConnectedBoundary[Int(componentConnectedBoundaryStart[c])..<Int(componentConnectedBoundaryStart[c + 1])]
    }
}

/// A topology's ``SupplyGraph`` and its supply before any break (one search from every source of
/// every component: components share nothing, so each component's part is what a search from its
/// own sources gives), built on first use under a lock (topologies are shared between concurrent
/// requests); later uses read them under the same lock.
final class SupplyGraphCell: @unchecked Sendable {
    private let lock = NSLock()
    private var built: (graph: SupplyGraph, before: SupplySearch)?

    func graph(for t: NetworkTopology) -> (graph: SupplyGraph, before: SupplySearch) {
        lock.withLock {
            if let b = built { return b }
            let g = SupplyGraph(t)
            let b = (g, SupplySearch(t, g, component: nil, isolation: nil))
            built = b
            return b
        }
    }
}
