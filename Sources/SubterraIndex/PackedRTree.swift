import Dispatch

/// A static, immutable, packed R-tree over `(Box, UInt32 id)` items (flatbush-style).
///
/// ## Layout
/// Three contiguous arrays and no object per node:
/// - `boxes`: all leaf item boxes in Hilbert order, then each level of parent nodes bottom-up, the
///   root last. A node's children are the `nodeSize` consecutive entries of the level below at a
///   position computed from its own, so nodes need no child pointers.
/// - `ids`: the item id of each leaf entry (4 bytes/item); empty when every id is its leaf
///   position (a tree from `renumbered(boxes:)`, or any build whose ids come out `0..<n`), which
///   saves the 4 bytes and a memory read per candidate.
/// - `levelEnds`: the end offset of each level in `boxes` (a handful of integers).
///
/// ## Memory trade-off (measured)
/// Leaf boxes are kept as exact `Double`s. Quantising leaves to `Float32` relative to a tree origin
/// (rounded outward) would cut an item to ~21 bytes, but `intersecting(_:)` without a predicate
/// must equal brute force over the *original* `Double` boxes; with quantised leaves every hit whose
/// box lies within rounding slack of a query edge would need the original box, which then has to be
/// stored as well (52 bytes/item). Exact leaves cost 32 + 4 bytes plus the internal nodes
/// (32 / (nodeSize − 1) bytes/item): **39.6 bytes/item at the default node size 10** (38.9 at 12,
/// 38.1 at 16), under the 40-byte budget, with every answer exact and no refinement pass.
/// Internal nodes stay `Double` too. Next step if memory matters more: `Float32` internal nodes
/// (outward-rounded, relative to an origin) would save 1.8 bytes/item at node size 10 and let
/// node size 8 fit the budget.
///
/// ## Build
/// Hilbert keys of box centres on a 2^16 grid are computed in parallel
/// (`DispatchQueue.concurrentPerform`), sorted with a stable O(n) radix sort (equal keys keep input
/// order, so builds are deterministic), then the levels are built bottom-up. Invalid boxes (NaN,
/// infinite, inverted) are refused with `IndexError.invalidBox` naming the first bad item.
///
/// ## Node size
/// Default 10, chosen by measurement on 10^6 street-like segments (20–60 m along a jittered 80 m
/// grid; release build, one query thread, CPU time, on a shared and busy 2-core box, so ±10%):
///
/// | node size | B/item | window/s | kNN k=1 /s | kNN k=10 /s | within/s |
/// |----------:|-------:|---------:|-----------:|------------:|---------:|
/// |         8 |   40.6 |   8.7e5  |    3.3e5   |    1.9e5    |  5.8e5   |
/// |        10 |   39.6 |   8.6e5  |    3.2e5   |    1.9e5    |  6.3e5   |
/// |        12 |   38.9 |   8.6e5  |    3.1e5   |    1.8e5    |  5.7e5   |
/// |        16 |   38.1 |   7.6e5  |    2.8e5   |    1.6e5    |  5.9e5   |
/// |        24 |   37.4 |   7.0e5  |    2.6e5   |    1.5e5    |  4.1e5   |
///
/// Queries are bound by cache misses on leaf boxes and by per-child work, so smaller nodes win
/// until the internal levels cost more than they save; 8 is as fast as 10 but exceeds 40 B/item.
///
/// ## Against Boost.Geometry and GEOS (measured 2026-11-30)
/// `Benchmarks` `subterra-compare`, 10^6 street segments (seed 20261130), 2000 queries per kind,
/// one query thread, release; three runs of 5 interleaved repetitions on the shared 2-core box.
/// Boost: `rtree<(segment, id), rstar<16>>` packing constructor, exact segment predicates; GEOS:
/// STRtree. Ratios are ours / Boost within one run (absolute figures drift ±15 % with load).
///
/// | workload                      | Subterra/s | Boost/s | GEOS/s | ours / Boost |
/// |-------------------------------|-----------:|--------:|-------:|-------------:|
/// | build (items; 2.4× pinned to one core) | 1.6e7 | 6.5e6 | 3.0e6 | 2.4–2.5× |
/// | window                        |    4.8e5   |  4.6e5  |  1.6e5 |  1.04–1.07×  |
/// | kNN k=1                       |    4.4e5   |  3.5e5  |  7.1e4 |  1.23–1.26×  |
/// | kNN k=10                      |    2.3e5   |  2.5e5  |  7.8e4 |  0.92–0.96×  |
/// | within 1.5–5 m, envelope form |    6.7e5   |  6.1e5  |  3.0e5 |  1.06–1.13×  |
/// | within, closure form          |    5.5e5   |  5.5e5  |  2.9e5 |  0.97–1.00×  |
/// | dig polygon within 1 m        |    2.1e5   |  2.6e5  |  1.1e5 |  0.80–0.84×  |
///
/// Memory: **39.6 B/item** (Boost 46.9, GEOS 253). Before this round (same harness): window 0.93,
/// kNN1 0.86, kNN10 0.70, within 0.84, dig 0.76. What moved them: the closure-taking query forms
/// are `@inline(__always)`, so a caller's closures become direct, inlined calls (the benchmark
/// binary had called the library's unspecialised `forEachNearest`/`forEachWithin`); the box
/// distances compile to `maxsd` (the variadic `Swift.max(0, a, b)` was three data-dependent
/// branches); kNN runs find their next minimum with selects; window/envelope node tests are two
/// packed compares and one branch. Callgrind, 2000 queries: kNN k=10 30.2 M instructions and
/// 353 k mispredicted branches against Boost's 38.8 M and 552 k; within 5.5 M and 59 k against
/// 7.6 M and 173 k, and 37 k last-level misses against 68 k. What remains is memory latency:
/// Boost keeps the segment in its leaf, while we read the leaf box and then the caller's
/// coordinates by id, a second miss per candidate (in a dig query that load is a third of our
/// time). Measured with the same data renumbered in leaf order (`items` gives it), so a
/// candidate's coordinates sit beside its neighbours': kNN k=10 0.91–0.94× → 1.02×, dig polygon
/// 0.82–0.91× → 1.01–1.06× of Boost (best of 7 rounds each). `renumbered(boxes:nodeSize:)` and
/// `indexOrder(boxes:)` now give callers that order; the benchmark peer uses it (renumbering
/// timed as part of its build), measured on 10^6 in 4 runs × 3 interleaved repetitions, ours /
/// Boost, leaf-order table (id-order table in the same runs): window 1.05–1.15× (1.02–1.05×),
/// kNN k=1 1.18–1.25× (1.23–1.26×), kNN k=10 0.95–0.99× (0.92–0.96×), within envelope form
/// 1.03–1.16× (closure form, id order 0.98–1.03×), dig polygon 0.90–0.97× (0.87–0.88×), build
/// 2.0–2.4× (2.3–3.0×). What remains is reading two streams per candidate (leaf boxes, then the
/// caller's coordinates), where Boost reads one. Tried and dropped:
/// refining leaf items eagerly as Boost does (+12 % instructions, +30 % misses), reading ids at
/// pop time (no gain), a branch-free push in the window loop (+40 % instructions, no faster),
/// huge pages for the box array (THP does not engage on this machine), node sizes 6–16 (within
/// noise of 10).
///
/// All queries are thread-safe (the value is immutable and `Sendable`); the callback forms allocate
/// nothing per query (`forEachNearest` reuses a caller-held `NearestScratch`).
@frozen
public struct PackedRTree: Sendable {
    /// Leaf boxes (Hilbert order) followed by internal levels bottom-up; the root is last.
    @usableFromInline let _boxes: [Box]
    /// Id of each leaf entry; empty when `_idsAreLeafPositions`.
    @usableFromInline let _ids: [UInt32]
    /// Number of items.
    @usableFromInline let _count: Int
    /// Leaf `i` has id `i`, so `_ids` is not stored.
    @usableFromInline let _idsAreLeafPositions: Bool
    /// `_levelEnds[l]` is the end offset of level `l` in `_boxes` (level 0 = leaves).
    @usableFromInline let _levelEnds: [Int]
    /// Maximum children per node.
    public let nodeSize: Int
    /// Absolute slack subtracted from distance lower bounds, so a caller's `exactDistance` that
    /// rounds a hair below our box distance (coordinates near 4e7 carry ~1e-8 m of rounding) is
    /// never pruned. ~2^-44 × the largest coordinate: micrometres, it costs no measurable visits.
    @usableFromInline let _slack: Double

