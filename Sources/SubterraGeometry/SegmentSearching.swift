import SubterraIndex

/// Turns a segment index's tree key and the key's box into the caller's id and the exact segment.
/// Implemented by the indexes (leaf-order tables for `SegmentIndex`, slot tables for
/// `DynamicSegmentIndex`); not for use outside them.
public protocol _SegmentKeyDecoding {
    func id(_ key: UInt32) -> UInt32
    func segment(_ key: UInt32, _ box: Box) -> Segment
}

/// The queries every segment index answers, on the packed form (`SegmentIndex`) and on a dynamic
/// index's snapshot (`DynamicSegmentIndex.Snapshot`) alike.
///
/// Every answer is exact: candidates from the tree are refined against the segment with the
/// library's kernels. Two forms per query:
/// - **callback** forms (`forEach…`) hand each matching *segment* to a closure, until it returns
///   `.stop`; they allocate nothing (nearest reuses a caller-held `NearestScratch`);
/// - **array** forms answer per *id*: each id once, at the least distance of its segments (the
///   same as per segment when every id names one segment).
///
/// Query geometries: a point, a segment, a line string or a polygon (its interior counts as
/// distance 0). Window queries take a `Box`.
///
/// The underscored requirements are the indexes' plumbing; call the public methods.
public protocol SegmentSearching {
    associatedtype _Decoder: _SegmentKeyDecoding
    /// Every id names exactly one segment.
    var idsAreDistinct: Bool { get }
    /// Number of segments.
    var count: Int { get }
    func _withDecoder<R>(_ body: (_Decoder) throws -> R) rethrows -> R
    func _forEachIntersecting(_ query: Box, _ d: _Decoder, _ body: (UInt32, Box) throws -> SearchControl) rethrows
    func _forEachWithin(
        distance: Double, envelope: Box, boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double, _ body: (Neighbor) throws -> SearchControl) rethrows
    func _forEachWithin(
        distance: Double, ofX x: Double, y: Double,
        itemDistance: (UInt32, Box) throws -> Double, _ body: (Neighbor) throws -> SearchControl) rethrows
    /// The `k` nearest candidates in ascending distance, each with its key's box (an index reads
    /// it where the search found it, without a lookup).
    func _forEachNearestHit(
        k: Int, maxDistance: Double, boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double, filter: (UInt32) -> Bool, scratch: NearestScratch,
        _ body: (Neighbor, Box) throws -> SearchControl) rethrows
    /// The point form of `_forEachNearestHit`: orders by squared distance where that is exact.
    func _forEachNearestHit(
        k: Int, maxDistance: Double, toX x: Double, y: Double,
        itemSquaredDistance: (UInt32, Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor, Box) throws -> SearchControl) rethrows
}

// MARK: Query shapes

/// A query geometry as the generic searches see it: its box, a lower bound of its distance to
/// anything in a box, and its exact distance to a segment.
@usableFromInline
protocol _SegmentQueryShape {
    var box: Box { get }
    func lowerBound(_ b: Box) -> Double
    func distance(_ s: Segment) -> Double
}

@usableFromInline
struct _SegmentShape: _SegmentQueryShape {
    @usableFromInline let a: Point, b: Point
    @usableFromInline let box: Box
    @inlinable init(_ a: Point, _ b: Point) {
        self.a = Point(a.x, a.y)
        self.b = Point(b.x, b.y)
        box = Box(x0: a.x, y0: a.y, x1: b.x, y1: b.y)
    }
    @inlinable @inline(__always) func lowerBound(_ b: Box) -> Double { b.distance(to: box) }
    @inlinable @inline(__always) func distance(_ s: Segment) -> Double {
        Kernel.distance(segment: s.start, s.end, segment: a, b)
    }
}

@usableFromInline
struct _LineShape: _SegmentQueryShape {
    @usableFromInline let line: LineString
    @usableFromInline let box: Box
    @inlinable init(_ line: LineString) {
        self.line = line
        let e = line.envelope
        box = Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY)
    }
    @inlinable @inline(__always) func lowerBound(_ b: Box) -> Double { b.distance(to: box) }
    @inlinable func distance(_ s: Segment) -> Double {
        line.points.withUnsafeBufferPointer { p in
            var best = Double.infinity
            let a = s.start, b = s.end
            for v in 1..<p.count {
                best = Swift.min(best, Kernel.distance(segment: a, b, segment: p[v - 1], p[v]))
                if best == 0 { break }
            }
            return best
        }
    }
}

