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
/// ## Memory trade-off
/// Leaf boxes are kept as exact `Double`s: `intersecting(_:)` without a predicate must equal brute
/// force over the caller's `Double` boxes, and quantised (`Float32`) leaves would need the
/// original boxes stored as well. Exact leaves cost 32 bytes, ids 4 (none when ids are leaf
/// positions), internal nodes 32 / (nodeSize − 1): 38.1 bytes/item at the default node size 16
/// with explicit ids, 34.1 with positional ids, with every answer exact and no refinement pass.
/// The alternatives and their sizes are in `Benchmarks/NOTES.md`.
///
/// ## Build
/// Hilbert keys of box centres on a 2^16 grid are computed in parallel
/// (`DispatchQueue.concurrentPerform`), sorted with a stable O(n) radix sort (equal keys keep input
/// order, so builds are deterministic), then the levels are built bottom-up. Invalid boxes (NaN,
/// infinite, inverted) are refused with `IndexError.invalidBox` naming the first bad item.
///
/// ## Node size
/// Default 16, chosen by measurement against Boost.Geometry over node sizes 8–24 (see
/// `Benchmarks/NOTES.md`, "PackedRTree"): nearest searches gain from wide nodes (fewer levels,
/// fewer heap entries); window and within-distance queries do not lose until the depth-first
/// stack (levels × node size words) outgrows the 1 KiB that `withUnsafeTemporaryAllocation`
/// keeps on the stack, after which every query would allocate.
///
/// Node size and layout chosen by measurement, see `Benchmarks/NOTES.md`; current figures are in
/// the nightly report (`Benchmarks/reports/`).
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
    public static let defaultNodeSize = 16

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
        self._ids = positional ? [] : (_ids ?? [])
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
