import Foundation

/// The bulk build's leaf order: a top-down split of the box centres that fills the tree's implicit
/// layout.
///
/// The layout fixes which leaf positions each node covers: at node size M, a node of level `l`
/// (leaves are level 0) covers `M^l` consecutive leaf positions, except the last node of each
/// level, which takes the remainder. Any permutation of the items is a valid tree; the order only
/// decides how tight and how little overlapping the nodes are. This one is Boost.Geometry's packing
/// rule (`pack_create.hpp`) fitted to that layout: the items of a node are split in two along the
/// longer extent of their centres, by selection (no full sort), so that the first part holds a
/// whole number of full child subtrees and the second part the rest; each part is split again
/// until it is one child, and each child is packed the same way one level down. Only the last child
/// of a node can be short, and it is the node's last, so every level stays full except its last
/// node. Compared with a Hilbert-curve order, siblings overlap less, so searches open fewer nodes;
/// chosen by measurement, see `Benchmarks/NOTES.md`.
///
/// The order is a function of the boxes and the node size alone: comparisons are on
/// (centre coordinate, input position), a total order, so ties never depend on the selection's
/// path, and the items of one leaf are kept in input order. Renumbering by the order and packing
/// again gives the identity. Subtrees are disjoint ranges packed independently, so the top splits
/// hand them to all cores without changing the result.
extension PackedRTree {
    /// One item while packing: its centre quantised to a 2^32 grid over the centres' bounds, and its
    /// input position. 12 bytes, so selection moves little memory.
    struct _PackEntry {
        var x: UInt32
        var y: UInt32
        var i: UInt32
    }

    /// Validates `boxes` and returns the bounds of their centres, as min+max sums (which order the
    /// same as centres and save a multiply).
    /// - Throws: `IndexError.invalidBox` for the first NaN/infinite/inverted box.
    /// - Complexity: O(n), on all cores.
    static func _centreSumBounds(_ boxes: [Box]) throws -> (lo: (Double, Double), hi: (Double, Double)) {
        let n = boxes.count
        let chunkCount = Swift.max(1, Swift.min(64, n / 32768))
        let chunkLength = (n + chunkCount - 1) / chunkCount
        struct ChunkStats {
            var firstBad = Int.max
            var lo = (Double.infinity, Double.infinity)
            var hi = (-Double.infinity, -Double.infinity)
        }
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
        return (lo, hi)
    }

