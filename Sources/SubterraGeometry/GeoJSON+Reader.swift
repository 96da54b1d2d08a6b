#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// GeoJSON (RFC 7946) reading and writing.
///
/// The reader is a hand-written single-pass parser over UTF-8 bytes: no Foundation, no DOM of the
/// document. Coordinates go into reusable scratch buffers and become `Geometry` values directly;
/// feature collections can be streamed one feature at a time (`forEachFeature`), so a file of a
/// million features never holds more than one feature's values. Errors say the JSON path, the
/// feature index and the byte offset: `features[1234].geometry.coordinates[3][1]: expected number`.
public enum GeoJSON {
    /// Parses a whole GeoJSON document (geometry, feature or feature collection).
    /// - Parameter limits: nesting depth (one level per JSON array or object), vertex and byte
    ///   limits; see `ParseLimits`.
    /// - Throws: `GeometryError` with `path`, `featureIndex` and byte `offset`.
    /// - Complexity: O(n) in the byte count; stack O(`limits.effectiveMaxDepth`).
    public static func parse(_ bytes: [UInt8], limits: ParseLimits = .default) throws(GeometryError) -> GeoJSONObject {
        let r: Result<GeoJSONObject, GeometryError> = bytes.withUnsafeBufferPointer { buf in
            do throws(GeometryError) {
                return .success(try parse(buffer: buf, limits: limits))
            } catch {
                return .failure(error)
            }
        }
        return try r.get()
    }

    /// Parses a whole GeoJSON document from text; see `parse(_:limits:)`.
    public static func parse(_ text: String, limits: ParseLimits = .default) throws(GeometryError) -> GeoJSONObject {
        let count = text.utf8.count
        if count > limits.maxBytes { throw limits.bytesError("", count: count) }
        return try parse(Array(text.utf8), limits: limits)
    }

    /// Parses a whole GeoJSON document from a buffer the caller owns (for example a mapped file);
    /// see `parse(_:limits:)`.
    public static func parse(
        buffer: UnsafeBufferPointer<UInt8>, limits: ParseLimits = .default
    ) throws(GeometryError) -> GeoJSONObject {
        if buffer.count > limits.maxBytes { throw limits.bytesError("", count: buffer.count) }
        var p = _GeoJSONParser(b: buffer, limits: limits)
        return try p.parseDocument(streaming: nil)
    }

    /// Parses a GeoJSON geometry object (`{"type": "Point", "coordinates": [1, 2]}`); see
    /// `parse(_:limits:)`.
    public static func parseGeometry(_ text: String, limits: ParseLimits = .default) throws(GeometryError) -> Geometry {
        switch try parse(text, limits: limits) {
        case .geometry(let g): return g
        default: throw GeometryError("GeoJSON: expected a geometry object, found a feature or collection", offset: 0)
        }
    }

    /// Streams the features of a feature collection in `buffer`, calling `body(index, feature)` for
    /// each in document order without building the collection. A lone `Feature` document yields
    /// one feature. Returns the `crs` member, wherever it stood.
    /// - Parameter limits: the depth limit and, per feature, the vertex limit (`maxBytes` does not
    ///   apply: the input is streamed, so its size does not matter); see `ParseLimits`.
    /// - Throws: a parse `GeometryError`, or whatever `body` throws (which stops the read).
    /// - Complexity: O(n) in the byte count; memory O(largest feature).
    public static func forEachFeature(
        in buffer: UnsafeBufferPointer<UInt8>, limits: ParseLimits = .default,
        _ body: (Int, GeoJSONFeature) throws -> Void
    ) throws -> GeoJSONHeader {
        try forEachFeatureWithCRS(in: buffer, limits: limits, release: nil) { i, f, _ in try body(i, f) }
    }

    /// Streams the features of the file at `path` (memory-mapped, so the file is paged in, not
    /// copied); see `forEachFeature(in:_:)`.
    public static func forEachFeature(
        inFile path: String, limits: ParseLimits = .default, _ body: (Int, GeoJSONFeature) throws -> Void
    ) throws -> GeoJSONHeader {
        try forEachFeatureWithCRS(inFile: path, limits: limits) { i, f, _ in try body(i, f) }
    }

