import SubterraIndex

/// Subterra's `PackedRTree` over segment boxes, refined with exact kernels through the
/// allocation-free callback forms (`forEachIntersecting`, `forEachWithin`, `forEachNearest`),
/// the way the engine uses it.
public final class SubterraPackedPeer: IndexPeer {
    public let name = "subterra"
    let tree: PackedRTree
    let coords: [Double]
    var scratch = NearestScratch()

    public init(_ data: StreetSegments) {
        coords = data.coordinates
        var boxes = [Box]()
        boxes.reserveCapacity(data.count)
        data.coordinates.withUnsafeBufferPointer { c in
            for i in 0..<data.count {
                boxes.append(Box(x0: c[4 * i], y0: c[4 * i + 1], x1: c[4 * i + 2], y1: c[4 * i + 3]))
            }
        }
        // Generated coordinates are finite by construction; a throw here is a benchmark bug.
        tree = try! PackedRTree(boxes: boxes)
    }

    public var reportedBytes: Int? { tree.memoryFootprint }

    public func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        coords.withUnsafeBufferPointer { c in
            tree.forEachIntersecting(Box(minX: q.0, minY: q.1, maxX: q.2, maxY: q.3)) { id in
                let i = Int(id) &* 4
                if segmentIntersectsBox(c[i], c[i + 1], c[i + 2], c[i + 3], q.0, q.1, q.2, q.3) { out.append(id) }
                return .continue
            }
        }
    }

    public func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        ids.removeAll(keepingCapacity: true)
        distances.removeAll(keepingCapacity: true)
        coords.withUnsafeBufferPointer { c in
            tree.forEachNearest(
                boxLowerBound: { $0.distance(toX: x, y: y) },
                exactDistance: { id in
                    let i = Int(id) &* 4
                    return pointSegmentDistance(x, y, c[i], c[i + 1], c[i + 2], c[i + 3])
                },
                filter: { _ in true },
                scratch: &scratch
            ) { n in
                ids.append(n.id)
                distances.append(n.distance)
                return ids.count < k ? .continue : .stop
            }
        }
    }

    public func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        coords.withUnsafeBufferPointer { c in
            tree.forEachWithin(
                distance: r,
                boxLowerBound: { $0.distance(toX: x, y: y) },
                exactDistance: { id in
                    let i = Int(id) &* 4
                    return pointSegmentDistance(x, y, c[i], c[i + 1], c[i + 2], c[i + 3])
                }
            ) { n in
                out.append(n.id)
                return .continue
            }
        }
    }

    public func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        out.removeAll(keepingCapacity: true)
        var bounds = Box(x: ring[0], y: ring[1])
        var j = 2
        while j < ring.count {
            bounds = bounds.union(Box(x: ring[j], y: ring[j + 1]))
            j += 2
        }
        let polygonBox = bounds
        coords.withUnsafeBufferPointer { c in
            tree.forEachWithin(
                distance: r,
                boxLowerBound: { $0.distance(to: polygonBox) },
                exactDistance: { id in
                    let i = Int(id) &* 4
                    return segmentPolygonDistance(c[i], c[i + 1], c[i + 2], c[i + 3], ring: ring)
                }
            ) { n in
                out.append(n.id)
                return .continue
            }
        }
    }
}
