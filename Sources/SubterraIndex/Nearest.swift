// Best-first nearest-neighbour search (Hjaltason & Samet, "Distance browsing in spatial
// databases", 1999), as in flatbush and rstar: one binary min-heap holds internal nodes keyed by a
// lower bound of their box distance, items keyed by their box distance ("unrefined"), and items
// keyed by their exact distance ("refined"). An item is reported when it is popped refined: every
// other entry's key, hence every distance still to come, is ≥ its distance.
//
// Ties: the heap orders by (key, tag) with tag = kind << 62 | payload, kind node < unrefined <
// refined, and a refined item's payload is its id. At equal keys nodes and unrefined items are
// expanded before any refined item is reported, so equal-distance items come out by ascending id,
// deterministically. Every heap operation is O(log heap), so thousands of equal distances cost
// O(m log m), never quadratic.

/// One heap entry: 16 bytes, compared as (key, tag).
@frozen @usableFromInline
struct _HeapEntry {
    @usableFromInline var key: Double
    @usableFromInline var tag: UInt64

    @inlinable @inline(__always)
    init(key: Double, tag: UInt64) {
        self.key = key
        self.tag = tag
    }

    @inlinable @inline(__always)
    func precedes(_ o: _HeapEntry) -> Bool {
        key < o.key || (key == o.key && tag < o.tag)
    }
}

@usableFromInline let _kindShift: UInt64 = 62
@usableFromInline let _kindNode: UInt64 = 0
@usableFromInline let _kindUnrefined: UInt64 = 1
@usableFromInline let _kindRefined: UInt64 = 2
@usableFromInline let _treeBit: UInt64 = 1 << 61

/// Reusable working memory for nearest-neighbour searches. Keep one per thread (or per task) and
/// pass it to `forEachNearest(…, scratch:)` to make repeated searches allocation-free; the heap's
/// capacity is kept between searches.
public struct NearestScratch: Sendable {
    @usableFromInline var _heap: [_HeapEntry]

    public init() {
        _heap = []
        _heap.reserveCapacity(256)
    }
}

/// The state of one best-first search over one or two packed trees (base and delta of a dynamic
/// snapshot). `excludedFromFirst` hides tombstoned ids of the first tree.
@usableFromInline
struct _NearestState {
    @usableFromInline var heap: [_HeapEntry]
    @usableFromInline let maxDistance: Double

    @inlinable
    init(heap: [_HeapEntry], maxDistance: Double) {
        self.heap = heap
        self.heap.removeAll(keepingCapacity: true)
        self.maxDistance = maxDistance
    }

    @inlinable
    mutating func push(_ e: _HeapEntry) {
        heap.append(e)
        heap.withUnsafeMutableBufferPointer { h in
            var i = h.count - 1
            while i > 0 {
                let p = (i - 1) >> 1
                guard e.precedes(h[p]) else { break }
                h[i] = h[p]
                i = p
            }
            h[i] = e
        }
    }

