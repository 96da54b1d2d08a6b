import SubterraIndex

/// A straight segment between two plan points, as the segment indexes take and return it.
///
/// Plan coordinates only (x = easting, y = northing, metres in a projected system): 32 bytes.
@frozen
public struct Segment: Hashable, Sendable {
    public var x0: Double
    public var y0: Double
    public var x1: Double
    public var y1: Double

    @inlinable
    public init(x0: Double, y0: Double, x1: Double, y1: Double) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    /// The segment `a → b` (any `z` is dropped).
    @inlinable
    public init(_ a: Point, _ b: Point) {
        self.init(x0: a.x, y0: a.y, x1: b.x, y1: b.y)
    }

    @inlinable public var start: Point { Point(x0, y0) }
    @inlinable public var end: Point { Point(x1, y1) }

    /// The bounding box (degenerate for axis-parallel or zero-length segments).
    @inlinable public var box: Box { Box(x0: x0, y0: y0, x1: x1, y1: y1) }

    /// Which corner of its box each end is: bit 0 when the start has the larger x, bit 1 when it
    /// has the larger y. With the box, it gives the segment back bit for bit.
    @inlinable
    var _cornerCode: UInt8 { (x0 > x1 ? 1 : 0) | (y0 > y1 ? 2 : 0) }

    /// The segment from its bounding box and corner code.
    @inlinable @inline(__always)
    init(box b: Box, code: UInt8) {
        let xSwap = code & 1 != 0, ySwap = code & 2 != 0
        self.init(x0: xSwap ? b.maxX : b.minX, y0: ySwap ? b.maxY : b.minY,
                  x1: xSwap ? b.minX : b.maxX, y1: ySwap ? b.minY : b.maxY)
    }
}

/// One answer of a segment-index query: the segment, the id it was indexed under, and its exact
/// distance from the query (0 for window hits and for segments that touch, cross or lie inside
/// the query).
@frozen
public struct SegmentHit: Hashable, Sendable {
    public var id: UInt32
    public var segment: Segment
    public var distance: Double

    @inlinable
    public init(id: UInt32, segment: Segment, distance: Double) {
        self.id = id
        self.segment = segment
        self.distance = distance
    }
}

/// A static index of straight segments that keeps the geometry itself and answers window,
/// within-distance and nearest queries exactly, with the library's kernels (`Kernel`).
///
/// Segments carry a `UInt32` id. Several segments may share one (a polyline indexed as its
/// segments, tagged with the polyline's id: `init(lines:ids:)`); the array forms then answer per
/// id (each id once, at its least distance), the callback forms per segment.
///
/// ```swift
/// import SubterraGeometry
/// import SubterraIndex
///
/// let index = try SegmentIndex(lines: pipes.map(\.geometry), ids: pipes.map { UInt32($0.row) })
/// let near = index.nearest(k: 3, to: Point(637_850, 3_140_120))          // 3 nearest pipes
/// let dig = try Polygon(exterior: LinearRing(corners))
/// let hits = index.within(1.0, of: dig)                                  // within 1 m of the dig
/// let scratch = NearestScratch()                                         // hot loop: no allocation
/// index.forEachNearest(k: 10, to: Point(637_850, 3_140_120), scratch: scratch) { hit in
///     print(hit.id, hit.distance); return .continue
/// }
/// ```
///
/// ## Layout
/// A `PackedRTree` over the segment boxes in Hilbert order whose ids are leaf positions (it stores
/// no id array), plus, in the same leaf order, the caller's id of each segment (4 bytes) and two
/// bits saying which corner of its box each end is (`Segment`'s corner code; a straight segment is
/// one of its box's diagonals). A candidate is refined from the leaf box the traversal has just
/// read, its code and nothing else, so refinement reads one memory stream, as Boost.Geometry does
/// with the segment stored in its leaves. About 38.4 bytes per segment at the default node size:
/// 32 (leaf box = the geometry), 2.1 (internal nodes), 4 (id), 0.25 (code). The measured sizes
/// and speeds against Boost.Geometry and GEOS are in `Benchmarks/NOTES.md` and the nightly report.
/// `renumbered(segments:nodeSize:)` drops the id array (ids are leaf positions): 34.4 bytes.
///
/// ## Exactness
/// Window hits are decided by `Kernel.intersects(segment:_:envelope:)` (exact orientations),
/// distances by `Kernel.distance(_:segment:_:)`, `Kernel.distance(segment:_:segment:_:)` and
/// `Kernel.distance(segment:_:polygon:)` (a polygon's interior counts as distance 0). The tree
/// prunes with box lower bounds deflated for rounding, so no segment within a distance is missed.
///
/// ## Build
/// O(n): the Hilbert keys and the gathers run on all cores (`PackedRTree.renumbered(boxes:)`).
/// A non-finite coordinate is refused with `IndexError.invalidBox` naming the segment.
///
/// Immutable and `Sendable`; every query is thread-safe, and the callback forms allocate nothing
/// (nearest reuses a caller-held `NearestScratch`). For a map that takes edits while queries run,
/// use `DynamicSegmentIndex`, which answers through the same `SegmentSearching` API.
public struct SegmentIndex: Sendable, SegmentSearching {
    @usableFromInline let _tree: PackedRTree
    /// The caller's id of each segment, in leaf order; empty when ids are leaf positions
    /// (`renumbered(segments:nodeSize:)`).
    @usableFromInline let _ids: _Buffer<UInt32>
    /// Corner codes in leaf order, four segments per byte (segment `i` in bits `2(i % 4)...+1`).
    @usableFromInline let _codes: _Buffer<UInt8>
    /// Every id names exactly one segment.
    public let idsAreDistinct: Bool