    /// The node size used when none is given (see the type's documentation for the measurements).
    public static let defaultNodeSize = 10

    /// Number of items.
    @inlinable public var count: Int { _count }
    /// True when the tree holds no item.
    @inlinable public var isEmpty: Bool { _count == 0 }
    /// The box of all items, or `nil` when empty.
    @inlinable public var bounds: Box? { _count == 0 ? nil : _boxes[_boxes.count - 1] }
    /// Number of levels including the leaf level (0 when empty).
    @inlinable public var levelCount: Int { _count == 0 ? 0 : _levelEnds.count }
    /// Bytes held by the tree's arrays (boxes, ids, level table), for memory accounting.
    public var memoryFootprint: Int {
        _boxes.count * MemoryLayout<Box>.stride + _ids.count * 4 + _levelEnds.count * 8
    }

    /// The items in tree (leaf) order, as `(box, id)`; O(n). Useful for rebuilding and tests.
    public var items: [(box: Box, id: UInt32)] {
        _ids.withUnsafeBufferPointer { ids in (0..<count).map { (_boxes[$0], _id(at: $0, ids)) } }
    }

    /// Id of leaf entry `c`; `ids` is `_ids`' buffer.
    @inlinable @inline(__always)
    func _id(at c: Int, _ ids: UnsafeBufferPointer<UInt32>) -> UInt32 {
        _idsAreLeafPositions ? UInt32(truncatingIfNeeded: c) : ids[c]
    }

