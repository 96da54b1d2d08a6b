import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraRequests

/// A query answer: what was asked and the pipes found.
struct HitAnswer: Codable {
    var query: String
    var mapCRS: String
    var count: Int
    var hits: [HitRow]
}

enum HitOutput {
    static func print(_ hits: [PipeHit], query: String, engine: any PipeMap, format: OutputFormat) throws {
        let rows = hits.map(HitRow.init)
        switch format {
        case .json:
            Swift.print(try JSONOut.string(HitAnswer(query: query, mapCRS: engine.crs, count: rows.count, hits: rows)))
        case .geojson:
            var features: [GeoJSONFeature] = []
            for (h, r) in zip(hits, rows) {
                features.append(GeoJSONFeature(
                    id: .number(Double(r.id)), geometry: try pipeGeometry(h.pipe, in: engine), properties: properties(r)))
            }
            Swift.print(GeoJSON.write(GeoJSONFeatureCollection(features: features, crs: crsMember(engine.crs))))
        case .table:
            Swift.print("\(query): \(rows.count) pipe\(rows.count == 1 ? "" : "s") (map CRS \(engine.crs))")
            guard !rows.isEmpty else { return }
            // The operator's id column only when some pipe has one, so plain maps print as before.
            let sourceIDs = rows.contains { $0.sourceID != nil }
            // The source file's name beside the ids when some pipe has one.
            let files = rows.contains { $0.sourceFile != nil }
            let head: [String] = ["id"] + (sourceIDs ? ["source_id"] : []) + (files ? ["source"] : [])
            let tail = ["layer", "subtype", "owner", "section", "distance_m", "depth_m", "closest_x", "closest_y"]
            let numeric = Set([0] + [4, 5, 6, 7].map { $0 + head.count })
            // A kind column only when some hit is a cable bed, sleeve or casing.
            let kinds = rows.contains { $0.featureKind != nil }
            // A `with` column (the beds, sleeves and casings grouped with a line) only when some has one.
            let with = rows.contains { $0.enclosures != nil }
            var t = TextTable(head + tail + (kinds ? ["kind"] : []) + (with ? ["with"] : []), numeric: numeric)
            for r in rows {
                let ids: [String] = [String(r.id)] + (sourceIDs ? [r.sourceID ?? "-"] : []) + (files ? [Fmt.file(r.sourceFile)] : [])
                let rest: [String] = [
                    r.layer, r.subtype ?? "-", r.owner ?? "-", r.section ?? "-", Fmt.m(r.distance),
                    Fmt.depth(r.depth, nominal: r.nominalDepth), Fmt.coord(r.closestPoint.x), Fmt.coord(r.closestPoint.y),
                ]
                // An enclosure's file is named only when it is not the line's own.
                let enclosed = (r.enclosures ?? []).map {
                    "\($0.kind.words) \(shownID($0.pipeID, $0.sourceID, file: $0.sourceFile == r.sourceFile ? nil : $0.sourceFile))"
                }
                t.add(ids + rest + (kinds ? [(r.featureKind ?? .utilityLine).words] : [])
                    + (with ? [enclosed.isEmpty ? "-" : enclosed.joined(separator: ", ")] : []))
            }
            Swift.print(t.render())
        }
    }

    /// A pipe id as people read it: the row id, and the operator's id beside it when there is one
    /// (`12 (nl.imkl-KL1031.EKBL_0042)`), and the source file's name when given
    /// (`12 (nl.imkl-KL1031.EKBL_0042, from kabels.geojson)`, `12 (from kabels.geojson)`).
    static func shownID(_ id: Int64, _ sourceID: String?, file: String? = nil) -> String {
        let notes = [sourceID, file.map { "from \(Fmt.file($0))" }].compactMap { $0 }
        return notes.isEmpty ? String(id) : "\(id) (\(notes.joined(separator: ", ")))"
    }

    /// The whole pipe `s` belongs to: its line, or every part of its multi-part feature in part
    /// order. O(n) for a part (a scan of the map), O(1) otherwise.
    static func pipeGeometry(_ s: PipeSegment, in map: any PipeMap) throws -> Geometry {
        guard let f = s.feature else { return .lineString(s.geometry) }
        let parts = try map.parts(ofFeature: f)
        return parts.count > 1 ? .multiLineString(parts.map(\.geometry)) : .lineString(s.geometry)
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
