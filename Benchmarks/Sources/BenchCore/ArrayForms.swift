import SubterraGeometry
import SubterraIndex

// The array-returning query forms of `SpatialQueries` on the benchmark's Subterra index, for the
// report's "allocations per query" of the convenient API beside the callback forms that are
// timed. They answer with tree ids (the ids `index` stores) and are never timed.
extension SubterraPackedPeer {
    /// Tree ids of the segments exactly intersecting the box: `intersecting(_:where:)`.
    public func windowArray(_ q: (Double, Double, Double, Double)) -> [UInt32] {
        coords.withUnsafeBufferPointer { c in
            index.intersecting(Box(minX: q.0, minY: q.1, maxX: q.2, maxY: q.3)) { id in
                let i = Int(id) &* 4
                return segmentIntersectsBox(c[i], c[i + 1], c[i + 2], c[i + 3], q.0, q.1, q.2, q.3)
            }
        }
    }

    /// The `k` nearest segments: `nearest(k:toX:y:exactDistance:)` (one `NearestScratch` per call).
    /// The distance is the root of the kernel's squared distance, as the timed squared form
    /// reports it, so both forms agree bit for bit (the plain kernel can differ in the last bit).
    public func nearestArray(x: Double, y: Double, k: Int) -> [Neighbor] {
        coords.withUnsafeBufferPointer { c in
            index.nearest(k: k, toX: x, y: y, exactDistance: { id in
                let i = Int(id) &* 4
                return Kernel.squaredDistance(Point(x, y), segment: Point(c[i], c[i + 1]), Point(c[i + 2], c[i + 3])).squareRoot()
            })
        }
    }

    /// Segments within `r` of the point: `within(distance:ofX:y:exactDistance:)`.
    public func withinArray(x: Double, y: Double, r: Double) -> [Neighbor] {
        coords.withUnsafeBufferPointer { c in
            index.within(distance: r, ofX: x, y: y, exactDistance: { id in
                let i = Int(id) &* 4
                return Kernel.distance(Point(x, y), segment: Point(c[i], c[i + 1]), Point(c[i + 2], c[i + 3]))
            })
        }
    }

    /// Segments within `r` of the dig polygon given as a ring (the polygon value is built here,
    /// as the timed callback path does): `within(distance:boxLowerBound:exactDistance:)`.
    public func polygonWithinArray(ring: [Double], r: Double) -> [Neighbor] {
        let polygon = digPolygon(ring)
        let e = polygon.exterior.envelope
        let polygonBox = Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY)
        return coords.withUnsafeBufferPointer { c in
            index.within(distance: r, boxLowerBound: { $0.distance(to: polygonBox) }, exactDistance: { id in
                let i = Int(id) &* 4
                return Kernel.distance(segment: Point(c[i], c[i + 1]), Point(c[i + 2], c[i + 3]), polygon: polygon)
            })
        }
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
