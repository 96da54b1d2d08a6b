// Best-first nearest-neighbour search (Hjaltason & Samet, "Distance browsing in spatial
// databases", 1999), as in flatbush and rstar: one priority queue holds internal nodes keyed by a
// lower bound of their box distance, items keyed by their box distance ("unrefined"), and items
// keyed by their exact distance ("refined"). An item is reported when it is popped refined: every
// other entry's key, hence every distance still to come, is ≥ its distance.
//
// Runs: expanding a node does not push its ≤ nodeSize children one by one. They are written as
// one unsorted *run* to an arena and only the run's minimum sits in the binary heap; popping it
// swaps the next minimum of the run to the front (a scan of ≤ nodeSize keys) and re-inserts the
// run. The heap then holds one entry per expanded node and most children are never touched again
// (chosen by measurement: Benchmarks/NOTES.md, "Nearest search: runs"). A run popped j times
// costs O(j · nodeSize), so consuming everything stays linear.
//
// Ties: entries order by (key, tag) with tag = kind << 62 | payload, kind node < unrefined <
// refined, and a refined item's payload is its id. At equal keys nodes and unrefined items are
// expanded before any refined item is reported, so equal-distance items come out by ascending id,
// deterministically, with O(log heap + nodeSize) work per entry: never quadratic.
//
// An unrefined item's payload is where its box lives, not its id: its leaf position (plus the
// tree bit), or its index in the loose items (plus the loose bit). Refining it re-reads the id
// and the box there (cache-hot: the leaf was just expanded) and hands both to `itemDistance`, so a
// caller that can compute the exact distance from the box (a straight segment is one of its box's
// diagonals) never touches its own tables.

/// One queued element: 16 bytes, compared as (key, tag).
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

/// A binary-heap slot: the current minimum of a run (`run >= 0`) or a lone refined item (-1).
@frozen @usableFromInline
struct _QueueSlot {
    @usableFromInline var entry: _HeapEntry
    @usableFromInline var run: Int

    @inlinable @inline(__always)
    init(_ entry: _HeapEntry, run: Int) {
        self.entry = entry
        self.run = run
    }
}

@usableFromInline let _kindShift: UInt64 = 62
@usableFromInline let _kindNode: UInt64 = 0
@usableFromInline let _kindUnrefined: UInt64 = 1
@usableFromInline let _kindRefined: UInt64 = 2
@usableFromInline let _treeBit: UInt64 = 1 << 61
/// Marks an unrefined item's payload as an index into the loose items (a snapshot's tail).
@usableFromInline let _looseBit: UInt64 = 1 << 60
@usableFromInline let _positionMask: UInt64 = 0xFFFF_FFFF_FFFF

/// A growable raw buffer of trivial values (no ARC, no exclusivity checks in the hot loop).
@frozen @usableFromInline
struct _RawBuffer<T> {
    @usableFromInline var base: UnsafeMutablePointer<T>
    @usableFromInline var capacity: Int

    @inlinable
    init(capacity: Int) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }

    /// Doubles the capacity (at least to `needed`), keeping the first `count` values.
    @usableFromInline @inline(never)
    mutating func grow(count: Int, needed: Int) {
        let newCapacity = Swift.max(capacity * 2, needed)
        let p = UnsafeMutablePointer<T>.allocate(capacity: newCapacity)
        p.moveInitialize(from: base, count: count)
        base.deallocate()
        base = p
        capacity = newCapacity
    }
}

/// Reusable working memory for nearest-neighbour searches (queue heap, run arena, k-best bound
/// heap), kept between searches so repeated queries allocate nothing. Keep one per thread (or per
/// task); it is deliberately not `Sendable`. Re-entrant use (a search started inside another
/// search's callback with the same scratch) is detected and gets private memory, never corruption.
public final class NearestScratch {
    @exclusivity(unchecked) @usableFromInline var _heap = _RawBuffer<_QueueSlot>(capacity: 64)
    @exclusivity(unchecked) @usableFromInline var _arena = _RawBuffer<_HeapEntry>(capacity: 256)
    @exclusivity(unchecked) @usableFromInline var _runs = _RawBuffer<Int>(capacity: 32)
    @exclusivity(unchecked) @usableFromInline var _best = _RawBuffer<Double>(capacity: 16)
    @exclusivity(unchecked) @usableFromInline var _inUse = false
    /// The memory of a second queue, for searches that run two at once (a dynamic snapshot's
    /// base tree, and its delta with the tail); made on first use.
    @exclusivity(unchecked) @usableFromInline var _companionScratch: NearestScratch?

