import Foundation
import SubterraGeometry
import SubterraModel

/// Output formats of `DistrictFiles`.
public enum DistrictFormat: String, Sendable, CaseIterable {
    case geojson
    case surveyCSV = "survey-csv"
    case both
}

/// Writes and reads a district as GeoJSON (`segments.geojson`, `points.geojson`, with a `crs`
/// member `urn:ogc:def:crs:EPSG::4549`) and as the CJJ 61 survey tables (`points.csv`,
/// `segments.csv`, X = northing, Y = easting). Field names are listed in `Datasets/README.md`.
///
/// Numbers are written as the shortest decimal that reads back to the same Double, so reading a
/// written district gives back an equal `UtilityNetwork`.
public enum DistrictFiles {
    public static let crsURN = "urn:ogc:def:crs:EPSG::4549"

    /// File names written for `format`.
    public static func fileNames(_ format: DistrictFormat) -> [String] {
        switch format {
        case .geojson: return ["segments.geojson", "points.geojson"]
        case .surveyCSV: return ["segments.csv", "points.csv"]
        case .both: return ["segments.geojson", "points.geojson", "segments.csv", "points.csv"]
        }
    }

    /// Streams `generator`'s district into `directory` (created if missing). O(segments) time,
    /// O(grid nodes) memory. Returns the number of segments and points written.
    @discardableResult
    public static func write(
        _ generator: DistrictGenerator, to directory: String, format: DistrictFormat
    ) throws -> (segments: Int, points: Int) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let geo = format != .surveyCSV
        let csv = format != .geojson
        func open(_ name: String) throws -> TextSink { try TextSink(path: directory + "/" + name) }
        let gs = geo ? try open("segments.geojson") : nil
        let gp = geo ? try open("points.geojson") : nil
        let cs = csv ? try open("segments.csv") : nil
        let cp = csv ? try open("points.csv") : nil
        try gs?.write(geoJSONHeader("segments"))
        try gp?.write(geoJSONHeader("points"))
        try cs?.write(segmentCSVHeader + "\n")
        try cp?.write(pointCSVHeader + "\n")
        var nSeg = 0
        var nPt = 0
        try generator.generate { r in
            switch r {
            case .point(let p):
                try gp?.write((nPt == 0 ? "\n" : ",\n") + geoJSONFeature(p))
                try cp?.write(csvRow(p) + "\n")
                nPt += 1
            case .segment(let s):
                try gs?.write((nSeg == 0 ? "\n" : ",\n") + geoJSONFeature(s))
                try cs?.write(csvRow(s) + "\n")
                nSeg += 1
            }
        }
        for sink in [gs, gp] { try sink?.write("\n]}\n") }
        for sink in [gs, gp, cs, cp] { try sink?.close() }
        return (nSeg, nPt)
    }

    static func geoJSONHeader(_ name: String) -> String {
        "{\"type\":\"FeatureCollection\",\"name\":\(GeoJSON.write(.string(name))),"
            + "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\(GeoJSON.write(.string(crsURN)))}},\"features\":["
    }

    // MARK: GeoJSON features

    /// One segment as a GeoJSON feature (written by `SubterraGeometry.GeoJSON`); absent
    /// attributes are left out rather than written as `null`.
    public static func geoJSONFeature(_ s: PipeSegment) -> String {
        var p = JSONObject()
        func add(_ k: String, _ v: String?) { if let v { p.append(k, .string(v)) } }
        func add(_ k: String, _ v: Double?) { if let v { p.append(k, .number(v)) } }
        func add(_ k: String, _ v: Int?) { if let v { p.append(k, .number(Double(v))) } }
        add("id", Double(s.id))
        add("layer", s.layer.rawValue)
        add("subtype", s.subtype?.rawValue)
        add("start_point", s.startPoint.rawValue)
        add("end_point", s.endPoint.rawValue)
        add("start_depth", s.startDepth)
        add("end_depth", s.endDepth)
        add("start_elevation", s.startElevation)
        add("end_elevation", s.endElevation)
        add("elevation_ref", s.elevationReference.rawValue)
        add("section", s.section?.notation)
        add("duct_holes", s.ductHoles)
        add("duct_holes_used", s.ductHolesOccupied)
        add("cable_count", s.cableCount)
        add("material", s.material?.rawValue)
        add("burial", s.burial?.rawValue)
        add("pressure_mpa", s.gasPressureMPa)
        add("pressure_class", s.gasPressureClass?.rawValue)
        add("voltage_kv", s.voltageKV)
        add("owner", s.owner)
        add("road", s.road)
        add("laid", s.layingDate)
        add("status", s.status?.rawValue)
        add("accuracy_m", s.accuracy?.horizontalM)
        add("accuracy_v_m", s.accuracy?.verticalM)
        add("quality_level", s.accuracy?.qualityLevel?.rawValue)
        return GeoJSON.write(GeoJSONFeature(id: .number(Double(s.id)), geometry: .lineString(s.geometry), properties: p))
    }

    /// One point as a GeoJSON feature (written by `SubterraGeometry.GeoJSON`).
    public static func geoJSONFeature(_ pt: FeaturePoint) -> String {
        var p = JSONObject()
        func add(_ k: String, _ v: String?) { if let v { p.append(k, .string(v)) } }
        func add(_ k: String, _ v: Double?) { if let v { p.append(k, .number(v)) } }
        add("number", pt.number.rawValue)
        add("layer", pt.layer.rawValue)
        add("category", pt.category.rawValue)
        add("kind", pt.kind.rawValue)
        add("ground_elevation", pt.groundElevation)
        add("depth", pt.depth)
        add("owner", pt.owner)
        add("road", pt.road)
        add("status", pt.status?.rawValue)
        add("valve_status", pt.valveStatus?.rawValue)
        add("customer_category", pt.connection?.category.rawValue)
        add("customer_count", pt.connection.map { Double($0.count) })
        return GeoJSON.write(GeoJSONFeature(id: .string(pt.number.rawValue), geometry: .point(pt.position), properties: p))
    }

    // MARK: Survey tables

    /// Point table columns (CJJ 61 管线点成果表 order: number, X = northing, Y = easting, ...).
    public static let pointCSVHeader = "point_no,layer,category,kind,x_northing,y_easting,ground_elevation,depth,owner,road,status,"
        + "valve_status,customer_category,customer_count"

    /// Segment table columns (CJJ 61 管线段成果表).
    public static let segmentCSVHeader =
        "id,layer,subtype,start_point,end_point,start_depth,end_depth,start_elevation,end_elevation,elevation_ref,"
        + "length,section,duct_holes,duct_holes_used,cable_count,material,burial,pressure_mpa,voltage_kv,owner,road,"
        + "laid,status,accuracy_m,accuracy_v_m,quality_level"

    static func csvRow(_ p: FeaturePoint) -> String {
        [
            _csv(p.number.rawValue), _csv(p.layer.rawValue), p.category.rawValue, _csv(p.kind.rawValue),
            _num(p.position.y), _num(p.position.x), p.groundElevation.map(_num) ?? "", p.depth.map(_num) ?? "",
            _csv(p.owner ?? ""), _csv(p.road ?? ""), _csv(p.status?.rawValue ?? ""),
            p.valveStatus?.rawValue ?? "", p.connection?.category.rawValue ?? "", p.connection.map { String($0.count) } ?? "",
        ].joined(separator: ",")
    }

    static func csvRow(_ s: PipeSegment) -> String {
        func n(_ v: Double?) -> String { v.map(_num) ?? "" }
        func i(_ v: Int?) -> String { v.map(String.init) ?? "" }
        return [
            String(s.id), _csv(s.layer.rawValue), _csv(s.subtype?.rawValue ?? ""), _csv(s.startPoint.rawValue),
            _csv(s.endPoint.rawValue), n(s.startDepth), n(s.endDepth), n(s.startElevation), n(s.endElevation),
            s.elevationReference.rawValue, _num(_mm(s.length)), s.section?.notation ?? "", i(s.ductHoles),
            i(s.ductHolesOccupied), i(s.cableCount), _csv(s.material?.rawValue ?? ""), _csv(s.burial?.rawValue ?? ""),
            n(s.gasPressureMPa), n(s.voltageKV), _csv(s.owner ?? ""), _csv(s.road ?? ""), _csv(s.layingDate ?? ""),
            _csv(s.status?.rawValue ?? ""), n(s.accuracy?.horizontalM), n(s.accuracy?.verticalM),
            s.accuracy?.qualityLevel?.rawValue ?? "",
        ].joined(separator: ",")
    }
}