    @inlinable
    mutating func pop() -> _HeapEntry? {
        guard let last = heap.popLast() else { return nil }
        if heap.isEmpty { return last }
        return heap.withUnsafeMutableBufferPointer { h in
            let top = h[0]
            let n = h.count
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && h[l + 1].precedes(h[l]) { c = l + 1 }
                guard h[c].precedes(last) else { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
            return top
        }
    }

    /// Pushes the root of `tree` if it can hold anything within `maxDistance`.
    @inlinable
    mutating func start(_ tree: borrowing PackedRTree, treeBit: UInt64, lowerBound: (Box) throws -> Double) rethrows {
        guard !tree._ids.isEmpty else { return }
        let root = tree._boxes.count - 1
        let lb = try lowerBound(tree._boxes[root])
        let key = lb - (lb * 0x1p-40 + tree._slack)
        if key <= maxDistance {
            push(_HeapEntry(key: key, tag: treeBit | UInt64(tree._levelEnds.count - 1) << 48 | UInt64(root)))
        }
    }

    /// Pushes the children of node `entry` of `tree`: sub-nodes keyed by their deflated lower
    /// bound, items (that pass the filters) keyed by their box lower bound.
    @inlinable
    mutating func expand(
        _ tree: borrowing PackedRTree, tag: UInt64, excluded: (UInt32) throws -> Bool,
        lowerBound: (Box) throws -> Double, filter: (UInt32) throws -> Bool
    ) rethrows {
        let level = Int(truncatingIfNeeded: (tag >> 48) & 0xFF)
        let pos = Int(truncatingIfNeeded: tag & 0xFFFF_FFFF_FFFF)
        let treeBit = tag & _treeBit
        let m = tree.nodeSize
        let slack = tree._slack
        let limit = maxDistance
        try tree._boxes.withUnsafeBufferPointer { boxes in
            try tree._levelEnds.withUnsafeBufferPointer { ends in
                let childLevelStart = level == 1 ? 0 : ends[level - 2]
                let first = childLevelStart + (pos - ends[level - 1]) * m
                let last = Swift.min(first + m, ends[level - 1])
                if level == 1 {
                    try tree._ids.withUnsafeBufferPointer { ids in
                        for c in first..<last {
                            let id = ids[c]
                            if try excluded(id) { continue }
                            let lb = try lowerBound(boxes[c])
                            let key = lb - (lb * 0x1p-40 + slack)
                            guard key <= limit, try filter(id) else { continue }
                            push(_HeapEntry(key: key, tag: _kindUnrefined << _kindShift | UInt64(id)))
                        }
                    }
                } else {
                    let childTag = treeBit | UInt64(level - 1) << 48
                    for c in first..<last {
                        let lb = try lowerBound(boxes[c])
                        let key = lb - (lb * 0x1p-40 + slack)
                        if key <= limit { push(_HeapEntry(key: key, tag: childTag | UInt64(c))) }
                    }
                }
            }
        }
    }

    /// Runs the search until the next item is known; `nil` when exhausted.
    @inlinable
    mutating func next(
        _ first: borrowing PackedRTree, _ second: borrowing PackedRTree,
        excludedFromFirst: (UInt32) throws -> Bool,
        lowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) throws -> Bool
    ) rethrows -> Neighbor? {
        while let e = pop() {
            switch e.tag >> _kindShift {
            case _kindNode:
                if e.tag & _treeBit == 0 {
                    try expand(first, tag: e.tag, excluded: excludedFromFirst, lowerBound: lowerBound, filter: filter)
                } else {
                    try expand(second, tag: e.tag, excluded: { _ in false }, lowerBound: lowerBound, filter: filter)
                }
            case _kindUnrefined:
                let id = UInt32(truncatingIfNeeded: e.tag)
                let d = try exactDistance(id)
                guard d <= maxDistance else { continue }
                let refined = _HeapEntry(key: d, tag: _kindRefined << _kindShift | UInt64(id))
                // Report at once when nothing left can come first (saves a push and a pop).
                if let top = heap.first, top.precedes(refined) {
                    push(refined)
                } else {
                    return Neighbor(id: id, distance: d)
                }
            default:
                return Neighbor(id: UInt32(truncatingIfNeeded: e.tag), distance: e.key)
            }
        }
        return nil
    }
}