    /// Indexes `segments`; segment `i` gets id `ids?[i] ?? i`.
    ///
    /// - Throws: `IndexError.invalidBox` for the first segment with a non-finite coordinate
    ///   (its index in `segments`), `.lengthMismatch`, `.invalidNodeSize`, `.tooManyItems`.
    /// - Complexity: O(n).
    public init(segments: [Segment], ids: [UInt32]? = nil, nodeSize: Int = PackedRTree.defaultNodeSize) throws {
        if let ids, ids.count != segments.count {
            throw IndexError.lengthMismatch(boxes: segments.count, ids: ids.count)
        }
        try Self._checkFinite(segments)
        let built = try PackedRTree.renumbered(boxes: segments.map(\.box), nodeSize: nodeSize)
        let order = built.order
        _tree = built.tree
        _ids = _Buffer(ids.map { given in order.map { given[Int($0)] } } ?? order)
        _codes = _Buffer(Self._codes(count: order.count) { segments[Int(order[$0])]._cornerCode })
        idsAreDistinct = ids.map(Self._distinct) ?? true
    }

    /// Indexes every straight segment of `lines`, each tagged with its line's id
    /// (`ids?[i] ?? i` for line `i`).
    ///
    /// - Throws: as `init(segments:ids:nodeSize:)`; `IndexError.invalidBox` counts segments line
    ///   after line.
    /// - Complexity: O(total vertices).
    public init(lines: [LineString], ids: [UInt32]? = nil, nodeSize: Int = PackedRTree.defaultNodeSize) throws {
        if let ids, ids.count != lines.count {
            throw IndexError.lengthMismatch(boxes: lines.count, ids: ids.count)
        }
        var segments: [Segment] = [], tags: [UInt32] = []
        let total = lines.reduce(0) { $0 + $1.points.count - 1 }
        segments.reserveCapacity(total)
        tags.reserveCapacity(total)
        for (i, line) in lines.enumerated() {
            let id = ids?[i] ?? UInt32(truncatingIfNeeded: i)
            let p = line.points
            for v in 1..<p.count {
                segments.append(Segment(p[v - 1], p[v]))
                tags.append(id)
            }
        }
        try self.init(segments: segments, ids: tags, nodeSize: nodeSize)
    }

