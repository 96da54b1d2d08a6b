/// Well-known text (OGC 06-103r4 / ISO 13249-3) reading and writing, with the PostGIS EWKT
/// `SRID=n;` prefix.
///
/// Reading accepts `Z`, `M` and `ZM` tags and untagged 3D/4D coordinates (`M` values are dropped:
/// nothing here carries a measure), `MULTIPOINT` with or without parentheses around each point,
/// and `EMPTY` for multi geometries and collections. `POINT EMPTY` and `LINESTRING EMPTY` are
/// refused because `Point` and `LineString` cannot be empty. Errors give the character offset.
public enum WKT {
    /// Parses WKT (optionally with an `SRID=n;` prefix, which is ignored; see `parseWithSRID`).
    /// - Parameter limits: nesting depth (one level per parenthesis), vertex and byte limits; see
    ///   `ParseLimits`.
    /// - Throws: `GeometryError` with `offset` = character offset of the problem.
    /// - Complexity: O(n) in the text length; stack O(`limits.effectiveMaxDepth`).
    public static func parse(_ text: String, limits: ParseLimits = .default) throws(GeometryError) -> Geometry {
        try parseWithSRID(text, limits: limits).geometry
    }

    /// Parses WKT or EWKT, returning the SRID of an `SRID=n;` prefix if there is one.
    /// - Parameter limits: see `parse(_:limits:)`.
    public static func parseWithSRID(
        _ text: String, limits: ParseLimits = .default
    ) throws(GeometryError) -> (geometry: Geometry, srid: Int32?) {
        let count = text.utf8.count
        if count > limits.maxBytes { throw limits.bytesError("WKT: ", count: count) }
        var text = text
        let result: Result<(Geometry, Int32?), GeometryError> = text.withUTF8 { buf in
            var p = _WKTParser(b: buf, limits: limits)
            do throws(GeometryError) {
                return .success(try p.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let r): return (r.0, r.1)
        case .failure(let e): throw e
        }
    }

    /// Writes `geometry` as WKT (`POINT (1 2)`, `POINT Z (1 2 3)`, `MULTIPOINT ((1 2), (3 4))`,
    /// …), prefixed with `SRID=n;` when `srid` is given. Coordinates print in the shortest form
    /// that reads back exactly. A geometry is written with Z only when every vertex has a `z`.
    /// - Complexity: O(n) in the vertex count.
    public static func write(_ geometry: Geometry, srid: Int32? = nil) -> String {
        var out = ""
        if let srid { out += "SRID=\(srid);" }
        _write(geometry, hasZ: geometry.hasZ, into: &out)
        return out
    }

    static func _write(_ g: Geometry, hasZ: Bool, into out: inout String) {
        out += g.typeName
        if hasZ { out += " Z" }
        func coord(_ p: Point) {
            out += _formatNumber(p.x)
            out += " "
            out += _formatNumber(p.y)
            if hasZ {
                out += " "
                out += _formatNumber(p.z ?? 0)
            }
        }
        func list(_ ps: [Point]) {
            out += "("
            for (i, p) in ps.enumerated() {
                if i > 0 { out += ", " }
                coord(p)
            }
            out += ")"
        }
        func polygon(_ poly: Polygon) {
            out += "("
            list(poly.exterior.points)
            for h in poly.holes {
                out += ", "
                list(h.points)
            }
            out += ")"
        }
        switch g {
        case .point(let p):
            out += " ("
            coord(p)
            out += ")"
        case .lineString(let l):
            out += " "
            list(l.points)
        case .polygon(let poly):
            out += " "
            polygon(poly)
        case .multiPoint(let ps):
            if ps.isEmpty { out += " EMPTY"; return }
            out += " ("
            for (i, p) in ps.enumerated() {
                if i > 0 { out += ", " }
                out += "("
                coord(p)
                out += ")"
            }
            out += ")"
        case .multiLineString(let ls):
            if ls.isEmpty { out += " EMPTY"; return }
            out += " ("
            for (i, l) in ls.enumerated() {
                if i > 0 { out += ", " }
                list(l.points)
            }
            out += ")"
        case .multiPolygon(let polys):
            if polys.isEmpty { out += " EMPTY"; return }
            out += " ("
            for (i, poly) in polys.enumerated() {
                if i > 0 { out += ", " }
                polygon(poly)
            }
            out += ")"
        case .collection(let gs):
            if gs.isEmpty { out += " EMPTY"; return }
            out += " ("
            for (i, g) in gs.enumerated() {
                if i > 0 { out += ", " }
                // Members keep their own dimension tag, as GEOS writes them.
                _write(g, hasZ: hasZ, into: &out)
            }
            out += ")"
        }
    }
}

extension Geometry {
    /// Parses WKT or EWKT (the SRID is dropped); see `WKT.parse(_:limits:)`.
    public init(wkt: String, limits: ParseLimits = .default) throws(GeometryError) {
        self = try WKT.parse(wkt, limits: limits)
    }