extension PackedRTree {
    /// Best-first nearest search: calls `body` with items in ascending exact distance (ties by
    /// ascending id) until it returns `.stop` or no item within `maxDistance` remains.
    ///
    /// - Parameters:
    ///   - maxDistance: items farther than this are never reported (and prune the search).
    ///   - boxLowerBound: lower bound of the distance from the query to anything in a box.
    ///   - exactDistance: exact distance from the query to item `id`; called only for items whose
    ///     box could still hold the next answer.
    ///   - filter: items failing it are skipped before `exactDistance` ("only gas mains").
    ///   - scratch: reusable heap storage; pass the same one again to allocate nothing.
    /// - Complexity: O((log n + k) log n) heap operations for k answers on typical data.
    @inlinable
    public func forEachNearest(
        maxDistance: Double = .infinity,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true },
        scratch: inout NearestScratch,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        var state = _NearestState(heap: scratch._heap, maxDistance: maxDistance)
        scratch._heap = []
        defer { scratch._heap = state.heap }
        try state.start(self, treeBit: 0, lowerBound: boxLowerBound)
        while let n = try state.next(
            self, self, excludedFromFirst: { _ in false }, lowerBound: boxLowerBound,
            exactDistance: exactDistance, filter: filter)
        {
            if try body(n) == .stop { return }
        }
    }

    /// The `k` nearest items by exact distance, ascending (ties by id), at most `maxDistance` away.
    /// `k <= 0` or an empty tree give `[]`; `k > count` gives every item in range.
    @inlinable
    public func nearest(
        k: Int,
        maxDistance: Double = .infinity,
        boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        guard k > 0, !isEmpty else { return [] }
        var out: [Neighbor] = []
        out.reserveCapacity(Swift.min(k, 64))
        var scratch = NearestScratch()
        try forEachNearest(
            maxDistance: maxDistance, boxLowerBound: boxLowerBound, exactDistance: exactDistance,
            filter: filter, scratch: &scratch
        ) {
            out.append($0)
            return out.count < k ? .continue : .stop
        }
        return out
    }

    /// The `k` nearest items to the point `(x, y)`; the box bound is the point–box distance.
    @inlinable
    public func nearest(
        k: Int, toX x: Double, y: Double, maxDistance: Double = .infinity,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        try nearest(k: k, maxDistance: maxDistance, boxLowerBound: { $0.distance(toX: x, y: y) },
                    exactDistance: exactDistance, filter: filter)
    }

    /// The `k` nearest items to the box `query`; the box bound is the box–box distance.
    @inlinable
    public func nearest(
        k: Int, to query: Box, maxDistance: Double = .infinity,
        exactDistance: (UInt32) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        try nearest(k: k, maxDistance: maxDistance, boxLowerBound: { $0.distance(to: query) },
                    exactDistance: exactDistance, filter: filter)
    }

    /// An incremental nearest search: iterate until you find what you need ("keep going until a
    /// gas main"). Items come in ascending exact distance, ties by id. The closures are stored, so
    /// they escape; each `next()` does only the work needed for one more item.
    public func nearestSequence(
        maxDistance: Double = .infinity,
        boxLowerBound: @escaping (Box) -> Double,
        exactDistance: @escaping (UInt32) -> Double,
        filter: @escaping (UInt32) -> Bool = { _ in true }
    ) -> NearestIterator {
        NearestIterator(first: self, second: PackedRTree(), excluded: { _ in false }, maxDistance: maxDistance,
                        boxLowerBound: boxLowerBound, exactDistance: exactDistance, filter: filter)
    }
}

/// Incremental nearest-neighbour iterator (see `PackedRTree.nearestSequence`). Holds its own copy
/// of the tree(s) (cheap: arrays are shared), so it stays valid whatever happens to the index.
public struct NearestIterator: IteratorProtocol, Sequence {
    let first: PackedRTree
    let second: PackedRTree
    let excluded: (UInt32) -> Bool
    let boxLowerBound: (Box) -> Double
    let exactDistance: (UInt32) -> Double
    let filter: (UInt32) -> Bool
    var state: _NearestState

    init(first: PackedRTree, second: PackedRTree, excluded: @escaping (UInt32) -> Bool, maxDistance: Double,
         boxLowerBound: @escaping (Box) -> Double, exactDistance: @escaping (UInt32) -> Double,
         filter: @escaping (UInt32) -> Bool) {
        self.first = first
        self.second = second
        self.excluded = excluded
        self.boxLowerBound = boxLowerBound
        self.exactDistance = exactDistance
        self.filter = filter
        self.state = _NearestState(heap: [], maxDistance: maxDistance)
        state.start(first, treeBit: 0, lowerBound: boxLowerBound)
        state.start(second, treeBit: _treeBit, lowerBound: boxLowerBound)
    }

    public mutating func next() -> Neighbor? {
        state.next(first, second, excludedFromFirst: excluded, lowerBound: boxLowerBound,
                   exactDistance: exactDistance, filter: filter)
    }
}
