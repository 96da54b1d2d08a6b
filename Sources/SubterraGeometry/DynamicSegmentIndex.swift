import Foundation
import SubterraIndex

/// One edit of a `DynamicSegmentIndex`: an id and all its segments go in, out or are replaced
/// together.
public enum SegmentEdit: Hashable, Sendable {
    /// Adds `segments` (at least one) under a new id.
    case insert(id: UInt32, segments: [Segment])
    /// Removes the id and all its segments.
    case remove(id: UInt32)
    /// Replaces all segments of a live id.
    case replace(id: UInt32, segments: [Segment])

    /// Inserts a line string's segments under `id`.
    public static func insert(id: UInt32, line: LineString) -> SegmentEdit {
        .insert(id: id, segments: line._segments)
    }

    /// Replaces the segments of `id` with a line string's.
    public static func replace(id: UInt32, line: LineString) -> SegmentEdit {
        .replace(id: id, segments: line._segments)
    }
}

extension LineString {
    /// The straight segments between consecutive vertices.
    var _segments: [Segment] {
        (1..<points.count).map { Segment(points[$0 - 1], points[$0]) }
    }
}

/// A segment index that takes edits while queries run: the same queries and answers as
/// `SegmentIndex` (through `SegmentSearching`), on immutable snapshots.
///
/// ```swift
/// let index = try DynamicSegmentIndex(lines: pipes.map(\.geometry), ids: pipes.map(\.row))
/// try index.apply([.replace(id: 17, line: moved), .remove(id: 40)])   // atomic for readers
/// let snap = index.snapshot()                                          // lock-free from here
/// let near = snap.nearest(k: 3, to: Point(637_850, 3_140_120))
/// ```
///
/// ## Design
/// Each segment gets a *slot* number; its key in a `DynamicRTree` (packed base, packed delta and a
/// short tail; see that type for the edit costs) is `slot << 2 | corner code`, so a candidate is
/// refined from the tree's box and its key alone, as the packed form refines from the leaf box
/// and its code. A slot table holds the caller's id of each slot (4 bytes), read only for a
/// segment that is reported (or when a `filter` asks). The table is split into chunks of 4096
/// slots shared between snapshots: an edit copies the chunk list and the chunks it writes, not
/// the table. Freed slots are reused. The id → keys map is the writer's alone; readers never need
/// it. Nearest searches run the packed tree's search on each packed tier and merge the answers
/// (`DynamicRTree.Snapshot._forEachNearestInStorageOrder`); ties come in storage order (base,
/// delta, then tail).
///
/// Publication: the writer builds the next tree state and slot table under `writerLock`, and
/// swaps the pair in under `publishLock`. A reader's `snapshot()` is one consistent state for as
/// long as it holds it; a batch (`apply(_:)`) is published all at once or, if any edit fails,
/// not at all.
public final class DynamicSegmentIndex: @unchecked Sendable {
    // @unchecked: mutable state is behind `writerLock` (edits) and `publishLock` (`current`).
    private let writerLock = NSLock()
    private let publishLock = NSLock()
    private var current: Snapshot
    private let tree: DynamicRTree
    /// Writer-only: the tree keys (`slot << 2 | code`) of each live id.
    private var slotsOfID = _KeysOfID()
    private var freeSlots: [UInt32] = []
    private var slotCount: UInt32 = 0
    /// Writer-only: live ids with more than one segment.
    private var multiSegmentIDs = 0