@usableFromInline
struct _PolygonShape: _SegmentQueryShape {
    @usableFromInline let polygon: Polygon
    @usableFromInline let box: Box
    @inlinable init(_ polygon: Polygon) {
        self.polygon = polygon
        let e = polygon.envelope
        box = Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY)
    }
    @inlinable @inline(__always) func lowerBound(_ b: Box) -> Double { b.distance(to: box) }
    @inlinable @inline(__always) func distance(_ s: Segment) -> Double {
        Kernel.distance(segment: s.start, s.end, polygon: polygon)
    }
}

// MARK: The queries

extension SegmentSearching {
    // MARK: Window

    /// Calls `body` with every segment that touches or enters the closed box `query` (decided
    /// exactly), in storage order, until it returns `.stop`. Hits have distance 0.
    /// - Complexity: O(log n + candidates); no allocation.
    @inlinable
    public func forEachIntersecting(_ query: Box, _ body: (SegmentHit) throws -> SearchControl) rethrows {
        guard query.minX <= query.maxX, query.minY <= query.maxY else { return }
        try _withDecoder { d in
            try _forEachIntersecting(query, d) { key, box in
                let s = d.segment(key, box)
                guard Kernel._segmentMeetsBox(s.x0, s.y0, s.x1, s.y1, query.minX, query.minY, query.maxX, query.maxY)
                else { return .continue }
                return try body(SegmentHit(id: d.id(key), segment: s, distance: 0))
            }
        }
    }

    /// Ids of the segments that touch or enter `query`, each once, ascending.
    @inlinable
    public func intersecting(_ query: Box) -> [UInt32] {
        var out: [UInt32] = []
        forEachIntersecting(query) { out.append($0.id); return .continue }
        return Self._sortedUnique(out)
    }

    // MARK: Within distance

    /// Calls `body` with every segment whose exact distance from the point is ≤ `distance`.
    /// - Complexity: O(log n + candidates); no allocation.
    @inlinable
    public func forEachWithin(
        _ distance: Double, of point: Point, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        let x = point.x, y = point.y
        try _withDecoder { d in
            // A within search reports an item right after measuring it: keep the segment.
            var last = Segment(x0: 0, y0: 0, x1: 0, y1: 0)
            try _forEachWithin(distance: distance, ofX: x, y: y, itemDistance: { key, box in
                last = d.segment(key, box)
                return Kernel.distance(Point(x, y), segment: last.start, last.end)
            }) { n in
                try body(SegmentHit(id: d.id(n.id), segment: last, distance: n.distance))
            }
        }
    }

    /// Calls `body` with every indexed segment within `distance` of segment `a → b`.
    @inlinable
    public func forEachWithin(
        _ distance: Double, ofSegment a: Point, _ b: Point, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _within(distance, _SegmentShape(a, b), body)
    }

    /// Calls `body` with every segment within `distance` of the line string.
    @inlinable
    public func forEachWithin(
        _ distance: Double, of line: LineString, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _within(distance, _LineShape(line), body)
    }

    /// Calls `body` with every segment within `distance` of the polygon (segments touching or
    /// inside it have distance 0).
    @inlinable
    public func forEachWithin(
        _ distance: Double, of polygon: Polygon, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _within(distance, _PolygonShape(polygon), body)
    }

    @inlinable @inline(__always)
    func _within<Q: _SegmentQueryShape>(
        _ distance: Double, _ q: Q, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        guard distance >= 0 else { return }
        try _withDecoder { d in
            // A within search reports an item right after measuring it: keep the segment.
            var last = Segment(x0: 0, y0: 0, x1: 0, y1: 0)
            try _forEachWithin(
                distance: distance, envelope: q.box.expanded(by: distance), boxLowerBound: { q.lowerBound($0) },
                itemDistance: { key, box in
                    last = d.segment(key, box)
                    return q.distance(last)
                }
            ) { n in
                try body(SegmentHit(id: d.id(n.id), segment: last, distance: n.distance))
            }
        }
    }

    /// Ids within `distance` of the point, each once at its least distance, ascending by
    /// (distance, id).
    @inlinable
    public func within(_ distance: Double, of point: Point) -> [Neighbor] {
        var out: [Neighbor] = []
        forEachWithin(distance, of: point) { out.append(Neighbor(id: $0.id, distance: $0.distance)); return .continue }
        return Self._leastPerID(out)
    }