    /// This geometry as WKT; see `WKT.write(_:srid:)`.
    public var wkt: String { WKT.write(self) }
}

/// WKT parser over UTF-8 bytes; offsets in errors are byte offsets, which equal character offsets
/// for the ASCII that WKT is. It does not recurse (collections are read with an explicit stack),
/// and every `(` counts against `maxDepth`, which bounds what the geometry values built from it
/// need (their comparison, writing and destruction recurse per collection level).
struct _WKTParser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    let limits: ParseLimits
    let maxDepth: Int
    /// Parentheses open at `i`.
    var depth = 0
    /// Positions read so far.
    var vertices = 0

    init(b: UnsafeBufferPointer<UInt8>, limits: ParseLimits) {
        self.b = b
        self.limits = limits
        self.maxDepth = limits.effectiveMaxDepth
    }

    /// Coordinate layout declared by a tag or found from the first coordinate.
    enum Dim { case unknown, xy, xyz, xym, xyzm }

    func fail(_ message: String, at offset: Int? = nil) -> GeometryError {
        GeometryError("WKT: " + message, offset: offset ?? i)
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 32 || b[i] == 9 || b[i] == 10 || b[i] == 13 { i += 1 }
    }

    mutating func word() -> String {
        skipSpace()
        let s = i
        while i < b.count, (b[i] | 0x20) >= 97 && (b[i] | 0x20) <= 122 { i += 1 }
        return String(decoding: UnsafeBufferPointer(rebasing: b[s..<i]), as: UTF8.self).uppercased()
    }

    mutating func peek(_ c: UInt8) -> Bool {
        skipSpace()
        return i < b.count && b[i] == c
    }

    mutating func expect(_ c: UInt8) throws(GeometryError) {
        skipSpace()
        guard i < b.count else { throw fail("expected '\(Character(UnicodeScalar(c)))' but the text ended") }
        guard b[i] == c else {
            throw fail("expected '\(Character(UnicodeScalar(c)))', found '\(Character(UnicodeScalar(b[i])))'")
        }
        i += 1
    }

    /// Consumes a `(`, one level deeper.
    mutating func open() throws(GeometryError) {
        try expect(UInt8(ascii: "("))
        depth += 1
        if depth > maxDepth { throw limits.depthError("WKT: ", at: i - 1) }
    }

    /// Consumes a `)`, one level up.
    mutating func close() throws(GeometryError) {
        try expect(UInt8(ascii: ")"))
        depth -= 1
    }

    mutating func parseDocument() throws(GeometryError) -> (Geometry, Int32?) {
        skipSpace()
        var srid: Int32? = nil
        if i + 5 <= b.count, String(decoding: UnsafeBufferPointer(rebasing: b[i..<i + 5]), as: UTF8.self).uppercased() == "SRID=" {
            i += 5
            let s = i
            guard let v = _parseNumber(b, &i, lenient: true), v == v.rounded(), let sv = Int32(exactly: v) else {
                throw fail("expected an integer SRID after 'SRID='", at: s)
            }
            srid = sv
            try expect(UInt8(ascii: ";"))
        }
        let g = try parseGeometry()
        skipSpace()
        if i < b.count { throw fail("unexpected text after the geometry") }
        return (g, srid)
    }

    /// Parses one geometry. Collections nest through an explicit stack of their member lists, not
    /// through recursion, so the parser's own stack use is the same at any depth.
    mutating func parseGeometry() throws(GeometryError) -> Geometry {
        var collections: [[Geometry]] = []
        next: while true {
            guard var g = try geometryOrCollectionStart() else {
                collections.append([])
                continue next
            }
            // A finished geometry joins the innermost open collection; each collection whose
            // list ends with it is finished in turn.
            while !collections.isEmpty {
                collections[collections.count - 1].append(g)
                if try comma() { continue next }
                try close()
                g = .collection(collections.removeLast())
            }
            return g
        }
    }

