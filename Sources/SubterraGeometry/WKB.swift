/// Well-known binary reading and writing: ISO WKB (type codes 1–7, +1000 for Z, +2000 M, +3000 ZM)
/// and PostGIS/GEOS extended WKB (EWKB: flags 0x80000000 Z, 0x40000000 M, 0x20000000 SRID), both
/// byte orders. M values are read and dropped. Errors give the byte offset.
public enum WKB {
    /// Byte order of a WKB stream (the first byte of every geometry: 0 big, 1 little).
    public enum ByteOrder: UInt8, Sendable, Hashable {
        case bigEndian = 0
        case littleEndian = 1
    }

    /// Which type-code convention to write.
    public enum Flavor: Sendable, Hashable {
        /// PostGIS/GEOS EWKB: Z and SRID as high flag bits (what `GEOSWKBWriter_write_r` writes by
        /// default and PostGIS reads).
        case extended
        /// ISO SQL/MM: Z as +1000 on the type code; cannot carry an SRID.
        case iso
    }

    /// Reads WKB or EWKB, returning the geometry and the EWKB SRID if the stream has one.
    /// - Parameter limits: nesting depth (counted as in the geometry's WKT), vertex and byte
    ///   limits; see `ParseLimits`.
    /// - Throws: `GeometryError` with `offset` = byte offset of the problem (truncated input,
    ///   unknown type code, bad byte order marker, invalid ring, trailing bytes, a limit).
    /// - Complexity: O(n) in the byte count; stack O(`limits.effectiveMaxDepth`).
    public static func read(
        _ bytes: [UInt8], limits: ParseLimits = .default
    ) throws(GeometryError) -> (geometry: Geometry, srid: Int32?) {
        if bytes.count > limits.maxBytes { throw limits.bytesError("WKB: ", count: bytes.count) }
        let r: Result<(Geometry, Int32?), GeometryError> = bytes.withUnsafeBufferPointer { buf in
            var reader = _WKBReader(b: buf, limits: limits)
            do throws(GeometryError) {
                var srid: Int32? = nil
                let g = try reader.geometry(srid: &srid, depth: 0)
                if reader.i != buf.count {
                    throw GeometryError("WKB: \(buf.count - reader.i) unexpected bytes after the geometry", offset: reader.i)
                }
                return .success((g, srid))
            } catch {
                return .failure(error)
            }
        }
        switch r {
        case .success(let v): return (v.0, v.1)
        case .failure(let e): throw e
        }
    }

    /// Writes `geometry` as WKB. With `.extended`, `srid` (if given) is written on the outermost
    /// geometry with the SRID flag, as PostGIS does; `.iso` ignores `srid`. Z is written only when
    /// every vertex has a `z`.
    /// - Complexity: O(n) in the vertex count; one allocation for the result.
    public static func write(
        _ geometry: Geometry, byteOrder: ByteOrder = .littleEndian, flavor: Flavor = .extended, srid: Int32? = nil
    ) -> [UInt8] {
        var w = _WKBWriter(little: byteOrder == .littleEndian, hasZ: geometry.hasZ, flavor: flavor)
        w.geometry(geometry, srid: flavor == .extended ? srid : nil)
        return w.out
    }
}

struct _WKBWriter {
    let little: Bool
    let hasZ: Bool
    let flavor: WKB.Flavor
    var out: [UInt8] = []

    init(little: Bool, hasZ: Bool, flavor: WKB.Flavor) {
        self.little = little
        self.hasZ = hasZ
        self.flavor = flavor
    }

    mutating func u32(_ v: UInt32) {
        let x = little ? v.littleEndian : v.bigEndian
        withUnsafeBytes(of: x) { out.append(contentsOf: $0) }
    }

    mutating func f64(_ v: Double) {
        let bits = v.bitPattern
        let x = little ? bits.littleEndian : bits.bigEndian
        withUnsafeBytes(of: x) { out.append(contentsOf: $0) }
    }

    mutating func header(_ code: UInt32, srid: Int32?) {
        out.append(little ? 1 : 0)
        var t = code
        switch flavor {
        case .iso: if hasZ { t += 1000 }
        case .extended:
            if hasZ { t |= 0x8000_0000 }
            if srid != nil { t |= 0x2000_0000 }
        }
        u32(t)
        if let srid { u32(UInt32(bitPattern: srid)) }
    }

    mutating func point(_ p: Point) {
        f64(p.x)
        f64(p.y)
        if hasZ { f64(p.z ?? 0) }
    }

