/// The point of a segment `a → b` closest to a query point.
@frozen
public struct SegmentProjection: Hashable, Sendable {
    /// Parameter along the segment, clamped to [0, 1]: the closest point is `a + t (b - a)`.
    public var t: Double
    /// The closest point; its `z` is interpolated when both ends have one.
    public var point: Point
    /// Euclidean (2D) distance from the query point to `point`.
    public var distance: Double

    @inlinable
    public init(t: Double, point: Point, distance: Double) {
        self.t = t
        self.point = point
        self.distance = distance
    }
}

/// The closest pair of points between two segments.
@frozen
public struct SegmentPairDistance: Hashable, Sendable {
    /// Distance between the segments; 0 when they intersect.
    public var distance: Double
    /// Closest point on the first segment and its parameter.
    public var first: Point
    public var t1: Double
    /// Closest point on the second segment and its parameter.
    public var second: Point
    public var t2: Double

    @inlinable
    public init(distance: Double, first: Point, t1: Double, second: Point, t2: Double) {
        self.distance = distance
        self.first = first
        self.t1 = t1
        self.second = second
        self.t2 = t2
    }
}

/// How two closed segments meet.
@frozen
public enum SegmentIntersection: Hashable, Sendable {
    /// They share no point.
    case none
    /// They share exactly one point (a crossing, or an endpoint touching the other segment).
    case point(Point)
    /// They are collinear and share the sub-segment `from → to` (ordered along the first segment).
    case overlap(from: Point, to: Point)
}

extension Kernel {
    /// `a + t (b - a)`, with `z` interpolated linearly when both ends have one (for example the
    /// depth of a pipe at the closest point to an excavation, from its two surveyed end depths).
    /// `t == 0` and `t == 1` return the endpoints' coordinates exactly.
    @inlinable
    public static func interpolate(_ a: Point, _ b: Point, t: Double) -> Point {
        if t == 0 { return a }
        if t == 1 { return b }
        var z: Double? = nil
        if let za = a.z, let zb = b.z { z = za + t * (zb - za) }
        return Point(x: a.x + t * (b.x - a.x), y: a.y + t * (b.y - a.y), z: z)
    }

    /// Squares (and squared lengths) in `[_safeLow, _safeHigh]` were computed without overflow
    /// or underflow that matters: at 2^-968 and above, a product that underflowed is 2^-106 below
    /// the result; at 2^1000 and below, no square of a difference overflowed. Outside, the
    /// kernels take their rescaled slow paths.
    @inlinable static var _safeLow: Double { 0x1p-968 }
    @inlinable static var _safeHigh: Double { 0x1p1000 }

    /// 2D Euclidean distance between two points, right at every magnitude: a difference past
    /// `greatestFiniteMagnitude` gives infinity (the true value, rounded); otherwise the plain
    /// formula, rescaled by a power of two (exact) when a square would overflow or underflow.
    @inlinable
    public static func distance(_ a: Point, _ b: Point) -> Double {
        _hypot(a.x - b.x, a.y - b.y)
    }

    /// √(x² + y²) without overflow or underflow: the plain formula when the sum of squares is in
    /// the safe range, else `_hypotScaled`.
    @inlinable @inline(__always)
    static func _hypot(_ x: Double, _ y: Double) -> Double {
        let s = x * x + y * y
        if s >= _safeLow && s <= _safeHigh { return s.squareRoot() }
        return _hypotScaled(x, y)
    }

    /// The slow path of `_hypot`: scales by 2^-600 (largest part over 2^500) or 2^600 (under
    /// 2^-500), exact but for parts 2^-1000 below the largest, which cannot move the result.
    @inlinable @inline(never)
    static func _hypotScaled(_ x: Double, _ y: Double) -> Double {
        let m = max(abs(x), abs(y))
        if m == 0 || m.isNaN { return m }
        if m == .infinity { return .infinity }
        if m > 0x1p500 {
            let u = x * 0x1p-600, v = y * 0x1p-600
            return (u * u + v * v).squareRoot() * 0x1p600
        }
        if m < 0x1p-500 {
            let u = x * 0x1p600, v = y * 0x1p600
            return (u * u + v * v).squareRoot() * 0x1p-600
        }
        return (x * x + y * y).squareRoot()
    }

