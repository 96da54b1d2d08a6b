/// The query surface shared by `PackedRTree` and `DynamicRTree.Snapshot`.
///
/// Conforming types implement the allocation-free callback forms (the requirements); the array
/// forms and the point/box conveniences are written once, in the extension, on top of them. All
/// of it is `@inlinable`, so at a call site with a concrete type everything specialises.
///
/// Semantics shared by every form:
/// - window queries use closed boxes (touching counts) and are exact over the build boxes;
/// - distance queries report an item iff its **exact** distance (the caller's `exactDistance`)
///   is ≤ the limit; `boxLowerBound` only prunes and must not exceed the exact distance of
///   anything inside the box (rounding up to ~2^-40 relative is absorbed);
/// - nearest results come in ascending exact distance, ties by ascending id.
public protocol SpatialQueries {
    /// Number of live items.
    var count: Int { get }

    /// Calls `body` with the id and box of every item whose box intersects `query`, until `.stop`.
    func forEachIntersecting(_ query: Box, items body: (UInt32, Box) throws -> SearchControl) rethrows

    /// Calls `body` for every item whose exact distance (`itemDistance`, given the item's id and
    /// box) is ≤ `distance`, until `.stop`.
    func forEachWithin(
        distance: Double,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl) rethrows

    /// `forEachWithin` that first prunes boxes missing `envelope` (a box holding every point
    /// within `distance` of the query) with four comparisons.
    func forEachWithin(
        distance: Double,
        envelope: Box,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl) rethrows

    /// `forEachWithin` around the point `(x, y)`, pruning with squared point–box distances.
    func forEachWithin(
        distance: Double, ofX x: Double, y: Double,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl) rethrows

    /// Best-first nearest search, at most `k` answers within `maxDistance`, until `.stop`.
    func forEachNearest(
        k: Int,
        maxDistance: Double,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool,
        scratch: NearestScratch,
        _ body: (Neighbor) throws -> SearchControl) rethrows

    /// Nearest search around the point `(x, y)` in squared distances (`itemSquaredDistance` gives
    /// the squared exact distance, `itemDistance` the plain one for where squares would overflow
    /// or underflow; answers carry the root).
    func forEachNearest(
        k: Int,
        maxDistance: Double,
        toX x: Double, y: Double,
        itemSquaredDistance: (UInt32, Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool,
        scratch: NearestScratch,
        _ body: (Neighbor) throws -> SearchControl) rethrows

    /// Incremental nearest iterator (stores the closures).
    func nearestSequence(
        maxDistance: Double,
        boxLowerBound: @escaping (Box) -> Double,
        exactDistance: @escaping (UInt32) -> Double,
        filter: @escaping (UInt32) -> Bool) -> NearestIterator
}

extension PackedRTree: SpatialQueries {}
extension DynamicRTree.Snapshot: SpatialQueries {}

// The id-only forms: the same queries for callers that look their items up by id. They forward
// to the item forms through an inlined closure, so they cost nothing extra.
extension SpatialQueries {
    /// Calls `body` with the id of every item whose box intersects `query` (closed boxes: touching
    /// counts), in index order, until it returns `.stop`. Exact: equal to brute force over the
    /// build boxes. A NaN query matches nothing.
    @inlinable @inline(__always)
    public func forEachIntersecting(_ query: Box, _ body: (UInt32) throws -> SearchControl) rethrows {
        try forEachIntersecting(query, items: { id, _ in try body(id) })
    }

    /// Calls `body` for every item whose **exact** distance (`exactDistance`) is ≤ `distance`,
    /// until `.stop`; `boxLowerBound` prunes nodes and skips items before `exactDistance`.
    @inlinable @inline(__always)
    public func forEachWithin(
        distance: Double,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try forEachWithin(distance: distance, boxLowerBound: boxLowerBound,
                          itemDistance: { id, _ in try exactDistance(id) }, body)
    }

    /// `forEachWithin` with a search envelope (see `PackedRTree.forEachWithin(distance:envelope:…)`).
    @inlinable @inline(__always)
    public func forEachWithin(
        distance: Double,
        envelope: Box,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try forEachWithin(distance: distance, envelope: envelope, boxLowerBound: boxLowerBound,
                          itemDistance: { id, _ in try exactDistance(id) }, body)
    }

    /// Point form of `forEachWithin`: prunes with squared point–box distances (no square root).
    @inlinable @inline(__always)
    public func forEachWithin(
        distance: Double, ofX x: Double, y: Double,
        exactDistance: (UInt32) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try forEachWithin(distance: distance, ofX: x, y: y, itemDistance: { id, _ in try exactDistance(id) }, body)
    }

