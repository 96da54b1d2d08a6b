import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// One pipe of a query answer as the tool prints it: the record's identifying attributes and the
/// exact answer (distance, closest point, depth there). Flatter than `PipeHit`, whose nested
/// survey record is more than a caller of `nearest` needs.
struct HitRow: Codable, Hashable {
    var id: Int64
    var layer: String
    var subtype: String?
    var owner: String?
    var section: String?
    var road: String?
    var status: String?
    var gasPressureMPa: Double?
    var voltageKV: Double?
    /// Exact plan distance, metres (0: touches or inside).
    var distance: Double
    var closestPoint: PlanPoint
    var parameter: Double
    var depth: Double?

    init(_ h: PipeHit) {
        let s = h.pipe
        id = s.id
        layer = s.layer.rawValue
        subtype = s.subtype?.rawValue
        owner = s.owner
        section = s.section?.notation
        road = s.road
        status = s.status?.rawValue
        gasPressureMPa = s.gasPressureMPa
        voltageKV = s.voltageKV
        distance = h.distance
        closestPoint = h.closestPoint
        parameter = h.parameter
        depth = h.depth
    }
}

/// A query answer: what was asked and the pipes found.
struct HitAnswer: Codable {
    var query: String
    var mapCRS: String
    var count: Int
    var hits: [HitRow]
}

enum HitOutput {
    static func print(_ hits: [PipeHit], query: String, engine: UtilityEngine, format: OutputFormat) throws {
        let rows = hits.map(HitRow.init)
        switch format {
        case .json:
            Swift.print(try JSONOut.string(HitAnswer(query: query, mapCRS: engine.crs, count: rows.count, hits: rows)))
        case .geojson:
            var features: [GeoJSONFeature] = []
            for (h, r) in zip(hits, rows) {
                features.append(GeoJSONFeature(
                    id: .number(Double(r.id)), geometry: .lineString(h.pipe.geometry), properties: properties(r)))
            }
            Swift.print(GeoJSON.write(GeoJSONFeatureCollection(features: features, crs: crsMember(engine.crs))))
        case .table:
            Swift.print("\(query): \(rows.count) pipe\(rows.count == 1 ? "" : "s") (map CRS \(engine.crs))")
            guard !rows.isEmpty else { return }
            var t = TextTable(["id", "layer", "subtype", "owner", "section", "distance_m", "depth_m", "closest_x", "closest_y"], numeric: [0, 5, 6, 7, 8])
            for r in rows {
                t.add([
                    String(r.id), r.layer, r.subtype ?? "-", r.owner ?? "-", r.section ?? "-", Fmt.m(r.distance),
                    Fmt.m(r.depth), Fmt.coord(r.closestPoint.x), Fmt.coord(r.closestPoint.y),
                ])
            }
            Swift.print(t.render())
        }
    }

    /// Any Encodable as GeoJSON properties (through JSON, keeping key order sorted).
    static func properties<T: Encodable>(_ value: T) -> JSONObject {
        guard let data = try? JSONOut.encoder(pretty: false).encode(value),
            case .object(let o)? = try? jsonValue(data)
        else { return JSONObject() }
        return o
    }

    static func jsonValue(_ data: Data) throws -> JSONValue {
        try JSONDecoder().decode(AnyJSON.self, from: data).value
    }

    static func crsMember(_ crs: String) -> GeoJSONCRS? {
        if crs.uppercased().hasPrefix("EPSG:"), let code = Int(crs.dropFirst(5)) { return GeoJSONCRS(epsg: code) }
        return GeoJSONCRS(name: crs)
    }
}

/// Any JSON document as a `JSONValue` (object keys sorted), decoded strictly: `true` stays a Bool
/// and `1` a number, which `JSONSerialization`'s NSNumber cannot tell apart on Linux.
struct AnyJSON: Decodable {
    var value: JSONValue

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let n = try? c.decode(Double.self) {
            value = .number(n)
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let a = try? c.decode([AnyJSON].self) {
            value = .array(a.map(\.value))
        } else {
            let d = try c.decode([String: AnyJSON].self)
            var o = JSONObject()
            for k in d.keys.sorted() { o.append(k, d[k]!.value) }
            value = .object(o)
        }
    }
}
