/// Exact planar kernels. Every function is allocation-free and `@inlinable` so it specializes into
/// the query loop of the caller's module.
///
/// Predicates (orientation, intersects, point-in-polygon) are *exact*: they decide with a floating
/// point filter and fall back to exact expansion arithmetic (Shewchuk, "Adaptive Precision
/// Floating-Point Arithmetic and Fast Robust Geometric Predicates", 1997) when the filter cannot
/// decide, so they agree with GEOS's `CGAlgorithmsDD::orientationIndex` on every input whose
/// double-double evaluation is itself exact (all grid-snapped and survey coordinates).
/// Constructions (closest points, distances) are computed with the same formulas GEOS uses, so
/// they agree with it to the last few ulps.
public enum Kernel {}

/// Which side of a directed line a point lies on.
@frozen
public enum Orientation: Int8, Sendable, Hashable {
    /// Right of the line (clockwise turn).
    case clockwise = -1
    /// On the line.
    case collinear = 0
    /// Left of the line (counter-clockwise turn).
    case counterClockwise = 1
}

// MARK: - Error-free transformations

/// `a + b` as an unevaluated sum `hi + lo` (Knuth's TwoSum); exact under round-to-nearest.
@inlinable @inline(__always)
func _twoSum(_ a: Double, _ b: Double) -> (hi: Double, lo: Double) {
    let s = a + b
    let bv = s - a
    let av = s - bv
    return (s, (a - av) + (b - bv))
}

/// `a - b` as an unevaluated sum `hi + lo`; exact under round-to-nearest.
@inlinable @inline(__always)
func _twoDiff(_ a: Double, _ b: Double) -> (hi: Double, lo: Double) {
    let s = a - b
    let bv = a - s
    let av = s + bv
    return (s, (a - av) + (bv - b))
}

/// `a * b` as an unevaluated sum `hi + lo`, using one fused multiply-add for the rounding error.
@inlinable @inline(__always)
func _twoProduct(_ a: Double, _ b: Double) -> (hi: Double, lo: Double) {
    let p = a * b
    return (p, (-p).addingProduct(a, b))
}

extension Kernel {
    /// Shewchuk's bound for the first orient2d filter: (3 + 16ε)ε. A computed constant, not a
    /// `static let`: a global's lazy initialiser costs an accessor call on every orientation test.
    @inlinable
    static var _ccwErrBoundA: Double { (3.0 + 16.0 * 0x1p-53) * 0x1p-53 }

    /// The orientation of `c` relative to the directed line `a → b`, decided exactly.
    ///
    /// Same convention as GEOS `GEOSOrientationIndex_r(a, b, c)`: `.counterClockwise` (1) when `c`
    /// is left of `a → b`. Zero-length `a → b` gives `.collinear`. Exact for all finite input, up
    /// to ±1e308 and subnormal: where a product of differences overflows or may have underflowed,
    /// the coordinates (or the exact differences) are rescaled by a power of two, which keeps the
    /// sign. The one limit: differences more than ~2^500 apart in size, where the smaller one's
    /// lowest bits can fall below the subnormal range. It differs from GEOS only where GEOS's
    /// double-double is wrong (see `orientationSignGEOS`).
    /// - Complexity: O(1); a handful of flops unless the filter fails (near-collinear input), then
    ///   a 16-term exact expansion summed on the stack.
    @inlinable
    public static func orientation(_ a: Point, _ b: Point, _ c: Point) -> Orientation {
        let s = orientationSign(a.x, a.y, b.x, b.y, c.x, c.y)
        return s > 0 ? .counterClockwise : (s < 0 ? .clockwise : .collinear)
    }

    /// The sign (-1, 0, 1) of the determinant |ax-cx ay-cy; bx-cx by-cy|, exactly: positive when
    /// `a, b, c` turn counter-clockwise. Raw-coordinate form of `orientation(_:_:_:)`.
    @inlinable
    public static func orientationSign(
        _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double
    ) -> Int {
        let detLeft = (ax - cx) * (by - cy)
        let detRight = (ay - cy) * (bx - cx)
        let det = detLeft - detRight
        let detSum: Double
        if detLeft > 0 {
            if detRight <= 0 { return det > 0 ? 1 : (det < 0 ? -1 : 0) }
            detSum = detLeft + detRight
        } else if detLeft < 0 {
            if detRight >= 0 { return det > 0 ? 1 : (det < 0 ? -1 : 0) }
            detSum = -detLeft - detRight
        } else {
            // 0 (or NaN, from an overflowed difference times 0): decided by detRight unless a
            // product may have vanished in underflow or overflowed.
            if det != 0 && detLeft == 0 && abs(detRight) <= _safeProduct { return det > 0 ? 1 : -1 }
            if det == 0 && (ax == cx || by == cy) && (ay == cy || bx == cx) { return 0 }
            return _orientationScaled(ax, ay, bx, by, cx, cy)
        }
        // Outside this range a product overflowed, or underflow may have eaten the bits that the
        // exact expansion needs: rescale first.
        guard detSum >= 0x1p-600 && detSum <= _safeProduct else { return _orientationScaled(ax, ay, bx, by, cx, cy) }
        let errBound = _ccwErrBoundA * detSum
        if det >= errBound { return 1 }
        if -det >= errBound { return -1 }
        return _orientationExact(ax, ay, bx, by, cx, cy)
    }

