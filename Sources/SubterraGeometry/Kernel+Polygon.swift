/// Where a point lies relative to an areal geometry.
@frozen
public enum Location: Int8, Hashable, Sendable {
    case exterior = 0
    case boundary = 1
    case interior = 2
}

extension Kernel {
    /// Where `p` lies relative to the closed ring `ring` (first point equal to last): inside, on an
    /// edge or vertex, or outside. Any orientation, self-touching rings allowed.
    ///
    /// GEOS's `RayCrossingCounter` algorithm (count crossings of a ray to +x, upward edges include
    /// their start, downward their end) with the exact orientation predicate, so it agrees with
    /// `GEOSContains_r`/`GEOSRelatePattern_r` on every input, boundary cases included.
    /// - Complexity: O(n) in the ring's vertices, no allocation.
    @inlinable
    public static func locate(_ p: Point, inRing ring: [Point]) -> Location {
        ring.withUnsafeBufferPointer { locate(p, inRing: $0) }
    }

    /// Buffer form of `locate(_:inRing:)` for callers that keep coordinates in their own storage.
    @inlinable
    public static func locate(_ p: Point, inRing ring: UnsafeBufferPointer<Point>) -> Location {
        guard ring.count >= 2 else { return .exterior }
        var crossings = 0
        let px = p.x, py = p.y
        for i in 1..<ring.count {
            let p1 = ring[i - 1], p2 = ring[i]
            // Segment strictly left of the point cannot cross the +x ray.
            if p1.x < px && p2.x < px { continue }
            if px == p2.x && py == p2.y { return .boundary }
            if p1.y == py && p2.y == py {
                // Horizontal segment: only counts as boundary, never as a crossing.
                if px >= min(p1.x, p2.x) && px <= max(p1.x, p2.x) { return .boundary }
                continue
            }
            if (p1.y > py && p2.y <= py) || (p2.y > py && p1.y <= py) {
                var orient = orientationSign(p1.x, p1.y, p2.x, p2.y, px, py)
                if orient == 0 { return .boundary }
                if p2.y < p1.y { orient = -orient }
                if orient > 0 { crossings += 1 }
            }
        }
        return crossings & 1 == 1 ? .interior : .exterior
    }

    /// Where `p` lies relative to `polygon`: inside a hole is exterior, on a hole's edge is boundary.
    /// - Complexity: O(n) in the polygon's vertices, after an O(1) envelope rejection.
    @inlinable
    public static func locate(_ p: Point, in polygon: Polygon) -> Location {
        let ext = locate(p, inRing: polygon.exterior.points)
        if ext != .interior { return ext }
        for hole in polygon.holes {
            switch locate(p, inRing: hole.points) {
            case .interior: return .exterior
            case .boundary: return .boundary
            case .exterior: continue
            }
        }
        return .interior
    }

    /// Distance from `p` to `polygon` (0 inside or on the boundary).
    /// - Complexity: O(n) in the polygon's vertices, no allocation.
    @inlinable
    public static func distance(_ p: Point, polygon: Polygon) -> Double {
        if locate(p, in: polygon) != .exterior { return 0 }
        var d = Double.infinity
        _forEachEdge(of: polygon) { a, b in
            d = min(d, distance(p, segment: a, b))
            return d > 0
        }
        return d
    }

    /// Distance from segment `a → b` to `polygon`: 0 when the segment has a point inside the
    /// polygon or crosses/touches its boundary, else the least segment-to-edge distance.
    ///
    /// Same decision as GEOS's `DistanceOp` (containment check, then facet distances that are 0
    /// on exact intersection), with exact predicates.
    /// - Complexity: O(n) in the polygon's vertices, no allocation.
    @inlinable
    public static func distance(segment a: Point, _ b: Point, polygon: Polygon) -> Double {
        if locate(a, in: polygon) != .exterior { return 0 }
        var d = Double.infinity
        _forEachEdge(of: polygon) { p, q in
            d = min(d, distance(segment: a, b, segment: p, q))
            return d > 0
        }
        return d
    }

    /// Distance from a line string to `polygon` (0 when any part of it is inside, on, or crosses
    /// the polygon).
    /// - Complexity: O(n·m) for n line vertices and m polygon vertices, no allocation. (Callers
    ///   with large inputs should prune segments with an index first.)
    @inlinable
    public static func distance(_ line: LineString, polygon: Polygon) -> Double {
        let pts = line.points
        // One vertex inside means distance 0; if none is, any contact must cross an edge, which
        // the segment loop finds exactly.
        if locate(pts[0], in: polygon) != .exterior { return 0 }
        var d = Double.infinity
        for i in 1..<pts.count {
            let a = pts[i - 1], b = pts[i]
            _forEachEdge(of: polygon) { p, q in
                d = min(d, distance(segment: a, b, segment: p, q))
                return d > 0
            }
            if d == 0 { return 0 }
        }
        return d
    }

    /// Calls `body` on every edge of every ring until it returns `false`.
    @inlinable
    static func _forEachEdge(of polygon: Polygon, _ body: (Point, Point) -> Bool) {
        if !_forEachEdge(of: polygon.exterior.points, body) { return }
        for h in polygon.holes where !_forEachEdge(of: h.points, body) { return }
    }

    @inlinable
    static func _forEachEdge(of ring: [Point], _ body: (Point, Point) -> Bool) -> Bool {
        ring.withUnsafeBufferPointer { r in
            for i in 1..<r.count where !body(r[i - 1], r[i]) { return false }
            return true
        }
    }
}
