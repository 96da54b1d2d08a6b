import SubterraGeometry
import SubterraIndex

// The array-returning query forms of `SpatialQueries` on the benchmark's Subterra index, for the
// report's "allocations per query" of the convenient API beside the callback forms that are
// timed. They answer with the segments' ids and are never timed.
extension SubterraPackedPeer {
    /// Ids of the segments exactly intersecting the box: `intersecting(_:)`.
    public func windowArray(_ q: (Double, Double, Double, Double)) -> [UInt32] {
        index.intersecting(Box(minX: q.0, minY: q.1, maxX: q.2, maxY: q.3))
    }

    /// The `k` nearest segments: `nearest(k:to:)` (one `NearestScratch` per call).
    public func nearestArray(x: Double, y: Double, k: Int) -> [Neighbor] {
        index.nearest(k: k, to: Point(x, y))
    }

    /// Segments within `r` of the point: `within(_:of:)`.
    public func withinArray(x: Double, y: Double, r: Double) -> [Neighbor] {
        index.within(r, of: Point(x, y))
    }

    /// Segments within `r` of the dig polygon given as a ring (the polygon value is built here,
    /// as the timed callback path does): `within(_:of:)`.
    public func polygonWithinArray(ring: [Double], r: Double) -> [Neighbor] {
        index.within(r, of: digPolygon(ring))
    }

    /// Allocation calls per query of the array forms over every query of `workload` (one pass,
    /// after one warm-up query), on this thread. 0 in a process that does not count allocations.
    /// O(queries × query cost).
    public func arrayFormAllocationsPerQuery(_ workload: String, queries q: QuerySet) -> Double {
        let count = q.points.count
        guard count > 0 else { return 0 }
        var checksum = 0
        func one(_ i: Int) {
            switch workload {
            case "window": checksum &+= windowArray(q.windows[i]).count
            case "nearest1": checksum &+= nearestArray(x: q.points[i].0, y: q.points[i].1, k: 1).count
            case "nearest10": checksum &+= nearestArray(x: q.points[i].0, y: q.points[i].1, k: 10).count
            case "within": checksum &+= withinArray(x: q.points[i].0, y: q.points[i].1, r: q.radii[i]).count
            default: checksum &+= polygonWithinArray(ring: q.polygons[i], r: 1).count
            }
        }
        one(0)
        let before = allocationsOnThisThread()
        for i in 0..<count { one(i) }
        let calls = allocationsOnThisThread() &- before
        keepAlive(checksum)
        return Double(calls) / Double(count)
    }
}