    /// An index of `segments` (segment `i` under id `ids?[i] ?? i`); several segments may share
    /// an id.
    /// - Throws: `IndexError.invalidBox` for the first non-finite segment, `.lengthMismatch`.
    /// `merges` says where the tree's O(n) merges run (`DynamicRTree.MergePolicy`).
    public convenience init(
        segments: [Segment] = [], ids: [UInt32]? = nil, nodeSize: Int = PackedRTree.defaultNodeSize,
        merges: DynamicRTree.MergePolicy = .inline
    ) throws {
        if let ids, ids.count != segments.count {
            throw IndexError.lengthMismatch(boxes: segments.count, ids: ids.count)
        }
        var grouped: [UInt32: [Segment]] = [:]
        var order: [UInt32] = []
        for (i, s) in segments.enumerated() {
            let id = ids?[i] ?? UInt32(truncatingIfNeeded: i)
            if grouped[id] == nil { order.append(id) }
            grouped[id, default: []].append(s)
        }
        try self.init(groups: order.map { ($0, grouped[$0] ?? []) }, nodeSize: nodeSize, merges: merges)
    }

    /// An index of every segment of `lines`, each under its line's id (`ids?[i] ?? i`); `merges`
    /// as above.
    public convenience init(
        lines: [LineString], ids: [UInt32]? = nil, nodeSize: Int = PackedRTree.defaultNodeSize,
        merges: DynamicRTree.MergePolicy = .inline
    ) throws {
        if let ids, ids.count != lines.count {
            throw IndexError.lengthMismatch(boxes: lines.count, ids: ids.count)
        }
        var groups: [(UInt32, [Segment])] = []
        var seen = Set<UInt32>()
        for (i, line) in lines.enumerated() {
            let id = ids?[i] ?? UInt32(truncatingIfNeeded: i)
            guard seen.insert(id).inserted else { throw IndexError.duplicateID(id) }
            groups.append((id, line._segments))
        }
        try self.init(groups: groups, nodeSize: nodeSize, merges: merges)
    }

    private init(groups: [(UInt32, [Segment])], nodeSize: Int, merges: DynamicRTree.MergePolicy) throws {
        var items: [(box: Box, id: UInt32)] = []
        var table = _SlotTable()
        var slot: UInt32 = 0
        var index = 0
        slotsOfID.reserveCapacity(groups.count)
        for (id, segments) in groups {
            var slots: [UInt32] = []
            slots.reserveCapacity(segments.count)
            try SegmentIndex._checkFinite(segments)
            for s in segments {
                guard slot < _SlotTable.slotLimit else { throw IndexError.tooManyItems(Int(slot)) }
                let key = _SlotTable.key(slot: slot, code: s._cornerCode)
                items.append((s.box, key))
                table.append(id)
                slots.append(key)
                slot += 1
                index += 1
            }
            if slots.count > 1 { multiSegmentIDs += 1 }
            slotsOfID[id] = slots
        }
        slotCount = slot
        tree = try DynamicRTree(items: items, nodeSize: nodeSize, merges: merges)
        current = Snapshot(index: tree.snapshot(), slots: table, segmentCount: items.count,
                           idCount: groups.count, idsAreDistinct: multiSegmentIDs == 0)
    }

    /// The current consistent state; query it without any lock. O(1).
    public func snapshot() -> Snapshot {
        publishLock.lock()
        defer { publishLock.unlock() }
        return current
    }

    /// Adds a line string's segments under a new id.
    public func insert(id: UInt32, line: LineString) throws { try apply([.insert(id: id, line: line)]) }
    /// Removes an id and its segments.
    public func remove(id: UInt32) throws { try apply([.remove(id: id)]) }
    /// Replaces the segments of a live id with a line string's.
    public func replace(id: UInt32, line: LineString) throws { try apply([.replace(id: id, line: line)]) }

