import SubterraGeometry
import SubterraIndex
import SubterraModel

/// The operator areas of one snapshot, with a packed R-tree over their bounds.
///
/// Areas are few next to pipes (one or a handful per operator and district), so an edit that
/// touches them rebuilds the whole set: O(a log a) for a areas. A query is O(log a + c) index
/// work for c candidate areas plus the exact test of each candidate: O(e·w) for an area of e
/// edges against a query of w edges.
struct _AreaSet: Sendable {
    let areas: [OperatorArea]
    private let tree: PackedRTree?

    static let empty = _AreaSet(areas: [])

    init(areas: [OperatorArea]) {
        self.areas = areas
        let boxes = areas.map { a -> Box in
            let e = a.geometry.envelope
            return Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY)
        }
        // Areas are validated (finite coordinates), so packing cannot fail; an empty set has no tree.
        tree = boxes.isEmpty ? nil : try? PackedRTree(boxes: boxes)
    }

    /// The set after an edit's area deletions and upserts (an upsert replaces the area of its id).
    func applying(_ edit: StoreEdit) -> _AreaSet {
        guard !edit.upsertAreas.isEmpty || !edit.deleteAreas.isEmpty else { return self }
        let gone = Set(edit.deleteAreas).union(edit.upsertAreas.map(\.id))
        return _AreaSet(areas: areas.filter { !gone.contains($0.id) } + edit.upsertAreas)
    }

    /// The areas within `reach` metres of the query shape (0: sharing at least one point with it,
    /// boundary included), with their exact distance, in area order.
    func touching(_ q: _QueryShape, within reach: Double = 0) -> [(area: OperatorArea, distance: Double)] {
        guard let tree, !q.envelope.isEmpty else { return [] }
        let e = q.envelope
        let box = Box(minX: e.minX - reach, minY: e.minY - reach, maxX: e.maxX + reach, maxY: e.maxY + reach)
        var out: [(OperatorArea, Double)] = []
        for i in tree.intersecting(box).sorted() {
            let a = areas[Int(i)]
            let d = a.polygons.map { Self.distance(q, $0) }.min() ?? .infinity
            if d <= reach { out.append((a, d)) }
        }
        return out
    }

    /// Exact distance from the query shape to one area polygon, interiors counting as 0: each
    /// query point, segment and polygon edge against the area (the area's interior included by
    /// the kernel), and an area wholly inside a query polygon by its first vertex.
    static func distance(_ q: _QueryShape, _ area: Polygon) -> Double {
        var best = Double.infinity
        for p in q.points { best = min(best, Kernel.distance(p, polygon: area)) }
        for (a, b) in q.segments { best = min(best, Kernel.distance(segment: a, b, polygon: area)) }
        for poly in q.polygons {
            if Kernel.locate(area.exterior.points[0], in: poly) != .exterior { return 0 }
            for ring in poly.rings {
                let pts = ring.points
                for k in 0..<(pts.count - 1) {
                    best = min(best, Kernel.distance(segment: pts[k], pts[k + 1], polygon: area))
                    if best == 0 { return 0 }
                }
            }
        }
        return best
    }
}