    public init() {}

    @inlinable @inline(__always)
    var _companion: NearestScratch { _companionScratch ?? _makeCompanion() }

    @usableFromInline @inline(never)
    func _makeCompanion() -> NearestScratch {
        let c = NearestScratch()
        _companionScratch = c
        return c
    }

    deinit {
        _heap.base.deallocate()
        _arena.base.deallocate()
        _runs.base.deallocate()
        _best.base.deallocate()
    }
}

/// The state of one best-first search over one or two packed trees (base and delta of a dynamic
/// snapshot). Works on the scratch's raw buffers, cached here so the hot loop does no class access.
///
/// With a finite `k` it also keeps the k smallest exact distances seen so far in a max-heap: their
/// maximum `bound` is an upper bound of the k-th answer, so children whose lower bound exceeds it
/// are never queued, and the search ends as soon as the queue minimum exceeds it.
@usableFromInline
struct _NearestState {
    @usableFromInline let scratch: NearestScratch
    @usableFromInline var heap: _RawBuffer<_QueueSlot>
    @usableFromInline var count = 0
    /// Run elements; run r occupies `arena[runs[2r] ..< runs[2r+1]]`, its minimum first.
    @usableFromInline var arena: _RawBuffer<_HeapEntry>
    @usableFromInline var arenaCount = 0
    @usableFromInline var runs: _RawBuffer<Int>
    @usableFromInline var runCount = 0
    @usableFromInline var best: _RawBuffer<Double>
    @usableFromInline var bestCount = 0
    /// Pruning limit: `maxDistance`, lowered to the k-th best exact distance once k are known.
    @usableFromInline var bound: Double
    /// Number of answers wanted, or 0 when unbounded (no k-best tracking).
    @usableFromInline let k: Int
    /// Keys, bounds and exact distances are squared distances (point queries: no square root per
    /// box); reported distances are their square roots.
    @usableFromInline let squared: Bool

    @inlinable
    init(scratch given: NearestScratch, maxDistance: Double, k: Int, squared: Bool = false) {
        // A scratch already in use (re-entrant search) is not shared: use a private one.
        let s = given._inUse ? NearestScratch() : given
        s._inUse = true
        scratch = s
        heap = s._heap
        arena = s._arena
        runs = s._runs
        best = s._best
        // Squared: a hair above maxDistance², so rounding never drops an item at maxDistance;
        // the driver checks the reported (rooted) distance against maxDistance itself.
        bound = squared ? maxDistance * maxDistance * (1 + 0x1p-50) : maxDistance
        self.squared = squared
        // Tracking costs a heap of k doubles; past a few thousand answers it no longer pays.
        self.k = k <= 4096 ? Swift.max(0, k) : 0
    }

    /// Hands the (possibly grown) buffers back and releases the scratch.
    @inlinable
    func finish() {
        scratch._heap = heap
        scratch._arena = arena
        scratch._runs = runs
        scratch._best = best
        scratch._inUse = false
    }

    @inlinable @inline(__always)
    mutating func push(_ slot: _QueueSlot) {
        if count == heap.capacity {
            heap.grow(count: count, needed: count + 1)
            scratch._heap = heap  // keep deinit's pointer valid even if finish() is skipped
        }
        let h = heap.base
        var i = count
        count += 1
        while i > 0 {
            let p = (i - 1) >> 1
            guard slot.entry.precedes(h[p].entry) else { break }
            h[i] = h[p]
            i = p
        }
        h[i] = slot
    }