    /// Exact sign of the orientation determinant via expansion arithmetic. Each coordinate
    /// difference is an exact 2-term expansion, each product of two such is 4 exact two-products
    /// (8 terms), so the determinant is an exact 16-term sum; Shewchuk's grow-expansion turns it
    /// into a non-overlapping expansion whose largest nonzero term carries the sign.
    @inlinable
    static func _orientationExact(
        _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double
    ) -> Int {
        let acx = _twoDiff(ax, cx), bcy = _twoDiff(by, cy)
        let acy = _twoDiff(ay, cy), bcx = _twoDiff(bx, cx)
        return _expansionSign(acx, bcy, acy, bcx)
    }

    /// The exact sign of `(a.hi + a.lo)(b.hi + b.lo) − (c.hi + c.lo)(d.hi + d.lo)`: each product
    /// of two 2-term expansions is 4 exact two-products (8 terms), so the difference is an exact
    /// 16-term sum; Shewchuk's grow-expansion turns it into a non-overlapping expansion whose
    /// largest nonzero term carries the sign (exact while no two-product underflows).
    @inlinable
    static func _expansionSign(
        _ a: (hi: Double, lo: Double), _ b: (hi: Double, lo: Double),
        _ c: (hi: Double, lo: Double), _ d: (hi: Double, lo: Double)
    ) -> Int {
        withUnsafeTemporaryAllocation(of: Double.self, capacity: 32) { h -> Int in
            var n = 0
            @inline(__always) func add(_ b: Double) {
                // Grow-expansion: h stays non-overlapping and sorted by magnitude.
                var q = b
                var k = 0
                for i in 0..<n {
                    let (s, e) = _twoSum(q, h[i])
                    q = s
                    if e != 0 { h[k] = e; k += 1 }
                }
                if q != 0 { h[k] = q; k += 1 }
                n = k
            }
            @inline(__always) func addProduct(_ x: Double, _ y: Double, _ sign: Double) {
                let (p, e) = _twoProduct(x, y)
                add(sign * p)
                add(sign * e)
            }
            addProduct(a.hi, b.hi, 1); addProduct(a.hi, b.lo, 1)
            addProduct(a.lo, b.hi, 1); addProduct(a.lo, b.lo, 1)
            addProduct(c.hi, d.hi, -1); addProduct(c.hi, d.lo, -1)
            addProduct(c.lo, d.hi, -1); addProduct(c.lo, d.lo, -1)
            guard n > 0 else { return 0 }
            let top = h[n - 1]
            return top > 0 ? 1 : (top < 0 ? -1 : 0)
        }
    }

    /// Largest product of differences the filter trusts (2^1000: no overflow below it).
    @inlinable
    static var _safeProduct: Double { 0x1p1000 }

    /// The orientation with all six coordinates multiplied by one power of two, which keeps the
    /// sign: down so the largest is under 2^498 (differences and their products stay finite; a
    /// coordinate 2^-1000 below the largest may lose its last bits), or up so the largest is
    /// near 1 (exact). Then the filter and, if needed, the exact expansion decide.
    @inlinable @inline(never)
    static func _orientationScaled(
        _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double
    ) -> Int {
        let m = max(max(max(abs(ax), abs(ay)), max(abs(bx), abs(by))), max(abs(cx), abs(cy)))
        guard m > 0, m.isFinite else { return 0 }
        let e = Int(m.exponent)
        let shift: Int
        if e > 497 {
            shift = 497 - e
        } else if e < -200 {
            shift = -e
        } else {
            // Coordinates in range, but their differences' products underflowed: scale the
            // differences instead.
            return _orientationExactScaled(ax, ay, bx, by, cx, cy)
        }
        let f1 = Double(sign: .plus, exponent: shift / 2, significand: 1)
        let f2 = Double(sign: .plus, exponent: shift - shift / 2, significand: 1)
        @inline(__always) func sc(_ v: Double) -> Double { v * f1 * f2 }
        let lax = sc(ax), lay = sc(ay), lbx = sc(bx), lby = sc(by), lcx = sc(cx), lcy = sc(cy)
        let detLeft = (lax - lcx) * (lby - lcy)
        let detRight = (lay - lcy) * (lbx - lcx)
        let det = detLeft - detRight
        let errBound = _ccwErrBoundA * (abs(detLeft) + abs(detRight))
        if det >= errBound && det > 0 { return 1 }
        if -det >= errBound && det < 0 { return -1 }
        return _orientationExactScaled(lax, lay, lbx, lby, lcx, lcy)
    }