    /// Applies a batch atomically: readers see all of it or none. On error nothing changes and
    /// the error names the failing edit (`invalidBox.index` is its position in the batch).
    ///
    /// - Throws: `IndexError.duplicateID` (insert of a live id), `.unknownID` (remove or replace
    ///   of a missing one), `.invalidBox` (a non-finite segment, or an edit with no segment).
    /// - Complexity: O(segments edited × `DynamicRTree.tailLimit`) plus the tree's amortised
    ///   re-packs and merges, plus one 4096-slot chunk copy per chunk written.
    public func apply(_ edits: [SegmentEdit]) throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        // The writer's maps are changed in place (copying them per edit would cost O(n)); the
        // first old value of every id touched, and the free list's and counters' starting
        // state, are kept to undo a batch that fails.
        var undoIDs: [UInt32: [UInt32]?] = [:]
        // The free list is only read during the batch: slots are taken from below `freeCursor`
        // or from `freed` (slots this batch released), and the list is updated on success.
        var freeCursor = freeSlots.count
        var freed: [UInt32] = []
        let slotStart = slotCount, multiStart = multiSegmentIDs
        var table = snapshot()._slots
        var treeEdits: [IndexEdit] = []
        var segmentDelta = 0
        var idDelta = 0
        do {
            for (k, edit) in edits.enumerated() {
                func touch(_ id: UInt32) {
                    if undoIDs[id] == nil { undoIDs[id] = .some(slotsOfID[id]) }
                }
                func release(_ id: UInt32) throws {
                    touch(id)
                    guard let slots = slotsOfID.removeValue(forKey: id) else { throw IndexError.unknownID(id) }
                    for s in slots { treeEdits.append(.remove(id: s)) }
                    freed += slots.map { $0 >> 2 }
                    segmentDelta -= slots.count
                    if slots.count > 1 { multiSegmentIDs -= 1 }
                }
                func add(_ id: UInt32, _ segments: [Segment]) throws {
                    guard !segments.isEmpty else {
                        throw IndexError.invalidBox(index: k, box: Box(x: .nan, y: .nan), reason: "the edit has no segment")
                    }
                    touch(id)
                    var slots: [UInt32] = []
                    for s in segments {
                        guard s.x0.isFinite && s.y0.isFinite && s.x1.isFinite && s.y1.isFinite else {
                            throw IndexError.invalidBox(index: k, box: Box(minX: s.x0, minY: s.y0, maxX: s.x1, maxY: s.y1),
                                                        reason: "edit \(k) has a segment with a non-finite coordinate")
                        }
                        let slot: UInt32
                        if let f = freed.popLast() {
                            slot = f
                            table[slot] = id
                        } else if freeCursor > 0 {
                            freeCursor -= 1
                            slot = freeSlots[freeCursor]
                            table[slot] = id
                        } else {
                            guard slotCount < _SlotTable.slotLimit else { throw IndexError.tooManyItems(Int(slotCount)) }
                            slot = slotCount
                            slotCount += 1
                            table.append(id)
                        }
                        let key = _SlotTable.key(slot: slot, code: s._cornerCode)
                        treeEdits.append(.insert(id: key, box: s.box))
                        slots.append(key)
                    }
                    slotsOfID[id] = slots
                    segmentDelta += slots.count
                    if slots.count > 1 { multiSegmentIDs += 1 }
                }
                switch edit {
                case let .insert(id, segments):
                    guard slotsOfID[id] == nil else { throw IndexError.duplicateID(id) }
                    try add(id, segments)
                    idDelta += 1
                case let .remove(id):
                    try release(id)
                    idDelta -= 1
                case let .replace(id, segments):
                    try release(id)
                    try add(id, segments)
                }
            }
            try tree.apply(treeEdits)
        } catch {
            for (id, old) in undoIDs { slotsOfID[id] = old }
            slotCount = slotStart
            multiSegmentIDs = multiStart
            throw error
        }
        freeSlots.removeLast(freeSlots.count - freeCursor)
        freeSlots += freed
        let old = snapshot()
        let next = Snapshot(index: tree.snapshot(), slots: table, segmentCount: old.count + segmentDelta,
                            idCount: old.idCount + idDelta, idsAreDistinct: multiSegmentIDs == 0)
        publishLock.lock()
        current = next
        publishLock.unlock()
    }

    /// Waits for the tree's background merge under way, if any, and publishes its result
    /// (`DynamicRTree.finishMerges()`).
    public func finishMerges() throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        try tree.finishMerges()
        republishTree()
    }

    /// Publishes the tree's current state with the same slots and counts. Writer-only.
    private func republishTree() {
        let old = snapshot()
        let next = Snapshot(index: tree.snapshot(), slots: old._slots, segmentCount: old.count, idCount: old.idCount,
                            idsAreDistinct: old.idsAreDistinct)
        publishLock.lock()
        current = next
        publishLock.unlock()
    }

    /// Whether the tree is merging in the background.
    public var isMerging: Bool { tree.isMerging }

    /// Where the tree's merges run.
    public var merges: DynamicRTree.MergePolicy { tree.merges }

    /// Packs everything into one base tree now (e.g. after a bulk load). O(n).
    public func compact() throws {
        writerLock.lock()
        defer { writerLock.unlock() }
        try tree.compact()
        republishTree()
    }

    /// An immutable state of a `DynamicSegmentIndex`: all queries of `SegmentSearching`,
    /// lock-free, with the same answers `SegmentIndex` gives on the same segments.
    public struct Snapshot: Sendable, SegmentSearching {
        @usableFromInline let _index: DynamicRTree.Snapshot
        @usableFromInline let _slots: _SlotTable
        /// Number of live segments.
        public let count: Int
        /// Number of live ids.
        public let idCount: Int
        public let idsAreDistinct: Bool

        init(index: DynamicRTree.Snapshot, slots: _SlotTable, segmentCount: Int, idCount: Int, idsAreDistinct: Bool) {
            _index = index
            _slots = slots
            count = segmentCount
            self.idCount = idCount
            self.idsAreDistinct = idsAreDistinct
        }

        /// Monotonic edit-batch counter of the underlying tree.
        public var version: UInt64 { _index.version }

        /// Every live segment with its id (base, delta, then tail order). O(n).
        public var segments: [(id: UInt32, segment: Segment)] {
            _withDecoder { d in _index.items.map { (d.id($0.id), d.segment($0.id, $0.box)) } }
        }

        @inlinable @inline(__always)
        public func _withDecoder<R>(_ body: (_SlotDecoder) throws -> R) rethrows -> R {
            try _slots.chunks.withUnsafeBufferPointer { try body(_SlotDecoder(chunks: $0)) }
        }

        @inlinable @inline(__always)
        public func _forEachIntersecting(
            _ query: Box, _ d: _SlotDecoder, _ body: (UInt32, Box) throws -> SearchControl
        ) rethrows {
            try _index.forEachIntersecting(query, items: body)
        }

        @inlinable @inline(__always)
        public func _forEachWithin(
            distance: Double, envelope: Box, boxLowerBound: (Box) throws -> Double,
            itemDistance: (UInt32, Box) throws -> Double, _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            try _index.forEachWithin(distance: distance, envelope: envelope, boxLowerBound: boxLowerBound,
                                     itemDistance: itemDistance, body)
        }

        @inlinable @inline(__always)
        public func _forEachWithin(
            distance: Double, ofX x: Double, y: Double,
            itemDistance: (UInt32, Box) throws -> Double, _ body: (Neighbor) throws -> SearchControl
        ) rethrows {
            try _index.forEachWithin(distance: distance, ofX: x, y: y, itemDistance: itemDistance, body)
        }

        // The nearest searches the `SegmentSearching` queries run: each packed tier searched as
        // the packed index searches its tree, answers merged, boxes read by position.

        @inlinable @inline(__always)
        public func _forEachNearestHit(
            k: Int, maxDistance: Double, boxLowerBound: (Box) throws -> Double,
            itemDistance: (UInt32, Box) throws -> Double, filter: (UInt32) -> Bool, scratch: NearestScratch,
            _ body: (Neighbor, Box) throws -> SearchControl
        ) rethrows {
            try _index._forEachNearestInStorageOrder(k: k, maxDistance: maxDistance, boxLowerBound: boxLowerBound,
                                                     itemDistance: itemDistance, filter: filter, scratch: scratch, body)
        }

        @inlinable @inline(__always)
        public func _forEachNearestHit(
            k: Int, maxDistance: Double, toX x: Double, y: Double,
            itemSquaredDistance: (UInt32, Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
            filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor, Box) throws -> SearchControl
        ) rethrows {
            try _index._forEachNearestInStorageOrder(k: k, maxDistance: maxDistance, toX: x, y: y,
                                                     itemSquaredDistance: itemSquaredDistance, itemDistance: itemDistance,
                                                     filter: filter, scratch: scratch, body)
        }
    }
}