    /// Removes and returns the minimum slot; `count` must be > 0.
    @inlinable @inline(__always)
    mutating func popMin() -> _QueueSlot {
        let h = heap.base
        let top = h[0]
        count -= 1
        let n = count
        if n > 0 {
            let last = h[n]
            var i = 0
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && h[l + 1].entry.precedes(h[l].entry) { c = l + 1 }
                guard h[c].entry.precedes(last.entry) else { break }
                h[i] = h[c]
                i = c
            }
            h[i] = last
        }
        return top
    }

    /// Makes arena room for `n` more run elements.
    @inlinable @inline(__always)
    mutating func reserveArena(_ n: Int) {
        if arenaCount + n > arena.capacity {
            arena.grow(count: arenaCount, needed: arenaCount + n)
            scratch._arena = arena
        }
    }

    /// Swaps the least key of `a[start ..< end]` (non-empty) to `a[start]`.
    @inlinable @inline(__always)
    func _moveMinimumToFront(_ a: UnsafeMutablePointer<_HeapEntry>, _ start: Int, _ end: Int) {
        var m = start
        var mKey = a[start].key
        var j = start + 1
        while j < end {
            // By key alone, as selects (which child is nearest is unpredictable, and a branch on
            // it mispredicted ~30 % of the time). A run holds only nodes and unrefined items, so
            // which of two equal keys comes first never changes the reported order.
            let k = a[j].key
            let p = k < mKey
            m = p ? j : m
            mKey = p ? k : mKey
            j += 1
        }
        if m != start {
            let t = a[start]
            a[start] = a[m]
            a[m] = t
        }
    }

    /// Closes the run `arena[start ..< arenaCount]`: moves its minimum to the front and queues it.
    @inlinable @inline(__always)
    mutating func closeRun(start: Int) {
        let end = arenaCount
        guard end > start else { return }
        let a = arena.base
        _moveMinimumToFront(a, start, end)
        if 2 * runCount + 2 > runs.capacity {
            runs.grow(count: 2 * runCount, needed: 2 * runCount + 2)
            scratch._runs = runs
        }
        runs.base[2 * runCount] = start
        runs.base[2 * runCount + 1] = end
        push(_QueueSlot(a[start], run: runCount))
        runCount += 1
    }

    /// After the front of run `r` was taken: drops it, moves the next minimum to the front and
    /// queues the run again (if anything is left).
    @inlinable @inline(__always)
    mutating func advanceRun(_ r: Int) {
        let start = runs.base[2 * r] + 1
        let end = runs.base[2 * r + 1]
        runs.base[2 * r] = start
        guard start < end else { return }
        let a = arena.base
        _moveMinimumToFront(a, start, end)
        push(_QueueSlot(a[start], run: r))
    }

    /// Relative deflation of box lower bounds (see `absoluteSlack(_:)`).
    @inlinable @inline(__always)
    var relativeSlack: Double { squared ? 0x1p-19 : 0x1p-40 }

    /// `1 - relativeSlack`: keys are `lb * keep - slack`, which stays infinite for an infinite
    /// lower bound (where `lb - lb * rel` is inf - inf = NaN, and a NaN key prunes everything).
    @inlinable @inline(__always)
    var keep: Double { 1 - relativeSlack }

    /// Keys are box lower bounds deflated so that rounding in the caller's exact distance cannot
    /// undercut them: `lb · (1 − relativeSlack) − absoluteSlack(s)` for a tree with absolute
    /// slack `s`. Plain: relative 2^-40 and `s`. Squared: (lb − lb·2^-40 − s)² ≥
    /// lb²(1 − 2^-19) − s²·2^20, since 2·lb·s ≤ lb²·2^-20 + s²·2^20. Both factors are taken once
    /// per node, outside the child loop (a branch per child cost 15 % of a k=10 search). The
    /// squared slack is capped at the largest finite value so a key is never inf - inf.
    @inlinable @inline(__always)
    func absoluteSlack(_ s: Double) -> Double { squared ? Swift.min(s * s * 0x1p20, .greatestFiniteMagnitude) : s }

    /// The distance reported for an exact key.
    @inlinable @inline(__always)
    func reported(_ key: Double) -> Double { squared ? key.squareRoot() : key }

    /// Records an exact distance ≤ `bound` in the k-best max-heap and lowers `bound` once k are known.
    @inlinable @inline(__always)
    mutating func noteExact(_ d: Double) {
        guard k > 0 else { return }
        let b = best.base
        if bestCount < k {
            if bestCount == best.capacity {
                best.grow(count: bestCount, needed: bestCount + 1)
                scratch._best = best
            }
            let b = best.base
            var i = bestCount
            bestCount += 1
            while i > 0 {
                let p = (i - 1) >> 1
                guard d > b[p] else { break }
                b[i] = b[p]
                i = p
            }
            b[i] = d
        } else if d < b[0] {
            var i = 0
            let n = bestCount
            while true {
                let l = 2 * i + 1
                if l >= n { break }
                var c = l
                if l + 1 < n && b[l + 1] > b[l] { c = l + 1 }
                guard b[c] > d else { break }
                b[i] = b[c]
                i = c
            }
            b[i] = d
        } else {
            return
        }
        if bestCount == k { bound = Swift.min(bound, best.base[0]) }
    }

    /// Queues the root of `tree` if it can hold anything within the bound.
    @inlinable
    mutating func start(_ tree: borrowing PackedRTree, treeBit: UInt64, lowerBound: (Box) throws -> Double) rethrows {
        guard tree._count > 0 else { return }
        let root = tree._boxes.count - 1
        let lb = try lowerBound(tree._boxes[root])
        let key = lb * keep - absoluteSlack(tree._slack)
        if key <= bound {
            push(_QueueSlot(_HeapEntry(key: key, tag: treeBit | UInt64(tree._levelEnds.count - 1) << 48 | UInt64(root)),
                            run: -1))
        }
    }

    /// Queues loose items (a dynamic snapshot's unpacked tail) as unrefined items.
    @inlinable
    mutating func seed(_ items: [DynamicRTree._TailItem], lowerBound: (Box) throws -> Double, filter: (UInt32) -> Bool) rethrows {
        for (i, item) in items.enumerated() {
            let lb = try lowerBound(item.box)
            let key = lb * keep
            if key <= bound, filter(item.id) {
                push(_QueueSlot(_HeapEntry(key: key, tag: _kindUnrefined << _kindShift | _looseBit | UInt64(i)), run: -1))
            }
        }
    }

    /// Queues the children of node `tag` of `tree` as one run: sub-nodes keyed by their deflated
    /// lower bound, items (that pass the filters) keyed by their deflated box lower bound.
    @inlinable @inline(__always)
    mutating func expand(
        _ tree: borrowing PackedRTree, tag: UInt64, excluded: (UInt32) -> Bool,
        lowerBound: (Box) throws -> Double, filter: (UInt32) -> Bool
    ) rethrows {
        let level = Int(truncatingIfNeeded: (tag >> 48) & 0xFF)
        let pos = Int(truncatingIfNeeded: tag & 0xFFFF_FFFF_FFFF)
        let treeBit = tag & _treeBit
        let m = tree.nodeSize
        let slack = absoluteSlack(tree._slack)
        let keep = self.keep
        reserveArena(m)
        let runStart = arenaCount
        let a = arena.base
        var n = arenaCount
        let limit = bound
        try tree._boxes.withUnsafeBufferPointer { boxes in
            try tree._levelEnds.withUnsafeBufferPointer { ends in
                let childLevelStart = level == 1 ? 0 : ends[level - 2]
                let first = childLevelStart + (pos - ends[level - 1]) * m
                let last = Swift.min(first + m, ends[level - 1])
                if level == 1 {
                    try tree._ids.withUnsafeBufferPointer { ids in
                        for c in first..<last {
                            let id = tree._id(at: c, ids)
                            let lb = try lowerBound(boxes[c])
                            let key = lb * keep - slack
                            guard key <= limit, !excluded(id), filter(id) else { continue }
                            a[n] = _HeapEntry(key: key, tag: _kindUnrefined << _kindShift | treeBit | UInt64(c))
                            n += 1
                        }
                    }
                } else {
                    let childTag = treeBit | UInt64(level - 1) << 48
                    for c in first..<last {
                        let lb = try lowerBound(boxes[c])
                        let key = lb * keep - slack
                        if key <= limit {
                            a[n] = _HeapEntry(key: key, tag: childTag | UInt64(c))
                            n += 1
                        }
                    }
                }
            }
        }
        arenaCount = n
        closeRun(start: runStart)
    }

    /// Runs the search until the next item is known; `nil` when exhausted.
    @inlinable @inline(__always)
    mutating func next(
        _ first: borrowing PackedRTree, _ second: borrowing PackedRTree, loose: borrowing [DynamicRTree._TailItem],
        excludedFromFirst: (UInt32) -> Bool,
        excludedFromSecond: (UInt32) -> Bool,
        lowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool
    ) rethrows -> Neighbor? {
        while count > 0 {
            let slot = popMin()
            let e = slot.entry
            // Everything left is at least this far: past the bound nothing can qualify any more.
            guard e.key <= bound else {
                count = 0
                return nil
            }
            if slot.run >= 0 { advanceRun(slot.run) }
            switch e.tag >> _kindShift {
            case _kindNode:
                if e.tag & _treeBit == 0 {
                    try expand(first, tag: e.tag, excluded: excludedFromFirst, lowerBound: lowerBound, filter: filter)
                } else {
                    try expand(second, tag: e.tag, excluded: excludedFromSecond, lowerBound: lowerBound, filter: filter)
                }
            case _kindUnrefined:
                let payload = Int(truncatingIfNeeded: e.tag & _positionMask)
                let id: UInt32, box: Box
                if e.tag & _looseBit != 0 {
                    (id, box) = loose.withUnsafeBufferPointer { ($0[payload].id, $0[payload].box) }
                } else if e.tag & _treeBit == 0 {
                    (id, box) = first._item(at: payload)
                } else {
                    (id, box) = second._item(at: payload)
                }
                let d = try itemDistance(id, box)
                guard d <= bound else { continue }  // also drops NaN
                noteExact(d)
                let refined = _HeapEntry(key: d, tag: _kindRefined << _kindShift | UInt64(id))
                // Report at once when nothing left can come first (saves a push and a pop).
                if count > 0, heap.base[0].entry.precedes(refined) {
                    push(_QueueSlot(refined, run: -1))
                } else {
                    return Neighbor(id: id, distance: reported(d))
                }
            default:
                return Neighbor(id: UInt32(truncatingIfNeeded: e.tag), distance: reported(e.key))
            }
        }
        return nil
    }
}

