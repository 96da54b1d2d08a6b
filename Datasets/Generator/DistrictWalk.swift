import SubterraGeometry
import SubterraModel

/// Identity of a survey point during a walk: a junction of one line type at a street node, an
/// interior point of one line on one edge, or the building end of a lateral.
struct _PointRef: Hashable, Sendable {
    enum Kind: UInt8 { case junction, interior, lateralEnd }
    var kind: Kind
    /// Node key for a junction, edge key for the others.
    var key: UInt64
    var type: LineType
    /// Interior point index along the edge (1..<pieces); 0 for a junction.
    var index: Int
}

/// A segment as the walk produces it: geometry and identity, no attributes. Both the full
/// generator and the geometry-only fast path consume these, so both see the same district.
struct _RawSegment: Sendable {
    var type: LineType
    var streetClass: StreetClass
    var edge: _Edge
    var edgeKey: UInt64
    var isLateral: Bool
    var x0: Double
    var y0: Double
    var x1: Double
    var y1: Double
    var start: _PointRef
    var end: _PointRef
    /// Whether the end point is an interior point that also feeds a lateral (a tee).
    var endFeedsLateral: Bool
}

/// Key of a dead-end stub's far node; disjoint from grid node keys.
@inlinable
func _stubNodeKey(_ edgeKey: UInt64) -> UInt64 { (1 << 62) | edgeKey }

extension DistrictLayout {
    /// Grid edges and stubs that start at node (i, j), in a fixed order.
    func edges(from i: Int, _ j: Int) -> [(_Edge, StreetClass)] {
        var out: [(_Edge, StreetClass)] = []
        for kind in [_Edge.Kind.east, .north] {
            let e = _Edge(i: i, j: j, kind: kind)
            if let c = streetClass(e) {
                out.append((e, c))
            } else if (kind == .north || i + 1 < columns), stubFraction(e) != nil {
                out.append((_Edge(i: i, j: j, kind: .stub, stubOf: kind), .local))
            }
        }
        let d = _Edge(i: i, j: j, kind: .diagonal)
        if let c = streetClass(d) { out.append((d, c)) }
        return out
    }

    /// The end of an edge and the key of its end node.
    func endNode(of e: _Edge) -> (Point, UInt64) {
        if e.kind == .stub {
            let a = node(e.i, e.j)
            let (ti, tj) = e.to
            let b = node(ti, tj)
            let f = stubFraction(_Edge(i: e.i, j: e.j, kind: e.stubOf)) ?? 0.5
            return (Point(_mm(a.x + f * (b.x - a.x)), _mm(a.y + f * (b.y - a.y))), _stubNodeKey(e.key(columns)))
        }
        let (ti, tj) = e.to
        return (node(ti, tj), nodeKey(ti, tj))
    }

    /// All street edges meeting node (i, j) with their far-end positions (for junction degree and
    /// bend detection).
    func incidentEdges(_ i: Int, _ j: Int) -> [(_Edge, StreetClass, Point)] {
        var out: [(_Edge, StreetClass, Point)] = []
        for (e, c) in edges(from: i, j) { out.append((e, c, endNode(of: e).0)) }
        let incoming = [
            _Edge(i: i - 1, j: j, kind: .east), _Edge(i: i, j: j - 1, kind: .north),
            _Edge(i: i - 1, j: j + 1, kind: .diagonal),
        ]
        for e in incoming where e.i >= 0 && e.j >= 0 {
            if let c = streetClass(e) { out.append((e, c, node(e.i, e.j))) }
        }
        return out
    }

    /// Margin around the node grid that holds every line: warp 22 + jitter 12 + bow 9 +
    /// offset 11.4·√2 + lateral ≤ 26 m, rounded up.
    static let extentMargin = 100.0

    /// The area a district of `rows` rows lies in; every generated coordinate is inside it.
    public func extent(rows: Int) -> Envelope {
        Envelope(
            minX: gridOrigin.x - Self.extentMargin,
            minY: gridOrigin.y - Self.extentMargin,
            maxX: gridOrigin.x + Double(columns - 1) * spacing + Self.extentMargin,
            maxY: gridOrigin.y + Double(max(rows, 1)) * spacing + Self.extentMargin)
    }

    /// Walks the district row by row, handing every segment to `body` until `maxSegments` have
    /// been produced. Returns the number of node rows started.
    ///
    /// - Complexity: O(maxSegments); allocation per edge only (a handful of small arrays).
    @discardableResult
    func walk(maxSegments: Int, _ body: (_RawSegment) throws -> Void) rethrows -> Int {
        var count = 0
        var j = 0
        guard maxSegments > 0 else { return 0 }
        rows: while true {
            for i in 0..<columns {
                for (e, c) in edges(from: i, j) {
                    let a = node(i, j)
                    let (b, bKey) = endNode(of: e)
                    try walkEdge(e, c, a, nodeKey(i, j), b, bKey) { seg in
                        if count < maxSegments { try body(seg) }
                        count += 1
                    }
                    if count >= maxSegments { break rows }
                }
            }
            j += 1
        }
        return j + 1
    }