    /// The exact expansion on the differences from `c`, each 2-term difference scaled by the
    /// power of two that brings the largest near 2^200, so no two-product underflows: exact
    /// unless the differences are more than ~2^500 apart in size.
    @inlinable
    static func _orientationExactScaled(
        _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double
    ) -> Int {
        let acx = _twoDiff(ax, cx), acy = _twoDiff(ay, cy), bcx = _twoDiff(bx, cx), bcy = _twoDiff(by, cy)
        let m = max(max(abs(acx.hi), abs(acy.hi)), max(abs(bcx.hi), abs(bcy.hi)))
        guard m > 0, m.isFinite else { return 0 }
        let shift = 200 - Int(m.exponent)
        let f1 = Double(sign: .plus, exponent: shift / 2, significand: 1)
        let f2 = Double(sign: .plus, exponent: shift - shift / 2, significand: 1)
        @inline(__always) func sc(_ v: (hi: Double, lo: Double)) -> (hi: Double, lo: Double) {
            (v.hi * f1 * f2, v.lo * f1 * f2)
        }
        return _expansionSign(sc(acx), sc(bcy), sc(acy), sc(bcx))
    }
}

// MARK: - GEOS-compatible orientation

/// A double-double number as GEOS's `geos::math::DD` computes it (Dekker split, not FMA), so the
/// rounding of every step is GEOS's own.
@usableFromInline
struct _GEOSDD {
    @usableFromInline var hi: Double
    @usableFromInline var lo: Double

    @inlinable init(_ hi: Double, _ lo: Double = 0) {
        self.hi = hi
        self.lo = lo
    }

    @inlinable func adding(_ yhi: Double, _ ylo: Double) -> _GEOSDD {
        let S = hi + yhi
        let T = lo + ylo
        var e = S - hi
        let f = T - lo
        var s = S - e
        var t = T - f
        s = (yhi - e) + (hi - s)
        t = (ylo - f) + (lo - t)
        e = s + T
        let H = S + e
        let h = e + (S - H)
        e = t + h
        let zhi = H + e
        return _GEOSDD(zhi, e + (H - zhi))
    }

    @inlinable func multiplying(_ yhi: Double, _ ylo: Double) -> _GEOSDD {
        let split = 134_217_729.0  // 2^27 + 1
        var C = split * hi
        var hx = C - hi
        var c = split * yhi
        hx = C - hx
        let tx = hi - hx
        var hy = c - yhi
        C = hi * yhi
        hy = c - hy
        let ty = yhi - hy
        c = ((((hx * hy - C) + hx * ty) + tx * hy) + tx * ty) + (hi * ylo + lo * yhi)
        let zhi = C + c
        hx = C - zhi
        return _GEOSDD(zhi, c + hx)
    }
}

extension Kernel {
    /// GEOS's own orientation (`CGAlgorithmsDD::orientationIndex`: a 1e-15 filter, then
    /// double-double arithmetic), reproduced step by step so it returns exactly what
    /// `GEOSOrientationIndex_r(a, b, c)` returns.
    ///
    /// Use `orientationSign` for truth: double-double is not exact, and on about 4 in 10^5 exactly
    /// collinear random triples GEOS answers ±1 (measured in `KernelOracleTests`, confirmed with a
    /// big-integer brute force). This variant exists for callers that must make the same decision
    /// as a GEOS operation they also run.
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func orientationSignGEOS(
        _ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double
    ) -> Int {
        // orientationIndexFilter, with GEOS's DP_SAFE_EPSILON.
        let detLeft = (ax - cx) * (by - cy)
        let detRight = (ay - cy) * (bx - cx)
        let det = detLeft - detRight
        let detSum: Double
        if detLeft > 0 {
            if detRight <= 0 { return det > 0 ? 1 : (det < 0 ? -1 : 0) }
            detSum = detLeft + detRight
        } else if detLeft < 0 {
            if detRight >= 0 { return det > 0 ? 1 : (det < 0 ? -1 : 0) }
            detSum = -detLeft - detRight
        } else {
            return det > 0 ? 1 : (det < 0 ? -1 : 0)
        }
        let errBound = 1e-15 * detSum
        if det >= errBound || -det >= errBound { return det > 0 ? 1 : (det < 0 ? -1 : 0) }
        let dx1 = _GEOSDD(bx).adding(-ax, 0)
        let dy1 = _GEOSDD(by).adding(-ay, 0)
        let dx2 = _GEOSDD(cx).adding(-bx, 0)
        let dy2 = _GEOSDD(cy).adding(-by, 0)
        let m1 = dx1.multiplying(dy2.hi, dy2.lo)
        let m2 = dy1.multiplying(dx2.hi, dx2.lo)
        let d = m1.adding(-m2.hi, -m2.lo)
        if d.hi > 0 || (d.hi == 0 && d.lo > 0) { return 1 }
        if d.hi < 0 || (d.hi == 0 && d.lo < 0) { return -1 }
        return 0
    }
}