    /// Distance from `p` to segment `a → b`, with the closest point and its parameter `t`.
    ///
    /// Uses GEOS's `Distance::pointToSegment` formula (projection factor for the clamp, then the
    /// perpendicular from the cross product) so the distance agrees with `GEOSDistance_r` to a few
    /// ulps; a zero-length segment behaves as the point `a` with `t = 0`. Right at every
    /// magnitude: when the squared length or the result leaves the safe range (coordinates past
    /// ~2^500 apart, segments or distances under ~2^-484), `_projectScaled` recomputes it on
    /// differences rescaled by a power of two.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func project(_ p: Point, ontoSegment a: Point, _ b: Point) -> SegmentProjection {
        let dx = b.x - a.x, dy = b.y - a.y
        let len2 = dx * dx + dy * dy
        guard len2 >= _safeLow && len2 <= _safeHigh else { return _projectScaled(p, a, b) }
        let r = ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2
        if r <= 0 { return SegmentProjection(t: 0, point: a, distance: distance(p, a)) }
        if r >= 1 { return SegmentProjection(t: 1, point: b, distance: distance(p, b)) }
        let s = ((a.y - p.y) * dx - (a.x - p.x) * dy) / len2
        let d = abs(s) * len2.squareRoot()
        // d ≥ 2^-484 means the cross product was ≥ 2^-968: no underflow moved it.
        guard d >= 0x1p-484 && d <= 0x1p500 else { return _projectScaled(p, a, b) }
        return SegmentProjection(t: r, point: interpolate(a, b, t: r), distance: d)
    }

    /// The slow path of `project`: the same formula on the differences `p - a`, `b - a`, scaled
    /// by a power of two so the largest lies near 2^250 (or 1, when all are under 2^-250); when a
    /// difference itself overflows, all coordinates are halved first (the closest point is then
    /// interpolated in halves and doubled, both exact). Distances under ~2^-1074 × the largest
    /// difference are below what the scaled parts can carry.
    @inlinable @inline(never)
    static func _projectScaled(_ p: Point, _ a: Point, _ b: Point) -> SegmentProjection {
        var half = 1.0
        var ux = p.x - a.x, uy = p.y - a.y, dx = b.x - a.x, dy = b.y - a.y
        if !(abs(ux) < .infinity && abs(uy) < .infinity && abs(dx) < .infinity && abs(dy) < .infinity) {
            half = 0.5
            ux = p.x * 0.5 - a.x * 0.5
            uy = p.y * 0.5 - a.y * 0.5
            dx = b.x * 0.5 - a.x * 0.5
            dy = b.y * 0.5 - a.y * 0.5
            if ux.isNaN || uy.isNaN || dx.isNaN || dy.isNaN {
                return SegmentProjection(t: 0, point: a, distance: .nan)
            }
        }
        if dx == 0 && dy == 0 { return SegmentProjection(t: 0, point: a, distance: distance(p, a)) }
        let m = max(max(abs(ux), abs(uy)), max(abs(dx), abs(dy)))
        // f·m in [2^250, 2^251) for large m, [1, 2) for tiny m; applied in two steps, since
        // 2^(1074) is not a Double.
        let e = m.exponent
        let target = e > 250 ? 250 : (e < -250 ? 0 : Int(e))
        let shift = target - Int(e)
        let f1 = Double(sign: .plus, exponent: shift / 2, significand: 1)
        let f2 = Double(sign: .plus, exponent: shift - shift / 2, significand: 1)
        ux = ux * f1 * f2; uy = uy * f1 * f2; dx = dx * f1 * f2; dy = dy * f1 * f2
        let len2 = dx * dx + dy * dy
        if len2 == 0 { return SegmentProjection(t: 0, point: a, distance: distance(p, a)) }
        let r = (ux * dx + uy * dy) / len2
        if r <= 0 { return SegmentProjection(t: 0, point: a, distance: distance(p, a)) }
        if r >= 1 { return SegmentProjection(t: 1, point: b, distance: distance(p, b)) }
        let s = (ux * dy - uy * dx) / len2
        let d = abs(s) * len2.squareRoot() / f1 / f2 / half
        let point: Point
        if half == 1 {
            point = interpolate(a, b, t: r)
        } else {
            let h = interpolate(Point(x: a.x * 0.5, y: a.y * 0.5, z: a.z), Point(x: b.x * 0.5, y: b.y * 0.5, z: b.z), t: r)
            point = Point(x: h.x * 2, y: h.y * 2, z: interpolate(a, b, t: r).z)
        }
        return SegmentProjection(t: r, point: point, distance: d)
    }

    /// Distance from `p` to segment `a → b` (see `project(_:ontoSegment:_:)`).
    @inlinable
    public static func distance(_ p: Point, segment a: Point, _ b: Point) -> Double {
        project(p, ontoSegment: a, b).distance
    }

    /// Squared distance from `p` to segment `a → b`, for nearest searches that order by squares
    /// (no square root per candidate). GEOS's `pointToSegment` formula squared: its square root
    /// agrees with `distance(_:segment:_:)` to an ulp or two. A zero-length segment is the point `a`.
    /// - Complexity: O(1), no allocation.
    ///
    /// Right at every magnitude in the sense squares can be: when the squared length or the
    /// result leaves the safe range, it is the square of `distance(_:segment:_:)` (infinite where
    /// the square exceeds `greatestFiniteMagnitude`, subnormal or 0 under ~1.5e-154 m).
    @inlinable
    public static func squaredDistance(_ p: Point, segment a: Point, _ b: Point) -> Double {
        let dx = b.x - a.x, dy = b.y - a.y
        let len2 = dx * dx + dy * dy
        let d2 = _squaredDistance(p.x - a.x, p.y - a.y, dx, dy, len2)
        if min(len2, d2) >= _safeLow && max(len2, d2) <= _safeHigh { return d2 }
        let d = _projectScaled(p, a, b).distance
        return d * d
    }

    /// Whether `p` lies on the closed segment `a → b`, exactly.
    @inlinable
    public static func isOnSegment(_ p: Point, _ a: Point, _ b: Point) -> Bool {
        orientationSign(a.x, a.y, b.x, b.y, p.x, p.y) == 0
            && p.x >= min(a.x, b.x) && p.x <= max(a.x, b.x)
            && p.y >= min(a.y, b.y) && p.y <= max(a.y, b.y)
    }

    /// Whether closed segments `a0 → a1` and `b0 → b1` share a point, decided exactly (agrees with
    /// `GEOSIntersects_r` on the two line strings). Handles collinear, touching and zero-length
    /// segments.
    /// - Complexity: O(1): an envelope test, then up to four exact orientations.
    @inlinable
    public static func segmentsIntersect(_ a0: Point, _ a1: Point, _ b0: Point, _ b1: Point) -> Bool {
        // Envelope test first: cheap rejection, and it decides the all-collinear case.
        if max(a0.x, a1.x) < min(b0.x, b1.x) || max(b0.x, b1.x) < min(a0.x, a1.x) { return false }
        if max(a0.y, a1.y) < min(b0.y, b1.y) || max(b0.y, b1.y) < min(a0.y, a1.y) { return false }
        let o1 = orientationSign(a0.x, a0.y, a1.x, a1.y, b0.x, b0.y)
        let o2 = orientationSign(a0.x, a0.y, a1.x, a1.y, b1.x, b1.y)
        if o1 * o2 > 0 { return false }
        let o3 = orientationSign(b0.x, b0.y, b1.x, b1.y, a0.x, a0.y)
        let o4 = orientationSign(b0.x, b0.y, b1.x, b1.y, a1.x, a1.y)
        // All four zero means collinear (or degenerate) segments; the envelope test above already
        // showed they overlap along the line.
        return o3 * o4 <= 0
    }

    /// How segments `a0 → a1` and `b0 → b1` meet: not at all, in one point, or along a collinear
    /// stretch. The classification is exact; the crossing point of a proper crossing is computed
    /// in coordinates centred on the segments (to keep 4e7-sized survey coordinates from eating the
    /// precision) and clamped into both segments' envelopes. Endpoints that touch are returned
    /// exactly.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func intersection(_ a0: Point, _ a1: Point, _ b0: Point, _ b1: Point) -> SegmentIntersection {
        // Same decision as `segmentsIntersect`, keeping the orientations for the classification.
        if max(a0.x, a1.x) < min(b0.x, b1.x) || max(b0.x, b1.x) < min(a0.x, a1.x) { return .none }
        if max(a0.y, a1.y) < min(b0.y, b1.y) || max(b0.y, b1.y) < min(a0.y, a1.y) { return .none }
        let o1 = orientationSign(a0.x, a0.y, a1.x, a1.y, b0.x, b0.y)
        let o2 = orientationSign(a0.x, a0.y, a1.x, a1.y, b1.x, b1.y)
        if o1 * o2 > 0 { return .none }
        let o3 = orientationSign(b0.x, b0.y, b1.x, b1.y, a0.x, a0.y)
        let o4 = orientationSign(b0.x, b0.y, b1.x, b1.y, a1.x, a1.y)
        if o3 * o4 > 0 { return .none }
        if o1 == 0 && o2 == 0 && o3 == 0 && o4 == 0 {
            return _collinearOverlap(a0, a1, b0, b1)
        }
        // One shared point. Prefer an exact endpoint when one lies on the other segment.
        if o1 == 0 { return .point(b0) }
        if o2 == 0 { return .point(b1) }
        if o3 == 0 { return .point(a0) }
        if o4 == 0 { return .point(a1) }
        return .point(_properCrossing(a0, a1, b0, b1))
    }

    /// Collinear case: the overlap of the two segments along the major axis of `a` (of `b` when `a`
    /// has zero length). Returned points are always input endpoints, so they are exact.
    @inlinable
    static func _collinearOverlap(_ a0: Point, _ a1: Point, _ b0: Point, _ b1: Point) -> SegmentIntersection {
        if a0.x == a1.x && a0.y == a1.y { return .point(a0) }
        if b0.x == b1.x && b0.y == b1.y { return .point(b0) }
        let useX = abs(a1.x - a0.x) >= abs(a1.y - a0.y)
        let dir: Double = (useX ? a1.x - a0.x : a1.y - a0.y) >= 0 ? 1 : -1
        // Position along a's direction, measured from a0.
        @inline(__always) func s(_ p: Point) -> Double { ((useX ? p.x : p.y) - (useX ? a0.x : a0.y)) * dir }
        let (blo, bhi) = s(b0) <= s(b1) ? (b0, b1) : (b1, b0)
        let start = s(blo) > 0 ? blo : a0
        let end = s(bhi) < s(a1) ? bhi : a1
        if start.x == end.x && start.y == end.y { return .point(start) }
        return .overlap(from: start, to: end)
    }

    /// Crossing point of two properly crossing segments, computed relative to the centre of their
    /// common envelope (conditioning) and clamped into it.
    @inlinable
    static func _properCrossing(_ a0: Point, _ a1: Point, _ b0: Point, _ b1: Point) -> Point {
        let mx = (max(min(a0.x, a1.x), min(b0.x, b1.x)) + min(max(a0.x, a1.x), max(b0.x, b1.x))) / 2
        let my = (max(min(a0.y, a1.y), min(b0.y, b1.y)) + min(max(a0.y, a1.y), max(b0.y, b1.y))) / 2
        let px = a0.x - mx, py = a0.y - my
        let rx = a1.x - a0.x, ry = a1.y - a0.y
        let qx = b0.x - mx, qy = b0.y - my
        let sx = b1.x - b0.x, sy = b1.y - b0.y
        let denom = rx * sy - ry * sx
        let t = ((qx - px) * sy - (qy - py) * sx) / denom
        if !t.isFinite {
            // Nearly parallel segments that do cross (the exact test said so) but whose cross
            // product rounds to 0: the crossing is within rounding of an endpoint, so return the
            // endpoint nearest the other segment.
            var best = a0
            var bestD = distance(a0, segment: b0, b1)
            for (p, d) in [(a1, distance(a1, segment: b0, b1)), (b0, distance(b0, segment: a0, a1)),
                           (b1, distance(b1, segment: a0, a1))] where d < bestD {
                best = p
                bestD = d
            }
            return best
        }
        var x = px + t * rx + mx
        var y = py + t * ry + my
        let lox = max(min(a0.x, a1.x), min(b0.x, b1.x)), hix = min(max(a0.x, a1.x), max(b0.x, b1.x))
        let loy = max(min(a0.y, a1.y), min(b0.y, b1.y)), hiy = min(max(a0.y, a1.y), max(b0.y, b1.y))
        x = min(max(x, lox), hix)
        y = min(max(y, loy), hiy)
        let tc = min(max(t, 0), 1)
        var z: Double? = nil
        if let za = a0.z, let zb = a1.z { z = za + tc * (zb - za) }
        return Point(x: x, y: y, z: z)
    }

    /// Distance between segments `a0 → a1` and `b0 → b1`, with the closest points on each.
    ///
    /// 0 (with the intersection point on both) when they intersect, decided exactly; otherwise the
    /// least of the four endpoint-to-segment distances, as GEOS's `Distance::segmentToSegment`.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func segmentDistance(_ a0: Point, _ a1: Point, _ b0: Point, _ b1: Point) -> SegmentPairDistance {
        switch intersection(a0, a1, b0, b1) {
        case .point(let p):
            return SegmentPairDistance(
                distance: 0, first: p, t1: _parameter(of: p, on: a0, a1),
                second: p, t2: _parameter(of: p, on: b0, b1))
        case .overlap(let p, _):
            return SegmentPairDistance(
                distance: 0, first: p, t1: _parameter(of: p, on: a0, a1),
                second: p, t2: _parameter(of: p, on: b0, b1))
        case .none:
            break
        }
        // Endpoints of b against a.
        let pb0 = project(b0, ontoSegment: a0, a1)
        var best = SegmentPairDistance(distance: pb0.distance, first: pb0.point, t1: pb0.t, second: b0, t2: 0)
        let pb1 = project(b1, ontoSegment: a0, a1)
        if pb1.distance < best.distance {
            best = SegmentPairDistance(distance: pb1.distance, first: pb1.point, t1: pb1.t, second: b1, t2: 1)
        }
        let pa0 = project(a0, ontoSegment: b0, b1)
        if pa0.distance < best.distance {
            best = SegmentPairDistance(distance: pa0.distance, first: a0, t1: 0, second: pa0.point, t2: pa0.t)
        }
        let pa1 = project(a1, ontoSegment: b0, b1)
        if pa1.distance < best.distance {
            best = SegmentPairDistance(distance: pa1.distance, first: a1, t1: 1, second: pa1.point, t2: pa1.t)
        }
        return best
    }

    /// Distance between two segments (see `segmentDistance(_:_:_:_:)`).
    @inlinable
    public static func distance(segment a0: Point, _ a1: Point, segment b0: Point, _ b1: Point) -> Double {
        segmentDistance(a0, a1, b0, b1).distance
    }

    /// Parameter of a point known to lie on `a → b` (0 for a zero-length segment).
    @inlinable
    static func _parameter(of p: Point, on a: Point, _ b: Point) -> Double {
        let dx = b.x - a.x, dy = b.y - a.y
        if abs(dx) >= abs(dy) {
            return dx == 0 ? 0 : min(max((p.x - a.x) / dx, 0), 1)
        }
        return min(max((p.y - a.y) / dy, 0), 1)
    }

    /// Distance from segment `a → b` to an envelope (0 when the segment touches or enters it).
    /// A degenerate envelope (a point or a line) works; an empty one gives `.infinity`.
    ///
    /// Clips the segment's bounding box first: if either endpoint is inside, or the segment
    /// crosses one of the four edges, it is 0; otherwise the least edge-to-segment distance.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func distance(segment a: Point, _ b: Point, envelope e: Envelope) -> Double {
        if e.isEmpty { return .infinity }
        if e.contains(a) || e.contains(b) { return 0 }
        let c00 = Point(e.minX, e.minY), c10 = Point(e.maxX, e.minY)
        let c11 = Point(e.maxX, e.maxY), c01 = Point(e.minX, e.maxY)
        var d = distance(segment: a, b, segment: c00, c10)
        if d == 0 { return 0 }
        d = min(d, distance(segment: a, b, segment: c10, c11))
        if d == 0 { return 0 }
        d = min(d, distance(segment: a, b, segment: c11, c01))
        if d == 0 { return 0 }
        return min(d, distance(segment: a, b, segment: c01, c00))
    }

    /// Whether segment `a → b` touches or enters the closed envelope `e`, decided exactly.
    ///
    /// Once the segment's bounding box meets `e` and neither end lies inside, the segment meets
    /// `e` exactly when the line through it does: when the four corners of `e` are not all
    /// strictly on one side (a straight segment spans its bounding box corner to corner, so the
    /// part of the line inside that box is the segment itself). Four exact orientations at most,
    /// instead of four segment–segment intersection tests.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func intersects(segment a: Point, _ b: Point, envelope e: Envelope) -> Bool {
        _segmentMeetsBox(a.x, a.y, b.x, b.y, e.minX, e.minY, e.maxX, e.maxY)
    }

    /// Raw-coordinate form of `intersects(segment:_:envelope:)` (closed box; an empty or NaN box
    /// meets nothing).
    @inlinable @inline(__always)
    static func _segmentMeetsBox(
        _ x0: Double, _ y0: Double, _ x1: Double, _ y1: Double,
        _ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double
    ) -> Bool {
        guard min(x0, x1) <= maxX && minX <= max(x0, x1) && min(y0, y1) <= maxY && minY <= max(y0, y1),
              minX <= maxX && minY <= maxY else { return false }
        if (minX <= x0 && x0 <= maxX && minY <= y0 && y0 <= maxY) || (minX <= x1 && x1 <= maxX && minY <= y1 && y1 <= maxY) {
            return true
        }
        let s0 = orientationSign(x0, y0, x1, y1, minX, minY)
        if s0 == 0 { return true }
        let s1 = orientationSign(x0, y0, x1, y1, maxX, minY)
        if s1 != s0 { return true }
        let s2 = orientationSign(x0, y0, x1, y1, maxX, maxY)
        if s2 != s0 { return true }
        return orientationSign(x0, y0, x1, y1, minX, maxY) != s0
    }

    /// Distance from a point to an envelope (0 inside or on it; `.infinity` for an empty one).
    @inlinable
    public static func distance(_ p: Point, envelope e: Envelope) -> Double {
        if e.isEmpty { return .infinity }
        let dx = max(e.minX - p.x, 0, p.x - e.maxX)
        let dy = max(e.minY - p.y, 0, p.y - e.maxY)
        return _hypot(dx, dy)
    }
}
