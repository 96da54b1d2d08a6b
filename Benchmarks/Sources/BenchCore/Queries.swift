/// One deterministic batch of queries per workload, shared by every peer in a run.
public struct QuerySet: Sendable {
    /// Dig-site windows, 10–50 m a side: minX, minY, maxX, maxY.
    public var windows: [(Double, Double, Double, Double)]
    /// Query points for nearest and within-distance, near the network (0–10 m off a pipe).
    public var points: [(Double, Double)]
    /// Within-distance radius per point, 1.5–5 m (CJJ 61 clearance range).
    public var radii: [Double]
    /// Dig polygons: 4–8 vertex star-shaped (so simple) rings, open, x,y pairs, 3–15 m radius.
    public var polygons: [[Double]]

    /// Builds `count` queries of each kind around `data`, deterministically from `seed`.
    public static func make(count: Int, around data: SegmentSet, seed: UInt64) -> QuerySet {
        var rng = SplitMix64(seed: seed ^ 0x0051_E7E5_0000_0002)
        func anchor() -> (Double, Double) {
            let s = data.segment(Int(rng.next() % UInt64(data.count)))
            let t = rng.uniform(0, 1)
            return (s.x0 + t * (s.x1 - s.x0) + rng.uniform(-10, 10), s.y0 + t * (s.y1 - s.y0) + rng.uniform(-10, 10))
        }
        var q = QuerySet(windows: [], points: [], radii: [], polygons: [])
        for _ in 0..<count {
            let c = anchor()
            let w = rng.uniform(10, 50), h = rng.uniform(10, 50)
            q.windows.append((c.0 - w / 2, c.1 - h / 2, c.0 + w / 2, c.1 + h / 2))
            q.points.append(anchor())
            q.radii.append(rng.uniform(1.5, 5))
            let centre = anchor()
            let k = 4 + Int(rng.next() % 5)
            var angles = (0..<k).map { _ in rng.uniform(0, 2 * Double.pi) }
            angles.sort()
            var ring = [Double]()
            for a in angles {
                let r = rng.uniform(3, 15)
                ring.append(centre.0 + r * cos(a))
                ring.append(centre.1 + r * sin(a))
            }
            q.polygons.append(ring)
        }
        return q
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
