import Foundation
import SubterraGEOS
import SubterraGeometry

/// A query geometry as the user gave it: the geometry, the CRS it is in (when the input says),
/// and the feature's properties (a dig site's `depth_m`, a route's `layer`, …).
struct InputGeometry {
    var geometry: Geometry
    /// From `--crs`, else the feature's `crs` member or `crs_name` property, else the
    /// collection's `crs` member; nil means the map CRS.
    var crs: String?
    var properties: [String: Any] = [:]
    /// Where it came from, for error messages (`"@sites.geojson feature 2"`, `"WKT argument"`).
    var origin: String

    func number(_ key: String) -> Double? {
        switch properties[key] {
        case let n as NSNumber: return n.doubleValue
        case let s as String: return Double(s)
        default: return nil
        }
    }

    func string(_ key: String) -> String? {
        switch properties[key] {
        case let s as String: return s
        case let n as NSNumber: return n.stringValue
        default: return nil
        }
    }
}

/// Parses WKT, GeoJSON or `@file` (either, by content) into a validated query geometry.
enum GeometryInput {
    /// Largest vertex count accepted; the exact kernels are O(pipe × query vertices), so a bigger
    /// shape would make a dig check crawl. Raise it with `--max-vertices`.
    static let defaultMaxVertices = 100_000

    /// - Parameters:
    ///   - text: WKT (`POLYGON ((...))`, EWKT `SRID=4326;...`), a GeoJSON geometry, feature or
    ///     feature collection, or `@path` to a file holding one of those.
    ///   - feature: 1-based feature number in a collection (default: the first).
    ///   - option: the argument's name, for error messages.
    static func parse(
        _ text: String, crs: String?, feature: Int?, maxVertices: Int, option: String
    ) throws -> InputGeometry {
        var body = text
        var origin = option
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard FileManager.default.fileExists(atPath: path) else {
                throw CLIError("\(option) \(text): file does not exist")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CLIError("\(option) \(text): file is unreadable")
            }
            guard let s = String(data: data, encoding: .utf8) else {
                throw CLIError("\(option) \(text): file is not UTF-8 text")
            }
            body = s
            origin = "\(option) \(text)"
        }
        let trimmed = body.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw CLIError("\(origin): the geometry is empty") }
        var out: InputGeometry
        if trimmed.hasPrefix("{") {
            out = try parseGeoJSON(trimmed, feature: feature, origin: origin)
        } else {
            if feature != nil { throw CLIError("--feature: \(origin) is WKT, not a feature collection") }
            do {
                let (g, srid) = try WKT.parseWithSRID(trimmed)
                out = InputGeometry(geometry: g, crs: srid.map { "EPSG:\($0)" }, origin: origin + " (WKT)")
            } catch {
                throw CLIError(error, context: "\(origin) (WKT)")
            }
        }
        if let crs { out.crs = crs }
        try check(out, maxVertices: maxVertices)
        return out
    }

    static func parseGeoJSON(_ text: String, feature: Int?, origin: String) throws -> InputGeometry {
        let doc: GeoJSONObject
        do { doc = try GeoJSON.parse(text) } catch { throw CLIError(error, context: "\(origin) (GeoJSON)") }
        // The typed reader drops feature-level `crs` members (not in RFC 7946, but the sample's
        // WGS84 dig site uses one), so the raw object is read for CRS and properties.
        let raw = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        switch doc {
        case .geometry(let g):
            if feature != nil { throw CLIError("--feature: \(origin) is a bare geometry, not a feature collection") }
            return InputGeometry(geometry: g, crs: crsName(raw["crs"]), origin: origin)
        case .feature(let f):
            guard let g = f.geometry else { throw CLIError("\(origin): the feature has no geometry") }
            return InputGeometry(
                geometry: g, crs: crsName(raw["crs"]) ?? (raw["properties"] as? [String: Any])?["crs_name"] as? String,
                properties: raw["properties"] as? [String: Any] ?? [:], origin: origin)
        case .featureCollection(let fc):
            guard !fc.features.isEmpty else { throw CLIError("\(origin): the feature collection is empty") }
            let n = feature ?? 1
            guard n >= 1, n <= fc.features.count else {
                throw CLIError("--feature \(n): \(origin) has \(fc.features.count) features (1...\(fc.features.count))")
            }
            let f = fc.features[n - 1]
            let where_ = "\(origin) feature \(n)"
            guard let g = f.geometry else { throw CLIError("\(where_): the feature has no geometry") }
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

    /// Refuses what the engine would choke on or answer wrongly: too many vertices, non-finite
    /// coordinates (with the vertex number), and invalid polygons (self-intersections, via GEOS).
    static func check(_ input: InputGeometry, maxVertices: Int) throws {
        var count = 0
        var bad: Int?
        input.geometry.forEachPoint { p in
            if bad == nil, !(p.x.isFinite && p.y.isFinite) { bad = count }
            count += 1
        }
        if let bad { throw CLIError("\(input.origin): vertex \(bad) has a non-finite coordinate (NaN or infinity)") }
        guard count <= maxVertices else {
            throw CLIError(
                "\(input.origin): the geometry has \(count) vertices; the limit is \(maxVertices) (raise it with --max-vertices)")
        }
        guard !input.geometry.isEmpty else { throw CLIError("\(input.origin): the geometry is empty") }
        if containsPolygon(input.geometry) {
            let v: GEOSValidity
            do { v = try GEOS.withContext { (ctx) throws(GEOSError) in try ctx.validity(input.geometry) } } catch {
                throw CLIError(error, context: input.origin)
            }
            if !v.isValid {
                let at = v.location.map { " at (\(Fmt.coord($0.x)), \(Fmt.coord($0.y)))" } ?? ""
                throw CLIError(
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
