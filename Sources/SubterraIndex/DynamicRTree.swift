import Foundation

/// One edit of a `DynamicRTree`.
@frozen
public enum IndexEdit: Hashable, Sendable {
    case insert(id: UInt32, box: Box)
    case remove(id: UInt32)
    case update(id: UInt32, box: Box)
}

/// An R-tree for a city that edits its map: insert, remove and update by id, while readers query
/// consistent snapshots.
///
/// ## Design
/// The state is an immutable `Snapshot` value with three tiers:
/// - a packed **base** tree (all items at the last merge) minus a tombstone set,
/// - a packed **delta** tree (items inserted or moved since) minus its own tombstone set,
/// - a **tail** of at most `tailLimit` (64) newest items, scanned linearly by queries.
///
/// An edit copies only the tail (and a tombstone set when it removes from a tree), so an insert
/// costs O(tailLimit); when the tail overflows, delta and tail are re-packed (O(m), amortised over
/// 64 inserts); when delta + tombstones exceed `mergeThreshold` (default
/// `clamp(count / 64, 1024...32768)`, raised to √(2·count·B) for the delta of a batch of B edits),
/// everything is merged into a new packed base (O(n), amortised over ≥ 1024 edits). One-by-one
/// inserts are slower than an R*-tree's (rates in `Benchmarks/NOTES.md`); the price buys the
/// lock-free snapshots: a reader never waits, and a tree it holds never changes.
///
/// Publication: the writer builds the next snapshot from the current one under `writerLock`, then
/// swaps it in under `publishLock`, held only for a value copy. Readers call `snapshot()` and
/// query it lock-free for as long as they like; they never see half an edit, and a batch
/// (`apply(_:)`) is published all at once.
///
/// Merges run on the writer path (`MergePolicy.inline`, the default: an edit that triggers one
/// waits O(n) for it; readers keep using the previous snapshot meanwhile) or on a background
/// thread (`.background`): the edit that crosses the threshold publishes at once and starts a
/// merge of its snapshot; later edits go on as usual and are logged; the first edit after the
/// merge has finished takes the new base and replays the log onto it (O(log length)), so no
/// edit waits for a whole-tree build. Readers see the same items either way.
///
/// Ids are unique: inserting a live id or touching a missing one throws, and a failing batch
/// publishes nothing.
public final class DynamicRTree: @unchecked Sendable {
    // @unchecked: all mutable state is behind `writerLock` (edits) and `publishLock` (the current
    // snapshot value); snapshots themselves are immutable values.
    private let writerLock = NSLock()
    private let publishLock = NSLock()
    private var current: Snapshot
    private let fixedThreshold: Int?
    /// Where merges run.
    public let merges: MergePolicy
    /// Writer-only: the background merge under way, and the edits applied since its snapshot.
    private var pending: _PendingMerge?
    private var log: [IndexEdit] = []
    /// Tail length that triggers re-packing the delta.
    public static let tailLimit = 64

    /// Where the O(n) merges of delta and tombstones into a new base run.
    public enum MergePolicy: Hashable, Sendable {
        /// On the writer's path, inside the `apply(_:)` that crosses the threshold.
        case inline
        /// On a background thread; the writer installs the result at its next edit (or at
        /// `finishMerges()`), replaying the edits made meanwhile.
        case background
    }

    /// Creates an index from initial items (ids must be unique).
    ///
    /// - Parameters:
    ///   - mergeThreshold: delta + tombstone count that triggers a merge into a new base; `nil`
    ///     picks `clamp(count / 64, 1024...32768)`.
    /// - Throws: `IndexError.invalidBox`, `.duplicateID`, and the other build errors.
    ///   - merges: where merges run (``MergePolicy``).
    public init(
        items: [(box: Box, id: UInt32)] = [], nodeSize: Int = PackedRTree.defaultNodeSize, mergeThreshold: Int? = nil,
        merges: MergePolicy = .inline
    ) throws {
        let base = try PackedRTree(items: items, nodeSize: nodeSize)
        self.current = try Snapshot(base: base, version: 0)
        self.fixedThreshold = mergeThreshold.map { Swift.max(1, $0) }
        self.merges = merges
    }

    /// The current consistent state; query it without any lock. O(1).
    public func snapshot() -> Snapshot {
        publishLock.lock()
        defer { publishLock.unlock() }
        return current
    }

    /// Number of live items in the current snapshot.
    public var count: Int { snapshot().count }

