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
/// The state is an immutable `Snapshot` value: a packed base tree, a small packed *delta* tree of
/// items inserted or updated since the base was built, and a tombstone set of base ids that were
/// removed or updated. An edit (or a batch, `apply(_:)`) builds a new snapshot from the current one
/// (copy-on-write arrays; the delta tree is rebuilt, O(m) for m delta items) and publishes it with
/// one pointer-sized swap under a lock. Readers call `snapshot()` (a brief lock to copy the value)
/// and then query it lock-free for as long as they like; they never see half an edit, and a batch
/// is published all at once.
///
/// When delta + tombstones exceed `mergeThreshold` (default `clamp(count / 64, 1024...32768)`), the
/// writer merges everything into a new packed base. The merge runs on the writer path, under the
/// writer lock only: readers keep querying the previous snapshot meanwhile. The cap keeps a delta
/// rebuild to a few milliseconds per edit at 10^7 items, and amortises a full merge (~2–3 s at
/// 10^7) over ≥ 32768 edits.
///
/// Ids are unique: inserting an existing id or touching a missing one throws, and a failing batch
/// publishes nothing.
public final class DynamicRTree: @unchecked Sendable {
    // @unchecked: all mutable state is behind `writerLock` (edits) and `publishLock` (the current
    // snapshot value); snapshots themselves are immutable values.
    private let writerLock = NSLock()
    private let publishLock = NSLock()
    private var current: Snapshot
    private let fixedThreshold: Int?

    /// Creates an index from initial items (ids must be unique).
    ///
    /// - Parameters:
    ///   - mergeThreshold: delta + tombstone count that triggers a merge into a new base; `nil`
    ///     picks `clamp(count / 64, 1024...32768)`.
    /// - Throws: `IndexError.invalidBox`, `.duplicateID`, and the other build errors.
    public init(items: [(box: Box, id: UInt32)] = [], nodeSize: Int = PackedRTree.defaultNodeSize, mergeThreshold: Int? = nil) throws {
        let base = try PackedRTree(items: items, nodeSize: nodeSize)
        self.current = try Snapshot(base: base, version: 0)
        self.fixedThreshold = mergeThreshold.map { Swift.max(1, $0) }
    }

    /// The current consistent state; query it without any lock. O(1).
    public func snapshot() -> Snapshot {
        publishLock.lock()
        defer { publishLock.unlock() }
        return current
    }

    /// Number of live items in the current snapshot.
    public var count: Int { snapshot().count }

    /// Adds an item. Throws `.duplicateID` if `id` is present, `.invalidBox` if `box` is invalid.
    public func insert(id: UInt32, box: Box) throws { try apply([.insert(id: id, box: box)]) }

    /// Removes an item. Throws `.unknownID` if absent.
    public func remove(id: UInt32) throws { try apply([.remove(id: id)]) }

    /// Moves an item to a new box. Throws `.unknownID` if absent, `.invalidBox` if invalid.
    public func update(id: UInt32, box: Box) throws { try apply([.update(id: id, box: box)]) }

    /// Applies a batch of edits atomically: readers see all of them or none. On error nothing is
    /// published and the error names the failing edit.
    ///
    /// - Complexity: O(e log m + m) for e edits on a delta of m items, plus an O(n) merge when the
    ///   threshold is crossed.
    public func apply(_ edits: [IndexEdit]) throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        let start = snapshot()
        var delta = start._deltaItems
        var tombstones = start._tombstones
        for (k, edit) in edits.enumerated() {
            func live(_ id: UInt32) -> Bool {
                delta[id] != nil || (start._basePosition(of: id) != nil && !tombstones.contains(id))
            }
            func removeLive(_ id: UInt32) throws {
                if delta.removeValue(forKey: id) != nil {
                    return
                }
                guard start._basePosition(of: id) != nil, tombstones.insert(id).inserted else {
                    throw IndexError.unknownID(id)
                }
            }
            func check(_ box: Box) throws {
                if let reason = box.invalidityReason { throw IndexError.invalidBox(index: k, box: box, reason: reason) }
            }
            switch edit {
            case let .insert(id, box):
                try check(box)
                guard !live(id) else { throw IndexError.duplicateID(id) }
                delta[id] = box
            case let .remove(id):
                try removeLive(id)
            case let .update(id, box):
                try check(box)
                try removeLive(id)
                delta[id] = box
            }
        }
        let threshold = fixedThreshold ?? Swift.min(32768, Swift.max(1024, start.count / 64))
        let next: Snapshot
        if delta.count + tombstones.count > threshold {
            next = try start._merged(delta: delta, tombstones: tombstones)
        } else {
            next = try Snapshot(base: start.base, baseIndex: start._baseIndex, delta: delta,
                                tombstones: tombstones, version: start.version + 1)
        }
        publishLock.lock()
        current = next
        publishLock.unlock()
    }

    /// Merges delta and tombstones into a new packed base now (e.g. before persisting). O(n).
    public func compact() throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        let s = snapshot()
        let next = try s._merged(delta: s._deltaItems, tombstones: s._tombstones)
        publishLock.lock()
        current = next
        publishLock.unlock()
    }
}

