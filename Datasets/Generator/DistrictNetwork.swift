import SubterraGeometry
import SubterraModel

// Network features of a generated district: isolation valves, their status, service connections
// with customers, and sources, placed the way utilities place them.
//
// **Valves** (water, reclaimed water, gas, heat). A line of one type between two *branch* nodes
// (tees and crosses: three or more pipes of the type meet) or dead ends is a *chain*: its
// street edges joined end to end through nodes where exactly two meet (bends, straight runs).
// On each chain:
// - next to every branch node, the first interior survey point of the chain's edge there that
//   feeds no service lateral is a valve, on every leg but one (the N − 1 rule: a tee gets two
//   valves, a cross three; the leg without is the first in the layout's edge order);
// - between those, valves follow greedily every 200–300 m of pipe: from the last valve (or the
//   chain's dead end), the first point 200–300 m on that feeds no lateral; when none does, the
//   last such point short of 200 m, else the first beyond 300 m; until the end valve (or dead
//   end) is at most 300 m away.
// A lateral tee is never a valve (a valve there would shut the building too). A chain is
// planned once, when the walk reaches its first edge, and followed at most `_maxChainEdges`
// edges each way from there (6 km without a branch, which the street grid does not make).
//
// Everything is a pure function of the layout (seed and grid indices), so a streamed
// generation decides a point's kind the moment it emits it.

/// How far a chain is followed from the edge that asks, each way.
let _maxChainEdges = 48

/// The line types that get isolation valves, customers and a source.
extension LineType {
    var isPressurised: Bool { self == .water || self == .reclaimed || self == .gas || self == .heat }
}

/// A node where street edges meet: a grid node, or the far end of a dead-end stub.
struct _ChainNode: Hashable {
    var i: Int
    var j: Int
    /// The stub's edge key for a stub end (degree 1); nil for a grid node.
    var stub: UInt64?
}

/// An edge of a chain, in the chain's direction (`reversed`: walked from its end to its start).
struct _ChainEdge {
    var edge: _Edge
    var streetClass: StreetClass
    var reversed: Bool
}

extension DistrictLayout {
    /// The edges carrying line type `t` that meet grid node (i, j).
    func carryingEdges(_ i: Int, _ j: Int, _ t: LineType) -> [(_Edge, StreetClass)] {
        incidentEdges(i, j).filter { carries($0.0, $0.1, t) }.map { ($0.0, $0.1) }
    }

    /// The node at the far side of `e` when walking it from `node`.
    func otherNode(of e: _Edge, from node: _ChainNode) -> (_ChainNode, reversed: Bool) {
        if e.i == node.i && e.j == node.j && node.stub == nil {
            // Leaving node along the edge's own direction.
            if e.kind == .stub { return (_ChainNode(i: e.i, j: e.j, stub: e.key(columns)), false) }
            let (ti, tj) = e.to
            return (_ChainNode(i: ti, j: tj, stub: nil), false)
        }
        return (_ChainNode(i: e.i, j: e.j, stub: nil), true)
    }

    /// Degree of a node for line type `t`, and its two edges when it is 2.
    func chainStep(_ node: _ChainNode, _ t: LineType) -> [(_Edge, StreetClass)]? {
        if node.stub != nil { return nil }
        let inc = carryingEdges(node.i, node.j, t)
        return inc.count == 2 ? inc : nil
    }

    /// Whether `e` is the leg of branch `node` that gets no valve: the N − 1 rule (a branch of
    /// N legs gets N − 1 valves; the first leg in the layout's fixed edge order goes without).
    func isSkippedLeg(_ e: _Edge, at node: _ChainNode, _ t: LineType) -> Bool {
        carryingEdges(node.i, node.j, t).first?.0 == e
    }

    /// Whether `node` is a branch of line type `t` (three or more of its pipes meet there).
    func isBranch(_ node: _ChainNode, _ t: LineType) -> Bool {
        node.stub == nil && carryingEdges(node.i, node.j, t).count >= 3
    }

    /// The edges of line type `t` beyond `start`, walking away from edge `e0` through nodes
    /// where exactly two meet (at most `_maxChainEdges`, never an edge in `seen`), each marked
    /// whether it is walked against its own direction, and the node the walk stops at.
    func chainWalk(
        from start: _ChainNode, after e0: _Edge, _ t: LineType, seen: inout Set<UInt64>
    ) -> (edges: [_ChainEdge], end: _ChainNode) {
        var here = start
        var last = e0
        var out: [_ChainEdge] = []
        for _ in 0..<_maxChainEdges {
            guard let two = chainStep(here, t) else { break }
            let next = two[0].0 == last ? two[1] : two[0]
            guard seen.insert(next.0.key(columns)).inserted else { break }
            let (far, reversed) = otherNode(of: next.0, from: here)
            out.append(_ChainEdge(edge: next.0, streetClass: next.1, reversed: reversed))
            last = next.0
            here = far
        }
        return (out, here)
    }

