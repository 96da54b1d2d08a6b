/// One straight segment's end points, x = easting, y = northing (EPSG:4549).
@frozen
public struct SegmentCoordinates: Hashable, Sendable {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    @inlinable
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }
}

/// The geometry-only fast path: the segments of a generated district as one contiguous array of
/// end points, with no attributes, points or strings. For index tests and benchmarks that need
/// 10^6–10^7 realistic segments (clustered along streets, crossing near intersections).
///
/// Segment `k` here has the same coordinates as the segment with id `k + 1` of
/// `DistrictGenerator(segments: count, seed: seed)`.
public enum StreetSegments {
    /// Exactly `count` segments for `seed`; same arguments, same array.
    ///
    /// - Complexity: O(count) time; 32 bytes per segment.
    public static func generate(count: Int, seed: UInt64) -> [SegmentCoordinates] {
        guard count > 0 else { return [] }
        var out: [SegmentCoordinates] = []
        out.reserveCapacity(count)
        DistrictLayout(segments: count, seed: seed).walk(maxSegments: count) { s in
            out.append(SegmentCoordinates(x0: s.x0, y0: s.y0, x1: s.x1, y1: s.y1))
        }
        return out
    }
}
