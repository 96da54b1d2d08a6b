import Foundation
import SubterraGeometry
import SubterraIndex
import SubterraModel
import SubterraPROJ

#if !_endian(little)
#error("the snapshot file is the in-memory little-endian layout; add byte swapping for big-endian hosts")
#endif

// The engine's persisted snapshot, written beside a store (`city.gpkg.subterra-snapshot`).
//
// Layout, version 3 (little-endian; version 2 had no padding, the columns in another order and
// the single-chain `_checksum`; version 1 lacked the summary's WGS84 extent):
//
//   offset  size  field
//        0     8  magic "SUBSNAP1"
//        8     4  format version
//       12     4  reserved, 0
//       16     8  body length B (the file is 32 + B bytes)
//       24     8  checksum of the body (`_blockChecksum`: 1 MiB blocks hashed on all cores)
//       32     8  meta length M (a multiple of 8)
//       40     M  meta: JSON of `_SnapshotMeta` (store stamp, CRS, dictionaries, rule profiles,
//                 summary), padded with spaces
//     40+M     8  index length I
//     48+M     I  `SegmentIndex.serialized()`: every row's segments, tagged with the row number
//               P  zero bytes, so the columns start at a multiple of 8 (P < 8)
//              8n  segment ids (Int64) by row
//              8n  feature keys (Int64) by row
//              4n  owner (UInt32: 0 = none, else 1 + index into meta.owners)
//              2n  layer (UInt16: index into meta.layers)
//              2n  sub-type (UInt16: 0 = none, else 1 + index into meta.subtypes)
//               n  feature kind (UInt8: index into FeatureKind.allCases)
//
// Every part starts at a multiple of its alignment from the file's start (the index's boxes too:
// its header is 32 bytes and the tree's 48 + 8 per level), so an opened file is used in place,
// from its mapped pages: nothing is copied and nothing is parsed but the meta.
//
// Rows are the map's segments in map order (the store's fid order), as the engine numbers them,
// so equal distances break the same way. Opening reads the header and the meta first: a stamp
// that is not the store's current one means stale, and nothing else is read. A fresh stamp is
// then trusted only after the body checksum, the index's header and layout, and a range check
// of every column used as an index (the index's row ids against the row count; layer, owner,
// sub-type and kind against their dictionaries: one vectorised maximum each). The index's own
// checksum and its O(n) structural checks ran when the file was built; the body checksum proves
// the bytes are those.
//
// The file is used from its mapped pages for as long as a map is open, so it is only ever
// replaced by rename (`Data.write(to:options: .atomic)`): the open map keeps the old inode.
// Rewriting it in place, or truncating it, under a running process is not supported.

/// What the snapshot file records besides the columns.
struct _SnapshotMeta: Codable, Sendable {
    var stamp: StoreStamp
    var crs: String
    var rows: Int
    var layers: [LayerCode]
    var owners: [String]
    var subtypes: [SubtypeCode]
    /// Distinct rule profiles present (the dig check's reach and the rule-layer check).
    var profiles: [PipeProfile]
    var maxAccuracy: Double
    var maxHalfWidth: Double
    var multiPart: Bool
    var summary: MapSummary
    /// The map CRS's widened area of use, projected when the file was built (nil: geographic,
    /// unknown to PROJ, or no recorded area), adopted at open instead of projected again.
    var areaBounds: RecordedAreaBounds?
}

/// A snapshot file built one record at a time: every point, then every segment in map order.
struct _SnapshotBuilder {
    let crs: String
    private var layerOf: [LayerCode: UInt16] = [:], ownerOf: [String: UInt32] = [:], subtypeOf: [SubtypeCode: UInt16] = [:]
    private var layers: [LayerCode] = [], owners: [String] = [], subtypes: [SubtypeCode] = []
    private var ids: [Int64] = [], feature: [Int64] = [], layer: [UInt16] = [], owner: [UInt32] = []
    private var subtype: [UInt16] = [], kind: [UInt8] = []
    /// Every straight piece of every row's line, tagged with the row: the index's input.
    private var pieces: [Segment] = [], tags: [UInt32] = []
    private var profiles = Set<PipeProfile>()
    private var maxAccuracy = 0.0, maxHalfWidth = 0.0, multiPart = false
    private var summary = _SummaryAccumulator()