    mutating func points(_ ps: [Point]) {
        u32(UInt32(ps.count))
        for p in ps { point(p) }
    }

    mutating func polygonBody(_ poly: Polygon) {
        u32(UInt32(1 + poly.holes.count))
        points(poly.exterior.points)
        for h in poly.holes { points(h.points) }
    }

    mutating func geometry(_ g: Geometry, srid: Int32?) {
        switch g {
        case .point(let p):
            header(1, srid: srid)
            point(p)
        case .lineString(let l):
            header(2, srid: srid)
            points(l.points)
        case .polygon(let poly):
            header(3, srid: srid)
            polygonBody(poly)
        case .multiPoint(let ps):
            header(4, srid: srid)
            u32(UInt32(ps.count))
            for p in ps {
                header(1, srid: nil)
                point(p)
            }
        case .multiLineString(let ls):
            header(5, srid: srid)
            u32(UInt32(ls.count))
            for l in ls {
                header(2, srid: nil)
                points(l.points)
            }
        case .multiPolygon(let polys):
            header(6, srid: srid)
            u32(UInt32(polys.count))
            for poly in polys {
                header(3, srid: nil)
                polygonBody(poly)
            }
        case .collection(let gs):
            header(7, srid: srid)
            u32(UInt32(gs.count))
            for g in gs { geometry(g, srid: nil) }
        }
    }
}

/// Recursive WKB reader: one frame per collection level, and every level counts against
/// `maxDepth` before the recursion, so the stack is bounded by the limits whatever the input.
struct _WKBReader {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    var little = true
    let limits: ParseLimits
    let maxDepth: Int
    /// Positions read or announced so far.
    var vertices = 0

    init(b: UnsafeBufferPointer<UInt8>, limits: ParseLimits) {
        self.b = b
        self.limits = limits
        self.maxDepth = limits.effectiveMaxDepth
    }

    /// Counts `n` more positions, announced at byte `at`.
    mutating func addVertices(_ n: Int, at: Int) throws(GeometryError) {
        if n > limits.maxVertices - vertices { throw limits.verticesError("WKB: ", at: at) }
        vertices += n
    }

    /// Refuses a geometry (header at byte `at`) whose WKT would open parentheses `levels` deep.
    func checkDepth(_ levels: Int, at: Int) throws(GeometryError) {
        if levels > maxDepth { throw limits.depthError("WKB: ", at: at) }
    }

    func fail(_ message: String, at offset: Int? = nil) -> GeometryError {
        GeometryError("WKB: " + message, offset: offset ?? i)
    }

    mutating func need(_ n: Int, _ what: String) throws(GeometryError) {
        if b.count - i < n {
            throw fail("truncated: \(what) needs \(n) bytes, only \(b.count - i) left")
        }
    }

    mutating func u32(_ what: String) throws(GeometryError) -> UInt32 {
        try need(4, what)
        var v: UInt32 = 0
        for k in 0..<4 { v |= UInt32(b[i + k]) << (8 * k) }
        i += 4
        return little ? v : v.byteSwapped
    }

    mutating func f64(_ what: String) throws(GeometryError) -> Double {
        try need(8, what)
        var v: UInt64 = 0
        for k in 0..<8 { v |= UInt64(b[i + k]) << (8 * k) }
        i += 8
        return Double(bitPattern: little ? v : v.byteSwapped)
    }

    /// A count that the remaining bytes can actually hold, so a corrupt count cannot make us
    /// reserve gigabytes.
    mutating func count(_ what: String, minBytesEach: Int) throws(GeometryError) -> Int {
        let at = i
        let n = Int(try u32("\(what) count"))
        if n * minBytesEach > b.count - i {
            throw fail("\(what) count \(n) exceeds the \(b.count - i) bytes left", at: at)
        }
        return n
    }

    struct Header {
        var type: UInt32
        var hasZ: Bool
        var hasM: Bool
    }

    mutating func header(srid: inout Int32?) throws(GeometryError) -> Header {
        try need(1, "byte order marker")
        switch b[i] {
        case 0: little = false
        case 1: little = true
        default: throw fail("bad byte order marker \(b[i]) (expected 0 or 1)")
        }
        i += 1
        let at = i
        let raw = try u32("geometry type")
        var hasZ = raw & 0x8000_0000 != 0
        var hasM = raw & 0x4000_0000 != 0
        if raw & 0x2000_0000 != 0 {
            srid = Int32(bitPattern: try u32("SRID"))
        }
        var t = raw & 0x0FFF_FFFF
        switch t / 1000 {
        case 0: break
        case 1: hasZ = true
        case 2: hasM = true
        case 3: hasZ = true; hasM = true
        default: throw fail("unknown geometry type code \(raw)", at: at)
        }
        t %= 1000
        guard (1...7).contains(t) else { throw fail("unknown geometry type code \(raw)", at: at) }
        return Header(type: t, hasZ: hasZ, hasM: hasM)
    }

