import SubterraGeometry
import SubterraIndex

/// Subterra through its public segment index, `SegmentIndex`, as the README shows a user: the
/// segments go in with their ids (`init(segments:)`, id = position in the `SegmentSet`), and every
/// query is the index's own exact callback form (`forEachIntersecting`, `forEachWithin`,
/// `forEachNearest` with a reused `NearestScratch`). The peer holds no coordinate table and no
/// geometry code of its own: the index keeps the segments and refines with the library's kernels.
/// `reportedBytes` is the index's `memoryFootprint` (geometry, ids and tree).
///
/// Concrete (not generic over the index type) so every closure inlines, as in a user's code.
public final class SubterraPackedPeer: IndexPeer {
    public let name = "subterra"
    public let index: SegmentIndex
    let scratch = NearestScratch()
    public var reportedBytes: Int? { index.memoryFootprint }

    /// Builds the index from the segments (Hilbert-packed, default node size). O(n).
    public init(_ data: SegmentSet) {
        // Generated coordinates are finite by construction; a throw here is a benchmark bug.
        index = try! SegmentIndex(segments: segmentList(data))
    }

    public func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        index.forEachIntersecting(Box(minX: q.0, minY: q.1, maxX: q.2, maxY: q.3)) { hit in
            out.append(hit.id)
            return .continue
        }
    }

    public func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        ids.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        index.forEachNearest(k: k, to: Point(x, y), scratch: scratch) { hit in
            ids.append(hit.id)
            distances.append(hit.distance)
            return .continue
        }
    }

    public func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        index.forEachWithin(r, of: Point(x, y)) { hit in
            out.append(hit.id)
            return .continue
        }
    }

    public func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        // Building the polygon value allocates (its ring array); the engine builds it once per
        // dig site, so the package-benchmark measures `polygonWithin(_:r:into:)` on prebuilt ones.
        polygonWithin(digPolygon(ring), r: r, into: &out)
    }

    /// Segments within exact distance `r` of `polygon` (inside counts as 0); allocates nothing.
    public func polygonWithin(_ polygon: Polygon, r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        index.forEachWithin(r, of: polygon) { hit in
            out.append(hit.id)
            return .continue
        }
    }
}

/// A dig polygon from an open ring of x,y pairs (the form the C peers take).
public func digPolygon(_ ring: [Double]) -> Polygon {
    var points = [Point]()
    points.reserveCapacity(ring.count / 2 + 1)
    for j in stride(from: 0, to: ring.count, by: 2) { points.append(Point(ring[j], ring[j + 1])) }
    points.append(points[0])
    // Generated rings are closed, finite and have >= 4 vertices; a throw is a benchmark bug.
    return Polygon(exterior: try! LinearRing(points))
}

/// The segments in id order, as the segment indexes take them.
func segmentList(_ data: SegmentSet) -> [Segment] {
    data.coordinates.withUnsafeBufferPointer { c in
        (0..<data.count).map { i in Segment(x0: c[4 * i], y0: c[4 * i + 1], x1: c[4 * i + 2], y1: c[4 * i + 3]) }
    }
}

/// Segment boxes in id order.
func segmentBoxes(_ data: SegmentSet) -> [Box] {
    var boxes = [Box]()
    boxes.reserveCapacity(data.count)
    data.coordinates.withUnsafeBufferPointer { c in
        for i in 0..<data.count {
            boxes.append(Box(x0: c[4 * i], y0: c[4 * i + 1], x1: c[4 * i + 2], y1: c[4 * i + 3]))
        }
    }
    return boxes
}

/// `DynamicSegmentIndex` filled by insertion (the build is what is timed), queried through a
/// snapshot's exact callback forms, as the packed peer.
///
/// `batch == 1` is one `apply` of one insert per segment, like Boost's `insert`; the suite uses it
/// up to 10^6. At 10^7 (`--large`) it uses batches of `batch` edits, the documented bulk path, and
/// names the peer accordingly ("subterra-batch1024").
public final class SubterraDynamicPeer: IndexPeer {
    public let name: String
    let index: DynamicSegmentIndex
    let scratch = NearestScratch()

    public init(_ data: SegmentSet, batch: Int = 1) {
        name = batch == 1 ? "subterra" : "subterra-batch\(batch)"
        index = try! DynamicSegmentIndex()
        let segments = segmentList(data)
        var start = 0
        while start < segments.count {
            let end = min(start + batch, segments.count)
            try! index.apply((start..<end).map { SegmentEdit.insert(id: UInt32($0), segments: [segments[$0]]) })
            start = end
        }
    }

    public var reportedBytes: Int? { nil }

    public func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        index.snapshot().forEachIntersecting(Box(minX: q.0, minY: q.1, maxX: q.2, maxY: q.3)) { hit in
            out.append(hit.id)
            return .continue
        }
    }

    public func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        ids.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        index.snapshot().forEachNearest(k: k, to: Point(x, y), scratch: scratch) { hit in
            ids.append(hit.id)
            distances.append(hit.distance)
            return .continue
        }
    }

    public func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        index.snapshot().forEachWithin(r, of: Point(x, y)) { hit in
            out.append(hit.id)
            return .continue
        }
    }

    public func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        index.snapshot().forEachWithin(r, of: digPolygon(ring)) { hit in
            out.append(hit.id)
            return .continue
        }
    }
}
