import SubterraGeometry

/// Why a GeoPackage geometry blob or WKB could not be read.
public struct GeoPackageGeometryError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The GeoPackage binary geometry format (OGC 12-128r18 §2.1.3): a `GP` header carrying version,
/// flags, `srs_id` and an optional envelope, followed by ISO WKB.
///
/// We write little-endian headers with an XY envelope (flags envelope code 1) so readers can
/// filter on the header without parsing the WKB, and ISO WKB with Z (type + 1000) when any point
/// has a height. We read every envelope kind (0–4), both byte orders, ISO and EWKB Z/M flags;
/// M values are skipped.
public enum GeoPackageGeometry {
    /// Encodes `geometry` with `srsID` into a GeoPackage blob.
    ///
    /// - Complexity: O(number of coordinates).
    public static func encode(_ geometry: Geometry, srsID: Int32) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + 16 * 8)
        let env = geometry.envelope
        let empty = env.isEmpty
        out.append(0x47); out.append(0x50) // "GP"
        out.append(0) // version 1 (encoded as 0)
        // bit 0: little endian; bits 1–3: envelope code (1 = minx,maxx,miny,maxy); bit 4: empty.
        let flags: UInt8 = 0b1 | (empty ? 0 : 0b10) | (empty ? 0b1_0000 : 0)
        out.append(flags)
        withUnsafeBytes(of: srsID.littleEndian) { out.append(contentsOf: $0) }
        if !empty {
            for v in [env.minX, env.maxX, env.minY, env.maxY] {
                withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
            }
        }
        _WKB.write(geometry, into: &out)
        return out
    }

    /// The parts of a decoded blob.
    public struct Decoded: Hashable, Sendable {
        public var srsID: Int32
        /// The envelope stored in the header, if any (not recomputed).
        public var headerEnvelope: Envelope?
        /// `nil` when the blob is flagged empty or holds an empty geometry.
        public var geometry: Geometry?
    }

    /// Decodes a GeoPackage geometry blob.
    ///
    /// - Throws: `GeoPackageGeometryError` saying which byte is wrong (bad magic, unknown
    ///   envelope code, truncated data, unsupported geometry type).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(GeoPackageGeometryError) -> Decoded {
        var r = _ByteReader(bytes)
        guard bytes.count >= 8, bytes[0] == 0x47, bytes[1] == 0x50 else {
            throw GeoPackageGeometryError("not a GeoPackage geometry: missing 'GP' magic")
        }
        let flags = bytes[3]
        if flags & 0b10_0000 != 0 {
            throw GeoPackageGeometryError("extended GeoPackage geometry types are not supported")
        }
        r.offset = 4
        r.littleEndian = flags & 1 == 1
        let srs = Int32(bitPattern: try r.u32())
        let envCode = (flags >> 1) & 0b111
        let envDoubles: Int
        switch envCode {
        case 0: envDoubles = 0
        case 1: envDoubles = 4
        case 2, 3: envDoubles = 6
        case 4: envDoubles = 8
        default: throw GeoPackageGeometryError("invalid envelope code \(envCode) in GeoPackage header")
        }
        var envelope: Envelope?
        if envDoubles > 0 {
            let minX = try r.f64(), maxX = try r.f64(), minY = try r.f64(), maxY = try r.f64()
            for _ in 4..<envDoubles { _ = try r.f64() }
            envelope = Envelope(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
        }
        if flags & 0b1_0000 != 0 { return Decoded(srsID: srs, headerEnvelope: envelope, geometry: nil) }
        var body = _ByteReader(UnsafeRawBufferPointer(rebasing: bytes[r.offset...]))
        let g = try _WKB.read(&body, depth: 0)
        return Decoded(srsID: srs, headerEnvelope: envelope, geometry: g)
    }

    /// The envelope of a blob: read from the header when it carries one (no WKB parsing), else
    /// computed from the geometry; nil for empty or unreadable blobs. O(1) with a header envelope.
    public static func envelope(of bytes: UnsafeRawBufferPointer) -> Envelope? {
        guard bytes.count >= 8, bytes[0] == 0x47, bytes[1] == 0x50 else { return nil }
        let flags = bytes[3]
        if flags & 0b1_0000 != 0 { return nil }
        if (flags >> 1) & 0b111 != 0 {
            var r = _ByteReader(bytes)
            r.offset = 8
            r.littleEndian = flags & 1 == 1
            guard let minX = try? r.f64(), let maxX = try? r.f64(), let minY = try? r.f64(), let maxY = try? r.f64()
            else { return nil }
            let e = Envelope(minX: minX, minY: minY, maxX: maxX, maxY: maxY)
            if !e.isEmpty { return e }
        }
        guard let g = try? decode(bytes).geometry else { return nil }
        let e = g.envelope
        return e.isEmpty ? nil : e
    }

    /// Decodes a blob held in an array.
    public static func decode(_ bytes: [UInt8]) throws(GeoPackageGeometryError) -> Decoded {
        do {
            return try bytes.withUnsafeBytes { raw in try decode(raw) }
        } catch let e as GeoPackageGeometryError {
            throw e
        } catch {
            throw GeoPackageGeometryError("\(error)")
        }
    }
}