/// Slot → the caller's id, in chunks of 4096 shared between snapshots (copy on write per chunk).
@frozen
public struct _SlotTable: Sendable {
    @usableFromInline static var shift: UInt32 { 12 }
    @usableFromInline static var mask: UInt32 { 4095 }
    /// Slots must leave two bits of a tree key for the corner code.
    static var slotLimit: UInt32 { 1 << 30 }
    @usableFromInline var chunks: [[UInt32]] = []

    init() {}

    /// The tree key of a segment in `slot` with corner code `code`.
    static func key(slot: UInt32, code: UInt8) -> UInt32 { slot << 2 | UInt32(code & 3) }

    mutating func append(_ e: UInt32) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Int(Self.mask) + 1 {
            var c: [UInt32] = []
            c.reserveCapacity(Int(Self.mask) + 1)
            chunks.append(c)
        }
        chunks[chunks.count - 1].append(e)
    }

    subscript(slot: UInt32) -> UInt32 {
        get { chunks[Int(slot >> Self.shift)][Int(slot & Self.mask)] }
        set { chunks[Int(slot >> Self.shift)][Int(slot & Self.mask)] = newValue }
    }
}

/// The dynamic index's key decoder (valid only inside `_withDecoder`): a key is
/// `slot << 2 | corner code`.
@frozen
public struct _SlotDecoder: _SegmentKeyDecoding {
    @usableFromInline let chunks: UnsafeBufferPointer<[UInt32]>