    /// Ids within `distance` of segment `a → b`, as `within(_:of:)` for a point.
    @inlinable
    public func within(_ distance: Double, ofSegment a: Point, _ b: Point) -> [Neighbor] {
        var out: [Neighbor] = []
        forEachWithin(distance, ofSegment: a, b) { out.append(Neighbor(id: $0.id, distance: $0.distance)); return .continue }
        return Self._leastPerID(out)
    }

    /// Ids within `distance` of the line string, as `within(_:of:)` for a point.
    @inlinable
    public func within(_ distance: Double, of line: LineString) -> [Neighbor] {
        var out: [Neighbor] = []
        forEachWithin(distance, of: line) { out.append(Neighbor(id: $0.id, distance: $0.distance)); return .continue }
        return Self._leastPerID(out)
    }

    /// Ids within `distance` of the polygon (inside counts as 0), as `within(_:of:)` for a point.
    @inlinable
    public func within(_ distance: Double, of polygon: Polygon) -> [Neighbor] {
        var out: [Neighbor] = []
        forEachWithin(distance, of: polygon) { out.append(Neighbor(id: $0.id, distance: $0.distance)); return .continue }
        return Self._leastPerID(out)
    }

    // MARK: Nearest

    /// Calls `body` with segments in ascending exact distance from the point (ties by storage
    /// order), until it returns `.stop`, `k` segments were reported, or none within
    /// `maxDistance` is left. `filter` sees ids and skips segments before any distance is taken.
    /// Squared distances throughout (no square root per box), with the index's safe fallback at
    /// extreme magnitudes.
    /// - Complexity: about O((log n + k) log n); no allocation with a reused `scratch`.
    @inlinable
    public func forEachNearest(
        k: Int = .max, to point: Point, maxDistance: Double = .infinity, filter: (UInt32) -> Bool = { _ in true },
        scratch: NearestScratch, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        let x = point.x, y = point.y
        try _withDecoder { d in
            try _forEachNearestHit(
                k: k, maxDistance: maxDistance, toX: x, y: y,
                // The square of the plain kernel's distance, not `Kernel.squaredDistance`: its root
                // gives the distance back bit for bit (√(d²) = d), so answers come in the order of
                // the distances reported, and equal `within`'s. Boxes are still bounded by squares.
                itemSquaredDistance: { key, box in
                    let s = d.segment(key, box)
                    let e = Kernel.distance(Point(x, y), segment: s.start, s.end)
                    return e * e
                },
                itemDistance: { key, box in
                    let s = d.segment(key, box)
                    return Kernel.distance(Point(x, y), segment: s.start, s.end)
                },
                filter: { filter(d.id($0)) }, scratch: scratch
            ) { n, box in
                try body(SegmentHit(id: d.id(n.id), segment: d.segment(n.id, box), distance: n.distance))
            }
        }
    }

    /// `forEachNearest` from segment `a → b`.
    @inlinable
    public func forEachNearest(
        k: Int = .max, toSegment a: Point, _ b: Point, maxDistance: Double = .infinity,
        filter: (UInt32) -> Bool = { _ in true }, scratch: NearestScratch, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _nearest(k, _SegmentShape(a, b), maxDistance, filter, scratch, body)
    }

    /// `forEachNearest` from a line string.
    @inlinable
    public func forEachNearest(
        k: Int = .max, to line: LineString, maxDistance: Double = .infinity,
        filter: (UInt32) -> Bool = { _ in true }, scratch: NearestScratch, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _nearest(k, _LineShape(line), maxDistance, filter, scratch, body)
    }

    /// `forEachNearest` from a polygon (segments touching or inside it come first, at 0).
    @inlinable
    public func forEachNearest(
        k: Int = .max, to polygon: Polygon, maxDistance: Double = .infinity,
        filter: (UInt32) -> Bool = { _ in true }, scratch: NearestScratch, _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _nearest(k, _PolygonShape(polygon), maxDistance, filter, scratch, body)
    }

