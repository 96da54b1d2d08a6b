/// An axis-aligned box in the index's coordinate space (metres in a projected system).
///
/// Boxes are closed: two boxes that share only an edge or a corner intersect, and a degenerate box
/// (`minX == maxX` and/or `minY == maxY`) is a valid point or line. A box is *valid* when all four
/// values are finite and `min <= max` on both axes; the indexes refuse anything else at build time.
@frozen
public struct Box: Hashable, Sendable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    @inlinable
    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    /// The degenerate box of one point.
    @inlinable
    public init(x: Double, y: Double) {
        self.init(minX: x, minY: y, maxX: x, maxY: y)
    }

    /// The bounding box of the segment `(x0, y0)`–`(x1, y1)`, in either direction.
    @inlinable
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.init(minX: Swift.min(x0, x1), minY: Swift.min(y0, y1), maxX: Swift.max(x0, x1), maxY: Swift.max(y0, y1))
    }
}

extension Box {
    /// True when all values are finite and the box is not inverted. NaN fails every comparison, so
    /// it is caught by the `<=` tests too; `isFinite` adds the infinities.
    @inlinable
    public var isValid: Bool {
        minX.isFinite && minY.isFinite && maxX.isFinite && maxY.isFinite && minX <= maxX && minY <= maxY
    }

    /// Why the box is invalid, or `nil` if it is valid (used in error messages).
    public var invalidityReason: String? {
        if minX.isNaN || minY.isNaN || maxX.isNaN || maxY.isNaN { return "a coordinate is NaN" }
        if !(minX.isFinite && minY.isFinite && maxX.isFinite && maxY.isFinite) { return "a coordinate is infinite" }
        if minX > maxX { return "minX \(minX) > maxX \(maxX)" }
        if minY > maxY { return "minY \(minY) > maxY \(maxY)" }
        return nil
    }

    @inlinable public var width: Double { maxX - minX }
    @inlinable public var height: Double { maxY - minY }
    /// Area in square units; zero for points and lines.
    @inlinable public var area: Double { (maxX - minX) * (maxY - minY) }
    @inlinable public var centerX: Double { (minX + maxX) * 0.5 }
    @inlinable public var centerY: Double { (minY + maxY) * 0.5 }

    /// Closed-box intersection test (touching counts). O(1).
    @inlinable
    public func intersects(_ other: Box) -> Bool {
        minX <= other.maxX && other.minX <= maxX && minY <= other.maxY && other.minY <= maxY
    }

    /// `intersects` as two packed comparisons and one branch (`cmplepd`, `andpd`, `movmskpd`): the
    /// short-circuit form is four data-dependent branches per child, the most mispredicted ones
    /// of a window query (callgrind `--branch-sim`). NaN still fails.
    @inlinable @inline(__always)
    func _overlaps(_ q: Box) -> Bool {
        let lo = SIMD2(minX, minY), hi = SIMD2(maxX, maxY)
        let qlo = SIMD2(q.minX, q.minY), qhi = SIMD2(q.maxX, q.maxY)
        return all((lo .<= qhi) .& (qlo .<= hi))
    }

    /// True when `other` lies entirely inside (or on the border of) `self`.
    @inlinable
    public func contains(_ other: Box) -> Bool {
        minX <= other.minX && other.maxX <= maxX && minY <= other.minY && other.maxY <= maxY
    }

    /// True when the point lies inside or on the border.
    @inlinable
    public func contains(x: Double, y: Double) -> Bool {
        minX <= x && x <= maxX && minY <= y && y <= maxY
    }

    /// The smallest box holding both.
    @inlinable
    public func union(_ other: Box) -> Box {
        Box(minX: Swift.min(minX, other.minX), minY: Swift.min(minY, other.minY),
            maxX: Swift.max(maxX, other.maxX), maxY: Swift.max(maxY, other.maxY))
    }

    /// The overlap of two boxes, or `nil` if they are disjoint.
    @inlinable
    public func intersection(_ other: Box) -> Box? {
        guard intersects(other) else { return nil }
        return Box(minX: Swift.max(minX, other.minX), minY: Swift.max(minY, other.minY),
                   maxX: Swift.min(maxX, other.maxX), maxY: Swift.min(maxY, other.maxY))
    }

    /// The box grown by `margin` on every side (shrunk if negative).
    @inlinable
    public func expanded(by margin: Double) -> Box {
        Box(minX: minX - margin, minY: minY - margin, maxX: maxX + margin, maxY: maxY + margin)
    }