    init(crs: String) { self.crs = crs }

    mutating func add(_ p: FeaturePoint) { summary.add(p) }

    mutating func add(_ s: PipeSegment) throws {
        guard ids.count < Int(UInt32.max) else { throw _SnapshotFileProblem("more than \(UInt32.max) segments") }
        let row = UInt32(ids.count)
        ids.append(s.id)
        feature.append(s.featureID)
        if let l = layerOf[s.layer] { layer.append(l) } else {
            guard layers.count < Int(UInt16.max) else { throw _SnapshotFileProblem("more than 65535 layer codes") }
            layerOf[s.layer] = UInt16(layers.count)
            layer.append(UInt16(layers.count))
            layers.append(s.layer)
        }
        if let o = s.owner {
            if let i = ownerOf[o] { owner.append(i) } else {
                owners.append(o)
                ownerOf[o] = UInt32(owners.count)
                owner.append(UInt32(owners.count))
            }
        } else { owner.append(0) }
        if let t = s.subtype {
            if let i = subtypeOf[t] { subtype.append(i) } else {
                guard subtypes.count < Int(UInt16.max) - 1 else { throw _SnapshotFileProblem("more than 65534 sub-type codes") }
                subtypes.append(t)
                subtypeOf[t] = UInt16(subtypes.count)
                subtype.append(UInt16(subtypes.count))
            }
        } else { subtype.append(0) }
        kind.append(UInt8(FeatureKind.allCases.firstIndex(of: s.featureKind)!))
        profiles.insert(PipeProfile(s))
        maxAccuracy = max(maxAccuracy, s.accuracy?.horizontalM ?? 0)
        maxHalfWidth = max(maxHalfWidth, (s.outerWidthM ?? 0) / 2)
        multiPart = multiPart || s.feature != nil
        let p = s.geometry.points
        for v in 1..<p.count {
            pieces.append(Segment(p[v - 1], p[v]))
            tags.append(row)
        }
        summary.add(s)
    }

    /// The file's bytes. Consumes the builder's buffers.
    mutating func finish(stamp: StoreStamp, areas: Int) throws -> Data {
        // The same index `SegmentIndex(lines:ids:)` builds over the rows' lines.
        let index = try SegmentIndex(segments: pieces, ids: tags)
        pieces = []
        tags = []
        let meta = _SnapshotMeta(
            stamp: stamp, crs: crs, rows: ids.count, layers: layers, owners: owners, subtypes: subtypes,
            profiles: profiles.sorted { "\($0)" < "\($1)" }, maxAccuracy: maxAccuracy, maxHalfWidth: maxHalfWidth,
            multiPart: multiPart, summary: summary.summary(areas: areas, crs: crs),
            areaBounds: (try? CoordinateSystem(crs)).flatMap { try? $0.recordedAreaBounds() })
        // Sorted keys: the same map gives the same bytes (Foundation's key order is unspecified).
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var metaBytes = try encoder.encode(meta)
        metaBytes.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - metaBytes.count % 8) % 8))
        let indexBytes = index.serialized()

        var body = Data()
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { body.append(contentsOf: $0) } }
        func column<T>(_ a: [T]) { a.withUnsafeBytes { body.append(contentsOf: $0) } }
        put(UInt64(metaBytes.count))
        body.append(metaBytes)
        put(UInt64(indexBytes.count))
        body.append(indexBytes)
        body.append(contentsOf: [UInt8](repeating: 0, count: _SnapshotFile.padding(afterIndex: indexBytes.count)))
        column(ids); column(feature); column(owner); column(layer); column(subtype); column(kind)

        var file = Data(_SnapshotFile.magic)
        func head<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { file.append(contentsOf: $0) } }
        head(_SnapshotFile.formatVersion)
        head(UInt32(0))
        head(UInt64(body.count))
        head(body.withUnsafeBytes { _blockChecksum($0) })
        file.append(body)
        return file
    }
}