extension DynamicRTree {
    /// An immutable, consistent state of a `DynamicRTree`: packed base minus tombstones plus a
    /// packed delta. `Sendable`; all queries are lock-free and match `PackedRTree`'s.
    public struct Snapshot: Sendable {
        /// The packed base tree (may hold tombstoned ids).
        public let base: PackedRTree
        /// Items inserted or updated since the base was built.
        public let delta: PackedRTree
        /// Monotonic edit-batch counter; 0 for the initial state.
        public let version: UInt64
        @usableFromInline let _tombstones: Set<UInt32>
        let _deltaItems: [UInt32: Box]
        /// Sorted `id << 32 | leaf position` of the base, for O(log n) id lookups.
        let _baseIndex: [UInt64]

        init(base: PackedRTree, version: UInt64) throws {
            var index = [UInt64](repeating: 0, count: base.count)
            base._ids.withUnsafeBufferPointer { ids in
                for i in 0..<ids.count { index[i] = UInt64(ids[i]) << 32 | UInt64(i) }
            }
            var scratch = [UInt64](repeating: 0, count: index.count)
            _radixSortByHighWord(&index, scratch: &scratch)
            for i in index.indices.dropFirst() where index[i] >> 32 == index[i - 1] >> 32 {
                throw IndexError.duplicateID(UInt32(index[i] >> 32))
            }
            try self.init(base: base, baseIndex: index, delta: [:], tombstones: [], version: version)
        }

        init(base: PackedRTree, baseIndex: [UInt64], delta: [UInt32: Box], tombstones: Set<UInt32>, version: UInt64) throws {
            self.base = base
            self._baseIndex = baseIndex
            self._deltaItems = delta
            self._tombstones = tombstones
            self.version = version
            // Sorted by id so the delta tree (and thus tie order in tree traversal) is deterministic.
            let items = delta.sorted { $0.key < $1.key }
            self.delta = try PackedRTree(boxes: items.map(\.value), ids: items.map(\.key), nodeSize: base.nodeSize)
        }

        /// Number of live items.
        public var count: Int { base.count - _tombstones.count + delta.count }

        func _basePosition(of id: UInt32) -> Int? {
            let key = UInt64(id) << 32
            var lo = 0, hi = _baseIndex.count
            while lo < hi {
                let mid = (lo + hi) >> 1
                if _baseIndex[mid] < key { lo = mid + 1 } else { hi = mid }
            }
            guard lo < _baseIndex.count, _baseIndex[lo] >> 32 == UInt64(id) else { return nil }
            return Int(truncatingIfNeeded: _baseIndex[lo] & 0xFFFF_FFFF)
        }

        /// The current box of `id`, or `nil` if it is not live. O(log n).
        public func box(for id: UInt32) -> Box? {
            if let b = _deltaItems[id] { return b }
            guard !_tombstones.contains(id), let p = _basePosition(of: id) else { return nil }
            return base._boxes[p]
        }

        /// True when `id` is live.
        public func contains(id: UInt32) -> Bool { box(for: id) != nil }

        /// Every live item (base order, then delta). O(n).
        public var items: [(box: Box, id: UInt32)] {
            var out = base.items.filter { !_tombstones.contains($0.id) }
            out.append(contentsOf: delta.items)
            return out
        }

        func _merged(delta: [UInt32: Box], tombstones: Set<UInt32>) throws -> Snapshot {
            var items = base.items
            if !tombstones.isEmpty { items.removeAll { tombstones.contains($0.id) } }
            items.append(contentsOf: delta.sorted { $0.key < $1.key }.map { (box: $0.value, id: $0.key) })
            return try Snapshot(base: PackedRTree(items: items, nodeSize: base.nodeSize), version: version + 1)
        }

        /// Checks both trees and the bookkeeping (tombstones name base ids, delta ids are not live
        /// in the base, the delta tree holds exactly the delta items).
        public func validate() throws {
            try base.validate()
            try delta.validate()
            for id in _tombstones where _basePosition(of: id) == nil {
                throw IndexError.invariantViolated("tombstone \(id) names no base item")
            }
            for (id, _) in _deltaItems where _basePosition(of: id) != nil && !_tombstones.contains(id) {
                throw IndexError.invariantViolated("id \(id) is live in both base and delta")
            }
            guard delta.count == _deltaItems.count else {
                throw IndexError.invariantViolated("delta tree holds \(delta.count) items, delta map \(_deltaItems.count)")
            }
            for (b, id) in delta.items where _deltaItems[id] != b {
                throw IndexError.invariantViolated("delta tree box of \(id) differs from the delta map")
            }
        }

        // MARK: Queries (same semantics as PackedRTree's)