    /// Reads a geometry, or the `GEOMETRYCOLLECTION (` that opens a non-empty collection (then
    /// `nil`: its members follow).
    mutating func geometryOrCollectionStart() throws(GeometryError) -> Geometry? {
        let start = i
        let type = word()
        if type.isEmpty {
            throw i < b.count ? fail("expected a geometry type such as POINT") : fail("empty input, expected a geometry")
        }
        var dim = Dim.unknown
        let save = i
        switch word() {
        case "Z": dim = .xyz
        case "M": dim = .xym
        case "ZM": dim = .xyzm
        default: i = save
        }
        let beforeEmpty = i
        if word() == "EMPTY" {
            switch type {
            case "MULTIPOINT": return .multiPoint([])
            case "MULTILINESTRING": return .multiLineString([])
            case "MULTIPOLYGON": return .multiPolygon([])
            case "GEOMETRYCOLLECTION": return .collection([])
            case "POINT", "LINESTRING", "POLYGON":
                throw fail("\(type) EMPTY is not supported (this library has no empty \(type.lowercased()))", at: start)
            default: break
            }
        }
        i = beforeEmpty
        switch type {
        case "POINT":
            try open()
            let p = try coordinate(&dim)
            try close()
            return .point(p)
        case "LINESTRING":
            return .lineString(try lineString(&dim))
        case "POLYGON":
            return .polygon(try polygon(&dim))
        case "MULTIPOINT":
            try open()
            var ps: [Point] = []
            repeat {
                if peek(UInt8(ascii: "(")) {
                    try open()
                    ps.append(try coordinate(&dim))
                    try close()
                } else {
                    // A bare point counts as the parenthesised one `write` produces, so what
                    // parses at a depth limit also parses at it after a round trip.
                    if depth + 1 > maxDepth { throw limits.depthError("WKT: ", at: i) }
                    ps.append(try coordinate(&dim))
                }
            } while try comma()
            try close()
            return .multiPoint(ps)
        case "MULTILINESTRING":
            try open()
            var ls: [LineString] = []
            repeat { ls.append(try lineString(&dim)) } while try comma()
            try close()
            return .multiLineString(ls)
        case "MULTIPOLYGON":
            try open()
            var ps: [Polygon] = []
            repeat { ps.append(try polygon(&dim)) } while try comma()
            try close()
            return .multiPolygon(ps)
        case "GEOMETRYCOLLECTION":
            try open()
            return nil
        default:
            throw fail("unknown geometry type '\(type)'", at: start)
        }
    }

    mutating func comma() throws(GeometryError) -> Bool {
        if peek(UInt8(ascii: ",")) {
            i += 1
            return true
        }
        return false
    }

    mutating func number() throws(GeometryError) -> Double {
        skipSpace()
        let s = i
        guard let v = _parseNumber(b, &i, lenient: true) else {
            if i >= b.count { throw fail("expected a number but the text ended") }
            throw fail("expected a number")
        }
        guard v.isFinite else { throw fail("number out of range", at: s) }
        return v
    }

    mutating func coordinate(_ dim: inout Dim) throws(GeometryError) -> Point {
        skipSpace()
        let s = i
        vertices += 1
        if vertices > limits.maxVertices { throw limits.verticesError("WKT: ", at: s) }
        let x = try number()
        let y = try number()
        var vals: (Double?, Double?) = (nil, nil)
        skipSpace()
        if i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: ")") {
            vals.0 = try number()
            skipSpace()
            if i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: ")") {
                vals.1 = try number()
            }
        }
        let count = 2 + (vals.0 == nil ? 0 : 1) + (vals.1 == nil ? 0 : 1)
        switch dim {
        case .unknown:
            dim = count == 2 ? .xy : (count == 3 ? .xyz : .xyzm)
        case .xy where count != 2, .xyz where count != 3, .xym where count != 3, .xyzm where count != 4:
            throw fail("coordinate has \(count) values, expected \(dim == .xy ? 2 : dim == .xyzm ? 4 : 3)", at: s)
        default: break
        }
        switch dim {
        case .xyz, .xyzm: return Point(x: x, y: y, z: vals.0)
        default: return Point(x: x, y: y)
        }
    }

    mutating func pointList(_ dim: inout Dim) throws(GeometryError) -> [Point] {
        try open()
        var ps: [Point] = []
        repeat { ps.append(try coordinate(&dim)) } while try comma()
        try close()
        return ps
    }

    mutating func lineString(_ dim: inout Dim) throws(GeometryError) -> LineString {
        skipSpace()
        let s = i
        let ps = try pointList(&dim)
        do { return try LineString(ps) } catch { throw fail(error.message, at: s) }
    }

    mutating func polygon(_ dim: inout Dim) throws(GeometryError) -> Polygon {
        try open()
        var rings: [LinearRing] = []
        repeat {
            skipSpace()
            let s = i
            let ps = try pointList(&dim)
            do { rings.append(try LinearRing(ps)) } catch {
                throw fail("polygon ring \(rings.count): \(error.message)", at: s)
            }
        } while try comma()
        try close()
        return Polygon(exterior: rings[0], holes: Array(rings.dropFirst()))
    }
}