/// Bounds-checked reader over raw bytes; every read throws instead of trapping on truncation.
struct _ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0
    var littleEndian = true

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    mutating func u8() throws(GeoPackageGeometryError) -> UInt8 {
        guard offset < bytes.count else { throw GeoPackageGeometryError("truncated geometry at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u32() throws(GeoPackageGeometryError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw GeoPackageGeometryError("truncated geometry at byte \(offset)") }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)
        offset += 4
        return littleEndian ? UInt32(littleEndian: v) : UInt32(bigEndian: v)
    }

    mutating func f64() throws(GeoPackageGeometryError) -> Double {
        guard offset + 8 <= bytes.count else { throw GeoPackageGeometryError("truncated geometry at byte \(offset)") }
        let v = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
        offset += 8
        return Double(bitPattern: littleEndian ? UInt64(littleEndian: v) : UInt64(bigEndian: v))
    }
}

/// Minimal ISO WKB codec for the `Geometry` enum, used inside GeoPackage blobs.
enum _WKB {
    static func hasZ(_ g: Geometry) -> Bool {
        switch g {
        case .point(let p): return p.z != nil
        case .lineString(let l): return l.points.contains { $0.z != nil }
        case .polygon(let p): return p.exterior.points.contains { $0.z != nil }
        case .multiPoint(let ps): return ps.contains { $0.z != nil }
        case .multiLineString(let ls): return ls.contains { hasZ(.lineString($0)) }
        case .multiPolygon(let ps): return ps.contains { hasZ(.polygon($0)) }
        case .collection(let gs): return gs.contains(where: hasZ)
        }
    }

    static func write(_ g: Geometry, into out: inout [UInt8]) {
        write(g, z: hasZ(g), into: &out)
    }

    private static func u32(_ v: UInt32, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func f64(_ v: Double, _ out: inout [UInt8]) {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func header(_ type: UInt32, z: Bool, _ out: inout [UInt8]) {
        out.append(1)
        u32(type + (z ? 1000 : 0), &out)
    }

    private static func points(_ ps: [Point], z: Bool, _ out: inout [UInt8]) {
        u32(UInt32(ps.count), &out)
        for p in ps {
            f64(p.x, &out); f64(p.y, &out)
            // A missing height inside a Z geometry is written as NaN, the WKB convention.
            if z { f64(p.z ?? .nan, &out) }
        }
    }

    private static func write(_ g: Geometry, z: Bool, into out: inout [UInt8]) {
        switch g {
        case .point(let p):
            header(1, z: z, &out)
            f64(p.x, &out); f64(p.y, &out)
            if z { f64(p.z ?? .nan, &out) }
        case .lineString(let l):
            header(2, z: z, &out)
            points(l.points, z: z, &out)
        case .polygon(let p):
            header(3, z: z, &out)
            u32(UInt32(1 + p.holes.count), &out)
            points(p.exterior.points, z: z, &out)
            for h in p.holes { points(h.points, z: z, &out) }
        case .multiPoint(let ps): parts(4, ps.map(Geometry.point), z: z, &out)
        case .multiLineString(let ls): parts(5, ls.map(Geometry.lineString), z: z, &out)
        case .multiPolygon(let ps): parts(6, ps.map(Geometry.polygon), z: z, &out)
        case .collection(let gs): parts(7, gs, z: z, &out)
        }
    }

    /// A multi geometry or collection: header, part count, then each part as a whole geometry.
    private static func parts(_ type: UInt32, _ gs: [Geometry], z: Bool, _ out: inout [UInt8]) {
        header(type, z: z, &out)
        u32(UInt32(gs.count), &out)
        for g in gs { write(g, z: z, into: &out) }
    }

    private static func readPoints(_ r: inout _ByteReader, z: Bool, m: Bool) throws(GeoPackageGeometryError) -> [Point] {
        let n = Int(try r.u32())
        let stride = 16 + (z ? 8 : 0) + (m ? 8 : 0)
        // Refuse counts the remaining bytes cannot hold before allocating for them.
        guard n <= (r.bytes.count - r.offset) / stride else {
            throw GeoPackageGeometryError("geometry claims \(n) points but only \(r.bytes.count - r.offset) bytes remain")
        }
        var ps: [Point] = []
        ps.reserveCapacity(n)
        for _ in 0..<n { ps.append(try readPoint(&r, z: z, m: m)) }
        return ps
    }

    static func read(_ r: inout _ByteReader, depth: Int) throws(GeoPackageGeometryError) -> Geometry? {
        guard depth < 32 else { throw GeoPackageGeometryError("geometry nested too deeply") }
        let order = try r.u8()
        guard order <= 1 else { throw GeoPackageGeometryError("invalid WKB byte order \(order) at byte \(r.offset - 1)") }
        r.littleEndian = order == 1
        let raw = try r.u32()
        // EWKB flags (PostGIS) and ISO thousands both occur in the wild.
        var z = raw & 0x8000_0000 != 0
        var m = raw & 0x4000_0000 != 0
        var type = raw & 0x0FFF_FFFF
        if type >= 1000 {
            let dim = type / 1000
            type %= 1000
            z = z || dim == 1 || dim == 3
            m = m || dim == 2 || dim == 3
        }
        func lineString(_ ps: [Point]) throws(GeoPackageGeometryError) -> LineString {
            do { return try LineString(ps) } catch { throw GeoPackageGeometryError(error.message) }
        }
        func ring(_ ps: [Point]) throws(GeoPackageGeometryError) -> LinearRing {
            do { return try LinearRing(ps) } catch { throw GeoPackageGeometryError(error.message) }
        }
        switch type {
        case 1:
            let p = try readPoint(&r, z: z, m: m)
            return p.x.isNaN && p.y.isNaN ? nil : .point(p)
        case 2:
            let ps = try readPoints(&r, z: z, m: m)
            return ps.isEmpty ? nil : .lineString(try lineString(ps))
        case 3:
            let n = Int(try r.u32())
            guard n <= r.bytes.count - r.offset else { throw GeoPackageGeometryError("polygon claims \(n) rings") }
            var rings: [LinearRing] = []
            for _ in 0..<n { rings.append(try ring(try readPoints(&r, z: z, m: m))) }
            guard let ext = rings.first else { return nil }
            return .polygon(Polygon(exterior: ext, holes: Array(rings.dropFirst())))
        case 4, 5, 6, 7:
            let n = Int(try r.u32())
            guard n <= r.bytes.count - r.offset else { throw GeoPackageGeometryError("collection claims \(n) parts") }
            var parts: [Geometry] = []
            for _ in 0..<n {
                if let g = try read(&r, depth: depth + 1) { parts.append(g) }
            }
            switch type {
            case 4:
                var ps: [Point] = []
                for g in parts { guard case .point(let p) = g else { throw GeoPackageGeometryError("multipoint holds a non-point") }; ps.append(p) }
                return .multiPoint(ps)
            case 5:
                var ls: [LineString] = []
                for g in parts { guard case .lineString(let l) = g else { throw GeoPackageGeometryError("multilinestring holds a non-linestring") }; ls.append(l) }
                return .multiLineString(ls)
            case 6:
                var ps: [Polygon] = []
                for g in parts { guard case .polygon(let p) = g else { throw GeoPackageGeometryError("multipolygon holds a non-polygon") }; ps.append(p) }
                return .multiPolygon(ps)
            default:
                return .collection(parts)
            }
        default:
            throw GeoPackageGeometryError("unsupported WKB geometry type \(raw)")
        }
    }

    /// One position; a NaN z (how WKB writes a missing height) reads as no height.
    private static func readPoint(_ r: inout _ByteReader, z: Bool, m: Bool) throws(GeoPackageGeometryError) -> Point {
        let x = try r.f64(), y = try r.f64()
        var zv: Double?
        if z { let v = try r.f64(); zv = v.isNaN ? nil : v }
        if m { _ = try r.f64() }
        return Point(x: x, y: y, z: zv)
    }
}