    /// Adds an item. Throws `.duplicateID` if `id` is live, `.invalidBox` if `box` is invalid.
    public func insert(id: UInt32, box: Box) throws { try apply([.insert(id: id, box: box)]) }

    /// Removes an item. Throws `.unknownID` if absent.
    public func remove(id: UInt32) throws { try apply([.remove(id: id)]) }

    /// Moves an item to a new box. Throws `.unknownID` if absent, `.invalidBox` if invalid.
    public func update(id: UInt32, box: Box) throws { try apply([.update(id: id, box: box)]) }

    /// Applies a batch of edits atomically: readers see all of them or none. On error nothing is
    /// published and the error names the failing edit (`invalidBox.index` is its batch position).
    ///
    /// - Complexity: O(e · tailLimit) for e edits, plus O(t) per removal from a tree (t tombstones),
    ///   plus the amortised re-pack and merge described on the type.
    public func apply(_ edits: [IndexEdit]) throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        var start = snapshot()
        if let installed = try installMerge(waiting: false) { start = installed }
        var next = try Self.applying(edits, to: start)
        next = Snapshot(base: next.base, baseIndex: next._baseIndex, baseDead: next._baseDead, delta: next.delta,
                        deltaIndex: next._deltaIndex, deltaDead: next._deltaDead, tail: next._tail,
                        version: start.version + 1)
        let threshold = fixedThreshold ?? Swift.min(32768, Swift.max(1024, start.count / 64))
        // A batch of B edits re-packs the delta once (O(delta)) where single edits re-pack it
        // every `tailLimit`; per edit that is delta / B against n / delta for the merges, balanced
        // at delta = sqrt(2·n·B). So large batches let the delta grow past the standard threshold
        // (10^7 items loaded in batches of 1024: 4.4e4 items/s with the standard one, when every
        // 32 batches rebuilt the whole base). Tombstones keep the standard limit: each costs readers
        // a set lookup per base candidate.
        let deltaLimit = fixedThreshold
            ?? Swift.max(threshold, Int((2 * Double(start.count) * Double(Swift.max(Self.tailLimit, edits.count))).squareRoot()))
        let dead = next._baseDead.count + next._deltaDead.count
        let mergeDue = dead > threshold || next.delta.count + next._tail.count + dead > deltaLimit
        if pending != nil { log += edits }
        if mergeDue && merges == .inline {
            next = try next._merged()
        } else {
            if next._tail.count > Self.tailLimit { next = try next._repackedDelta() }
            if mergeDue && pending == nil { startMerge(of: next) }
        }
        publish(next)
    }

    /// Waits for a background merge under way (if any) and installs it, so the published
    /// snapshot has its new base. Nothing to do under `.inline`. Edits made meanwhile are kept.
    public func finishMerges() throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        if let installed = try installMerge(waiting: true) { publish(installed) }
    }

    /// Whether a background merge is under way (started and not yet installed).
    public var isMerging: Bool {
        writerLock.lock()
        defer { writerLock.unlock() }
        return pending != nil
    }

    private func publish(_ next: Snapshot) {
        publishLock.lock()
        current = next
        publishLock.unlock()
    }

    /// `edits` applied in order to `start` (tail and tombstones only; no re-pack, no merge).
    /// Throws on the first edit that does not apply, naming it.
    static func applying(_ edits: [IndexEdit], to start: Snapshot) throws -> Snapshot {
        var tail = start._tail
        var baseDead = start._baseDead
        var deltaDead = start._deltaDead
        for (k, edit) in edits.enumerated() {
            func tailIndex(_ id: UInt32) -> Int? { tail.firstIndex { $0.id == id } }
            func inDelta(_ id: UInt32) -> Bool { start._deltaPosition(of: id) != nil && !deltaDead.contains(id) }
            func inBase(_ id: UInt32) -> Bool { start._basePosition(of: id) != nil && !baseDead.contains(id) }
            func removeLive(_ id: UInt32) throws {
                if let i = tailIndex(id) {
                    tail.swapAt(i, tail.count - 1)
                    tail.removeLast()
                } else if inDelta(id) {
                    deltaDead.insert(id)
                } else if inBase(id) {
                    baseDead.insert(id)
                } else {
                    throw IndexError.unknownID(id)
                }
            }
            func check(_ box: Box) throws {
                if let reason = box.invalidityReason { throw IndexError.invalidBox(index: k, box: box, reason: reason) }
            }
            switch edit {
            case let .insert(id, box):
                try check(box)
                guard tailIndex(id) == nil, !inDelta(id), !inBase(id) else { throw IndexError.duplicateID(id) }
                tail.append(_TailItem(box: box, id: id))
            case let .remove(id):
                try removeLive(id)
            case let .update(id, box):
                try check(box)
                try removeLive(id)
                tail.append(_TailItem(box: box, id: id))
            }
        }
        return Snapshot(base: start.base, baseIndex: start._baseIndex, baseDead: baseDead,
                        delta: start.delta, deltaIndex: start._deltaIndex, deltaDead: deltaDead,
                        tail: tail, version: start.version)
    }

    /// Starts merging `snapshot` on a background thread. Writer-only.
    private func startMerge(of snapshot: Snapshot) {
        let job = _PendingMerge()
        pending = job
        log = []
        Thread.detachNewThread {
            let result = Result { try snapshot._merged() }
            job.finish(result)
        }
    }

    /// The merge under way, installed: its new base with the edits logged since replayed, at the
    /// current version; nil when none is under way or (unless `waiting`) it has not finished.
    /// A merge that failed is dropped and its work redone inline. Writer-only.
    private func installMerge(waiting: Bool) throws -> Snapshot? {
        guard let job = pending, let result = job.result(waiting: waiting) else { return nil }
        let edits = log
        pending = nil
        log = []
        let now = snapshot()
        var merged: Snapshot
        switch result {
        case .success(let m):
            merged = try Self.applying(edits, to: m)
            if merged._tail.count > Self.tailLimit { merged = try merged._repackedDelta() }
        case .failure:
            merged = try now._merged()
        }
        return Snapshot(base: merged.base, baseIndex: merged._baseIndex, baseDead: merged._baseDead, delta: merged.delta,
                        deltaIndex: merged._deltaIndex, deltaDead: merged._deltaDead, tail: merged._tail,
                        version: now.version)
    }

    /// Merges delta, tail and tombstones into a new packed base now (e.g. before persisting). O(n).
    public func compact() throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        // A background merge under way is superseded.
        pending = nil
        log = []
        publish(try snapshot()._merged())
    }
}

