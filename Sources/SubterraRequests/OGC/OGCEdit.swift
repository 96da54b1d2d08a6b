import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// The body of an OGC API – Features Part 4 edit (`POST …/items`, `PUT …/items/{id}`) read into
/// a pipe segment, as a pure function: the HTTP service decides who may write, this decides what
/// is written.
///
/// The body is one GeoJSON `Feature` whose `geometry` is a `LineString` and whose `properties`
/// use the names items are served with (``OGCProperty``), so a feature read with `GET` can be
/// sent back with `PUT`. Checks, each refusal naming the member (`properties.gasPressureMPa`):
/// - a property outside ``OGCProperty/all``, or one `writable` refuses (a property the caller
///   cannot see is unknown to it, as in `properties=` on reads), is refused;
/// - `layer`, when given, must be the collection's; `id`, when given, must be the path's (a new
///   feature's id is the server's to assign: `POST` refuses one);
/// - `startPoint` and `endPoint` are required survey point numbers (a caller who may not see
///   them keeps the stored ones on `PUT`, and gets `<layer><id>A`/`B` on `POST`);
/// - codes as the importer reads them: sub-type of the layer and burial method from the map's
///   ``CodeCatalogue``, a section in survey notation (`DN300`, `800x600`), a known `featureKind`;
/// - then the import's record checks: ``PipeSegment/validate()`` (depth ranges, gas pressure,
///   voltage, duct counts, part number) and its cross-record errors for one record: a pipe of
///   zero length, a pipe whose two ends name one point. The engine checks the map's area of use
///   when it takes the edit.
///
/// The geometry is in CRS84 (longitude, latitude, as `GET` serves by default) unless
/// `contentCRS` names the map CRS (the `Content-Crs` header of OGC API Part 2/4).
///
/// Members a feature carries that the body does not set: on replacement (`base` given) the
/// record's elevations, elevation reference, accuracy and every property `writable` refuses are
/// kept from `base`, so an editor never wipes what it cannot see; on creation they are absent.
public enum OGCEdit {
    /// A refused body: status 400 (not a feature, unknown member, wrong type), or 422 (a
    /// well-formed feature the quality checks refuse), naming the member.
    public static func refusal(_ member: String, _ detail: String, status: Int = 400) -> OGCError {
        OGCError(status: status, parameter: member, "\(member): \(detail)")
    }

