import Foundation
import SubterraGEOS
import SubterraGeometry

/// A query geometry as the user gave it: the geometry, the CRS it is in (when the input says),
/// and the feature's properties (a dig site's `depth_m`, a route's `layer`, …).
public struct InputGeometry {
    public var geometry: Geometry
    /// From `--crs`, else the feature's `crs` member or `crs_name` property, else the
    /// collection's `crs` member; nil means the map CRS.
    public var crs: String?
    /// The feature's properties as `JSONSerialization` reads them (empty for a bare geometry).
    public var properties: [String: Any] = [:]
    /// Where it came from, for error messages (`"@sites.geojson feature 2"`, `"WKT argument"`).
    public var origin: String

    /// Property `key` as a number (a JSON number, or a string holding one).
    public func number(_ key: String) -> Double? {
        switch properties[key] {
        case let n as NSNumber: return n.doubleValue
        case let s as String: return Double(s)
        default: return nil
        }
    }

    /// Property `key` as a string (a JSON string, or a number's text).
    public func string(_ key: String) -> String? {
        switch properties[key] {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }
}

/// Parses WKT or GeoJSON text (either, by content) into a validated query geometry, within
/// ``RequestLimits``.
///
/// Text only: a geometry starting with `@` is refused, whoever sends it. Reading `@file` is the
/// command line's business (it reads the file, then hands its text here), so no request can make
/// the tool open a local file, and no file's content can reach an error message.
public enum GeometryInput {
    /// - Parameters:
    ///   - text: WKT (`POLYGON ((...))`, EWKT `SRID=4326;...`), or a GeoJSON geometry, feature or
    ///     feature collection.
    ///   - crs: overrides what the text declares.
    ///   - feature: 1-based feature number in a collection (default: the first).
    ///   - limits: text size, vertex and nesting limits; each refusal has its own message.
    ///   - origin: where the text came from, for error messages (`"field geometry"`,
    ///     `"geometry @site.wkt"`).
    /// - Complexity: O(n) in the text length, plus GEOS's validity check for areas.
    public static func parse(
        _ text: String, crs: String?, feature: Int?, limits: RequestLimits, origin: String
    ) throws(RequestError) -> InputGeometry {
        let bytes = text.utf8.count
        guard bytes <= limits.maxGeometryBytes else {
            throw RequestError(
                "\(origin): the geometry text is \(bytes) bytes; the limit is \(limits.maxGeometryBytes) (raise it with --max-geometry-bytes)")
        }
        // Unicode white space (newlines included) off both ends; Foundation's
        // `trimmingCharacters` bridged every request's geometry through NSString.
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        let trimmed = start == scalars.startIndex && end == scalars.endIndex ? text : String(scalars[start..<end])
        guard !trimmed.isEmpty else { throw RequestError("\(origin): the geometry is empty") }
        guard !trimmed.hasPrefix("@") else {
            throw RequestError(
                "\(origin): '@' names a file, which only the command line may read; send the geometry itself (WKT or GeoJSON)")
        }
        var out: InputGeometry
        if trimmed.hasPrefix("{") {
            out = try parseGeoJSON(trimmed, feature: feature, limits: limits, origin: origin)
        } else {
            if feature != nil { throw RequestError("--feature: \(origin) is WKT, not a feature collection") }
            do {
                let (g, srid) = try WKT.parseWithSRID(trimmed, limits: limits.parseLimits)
                out = InputGeometry(geometry: g, crs: srid.map { "EPSG:\($0)" }, origin: origin + " (WKT)")
            } catch {
                throw refusal(error, limits: limits, origin: origin, format: "WKT")
            }
        }
        if let crs { out.crs = crs }
        try check(out)
        return out
    }

    /// A parser's refusal as one line; the limits say which option raises them, since the
    /// parser cannot know the option's name.
    static func refusal(_ error: GeometryError, limits: RequestLimits, origin: String, format: String) -> RequestError {
        let at = error.offset.map { " (at byte \($0))" } ?? ""
        switch error.exceededLimit {
        case .maxDepth?:
            return RequestError(
                "\(origin) (\(format)): nested deeper than \(limits.parseLimits.effectiveMaxDepth) levels\(at), the limit (raise it with --max-depth)")
        case .maxVertices?:
            return RequestError(
                "\(origin) (\(format)): more than \(limits.maxVertices) vertices\(at), the limit (raise it with --max-vertices)")
        case .maxBytes?, nil:
            return RequestError(error, context: "\(origin) (\(format))")
        }
    }