    @inlinable init(chunks: UnsafeBufferPointer<[UInt32]>) { self.chunks = chunks }

    @inlinable @inline(__always)
    public func id(_ key: UInt32) -> UInt32 {
        let slot = key >> 2
        return chunks[Int(slot >> _SlotTable.shift)][Int(slot & _SlotTable.mask)]
    }

    @inlinable @inline(__always)
    public func segment(_ key: UInt32, _ box: Box) -> Segment {
        Segment(box: box, code: UInt8(truncatingIfNeeded: key & 3))
    }
}

/// Id → its tree keys, the writer's map (`DynamicSegmentIndex.slotsOfID`). Most ids have one
/// segment (a two-vertex pipe): their key sits inline in a `[UInt32: UInt32]` entry, about 10
/// bytes an id, where an array per id would cost a heap block (about 50 bytes more); ids with
/// more segments keep an array. O(1) expected per access.
struct _KeysOfID {
    private var single: [UInt32: UInt32] = [:]
    private var multi: [UInt32: [UInt32]] = [:]

    subscript(id: UInt32) -> [UInt32]? {
        get {
            if let k = single[id] { return [k] }
            return multi[id]
        }
        set {
            if let newValue, newValue.count == 1 {
                single[id] = newValue[0]
                multi[id] = nil
            } else {
                single[id] = nil
                multi[id] = newValue
            }
        }
    }

    /// Room for `n` single-segment ids without rehashing.
    mutating func reserveCapacity(_ n: Int) { single.reserveCapacity(n) }

    /// Removes `id`, returning its keys (nil: not there).
    mutating func removeValue(forKey id: UInt32) -> [UInt32]? {
        if let k = single.removeValue(forKey: id) { return [k] }
        return multi.removeValue(forKey: id)
    }
}