    /// - Parameter _ids: the id of each leaf, or `nil` when ids are leaf positions (the count is
    ///   then the leaf level's size). Ids that happen to be `0..<n` are detected and not stored.
    @usableFromInline
    init(_boxes: [Box], _ids: [UInt32]?, _levelEnds: [Int], nodeSize: Int) {
        self._boxes = _boxes
        let count = _ids?.count ?? _levelEnds.first ?? 0
        let positional = _ids.map { ids in
            ids.withUnsafeBufferPointer { b in
                var same = true
                for i in 0..<b.count where b[i] != UInt32(truncatingIfNeeded: i) {
                    same = false
                    break
                }
                return same
            }
        } ?? true
        self._ids = positional ? [] : _ids!
        self._count = count
        self._idsAreLeafPositions = positional
        self._levelEnds = _levelEnds
        self.nodeSize = nodeSize
        self._slack = count == 0 || _boxes.isEmpty ? 0 : _boxes[_boxes.count - 1]._magnitude * 0x1p-44
    }

    /// An empty tree.
    public init(nodeSize: Int = PackedRTree.defaultNodeSize) {
        self.init(_boxes: [], _ids: nil, _levelEnds: [0], nodeSize: max(2, min(nodeSize, 65535)))
    }

    /// Builds a tree from `(box, id)` pairs. See `init(boxes:ids:nodeSize:)`.
    public init(items: [(box: Box, id: UInt32)], nodeSize: Int = PackedRTree.defaultNodeSize) throws {
        try self.init(boxes: items.map(\.box), ids: items.map(\.id), nodeSize: nodeSize)
    }