/// A lower bound of the distance from a query to anything inside a box, for pruning distance
/// queries; the ready-made point and box bounds below, or use the `boxLowerBound:` closure forms.
/// The closure forms are the primary ones (a generic bound was measured no faster; see
/// Benchmarks/NOTES.md, "Nearest search: runs").
/// The bound must never exceed the `exactDistance` of an item inside the box (up to rounding,
/// which the index absorbs with a small slack).
public protocol BoxDistanceBound {
    func lowerBound(_ box: Box) -> Double
}

/// Distance from a point to a box: the bound for point queries (nearest pipe to a borehole).
@frozen
public struct PointDistanceBound: BoxDistanceBound, Sendable {
    public var x: Double
    public var y: Double
    @inlinable public init(x: Double, y: Double) { self.x = x; self.y = y }
    @inlinable @inline(__always)
    public func lowerBound(_ box: Box) -> Double { box.distance(toX: x, y: y) }
}

/// Distance between boxes: the bound for a query geometry given by its bounding box.
@frozen
public struct BoxToBoxDistanceBound: BoxDistanceBound, Sendable {
    public var query: Box
    @inlinable public init(_ query: Box) { self.query = query }
    @inlinable @inline(__always)
    public func lowerBound(_ box: Box) -> Double { box.distance(to: query) }
}

