import Foundation
import SubterraGeometry
import SubterraModel

/// Reads back what `DistrictFiles` writes, into a `UtilityNetwork`: the round-trip proof of the
/// sample files and a small importer for tests. Every refusal names the file and the feature or
/// line. (The general importers with field mappings live in `SubterraModel/Import`.)
public enum DistrictReader {
    /// Reads `segments.geojson` and `points.geojson` from `directory`.
    public static func readGeoJSON(directory: String) throws -> UtilityNetwork {
        let points = try features(directory + "/points.geojson").enumerated().map { i, f in
            try point(f, at: "points.geojson feature \(i)")
        }
        let segments = try features(directory + "/segments.geojson").enumerated().map { i, f in
            try segment(f, at: "segments.geojson feature \(i)")
        }
        do {
            return try UtilityNetwork(crs: "EPSG:4549", segments: segments, points: points)
        } catch {
            throw DatasetError(error.description, at: directory)
        }
    }

    /// Reads `segments.csv` and `points.csv` from `directory`; segment geometry is the straight
    /// line between its end points, as in a survey table.
    public static func readSurveyCSV(directory: String) throws -> UtilityNetwork {
        let pointRows = try csvRows(directory + "/points.csv", header: DistrictFiles.pointCSVHeader)
        var points: [FeaturePoint] = []
        var positions: [PointNumber: Point] = [:]
        for (line, r) in pointRows {
            let at = "points.csv line \(line)"
            guard let category = PointCategory(rawValue: r[2]) else { throw DatasetError("unknown category '\(r[2])'", at: at) }
            let p = FeaturePoint(
                number: PointNumber(r[0]), layer: LayerCode(r[1]), category: category, kind: PointKind(r[3]),
                position: Point(try dbl(r[5], "y_easting", at), try dbl(r[4], "x_northing", at)),
                groundElevation: try optDbl(r[6], "ground_elevation", at), depth: try optDbl(r[7], "depth", at),
                owner: opt(r[8]), road: opt(r[9]), status: opt(r[10]).map(RecordStatus.init))
            positions[p.number] = p.position
            points.append(p)
        }
        var segments: [PipeSegment] = []
        for (line, r) in try csvRows(directory + "/segments.csv", header: DistrictFiles.segmentCSVHeader) {
            let at = "segments.csv line \(line)"
            guard let id = Int64(r[0]) else { throw DatasetError("id '\(r[0])' is not an integer", at: at) }
            let a = PointNumber(r[3])
            let b = PointNumber(r[4])
            guard let pa = positions[a], let pb = positions[b] else {
                throw DatasetError("end point \(positions[a] == nil ? a : b) is not in points.csv", at: at)
            }
            let geometry: LineString
            do { geometry = try LineString([pa, pb]) } catch { throw DatasetError(error.message, at: at) }
            guard let ref = ElevationReference(rawValue: r[9]) else {
                throw DatasetError("elevation_ref '\(r[9])' is not top or bottom", at: at)
            }
            var section: PipeSection? = nil
            if !r[11].isEmpty {
                guard let s = PipeSection(notation: r[11]) else { throw DatasetError("section '\(r[11])' unreadable", at: at) }
                section = s
            }
            segments.append(
                PipeSegment(
                    id: id, layer: LayerCode(r[1]), subtype: opt(r[2]).map(SubtypeCode.init), startPoint: a, endPoint: b,
                    geometry: geometry, startDepth: try optDbl(r[5], "start_depth", at),
                    endDepth: try optDbl(r[6], "end_depth", at), startElevation: try optDbl(r[7], "start_elevation", at),
                    endElevation: try optDbl(r[8], "end_elevation", at), elevationReference: ref, section: section,
                    ductHoles: try optInt(r[12], "duct_holes", at), ductHolesOccupied: try optInt(r[13], "duct_holes_used", at),
                    cableCount: try optInt(r[14], "cable_count", at), material: opt(r[15]).map(Material.init),
                    burial: opt(r[16]).map(BurialMethod.init), gasPressureMPa: try optDbl(r[17], "pressure_mpa", at),
                    voltageKV: try optDbl(r[18], "voltage_kv", at), owner: opt(r[19]), road: opt(r[20]),
                    layingDate: opt(r[21]), status: opt(r[22]).map(RecordStatus.init),
                    accuracy: try accuracy(r[23], r[24], r[25], at)))
        }
        do {
            return try UtilityNetwork(crs: "EPSG:4549", segments: segments, points: points)
        } catch {
            throw DatasetError(error.description, at: directory)
        }
    }