    /// Squared Euclidean distance from the point to the nearest point of the box (0 inside).
    ///
    /// Written with `_gap` (compiles to `maxsd`) rather than `Swift.max(0, a, b)`, whose variadic
    /// form compiled to three data-dependent branches: in a kNN search they were ~20 % of all
    /// mispredicted branches (callgrind `--branch-sim`). A NaN coordinate still gives 0.
    ///
    /// A square, with a square's range: infinite past a gap of ~1.3e154, subnormal or 0 under
    /// ~1.5e-154 (the indexes use it only where that is safe; `distance(toX:y:)` is right at
    /// every magnitude).
    @inlinable @inline(__always)
    public func squaredDistance(toX x: Double, y: Double) -> Double {
        let dx = _gap(minX - x, x - maxX)
        let dy = _gap(minY - y, y - maxY)
        return dx * dx + dy * dy
    }

    /// Euclidean distance from the point to the box (0 inside). A lower bound of the distance from
    /// the point to anything inside the box, which is why the indexes use it to prune.
    ///
    /// Right at every magnitude: where the square of a gap would overflow or underflow (gaps past
    /// ~2^500 or under ~2^-484, see `_hypot`), the gaps are rescaled by a power of two first, so a
    /// query at 1e155 gets its true distance, not infinity, and subnormal gaps keep their bits.
    @inlinable
    public func distance(toX x: Double, y: Double) -> Double {
        _hypot(_gap(minX - x, x - maxX), _gap(minY - y, y - maxY))
    }

    /// Squared Euclidean distance between the closest points of two boxes (0 if they intersect);
    /// a square's range, as `squaredDistance(toX:y:)`.
    @inlinable @inline(__always)
    public func squaredDistance(to other: Box) -> Double {
        let dx = _gap(other.minX - maxX, minX - other.maxX)
        let dy = _gap(other.minY - maxY, minY - other.maxY)
        return dx * dx + dy * dy
    }

    /// Euclidean distance between the closest points of two boxes (0 if they intersect).
    /// Right at every magnitude, as `distance(toX:y:)`.
    @inlinable
    public func distance(to other: Box) -> Double {
        _hypot(_gap(other.minX - maxX, minX - other.maxX), _gap(other.minY - maxY, minY - other.maxY))
    }

    /// Largest absolute coordinate; scales the rounding slack used when pruning by distance.
    @inlinable
    var _magnitude: Double {
        Swift.max(Swift.max(abs(minX), abs(maxX)), Swift.max(abs(minY), abs(maxY)))
    }
}

/// √(a² + b²) for gaps `a, b ≥ 0` (an infinite gap, from a coordinate difference past
/// `greatestFiniteMagnitude`, gives infinity, the true value rounded).
///
/// Fast path: the plain formula whenever the sum of squares is a normal number ≥ 2^-968 and
/// finite; then neither square overflowed and an underflowed smaller square is below 2^-106 of
/// the sum, so the result is the plain formula's, bit for bit. Otherwise (a gap over ~2^512, or
/// both under ~2^-484, or both 0) `_hypotScaled` rescales by a power of two, which is exact.
@inlinable @inline(__always)
func _hypot(_ a: Double, _ b: Double) -> Double {
    let s = a * a + b * b
    if s >= 0x1p-968 && s < .infinity { return s.squareRoot() }
    return _hypotScaled(a, b)
}

/// The slow path of `_hypot`: both gaps multiplied by 2^-600 (when the larger is over 2^500) or
/// 2^600 (under 2^-500), which loses nothing that matters (a gap 2^-1000 below the other cannot
/// move the result), the root taken, and the scale undone (overflowing to infinity only when the
/// true distance is past `greatestFiniteMagnitude`).
@inlinable @inline(never)
func _hypotScaled(_ a: Double, _ b: Double) -> Double {
    let m = Swift.max(a, b)
    if m == 0 || m.isNaN { return 0 }
    if m == .infinity { return .infinity }
    if m > 0x1p500 {
        let x = a * 0x1p-600, y = b * 0x1p-600
        return (x * x + y * y).squareRoot() * 0x1p600
    }
    if m < 0x1p-500 {
        let x = a * 0x1p600, y = b * 0x1p600
        return (x * x + y * y).squareRoot() * 0x1p-600
    }
    return (a * a + b * b).squareRoot()
}

/// `max(a, b, 0)` as two selects of the `a > b ? a : b` form, which x86 does with `maxsd` and no
/// branch; NaN (from a NaN coordinate) gives 0, as `Swift.max(0, a, b)` did.
@inlinable @inline(__always)
func _gap(_ a: Double, _ b: Double) -> Double {
    let m = a > b ? a : b
    return m > 0 ? m : 0
}

extension Box: CustomStringConvertible {
    public var description: String { "Box(\(minX), \(minY), \(maxX), \(maxY))" }
}