    private func walkEdge(
        _ e: _Edge, _ c: StreetClass, _ a: Point, _ aKey: UInt64, _ b: Point, _ bKey: UInt64,
        _ body: (_RawSegment) throws -> Void
    ) rethrows {
        guard let shape = edgeShape(e, c, a, b) else { return }
        let ek = shape.edgeKey
        let pieces = shape.pieces
        for t in LineType.allCases where carries(e, c, t) {
            let plan = linePlan(shape, t)
            let xs = plan.xs
            let ys = plan.ys
            for m in 0..<pieces {
                let start = m == 0
                    ? _PointRef(kind: .junction, key: aKey, type: t, index: 0)
                    : _PointRef(kind: .interior, key: ek, type: t, index: m)
                let end = m == pieces - 1
                    ? _PointRef(kind: .junction, key: bKey, type: t, index: 0)
                    : _PointRef(kind: .interior, key: ek, type: t, index: m + 1)
                try body(
                    _RawSegment(
                        type: t, streetClass: c, edge: e, edgeKey: ek, isLateral: false,
                        x0: xs[m], y0: ys[m], x1: xs[m + 1], y1: ys[m + 1], start: start, end: end,
                        endFeedsLateral: m + 1 < pieces && plan.feeds[m + 1]))
                if m + 1 < pieces, plan.feeds[m + 1] {
                    let l = plan.lateralLength[m + 1]
                    try body(
                        _RawSegment(
                            type: t, streetClass: c, edge: e, edgeKey: ek, isLateral: true,
                            x0: xs[m + 1], y0: ys[m + 1],
                            x1: _mm(xs[m + 1] + plan.side * shape.nx * l), y1: _mm(ys[m + 1] + plan.side * shape.ny * l),
                            start: end, end: _PointRef(kind: .lateralEnd, key: ek, type: t, index: m + 1),
                            endFeedsLateral: false))
                }
            }
        }
    }

    /// The plan shape of edge `e` from `a` to `b`: how many survey pieces, the bow of an
    /// arterial. Nil for an edge shorter than 1 m (it carries nothing). A pure function of the
    /// layout, shared by the walk and the valve planner (`DistrictNetwork.swift`) so both see the
    /// same survey points.
    func edgeShape(_ e: _Edge, _ c: StreetClass, _ a: Point, _ b: Point) -> _EdgeShape? {
        let ek = e.key(columns)
        var g = Xoshiro256(seed: seed, key: ek, salt: 0x6765_6F6D)
        let dx = b.x - a.x
        let dy = b.y - a.y
        let len = (dx * dx + dy * dy).squareRoot()
        guard len > 1 else { return nil }
        // Arterials bow a little between intersections: curved streets, not only a warped grid.
        let bow = (c == .arterial && e.kind != .diagonal) ? g.uniform(-9, 9) : 0
        let target = g.uniform(32, 48)
        // Survey points every 20–60 m: the nearest whole number of pieces, nudged into range.
        var pieces = max(1, Int((len / target).rounded()))
        while len / Double(pieces) > 58 { pieces += 1 }
        while pieces > 1, len / Double(pieces) < 22 { pieces -= 1 }
        return _EdgeShape(edgeKey: ek, a: a, dx: dx, dy: dy, nx: -dy / len, ny: dx / len, bow: bow, pieces: pieces)
    }

    /// Survey point positions of line type `t` along an edge and where laterals branch off.
    func linePlan(_ shape: _EdgeShape, _ t: LineType) -> _LinePlan {
        let pieces = shape.pieces
        let o = t.offset
        var xs = [Double](repeating: 0, count: pieces + 1)
        var ys = [Double](repeating: 0, count: pieces + 1)
        for m in 0...pieces {
            let s = Double(m) / Double(pieces)
            let bulge = shape.bow * 4 * s * (1 - s)
            xs[m] = _mm(shape.a.x + s * shape.dx + shape.nx * bulge + o)
            ys[m] = _mm(shape.a.y + s * shape.dy + shape.ny * bulge + o)
        }
        // Laterals go to the nearer block: the side the line's offset puts it on.
        var lr = Xoshiro256(seed: seed, key: shape.edgeKey, salt: 0x6C61_7400 + UInt64(t.rawValue))
        var feeds = [Bool](repeating: false, count: pieces + 1)
        var lateralLength = [Double](repeating: 0, count: pieces + 1)
        let across = o * (shape.nx + shape.ny)
        for m in 1..<max(pieces, 1) where lr.chance(t.lateralProbability) {
            feeds[m] = true
            lateralLength[m] = max(abs(across) + 4, lr.uniform(15, 22)) - abs(across)
        }
        return _LinePlan(xs: xs, ys: ys, feeds: feeds, lateralLength: lateralLength, side: across >= 0 ? 1 : -1)
    }
}

/// The plan shape of one street edge (see `DistrictLayout.edgeShape`).
struct _EdgeShape {
    var edgeKey: UInt64
    var a: Point
    var dx: Double
    var dy: Double
    /// Unit normal (left of a → b).
    var nx: Double
    var ny: Double
    var bow: Double
    var pieces: Int
}

/// One line type's survey points along an edge: positions `0...pieces` (0 and `pieces` are the
/// junctions), whether interior point `m` feeds a lateral, its length, and the side laterals go.
struct _LinePlan {
    var xs: [Double]
    var ys: [Double]
    var feeds: [Bool]
    var lateralLength: [Double]
    var side: Double
}
