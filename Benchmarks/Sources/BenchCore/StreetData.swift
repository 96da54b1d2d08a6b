import SubterraDatasets

/// The segments every peer indexes, as one flat `[x0, y0, x1, y1, …]` array (metres, CGCS2000
/// Gauss-Kruger EPSG:4549, x = easting), the layout all peers read without conversion.
public struct SegmentSet: Sendable {
    /// `4 * count` coordinates: x0, y0, x1, y1 per segment; the id of a segment is its position.
    public var coordinates: [Double]
    public var count: Int { coordinates.count / 4 }

    public init(coordinates: [Double]) { self.coordinates = coordinates }

    /// Street-like pipe segments from the project's district generator
    /// (`SubterraDatasets.StreetSegments`, the geometry-only fast path of `DistrictGenerator`):
    /// a Wenling street grid with arterials, diagonals and stubs, ten line types at cross-section
    /// offsets, segments sharing end points — many near-ties and overlapping boxes, as in survey
    /// data. Same `count` and `seed`, same data.
    /// - Complexity: O(count).
    public static func streets(count: Int, seed: UInt64) -> SegmentSet {
        let segments = StreetSegments.generate(count: count, seed: seed)
        var c = [Double]()
        c.reserveCapacity(4 * segments.count)
        for s in segments {
            c.append(s.x0)
            c.append(s.y0)
            c.append(s.x1)
            c.append(s.y1)
        }
        return SegmentSet(coordinates: c)
    }

    /// Segment `i` as its two end points.
    @inlinable
    public func segment(_ i: Int) -> (x0: Double, y0: Double, x1: Double, y1: Double) {
        (coordinates[4 * i], coordinates[4 * i + 1], coordinates[4 * i + 2], coordinates[4 * i + 3])
    }
}