extension PackedRTree {
    /// Id and box of the leaf entry at `position`.
    @inlinable @inline(__always)
    func _item(at position: Int) -> (UInt32, Box) {
        (_ids.withUnsafeBufferPointer { _id(at: position, $0) }, _boxes.withUnsafeBufferPointer { $0[position] })
    }

    /// Best-first nearest search: calls `body` with items in ascending exact distance (ties by
    /// ascending id) until it returns `.stop`, `k` items were reported, or no item within
    /// `maxDistance` remains.
    ///
    /// - Parameters:
    ///   - k: the most answers wanted; a finite `k` lets the search prune by the k-th best
    ///     distance found so far. `Int.max` for an open-ended search.
    ///   - maxDistance: items farther than this are never reported (and prune the search).
    ///   - boxLowerBound: lower bound of the distance from the query to anything in a box.
    ///   - itemDistance: exact distance from the query to item `id`, whose box (as built) is
    ///     given too; called only for items whose box could still hold an answer (NaN means
    ///     "never"). The box comes from the leaf just read, so a caller whose items follow from
    ///     their box (a straight segment is one of its box's diagonals) needs no other memory.
    ///   - filter: items failing it are skipped before `itemDistance` ("only gas mains").
    ///   - scratch: reusable heap memory; pass the same one again to allocate nothing.
    /// - Complexity: O((log n + k) log n) heap operations for k answers on typical data.
    @inlinable @inline(__always)
    public func forEachNearest(
        k: Int = .max,
        maxDistance: Double = .infinity,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true },
        scratch: NearestScratch,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try _nearest(k: k, maxDistance: maxDistance, squared: false, lowerBound: boxLowerBound,
                     itemDistance: itemDistance, filter: filter, scratch: scratch, body)
    }

    /// Both nearest forms on this tree alone.
    @inlinable @inline(__always)
    func _nearest(
        k: Int, maxDistance: Double, squared: Bool,
        lowerBound: (Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try _runNearest(self, self, searchSecond: false, loose: [], excludedFromFirst: { _ in false },
                        excludedFromSecond: { _ in false }, k: k, maxDistance: maxDistance, squared: squared,
                        lowerBound: lowerBound, itemDistance: itemDistance, filter: filter, scratch: scratch, body)
    }

    /// Nearest search around the point `(x, y)` in squared distances: `itemSquaredDistance` gives
    /// the **squared** exact distance to item `id` (its box as built given too), boxes are bounded
    /// by squared point–box distances, and no square root is taken until an answer is reported
    /// (`Neighbor.distance` is the root of the caller's square, which is exact: √(d²) rounds back
    /// to d). Otherwise as `forEachNearest(k:maxDistance:boxLowerBound:itemDistance:…)`, and faster: no
    /// square root per box (figures in Benchmarks/NOTES.md, "Nearest search: runs").
    ///
    /// Right for every finite input: squares are only used where they cannot overflow or
    /// underflow. When the query or the tree reaches past 2^499 (a square could overflow), the
    /// whole search runs on plain distances (`itemDistance`, boxes by `Box.distance(toX:y:)`);
    /// when the nearest answer is under 2^-484 (its square under 2^-968, where squares lose bits
    /// or vanish; exact zeros too), the search starts again on plain distances before reporting
    /// it. Survey data takes neither path unless a query point lies exactly on a pipe.
    /// - Parameters:
    ///   - itemSquaredDistance: squared exact distance from `(x, y)` to item `id`.
    ///   - itemDistance: the same distance, not squared: used where squares cannot be trusted.
    @inlinable @inline(__always)
    public func forEachNearest(
        k: Int = .max,
        maxDistance: Double = .infinity,
        toX x: Double, y: Double,
        itemSquaredDistance: (UInt32, Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool = { _ in true },
        scratch: NearestScratch,
        _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try _pointNearest(
            self, self, searchSecond: false, loose: [], excludedFromFirst: { _ in false },
            excludedFromSecond: { _ in false }, k: k, maxDistance: maxDistance, x: x, y: y,
            safe: _squaredKeysAreSafe(x: x, y: y, bounds), itemSquaredDistance: itemSquaredDistance,
            itemDistance: itemDistance, filter: filter, scratch: scratch, body)
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
        NearestIterator(first: self, second: PackedRTree(), loose: [], excludedFirst: { _ in false },
                        excludedSecond: { _ in false }, maxDistance: maxDistance,
                        boxLowerBound: boxLowerBound, itemDistance: { id, _ in exactDistance(id) }, filter: filter)
    }
}

/// Whether squared keys are safe for a point query at `(x, y)` over items inside `bounds`: every
/// coordinate difference and coordinate is at most 2^499, so no square of a distance (nor the
/// tree's squared slack) overflows. NaN fails.
@inlinable @inline(__always)
func _squaredKeysAreSafe(x: Double, y: Double, _ bounds: Box?) -> Bool {
    guard let b = bounds else { return true }
    let limit = 0x1p499
    return abs(x - b.minX) <= limit && abs(x - b.maxX) <= limit && abs(y - b.minY) <= limit
        && abs(y - b.maxY) <= limit && b._magnitude <= limit
}

/// The squared point-nearest driver shared by the packed tree and the dynamic snapshot: searches
/// with squared keys when `safe`, else (or when squares turn out untrustworthy) with plain
/// distances, in `_pointNearestPlain`.
///
/// Squares under 2^-968 (distances under 2^-484) are not trusted. They need no watch in the hot
/// refinement loop: answers come in ascending order, so any such item is the first answer, and
/// an answer under 2^-484 stops the squared search before anything was handed on. The squared
/// search runs to at least 2^-484 (a tiny `maxDistance` squared would underflow) and the driver
/// applies `maxDistance` itself. The trees and exclusions are `_runNearest`'s (a packed tree
/// searched alone, or a snapshot's tiers).
@inlinable @inline(__always)
func _pointNearest(
    _ first: borrowing PackedRTree, _ second: borrowing PackedRTree, searchSecond: Bool,
    loose: borrowing [DynamicRTree._TailItem],
    excludedFromFirst: (UInt32) -> Bool, excludedFromSecond: (UInt32) -> Bool,
    k: Int, maxDistance: Double, x: Double, y: Double, safe: Bool,
    itemSquaredDistance: (UInt32, Box) throws -> Double,
    itemDistance: (UInt32, Box) throws -> Double,
    filter: (UInt32) -> Bool, scratch: NearestScratch,
    _ body: (Neighbor) throws -> SearchControl
) rethrows {
    if safe {
        var tiny = false
        try _runNearest(
            first, second, searchSecond: searchSecond, loose: loose, excludedFromFirst: excludedFromFirst,
            excludedFromSecond: excludedFromSecond, k: k, maxDistance: Swift.max(maxDistance, 0x1p-484), squared: true,
            lowerBound: { $0.squaredDistance(toX: x, y: y) }, itemDistance: itemSquaredDistance,
            filter: filter, scratch: scratch
        ) { n in
            if n.distance < 0x1p-484 {
                tiny = true
                return .stop
            }
            return n.distance > maxDistance ? .stop : try body(n)
        }
        if !tiny { return }
    }
    try _pointNearestPlain(
        first, second, searchSecond: searchSecond, loose: loose, excludedFromFirst: excludedFromFirst,
        excludedFromSecond: excludedFromSecond, k: k, maxDistance: maxDistance, x: x, y: y,
        itemDistance: itemDistance, filter: filter, scratch: scratch, body)
}

/// The plain-distance point search: the slow path of `_pointNearest`, kept out of line so the
/// squared search it sits beside stays small enough to inline whole.
@inlinable @inline(never)
func _pointNearestPlain(
    _ first: borrowing PackedRTree, _ second: borrowing PackedRTree, searchSecond: Bool,
    loose: borrowing [DynamicRTree._TailItem],
    excludedFromFirst: (UInt32) -> Bool, excludedFromSecond: (UInt32) -> Bool,
    k: Int, maxDistance: Double, x: Double, y: Double,
    itemDistance: (UInt32, Box) throws -> Double,
    filter: (UInt32) -> Bool, scratch: NearestScratch,
    _ body: (Neighbor) throws -> SearchControl
) rethrows {
    try _runNearest(
        first, second, searchSecond: searchSecond, loose: loose, excludedFromFirst: excludedFromFirst,
        excludedFromSecond: excludedFromSecond, k: k, maxDistance: maxDistance, squared: false,
        lowerBound: { $0.distance(toX: x, y: y) }, itemDistance: itemDistance, filter: filter, scratch: scratch, body)
}

/// The search loop shared by every nearest form: queues the roots (and loose items), then hands
/// `body` each answer until it stops, `k` were reported, or nothing within `maxDistance` is left.
@inlinable @inline(__always)
func _runNearest(
    _ first: borrowing PackedRTree, _ second: borrowing PackedRTree, searchSecond: Bool,
    loose: borrowing [DynamicRTree._TailItem],
    excludedFromFirst: (UInt32) -> Bool, excludedFromSecond: (UInt32) -> Bool,
    k: Int, maxDistance: Double, squared: Bool,
    lowerBound: (Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
    filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor) throws -> SearchControl
) rethrows {
    guard k > 0 else { return }
    var state = _NearestState(scratch: scratch, maxDistance: maxDistance, k: k, squared: squared)
    defer { state.finish() }
    try state.start(first, treeBit: 0, lowerBound: lowerBound)
    // A tree searched alone is passed as both `first` and `second`; its root is queued once.
    if searchSecond { try state.start(second, treeBit: _treeBit, lowerBound: lowerBound) }
    try state.seed(loose, lowerBound: lowerBound, filter: filter)
    var reported = 0
    while let n = try state.next(
        first, second, loose: loose, excludedFromFirst: excludedFromFirst, excludedFromSecond: excludedFromSecond,
        lowerBound: lowerBound, itemDistance: itemDistance, filter: filter)
    {
        // Squared searches prune at a hair above maxDistance²; the rooted answer decides.
        if n.distance > maxDistance { return }
        reported += 1
        if try body(n) == .stop || reported == k { return }
    }
}

/// Incremental nearest-neighbour iterator (see `PackedRTree.nearestSequence`). Holds its own copy
/// of the tree(s) (cheap: arrays are shared), so it stays valid whatever happens to the index. A
/// class, because it owns its heap memory: copies share one search instead of corrupting it.
public final class NearestIterator: IteratorProtocol, Sequence {
    let first: PackedRTree
    let second: PackedRTree
    let loose: [DynamicRTree._TailItem]
    let excludedFirst: (UInt32) -> Bool
    let excludedSecond: (UInt32) -> Bool
    let boxLowerBound: (Box) -> Double
    let itemDistance: (UInt32, Box) -> Double
    let filter: (UInt32) -> Bool
    var state: _NearestState

    init(first: PackedRTree, second: PackedRTree, loose: [DynamicRTree._TailItem],
         excludedFirst: @escaping (UInt32) -> Bool, excludedSecond: @escaping (UInt32) -> Bool, maxDistance: Double,
         boxLowerBound: @escaping (Box) -> Double, itemDistance: @escaping (UInt32, Box) -> Double,
         filter: @escaping (UInt32) -> Bool) {
        self.first = first
        self.second = second
        self.loose = loose
        self.excludedFirst = excludedFirst
        self.excludedSecond = excludedSecond
        self.boxLowerBound = boxLowerBound
        self.itemDistance = itemDistance
        self.filter = filter
        self.state = _NearestState(scratch: NearestScratch(), maxDistance: maxDistance, k: 0)
        state.start(first, treeBit: 0, lowerBound: boxLowerBound)
        state.start(second, treeBit: _treeBit, lowerBound: boxLowerBound)
        state.seed(loose, lowerBound: boxLowerBound, filter: filter)
    }

    public func next() -> Neighbor? {
        state.next(first, second, loose: loose, excludedFromFirst: excludedFirst, excludedFromSecond: excludedSecond,
                   lowerBound: boxLowerBound, itemDistance: itemDistance, filter: filter)
    }
}
