/// Index order: letting a caller store its own rows in the tree's leaf order.
///
/// The tree keeps only boxes and ids; a query refines each candidate by reading the caller's
/// geometry for that id. When the caller's table is in input order, those reads land far apart, a
/// second cache miss per candidate after the leaf box (Boost.Geometry avoids it by storing the
/// segment in the leaf). Renumbering the caller's rows so row `i` is the `i`-th leaf makes the
/// candidates of one node neighbours in the caller's table too (the flatbush way: the index sorts
/// along the Hilbert curve, the caller follows); `SegmentIndex` is built this way. Chosen by
/// measurement, see Benchmarks/NOTES.md ("PackedRTree").
extension PackedRTree {
    /// The permutation the bulk build applies to `boxes`: `order[i]` is the input position of the
    /// `i`-th leaf. Renumber your rows with it (new row `i` = old row `order[i]`), build with
    /// `init(boxes:)` on the renumbered boxes and default ids, and the leaf order is `0..<n`.
    ///
    /// The order depends on the boxes only (Hilbert cell of each centre, ties by position), not on
    /// ids or node size, and it is stable: renumbering already-renumbered boxes gives the identity.
    /// Prefer `renumbered(boxes:nodeSize:)` when you are about to build anyway: it sorts once.
    /// - Throws: `IndexError.invalidBox` for the first NaN/infinite/inverted box (naming its index),
    ///   `.tooManyItems`.
    /// - Complexity: O(n) (radix sort); validation and keys run on all cores.
    public static func indexOrder(boxes: [Box]) throws -> [UInt32] {
        guard boxes.count < Int(UInt32.max) else { throw IndexError.tooManyItems(boxes.count) }
        if boxes.isEmpty { return [] }
        let keys = try _sortedHilbertKeys(boxes)
        return keys.map { UInt32(truncatingIfNeeded: $0) }
    }

    /// Builds a tree whose ids are leaf positions, and returns the permutation that maps them back:
    /// leaf `i` has id `i` and is input item `order[i]`. Store your table as
    /// `newRow[i] = oldRow[order[i]]`, query with the new ids, and translate an answer back with
    /// `order[id]` when the caller needs the old row. One Hilbert sort (the same as `init(boxes:)`);
    /// the extra cost is writing the ids `0..<n`.
    ///
    /// - Throws: as `init(boxes:ids:nodeSize:)`.
    /// - Complexity: O(n).
    public static func renumbered(boxes: [Box], nodeSize: Int = PackedRTree.defaultNodeSize) throws
        -> (tree: PackedRTree, order: [UInt32])
    {
        let byInputPosition = try PackedRTree(boxes: boxes, ids: nil, nodeSize: nodeSize)
        let n = byInputPosition.count
        if n == 0 { return (byInputPosition, []) }
        let tree = PackedRTree(_boxes: byInputPosition._boxes, _ids: nil,
                               _levelEnds: byInputPosition._levelEnds, nodeSize: nodeSize)
        return (tree, byInputPosition.leafIDs)
    }

    /// The id of each leaf in leaf (storage) order. A caller that built with arbitrary ids can
    /// renumber its table with this and rebuild; after `renumbered(boxes:nodeSize:)` it is
    /// `0..<count`.
    /// - Complexity: O(1) (shares the tree's array), O(n) when ids are leaf positions (not stored).
    public var leafIDs: [UInt32] {
        guard _idsAreLeafPositions else { return _ids }
        return [UInt32](unsafeUninitializedCapacity: _count) { buf, initialized in
            for i in 0..<_count { buf[i] = UInt32(truncatingIfNeeded: i) }
            initialized = _count
        }
    }

    /// True when every item's id is its leaf position (the tree then stores no id array).
    public var idsAreLeafPositions: Bool { _idsAreLeafPositions }
}

extension PackedRTree {
    /// The box of the leaf at `position` (`0..<count`, leaf order), as built. O(1).
    ///
    /// With a renumbered tree (`renumbered(boxes:)`) the position is the item's id, so a caller
    /// that keeps per-item data in leaf order (as `SegmentIndex` does) can re-read an answer's box.
    @inlinable
    public func leafBox(at position: Int) -> Box {
        precondition(position >= 0 && position < _count, "leaf position \(position) outside 0..<\(_count)")
        return _boxes.withUnsafeBufferPointer { $0[position] }
    }
}
