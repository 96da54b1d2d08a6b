// Exact kernels the Subterra side of the benchmark uses for refinement, and the brute-force
// oracle uses for everything. Kept here (not in the library) so the benchmark can check the
// library's own kernels against them.

/// Exact Euclidean distance from a point to a closed segment.
/// - Complexity: O(1).
@inlinable
public func pointSegmentDistance(
    _ px: Double, _ py: Double, _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double
) -> Double {
    let dx = bx - ax, dy = by - ay
    let len2 = dx * dx + dy * dy
    var t = 0.0
    if len2 > 0 {
        t = ((px - ax) * dx + (py - ay) * dy) / len2
        t = t < 0 ? 0 : (t > 1 ? 1 : t)
    }
    let qx = ax + t * dx - px, qy = ay + t * dy - py
    return (qx * qx + qy * qy).squareRoot()
}

/// Sign of the turn a→b→c: > 0 left, < 0 right, 0 collinear.
@inlinable
func orient(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double) -> Double {
    (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
}

/// Whether closed segments ab and cd share a point.
@inlinable
public func segmentsIntersect(
    _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double,
    _ cx: Double, _ cy: Double, _ dx: Double, _ dy: Double
) -> Bool {
    let d1 = orient(cx, cy, dx, dy, ax, ay), d2 = orient(cx, cy, dx, dy, bx, by)
    let d3 = orient(ax, ay, bx, by, cx, cy), d4 = orient(ax, ay, bx, by, dx, dy)
    if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) { return true }
    func on(_ px: Double, _ py: Double, _ qx: Double, _ qy: Double, _ rx: Double, _ ry: Double) -> Bool {
        min(px, qx) <= rx && rx <= max(px, qx) && min(py, qy) <= ry && ry <= max(py, qy)
    }
    if d1 == 0 && on(cx, cy, dx, dy, ax, ay) { return true }
    if d2 == 0 && on(cx, cy, dx, dy, bx, by) { return true }
    if d3 == 0 && on(ax, ay, bx, by, cx, cy) { return true }
    if d4 == 0 && on(ax, ay, bx, by, dx, dy) { return true }
    return false
}

/// Exact segment–segment distance (0 when they touch or cross).
@inlinable
public func segmentSegmentDistance(
    _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double,
    _ cx: Double, _ cy: Double, _ dx: Double, _ dy: Double
) -> Double {
    if segmentsIntersect(ax, ay, bx, by, cx, cy, dx, dy) { return 0 }
    return min(
        min(pointSegmentDistance(ax, ay, cx, cy, dx, dy), pointSegmentDistance(bx, by, cx, cy, dx, dy)),
        min(pointSegmentDistance(cx, cy, ax, ay, bx, by), pointSegmentDistance(dx, dy, ax, ay, bx, by)))
}

/// Whether a closed segment meets a closed axis-aligned box (Liang–Barsky clipping, exact for
/// axis-aligned boundaries because it only divides once per slab).
@inlinable
public func segmentIntersectsBox(
    _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double,
    _ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double
) -> Bool {
    if max(ax, bx) < minX || min(ax, bx) > maxX || max(ay, by) < minY || min(ay, by) > maxY { return false }
    if (ax >= minX && ax <= maxX && ay >= minY && ay <= maxY) || (bx >= minX && bx <= maxX && by >= minY && by <= maxY) {
        return true
    }
    // Neither end inside: the segment meets the box iff it crosses one of the box's edges.
    return segmentsIntersect(ax, ay, bx, by, minX, minY, maxX, minY)
        || segmentsIntersect(ax, ay, bx, by, maxX, minY, maxX, maxY)
        || segmentsIntersect(ax, ay, bx, by, maxX, maxY, minX, maxY)
        || segmentsIntersect(ax, ay, bx, by, minX, maxY, minX, minY)
}

/// Even-odd point-in-ring test; points on the boundary may go either way (callers also measure
/// the distance to the boundary, which is 0 there).
@inlinable
public func pointInRing(_ px: Double, _ py: Double, _ ring: [Double]) -> Bool {
    let n = ring.count / 2
    var inside = false
    var j = n - 1
    for i in 0..<n {
        let xi = ring[2 * i], yi = ring[2 * i + 1], xj = ring[2 * j], yj = ring[2 * j + 1]
        if (yi > py) != (yj > py), px < (xj - xi) * (py - yi) / (yj - yi) + xi { inside.toggle() }
        j = i
    }
    return inside
}

/// Exact distance from a segment to a simple polygon given as an open ring of x,y pairs;
/// 0 when the segment touches or lies inside the polygon.
/// - Complexity: O(vertices).
@inlinable
public func segmentPolygonDistance(
    _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, ring: [Double]
) -> Double {
    if pointInRing(ax, ay, ring) { return 0 }
    let n = ring.count / 2
    var best = Double.infinity
    var j = n - 1
    for i in 0..<n {
        let d = segmentSegmentDistance(ax, ay, bx, by, ring[2 * j], ring[2 * j + 1], ring[2 * i], ring[2 * i + 1])
        if d < best { best = d }
        if best == 0 { return 0 }
        j = i
    }
    return best
}