    /// Streams the features of the file at `path` like `forEachFeature(inFile:_:)`, also handing
    /// each feature the top-level `crs` member as far as it was read (nil when none came before
    /// the `features` array; the returned header has the member wherever it stood, so a caller
    /// can tell when it came too late).
    ///
    /// The file is memory-mapped and the pages behind the cursor are released (`madvise
    /// MADV_DONTNEED`) every 16 MiB, so resident memory stays O(16 MiB + largest feature)
    /// whatever the file size; the pages are clean file pages, so nothing is lost.
    /// - Complexity: O(n) in the byte count.
    public static func forEachFeatureWithCRS(
        inFile path: String, limits: ParseLimits = .default,
        _ body: (Int, GeoJSONFeature, GeoJSONCRS?) throws -> Void
    ) throws -> GeoJSONHeader {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw GeometryError("GeoJSON: cannot open \(path) (errno \(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw GeometryError("GeoJSON: cannot stat \(path) (errno \(errno))") }
        let size = Int(st.st_size)
        if size == 0 {
            return try forEachFeatureWithCRS(in: UnsafeBufferPointer(start: nil, count: 0), limits: limits, release: nil, body)
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw GeometryError("GeoJSON: cannot map \(path) (errno \(errno))")
        }
        defer { munmap(base, size) }
        _ = madvise(base, size, MADV_SEQUENTIAL)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let step = 16 << 20
        var released = 0
        let buf = UnsafeBufferPointer(start: base.assumingMemoryBound(to: UInt8.self), count: size)
        return try forEachFeatureWithCRS(in: buf, limits: limits, release: { offset in
            let upTo = offset / page * page
            guard upTo - released >= step else { return }
            _ = madvise(base + released, upTo - released, MADV_DONTNEED)
            released = upTo
        }, body)
    }

    /// The buffer form of `forEachFeatureWithCRS(inFile:_:)`; `release` is called with the byte
    /// offset past each feature, before `body` (the bytes before it are never read again).
    static func forEachFeatureWithCRS(
        in buffer: UnsafeBufferPointer<UInt8>, limits: ParseLimits, release: ((Int) -> Void)?,
        _ body: (Int, GeoJSONFeature, GeoJSONCRS?) throws -> Void
    ) throws -> GeoJSONHeader {
        var p = _GeoJSONParser(b: buffer, limits: limits)
        p.verticesPerFeature = true
        let stream = _GeoJSONStreamState()
        p.stream = stream
        var count = 0
        var bodyError: (any Error)? = nil
        let parsed: Result<GeoJSONObject, GeometryError> = withoutActuallyEscaping(body) { body in
            let sink: (Int, GeoJSONFeature) -> Bool = { i, f in
                do {
                    release?(stream.offset)
                    try body(i, f, stream.crs)
                    count = i + 1
                    return true
                } catch {
                    bodyError = error
                    return false
                }
            }
            do throws(GeometryError) {
                return .success(try p.parseDocument(streaming: sink))
            } catch {
                return .failure(error)
            }
        }
        if let bodyError { throw bodyError }
        let doc = try parsed.get()
        switch doc {
        case .featureCollection(let fc): return GeoJSONHeader(crs: fc.crs, featureCount: count)
        case .feature(let f):
            try body(0, f, p.topCRS)
            return GeoJSONHeader(crs: p.topCRS, featureCount: 1)
        case .geometry:
            throw GeometryError("GeoJSON: expected a FeatureCollection or Feature, found a bare geometry", offset: 0)
        }
    }
}

/// What a streaming reader knows when it hands over a feature: the top-level `crs` member read
/// so far and the byte offset just past the feature. A class, so the sink reads it while the
/// parser (a struct being mutated) is busy.
final class _GeoJSONStreamState {
    var crs: GeoJSONCRS?
    var offset = 0
}

/// Which members a GeoJSON object may use, by the context it appears in.
enum _GeoObjectMode { case top, feature, geometry }

/// Members of one GeoJSON object, gathered in any order before the object is interpreted (RFC 7946
/// lets `type` come after `coordinates`).
struct _GeoObjectState {
    var type: String? = nil
    var typeOffset = 0
    var id: JSONValue? = nil
    var hasGeometry = false
    var geometry: Geometry? = nil
    var properties: JSONObject? = nil
    var coordinatesDepth: Int? = nil
    var coordinatesOffset = 0
    var geometries: [Geometry]? = nil
    var features: [GeoJSONFeature]? = nil
    var crs: GeoJSONCRS? = nil
}

struct _GeoJSONParser {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0
    /// Scratch for the coordinates of the geometry being read: every position, then the end index
    /// of each depth-2 array in `positions`, of each depth-3 array in `ends1`, of each depth-4 in
    /// `ends2`. Reused across geometries, so steady-state parsing allocates only the results.
    var positions: [Point] = []
    var ends1: [Int] = []
    var ends2: [Int] = []
    var ends3: [Int] = []
    var topCRS: GeoJSONCRS? = nil
    /// JSON arrays and objects open at `i`.
    var nesting = 0
    let limits: ParseLimits
    let maxDepth: Int
    /// Positions read so far (in the current feature when `verticesPerFeature`).
    var vertices = 0
    /// Whether the vertex limit applies per feature (streaming) rather than per document.
    var verticesPerFeature = false
    /// Updated before each streamed feature is handed over (see `forEachFeatureWithCRS`).
    var stream: _GeoJSONStreamState? = nil

