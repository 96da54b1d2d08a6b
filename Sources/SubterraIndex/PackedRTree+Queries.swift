// Window and within-distance queries on the packed tree. Both are depth-first over an explicit
// stack of (level, position) words in a temporary allocation sized levels × nodeSize, which is the
// deepest a DFS can get; no allocation for the usual node sizes (the stdlib puts ≤ 1 KiB on the
// stack).

extension PackedRTree {
    /// Start offset of `level` in `_boxes`.
    @inlinable @inline(__always)
    func _levelStart(_ level: Int, _ ends: UnsafeBufferPointer<Int>) -> Int {
        level == 0 ? 0 : ends[level - 1]
    }

    /// Depth-first traversal. `nodeTest` decides whether to descend into a box (nodes and items);
    /// `leaf` is handed the id and box of each item that passes; returns `false` if stopped.
    @inlinable @inline(__always)
    func _traverse(
        nodeTest: (Box) throws -> Bool,
        leaf: (UInt32, Box) throws -> SearchControl
    ) rethrows -> Bool {
        if _count == 0 { return true }
        let m = nodeSize
        return try _boxes.withUnsafeBufferPointer { boxes in
            try _ids.withUnsafeBufferPointer { ids in
                try _levelEnds.withUnsafeBufferPointer { ends in
                    let rootLevel = ends.count - 1
                    let root = boxes.count - 1
                    guard try nodeTest(boxes[root]) else { return true }
                    return try withUnsafeTemporaryAllocation(of: Int.self, capacity: ends.count * m + 1) { stack in
                        stack[0] = rootLevel << 48 | root
                        var top = 1
                        while top > 0 {
                            top -= 1
                            let entry = stack[top]
                            let level = entry >> 48
                            let pos = entry & (1 << 48 - 1)
                            let childLevelStart = level == 1 ? 0 : ends[level - 2]
                            let first = childLevelStart + (pos - ends[level - 1]) * m
                            let last = Swift.min(first + m, ends[level - 1])
                            if level == 1 {
                                var c = first
                                while c < last {
                                    let box = boxes[c]
                                    if try nodeTest(box), try leaf(_id(at: c, ids), box) == .stop { return false }
                                    c += 1
                                }
                            } else {
                                // Push in reverse so children are visited in array order.
                                var c = last - 1
                                let tag = (level - 1) << 48
                                while c >= first {
                                    if try nodeTest(boxes[c]) {
                                        stack[top] = tag | c
                                        top += 1
                                    }
                                    c -= 1
                                }
                            }
                        }
                        return true
                    }
                }
            }
        }
    }

    /// Calls `body` with the id and box of every item whose box intersects `query` (closed boxes:
    /// touching counts), in tree order, until it returns `.stop`. Exact: equal to brute force over
    /// the build boxes. A NaN query matches nothing. The box is the leaf just read, so an exact
    /// predicate that can work from it (a straight segment is one of its box's diagonals) touches
    /// no other memory.
    ///
    /// - Complexity: O(log n + k) node visits for a small window; no allocation.
    @inlinable @inline(__always)
    public func forEachIntersecting(_ query: Box, items body: (UInt32, Box) throws -> SearchControl) rethrows {
        _ = try _traverse(nodeTest: { $0._overlaps(query) }, leaf: body)
    }

    /// Distance limit used for pruning so that rounding in a caller's lower bound never hides an
    /// item whose exact distance is ≤ `d` (relative 2^-39 plus the tree's absolute slack).
    @inlinable
    func _pruneLimit(_ d: Double) -> Double {
        (d + _slack) * (1 + 0x1p-39)
    }

    /// Shared within-distance traversal: `nodeTest` prunes boxes (nodes and items), survivors get
    /// `itemDistance`, and those at ≤ `distance` go to `body`.
    @inlinable @inline(__always)
    func _forEachWithin(
        distance: Double,
        nodeTest: (Box) throws -> Bool,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        _ = try _traverse(nodeTest: nodeTest, leaf: { id, box in
            let d = try itemDistance(id, box)
            return d <= distance ? try body(Neighbor(id: id, distance: d)) : .continue
        })
    }

    /// Calls `body` for every item whose **exact** distance is ≤ `distance`, until `.stop`.
    ///
    /// - Parameters:
    ///   - boxLowerBound: a lower bound of the distance from the query to anything inside a box
    ///     (for a point query, `box.distance(toX:y:)`); used to prune nodes and to skip items
    ///     before calling `itemDistance`.
    ///   - itemDistance: the exact distance from the query to item `id` (e.g. point–segment),
    ///     given the item's box as built (see `forEachIntersecting(_:items:)`).
    /// - Complexity: O(log n + candidates); no allocation.
    @inlinable @inline(__always)
    public func forEachWithin(
        distance: Double,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        let limit = _pruneLimit(distance)
        try _forEachWithin(distance: distance, nodeTest: { try boxLowerBound($0) <= limit },
                           itemDistance: itemDistance, body)
    }

    /// `forEachWithin` with a search envelope: a box holding every point within `distance` of the
    /// query (e.g. the query's bounding box expanded by `distance`). Boxes missing the envelope are
    /// pruned with four comparisons before `boxLowerBound` (often a square root) is called; this is
    /// how Boost's `intersects(box) && satisfies(…)` prunes (figures in Benchmarks/NOTES.md).
    @inlinable @inline(__always)
    public func forEachWithin(
        distance: Double,
        envelope: Box,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        let limit = _pruneLimit(distance)
        // The same rounding slack as the bound; an infinite distance has none to add (inf - inf
        // would be NaN and prune everything).
        let env = distance.isFinite ? envelope.expanded(by: limit - distance) : envelope
        try _forEachWithin(distance: distance, nodeTest: { try $0._overlaps(env) && boxLowerBound($0) <= limit },
                           itemDistance: itemDistance, body)
    }

    /// Point form of `forEachWithin`: prunes with squared point–box distances (no square root).
    /// Right at every magnitude: a box whose squared distance overflows is past any finite limit
    /// whose square is finite, and the limit's square never falls under 2^-968 (boxes nearer than
    /// that are refined, so underflow never prunes).
    @inlinable @inline(__always)
    public func forEachWithin(
        distance: Double, ofX x: Double, y: Double,
        itemDistance: (UInt32, Box) throws -> Double,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        let limit2 = _squaredPruneLimit(_pruneLimit(distance))
        try _forEachWithin(distance: distance, nodeTest: { $0.squaredDistance(toX: x, y: y) <= limit2 },
                           itemDistance: itemDistance, body)
    }
}

/// The squared form of a pruning limit for squared point–box distances: a hair above `limit²`
/// (infinite when that overflows, which prunes nothing), and never under 2^-968, so a box whose
/// squared distance underflowed is refined rather than pruned.
@inlinable @inline(__always)
func _squaredPruneLimit(_ limit: Double) -> Double {
    Swift.max(limit * limit * (1 + 0x1p-50), 0x1p-968)
}
