import Foundation

/// The water supply seen on the valve-segment graph: a topology's segments (``ValveSegments``)
/// and boundary nodes (valves a crew can close, closed valves, sources), built once per topology
/// for ``SupplySearch``, ``SupplyTree`` and ``SupplyLoss``.
///
/// A segment's pipes are joined by interior nodes that nothing blocks, and ``IsolationSearch``
/// isolates whole segments, so a supply search reaches a segment whole or not at all: it needs
/// only segments and boundary nodes, not pipes and nodes. The connections of interior nodes are
/// grouped by segment (a boundary node's are its own points), and sources by component, so a
/// plan's cut-off needs no scan of the layer's points.
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
    /// Source nodes per component (CSR).
    let componentSourceStart: [Int32]
    let componentSources: [Int32]

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
        for i in t.points.indices {
            let v = Int(t.pointNode[i])
            guard t.points[i].connection != nil, v >= 0, index[v] < 0 else { continue }
            segmentPoints.append((vs.segmentOfNode[v], Int32(i)))
        }
        (connectionStart, connectionPoints) = Self.group(count: vs.segmentCount, segmentPoints)
        let sources = list.filter { vs.nodeRole[Int($0)] == .source }.map { (t.componentOfNode[Int($0)], $0) }
        (componentSourceStart, componentSources) = Self.group(count: t.componentCount, sources)
    }

    /// (group, item) pairs as CSR offsets and items, items in input order within a group.
    private static func group(count: Int, _ pairs: [(Int32, Int32)]) -> ([Int32], [Int32]) {
        ValveSegments.group(count: count, pairs: pairs.count) { pairs[$0] }
    }

    func boundary(of s: Int) -> ArraySlice<Int32> { boundaryNodes[Int(boundaryStart[s])..<Int(boundaryStart[s + 1])] }
    func connections(of s: Int) -> ArraySlice<Int32> { connectionPoints[Int(connectionStart[s])..<Int(connectionStart[s + 1])] }
    func sources(ofComponent c: Int) -> ArraySlice<Int32> {
        componentSources[Int(componentSourceStart[c])..<Int(componentSourceStart[c + 1])]
    }
}

/// The supply before any break as the search's tree: items are segments `s` and boundary nodes
/// `segmentCount + index`; every reached item hangs from the item it was reached from, a source
/// from none. Items laid out in depth-first pre-order, so each subtree is a run of ``order``.
struct SupplyTree: Sendable {
    let before: SupplySearch
    /// Position of each reached item in ``order``; -1 for an item not reached.
    let first: [Int32]
    /// End (exclusive) of each reached item's subtree in ``order``.
    let end: [Int32]
    let order: [Int32]
    /// Connection points without supply before any break, per component (CSR).
    let unsuppliedStart: [Int32]
    let unsuppliedPoints: [Int32]

    init(_ t: NetworkTopology, _ g: SupplyGraph) {
        let b = SupplySearch(t, g)
        before = b
        let sc = g.segmentCount, count = sc + g.boundaryList.count
        func reached(_ x: Int) -> Bool { x < sc ? b.reachedSegment[x] : b.reachedBoundary[x - sc] }
        let edges = (0..<count).filter { reached($0) && b.parent[$0] >= 0 }
        let (childStart, children) = ValveSegments.group(count: count, pairs: edges.count) { (b.parent[edges[$0]], Int32(edges[$0])) }
        var first = [Int32](repeating: -1, count: count), end = [Int32](repeating: -1, count: count)
        var order: [Int32] = []
        var stack = (0..<count).filter { reached($0) && b.parent[$0] < 0 }.map(Int32.init)
        // Popping a node and pushing its children keeps every subtree a contiguous run.
        while let x = stack.popLast() {
            first[Int(x)] = Int32(order.count)
            order.append(x)
            stack.append(contentsOf: children[Int(childStart[Int(x)])..<Int(childStart[Int(x) + 1])])
        }
        var size = [Int32](repeating: 1, count: count)
        for x in order.reversed() where b.parent[Int(x)] >= 0 { size[Int(b.parent[Int(x)])] += size[Int(x)] }
        for x in order { end[Int(x)] = first[Int(x)] + size[Int(x)] }
        self.first = first
        self.end = end
        self.order = order
        var pairs: [(Int32, Int32)] = []
        for s in 0..<sc where !b.reachedSegment[s] {
            for i in g.connections(of: s) { pairs.append((t.componentOfNode[Int(t.pointNode[Int(i)])], i)) }
        }
        for (k, v) in g.boundaryList.enumerated() where !b.reachedBoundary[k] {
            for i in t.pointIndices(at: Int(v)) where t.points[Int(i)].connection != nil {
                pairs.append((t.componentOfNode[Int(v)], i))
            }
        }
        (unsuppliedStart, unsuppliedPoints) = ValveSegments.group(count: t.componentCount, pairs: pairs.count) { pairs[$0] }
    }

