import Foundation

#if !_endian(little)
#error("PackedRTree persistence writes the in-memory little-endian layout; add byte swapping for big-endian hosts")
#endif

// File format, version 2 (all integers little-endian, no padding; version 1, still read, always
// stored the ids and had the flags field reserved as 0):
//
//   offset  size  field
//        0     8  magic "SUBTRIDX"
//        8     4  format version (2)
//       12     4  node size
//       16     8  item count n
//       24     8  box count (leaves + internal nodes)
//       32     4  level count L
//       36     4  flags: bit 0 = ids are leaf positions (no id array)
//       40     8  checksum of the payload (FNV-1a-style over 64-bit words, see `_checksum`)
//       48  8·L   level end offsets (UInt64)
//          32·B   boxes (minX, minY, maxX, maxY as IEEE-754 Float64), leaves then levels
//           4·n   ids (UInt32), absent when flag bit 0 is set
//
// The payload is the in-memory arrays byte for byte, so loading is bulk copies and no sort (or
// no copy at all: `init(borrowing:owner:verifiedByCaller:)`, the boxes start at a multiple of 8
// from the header). A load checks header, sizes, checksum and then every structural invariant
// (`validate()`), so a truncated, corrupt, foreign or crafted file is refused with an
// `IndexError`. The one exception is `verifiedByCaller: true`, for bytes an enclosing file's
// checksum covers: only header, sizes and level table are checked, which keeps every traversal
// inside the arrays but trusts the boxes (a crafted file gives wrong answers, never a bad read).

extension PackedRTree {
    /// Current file format version.
    public static let formatVersion: UInt32 = 2
    static let magic: [UInt8] = Array("SUBTRIDX".utf8)
    static let headerSize = 48

    /// The serialised tree (see the format table in `PackedRTree+Persistence.swift`). O(n).
    public func serialized() -> Data {
        let levels = _levelEnds.count
        let payloadSize = levels * 8 + _boxes.count * MemoryLayout<Box>.stride + _ids.count * 4
        var data = Data(count: Self.headerSize + payloadSize)
        data.withUnsafeMutableBytes { raw in
            var o = 0
            func put<T: FixedWidthInteger>(_ v: T) {
                raw.storeBytes(of: v.littleEndian, toByteOffset: o, as: T.self)
                o += MemoryLayout<T>.size
            }
            for b in Self.magic { put(b) }
            put(Self.formatVersion)
            put(UInt32(nodeSize))
            put(UInt64(_count))
            put(UInt64(_boxes.count))
            put(UInt32(levels))
            put(UInt32(_idsAreLeafPositions ? 1 : 0))
            let checksumOffset = o
            put(UInt64(0))
            for e in _levelEnds { put(UInt64(e)) }
            _boxes.withUnsafeBytes { b in
                UnsafeMutableRawBufferPointer(rebasing: raw[o..<(o + b.count)]).copyMemory(from: b)
                o += b.count
            }
            _ids.withUnsafeBytes { b in
                UnsafeMutableRawBufferPointer(rebasing: raw[o..<(o + b.count)]).copyMemory(from: b)
                o += b.count
            }
            let sum = _checksum(UnsafeRawBufferPointer(rebasing: raw[Self.headerSize...]))
            raw.storeBytes(of: sum.littleEndian, toByteOffset: checksumOffset, as: UInt64.self)
        }
        return data
    }

