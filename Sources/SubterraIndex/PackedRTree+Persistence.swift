import Foundation

#if !_endian(little)
#error("PackedRTree persistence writes the in-memory little-endian layout; add byte swapping for big-endian hosts")
#endif

// File format, version 1 (all integers little-endian, no padding):
//
//   offset  size  field
//        0     8  magic "SUBTRIDX"
//        8     4  format version (1)
//       12     4  node size
//       16     8  item count n
//       24     8  box count (leaves + internal nodes)
//       32     4  level count L
//       36     4  reserved, must be 0
//       40     8  checksum of the payload (FNV-1a-style over 64-bit words, see `_checksum`)
//       48  8·L   level end offsets (UInt64)
//          32·B   boxes (minX, minY, maxX, maxY as IEEE-754 Float64), leaves then levels
//           4·n   ids (UInt32)
//
// The payload is the in-memory arrays byte for byte, so loading is three copies and no sort. A
// load checks header, sizes, checksum and then every structural invariant (`validate()`), so a
// truncated, corrupt, foreign or crafted file is refused with an `IndexError`, never trusted.

extension PackedRTree {
    /// Current file format version.
    public static let formatVersion: UInt32 = 1
    static let magic: [UInt8] = Array("SUBTRIDX".utf8)
    static let headerSize = 48

    /// The serialised tree (see the format table in `PackedRTree+Persistence.swift`). O(n).
    public func serialized() -> Data {
        let levels = _levelEnds.count
        // Ids are always written (the format predates positional ids); loading detects them again.
        let ids = leafIDs
        let payloadSize = levels * 8 + _boxes.count * MemoryLayout<Box>.stride + ids.count * 4
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
            put(UInt64(ids.count))
            put(UInt64(_boxes.count))
            put(UInt32(levels))
            put(UInt32(0))
            let checksumOffset = o
            put(UInt64(0))
            for e in _levelEnds { put(UInt64(e)) }
            _boxes.withUnsafeBytes { b in
                UnsafeMutableRawBufferPointer(rebasing: raw[o..<(o + b.count)]).copyMemory(from: b)
                o += b.count
            }
            ids.withUnsafeBytes { b in
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
        let hs = Self.headerSize
        guard raw.count >= 8, raw.prefix(8).elementsEqual(Self.magic) else {
            if raw.count < 8 { throw IndexError.truncated(expected: hs, actual: raw.count) }
            throw IndexError.badMagic
        }
        guard raw.count >= hs else { throw IndexError.truncated(expected: hs, actual: raw.count) }
        func get<T: FixedWidthInteger>(_ at: Int, _: T.Type) -> T {
            T(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: T.self))
        }
        let version = get(8, UInt32.self)
        guard version == Self.formatVersion else {
            throw IndexError.unsupportedVersion(found: version, supported: Self.formatVersion)
        }
        let nodeSize = Int(get(12, UInt32.self))
        let count = get(16, UInt64.self)
        let boxCount = get(24, UInt64.self)
        let levels = Int(get(32, UInt32.self))
        let storedSum = get(40, UInt64.self)
        guard get(36, UInt32.self) == 0 else { throw IndexError.corrupt("reserved header field is not zero") }
        guard (2...65535).contains(nodeSize) else { throw IndexError.corrupt("node size \(nodeSize) outside 2...65535") }
        guard count < UInt64(UInt32.max) else { throw IndexError.corrupt("item count \(count) exceeds the UInt32 limit") }
        guard (1...64).contains(levels) else { throw IndexError.corrupt("level count \(levels) outside 1...64") }
        // count < 2^32 and boxCount ≤ 2·count (node size ≥ 2) keep the size arithmetic far from overflow.
        guard boxCount <= 2 * count + 1 else { throw IndexError.corrupt("box count \(boxCount) impossible for \(count) items") }
        let n = Int(count), b = Int(boxCount)
        let expectedSize = hs + levels * 8 + b * MemoryLayout<Box>.stride + n * 4
        guard raw.count >= expectedSize else { throw IndexError.truncated(expected: expectedSize, actual: raw.count) }
        guard raw.count == expectedSize else {
            throw IndexError.corrupt("\(raw.count - expectedSize) unexpected bytes after the payload")
        }
        let computed = _checksum(UnsafeRawBufferPointer(rebasing: raw[hs...]))
        guard computed == storedSum else { throw IndexError.checksumMismatch(stored: storedSum, computed: computed) }

        var o = hs
        var levelEnds: [Int] = []
        levelEnds.reserveCapacity(levels)
        for _ in 0..<levels {
            let e = get(o, UInt64.self)
            guard e <= boxCount else { throw IndexError.corrupt("level end \(e) beyond box count \(boxCount)") }
            levelEnds.append(Int(e))
            o += 8
        }
        let boxBytes = b * MemoryLayout<Box>.stride
        let boxes = [Box](unsafeUninitializedCapacity: b) { buf, initialized in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[o..<(o + boxBytes)]))
            initialized = b
        }
        o += boxBytes
        let ids = [UInt32](unsafeUninitializedCapacity: n) { buf, initialized in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[o..<(o + n * 4)]))
            initialized = n
        }
        if n == 0 {
            guard b == 0 else { throw IndexError.corrupt("empty tree with \(b) boxes") }
            self.init(nodeSize: nodeSize)
            return
        }
        let tree = PackedRTree(_boxes: boxes, _ids: ids, _levelEnds: levelEnds, nodeSize: nodeSize)
        try tree.validate()
        self = tree
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