/// Why a snapshot file was not used.
struct _SnapshotFileProblem: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// The contents of a snapshot file, read in place from its bytes (`_FileBytes` keeps them alive).
struct _SnapshotFile: Sendable {
    static let magic: [UInt8] = Array("SUBSNAP1".utf8)
    static let formatVersion: UInt32 = 3
    static let headerSize = 32

    var meta: _SnapshotMeta
    var index: SegmentIndex
    var ids: _Buffer<Int64>
    var feature: _Buffer<Int64>
    var layer: _Buffer<UInt16>
    var owner: _Buffer<UInt32>
    var subtype: _Buffer<UInt16>
    var kind: _Buffer<UInt8>
    /// The bytes every part points into.
    let bytes: _FileBytes

    /// Zero bytes after an index of `length` bytes that starts at a multiple of 8.
    static func padding(afterIndex length: Int) -> Int { (8 - length % 8) % 8 }

    /// The file beside `storePath`.
    static func url(forStore storePath: String) -> URL {
        URL(fileURLWithPath: storePath + ".subterra-snapshot")
    }

    // MARK: Writing

    /// The file's bytes for `network`, read from a store at `stamp`. O(n) plus the index build.
    static func serialize(_ network: UtilityNetwork, stamp: StoreStamp) throws -> Data {
        var b = _SnapshotBuilder(crs: network.crs)
        for p in network.points { b.add(p) }
        for s in network.segments { try b.add(s) }
        return try b.finish(stamp: stamp, areas: network.areas.count)
    }

    /// The file's bytes for the map in `store`, read one record at a time (points, then segments
    /// in fid order), validated as loading the map would validate it. Memory is the file's
    /// columns, the segments' corners and one ground elevation per point, not the map: about
    /// 80 B per segment and 90 B per point.
    ///
    /// - Throws: `StoreError` naming an unreadable, invalid or duplicate record;
    ///   `_SnapshotFileProblem` past a column's range.
    static func serialize(store: GeoPackageStore, stamp: StoreStamp) throws -> Data {
        var b = _SnapshotBuilder(crs: store.spatialReference.authorityString)
        try store.forEachValidRecord(point: { b.add($0) }, segment: { try b.add($0) })
        return try b.finish(stamp: stamp, areas: try store.storedAreas().count)
    }

    // MARK: Reading

    /// The stamp a file was built at, or why the bytes are not a snapshot file: reads only the
    /// header and the meta. O(meta).
    static func meta(_ raw: UnsafeRawBufferPointer) throws(_SnapshotFileProblem) -> _SnapshotMeta {
        let hs = headerSize
        guard raw.count >= hs + 8 else { throw _SnapshotFileProblem("truncated: \(raw.count) bytes, shorter than the header") }
        guard raw.prefix(8).elementsEqual(magic) else { throw _SnapshotFileProblem("not a Subterra snapshot file (bad magic)") }
        let version = raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard version == formatVersion else {
            throw _SnapshotFileProblem("format version \(version), this build reads \(formatVersion)")
        }
        let body = raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        guard body == UInt64(raw.count - hs) else {
            throw _SnapshotFileProblem("truncated or extended: the header states \(body) body bytes, the file has \(raw.count - hs)")
        }
        let m = raw.loadUnaligned(fromByteOffset: hs, as: UInt64.self)
        guard m <= UInt64(raw.count - hs - 8) else { throw _SnapshotFileProblem("meta length \(m) beyond the file") }
        let bytes = Data(UnsafeRawBufferPointer(rebasing: raw[(hs + 8)..<(hs + 8 + Int(m))]))
        do { return try JSONDecoder().decode(_SnapshotMeta.self, from: bytes) } catch {
            throw _SnapshotFileProblem("unreadable meta: \(error)")
        }
    }