    /// Indexes `segments` with leaf positions as ids, and returns the permutation back to the
    /// input: the segment at leaf `i` has id `i` and is `segments[order[i]]`.
    ///
    /// The index then stores no id array: 34.4 bytes per segment at the default node size instead
    /// of 38.4 (the leaf box, which is the geometry, the internal nodes and the corner codes).
    /// This is the form for a caller that keeps its own per-segment table and can store it in leaf
    /// order (`newRow[i] = oldRow[order[i]]`), so an answer's id is its row, and neighbouring
    /// answers are neighbouring rows. Several segments of one polyline get different ids here;
    /// keep the polyline of each row in your table.
    ///
    /// ```swift
    /// let (index, order) = try SegmentIndex.renumbered(segments: segments)
    /// let owners = order.map { ownerOfSegment[Int($0)] }       // the caller's table, in leaf order
    /// for hit in index.nearest(k: 3, to: Point(637_850, 3_140_120)) {
    ///     print(owners[Int(hit.id)], hit.distance)
    /// }
    /// ```
    ///
    /// - Throws: as `init(segments:ids:nodeSize:)`.
    /// - Complexity: O(n).
    public static func renumbered(segments: [Segment], nodeSize: Int = PackedRTree.defaultNodeSize) throws
        -> (index: SegmentIndex, order: [UInt32])
    {
        try _checkFinite(segments)
        let built = try PackedRTree.renumbered(boxes: segments.map(\.box), nodeSize: nodeSize)
        let order = built.order
        let codes = _codes(count: order.count) { segments[Int(order[$0])]._cornerCode }
        return (SegmentIndex(_tree: built.tree, ids: [], codes: codes, idsAreDistinct: true), order)
    }

    /// An index from its parts (``init(serialized:)``); the caller vouches that they agree. An
    /// empty `ids` for a non-empty tree means ids are leaf positions.
    init(_tree: PackedRTree, ids: [UInt32], codes: [UInt8], idsAreDistinct: Bool) {
        self.init(_tree: _tree, ids: _Buffer(ids), codes: _Buffer(codes), idsAreDistinct: idsAreDistinct)
    }

    /// An index from its parts, each an array or borrowed memory.
    init(_tree: PackedRTree, ids: _Buffer<UInt32>, codes: _Buffer<UInt8>, idsAreDistinct: Bool) {
        self._tree = _tree
        _ids = ids
        _codes = codes
        self.idsAreDistinct = idsAreDistinct
    }

    /// Number of segments.
    @inlinable public var count: Int { _tree.count }
    /// True when no segment is indexed.
    @inlinable public var isEmpty: Bool { _tree.isEmpty }
    /// The box of every segment, `nil` when empty.
    @inlinable public var bounds: Box? { _tree.bounds }
    /// Children per tree node.
    @inlinable public var nodeSize: Int { _tree.nodeSize }

    /// Bytes held: the tree (leaf boxes, which are the geometry, and nodes), ids and corner codes.
    public var memoryFootprint: Int { _tree.memoryFootprint + _ids.count * 4 + _codes.count }

    /// True when every segment's id is its leaf position (`renumbered(segments:nodeSize:)`): no
    /// id array is stored.
    public var idsAreLeafPositions: Bool { _ids.isEmpty && count > 0 }

    /// The largest id of any segment, nil when empty: lets a loader check ids against the table
    /// they index. O(n), O(1) when ids are leaf positions.
    public var largestID: UInt32? {
        idsAreLeafPositions ? UInt32(truncatingIfNeeded: count - 1) : _ids.withUnsafeBufferPointer { $0.max() }
    }

    /// Every segment with its id, in leaf (storage) order. O(n).
    public var segments: [(id: UInt32, segment: Segment)] {
        (0..<count).map { (idsAreLeafPositions ? UInt32(truncatingIfNeeded: $0) : _ids[$0], _segment(at: $0)) }
    }

    /// Segment at leaf position `i`.
    @inlinable
    func _segment(at i: Int) -> Segment {
        Segment(box: _tree.leafBox(at: i), code: _codes[i >> 2] >> UInt8((i & 3) * 2))
    }

    /// Refuses the first segment with a NaN or infinite coordinate (its box would hide a NaN:
    /// `min(0, .nan)` is 0).
    static func _checkFinite(_ segments: [Segment]) throws {
        for (i, s) in segments.enumerated() where !(s.x0.isFinite && s.y0.isFinite && s.x1.isFinite && s.y1.isFinite) {
            throw IndexError.invalidBox(index: i, box: Box(minX: s.x0, minY: s.y0, maxX: s.x1, maxY: s.y1),
                                        reason: "segment \(i) has a non-finite coordinate")
        }
    }

    static func _codes(count n: Int, _ code: (Int) -> UInt8) -> [UInt8] {
        var codes = [UInt8](repeating: 0, count: (n + 3) / 4)
        for i in 0..<n { codes[i >> 2] |= code(i) << UInt8((i & 3) * 2) }
        return codes
    }