    /// Writes the tree to `url` atomically.
    /// - Throws: `IndexError.io` naming the file and the system's reason.
    public func write(to url: URL) throws {
        do {
            try serialized().write(to: url, options: .atomic)
        } catch {
            throw IndexError.io("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// Loads a tree written by `write(to:)`.
    /// - Throws: `IndexError.io` if unreadable, else as `init(serialized:)`.
    public init(contentsOf url: URL) throws {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw IndexError.io("cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(serialized: data)
    }

    /// Loads a tree from serialised bytes. See `init(bytes:)`.
    public init(serialized data: Data) throws {
        self = try data.withUnsafeBytes { try PackedRTree(bytes: $0) }
    }

    /// Loads a tree from serialised bytes without re-sorting.
    ///
    /// - Throws: `.truncated` (too short for the header or the sizes it states), `.badMagic`
    ///   (not an index), `.unsupportedVersion`, `.checksumMismatch`, `.corrupt` (impossible header
    ///   values or trailing bytes), `.invariantViolated` (a checksum-valid but inconsistent tree).
    /// - Complexity: O(n): one checksum pass, one copy, one validation pass.
    public init(bytes raw: UnsafeRawBufferPointer) throws {
        let h = try _Header(raw)
        let computed = _checksum(UnsafeRawBufferPointer(rebasing: raw[Self.headerSize...]))
        guard computed == h.checksum else { throw IndexError.checksumMismatch(stored: h.checksum, computed: computed) }
        let boxes = [Box](unsafeUninitializedCapacity: h.boxCount) { buf, initialized in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[h.boxes]))
            initialized = h.boxCount
        }
        let tree = PackedRTree(_boxes: boxes, _ids: h.copyIDs(raw), _levelEnds: h.levelEnds, nodeSize: h.nodeSize)
        try tree.validate()
        self = tree
    }

    /// A tree over serialised bytes that stay where they are (a memory-mapped file): the boxes are
    /// read in place, never copied; `owner` keeps the memory alive and nobody may write it.
    ///
    /// With `verifiedByCaller` the caller vouches that the bytes are the ones a `serialized()`
    /// wrote (an enclosing file's checksum over them matched, as the engine's snapshot file
    /// does): the tree's own checksum and the O(n) box checks are skipped and only the layout
    /// every traversal relies on is checked (header, sizes, level table: O(levels)), so opening
    /// costs no pass over the boxes. Without it, the checks of `init(bytes:)` run.
    ///
    /// Bytes whose boxes are not 8-byte aligned are copied instead (the result is the same).
    /// - Throws: as `init(bytes:)`.
    /// - Complexity: O(levels) verified, else O(n) for the checksum and validation passes (still
    ///   no copy of the boxes).
    public init(borrowing raw: UnsafeRawBufferPointer, owner: AnyObject, verifiedByCaller: Bool) throws {
        let h = try _Header(raw)
        if !verifiedByCaller {
            let computed = _checksum(UnsafeRawBufferPointer(rebasing: raw[Self.headerSize...]))
            guard computed == h.checksum else { throw IndexError.checksumMismatch(stored: h.checksum, computed: computed) }
        }
        let boxes = _Buffer<Box>.borrowingOrCopying(UnsafeRawBufferPointer(rebasing: raw[h.boxes]), count: h.boxCount, owner: owner)
        let tree = PackedRTree(_boxes: boxes, _ids: h.copyIDs(raw), _levelEnds: h.levelEnds, nodeSize: h.nodeSize)
        if verifiedByCaller { try tree._validateLayout() } else { try tree.validate() }
        self = tree
    }

    /// A serialised tree's header, checked against the byte count: where each part lies.
    struct _Header {
        var nodeSize: Int
        var count: Int
        var boxCount: Int
        var levelEnds: [Int]
        var checksum: UInt64
        var boxes: Range<Int>
        /// Nil when ids are leaf positions.
        var ids: Range<Int>?

        init(_ raw: UnsafeRawBufferPointer) throws {
            let hs = PackedRTree.headerSize
            guard raw.count >= 8, raw.prefix(8).elementsEqual(PackedRTree.magic) else {
                if raw.count < 8 { throw IndexError.truncated(expected: hs, actual: raw.count) }
                throw IndexError.badMagic
            }
            guard raw.count >= hs else { throw IndexError.truncated(expected: hs, actual: raw.count) }
            func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
                T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
            }
            let version = get(8, UInt32.self)
            guard version == 1 || version == PackedRTree.formatVersion else {
                throw IndexError.unsupportedVersion(found: version, supported: PackedRTree.formatVersion)
            }
            nodeSize = Int(get(12, UInt32.self))
            let count = get(16, UInt64.self)
            let boxCount = get(24, UInt64.self)
            let levels = Int(get(32, UInt32.self))
            let flags = get(36, UInt32.self)
            checksum = get(40, UInt64.self)
            guard flags == 0 || (version >= 2 && flags == 1) else {
                throw IndexError.corrupt(version == 1 ? "reserved header field is not zero" : "unknown flags \(flags)")
            }
            guard (2...65535).contains(nodeSize) else { throw IndexError.corrupt("node size \(nodeSize) outside 2...65535") }
            guard count < UInt64(UInt32.max) else { throw IndexError.corrupt("item count \(count) exceeds the UInt32 limit") }
            guard (1...64).contains(levels) else { throw IndexError.corrupt("level count \(levels) outside 1...64") }
            // count < 2^32 and boxCount ≤ 2·count (node size ≥ 2) keep the size arithmetic far from overflow.
            guard boxCount <= 2 * count + 1 else { throw IndexError.corrupt("box count \(boxCount) impossible for \(count) items") }
            let n = Int(count), b = Int(boxCount)
            let idBytes = flags & 1 != 0 ? 0 : n * 4
            let expectedSize = hs + levels * 8 + b * MemoryLayout<Box>.stride + idBytes
            guard raw.count >= expectedSize else { throw IndexError.truncated(expected: expectedSize, actual: raw.count) }
            guard raw.count == expectedSize else {
                throw IndexError.corrupt("\(raw.count - expectedSize) unexpected bytes after the payload")
            }
            guard n > 0 || b == 0 else { throw IndexError.corrupt("empty tree with \(b) boxes") }
            var ends: [Int] = []
            ends.reserveCapacity(levels)
            for l in 0..<levels {
                let e = get(hs + 8 * l, UInt64.self)
                guard e <= boxCount else { throw IndexError.corrupt("level end \(e) beyond box count \(boxCount)") }
                ends.append(Int(e))
            }
            // A positional tree's count is its leaf level; the header must agree.
            guard flags & 1 == 0 || n == 0 || ends[0] == n else {
                throw IndexError.corrupt("item count \(n) but \(ends[0]) leaves")
            }
            self.count = n
            self.boxCount = b
            levelEnds = n == 0 ? [0] : ends
            let boxStart = hs + levels * 8
            boxes = boxStart..<(boxStart + b * MemoryLayout<Box>.stride)
            ids = idBytes == 0 ? nil : boxes.upperBound..<(boxes.upperBound + idBytes)
        }

        /// The stored ids (nil: leaf positions).
        func copyIDs(_ raw: UnsafeRawBufferPointer) -> [UInt32]? {
            guard let ids else { return nil }
            return [UInt32](unsafeUninitializedCapacity: count) { buf, initialized in
                UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[ids]))
                initialized = count
            }
        }
    }
}