        /// Calls `body` for every live item whose box intersects `query`, until `.stop`.
        @inlinable
        public func forEachIntersecting(_ query: Box, _ body: (UInt32) throws -> SearchControl) rethrows {
            var stopped = false
            let dead = _tombstones
            if dead.isEmpty {
                try base.forEachIntersecting(query) { id in
                    let r = try body(id)
                    stopped = r == .stop
                    return r
                }
            } else {
                try base.forEachIntersecting(query) { id in
                    if dead.contains(id) { return .continue }
                    let r = try body(id)
                    stopped = r == .stop
                    return r
                }
            }
            if !stopped { try delta.forEachIntersecting(query, body) }
        }

        /// Ids of live items whose box intersects `query`.
        @inlinable
        public func intersecting(_ query: Box) -> [UInt32] {
            var out: [UInt32] = []
            forEachIntersecting(query) { out.append($0); return .continue }
            return out
        }

        /// Ids of live items whose box intersects `query` and pass `exact`.
        @inlinable
        public func intersecting(_ query: Box, where exact: (UInt32) throws -> Bool) rethrows -> [UInt32] {
            var out: [UInt32] = []
            try forEachIntersecting(query) { id in
                if try exact(id) { out.append(id) }
                return .continue
            }
            return out
        }

        /// Calls `body` for every live item with exact distance ≤ `distance`, until `.stop`.
        @inlinable
        public func forEachWithin(
            distance: Double,
            boxLowerBound: (Box) throws -> Double,
            exactDistance: (UInt32) throws -> Double,
            _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            var stopped = false
            let dead = _tombstones
            try base.forEachWithin(
                distance: distance, boxLowerBound: boxLowerBound,
                exactDistance: { dead.contains($0) ? .nan : try exactDistance($0) }  // NaN ≤ d is false
            ) { n in
                let r = try body(n)
                stopped = r == .stop
                return r
            }
            if !stopped {
                try delta.forEachWithin(distance: distance, boxLowerBound: boxLowerBound, exactDistance: exactDistance, body)
            }
        }

        /// Live items with exact distance ≤ `distance`.
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

        /// Live items within `distance` of the point `(x, y)`.
        @inlinable
        public func within(distance: Double, ofX x: Double, y: Double, exactDistance: (UInt32) throws -> Double) rethrows -> [Neighbor] {
            try within(distance: distance, boxLowerBound: { $0.distance(toX: x, y: y) }, exactDistance: exactDistance)
        }

        /// Live items within `distance` of the box `query`.
        @inlinable
        public func within(distance: Double, of query: Box, exactDistance: (UInt32) throws -> Double) rethrows -> [Neighbor] {
            try within(distance: distance, boxLowerBound: { $0.distance(to: query) }, exactDistance: exactDistance)
        }

        /// Best-first nearest search over base and delta together (one heap), ascending exact
        /// distance, ties by id; see `PackedRTree.forEachNearest`.
        @inlinable
        public func forEachNearest(
            k: Int = .max,
            maxDistance: Double = .infinity,
            boxLowerBound: (Box) throws -> Double,
            exactDistance: (UInt32) throws -> Double,
            filter: (UInt32) -> Bool = { _ in true },
            scratch: NearestScratch,
            _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            guard k > 0 else { return }
            var state = _NearestState(scratch: scratch, maxDistance: maxDistance, k: k)
            defer { state.finish() }
            var reported = 0
            let dead = _tombstones
            let noDead = dead.isEmpty
            try state.start(base, treeBit: 0, lowerBound: boxLowerBound)
            try state.start(delta, treeBit: _treeBit, lowerBound: boxLowerBound)
            while let n = try state.next(
                base, delta, excludedFromFirst: { !noDead && dead.contains($0) }, lowerBound: boxLowerBound,
                exactDistance: exactDistance, filter: filter)
            {
                reported += 1
                if try body(n) == .stop || reported == k { return }
            }
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

        /// The `k` nearest live items, ascending exact distance (ties by id).
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

        /// The `k` nearest live items to the point `(x, y)`.
        @inlinable
        public func nearest(
            k: Int, toX x: Double, y: Double, maxDistance: Double = .infinity,
            exactDistance: (UInt32) throws -> Double, filter: (UInt32) -> Bool = { _ in true }
        ) rethrows -> [Neighbor] {
            try nearest(k: k, maxDistance: maxDistance, bound: PointDistanceBound(x: x, y: y),
                        exactDistance: exactDistance, filter: filter)
        }

        /// Incremental nearest iterator over this snapshot.
        public func nearestSequence(
            maxDistance: Double = .infinity,
            boxLowerBound: @escaping (Box) -> Double,
            exactDistance: @escaping (UInt32) -> Double,
            filter: @escaping (UInt32) -> Bool = { _ in true }
        ) -> NearestIterator {
            let dead = _tombstones
            return NearestIterator(first: base, second: delta, excluded: { dead.contains($0) }, maxDistance: maxDistance,
                                   boxLowerBound: boxLowerBound, exactDistance: exactDistance, filter: filter)
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