/// A background merge's result slot, written once by the merging thread.
final class _PendingMerge: @unchecked Sendable {
    // @unchecked: `outcome` is behind `condition`.
    private let condition = NSCondition()
    private var outcome: Result<DynamicRTree.Snapshot, any Error>?

    func finish(_ r: Result<DynamicRTree.Snapshot, any Error>) {
        condition.lock()
        outcome = r
        condition.broadcast()
        condition.unlock()
    }

    /// The result; nil when not finished and not `waiting`.
    func result(waiting: Bool) -> Result<DynamicRTree.Snapshot, any Error>? {
        condition.lock()
        defer { condition.unlock() }
        while waiting && outcome == nil { condition.wait() }
        return outcome
    }
}

extension DynamicRTree {
    /// An item of the unpacked tail.
    @frozen @usableFromInline
    struct _TailItem: Sendable {
        @usableFromInline var box: Box
        @usableFromInline var id: UInt32
    }

    /// Sorted `id << 32 | position` keys of a tree, for O(log n) id lookups; throws on duplicates.
    static func _idIndex(_ tree: PackedRTree) throws -> [UInt64] {
        var index = [UInt64](repeating: 0, count: tree.count)
        tree._ids.withUnsafeBufferPointer { ids in
            for i in 0..<tree.count { index[i] = UInt64(tree._id(at: i, ids)) << 32 | UInt64(i) }
        }
        var scratch = [UInt64](repeating: 0, count: index.count)
        _radixSortByHighWord(&index, scratch: &scratch)
        for i in index.indices.dropFirst() where index[i] >> 32 == index[i - 1] >> 32 {
            throw IndexError.duplicateID(UInt32(index[i] >> 32))
        }
        return index
    }