    /// Best-first nearest search by exact distance (`exactDistance`), ascending, ties by id; see
    /// `PackedRTree.forEachNearest(k:maxDistance:boxLowerBound:itemDistance:filter:scratch:_:)`.
    @inlinable @inline(__always)
    public func forEachNearest(
        k: Int = .max,
        maxDistance: Double = .infinity,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true },
        scratch: NearestScratch,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try forEachNearest(k: k, maxDistance: maxDistance, boxLowerBound: boxLowerBound,
                           itemDistance: { id, _ in try exactDistance(id) }, filter: filter, scratch: scratch, body)
    }

    /// Ids of all items whose box intersects `query` (closed boxes), in index order.
    @inlinable
    public func intersecting(_ query: Box) -> [UInt32] {
        var out: [UInt32] = []
        forEachIntersecting(query) { out.append($0); return .continue }
        return out
    }

    /// Ids of the items whose box intersects `query` *and* pass the caller's exact predicate
    /// (e.g. "the segment really crosses the dig polygon"). The predicate sees only box hits.
    @inlinable
    public func intersecting(_ query: Box, where exact: (UInt32) throws -> Bool) rethrows -> [UInt32] {
        var out: [UInt32] = []
        try forEachIntersecting(query) { id in
            if try exact(id) { out.append(id) }
            return .continue
        }
        return out
    }

    /// All items whose exact distance is ≤ `distance`, with their distances, in index order.
    @inlinable
    public func within(
        distance: Double,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double
    ) rethrows -> [Neighbor] {
        var out: [Neighbor] = []
        try forEachWithin(distance: distance, boxLowerBound: boxLowerBound, exactDistance: exactDistance) {
            out.append($0)
            return .continue
        }
        return out
    }

    /// Items whose exact distance from the point `(x, y)` is ≤ `distance`.
    @inlinable
    public func within(
        distance: Double, ofX x: Double, y: Double, exactDistance: (UInt32) throws -> Double
    ) rethrows -> [Neighbor] {
        var out: [Neighbor] = []
        try forEachWithin(distance: distance, ofX: x, y: y, exactDistance: exactDistance) {
            out.append($0)
            return .continue
        }
        return out
    }

    /// Items whose exact distance from the box `query` is ≤ `distance` (envelope-pruned).
    @inlinable
    public func within(
        distance: Double, of query: Box, exactDistance: (UInt32) throws -> Double
    ) rethrows -> [Neighbor] {
        var out: [Neighbor] = []
        try forEachWithin(distance: distance, envelope: query.expanded(by: distance),
                          boxLowerBound: { $0.distance(to: query) }, exactDistance: exactDistance) {
            out.append($0)
            return .continue
        }
        return out
    }

    /// `forEachNearest` with the box bound given as a `BoxDistanceBound` value.
    @inlinable
    public func forEachNearest<B: BoxDistanceBound>(
        k: Int = .max,
        maxDistance: Double = .infinity,
        bound: B,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true },
        scratch: NearestScratch,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try forEachNearest(k: k, maxDistance: maxDistance, boxLowerBound: { bound.lowerBound($0) },
                           exactDistance: exactDistance, filter: filter, scratch: scratch, body)
    }

    /// The `k` nearest items by exact distance, ascending (ties by id), at most `maxDistance`
    /// away. `k <= 0` or an empty index give `[]`; `k > count` gives every item in range.
    /// Allocates one `NearestScratch`; keep one and use `forEachNearest` in hot loops.
    @inlinable
    public func nearest(
        k: Int,
        maxDistance: Double = .infinity,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        guard k > 0, count > 0 else { return [] }
        var out: [Neighbor] = []
        out.reserveCapacity(Swift.min(k, 64))
        try forEachNearest(
            k: k, maxDistance: maxDistance, boxLowerBound: boxLowerBound, exactDistance: exactDistance,
            filter: filter, scratch: NearestScratch()
        ) {
            out.append($0)
            return .continue
        }
        return out
    }

    /// `nearest(k:…)` with the box bound given as a `BoxDistanceBound` value.
    @inlinable
    public func nearest<B: BoxDistanceBound>(
        k: Int,
        maxDistance: Double = .infinity,
        bound: B,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        try nearest(k: k, maxDistance: maxDistance, boxLowerBound: { bound.lowerBound($0) },
                    exactDistance: exactDistance, filter: filter)
    }

    /// The `k` nearest items to the point `(x, y)`; the box bound is the point–box distance.
    @inlinable
    public func nearest(
        k: Int, toX x: Double, y: Double, maxDistance: Double = .infinity,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        try nearest(k: k, maxDistance: maxDistance, bound: PointDistanceBound(x: x, y: y),
                    exactDistance: exactDistance, filter: filter)
    }

    /// The `k` nearest items to the box `query`; the box bound is the box–box distance.
    @inlinable
    public func nearest(
        k: Int, to query: Box, maxDistance: Double = .infinity,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        try nearest(k: k, maxDistance: maxDistance, bound: BoxToBoxDistanceBound(query),
                    exactDistance: exactDistance, filter: filter)
    }
}
