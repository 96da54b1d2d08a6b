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
                owner: opt(r[8]), road: opt(r[9]), status: opt(r[10]).map(RecordStatus.init),
                valveStatus: try opt(r[11]).map { (v) throws -> ValveStatus in
                    guard let s = ValveStatus(rawValue: v) else { throw DatasetError("valve_status '\(v)' unknown", at: at) }
                    return s
                },
                connection: try connection(opt(r[12]), optInt(r[13], "customer_count", at), at))
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

    /// A service connection from its category and count columns (both or neither).
    static func connection(_ category: String?, _ count: Int?, _ at: String) throws -> ServiceConnection? {
        guard let category else {
            if count != nil { throw DatasetError("customer_count without customer_category", at: at) }
            return nil
        }
        guard let c = CustomerCategory(rawValue: category) else {
            throw DatasetError("customer_category '\(category)' unknown", at: at)
        }
        return ServiceConnection(category: c, count: count ?? 1)
    }

    // MARK: GeoJSON

    /// Features of a GeoJSON file, read with `SubterraGeometry.GeoJSON` (memory-mapped,
    /// streamed); a parse error carries the byte offset.
    static func features(_ path: String) throws -> [GeoJSONFeature] {
        var out: [GeoJSONFeature] = []
        do {
            _ = try GeoJSON.forEachFeature(inFile: path) { _, f in out.append(f) }
        } catch let e as GeometryError {
            throw DatasetError(e.description, at: path)
        }
        return out
    }

    static func point(_ f: GeoJSONFeature, at: String) throws -> FeaturePoint {
        guard case .point(let pos)? = f.geometry else { throw DatasetError("geometry is not a Point", at: at) }
        let p = f.properties ?? JSONObject()
        guard let number = p["number"]?.stringValue, let layer = p["layer"]?.stringValue,
            let category = p["category"]?.stringValue.flatMap(PointCategory.init(rawValue:)),
            let kind = p["kind"]?.stringValue
        else { throw DatasetError("needs number, layer, category (feature|appurtenance) and kind", at: at) }
        return FeaturePoint(
            number: PointNumber(number), layer: LayerCode(layer), category: category, kind: PointKind(kind),
            position: Point(pos.x, pos.y), groundElevation: p["ground_elevation"]?.numberValue,
            depth: p["depth"]?.numberValue, owner: p["owner"]?.stringValue, road: p["road"]?.stringValue,
            status: p["status"]?.stringValue.map(RecordStatus.init),
            valveStatus: try p["valve_status"]?.stringValue.map { (v) throws -> ValveStatus in
                guard let s = ValveStatus(rawValue: v) else { throw DatasetError("valve_status '\(v)' unknown", at: at) }
                return s
            },
            connection: try connection(
                p["customer_category"]?.stringValue, p["customer_count"]?.numberValue.map { Int($0) }, at))
    }

    static func segment(_ f: GeoJSONFeature, at: String) throws -> PipeSegment {
        guard case .lineString(let geometry)? = f.geometry else {
            throw DatasetError("geometry is not a LineString", at: at)
        }
        let p = f.properties ?? JSONObject()
        func str(_ k: String) -> String? { p[k]?.stringValue }
        func num(_ k: String) -> Double? { p[k]?.numberValue }
        func int(_ k: String) throws -> Int? {
            guard let v = num(k) else { return nil }
            guard v == v.rounded(), abs(v) < 1e15 else { throw DatasetError("\(k) \(v) is not an integer", at: at) }
            return Int(v)
        }
        guard let idValue = try int("id"), let layer = str("layer"), let a = str("start_point"), let b = str("end_point")
        else { throw DatasetError("needs id, layer, start_point and end_point", at: at) }
        var section: PipeSection? = nil
        if let text = str("section") {
            guard let s = PipeSection(notation: text) else { throw DatasetError("section '\(text)' unreadable", at: at) }
            section = s
        }
        let ref = str("elevation_ref").flatMap(ElevationReference.init(rawValue:)) ?? .top
        return PipeSegment(
            id: Int64(idValue), layer: LayerCode(layer), subtype: str("subtype").map(SubtypeCode.init),
            startPoint: PointNumber(a), endPoint: PointNumber(b), geometry: geometry,
            startDepth: num("start_depth"), endDepth: num("end_depth"),
            startElevation: num("start_elevation"), endElevation: num("end_elevation"),
            elevationReference: ref, section: section, ductHoles: try int("duct_holes"),
            ductHolesOccupied: try int("duct_holes_used"), cableCount: try int("cable_count"),
            material: str("material").map(Material.init), burial: str("burial").map(BurialMethod.init),
            gasPressureMPa: num("pressure_mpa"), voltageKV: num("voltage_kv"), owner: str("owner"),
            road: str("road"), layingDate: str("laid"), status: str("status").map(RecordStatus.init),
            accuracy: num("accuracy_m").map {
                PositionalAccuracy(
                    horizontalM: $0, verticalM: num("accuracy_v_m"),
                    qualityLevel: str("quality_level").flatMap(QualityLevel.init(rawValue:)))
            })
    }

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