    @inlinable @inline(__always)
    func _nearest<Q: _SegmentQueryShape>(
        _ k: Int, _ q: Q, _ maxDistance: Double, _ filter: (UInt32) -> Bool, _ scratch: NearestScratch,
        _ body: (SegmentHit) throws -> SearchControl
    ) rethrows {
        try _withDecoder { d in
            try _forEachNearestHit(
                k: k, maxDistance: maxDistance, boxLowerBound: { q.lowerBound($0) },
                itemDistance: { key, box in q.distance(d.segment(key, box)) },
                filter: { filter(d.id($0)) }, scratch: scratch
            ) { n, box in
                try body(SegmentHit(id: d.id(n.id), segment: d.segment(n.id, box), distance: n.distance))
            }
        }
    }

    /// The `k` nearest ids to the point, each once at its least distance, ascending (ties by
    /// storage order of their nearest segments), at most `maxDistance` away.
    @inlinable
    public func nearest(
        k: Int, to point: Point, maxDistance: Double = .infinity, filter: (UInt32) -> Bool = { _ in true }
    ) -> [Neighbor] {
        _nearestIDs(k) { k2, scratch, body in
            forEachNearest(k: k2, to: point, maxDistance: maxDistance, filter: filter, scratch: scratch, body)
        }
    }

    /// The `k` nearest ids to segment `a → b`, as `nearest(k:to:)` for a point.
    @inlinable
    public func nearest(
        k: Int, toSegment a: Point, _ b: Point, maxDistance: Double = .infinity, filter: (UInt32) -> Bool = { _ in true }
    ) -> [Neighbor] {
        _nearestIDs(k) { k2, scratch, body in
            forEachNearest(k: k2, toSegment: a, b, maxDistance: maxDistance, filter: filter, scratch: scratch, body)
        }
    }

    /// The `k` nearest ids to the line string, as `nearest(k:to:)` for a point.
    @inlinable
    public func nearest(
        k: Int, to line: LineString, maxDistance: Double = .infinity, filter: (UInt32) -> Bool = { _ in true }
    ) -> [Neighbor] {
        _nearestIDs(k) { k2, scratch, body in
            forEachNearest(k: k2, to: line, maxDistance: maxDistance, filter: filter, scratch: scratch, body)
        }
    }

    /// The `k` nearest ids to the polygon (inside counts as 0), as `nearest(k:to:)` for a point.
    @inlinable
    public func nearest(
        k: Int, to polygon: Polygon, maxDistance: Double = .infinity, filter: (UInt32) -> Bool = { _ in true }
    ) -> [Neighbor] {
        _nearestIDs(k) { k2, scratch, body in
            forEachNearest(k: k2, to: polygon, maxDistance: maxDistance, filter: filter, scratch: scratch, body)
        }
    }

    /// Runs a segment search for the `k` nearest *ids*: with distinct ids the search is bounded by
    /// `k` (its k-th best distance prunes); otherwise segments come in ascending order and the
    /// first `k` distinct ids are kept (an id's first segment is its nearest).
    @inlinable
    func _nearestIDs(
        _ k: Int, _ search: (Int, NearestScratch, (SegmentHit) -> SearchControl) -> Void
    ) -> [Neighbor] {
        guard k > 0, count > 0 else { return [] }
        var out: [Neighbor] = []
        out.reserveCapacity(Swift.min(k, 64))
        var seen = Set<UInt32>()
        let distinct = idsAreDistinct
        search(distinct ? k : .max, NearestScratch()) { hit in
            if !distinct {
                guard seen.insert(hit.id).inserted else { return .continue }
            }
            out.append(Neighbor(id: hit.id, distance: hit.distance))
            return out.count == k ? .stop : .continue
        }
        return out
    }

    @inlinable
    static func _sortedUnique(_ ids: [UInt32]) -> [UInt32] {
        var s = ids.sorted()
        var w = 0
        for i in s.indices where i == 0 || s[i] != s[i - 1] {
            s[w] = s[i]
            w += 1
        }
        s.removeLast(s.count - w)
        return s
    }

    /// Each id once at its least distance, ascending by (distance, id).
    @inlinable
    static func _leastPerID(_ hits: [Neighbor]) -> [Neighbor] {
        var s = hits.sorted { ($0.id, $0.distance) < ($1.id, $1.distance) }
        var w = 0
        for i in s.indices where i == 0 || s[i].id != s[i - 1].id {
            s[w] = s[i]
            w += 1
        }
        s.removeLast(s.count - w)
        s.sort { ($0.distance, $0.id) < ($1.distance, $1.id) }
        return s
    }
}
