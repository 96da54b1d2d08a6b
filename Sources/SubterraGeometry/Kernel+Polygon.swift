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
    /// Same decision as GEOS's `DistanceOp` (facet distances that are 0 on exact intersection,
    /// then containment), with exact predicates. This is the refinement step of every dig query,
    /// so it is a dedicated kernel rather than `segmentDistance` per edge: squared distances with
    /// one square root at the end, an edge skipped when its envelope is already farther than the
    /// best so far, the exact crossing test only where envelopes overlap, and the point-in-polygon
    /// test only when no edge was touched (the segment then lies in one face, so one endpoint
    /// decides). Measured on the dig-polygon benchmark (10^6 street segments, 4–8 vertex rings):
    /// the per-edge `segmentDistance` form spent 58 % of the query in this kernel.
    /// - Complexity: O(n) in the polygon's vertices, no allocation.
    ///
    /// Right at every magnitude: when the least square or a squared edge length left the safe
    /// range, the distance is taken again from `project` (rescaled where needed) per edge.
    @inlinable
    public static func distance(segment a: Point, _ b: Point, polygon: Polygon) -> Double {
        var best2 = Double.infinity
        var unsafe = false
        if _touchesRing(a, b, polygon.exterior.points, &best2, &unsafe) { return 0 }
        for h in polygon.holes where _touchesRing(a, b, h.points, &best2, &unsafe) { return 0 }
        if locate(a, in: polygon) != .exterior { return 0 }
        if unsafe || !(best2 >= _safeLow && best2 <= _safeHigh) { return _edgeDistanceScaled(a, b, polygon) }
        return best2.squareRoot()
    }

    /// The slow path of the segment–polygon distances, for a segment known to touch no edge:
    /// the least of the four endpoint-to-segment distances per edge, each from `project`.
    @inlinable @inline(never)
    static func _edgeDistanceScaled(_ a: Point, _ b: Point, _ polygon: Polygon) -> Double {
        var d = Double.infinity
        _forEachEdge(of: polygon) { p, q in
            d = min(d, project(a, ontoSegment: p, q).distance, project(b, ontoSegment: p, q).distance,
                    project(p, ontoSegment: a, b).distance, project(q, ontoSegment: a, b).distance)
            return true
        }
        return d
    }

    /// Scans the edges of `ring` for segment `a → b`: returns `true` as soon as an edge touches
    /// the segment (decided exactly), otherwise lowers `best2` to the least squared distance
    /// between the segment and an edge, as GEOS's `segmentToSegment` (the least of the four
    /// endpoint-to-segment distances). Sets `unsafe` when a squared length left the safe range
    /// (the caller then recomputes; see `_safeLow`).
    @inlinable
    static func _touchesRing(_ a: Point, _ b: Point, _ ring: [Point], _ best2: inout Double, _ unsafe: inout Bool) -> Bool {
        ring.withUnsafeBufferPointer { r in
            let sMinX = min(a.x, b.x), sMaxX = max(a.x, b.x)
            let sMinY = min(a.y, b.y), sMaxY = max(a.y, b.y)
            let sdx = b.x - a.x, sdy = b.y - a.y
            let sLen2 = sdx * sdx + sdy * sdy
            if !(sLen2 >= _safeLow && sLen2 <= _safeHigh) { unsafe = true }
            var best = best2
            var i = 1
            while i < r.count {
                let p = r[i - 1], q = r[i]
                i += 1
                let eMinX = min(p.x, q.x), eMaxX = max(p.x, q.x)
                let eMinY = min(p.y, q.y), eMaxY = max(p.y, q.y)
                // Gap between the two envelopes per axis (0 when they overlap on that axis).
                let gx = max(0, max(eMinX - sMaxX, sMinX - eMaxX))
                let gy = max(0, max(eMinY - sMaxY, sMinY - eMaxY))
                if gx == 0 && gy == 0 {
                    if segmentsIntersect(a, b, p, q) {
                        best2 = best
                        return true
                    }
                } else if gx * gx + gy * gy > best {
                    // The envelope gap bounds the edge distance from below, so this edge cannot
                    // improve on `best` (beyond rounding in the last bits of either side).
                    continue
                }
                let edx = q.x - p.x, edy = q.y - p.y
                let eLen2 = edx * edx + edy * edy
                if !(eLen2 >= _safeLow && eLen2 <= _safeHigh) { unsafe = true }
                best = min(best, _squaredDistance(a.x - p.x, a.y - p.y, edx, edy, eLen2),
                           _squaredDistance(b.x - p.x, b.y - p.y, edx, edy, eLen2),
                           _squaredDistance(p.x - a.x, p.y - a.y, sdx, sdy, sLen2),
                           _squaredDistance(q.x - a.x, q.y - a.y, sdx, sdy, sLen2))
            }
            best2 = best
            return false
        }
    }

    /// Squared distance from a point to a segment, given the point relative to the segment's start
    /// (`px, py`), the segment's direction (`dx, dy`) and squared length: GEOS's `pointToSegment`
    /// formula (the projection decides the clamp, the cross product gives the perpendicular),
    /// squared, so its square root agrees with `distance(_:segment:_:)` to an ulp or two. The clamp
    /// compares the dot product with 0 and `len2` instead of dividing first.
    @inlinable @inline(__always)
    static func _squaredDistance(_ px: Double, _ py: Double, _ dx: Double, _ dy: Double, _ len2: Double) -> Double {
        let dot = px * dx + py * dy
        if dot <= 0 || len2 == 0 { return px * px + py * py }
        if dot >= len2 {
            let qx = px - dx, qy = py - dy
            return qx * qx + qy * qy
        }
        let cross = py * dx - px * dy
        // (cross / len2) · cross rather than cross² / len2: cross² underflows where the result
        // does not (a short segment), the quotient cannot when the result is in the safe range.
        return cross / len2 * cross
    }

    /// Distance from a line string to `polygon` (0 when any part of it is inside, on, or crosses
    /// the polygon).
    /// - Complexity: O(n·m) for n line vertices and m polygon vertices, no allocation. (Callers
    ///   with large inputs should prune segments with an index first.)
    @inlinable
    public static func distance(_ line: LineString, polygon: Polygon) -> Double {
        let pts = line.points
        // One vertex inside means distance 0; if none is, any contact must cross an edge, which
        // the edge scan finds exactly.
        if locate(pts[0], in: polygon) != .exterior { return 0 }
        var best2 = Double.infinity
        var unsafe = false
        for i in 1..<pts.count {
            let a = pts[i - 1], b = pts[i]
            if _touchesRing(a, b, polygon.exterior.points, &best2, &unsafe) { return 0 }
            for h in polygon.holes where _touchesRing(a, b, h.points, &best2, &unsafe) { return 0 }
        }
        if unsafe || !(best2 >= _safeLow && best2 <= _safeHigh) {
            var d = Double.infinity
            for i in 1..<pts.count { d = min(d, _edgeDistanceScaled(pts[i - 1], pts[i], polygon)) }
            return d
        }
        return best2.squareRoot()
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