    /// Builds a tree in one pass.
    ///
    /// - Parameters:
    ///   - boxes: one box per item, in projected metres.
    ///   - ids: the id of each item; `nil` means `0..<boxes.count` (the engine's row numbers).
    ///     Ids need not be unique here.
    ///   - nodeSize: children per node, `2...65535`.
    /// - Throws: `IndexError.invalidBox` for the first NaN/infinite/inverted box (naming its index),
    ///   `.lengthMismatch`, `.invalidNodeSize`, `.tooManyItems`.
    /// - Complexity: O(n) (radix sort); key computation and gathers run on all cores.
    public init(boxes: [Box], ids: [UInt32]? = nil, nodeSize: Int = PackedRTree.defaultNodeSize) throws {
        guard (2...65535).contains(nodeSize) else { throw IndexError.invalidNodeSize(nodeSize) }
        if let ids, ids.count != boxes.count {
            throw IndexError.lengthMismatch(boxes: boxes.count, ids: ids.count)
        }
        let n = boxes.count
        guard n < Int(UInt32.max) else { throw IndexError.tooManyItems(n) }
        if n == 0 {
            self.init(nodeSize: nodeSize)
            return
        }

        // Level table: level 0 holds the n leaves, each level above ceil(previous / nodeSize)
        // nodes; at least one internal level so the root is always a node.
        var levelEnds = [n]
        var m = n
        var total = n
        repeat {
            m = (m + nodeSize - 1) / nodeSize
            total += m
            levelEnds.append(total)
        } while m > 1

        let keys = try PackedRTree._sortedHilbertKeys(boxes)
        let chunkCount = Swift.max(1, Swift.min(64, n / 32768))
        let chunkLength = (n + chunkCount - 1) / chunkCount

        // Pass 3 (parallel): gather leaves in Hilbert order.
        var outIDs = [UInt32](repeating: 0, count: n)
        let outBoxes = [Box](unsafeUninitializedCapacity: total) { out, initialized in
            let outBase = out.baseAddress!
            boxes.withUnsafeBufferPointer { src in
                keys.withUnsafeBufferPointer { k in
                    outIDs.withUnsafeMutableBufferPointer { oid in
                        let oidBase = oid.baseAddress!
                        let explicitIDs = ids
                        _concurrentPerform(iterations: chunkCount) { c in
                            let end = Swift.min(n, (c + 1) * chunkLength)
                            var i = c * chunkLength
                            while i < end {
                                let from = Int(truncatingIfNeeded: k[i] & 0xFFFF_FFFF)
                                (outBase + i).initialize(to: src[from])
                                oidBase[i] = explicitIDs?[from] ?? UInt32(truncatingIfNeeded: from)
                                i += 1
                            }
                        }
                    }
                }
            }
            // Internal levels bottom-up: each node is the union of its run of children.
            var childStart = 0
            for level in 1..<levelEnds.count {
                let childEnd = levelEnds[level - 1]
                var parent = childEnd
                var c = childStart
                while c < childEnd {
                    let stop = Swift.min(c + nodeSize, childEnd)
                    var u = outBase[c]
                    c += 1
                    while c < stop {
                        let b = outBase[c]
                        u.minX = Swift.min(u.minX, b.minX); u.minY = Swift.min(u.minY, b.minY)
                        u.maxX = Swift.max(u.maxX, b.maxX); u.maxY = Swift.max(u.maxY, b.maxY)
                        c += 1
                    }
                    (outBase + parent).initialize(to: u)
                    parent += 1
                }
                childStart = childEnd
            }
            initialized = total
        }
        self.init(_boxes: outBoxes, _ids: outIDs, _levelEnds: levelEnds, nodeSize: nodeSize)
    }
}

extension PackedRTree {
    /// Validates `boxes` and returns one key per box, sorted: the Hilbert cell of the box centre in
    /// the high word, the input position in the low word. The bulk build's leaf order is the low
    /// words in this order; it depends on the boxes alone (not on ids or node size). Stable: equal
    /// cells keep input order, so builds are deterministic and renumbering is idempotent.
    /// - Complexity: O(n); validation and key computation run on all cores, the sort is an LSD radix.
    static func _sortedHilbertKeys(_ boxes: [Box]) throws -> [UInt64] {
        let n = boxes.count
        let chunkCount = Swift.max(1, Swift.min(64, n / 32768))
        let chunkLength = (n + chunkCount - 1) / chunkCount

        // Pass 1 (parallel): validity and the bounds of the box centres (as min+max sums, which
        // orders the same as centres and saves a multiply).
        struct ChunkStats { var firstBad = Int.max; var lo = (Double.infinity, Double.infinity); var hi = (-Double.infinity, -Double.infinity) }
        var stats = [ChunkStats](repeating: ChunkStats(), count: chunkCount)
        boxes.withUnsafeBufferPointer { src in
            stats.withUnsafeMutableBufferPointer { st in
                let stBase = st.baseAddress!
                _concurrentPerform(iterations: chunkCount) { c in
                    var s = ChunkStats()
                    let end = Swift.min(n, (c + 1) * chunkLength)
                    var i = c * chunkLength
                    while i < end {
                        let b = src[i]
                        if !b.isValid {
                            s.firstBad = i
                            break
                        }
                        let sx = b.minX + b.maxX, sy = b.minY + b.maxY
                        s.lo.0 = Swift.min(s.lo.0, sx); s.lo.1 = Swift.min(s.lo.1, sy)
                        s.hi.0 = Swift.max(s.hi.0, sx); s.hi.1 = Swift.max(s.hi.1, sy)
                        i += 1
                    }
                    stBase[c] = s
                }
            }
        }
        var lo = (Double.infinity, Double.infinity), hi = (-Double.infinity, -Double.infinity)
        for s in stats {
            if s.firstBad != Int.max {
                let b = boxes[s.firstBad]
                throw IndexError.invalidBox(index: s.firstBad, box: b, reason: b.invalidityReason ?? "invalid")
            }
            lo.0 = Swift.min(lo.0, s.lo.0); lo.1 = Swift.min(lo.1, s.lo.1)
            hi.0 = Swift.max(hi.0, s.hi.0); hi.1 = Swift.max(hi.1, s.hi.1)
        }

        // Pass 2 (parallel): Hilbert key in the high word, input position in the low word.
        let spanX = hi.0 - lo.0, spanY = hi.1 - lo.1
        let lo0 = lo.0, lo1 = lo.1
        let scaleX = spanX > 0 ? 65535 / spanX : 0
        let scaleY = spanY > 0 ? 65535 / spanY : 0
        var keys = [UInt64](repeating: 0, count: n)
        boxes.withUnsafeBufferPointer { src in
            keys.withUnsafeMutableBufferPointer { k in
                let kBase = k.baseAddress!
                _concurrentPerform(iterations: chunkCount) { c in
                    let end = Swift.min(n, (c + 1) * chunkLength)
                    var i = c * chunkLength
                    while i < end {
                        let b = src[i]
                        // Clamp: rounding of (s - lo) * scale may land a hair outside 0...65535.
                        let gx = Swift.min(65535, Swift.max(0, ((b.minX + b.maxX) - lo0) * scaleX))
                        let gy = Swift.min(65535, Swift.max(0, ((b.minY + b.maxY) - lo1) * scaleY))
                        // NaN only from overflowing extreme coordinates (~1e308): any cell is correct.
                        let h = _hilbert(gx.isNaN ? 0 : UInt32(gx), gy.isNaN ? 0 : UInt32(gy))
                        kBase[i] = UInt64(h) << 32 | UInt64(i)
                        i += 1
                    }
                }
            }
        }
        var scratch = [UInt64](repeating: 0, count: n)
        _radixSortByHighWord(&keys, scratch: &scratch)
        return keys
    }
}

