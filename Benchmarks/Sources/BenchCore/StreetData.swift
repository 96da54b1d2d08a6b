/// Street-like pipe segments as one flat `[x0, y0, x1, y1, …]` array (metres, CGCS2000
/// Gauss-Kruger, x = easting), the layout every peer can read without conversion.
///
/// Data is laid out like a surveyed district near Wenling: a jittered street grid (blocks of
/// 80–150 m), several utility lines running along each street at fixed lateral offsets, each cut
/// into 5–60 m segments (pipe runs between joints or manholes). Neighbouring segments share end
/// points and parallel lines sit 1–3 m apart, which is what makes nearest and within-distance
/// queries on real survey data hard: many near-ties, many boxes overlapping.
public struct StreetSegments: Sendable {
    /// `4 * count` coordinates: x0, y0, x1, y1 per segment; the id of a segment is its position.
    public var coordinates: [Double]
    public var count: Int { coordinates.count / 4 }
    /// Bounding box of all segments: minX, minY, maxX, maxY.
    public var extent: (minX: Double, minY: Double, maxX: Double, maxY: Double)

    /// Easting/northing of the district's south-west corner (CGCS2000 / 3-degree GK CM 120E).
    public static let origin = (x: 640_000.0, y: 3_150_000.0)

    /// Generates exactly `count` segments, deterministically from `seed`.
    /// - Complexity: O(count).
    public static func generate(count: Int, seed: UInt64) -> StreetSegments {
        var rng = SplitMix64(seed: seed ^ 0x5EED_57EE_7000_0001)
        var out = [Double]()
        out.reserveCapacity(4 * count)
        // Lateral offsets (m) of the utility lines along a street: water, drainage, sewer, gas,
        // power, telecom, heat; about 230 segments per street kilometre in total.
        let offsets: [Double] = [-6.0, -4.5, -2.0, 0.0, 1.5, 3.0, 5.0]
        let segmentsPerKm = 230.0
        let spacing = 115.0
        let streetKm = Double(max(count, 1)) / segmentsPerKm
        let side = max(300.0, (streetKm * 1000 * spacing / 2).squareRoot())
        let lines = max(2, Int(side / spacing) + 1)
        var street = 0
        while out.count < 4 * count {
            // Alternate east-west and north-south streets; wrap round with new jitter if the
            // estimate was short, so the count is always met.
            let horizontal = street % 2 == 0
            let k = (street / 2) % lines
            let base = Double(k) * spacing + rng.uniform(-15, 15)
            let wobble = rng.uniform(-0.02, 0.02)  // slight skew: streets are not axis-true
            for offset in offsets where out.count < 4 * count {
                var t = rng.uniform(0, 20)
                while t < side, out.count < 4 * count {
                    let len = rng.uniform(5, 60)
                    let t1 = min(side, t + len)
                    func at(_ s: Double) -> (Double, Double) {
                        let across = base + offset + wobble * s
                        return horizontal ? (s, across) : (across, s)
                    }
                    let a = at(t), b = at(t1)
                    out.append(origin.x + a.0)
                    out.append(origin.y + a.1)
                    out.append(origin.x + b.0)
                    out.append(origin.y + b.1)
                    t = t1
                }
            }
            street += 1
        }
        var e = (minX: Double.infinity, minY: Double.infinity, maxX: -Double.infinity, maxY: -Double.infinity)
        var i = 0
        while i < out.count {
            e.minX = min(e.minX, out[i], out[i + 2])
            e.maxX = max(e.maxX, out[i], out[i + 2])
            e.minY = min(e.minY, out[i + 1], out[i + 3])
            e.maxY = max(e.maxY, out[i + 1], out[i + 3])
            i += 4
        }
        return StreetSegments(coordinates: out, extent: e)
    }

    /// Segment `i` as its two end points.
    @inlinable
    public func segment(_ i: Int) -> (x0: Double, y0: Double, x1: Double, y1: Double) {
        (coordinates[4 * i], coordinates[4 * i + 1], coordinates[4 * i + 2], coordinates[4 * i + 3])
    }
}