    /// The valves of the chain through edge `e0` (class `c0`) for line type `t`: interior point
    /// indices (as the walk numbers them along each edge) keyed by edge key, for every edge of
    /// the chain. O(chain length · pieces).
    func chainValves(_ e0: _Edge, _ c0: StreetClass, _ t: LineType) -> [UInt64: Set<Int>] {
        let start0 = _ChainNode(i: e0.i, j: e0.j, stub: nil)
        let (end0, _) = otherNode(of: e0, from: start0)
        var chain: [_ChainEdge] = [_ChainEdge(edge: e0, streetClass: c0, reversed: false)]
        var seen: Set<UInt64> = [e0.key(columns)]
        // Forward from e0's end, then backward from its start (walked the other way round).
        let forward = chainWalk(from: end0, after: e0, t, seen: &seen)
        chain += forward.edges
        let lastNode = forward.end
        let backward = chainWalk(from: start0, after: e0, t, seen: &seen)
        chain.insert(
            contentsOf: backward.edges.reversed().map { _ChainEdge(edge: $0.edge, streetClass: $0.streetClass, reversed: !$0.reversed) },
            at: 0)
        let firstNode = backward.end

        // Interior points along the chain: distance from its start, eligibility, identity.
        struct P { var d: Double; var ok: Bool; var key: UInt64; var index: Int; var edge: Int }
        var points: [P] = []
        var offset = 0.0
        for (k, ce) in chain.enumerated() {
            let a = node(ce.edge.i, ce.edge.j)
            let b = endNode(of: ce.edge).0
            guard let shape = edgeShape(ce.edge, ce.streetClass, a, b) else { continue }
            let plan = linePlan(shape, t)
            var along = [Double](repeating: 0, count: shape.pieces + 1)
            for m in 0..<shape.pieces {
                let dx: Double = plan.xs[m + 1] - plan.xs[m]
                let dy: Double = plan.ys[m + 1] - plan.ys[m]
                along[m + 1] = along[m] + (dx * dx + dy * dy).squareRoot()
            }
            let total = along[shape.pieces]
            let order = ce.reversed ? Array((1..<max(shape.pieces, 1)).reversed()) : Array(1..<max(shape.pieces, 1))
            for m in order {
                let d = ce.reversed ? total - along[m] : along[m]
                points.append(P(d: offset + d, ok: !plan.feeds[m], key: shape.edgeKey, index: m, edge: k))
            }
            offset += total
        }
        let length = offset
        var chosen: [Int] = []
        // Valves next to branch nodes: the first eligible point on the end edge.
        var lastD = 0.0
        var endD = length
        var endValve: Int?
        if isBranch(firstNode, t), !isSkippedLeg(chain[0].edge, at: firstNode, t), let f = points.firstIndex(where: { $0.edge == 0 }), let k = points[f...].firstIndex(where: { $0.ok }), points[k].edge == 0 {
            chosen.append(k)
            lastD = points[k].d
        }
        let lastEdge = chain.count - 1
        if isBranch(lastNode, t), !isSkippedLeg(chain[chain.count - 1].edge, at: lastNode, t), let k = points.lastIndex(where: { $0.ok }), points[k].edge == lastEdge, !chosen.contains(k) {
            endValve = k
            endD = points[k].d
        }
        // Every 200–300 m between them.
        var cursor = chosen.last.map { $0 + 1 } ?? 0
        while endD - lastD > 300 {
            let limit = endValve ?? points.count
            let candidates = (cursor..<max(cursor, limit)).filter { points[$0].ok }
            let inBand = candidates.first { points[$0].d - lastD >= 200 && points[$0].d - lastD <= 300 }
            let short = candidates.last { points[$0].d - lastD < 200 }
            let long = candidates.first { points[$0].d - lastD > 300 }
            guard let pick = inBand ?? short ?? long, points[pick].d < endD else { break }
            chosen.append(pick)
            lastD = points[pick].d
            cursor = pick + 1
        }
        if let endValve { chosen.append(endValve) }
        var out: [UInt64: Set<Int>] = [:]
        for ce in chain { out[ce.edge.key(columns), default: []] = [] }
        for k in chosen { out[points[k].key, default: []].insert(points[k].index) }
        return out
    }
}

/// The status of a generated valve, from its own random stream: 5% closed (boundary valves,
/// shut earlier), 4% inoperable (seized), 2% inaccessible (paved over), else open.
func _valveStatus(_ ref: _PointRef, seed: UInt64) -> ValveStatus {
    var r = Xoshiro256(seed: seed, key: _mix(ref.key, UInt64(ref.index)), salt: 0x7673_0000 + UInt64(ref.type.rawValue))
    let u = r.unit()
    return u < 0.05 ? .closed : (u < 0.09 ? .inoperable : (u < 0.11 ? .inaccessible : .open))
}

/// The customers behind a generated service connection: water and gas laterals supply
/// mostly households (a block's 2–40 flats), some schools, hospitals and industry; heat
/// connections supply industry and housing estates (heat exchange stations, 20–120 flats).
func _connection(_ ref: _PointRef, seed: UInt64) -> ServiceConnection {
    var r = Xoshiro256(seed: seed, key: _mix(ref.key, UInt64(ref.index)), salt: 0x6375_0000 + UInt64(ref.type.rawValue))
    let u = r.unit()
    if ref.type == .heat {
        return u < 0.6
            ? ServiceConnection(category: .industry, count: r.integer(in: 1...2))
            : ServiceConnection(category: .household, count: r.integer(in: 20...120))
    }
    switch u {
    case ..<0.03: return ServiceConnection(category: .hospital, count: 1)
    case ..<0.08: return ServiceConnection(category: .school, count: 1)
    case ..<0.15: return ServiceConnection(category: .industry, count: r.integer(in: 1...3))
    default: return ServiceConnection(category: .household, count: r.integer(in: 2...40))
    }
}

extension LineType {
    /// The kind of a network's source: a water (or reclaimed water) plant, the gas regulator
    /// station, a heat plant.
    var sourceKind: PointKind? {
        switch self {
        case .water, .reclaimed, .heat: return .plant
        case .gas: return .regulatorStation
        default: return nil
        }
    }
}