    init(b: UnsafeBufferPointer<UInt8>, limits: ParseLimits) {
        self.b = b
        self.limits = limits
        self.maxDepth = limits.effectiveMaxDepth
    }

    // MARK: Lexing

    func fail(_ message: String, at offset: Int? = nil) -> GeometryError {
        GeometryError(message, offset: offset ?? i, path: "")
    }

    @inline(__always)
    mutating func skipSpace() {
        while i < b.count {
            let c = b[i]
            if c == 32 || c == 10 || c == 13 || c == 9 { i += 1 } else { return }
        }
    }

    /// What the next value is, for error messages.
    func found() -> String {
        guard i < b.count else { return "end of input" }
        switch b[i] {
        case UInt8(ascii: "\""): return "string"
        case UInt8(ascii: "{"): return "object"
        case UInt8(ascii: "["): return "array"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "boolean"
        case UInt8(ascii: "n"): return "null"
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return "number"
        default: return "'\(Character(UnicodeScalar(b[i])))'"
        }
    }

    @inline(__always)
    mutating func peek() -> UInt8 {
        skipSpace()
        return i < b.count ? b[i] : 0
    }

    @inline(__always)
    mutating func expect(_ c: UInt8, _ what: String) throws(GeometryError) {
        skipSpace()
        guard i < b.count, b[i] == c else {
            throw fail("expected \(what), found \(found())")
        }
        i += 1
    }

    /// After a member or element: `true` for `,` (more follow), `false` for the closing bracket.
    @inline(__always)
    mutating func more(_ close: UInt8) throws(GeometryError) -> Bool {
        let c = peek()
        if c == UInt8(ascii: ",") {
            i += 1
            return true
        }
        if c == close {
            i += 1
            return false
        }
        throw fail("expected ',' or '\(Character(UnicodeScalar(close)))', found \(found())")
    }

    mutating func literal(_ word: StaticString) throws(GeometryError) {
        let n = word.utf8CodeUnitCount
        let s = i
        guard b.count - i >= n else { throw fail("invalid literal", at: s) }
        let w = word.utf8Start
        for k in 0..<n where b[i + k] != w[k] { throw fail("invalid literal", at: s) }
        i += n
    }

    mutating func number() throws(GeometryError) -> Double {
        skipSpace()
        let s = i
        guard let v = _parseNumber(b, &i, lenient: false) else {
            throw fail(found() == "number" ? "invalid number" : "expected number, found \(found())", at: s)
        }
        // strtod overflows to infinity; a coordinate like 1e999 is an error, not a position.
        guard v.isFinite else { throw fail("number out of range", at: s) }
        return v
    }