    static func _position(of id: UInt32, in index: [UInt64]) -> Int? {
        let key = UInt64(id) << 32
        var lo = 0, hi = index.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if index[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        guard lo < index.count, index[lo] >> 32 == UInt64(id) else { return nil }
        return Int(truncatingIfNeeded: index[lo] & 0xFFFF_FFFF)
    }

    /// An immutable, consistent state of a `DynamicRTree` (base − tombstones, delta − tombstones,
    /// tail). `Sendable`; all queries are lock-free and match `PackedRTree`'s.
    public struct Snapshot: Sendable {
        /// The packed base tree (may hold tombstoned ids).
        public let base: PackedRTree
        /// Items packed since the base was built (may hold tombstoned ids).
        public let delta: PackedRTree
        /// Monotonic edit-batch counter; 0 for the initial state.
        public let version: UInt64
        @usableFromInline let _baseDead: Set<UInt32>
        @usableFromInline let _deltaDead: Set<UInt32>
        @usableFromInline let _tail: [_TailItem]
        let _baseIndex: [UInt64]
        let _deltaIndex: [UInt64]
        /// The base and delta trees keyed by leaf position (the same boxes and nodes, no id
        /// array), and the tail keyed by `delta.count + i`: what the storage-order nearest search
        /// runs on, so an answer's box and id are read by position, never looked up by id.
        @usableFromInline let _basePositional: PackedRTree
        @usableFromInline let _deltaPositional: PackedRTree
        @usableFromInline let _tailPositional: [_TailItem]

        init(base: PackedRTree, version: UInt64) throws {
            try self.init(base: base, baseIndex: DynamicRTree._idIndex(base), baseDead: [],
                          delta: PackedRTree(nodeSize: base.nodeSize), deltaIndex: [], deltaDead: [],
                          tail: [], version: version)
        }

        init(base: PackedRTree, baseIndex: [UInt64], baseDead: Set<UInt32>, delta: PackedRTree, deltaIndex: [UInt64],
             deltaDead: Set<UInt32>, tail: [_TailItem], version: UInt64) {
            self.base = base
            self._baseIndex = baseIndex
            self._baseDead = baseDead
            self.delta = delta
            self._deltaIndex = deltaIndex
            self._deltaDead = deltaDead
            self._tail = tail
            self.version = version
            _basePositional = PackedRTree(_boxes: base._boxes, _ids: nil, _levelEnds: base._levelEnds, nodeSize: base.nodeSize)
            _deltaPositional = PackedRTree(_boxes: delta._boxes, _ids: nil, _levelEnds: delta._levelEnds,
                                           nodeSize: delta.nodeSize)
            let offset = delta.count
            _tailPositional = tail.indices.map { _TailItem(box: tail[$0].box, id: UInt32(truncatingIfNeeded: offset + $0)) }
        }

        /// Number of live items.
        public var count: Int { base.count - _baseDead.count + delta.count - _deltaDead.count + _tail.count }

        func _basePosition(of id: UInt32) -> Int? { DynamicRTree._position(of: id, in: _baseIndex) }
        func _deltaPosition(of id: UInt32) -> Int? { DynamicRTree._position(of: id, in: _deltaIndex) }

        /// The current box of `id`, or `nil` if it is not live. O(log n + tailLimit).
        public func box(for id: UInt32) -> Box? {
            if let t = _tail.first(where: { $0.id == id }) { return t.box }
            if !_deltaDead.contains(id), let p = _deltaPosition(of: id) { return delta._boxes[p] }
            if !_baseDead.contains(id), let p = _basePosition(of: id) { return base._boxes[p] }
            return nil
        }

        /// True when `id` is live.
        public func contains(id: UInt32) -> Bool { box(for: id) != nil }

        /// Every live item (base order, then delta, then tail). O(n).
        public var items: [(box: Box, id: UInt32)] {
            var out = base.items.filter { !_baseDead.contains($0.id) }
            out.append(contentsOf: delta.items.filter { !_deltaDead.contains($0.id) })
            out.append(contentsOf: _tail.map { ($0.box, $0.id) })
            return out
        }

        /// Delta + tail re-packed into a new delta tree (tombstones of the delta dropped). O(m).
        func _repackedDelta() throws -> Snapshot {
            var items = delta.items.filter { !_deltaDead.contains($0.id) }
            items.append(contentsOf: _tail.map { ($0.box, $0.id) })
            let newDelta = try PackedRTree(items: items, nodeSize: base.nodeSize)
            return try Snapshot(base: base, baseIndex: _baseIndex, baseDead: _baseDead, delta: newDelta,
                                deltaIndex: DynamicRTree._idIndex(newDelta), deltaDead: [], tail: [], version: version)
        }

        /// Everything live packed into a new base. O(n).
        func _merged() throws -> Snapshot {
            let next = try Snapshot(base: PackedRTree(items: items, nodeSize: base.nodeSize), version: version)
            return next
        }

        /// Checks both trees and the bookkeeping: tombstones name tree ids, every live id is live
        /// in exactly one tier.
        public func validate() throws {
            try base.validate()
            try delta.validate()
            for id in _baseDead where _basePosition(of: id) == nil {
                throw IndexError.invariantViolated("base tombstone \(id) names no base item")
            }
            for id in _deltaDead where _deltaPosition(of: id) == nil {
                throw IndexError.invariantViolated("delta tombstone \(id) names no delta item")
            }
            var seen = Set<UInt32>()
            for (_, id) in items where !seen.insert(id).inserted {
                throw IndexError.invariantViolated("id \(id) is live twice")
            }
            guard _tail.count <= DynamicRTree.tailLimit else {
                throw IndexError.invariantViolated("tail holds \(_tail.count) items, limit \(DynamicRTree.tailLimit)")
            }
        }

        // MARK: Queries (same semantics as PackedRTree's)

        /// Runs one query over the three tiers in turn: `tree` on the base, then on the delta
        /// (each with its tombstone test; returns `true` when the caller stopped), then `loose` on
        /// each tail item until it returns `true`.
        @inlinable @inline(__always)
        func _forEachTier(
            _ tree: (PackedRTree, _ isDead: (UInt32) -> Bool) throws -> Bool,
            loose: (_TailItem) throws -> Bool
        ) rethrows {
            let baseDead = _baseDead, deltaDead = _deltaDead
            let noBaseDead = baseDead.isEmpty, noDeltaDead = deltaDead.isEmpty
            if try tree(base, { !noBaseDead && baseDead.contains($0) }) { return }
            if try tree(delta, { !noDeltaDead && deltaDead.contains($0) }) { return }
            for item in _tail where try loose(item) { return }
        }

        /// Calls `body` with the id and box of every live item whose box intersects `query`,
        /// until `.stop`.
        @inlinable
        public func forEachIntersecting(_ query: Box, items body: (UInt32, Box) throws -> SearchControl) rethrows {
            try _forEachTier({ tree, isDead in
                var stopped = false
                try tree.forEachIntersecting(query, items: { id, box in
                    if isDead(id) { return .continue }
                    let r = try body(id, box)
                    stopped = r == .stop
                    return r
                })
                return stopped
            }, loose: { item in
                try item.box.intersects(query) && body(item.id, item.box) == .stop
            })
        }

        /// The three within forms below: a search over the three tiers where `boxTest` prunes nodes
        /// and items (tail items included), and tombstoned ids are never refined.
        @inlinable @inline(__always)
        func _forEachWithin(
            distance: Double,
            boxTest: (Box) throws -> Bool,
            itemDistance: (UInt32, Box) throws -> Double,
            _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            try _forEachTier({ tree, isDead in
                var stopped = false
                // NaN ≤ d is false, so a tombstoned item is never reported.
                try tree._forEachWithin(distance: distance, nodeTest: boxTest,
                                        itemDistance: { id, box in isDead(id) ? .nan : try itemDistance(id, box) }) { n in
                    let r = try body(n)
                    stopped = r == .stop
                    return r
                }
                return stopped
            }, loose: { item in
                guard try boxTest(item.box) else { return false }
                let d = try itemDistance(item.id, item.box)
                return try d <= distance && body(Neighbor(id: item.id, distance: d)) == .stop
            })
        }

        /// A pruning limit for `d` that holds in every tier (each tree adds its own rounding slack).
        @inlinable @inline(__always)
        func _pruneLimit(_ d: Double) -> Double { Swift.max(base._pruneLimit(d), delta._pruneLimit(d)) }

        /// Calls `body` for every live item with exact distance ≤ `distance`, until `.stop`.
        @inlinable
        public func forEachWithin(
            distance: Double,
            boxLowerBound: (Box) throws -> Double,
            itemDistance: (UInt32, Box) throws -> Double,
            _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            let limit = _pruneLimit(distance)
            try _forEachWithin(distance: distance, boxTest: { try boxLowerBound($0) <= limit }, itemDistance: itemDistance, body)
        }

        /// `forEachWithin` with a search envelope; see `PackedRTree.forEachWithin(distance:envelope:…)`.
        @inlinable
        public func forEachWithin(
            distance: Double,
            envelope: Box,
            boxLowerBound: (Box) throws -> Double,
            itemDistance: (UInt32, Box) throws -> Double,
            _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            let limit = _pruneLimit(distance)
            let env = distance.isFinite ? envelope.expanded(by: limit - distance) : envelope
            try _forEachWithin(distance: distance, boxTest: { try $0._overlaps(env) && boxLowerBound($0) <= limit },
                               itemDistance: itemDistance, body)
        }

        /// Point form of `forEachWithin` (squared-distance pruning, no square root).
        @inlinable
        public func forEachWithin(
            distance: Double, ofX x: Double, y: Double,
            itemDistance: (UInt32, Box) throws -> Double,
            _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            let limit2 = _squaredPruneLimit(_pruneLimit(distance))
            try _forEachWithin(distance: distance, boxTest: { $0.squaredDistance(toX: x, y: y) <= limit2 },
                               itemDistance: itemDistance, body)
        }

        /// Best-first nearest search over base and delta together (one heap), ascending exact
        /// distance, ties by id; see `PackedRTree.forEachNearest`.
        @inlinable
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

        /// Both nearest forms: one search over base, delta and tail with the tombstones excluded.
        @inlinable @inline(__always)
        func _nearest(
            k: Int, maxDistance: Double, squared: Bool,
            lowerBound: (Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
            filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            let baseDead = _baseDead, deltaDead = _deltaDead
            let noBaseDead = baseDead.isEmpty, noDeltaDead = deltaDead.isEmpty
            try _runNearest(base, delta, searchSecond: true, loose: _tail,
                            excludedFromFirst: { !noBaseDead && baseDead.contains($0) },
                            excludedFromSecond: { !noDeltaDead && deltaDead.contains($0) },
                            k: k, maxDistance: maxDistance, squared: squared, lowerBound: lowerBound,
                            itemDistance: itemDistance, filter: filter, scratch: scratch, body)
        }

        /// Nearest search around `(x, y)` in squared distances, right at every magnitude; see
        /// `PackedRTree.forEachNearest(k:maxDistance:toX:y:itemSquaredDistance:itemDistance:filter:scratch:_:)`.
        @inlinable
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
            var safe = _squaredKeysAreSafe(x: x, y: y, base.bounds) && _squaredKeysAreSafe(x: x, y: y, delta.bounds)
            for item in _tail where safe { safe = _squaredKeysAreSafe(x: x, y: y, item.box) }
            let baseDead = _baseDead, deltaDead = _deltaDead
            let noBaseDead = baseDead.isEmpty, noDeltaDead = deltaDead.isEmpty
            try _pointNearest(
                base, delta, searchSecond: true, loose: _tail,
                excludedFromFirst: { !noBaseDead && baseDead.contains($0) },
                excludedFromSecond: { !noDeltaDead && deltaDead.contains($0) },
                k: k, maxDistance: maxDistance, x: x, y: y, safe: safe, itemSquaredDistance: itemSquaredDistance,
                itemDistance: itemDistance, filter: filter, scratch: scratch, body)
        }

        /// Incremental nearest iterator over this snapshot.
        public func nearestSequence(
            maxDistance: Double = .infinity,
            boxLowerBound: @escaping (Box) -> Double,
            exactDistance: @escaping (UInt32) -> Double,
            filter: @escaping (UInt32) -> Bool = { _ in true }
        ) -> NearestIterator {
            let baseDead = _baseDead, deltaDead = _deltaDead
            return NearestIterator(first: base, second: delta, loose: _tail, excludedFirst: { baseDead.contains($0) },
                                   excludedSecond: { deltaDead.contains($0) }, maxDistance: maxDistance,
                                   boxLowerBound: boxLowerBound, itemDistance: { id, _ in exactDistance(id) }, filter: filter)
        }
    }
}

extension DynamicRTree {
    /// Window query on the current snapshot.
    public func intersecting(_ query: Box) -> [UInt32] { snapshot().intersecting(query) }

    /// Within-distance query on the current snapshot.
    public func within(distance: Double, boxLowerBound: (Box) throws -> Double, exactDistance: (UInt32) throws -> Double) rethrows -> [Neighbor] {
        try snapshot().within(distance: distance, boxLowerBound: boxLowerBound, exactDistance: exactDistance)
    }

    /// k-nearest query on the current snapshot.
    public func nearest(
        k: Int, maxDistance: Double = .infinity, boxLowerBound: (Box) throws -> Double,
        exactDistance: (UInt32) throws -> Double, filter: (UInt32) -> Bool = { _ in true }
    ) rethrows -> [Neighbor] {
        try snapshot().nearest(k: k, maxDistance: maxDistance, boxLowerBound: boxLowerBound,
                               exactDistance: exactDistance, filter: filter)
    }
}