    /// Reads `body` as the segment `id` of `layer`.
    /// - Parameters:
    ///   - base: the stored record a `PUT` replaces (nil for `POST`).
    ///   - writable: whether the caller may set the property named (``OGCAccess/visibleProperty``).
    ///   - contentCRS: the `Content-Crs` header as given (nil: CRS84).
    /// - Throws: ``OGCError`` 400 or 422 naming the member; 415-free: the caller checks the type.
    public static func segment(
        from body: [UInt8], id: Int64, layer: LayerCode, base: PipeSegment?, map: any PipeMap, limits: RequestLimits,
        contentCRS: String?, writable: (String) -> Bool
    ) throws(OGCError) -> PipeSegment {
        var parse = ParseLimits.default
        parse.maxVertices = limits.maxVertices
        parse.maxBytes = limits.maxGeometryBytes
        let doc: GeoJSONObject
        do { doc = try GeoJSON.parse(body, limits: parse) } catch {
            throw refusal(error.path.map { $0.isEmpty ? "body" : $0 } ?? "body", "not a GeoJSON Feature: \(error.message)")
        }
        guard case .feature(let f) = doc else { throw refusal("type", "the body must be one GeoJSON Feature") }
        if let given = f.id {
            guard base != nil else { throw refusal("id", "the server assigns a new feature's id; leave id out") }
            guard given == .number(Double(id)) || given == .string(String(id)) else {
                throw refusal("id", "the body's id differs from the path's \(id)")
            }
        }
        guard case .lineString(var line)? = f.geometry else {
            throw refusal("geometry", "must be a LineString (one pipe segment)")
        }
        let crs = try bodyCRS(contentCRS, map: map)
        if crs != map.crs {
            do {
                let t = try Transformer(from: crs, to: map.crs)
                guard case .lineString(let l) = try t.transform(Geometry.lineString(line)) else {
                    throw refusal("geometry", "cannot be converted to the map CRS")
                }
                line = l
            } catch let e as OGCError {
                throw e
            } catch {
                throw refusal("geometry", "cannot be converted from \(crs) to the map CRS \(map.crs): \(error)")
            }
        }
        let props = f.properties ?? JSONObject()
        var s = PipeSegment(
            id: id, layer: layer, startPoint: PointNumber(rawValue: ""), endPoint: PointNumber(rawValue: ""), geometry: line)
        if let base {
            s.startElevation = base.startElevation
            s.endElevation = base.endElevation
            s.elevationReference = base.elevationReference
            s.accuracy = base.accuracy
            s.accuracyAssumed = base.accuracyAssumed
            for p in OGCProperty.all where !writable(p.name) { copy(p.name, from: base, to: &s) }
        }
        let codes = map.codes
        var seen = Set<String>()
        for (name, value) in props.members {
            let at = "properties.\(name)"
            guard OGCProperty.byName[name] != nil, name == "id" || name == "layer" || writable(name) else {
                throw refusal(at, "unknown property")
            }
            guard seen.insert(name).inserted else { throw refusal(at, "given more than once") }
            if value == .null { continue }
            func text() throws(OGCError) -> String {
                guard case .string(let t) = value else { throw refusal(at, "must be a string") }
                return t
            }
            func number() throws(OGCError) -> Double {
                guard case .number(let v) = value, v.isFinite else { throw refusal(at, "must be a finite number") }
                return v
            }
            func integer() throws(OGCError) -> Int {
                let v = try number()
                guard v == v.rounded(), abs(v) < 1e15 else { throw refusal(at, "must be an integer") }
                return Int(v)
            }
            func code<T>(_ body: () throws(EngineError) -> T) throws(OGCError) -> T {
                do { return try body() } catch { throw refusal(at, error.message, status: 422) }
            }
            switch name {
            case "id":
                guard try integer() == id else { throw refusal(at, "differs from the feature's id \(id)") }
            case "layer":
                guard try text().trimmingCharacters(in: .whitespaces).uppercased() == layer.rawValue else {
                    throw refusal(at, "differs from the collection '\(layer.rawValue)'; a feature moves layer by DELETE and POST")
                }
            case "startPoint", "endPoint":
                let t = try text().trimmingCharacters(in: .whitespaces)
                guard !t.isEmpty else { throw refusal(at, "must not be empty", status: 422) }
                if name == "startPoint" { s.startPoint = PointNumber(rawValue: t) } else { s.endPoint = PointNumber(rawValue: t) }
            case "subtype":
                let t = try text()
                s.subtype = try code { () throws(EngineError) in try codes.subtype(t, inLayers: [layer], field: at) }
            case "burial":
                let t = try text()
                s.burial = try code { () throws(EngineError) in try codes.burial(t, field: at) }
            case "section":
                let t = try text()
                guard let sec = PipeSection(notation: t) else {
                    throw refusal(at, "'\(QueryRequest.clip(t))' is not a section (DN300, 800x600; sizes in mm)", status: 422)
                }
                s.section = sec
            case "featureKind":
                let t = try text()
                guard let k = FeatureKind(rawValue: t) else {
                    throw refusal(at, "'\(QueryRequest.clip(t))' is not one of \(FeatureKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                s.featureKind = k
            case "material": s.material = Material(rawValue: try text())
            case "status": s.status = RecordStatus(rawValue: try text())
            case "owner": s.owner = try text()
            case "road": s.road = try text()
            case "layingDate": s.layingDate = try text()
            case "sourceID": s.sourceID = try text()
            case "sourceFile": s.sourceFile = try text()
            case "startDepth": s.startDepth = try number()
            case "endDepth": s.endDepth = try number()
            case "nominalDepth": s.nominalDepth = try number()
            case "gasPressureMPa": s.gasPressureMPa = try number()
            case "voltageKV": s.voltageKV = try number()
            case "ductHoles": s.ductHoles = try integer()
            case "ductHolesOccupied": s.ductHolesOccupied = try integer()
            case "cableCount": s.cableCount = try integer()
            case "part": s.part = try integer()
            case "feature": s.feature = Int64(try integer())
            default: throw refusal(at, "unknown property")
            }
        }
        for name in ["startPoint", "endPoint"] {
            let given = name == "startPoint" ? s.startPoint : s.endPoint
            guard given.rawValue.isEmpty else { continue }
            guard !writable(name) else {
                throw refusal("properties.\(name)", "required: the survey point number at the pipe's \(name == "startPoint" ? "start" : "end")", status: 422)
            }
            // A caller who cannot see point numbers cannot give them: the server names the ends.
            let generated = PointNumber(rawValue: "\(layer.rawValue)\(id)\(name == "startPoint" ? "A" : "B")")
            if name == "startPoint" { s.startPoint = generated } else { s.endPoint = generated }
        }
        try qualityChecks(s)
        return s
    }

    /// The import's checks of one record: ``PipeSegment/validate()``, zero length, both ends on
    /// one point. 422 naming the member at fault.
    static func qualityChecks(_ s: PipeSegment) throws(OGCError) {
        do { try s.validate() } catch {
            throw refusal(member(of: error.message), error.message, status: 422)
        }
        guard s.length > 0 else { throw refusal("geometry", "the pipe has zero length: all vertices at one place", status: 422) }
        guard s.startPoint != s.endPoint else {
            throw refusal("properties.endPoint", "the pipe starts and ends at point \(s.startPoint)", status: 422)
        }
    }

    /// The property a ``PipeSegment/validate()`` message is about.
    static func member(of message: String) -> String {
        let table: [(String, String)] = [
            ("depth at start", "startDepth"), ("depth at end", "endDepth"), ("nominal depth", "nominalDepth"),
            ("section", "section"), ("occupied duct holes", "ductHolesOccupied"), ("duct hole count", "ductHoles"),
            ("cable count", "cableCount"), ("gas pressure", "gasPressureMPa"), ("voltage", "voltageKV"), ("part", "part"),
            ("layer code", "layer"),
        ]
        for (prefix, name) in table where message.hasPrefix(prefix) { return "properties.\(name)" }
        return "properties"
    }

    /// Copies the property `name` of `from` to `to` (a field the editor may not see is kept).
    static func copy(_ name: String, from b: PipeSegment, to s: inout PipeSegment) {
        switch name {
        case "subtype": s.subtype = b.subtype
        case "burial": s.burial = b.burial
        case "section", "outerWidth": s.section = b.section
        case "featureKind": s.featureKind = b.featureKind
        case "material": s.material = b.material
        case "status": s.status = b.status
        case "owner": s.owner = b.owner
        case "road": s.road = b.road
        case "layingDate": s.layingDate = b.layingDate
        case "sourceID": s.sourceID = b.sourceID
        case "sourceFile": s.sourceFile = b.sourceFile
        case "startDepth": s.startDepth = b.startDepth
        case "endDepth": s.endDepth = b.endDepth
        case "nominalDepth": s.nominalDepth = b.nominalDepth
        case "gasPressureMPa": s.gasPressureMPa = b.gasPressureMPa
        case "voltageKV": s.voltageKV = b.voltageKV
        case "ductHoles": s.ductHoles = b.ductHoles
        case "ductHolesOccupied": s.ductHolesOccupied = b.ductHolesOccupied
        case "cableCount": s.cableCount = b.cableCount
        case "part": s.part = b.part
        case "feature": s.feature = b.feature
        case "startPoint": s.startPoint = b.startPoint
        case "endPoint": s.endPoint = b.endPoint
        default: break
        }
    }

    /// The PROJ name of a `Content-Crs` value: CRS84 when absent, else CRS84 or the map CRS by
    /// URI or short name, in optional angle brackets.
    static func bodyCRS(_ header: String?, map: any PipeMap) throws(OGCError) -> String {
        guard var t = header?.trimmingCharacters(in: .whitespaces), !t.isEmpty else { return "OGC:CRS84" }
        if t.hasPrefix("<"), t.hasSuffix(">") { t = String(t.dropFirst().dropLast()) }
        let ogc = OGCFeatures(map: map, baseURL: "")
        do { return try ogc.crsParameter(["Content-Crs": t], "Content-Crs") } catch {
            throw refusal("Content-Crs", "unsupported CRS '\(QueryRequest.clip(t))' (supported: \(OGCFeatures.crs84), \(ogc.mapCRSURI))")
        }
    }
}