    /// A JSON string; the fast path (no escapes) is one scan and one `String(decoding:)`.
    mutating func string() throws(GeometryError) -> String {
        skipSpace()
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected string, found \(found())") }
        i += 1
        let s = i
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                let str = String(decoding: UnsafeBufferPointer(rebasing: b[s..<i]), as: UTF8.self)
                i += 1
                return str
            }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            i += 1
        }
        if i >= b.count { throw fail("unterminated string", at: s - 1) }
        return try escapedString(from: s)
    }

    /// Slow path for strings with escapes.
    mutating func escapedString(from s: Int) throws(GeometryError) -> String {
        var bytes = Array(UnsafeBufferPointer(rebasing: b[s..<i]))
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: bytes, as: UTF8.self)
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                bytes.append(c)
                i += 1
                continue
            }
            let at = i
            i += 1
            guard i < b.count else { break }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case UInt8(ascii: "/"): bytes.append(0x2F)
            case UInt8(ascii: "b"): bytes.append(0x08)
            case UInt8(ascii: "f"): bytes.append(0x0C)
            case UInt8(ascii: "n"): bytes.append(0x0A)
            case UInt8(ascii: "r"): bytes.append(0x0D)
            case UInt8(ascii: "t"): bytes.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(at: at)
                if scalar >= 0xD800 && scalar < 0xDC00 {
                    // High surrogate: a low one must follow to make one scalar.
                    if b.count - i >= 6, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                        i += 2
                        let low = try hex4(at: i - 2)
                        guard low >= 0xDC00 && low < 0xE000 else { throw fail("invalid surrogate pair", at: at) }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        throw fail("unpaired surrogate", at: at)
                    }
                } else if scalar >= 0xDC00 && scalar < 0xE000 {
                    throw fail("unpaired surrogate", at: at)
                }
                guard let u = UnicodeScalar(scalar) else { throw fail("invalid \\u escape", at: at) }
                bytes.append(contentsOf: Array(String(Character(u)).utf8))
            default:
                throw fail("invalid escape '\\\(Character(UnicodeScalar(e)))'", at: at)
            }
        }
        throw fail("unterminated string", at: s - 1)
    }

    mutating func hex4(at: Int) throws(GeometryError) -> UInt32 {
        guard b.count - i >= 4 else { throw fail("truncated \\u escape", at: at) }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - 48)
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - 87)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - 55)
            default: throw fail("invalid \\u escape", at: at)
            }
            v = v << 4 | d
            i += 1
        }
        return v
    }

    // MARK: Generic values

    /// Called before the `[` or `{` of a nested value: one level deeper, refused past the depth
    /// limit (the readers recurse once per level). Pair with `leave()`.
    mutating func enter() throws(GeometryError) {
        skipSpace()
        nesting += 1
        if nesting > maxDepth { throw limits.depthError("", at: i) }
    }

    /// One level up, after the closing bracket.
    @inline(__always)
    mutating func leave() { nesting -= 1 }

    mutating func value() throws(GeometryError) -> JSONValue {
        switch peek() {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return .object(try object())
        case UInt8(ascii: "["):
            try enter()
            defer { leave() }
            i += 1
            var a: [JSONValue] = []
            if peek() == UInt8(ascii: "]") {
                i += 1
                return .array(a)
            }
            repeat {
                do { a.append(try value()) } catch { throw error.prefixed(index: a.count) }
            } while try more(UInt8(ascii: "]"))
            return .array(a)
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            let s = i
            guard let v = _parseNumber(b, &i, lenient: false) else {
                throw fail(found() == "number" ? "invalid number" : "expected value, found \(found())")
            }
            guard v.isFinite else { throw fail("number out of range", at: s) }
            return .number(v)
        }
    }

    mutating func object() throws(GeometryError) -> JSONObject {
        try enter()
        defer { leave() }
        try expect(UInt8(ascii: "{"), "object")
        var o = JSONObject()
        if peek() == UInt8(ascii: "}") {
            i += 1
            return o
        }
        repeat {
            let k = try string()
            try expect(UInt8(ascii: ":"), "':'")
            do { o.append(k, try value()) } catch { throw error.prefixed(key: k) }
        } while try more(UInt8(ascii: "}"))
        return o
    }

    /// Skips any value without building it (foreign members, `bbox`).
    mutating func skipValue() throws(GeometryError) {
        switch peek() {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["): _ = try value()
        default: _ = try value()
        }
    }

    // MARK: Coordinates

    /// Reads a nested coordinate array into the scratch buffers and returns its depth (1 for a
    /// position, 2 for a list of positions, …; 0 for an empty top-level array).
    mutating func coordinates() throws(GeometryError) -> Int {
        positions.removeAll(keepingCapacity: true)
        ends1.removeAll(keepingCapacity: true)
        ends2.removeAll(keepingCapacity: true)
        ends3.removeAll(keepingCapacity: true)
        try enter()
        defer { leave() }
        try expect(UInt8(ascii: "["), "array")
        if peek() == UInt8(ascii: "]") {
            i += 1
            return 0
        }
        return try coordinateArray(level: 0)
    }

    /// The body of a coordinate array whose `[` was consumed.
    mutating func coordinateArray(level: Int) throws(GeometryError) -> Int {
        if peek() != UInt8(ascii: "[") {
            // A position: two or three numbers (extra ones, like M, are allowed and dropped).
            let start = i
            vertices += 1
            if vertices > limits.maxVertices { throw limits.verticesError("", at: start) }
            var vals = (0.0, 0.0, 0.0)
            var n = 0
            repeat {
                let v: Double
                do { v = try number() } catch { throw error.prefixed(index: n) }
                switch n {
                case 0: vals.0 = v
                case 1: vals.1 = v
                case 2: vals.2 = v
                default: break
                }
                n += 1
            } while try more(UInt8(ascii: "]"))
            if n < 2 { throw fail("position needs at least 2 numbers, found \(n)", at: i - 1) }
            positions.append(Point(x: vals.0, y: vals.1, z: n >= 3 ? vals.2 : nil))
            return 1
        }
        if level >= 4 { throw fail("coordinates nested deeper than a MultiPolygon") }
        var depth = 0
        var k = 0
        repeat {
            let at = i
            do throws(GeometryError) {
                try enter()
                try expect(UInt8(ascii: "["), "array")
                if peek() == UInt8(ascii: "]") { throw fail("empty coordinate array", at: at) }
                let d = try coordinateArray(level: level + 1)
                leave()
                if depth == 0 {
                    depth = d
                } else if d != depth {
                    throw fail("inconsistent nesting: array of depth \(d) among siblings of depth \(depth)", at: at)
                }
            } catch {
                throw error.prefixed(index: k)
            }
            k += 1
        } while try more(UInt8(ascii: "]"))
        switch depth {
        case 1: ends1.append(positions.count)
        case 2: ends2.append(ends1.count)
        case 3: ends3.append(ends2.count)
        default: break
        }
        return depth + 1
    }

    /// Builds the geometry of `type` from the scratch buffers; errors are relative to `coordinates`.
    func buildGeometry(_ type: String, depth: Int) throws(GeometryError) -> Geometry {
        let expected: Int
        switch type {
        case "Point": expected = 1
        case "LineString", "MultiPoint": expected = 2
        case "Polygon", "MultiLineString": expected = 3
        case "MultiPolygon": expected = 4
        default: throw fail("unknown geometry type \"\(type)\"")
        }
        if depth == 0 {
            switch type {
            case "MultiPoint": return .multiPoint([])
            case "MultiLineString": return .multiLineString([])
            case "MultiPolygon": return .multiPolygon([])
            default: throw GeometryError("\(type) needs coordinates, found an empty array", path: "")
            }
        }
        guard depth == expected else {
            throw GeometryError(
                "\(type) needs coordinates nested \(expected) deep, found \(depth)", path: "")
        }
        func ring(_ r: Int, _ lo: Int, _ hi: Int) throws(GeometryError) -> LinearRing {
            do { return try LinearRing(Array(positions[lo..<hi])) } catch {
                throw GeometryError(error.message, path: "[\(r)]")
            }
        }
        switch type {
        case "Point":
            return .point(positions[0])
        case "MultiPoint":
            return .multiPoint(positions)
        case "LineString":
            do { return .lineString(try LineString(positions)) } catch {
                throw GeometryError(error.message, path: "")
            }
        case "MultiLineString":
            var ls: [LineString] = []
            ls.reserveCapacity(ends1.count)
            var lo = 0
            for (k, hi) in ends1.enumerated() {
                do { ls.append(try LineString(Array(positions[lo..<hi]))) } catch {
                    throw GeometryError(error.message, path: "[\(k)]")
                }
                lo = hi
            }
            return .multiLineString(ls)
        case "Polygon":
            var rings: [LinearRing] = []
            var lo = 0
            for (k, hi) in ends1.enumerated() {
                rings.append(try ring(k, lo, hi))
                lo = hi
            }
            return .polygon(Polygon(exterior: rings[0], holes: Array(rings.dropFirst())))
        default:  // MultiPolygon
            var polys: [Polygon] = []
            var lo = 0
            var rlo = 0
            for (pk, rhi) in ends2.enumerated() {
                var rings: [LinearRing] = []
                for rk in rlo..<rhi {
                    let hi = ends1[rk]
                    do { rings.append(try ring(rk - rlo, lo, hi)) } catch { throw error.prefixed(index: pk) }
                    lo = hi
                }
                rlo = rhi
                polys.append(Polygon(exterior: rings[0], holes: Array(rings.dropFirst())))
            }
            return .multiPolygon(polys)
        }
    }

    // MARK: GeoJSON objects

    /// Reads one GeoJSON object's members into a state; `sink` streams `features` elements.
    mutating func geoObject(
        _ mode: _GeoObjectMode, streaming sink: ((Int, GeoJSONFeature) -> Bool)? = nil
    ) throws(GeometryError) -> _GeoObjectState {
        try enter()
        defer { leave() }
        try expect(UInt8(ascii: "{"), "object")
        var st = _GeoObjectState()
        if peek() == UInt8(ascii: "}") {
            i += 1
            return st
        }
        repeat {
            let key = try string()
            try expect(UInt8(ascii: ":"), "':'")
            skipSpace()
            let valueStart = i
            do throws(GeometryError) {
                switch key {
                case "type":
                    skipSpace()
                    st.typeOffset = i
                    st.type = try string()
                case "coordinates" where mode != .feature:
                    skipSpace()
                    st.coordinatesOffset = i
                    // Built in `finishGeometry` once the whole object (and so `type`) is read;
                    // the scratch keeps the coordinates until then.
                    st.coordinatesDepth = try coordinates()
                case "geometries" where mode != .feature:
                    try enter()
                    defer { leave() }
                    try expect(UInt8(ascii: "["), "array")
                    var gs: [Geometry] = []
                    if peek() == UInt8(ascii: "]") {
                        i += 1
                    } else {
                        repeat {
                            do { gs.append(try geometryObject()) } catch { throw error.prefixed(index: gs.count) }
                        } while try more(UInt8(ascii: "]"))
                    }
                    st.geometries = gs
                case "geometry" where mode != .geometry:
                    st.hasGeometry = true
                    if peek() == UInt8(ascii: "n") {
                        try literal("null")
                        st.geometry = nil
                    } else {
                        st.geometry = try geometryObject()
                    }
                case "properties" where mode != .geometry:
                    if peek() == UInt8(ascii: "n") {
                        try literal("null")
                        st.properties = nil
                    } else {
                        st.properties = try object()
                    }
                case "id" where mode != .geometry:
                    let c = peek()
                    let at = i
                    let v = try value()
                    guard c == UInt8(ascii: "\"") || v.numberValue != nil else {
                        throw fail("expected string or number", at: at)
                    }
                    st.id = v
                case "features" where mode == .top:
                    try features(into: &st, sink: sink)
                case "crs" where mode == .top:
                    let at = i
                    let v = try value()
                    guard let name = v.objectValue?["properties"]?.objectValue?["name"]?.stringValue else {
                        throw fail("expected {\"type\": \"name\", \"properties\": {\"name\": ...}}", at: at)
                    }
                    st.crs = GeoJSONCRS(name: name)
                    topCRS = st.crs
                default:
                    try skipValue()
                }
            } catch {
                var e = error.prefixed(key: key)
                if e.offset == nil { e.offset = valueStart }
                throw e
            }
        } while try more(UInt8(ascii: "}"))
        return st
    }

    mutating func features(into st: inout _GeoObjectState, sink: ((Int, GeoJSONFeature) -> Bool)?) throws(GeometryError) {
        try enter()
        defer { leave() }
        try expect(UInt8(ascii: "["), "array")
        var collected: [GeoJSONFeature] = []
        var k = 0
        if peek() == UInt8(ascii: "]") {
            i += 1
        } else {
            repeat {
                if verticesPerFeature { vertices = 0 }
                let f: GeoJSONFeature
                do { f = try feature() } catch {
                    var e = error.prefixed(index: k)
                    e.featureIndex = k
                    throw e
                }
                if let sink {
                    if let stream {
                        stream.crs = topCRS
                        stream.offset = i
                    }
                    if !sink(k, f) { throw fail("stopped by the caller") }
                } else {
                    collected.append(f)
                }
                k += 1
            } while try more(UInt8(ascii: "]"))
        }
        st.features = collected
    }

    mutating func feature() throws(GeometryError) -> GeoJSONFeature {
        skipSpace()
        let at = i
        let st = try geoObject(.feature)
        guard let type = st.type else { throw fail("missing member \"type\"", at: at) }
        guard type == "Feature" else {
            throw GeometryError("expected \"Feature\", found \"\(type)\"", offset: st.typeOffset, path: "type")
        }
        return GeoJSONFeature(id: st.id, geometry: st.geometry, properties: st.properties)
    }

    mutating func geometryObject() throws(GeometryError) -> Geometry {
        skipSpace()
        let at = i
        let st = try geoObject(.geometry)
        return try finishGeometry(st, at: at)
    }

    mutating func finishGeometry(_ st: _GeoObjectState, at: Int) throws(GeometryError) -> Geometry {
        guard let type = st.type else { throw fail("missing member \"type\"", at: at) }
        if type == "GeometryCollection" {
            guard let gs = st.geometries else { throw fail("GeometryCollection without \"geometries\"", at: at) }
            return .collection(gs)
        }
        guard let depth = st.coordinatesDepth else {
            switch type {
            case "Point", "LineString", "Polygon", "MultiPoint", "MultiLineString", "MultiPolygon":
                throw fail("\(type) without \"coordinates\"", at: at)
            default:
                throw GeometryError("unknown geometry type \"\(type)\"", offset: st.typeOffset, path: "type")
            }
        }
        // `type` came after `coordinates`: the scratch still holds them (nothing else parsed
        // coordinates since, as geometry objects have no other coordinate-bearing members).
        do { return try buildGeometry(type, depth: depth) } catch {
            var e = error.prefixed(key: error.message.hasPrefix("unknown") ? "type" : "coordinates")
            e.offset = error.message.hasPrefix("unknown") ? st.typeOffset : st.coordinatesOffset
            throw e
        }
    }

    mutating func parseDocument(streaming sink: ((Int, GeoJSONFeature) -> Bool)?) throws(GeometryError) -> GeoJSONObject {
        // A UTF-8 byte order mark is not JSON, but Windows tools write one.
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { i = 3 }
        skipSpace()
        let at = i
        if i >= b.count { throw fail("empty input, expected a GeoJSON object") }
        let st = try geoObject(.top, streaming: sink)
        skipSpace()
        if i < b.count { throw fail("unexpected \(found()) after the GeoJSON object") }
        guard let type = st.type else { throw fail("missing member \"type\"", at: at) }
        // "features" belongs to a FeatureCollection. On any other object it is refused, read
        // whole or streamed alike: streaming meets the member before it may know the type, and
        // would otherwise yield its elements as features of a lone Feature or a geometry.
        if type != "FeatureCollection", st.features != nil {
            throw GeometryError("a \(type) has no member \"features\" (only a FeatureCollection has)", offset: st.typeOffset, path: "features")
        }
        switch type {
        case "FeatureCollection":
            return .featureCollection(GeoJSONFeatureCollection(features: st.features ?? [], crs: st.crs))
        case "Feature":
            return .feature(GeoJSONFeature(id: st.id, geometry: st.geometry, properties: st.properties))
        default:
            return .geometry(try finishGeometry(st, at: at))
        }
    }
}