    /// The leaf order of a tree of `boxes` at `nodeSize`: `order[i]` is the input position of leaf
    /// `i`. Validates the boxes. `parallelism` is how many subtrees the top splits make for the cores
    /// (the order does not depend on it).
    /// - Throws: `IndexError.invalidBox` for the first NaN/infinite/inverted box.
    /// - Complexity: O(n log n) comparisons (a linear selection per binary split, log2(n / nodeSize)
    ///   splits deep); the centres and the subtrees below the top splits run on all cores.
    static func _leafOrder(_ boxes: [Box], nodeSize: Int,
                           parallelism: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [UInt32] {
        let n = boxes.count
        if n == 0 { return [] }
        let (lo, hi) = try _centreSumBounds(boxes)
        let chunkCount = Swift.max(1, Swift.min(64, n / 32768))
        let chunkLength = (n + chunkCount - 1) / chunkCount
        let spanX = hi.0 - lo.0, spanY = hi.1 - lo.1
        let grid = Double(UInt32.max)
        let scaleX = spanX > 0 ? grid / spanX : 0, scaleY = spanY > 0 ? grid / spanY : 0
        var entries = [_PackEntry](repeating: _PackEntry(x: 0, y: 0, i: 0), count: n)
        boxes.withUnsafeBufferPointer { src in
            entries.withUnsafeMutableBufferPointer { e in
                let eBase = e.baseAddress!
                _concurrentPerform(iterations: chunkCount) { c in
                    let end = Swift.min(n, (c + 1) * chunkLength)
                    var i = c * chunkLength
                    while i < end {
                        let b = src[i]
                        // Clamp: rounding may land a hair outside the grid; NaN only from
                        // overflowing extreme coordinates (~1e308), where any cell is correct.
                        let gx = Swift.min(grid, Swift.max(0, ((b.minX + b.maxX) - lo.0) * scaleX))
                        let gy = Swift.min(grid, Swift.max(0, ((b.minY + b.maxY) - lo.1) * scaleY))
                        eBase[i] = _PackEntry(x: gx.isNaN ? 0 : UInt32(gx), y: gy.isNaN ? 0 : UInt32(gy),
                                              i: UInt32(truncatingIfNeeded: i))
                        i += 1
                    }
                }
            }
        }
        // Items per child of the root: the largest power of the node size below n (1 when the root
        // is the only leaf node).
        var rootChildCapacity = 1
        while rootChildCapacity * nodeSize < n { rootChildCapacity *= nodeSize }
        entries.withUnsafeMutableBufferPointer { e in
            let packer = _Packer(entries: e.baseAddress!, nodeSize: nodeSize, spanX: spanX, spanY: spanY)
            // Top splits run here until there is a subtree per core; the subtrees then run in parallel.
            var tasks = [_Packer.Task(start: 0, end: n, childCapacity: rootChildCapacity).normalised(nodeSize)]
            while tasks.count < parallelism {
                guard let big = tasks.indices.max(by: { tasks[$0].count < tasks[$1].count }),
                      tasks[big].isSplittable, tasks[big].count >= _parallelPackMinimum else { break }
                let (a, b) = packer.split(tasks[big])
                tasks[big] = a
                tasks.append(b)
            }
            let shared = _UncheckedSendable(value: packer)
            _concurrentPerform(iterations: tasks.count) { shared.value.pack(tasks[$0]) }
        }
        return entries.map(\.i)
    }

    /// Below this many items a subtree is not worth a thread of its own.
    static var _parallelPackMinimum: Int { 32768 }

    /// The recursive top-down split over one entry buffer; see the extension's documentation.
    struct _Packer {
        let entries: UnsafeMutablePointer<_PackEntry>
        let nodeSize: Int
        /// Spans of the centre sums, to compare the two axes' extents in the same unit.
        let spanX: Double
        let spanY: Double

        /// Entries `start..<end` to be split into children of `childCapacity` items each, all full
        /// but the last; `childCapacity` 1 means the range is one leaf node.
        struct Task {
            var start: Int
            var end: Int
            var childCapacity: Int
            var count: Int { end - start }
            /// Steps down to the level where the range makes more than one child (or to the leaf).
            func normalised(_ nodeSize: Int) -> Task {
                var t = self
                while t.childCapacity > 1 && t.count <= t.childCapacity { t.childCapacity /= nodeSize }
                return t
            }
            /// More than one child: a split is due. Otherwise the range is one leaf node.
            var isSplittable: Bool { childCapacity > 1 && count > childCapacity }
        }

        /// Packs `task`'s range completely.
        func pack(_ task: Task) {
            var t = task.normalised(nodeSize)
            while t.isSplittable {
                let (a, b) = split(t)
                pack(a)
                t = b.normalised(nodeSize)
            }
            // A leaf node: its items in input order, so the order is a function of the item set.
            var leaf = UnsafeMutableBufferPointer(start: entries + t.start, count: t.count)
            leaf.sort { $0.i < $1.i }
        }

        /// Splits a range of several children in two along the longer extent of its centres: the
        /// first part takes half the full children (rounded up), the second the rest, remainder
        /// included. Both parts come back normalised.
        func split(_ t: Task) -> (Task, Task) {
            let full = t.count / t.childCapacity
            let mid = t.start + (full + 1) / 2 * t.childCapacity
            var loX = UInt32.max, hiX = UInt32.min, loY = UInt32.max, hiY = UInt32.min
            for k in t.start..<t.end {
                let e = entries[k]
                loX = Swift.min(loX, e.x); hiX = Swift.max(hiX, e.x)
                loY = Swift.min(loY, e.y); hiY = Swift.max(hiY, e.y)
            }
            let alongX = Double(hiX - loX) * spanX >= Double(hiY - loY) * spanY
            if alongX {
                _select(entries, t.start, mid, t.end) { UInt64($0.x) << 32 | UInt64($0.i) }
            } else {
                _select(entries, t.start, mid, t.end) { UInt64($0.y) << 32 | UInt64($0.i) }
            }
            return (Task(start: t.start, end: mid, childCapacity: t.childCapacity).normalised(nodeSize),
                    Task(start: mid, end: t.end, childCapacity: t.childCapacity).normalised(nodeSize))
        }
    }
}

/// Reorders `base[start..<end]` so that the entries `start..<mid` are the `mid − start` smallest by
/// `key` (keys are distinct). Quickselect with sampled pivots on large ranges, median of three on
/// small ones, and a branch-free Lomuto partition (every entry is swapped, the boundary moves by the comparison's result, so the
/// processor has no data-dependent branch to mispredict); if the partitions shrink too slowly
/// (2 log2(n) + 8 rounds) the rest of the range is sorted instead, so the worst case stays
/// O(n log n). Deterministic: no random pivots.
@inline(__always)
func _select(_ base: UnsafeMutablePointer<PackedRTree._PackEntry>, _ start: Int, _ mid: Int, _ end: Int,
             key: (PackedRTree._PackEntry) -> UInt64) {
    var lo = start, hi = end - 1  // inclusive bounds of the range still holding position mid
    var budget = 2 * (Int.bitWidth - (end - start).leadingZeroBitCount) + 8
    var below = true  // which side of `mid` the next sampled pivot is taken from
    while hi - lo > 16 {
        if budget == 0 {
            var rest = UnsafeMutableBufferPointer(start: base + lo, count: hi - lo + 1)
            rest.sort { key($0) < key($1) }
            return
        }
        budget -= 1
        if hi - lo >= 4096 {
            // Large range: the pivot is a sample quantile a little to one side of `mid`'s rank, so
            // this pass leaves `mid` near the end of the part kept and the next pass cuts that part
            // down to a sliver (after Floyd and Rivest): about 1.5 passes instead of quickselect's 3.
            let s = hi - lo + 1
            let want = Double(mid - lo) / Double(s) * 63
            let rank = below ? Int(want) - 3 : Int(want) + 4
            below.toggle()
            withUnsafeTemporaryAllocation(of: (UInt64, Int).self, capacity: 63) { samples in
                var sample = samples
                for t in 0..<63 {
                    let at = lo + s * (2 * t + 1) / 126
                    sample[t] = (key(base[at]), at)
                }
                sample.sort { $0.0 < $1.0 }
                _swapEntries(base, lo, sample[Swift.min(62, Swift.max(0, rank))].1)
            }
        } else {
            // Median of three, moved to lo.
            let m = lo + (hi - lo) / 2
            if key(base[m]) < key(base[lo]) { _swapEntries(base, m, lo) }
            if key(base[hi]) < key(base[lo]) { _swapEntries(base, hi, lo) }
            if key(base[hi]) < key(base[m]) { _swapEntries(base, hi, m) }
            _swapEntries(base, lo, m)
        }
        let pivot = key(base[lo])
        var store = lo + 1  // entries lo+1..<store are smaller than the pivot
        var k = lo + 1
        while k <= hi {
            let e = base[k]
            let smaller = key(e) < pivot
            base[k] = base[store]
            base[store] = e
            store &+= smaller ? 1 : 0
            k += 1
        }
        let j = store - 1
        _swapEntries(base, lo, j)  // the pivot lands at j: all before are smaller, all after larger
        if j == mid { return }
        if j < mid { lo = j + 1 } else { hi = j - 1 }
    }
    if hi > lo {
        var rest = UnsafeMutableBufferPointer(start: base + lo, count: hi - lo + 1)
        rest.sort { key($0) < key($1) }
    }
}

@inline(__always)
func _swapEntries(_ base: UnsafeMutablePointer<PackedRTree._PackEntry>, _ a: Int, _ b: Int) {
    let t = base[a]
    base[a] = base[b]
    base[b] = t
}