    mutating func point(_ h: Header) throws(GeometryError) -> Point {
        let at = i
        let x = try f64("x"), y = try f64("y")
        let z: Double? = h.hasZ ? try f64("z") : nil
        if h.hasM { _ = try f64("m") }
        let p = Point(x: x, y: y, z: z)
        guard p.isFinite else { throw fail("non-finite coordinate (POINT EMPTY is not supported)", at: at) }
        return p
    }

    mutating func points(_ h: Header) throws(GeometryError) -> [Point] {
        let at = i
        let n = try count("point", minBytesEach: 16)
        try addVertices(n, at: at)
        var ps: [Point] = []
        ps.reserveCapacity(n)
        for _ in 0..<n { ps.append(try point(h)) }
        return ps
    }

    mutating func lineString(_ h: Header) throws(GeometryError) -> LineString {
        let at = i
        let ps = try points(h)
        do { return try LineString(ps) } catch { throw fail(error.message, at: at) }
    }

    mutating func polygon(_ h: Header) throws(GeometryError) -> Polygon {
        let n = try count("ring", minBytesEach: 4)
        if n == 0 { throw fail("POLYGON EMPTY is not supported") }
        var rings: [LinearRing] = []
        rings.reserveCapacity(n)
        for r in 0..<n {
            let at = i
            let ps = try points(h)
            do { rings.append(try LinearRing(ps)) } catch {
                throw fail("polygon ring \(r): \(error.message)", at: at)
            }
        }
        return Polygon(exterior: rings[0], holes: Array(rings.dropFirst()))
    }

    /// A member of a multi geometry: its own header, which must be of `expected` type.
    mutating func member(_ expected: UInt32, depth: Int) throws(GeometryError) -> (Header, Int) {
        let at = i
        var ignored: Int32? = nil
        let h = try header(srid: &ignored)
        if h.type != expected {
            throw fail("member of type code \(h.type) where \(expected) was expected", at: at)
        }
        return (h, at)
    }

    /// A geometry whose WKT would sit inside `depth` parentheses.
    mutating func geometry(srid: inout Int32?, depth: Int) throws(GeometryError) -> Geometry {
        let at = i
        let h = try header(srid: &srid)
        let savedLittle = little
        defer { little = savedLittle }
        switch h.type {
        case 1:
            try checkDepth(depth + 1, at: at)
            try addVertices(1, at: i)
            return .point(try point(h))
        case 2:
            try checkDepth(depth + 1, at: at)
            return .lineString(try lineString(h))
        case 3:
            try checkDepth(depth + 2, at: at)
            return .polygon(try polygon(h))
        case 4:
            let countAt = i
            let n = try count("point", minBytesEach: 21)
            if n > 0 { try checkDepth(depth + 2, at: at) }
            try addVertices(n, at: countAt)
            var ps: [Point] = []
            ps.reserveCapacity(n)
            for _ in 0..<n {
                let (mh, _) = try member(1, depth: depth)
                ps.append(try point(mh))
            }
            return .multiPoint(ps)
        case 5:
            let n = try count("line string", minBytesEach: 9)
            if n > 0 { try checkDepth(depth + 2, at: at) }
            var ls: [LineString] = []
            ls.reserveCapacity(n)
            for _ in 0..<n {
                let (mh, _) = try member(2, depth: depth)
                ls.append(try lineString(mh))
            }
            return .multiLineString(ls)
        case 6:
            let n = try count("polygon", minBytesEach: 9)
            if n > 0 { try checkDepth(depth + 3, at: at) }
            var polys: [Polygon] = []
            polys.reserveCapacity(n)
            for _ in 0..<n {
                let (mh, _) = try member(3, depth: depth)
                polys.append(try polygon(mh))
            }
            return .multiPolygon(polys)
        default:
            let n = try count("geometry", minBytesEach: 5)
            if n > 0 { try checkDepth(depth + 1, at: at) }
            var gs: [Geometry] = []
            gs.reserveCapacity(n)
            for _ in 0..<n {
                var ignored: Int32? = nil
                gs.append(try geometry(srid: &ignored, depth: depth + 1))
            }
            return .collection(gs)
        }
    }
}