    // MARK: GeoJSON

    static func features(_ path: String) throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: path) else { throw DatasetError("cannot read file", at: path) }
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: data) } catch {
            throw DatasetError("not JSON: \(error.localizedDescription)", at: path)
        }
        guard let obj = root as? [String: Any], obj["type"] as? String == "FeatureCollection",
            let fs = obj["features"] as? [[String: Any]]
        else { throw DatasetError("not a GeoJSON FeatureCollection", at: path) }
        return fs
    }

    static func coordinates(_ f: [String: Any], _ type: String, at: String) throws -> Any {
        guard let g = f["geometry"] as? [String: Any], g["type"] as? String == type, let c = g["coordinates"] else {
            throw DatasetError("geometry is not a \(type)", at: at)
        }
        return c
    }

    static func position(_ any: Any, at: String) throws -> Point {
        guard let a = any as? [Any], a.count >= 2, let x = (a[0] as? NSNumber)?.doubleValue,
            let y = (a[1] as? NSNumber)?.doubleValue, x.isFinite, y.isFinite
        else { throw DatasetError("position is not [x, y] with finite numbers", at: at) }
        return Point(x, y)
    }

    static func point(_ f: [String: Any], at: String) throws -> FeaturePoint {
        let pos = try position(try coordinates(f, "Point", at: at), at: at)
        let p = f["properties"] as? [String: Any] ?? [:]
        guard let number = p["number"] as? String, let layer = p["layer"] as? String,
            let category = (p["category"] as? String).flatMap(PointCategory.init(rawValue:)),
            let kind = p["kind"] as? String
        else { throw DatasetError("needs number, layer, category (feature|appurtenance) and kind", at: at) }
        return FeaturePoint(
            number: PointNumber(number), layer: LayerCode(layer), category: category, kind: PointKind(kind),
            position: pos, groundElevation: num(p["ground_elevation"]), depth: num(p["depth"]),
            owner: p["owner"] as? String, road: p["road"] as? String,
            status: (p["status"] as? String).map(RecordStatus.init))
    }

    static func segment(_ f: [String: Any], at: String) throws -> PipeSegment {
        guard let cs = try coordinates(f, "LineString", at: at) as? [Any] else {
            throw DatasetError("LineString coordinates are not an array", at: at)
        }
        let geometry: LineString
        do { geometry = try LineString(try cs.map { try position($0, at: at) }) } catch let e as GeometryError {
            throw DatasetError(e.message, at: at)
        }
        let p = f["properties"] as? [String: Any] ?? [:]
        guard let id = (p["id"] as? NSNumber)?.int64Value, let layer = p["layer"] as? String,
            let a = p["start_point"] as? String, let b = p["end_point"] as? String
        else { throw DatasetError("needs id, layer, start_point and end_point", at: at) }
        var section: PipeSection? = nil
        if let text = p["section"] as? String {
            guard let s = PipeSection(notation: text) else { throw DatasetError("section '\(text)' unreadable", at: at) }
            section = s
        }
        let ref = (p["elevation_ref"] as? String).flatMap(ElevationReference.init(rawValue:)) ?? .top
        return PipeSegment(
            id: id, layer: LayerCode(layer), subtype: (p["subtype"] as? String).map(SubtypeCode.init),
            startPoint: PointNumber(a), endPoint: PointNumber(b), geometry: geometry,
            startDepth: num(p["start_depth"]), endDepth: num(p["end_depth"]),
            startElevation: num(p["start_elevation"]), endElevation: num(p["end_elevation"]),
            elevationReference: ref, section: section, ductHoles: int(p["duct_holes"]),
            ductHolesOccupied: int(p["duct_holes_used"]), cableCount: int(p["cable_count"]),
            material: (p["material"] as? String).map(Material.init), burial: (p["burial"] as? String).map(BurialMethod.init),
            gasPressureMPa: num(p["pressure_mpa"]), voltageKV: num(p["voltage_kv"]), owner: p["owner"] as? String,
            road: p["road"] as? String, layingDate: p["laid"] as? String,
            status: (p["status"] as? String).map(RecordStatus.init),
            accuracy: num(p["accuracy_m"]).map {
                PositionalAccuracy(
                    horizontalM: $0, verticalM: num(p["accuracy_v_m"]),
                    qualityLevel: (p["quality_level"] as? String).flatMap(QualityLevel.init(rawValue:)))
            })
    }

    static func num(_ v: Any?) -> Double? { (v as? NSNumber)?.doubleValue }
    static func int(_ v: Any?) -> Int? { (v as? NSNumber)?.intValue }

    // MARK: CSV

    /// Rows with their 1-based line numbers, after checking the header.
    static func csvRows(_ path: String, header: String) throws -> [(Int, [String])] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw DatasetError("cannot read file as UTF-8", at: path)
        }
        let columns = header.split(separator: ",").count
        var rows: [(Int, [String])] = []
        var lineNo = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNo += 1
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            if lineNo == 1 {
                guard l == header else { throw DatasetError("header is not '\(header)'", at: path + " line 1") }
                continue
            }
            if l.isEmpty { continue }
            let fields = splitCSV(l)
            guard fields.count == columns else {
                throw DatasetError("has \(fields.count) fields, expected \(columns)", at: path + " line \(lineNo)")
            }
            rows.append((lineNo, fields))
        }
        return rows
    }

    /// Splits one RFC 4180 line (quoted fields may hold commas and doubled quotes, not newlines).
    static func splitCSV(_ line: Substring) -> [String] {
        var out: [String] = []
        var field = ""
        var quoted = false
        var i = line.startIndex
        while i < line.endIndex {
            let ch = line[i]
            if quoted {
                if ch == "\"" {
                    let n = line.index(after: i)
                    if n < line.endIndex, line[n] == "\"" {
                        field.append("\"")
                        i = n
                    } else {
                        quoted = false
                    }
                } else {
                    field.append(ch)
                }
            } else if ch == "\"" {
                quoted = true
            } else if ch == "," {
                out.append(field)
                field = ""
            } else {
                field.append(ch)
            }
            i = line.index(after: i)
        }
        out.append(field)
        return out
    }

    static func opt(_ s: String) -> String? { s.isEmpty ? nil : s }

    static func dbl(_ s: String, _ name: String, _ at: String) throws -> Double {
        guard let v = Double(s), v.isFinite else { throw DatasetError("\(name) '\(s)' is not a finite number", at: at) }
        return v
    }

    static func optDbl(_ s: String, _ name: String, _ at: String) throws -> Double? {
        s.isEmpty ? nil : try dbl(s, name, at)
    }

    static func optInt(_ s: String, _ name: String, _ at: String) throws -> Int? {
        if s.isEmpty { return nil }
        guard let v = Int(s) else { throw DatasetError("\(name) '\(s)' is not an integer", at: at) }
        return v
    }

    static func accuracy(_ h: String, _ v: String, _ q: String, _ at: String) throws -> PositionalAccuracy? {
        guard let hv = try optDbl(h, "accuracy_m", at) else { return nil }
        return PositionalAccuracy(
            horizontalM: hv, verticalM: try optDbl(v, "accuracy_v_m", at), qualityLevel: QualityLevel(rawValue: q))
    }
}