    /// Whether every id occurs once: a bitmap when ids are dense enough, else a sorted copy.
    static func _distinct(_ ids: [UInt32]) -> Bool {
        guard let top = ids.max() else { return true }
        if Int(top) < 64 * Swift.max(ids.count, 1024) {
            var seen = [UInt64](repeating: 0, count: Int(top) / 64 + 1)
            for id in ids {
                let w = Int(id >> 6), bit = UInt64(1) << (id & 63)
                if seen[w] & bit != 0 { return false }
                seen[w] |= bit
            }
            return true
        }
        let sorted = ids.sorted()
        for i in sorted.indices.dropFirst() where sorted[i] == sorted[i - 1] { return false }
        return true
    }

    // MARK: SegmentSearching

    @inlinable @inline(__always)
    public func _withDecoder<R>(_ body: (_SegmentDecoder) throws -> R) rethrows -> R {
        try _ids.withUnsafeBufferPointer { ids in
            try _codes.withUnsafeBufferPointer { codes in try body(_SegmentDecoder(ids: ids, codes: codes)) }
        }
    }

    @inlinable @inline(__always)
    public func _forEachIntersecting(
        _ query: Box, _ d: _SegmentDecoder, _ body: (UInt32, Box) throws -> SearchControl
    ) rethrows {
        try _tree.forEachIntersecting(query, items: body)
    }

    @inlinable @inline(__always)
    public func _forEachWithin(
        distance: Double, envelope: Box, boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double, _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try _tree.forEachWithin(distance: distance, envelope: envelope, boxLowerBound: boxLowerBound,
                                itemDistance: itemDistance, body)
    }

    @inlinable @inline(__always)
    public func _forEachWithin(
        distance: Double, ofX x: Double, y: Double,
        itemDistance: (UInt32, Box) throws -> Double, _ body: (Neighbor) throws -> SearchControl
    ) rethrows {
        try _tree.forEachWithin(distance: distance, ofX: x, y: y, itemDistance: itemDistance, body)
    }

    @inlinable @inline(__always)
    public func _forEachNearestHit(
        k: Int, maxDistance: Double, boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double, filter: (UInt32) -> Bool, scratch: NearestScratch,
        _ body: (Neighbor, Box) throws -> SearchControl
    ) rethrows {
        try _tree.forEachNearest(k: k, maxDistance: maxDistance, boxLowerBound: boxLowerBound,
                                 itemDistance: itemDistance, filter: filter, scratch: scratch) { n in
            try body(n, _tree.leafBox(at: Int(n.id)))
        }
    }

    @inlinable @inline(__always)
    public func _forEachNearestHit(
        k: Int, maxDistance: Double, toX x: Double, y: Double,
        itemSquaredDistance: (UInt32, Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor, Box) throws -> SearchControl
    ) rethrows {
        try _tree.forEachNearest(k: k, maxDistance: maxDistance, toX: x, y: y, itemSquaredDistance: itemSquaredDistance,
                                 itemDistance: itemDistance, filter: filter, scratch: scratch) { n in
            try body(n, _tree.leafBox(at: Int(n.id)))
        }
    }
}

/// Decodes a tree key (a leaf position, or a dynamic index's slot) into the caller's id and the
/// segment, from the key's box. Valid only inside `_withDecoder`.
@frozen
public struct _SegmentDecoder: _SegmentKeyDecoding {
    @usableFromInline let ids: UnsafeBufferPointer<UInt32>
    @usableFromInline let codes: UnsafeBufferPointer<UInt8>

    @inlinable
    init(ids: UnsafeBufferPointer<UInt32>, codes: UnsafeBufferPointer<UInt8>) {
        self.ids = ids
        self.codes = codes
    }

    /// The caller's id of a leaf; the leaf position itself when no ids are stored.
    @inlinable @inline(__always)
    public func id(_ key: UInt32) -> UInt32 { ids.isEmpty ? key : ids[Int(key)] }

    @inlinable @inline(__always)
    public func segment(_ key: UInt32, _ box: Box) -> Segment {
        let i = Int(key)
        return Segment(box: box, code: codes[i >> 2] >> UInt8((i & 3) * 2))
    }
}