/// FNV-1a-style 64-bit checksum over little-endian 64-bit words (then the tail bytes), public for
/// the files that embed an index (the engine's snapshot file): each step
/// `h = (h ^ word) &* prime` is a bijection of `h`, so any single changed word changes the result,
/// and words instead of bytes make it faster than byte-wise FNV (Benchmarks/NOTES.md).
public func _checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let prime: UInt64 = 0x0000_0100_0000_01B3
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    let words = bytes.count / 8
    var i = 0
    while i < words {
        h = (h ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))) &* prime
        i += 1
    }
    var j = words * 8
    while j < bytes.count {
        h = (h ^ UInt64(bytes[j])) &* prime
        j += 1
    }
    // Mix the length in so truncation to a word boundary cannot leave the value unchanged.
    return (h ^ UInt64(bytes.count)) &* prime
}

/// A checksum for large files read at open (the engine's snapshot file), as strong against damage
/// as `_checksum` but not bound by one multiply chain: the bytes are cut into 1 MiB blocks, each
/// block is hashed in four interleaved lanes (`h = (h ^ word) &* prime` per lane, every fourth
/// 64-bit word), the lanes are folded, and the block values are chained in order with the block
/// count and the length. Blocks are hashed on all cores.
///
/// Any single changed word still changes its lane (each step is a bijection of the lane), and
/// swapping two blocks or two words of different lanes changes the result. Different values from
/// `_checksum`: a file states which one it uses.
/// - Complexity: O(n), memory-bound, blocks on all cores.
public func _blockChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    let prime: UInt64 = 0x0000_0100_0000_01B3
    let block = 1 << 20
    let blocks = (bytes.count + block - 1) / block
    func hashBlock(_ b: Int) -> UInt64 {
        let start = b * block, end = Swift.min(start + block, bytes.count)
        var h0: UInt64 = 0xCBF2_9CE4_8422_2325, h1 = h0 ^ 1, h2 = h0 ^ 2, h3 = h0 ^ 3
        var o = start
        while o + 32 <= end {
            h0 = (h0 ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))) &* prime
            h1 = (h1 ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 8, as: UInt64.self))) &* prime
            h2 = (h2 ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 16, as: UInt64.self))) &* prime
            h3 = (h3 ^ UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o + 24, as: UInt64.self))) &* prime
            o += 32
        }
        var h = (((h0 &* prime) ^ h1) &* prime ^ h2) &* prime ^ h3
        while o < end {
            h = (h ^ UInt64(bytes[o])) &* prime
            o += 1
        }
        return h
    }
    var values = [UInt64](repeating: 0, count: blocks)
    values.withUnsafeMutableBufferPointer { out in
        let sink = _UncheckedSendable(value: out)
        let cores = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, blocks))
        _concurrentPerform(iterations: cores) { c in
            var b = c
            while b < blocks {
                sink.value[b] = hashBlock(b)
                b += cores
            }
        }
    }
    var h: UInt64 = 0xCBF2_9CE4_8422_2325 ^ UInt64(blocks)
    for v in values { h = (h ^ v) &* prime }
    return (h ^ UInt64(bytes.count)) &* prime
}