extension PackedRTree {
    /// Checks every structural invariant and throws `IndexError.invariantViolated` saying which one
    /// and where: the level table matches count and node size, every box is valid, every node box
    /// is exactly the union of its children. O(n). Used by tests and after loading a file.
    public func validate() throws {
        func fail(_ s: String) -> IndexError { .invariantViolated(s) }
        guard (2...65535).contains(nodeSize) else { throw fail("node size \(nodeSize) outside 2...65535") }
        let n = _count
        guard _idsAreLeafPositions || _ids.count == n else { throw fail("\(_ids.count) ids for \(n) items") }
        if n == 0 {
            guard _boxes.isEmpty else { throw fail("empty tree holds \(_boxes.count) boxes") }
            return
        }
        var expected = [n]
        var m = n, total = n
        repeat {
            m = (m + nodeSize - 1) / nodeSize
            total += m
            expected.append(total)
        } while m > 1
        guard expected == _levelEnds else { throw fail("level table \(_levelEnds) != expected \(expected) for \(n) items, node size \(nodeSize)") }
        guard _boxes.count == total else { throw fail("\(_boxes.count) boxes, expected \(total)") }
        for (i, b) in _boxes.enumerated() where !b.isValid {
            throw fail("box \(i) \(b) is invalid: \(b.invalidityReason ?? "")")
        }
        var childStart = 0
        for level in 1..<_levelEnds.count {
            let childEnd = _levelEnds[level - 1]
            var parent = childEnd
            var c = childStart
            while c < childEnd {
                let stop = Swift.min(c + nodeSize, childEnd)
                var u = _boxes[c]
                for j in (c + 1)..<Swift.max(c + 1, stop) { u = u.union(_boxes[j]) }
                guard _boxes[parent] == u else {
                    throw fail("node \(parent) (level \(level)) box \(_boxes[parent]) != union of children \(c)..<\(stop) \(u)")
                }
                c = stop
                parent += 1
            }
            guard parent == _levelEnds[level] else { throw fail("level \(level) has \(_levelEnds[level] - childEnd) nodes, children need \(parent - childEnd)") }
            childStart = childEnd
        }
    }
}

/// Wraps a value the compiler cannot prove `Sendable` (buffer pointers into arrays we own for the
/// duration of a parallel loop, where each iteration writes a disjoint range).
struct _UncheckedSendable<T>: @unchecked Sendable {
    let value: T
}

/// `DispatchQueue.concurrentPerform` for a non-escaping body whose iterations touch disjoint
/// memory. Runs serially for one iteration to avoid the dispatch overhead on small builds.
func _concurrentPerform(iterations: Int, _ body: (Int) -> Void) {
    if iterations == 1 {
        body(0)
        return
    }
    withoutActuallyEscaping(body) { escaping in
        let box = _UncheckedSendable(value: escaping)
        DispatchQueue.concurrentPerform(iterations: iterations) { box.value($0) }
    }
}