    /// Opens a whole file in place: checksum, index layout, columns, every column value in range.
    /// - Complexity: O(file size) for the checksum (on all cores); nothing is copied.
    init(_ bytes: _FileBytes) throws(_SnapshotFileProblem) {
        let raw = bytes.raw
        let meta = try Self.meta(raw)
        let hs = Self.headerSize
        let stored = raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        let computed = _blockChecksum(UnsafeRawBufferPointer(rebasing: raw[hs...]))
        guard stored == computed else {
            throw _SnapshotFileProblem("checksum mismatch (stored \(stored), computed \(computed)): the file is damaged")
        }
        let n = meta.rows
        let metaLength = Int(raw.loadUnaligned(fromByteOffset: hs, as: UInt64.self))
        var o = hs + 8 + metaLength
        guard metaLength % 8 == 0, o + 8 <= raw.count else { throw _SnapshotFileProblem("truncated or misaligned before the index") }
        let indexLength = Int(truncatingIfNeeded: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))
        o += 8
        guard n >= 0, n < Int(UInt32.max), indexLength >= 0, indexLength <= raw.count - o,
              raw.count - o - indexLength == Self.padding(afterIndex: indexLength) + n * 25
        else {
            throw _SnapshotFileProblem("section sizes do not add up to the file for \(n) rows")
        }
        do {
            index = try SegmentIndex(borrowing: UnsafeRawBufferPointer(rebasing: raw[o..<(o + indexLength)]), owner: bytes,
                                     verifiedByCaller: true)
        } catch {
            throw _SnapshotFileProblem("segment index: \(error)")
        }
        o += indexLength + Self.padding(afterIndex: indexLength)
        func column<T>(_: T.Type) throws(_SnapshotFileProblem) -> _Buffer<T> {
            let size = n * MemoryLayout<T>.stride
            defer { o += size }
            let region = UnsafeRawBufferPointer(rebasing: raw[o..<(o + size)])
            guard n == 0 || Int(bitPattern: region.baseAddress) % MemoryLayout<T>.alignment == 0 else {
                throw _SnapshotFileProblem("a column is not aligned in the mapped file")
            }
            return _Buffer(borrowing: region.assumingMemoryBound(to: T.self), owner: bytes)
        }
        ids = try column(Int64.self)
        feature = try column(Int64.self)
        owner = try column(UInt32.self)
        layer = try column(UInt16.self)
        subtype = try column(UInt16.self)
        kind = try column(UInt8.self)
        self.meta = meta
        self.bytes = bytes
        if let top = index.largestID, Int(top) >= n { throw _SnapshotFileProblem("index names row \(top) of \(n)") }
        func top<T: FixedWidthInteger>(_ c: _Buffer<T>) -> Int { c.withUnsafeBufferPointer { Int($0.max() ?? 0) } }
        guard n == 0 || (top(layer) < meta.layers.count && top(owner) <= meta.owners.count
                         && top(subtype) <= meta.subtypes.count && top(kind) < FeatureKind.allCases.count)
        else {
            throw _SnapshotFileProblem("a row names a code outside the file's dictionaries")
        }
    }
}

/// Bytes a snapshot file is read from, kept alive for as long as any part of the file is used:
/// the file mapped read-only (pages shared with the page cache, loaded in bulk at open), or a
/// copy in aligned memory of bytes just built.
final class _FileBytes: @unchecked Sendable {
    // @unchecked: the memory is never written after init and freed only in deinit.
    let raw: UnsafeRawBufferPointer
    private let mapped: Bool

    /// Maps the file at `path` read-only.
    init(mapping path: String) throws(_SnapshotFileProblem) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw _SnapshotFileProblem("unreadable: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw _SnapshotFileProblem("unreadable: \(String(cString: strerror(errno)))") }
        guard st.st_size > 0 else { throw _SnapshotFileProblem("truncated: 0 bytes, shorter than the header") }
        let size = Int(st.st_size)
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw _SnapshotFileProblem("cannot map: \(String(cString: strerror(errno)))") }
        raw = UnsafeRawBufferPointer(start: p, count: size)
        mapped = true
    }

    /// A copy of `data` in memory aligned for any column.
    init(copying data: Data) {
        let m = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(data.count, 1), alignment: 16)
        data.withUnsafeBytes { m.copyMemory(from: $0) }
        raw = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(m)[0..<data.count])
        mapped = false
    }

    deinit {
        guard let base = raw.baseAddress else { return }
        if mapped { munmap(UnsafeMutableRawPointer(mutating: base), raw.count) } else { base.deallocate() }
    }
}