    func unsupplied(ofComponent c: Int) -> ArraySlice<Int32> {
        unsuppliedPoints[Int(unsuppliedStart[c])..<Int(unsuppliedStart[c + 1])]
    }
}

/// What a break's isolation takes from the supply before it, found from the ``SupplyTree``
/// alone: an item whose path from its source keeps clear of the isolated segments, the plan's
/// valves and the shut sources stays supplied, so only the subtrees below those can lose
/// supply; of those, the items still reached from a supplied neighbour (searching within the
/// subtrees) keep it. O(size of those subtrees and their neighbours).
struct SupplyLoss {
    /// Items (``SupplyTree``) supplied before the break and not after it.
    var items: [Int32] = []

    init(_ t: NetworkTopology, _ g: SupplyGraph, _ tree: SupplyTree, isolation iso: IsolationSearch) {
        let sc = g.segmentCount
        var isolated = Set<Int32>()
        for e in iso.edges { isolated.insert(g.segmentOfEdge[e]) }
        let shut = Set(iso.toClose.map { Int32(sc) + g.boundaryIndex[$0] })
        var candidates = Set<Int32>()
        var candidateList: [Int32] = []
        for r in Array(isolated) + Array(shut) + iso.sources.map({ Int32(sc) + g.boundaryIndex[$0] }) {
            let f = tree.first[Int(r)]
            guard f >= 0, !candidates.contains(r) else { continue }
            for i in Int(f)..<Int(tree.end[Int(r)]) where candidates.insert(tree.order[i]).inserted {
                candidateList.append(tree.order[i])
            }
        }
        // Still supplied: outside the candidates and supplied before.
        func kept(_ x: Int32) -> Bool {
            guard !candidates.contains(x) else { return false }
            return Int(x) < sc ? tree.before.reachedSegment[Int(x)] : tree.before.reachedBoundary[Int(x) - sc]
        }
        func neighbours(_ x: Int32) -> [Int32] {
            if Int(x) < sc { return g.boundary(of: Int(x)).map { Int32(sc) + g.boundaryIndex[Int($0)] } }
            return t.edges(at: Int(g.boundaryList[Int(x) - sc])).map { g.segmentOfEdge[Int($0)] }
        }
        // Isolated segments and the plan's valves are never entered (closed valves never were).
        func enterable(_ x: Int32) -> Bool { !isolated.contains(x) && !shut.contains(x) }
        var reached = Set<Int32>()
        var queue: [Int32] = []
        for x in candidateList where enterable(x) && neighbours(x).contains(where: kept) {
            reached.insert(x)
            queue.append(x)
        }
        var head = 0
        while head < queue.count {
            let x = queue[head]
            head += 1
            for y in neighbours(x) where candidates.contains(y) && enterable(y) && !reached.contains(y) {
                reached.insert(y)
                queue.append(y)
            }
        }
        items = candidateList.filter { !reached.contains($0) }
    }
}