    static func parseGeoJSON(_ text: String, feature: Int?, limits: RequestLimits, origin: String) throws(RequestError) -> InputGeometry {
        let doc: GeoJSONObject
        do { doc = try GeoJSON.parse(text, limits: limits.parseLimits) } catch {
            throw refusal(error, limits: limits, origin: origin, format: "GeoJSON")
        }
        // The typed reader drops feature-level `crs` members (not in RFC 7946, but the sample's
        // WGS84 dig site uses one), so the raw object is read for CRS and properties.
        let raw = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        switch doc {
        case .geometry(let g):
            if feature != nil { throw RequestError("--feature: \(origin) is a bare geometry, not a feature collection") }
            return InputGeometry(geometry: g, crs: crsName(raw["crs"]), origin: origin)
        case .feature(let f):
            guard let g = f.geometry else { throw RequestError("\(origin): the feature has no geometry") }
            return InputGeometry(
                geometry: g, crs: crsName(raw["crs"]) ?? (raw["properties"] as? [String: Any])?["crs_name"] as? String,
                properties: raw["properties"] as? [String: Any] ?? [:], origin: origin)
        case .featureCollection(let fc):
            guard !fc.features.isEmpty else { throw RequestError("\(origin): the feature collection is empty") }
            let n = feature ?? 1
            guard n >= 1, n <= fc.features.count else {
                throw RequestError("--feature \(n): \(origin) has \(fc.features.count) features (1...\(fc.features.count))")
            }
            let f = fc.features[n - 1]
            let where_ = "\(origin) feature \(n)"
            guard let g = f.geometry else { throw RequestError("\(where_): the feature has no geometry") }
            let rawFeature = (raw["features"] as? [Any])?[n - 1] as? [String: Any] ?? [:]
            let props = rawFeature["properties"] as? [String: Any] ?? [:]
            let crs = crsName(rawFeature["crs"]) ?? props["crs_name"] as? String ?? fc.crs.map(crsString)
            return InputGeometry(geometry: g, crs: crs, properties: props, origin: where_)
        }
    }

    /// `{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}}` → `"EPSG:4549"`.
    static func crsName(_ member: Any?) -> String? {
        guard let m = member as? [String: Any], let p = m["properties"] as? [String: Any],
            let name = p["name"] as? String
        else { return nil }
        return crsString(GeoJSONCRS(name: name))
    }

    static func crsString(_ c: GeoJSONCRS) -> String {
        if c.isCRS84 { return "OGC:CRS84" }
        if let e = c.epsg { return "EPSG:\(e)" }
        return c.name
    }

    /// Refuses what the engine would choke on or answer wrongly: non-finite coordinates (with
    /// the vertex number), empty geometries, and invalid polygons (self-intersections, via GEOS).
    /// The vertex count was bounded by the parser.
    static func check(_ input: InputGeometry) throws(RequestError) {
        var count = 0
        var bad: Int?
        input.geometry.forEachPoint { p in
            if bad == nil, !(p.x.isFinite && p.y.isFinite) { bad = count }
            count += 1
        }
        if let bad { throw RequestError("\(input.origin): vertex \(bad) has a non-finite coordinate (NaN or infinity)") }
        guard !input.geometry.isEmpty else { throw RequestError("\(input.origin): the geometry is empty") }
        if containsPolygon(input.geometry) {
            let v: GEOSValidity
            do { v = try GEOS.withContext { (ctx) throws(GEOSError) in try ctx.validity(input.geometry) } } catch {
                throw RequestError(error, context: input.origin)
            }
            if !v.isValid {
                let at = v.location.map { " at (\(String(format: "%.3f", $0.x)), \(String(format: "%.3f", $0.y)))" } ?? ""
                throw RequestError(
                    "\(input.origin): not a valid area: \(v.reason ?? "invalid polygon")\(at); fix the ring (it must not cross itself)")
            }
        }
    }

    static func containsPolygon(_ g: Geometry) -> Bool {
        switch g {
        case .polygon, .multiPolygon: return true
        case .collection(let gs): return gs.contains(where: containsPolygon)
        default: return false
        }
    }
}
