import Foundation
import SubterraIndex

// Serialized form (little-endian, no padding), so a derived file can hold an index and load it
// without a rebuild:
//
//   offset  size  field
//        0     8  magic "SUBSGIDX"
//        8     4  format version (1)
//       12     4  flags: bit 0 = every id names one segment,
//                        bit 1 = ids are leaf positions (no id array follows; added without a
//                        version change: readers before it refuse such files as unknown flags)
//       16     8  segment count n
//       24     8  byte length T of the tree
//       32     T  the `PackedRTree` (its own header, checksum and validation)
//     32+T   4·n  caller ids in leaf order (UInt32); absent when flag bit 1 is set
//          ⌈n/4⌉  corner codes, four segments per byte
//
// The tree's checksum covers the boxes (the geometry); the ids and codes are covered by the
// checksum of whatever file embeds this (the engine's snapshot file), and loading checks that
// their sizes agree with the tree.

extension SegmentIndex {
    static let magic: [UInt8] = Array("SUBSGIDX".utf8)
    /// Current serialized format version.
    public static let formatVersion: UInt32 = 1

    /// The index as bytes for ``init(serialized:)``. O(n).
    public func serialized() -> Data {
        let tree = _tree.serialized()
        var data = Data(capacity: 32 + tree.count + _ids.count * 4 + _codes.count)
        data.append(contentsOf: Self.magic)
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        put(Self.formatVersion)
        put(UInt32(idsAreDistinct ? 1 : 0) | (idsAreLeafPositions ? 2 : 0))
        put(UInt64(count))
        put(UInt64(tree.count))
        data.append(tree)
        _ids.withUnsafeBytes { data.append(contentsOf: $0) }
        _codes.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    /// Loads an index written by ``serialized()``: no sort, three bulk copies and the tree's
    /// checksum and structural validation.
    ///
    /// - Throws: `IndexError` (`.truncated`, `.badMagic`, `.unsupportedVersion`, `.corrupt`,
    ///   `.checksumMismatch`, `.invariantViolated`) for bytes that are not a whole, sound index.
    /// - Complexity: O(n).
    public init(serialized raw: UnsafeRawBufferPointer) throws {
        let parts = try Self._parts(raw)
        let tree = try PackedRTree(bytes: UnsafeRawBufferPointer(rebasing: raw[parts.tree]))
        try Self._check(tree, parts.count)
        let ids = parts.ids.map { r in
            [UInt32](unsafeUninitializedCapacity: parts.count) { buf, initialized in
                UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[r]))
                initialized = parts.count
            }
        } ?? []
        self.init(_tree: tree, ids: ids, codes: Array(raw[parts.codes]), idsAreDistinct: parts.distinct)
    }

    /// An index over serialised bytes that stay where they are (a memory-mapped file): boxes, ids
    /// and corner codes are read in place; `owner` keeps the memory alive and nobody may write it.
    ///
    /// With `verifiedByCaller` the caller vouches that the bytes are the ones ``serialized()``
    /// wrote (an enclosing file's checksum matched, as the engine's snapshot file checks): only
    /// the header, the sizes and the tree's layout are checked, O(levels), so an index of any size
    /// opens without a pass over it. Without it, the tree's checksum and validation run as in
    /// ``init(serialized:)``. Parts that are not aligned for their type are copied instead.
    ///
    /// - Throws: as ``init(serialized:)``.
    public init(borrowing raw: UnsafeRawBufferPointer, owner: AnyObject, verifiedByCaller: Bool) throws {
        let parts = try Self._parts(raw)
        let tree = try PackedRTree(borrowing: UnsafeRawBufferPointer(rebasing: raw[parts.tree]), owner: owner,
                                   verifiedByCaller: verifiedByCaller)
        try Self._check(tree, parts.count)
        let ids = parts.ids.map { _Buffer<UInt32>.borrowingOrCopying(UnsafeRawBufferPointer(rebasing: raw[$0]), count: parts.count, owner: owner) }
            ?? _Buffer([])
        let codes = UnsafeRawBufferPointer(rebasing: raw[parts.codes])
        self.init(_tree: tree, ids: ids,
                  codes: _Buffer(borrowing: codes.assumingMemoryBound(to: UInt8.self), owner: owner),
                  idsAreDistinct: parts.distinct)
    }

    /// The embedded tree holds `n` boxes and its ids are leaf positions: the queries use a tree
    /// id as an index into the ids and corner codes, so a tree carrying other ids (a crafted
    /// file) would send them outside those arrays.
    static func _check(_ tree: PackedRTree, _ n: Int) throws {
        guard tree.count == n else { throw IndexError.corrupt("the tree holds \(tree.count) boxes for \(n) segments") }
        guard tree.isEmpty || tree.idsAreLeafPositions else {
            throw IndexError.corrupt("the segment index's tree stores ids; they must be leaf positions")
        }
    }

    /// Where each part of a serialised index lies, from its header and the byte count.
    static func _parts(_ raw: UnsafeRawBufferPointer) throws
        -> (count: Int, distinct: Bool, tree: Range<Int>, ids: Range<Int>?, codes: Range<Int>)
    {
        guard raw.count >= 32 else { throw IndexError.truncated(expected: 32, actual: raw.count) }
        guard raw.prefix(8).elementsEqual(Self.magic) else { throw IndexError.badMagic }
        func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        let version = get(8, UInt32.self)
        guard version == Self.formatVersion else {
            throw IndexError.unsupportedVersion(found: version, supported: Self.formatVersion)
        }
        let flags = get(12, UInt32.self)
        guard flags <= 3, flags & 3 != 2 else { throw IndexError.corrupt("unknown segment index flags \(flags)") }
        let positional = flags & 2 != 0
        let n64 = get(16, UInt64.self), t64 = get(24, UInt64.self)
        guard n64 < UInt64(UInt32.max), t64 <= UInt64(raw.count) else {
            throw IndexError.corrupt("segment count \(n64) or tree length \(t64) impossible for \(raw.count) bytes")
        }
        let n = Int(n64), t = Int(t64)
        guard !positional || n > 0 else { throw IndexError.corrupt("an empty segment index flagged as positional") }
        let idBytes = positional ? 0 : 4 * n
        let expected = 32 + t + idBytes + (n + 3) / 4
        guard raw.count >= expected else { throw IndexError.truncated(expected: expected, actual: raw.count) }
        guard raw.count == expected else { throw IndexError.corrupt("\(raw.count - expected) unexpected bytes after the segment index") }
        let idStart = 32 + t
        return (n, flags & 1 == 1, 32..<idStart, positional ? nil : idStart..<(idStart + idBytes),
                (idStart + idBytes)..<expected)
    }
}
