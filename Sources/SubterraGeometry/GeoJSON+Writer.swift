#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension GeoJSON {
    /// A geometry as GeoJSON text (`{"type":"Point","coordinates":[1,2]}`), compact, coordinates
    /// in the shortest form that reads back exactly, `z` written only when every vertex has one.
    /// - Complexity: O(n) in the vertex count.
    public static func write(_ geometry: Geometry) -> String {
        var out = ""
        _writeGeometry(geometry, hasZ: geometry.hasZ, into: &out)
        return out
    }

    /// A feature as GeoJSON text, properties in their stored order.
    public static func write(_ feature: GeoJSONFeature) -> String {
        var out = ""
        _writeFeature(feature, into: &out)
        return out
    }

    /// A feature collection as GeoJSON text, with the legacy `crs` member when it has one.
    public static func write(_ collection: GeoJSONFeatureCollection) -> String {
        var out = "{\"type\":\"FeatureCollection\""
        if let crs = collection.crs {
            out += ",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
            _writeString(crs.name, into: &out)
            out += "}}"
        }
        out += ",\"features\":["
        for (k, f) in collection.features.enumerated() {
            if k > 0 { out += "," }
            _writeFeature(f, into: &out)
        }
        out += "]}"
        return out
    }

    /// A JSON value as compact text; non-finite numbers (which JSON cannot hold) become `null`.
    public static func write(_ value: JSONValue) -> String {
        String(decoding: writeBytes(value), as: UTF8.self)
    }

    /// A JSON value as compact UTF-8 text, as `write(_:)` gives it, without making a String.
    public static func writeBytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        _writeValue(value, into: &out)
        return out
    }

    static func _writeFeature(_ f: GeoJSONFeature, into out: inout String) {
        out += "{\"type\":\"Feature\""
        if let id = f.id {
            out += ",\"id\":"
            _writeValue(id, into: &out)
        }
        out += ",\"geometry\":"
        if let g = f.geometry {
            _writeGeometry(g, hasZ: g.hasZ, into: &out)
        } else {
            out += "null"
        }
        out += ",\"properties\":"
        if let p = f.properties {
            _writeValue(.object(p), into: &out)
        } else {
            out += "null"
        }
        out += "}"
    }

    static func _writeString(_ s: String, into out: inout String) {
        var b: [UInt8] = []
        _writeString(s, into: &b)
        out += String(decoding: b, as: UTF8.self)
    }

    static func _writeValue(_ v: JSONValue, into out: inout String) {
        var b: [UInt8] = []
        b.reserveCapacity(256)
        _writeValue(v, into: &b)
        out += String(decoding: b, as: UTF8.self)
    }

    /// `s` as a JSON string literal, escaping only what JSON requires (`"`, `\`, controls),
    /// byte by byte into `out`: appending runs of a `String` one slice at a time cost a call
    /// per run, and answers quoted inside stored lines have a run every few bytes.
    static func _writeString(_ s: String, into out: inout [UInt8]) {
        out.append(0x22)
        // Most strings (keys, codes, owners) need no escape: copied whole after one scan.
        let plain: Bool? = s.utf8.withContiguousStorageIfAvailable { b in
            guard !b.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) else { return false }
            out.append(contentsOf: b)
            return true
        }
        if plain == true {
            out.append(0x22)
            return
        }
        for c in s.utf8 {
            switch c {
            case 0x22: out.append(0x5C); out.append(0x22)
            case 0x5C: out.append(0x5C); out.append(0x5C)
            case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(c >> 4)], hex[Int(c & 15)]])
            default: out.append(c)
            }
        }
        out.append(0x22)
    }

    static func _writeValue(_ v: JSONValue, into out: inout [UInt8]) {
        switch v {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let d): out.append(contentsOf: (d.isFinite ? _formatNumber(d) : "null").utf8)
        case .string(let s): _writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (k, e) in a.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                _writeValue(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (k, (key, value)) in o.members.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                _writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                _writeValue(value, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func _writeGeometry(_ g: Geometry, hasZ: Bool, into out: inout String) {
        func pos(_ p: Point) {
            out += "["
            out += _formatNumber(p.x)
            out += ","
            out += _formatNumber(p.y)
            if hasZ {
                out += ","
                out += _formatNumber(p.z ?? 0)
            }
            out += "]"
        }
        func list(_ ps: [Point]) {
            out += "["
            for (k, p) in ps.enumerated() {
                if k > 0 { out += "," }
                pos(p)
            }
            out += "]"
        }
        func poly(_ p: Polygon) {
            out += "["
            list(p.exterior.points)
            for h in p.holes {
                out += ","
                list(h.points)
            }
            out += "]"
        }
        switch g {
        case .point(let p):
            out += "{\"type\":\"Point\",\"coordinates\":"
            pos(p)
        case .lineString(let l):
            out += "{\"type\":\"LineString\",\"coordinates\":"
            list(l.points)
        case .polygon(let p):
            out += "{\"type\":\"Polygon\",\"coordinates\":"
            poly(p)
        case .multiPoint(let ps):
            out += "{\"type\":\"MultiPoint\",\"coordinates\":"
            list(ps)
        case .multiLineString(let ls):
            out += "{\"type\":\"MultiLineString\",\"coordinates\":["
            for (k, l) in ls.enumerated() {
                if k > 0 { out += "," }
                list(l.points)
            }
            out += "]"
        case .multiPolygon(let ps):
            out += "{\"type\":\"MultiPolygon\",\"coordinates\":["
            for (k, p) in ps.enumerated() {
                if k > 0 { out += "," }
                poly(p)
            }
            out += "]"
        case .collection(let gs):
            out += "{\"type\":\"GeometryCollection\",\"geometries\":["
            for (k, g) in gs.enumerated() {
                if k > 0 { out += "," }
                _writeGeometry(g, hasZ: hasZ, into: &out)
            }
            out += "]"
        }
        out += "}"
    }
}

/// Writes a feature collection to a file one feature at a time, so a million features never sit
/// in memory as one string. Output is buffered (64 KiB) and identical to
/// `GeoJSON.write(_: GeoJSONFeatureCollection)`.
///
/// ```swift
/// let w = try GeoJSONFileWriter(path: "/tmp/out.geojson", crs: GeoJSONCRS(epsg: 4549))
/// for f in features { try w.write(f) }
/// try w.close()
/// ```
/// Not thread-safe: one writer per task.
public final class GeoJSONFileWriter {
    private var file: UnsafeMutablePointer<FILE>?
    private var buffer = ""
    private var count = 0
    private let path: String

    /// Creates (or truncates) `path` and writes the collection header.
    /// - Throws: `GeometryError` if the file cannot be opened.
    public init(path: String, crs: GeoJSONCRS? = nil) throws(GeometryError) {
        self.path = path
        guard let f = fopen(path, "wb") else { throw GeometryError("GeoJSON: cannot create \(path) (errno \(errno))") }
        file = f
        buffer = "{\"type\":\"FeatureCollection\""
        if let crs {
            buffer += ",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
            GeoJSON._writeString(crs.name, into: &buffer)
            buffer += "}}"
        }
        buffer += ",\"features\":["
    }

    deinit {
        if let file { fclose(file) }
    }

    /// Number of features written so far.
    public var featureCount: Int { count }

    /// Appends one feature. O(size of the feature), amortised.
    public func write(_ feature: GeoJSONFeature) throws(GeometryError) {
        guard file != nil else { throw GeometryError("GeoJSON: writer for \(path) is closed") }
        if count > 0 { buffer += "," }
        GeoJSON._writeFeature(feature, into: &buffer)
        count += 1
        if buffer.utf8.count >= 1 << 16 { try flush() }
    }

    /// Writes the closing brackets and closes the file; the writer cannot be used afterwards.
    public func close() throws(GeometryError) {
        guard let f = file else { return }
        buffer += "]}"
        try flush()
        file = nil
        if fclose(f) != 0 { throw GeometryError("GeoJSON: cannot close \(path) (errno \(errno))") }
    }

    private func flush() throws(GeometryError) {
        guard let f = file else { return }
        let n = buffer.utf8.count
        let written = buffer.withUTF8 { fwrite($0.baseAddress, 1, n, f) }
        buffer.removeAll(keepingCapacity: true)
        if written != n { throw GeometryError("GeoJSON: short write to \(path) (errno \(errno))") }
    }
}
