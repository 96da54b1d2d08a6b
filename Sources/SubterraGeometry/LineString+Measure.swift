/// A position on a line string: which segment, how far along it, and how far along the whole line.
@frozen
public struct LinePosition: Hashable, Sendable {
    /// Index of the segment `points[segment] → points[segment + 1]`.
    public var segment: Int
    /// Parameter along that segment in [0, 1].
    public var t: Double
    /// The point itself; `z` interpolated from the segment's ends when both have one.
    public var point: Point
    /// Distance from the query point (for `closestPosition(to:)`; 0 for `position(atDistance:)`).
    public var distance: Double
    /// Distance along the line from its start to `point`.
    public var distanceAlong: Double

    @inlinable
    public init(segment: Int, t: Double, point: Point, distance: Double, distanceAlong: Double) {
        self.segment = segment
        self.t = t
        self.point = point
        self.distance = distance
        self.distanceAlong = distanceAlong
    }
}

extension LineString {
    /// Total 2D length, as `GEOSLength_r`. O(n), no allocation.
    @inlinable
    public var length: Double {
        points.withUnsafeBufferPointer { p in
            var sum = 0.0
            for i in 1..<p.count { sum += Kernel.distance(p[i - 1], p[i]) }
            return sum
        }
    }

    /// The point of the line closest to `q`, with its segment, parameter and distance along the
    /// line. Ties go to the earliest segment. Use `position.point.z` for the interpolated depth
    /// or height of a pipe at that point.
    /// - Complexity: O(n), no allocation.
    @inlinable
    public func closestPosition(to q: Point) -> LinePosition {
        points.withUnsafeBufferPointer { p in
            var best = LinePosition(segment: 0, t: 0, point: p[0], distance: .infinity, distanceAlong: 0)
            var along = 0.0
            for i in 1..<p.count {
                let proj = Kernel.project(q, ontoSegment: p[i - 1], p[i])
                let segLen = Kernel.distance(p[i - 1], p[i])
                if proj.distance < best.distance {
                    best = LinePosition(
                        segment: i - 1, t: proj.t, point: proj.point, distance: proj.distance,
                        distanceAlong: along + proj.t * segLen)
                }
                along += segLen
            }
            return best
        }
    }

    /// Distance from `q` to the line (see `closestPosition(to:)`).
    @inlinable
    public func distance(to q: Point) -> Double {
        points.withUnsafeBufferPointer { p in
            var d = Double.infinity
            for i in 1..<p.count { d = min(d, Kernel.distance(q, segment: p[i - 1], p[i])) }
            return d
        }
    }

    /// The point `distance` along the line from its start, clamped to the line's ends; `z` is
    /// interpolated linearly (for example a depth profile along a pipe).
    /// - Complexity: O(n), no allocation.
    @inlinable
    public func position(atDistance distance: Double) -> LinePosition {
        points.withUnsafeBufferPointer { p in
            let n = p.count
            if !(distance > 0) {
                return LinePosition(segment: 0, t: 0, point: p[0], distance: 0, distanceAlong: 0)
            }
            var along = 0.0
            for i in 1..<n {
                let segLen = Kernel.distance(p[i - 1], p[i])
                if along + segLen >= distance && segLen > 0 {
                    let t = min(max((distance - along) / segLen, 0), 1)
                    return LinePosition(
                        segment: i - 1, t: t, point: Kernel.interpolate(p[i - 1], p[i], t: t), distance: 0,
                        distanceAlong: distance)
                }
                along += segLen
            }
            return LinePosition(segment: n - 2, t: 1, point: p[n - 1], distance: 0, distanceAlong: along)
        }
    }

    /// The line's segments as pairs, for callers that want to loop without indices.
    @inlinable
    public var segmentCount: Int { points.count - 1 }

    /// Whether this line and `other` share a point, decided exactly (as `GEOSIntersects_r`).
    /// - Complexity: O(n·m) with an envelope rejection per segment pair.
    @inlinable
    public func intersects(_ other: LineString) -> Bool {
        let a = points, b = other.points
        for i in 1..<a.count {
            for j in 1..<b.count where Kernel.segmentsIntersect(a[i - 1], a[i], b[j - 1], b[j]) { return true }
        }
        return false
    }

    /// Distance between two line strings (0 when they intersect).
    /// - Complexity: O(n·m), no allocation.
    @inlinable
    public func distance(to other: LineString) -> Double {
        let a = points, b = other.points
        var d = Double.infinity
        for i in 1..<a.count {
            for j in 1..<b.count {
                d = min(d, Kernel.distance(segment: a[i - 1], a[i], segment: b[j - 1], b[j]))
                if d == 0 { return 0 }
            }
        }
        return d
    }
}
