import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraNetwork

/// Answers batch lines: one JSON request in, one JSON answer line out.
///
/// An answer is `{"id":…,"line":N,"ok":true,"result":{…}}` or
/// `{"id":…,"line":N,"ok":false,"error":"…"}`; `id` is the request's (or `null` when the line
/// has none or is not a JSON object). Stateless apart from the shared engine, so lines run on any
/// thread. Nothing a line holds can make it read a file (see ``GeometryInput``), throw or trap:
/// every refusal, whatever its cause, is an error answer.
public struct RequestRunner: Sendable {
    /// What answers: an engine, a mapped map, or a ``WarmingMap`` moving from one to the other.
    public let engine: any PipeMap
    public let limits: RequestLimits
    /// What network requests (`isolate`, `trace`, `valve-segments`) work on; nil refuses them.
    public let network: NetworkSource?

    public init(engine: any PipeMap, limits: RequestLimits = .default, network: NetworkSource? = nil) {
        self.engine = engine
        self.limits = limits
        self.network = network
    }

    /// The answer to batch line `number` (1-based, echoed as `"line"`). Never throws.
    /// - Complexity: decoding is O(line length); then the query's own cost.
    public func answer(line: String, number: Int) -> String {
        answer(line: line, number: number) { try result(for: $0) }
    }

    /// The answer line of batch line `number` whose `result` JSON `compute` makes from the
    /// decoded request (the HTTP service computes it under the caller's access scope). The line
    /// is checked, decoded and its `id` echoed as in ``answer(line:number:)``; whatever `compute`
    /// throws becomes the error answer. Never throws.
    public func answer(line: String, number: Int, compute: (QueryRequest) throws -> String) -> String {
        let bytes = line.utf8.count
        guard bytes <= limits.maxLineBytes else { return Self.lineTooLong(number: number, limit: limits.maxLineBytes) }
        var id: JSONValue?
        do {
            try Self.precheck(line, limits: limits)
            let decoded: Line
            do { decoded = try JSONDecoder().decode(Line.self, from: Data(line.utf8)) } catch DecodingError.typeMismatch {
                throw RequestError("not a JSON object")
            } catch {
                throw RequestError("not a JSON object: the line is not valid JSON")
            }
            id = decoded.id
            let request = try decoded.request.get()
            return Self.answer(id: id, number: number, result: try compute(request))
        } catch {
            return Self.answer(id: id, number: number, error: RequestError(error).description)
        }
    }

    /// Refuses, before `JSONDecoder` sees the line, what it would resolve silently or badly: a
    /// key given twice (the decoder keeps the last, so two readers of one line could disagree
    /// on its geometry) and nesting deeper than the geometry limit allows (the line object and
    /// a GeoJSON geometry object add one level). Iterative, O(line length).
    public static func precheck(_ line: String, limits: RequestLimits) throws(RequestError) {
        let parse = ParseLimits(maxDepth: limits.maxDepth + 1, maxVertices: limits.maxVertices, maxBytes: limits.maxLineBytes)
        switch JSONPrecheck.check(Array(line.utf8), limits: parse) {
        case nil: return
        case .duplicateKey(let path, let key)?:
            let name = QueryRequest.clip(key)
            throw RequestError(
                path == "top level" ? "field \(name) appears twice" : "field \(QueryRequest.clip(path)): key \"\(name)\" appears twice")
        case .tooDeep(_, let offset, _)?:
            throw RequestError(
                "the line nests deeper than \(parse.effectiveMaxDepth - 1) levels inside its object (at byte \(offset)), the limit (raise it with --max-depth)")
        case let problem?:
            throw RequestError("the line: \(problem.message)")
        }
    }

    /// The error answer for a line longer than `limit` bytes, which the reader skipped without
    /// keeping it (its `id` is unknown, so it is `null`).
    public static func lineTooLong(number: Int, limit: Int) -> String {
        answer(
            id: nil, number: number,
            error: "line \(number) is longer than \(limit) bytes, the limit (raise it with --max-line-bytes)")
    }

    /// The `result` JSON of one decoded request.
    /// - Parameter restrict: narrows every filter the request runs with, the request's own and
    ///   the whole map of a dig or route check (the HTTP service passes its access scope here, so
    ///   no hidden pipe enters an answer); identity by default.
    /// - Throws: `RequestError` (or an engine error) naming the field or the problem.
    public func result(for q: QueryRequest, restrict: (PipeFilter) -> PipeFilter = { $0 }) throws -> String {
        let enc = AnswerJSON.encoder(pretty: false)
        return try answer(for: q, restrict: restrict) { v in String(decoding: try enc.encode(v), as: UTF8.self) }
    }

    /// The `result` of one decoded request as a value, equal to ``result(for:restrict:)`` read
    /// back with sorted keys, built with ``JSONValueEncoder`` without writing text (for the HTTP
    /// service, which masks the value before writing it).
    public func resultValue(for q: QueryRequest, restrict: (PipeFilter) -> PipeFilter = { $0 }) throws -> JSONValue {
        let enc = JSONValueEncoder()
        return try answer(for: q, restrict: restrict) { v in try enc.encode(v) }
    }

    /// The answer of `q` handed to `emit` (an encoder).
    func answer<R>(for q: QueryRequest, restrict: (PipeFilter) -> PipeFilter, emit json: (any Encodable) throws -> R) throws -> R {
        if q.op.isNetwork { return try networkAnswer(for: q, emit: json) }
        let g = try geometry(q)
        let codes = engine.codes
        let filter = restrict(try PipeFilter(
            layers: q.layers ?? [], subtypes: q.subtypes ?? [], owners: q.owners ?? [], codes: codes, fields: .batch))
        let whole = restrict(.all)
        switch q.op {
        case .nearest:
            return try json(HitsResult(engine.nearest(
                to: g.geometry, crs: g.crs, k: q.k ?? 1, maxDistance: q.maxDistance ?? .infinity,
                perLayer: q.perLayer ?? false, filter: filter, enclosures: q.enclosures ?? .grouped)))
        case .intersects:
            return try json(HitsResult(engine.intersecting(
                g.geometry, crs: g.crs, filter: filter, allParts: false, enclosures: q.enclosures ?? .grouped)))
        case .within:
            guard let d = q.distance else { throw RequestError("field distance is missing (metres)") }
            return try json(HitsResult(engine.within(
                distance: d, of: g.geometry, crs: g.crs, filter: filter, allParts: false, enclosures: q.enclosures ?? .grouped)))
        case .checkDig:
            guard let d = q.depth else { throw RequestError("field depth is missing (metres)") }
            return try json(engine.digCheck(DigRequest(area: g.geometry, crs: g.crs, plannedDepth: d, workType: q.workType), filter: whole))
        case .section:
            guard case .lineString(let l) = g.geometry else { throw RequestError("field geometry: a cut line must be a LINESTRING") }
            return try json(engine.crossSection(along: l, crs: g.crs, filter: filter))
        case .isolate, .trace, .valveSegments:
            return try networkAnswer(for: q, emit: json)
        case .checkRoute:
            guard case .lineString(let l) = g.geometry else { throw RequestError("field geometry: a route must be a LINESTRING") }
            guard let layerText = q.layer else { throw RequestError("field layer is missing (planned pipe's layer code)") }
            let layer = try codes.layer(layerText, field: "field layer")
            let subtype = try q.subtype.map { (s) throws(EngineError) in try codes.subtype(s, inLayers: [layer], field: "field subtype") }
            guard let d0 = q.depthStart ?? q.depth, let d1 = q.depthEnd ?? q.depth else {
                throw RequestError("field depth is missing (metres)")
            }
            var pc: GasPressureClass?
            if let p = q.pressure {
                guard let c = GasPressureClass(megapascals: p) else { throw RequestError("field pressure: \(p) MPa is outside 0...4.0") }
                pc = c
            }
            var surface = SurfaceKind.carriageway
            if let s = q.surface {
                guard let k = SurfaceKind(rawValue: s) else {
                    throw RequestError("field surface: '\(QueryRequest.clip(s))' is not sidewalk or carriageway")
                }
                surface = k
            }
            let profile = PipeProfile(
                layer: layer, subtype: subtype,
                pressureClass: pc, burial: try q.burial.map { (b) throws(EngineError) in try codes.burial(b, field: "field burial") },
                diameterMM: q.diameter, voltageKV: q.voltage, pressureMPa: q.pressure)
            return try json(engine.routeCheck(PlannedPipe(
                profile: profile, route: l, crs: g.crs, depthAtStart: d0, depthAtEnd: d1, surface: surface),
                nearMargin: 1.0, filter: whole))
        }
    }

    /// The `result` JSON of a network request (`isolate`, `trace`, `valve-segments`): the
    /// ``IsolationPlan``, ``DrainageTrace`` or ``ValveSegmentsReport`` the command line prints
    /// with `--json`. An isolate break given as a geometry must be a POINT in the map CRS.
    /// - Throws: `RequestError` naming the field, or when the runner has no ``network``.
    public func networkResult(for q: QueryRequest) throws -> String {
        let enc = AnswerJSON.encoder(pretty: false)
        return try networkAnswer(for: q) { v in String(decoding: try enc.encode(v), as: UTF8.self) }
    }

    /// The answer of a network request handed to `emit` (an encoder).
    func networkAnswer<R>(for q: QueryRequest, emit json: (any Encodable) throws -> R) throws -> R {
        guard let source = network else {
            throw RequestError("op \(q.op.rawValue) needs the map's survey points, which this runner was not given")
        }
        switch q.op {
        case .isolate: return try json(isolationPlan(for: q))
        case .trace: return try json(NetworkAnswers.trace(q, source))
        case .valveSegments: return try json(NetworkAnswers.valveSegments(q, source))
        default: throw RequestError("op \(q.op.rawValue) is no network request")
        }
    }

    /// The plan of an `isolate` request; a break given as a geometry must be a POINT in the
    /// map CRS. - Throws: `RequestError` naming the field.
    public func isolationPlan(for q: QueryRequest) throws -> IsolationPlan {
        guard let source = network else {
            throw RequestError("op \(q.op.rawValue) needs the map's survey points, which this runner was not given")
        }
        var point: Point?
        if q.geometry != .null {
            let g = try geometry(q)
            guard case .point(let p) = g.geometry else { throw RequestError("field geometry: a break position must be a POINT") }
            if let crs = g.crs, !Self.sameCRS(crs, engine.crs) {
                throw RequestError("field geometry: a break position must be in the map CRS \(engine.crs), not \(crs)")
            }
            point = p
        }
        return try NetworkAnswers.isolation(q, source, point: point)
    }

    /// Whether two CRS names are the same authority code (`EPSG:4549` and its URN or URI).
    static func sameCRS(_ a: String, _ b: String) -> Bool {
        func code(_ s: String) -> String {
            let parts = s.split(whereSeparator: { $0 == ":" || $0 == "/" }).map(String.init)
            guard let last = parts.last else { return s.uppercased() }
            let authority = parts.count >= 2 ? parts.dropLast().last { !$0.isEmpty && $0 != "0" && Double($0) == nil } ?? "" : ""
            return authority.uppercased() + ":" + last
        }
        return code(a) == code(b)
    }

    /// The request's geometry, parsed and validated within ``limits``.
    public func geometry(_ q: QueryRequest) throws(RequestError) -> InputGeometry {
        let text: String
        switch q.geometry {
        case .string(let s): text = s
        default: text = GeoJSON.write(q.geometry)
        }
        let g = try GeometryInput.parse(text, crs: q.crs, feature: nil, limits: limits, origin: "field geometry")
        if let crs = g.crs { try Self.checkCRSName(crs, field: q.crs != nil ? "field crs" : "field geometry crs") }
        return g
    }

    /// A request names its CRS by authority and code only: `EPSG:4326`, `OGC:CRS84`,
    /// `urn:ogc:def:crs:EPSG::4549` or `http://www.opengis.net/def/crs/EPSG/0/4549`. PROJ strings
    /// and WKT are refused, because PROJ reads files they name (`+init=/path:1`,
    /// grids), and a request is data, never a path.
    public static func checkCRSName(_ crs: String, field: String) throws(RequestError) {
        if isCRSName(crs) { return }
        throw RequestError(
            "\(field): a request names its CRS as AUTHORITY:CODE (EPSG:4326, OGC:CRS84) or its OGC URN/URI; "
                + "PROJ strings and WKT are accepted on the command line only")
    }

    /// Whether `s` is `AUTHORITY:CODE`, `urn:ogc:def:crs:AUTHORITY:[VERSION]:CODE` or
    /// `http[s]://www.opengis.net/def/crs/AUTHORITY/VERSION/CODE` (authority: a letter then up
    /// to 31 letters, digits or `_`; version: up to 16 digits or dots, at least one in a URI;
    /// code: 1–32 letters, digits, `_`, `.` or `-`).
    ///
    /// Checked by hand over UTF-8: the equivalent `Regex` literals were compiled on every call,
    /// a tenth of a served dig check's time. O(length).
    static func isCRSName(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        func digit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }
        func authority(_ x: ArraySlice<UInt8>) -> Bool {
            guard let f = x.first, letter(f), x.count <= 32 else { return false }
            return x.allSatisfy { letter($0) || digit($0) || $0 == 95 }
        }
        func code(_ x: ArraySlice<UInt8>) -> Bool {
            (1...32).contains(x.count) && x.allSatisfy { letter($0) || digit($0) || $0 == 95 || $0 == 46 || $0 == 45 }
        }
        func version(_ x: ArraySlice<UInt8>, atLeast n: Int) -> Bool {
            (n...16).contains(x.count) && x.allSatisfy { digit($0) || $0 == 46 }
        }
        func parts(after prefix: String, by sep: UInt8) -> [ArraySlice<UInt8>]? {
            let p = Array(prefix.utf8)
            guard b.starts(with: p) else { return nil }
            return b[p.count...].split(separator: sep, omittingEmptySubsequences: false)
        }
        if let r = parts(after: "urn:ogc:def:crs:", by: 58) {
            if r.count == 3 && authority(r[0]) && version(r[1], atLeast: 0) && code(r[2]) { return true }
        }
        for prefix in ["http://www.opengis.net/def/crs/", "https://www.opengis.net/def/crs/"] {
            if let r = parts(after: prefix, by: 47), r.count == 3, authority(r[0]), version(r[1], atLeast: 1), code(r[2]) { return true }
        }
        let r = b.split(separator: 58, omittingEmptySubsequences: false)
        return r.count == 2 && authority(r[0]) && code(r[1])
    }

    // MARK: Answer lines

    /// A line's `id` (read leniently, so even a refused request echoes it) and its request or
    /// the reason it was refused.
    struct Line: Decodable {
        var id: JSONValue?
        var request: Result<QueryRequest, any Error>

        init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: AnyKey.self)
            request = Result { try QueryRequest(from: decoder) }
            if case .success(let q) = request {
                id = q.id
            } else {
                id = (try? c.decodeIfPresent(AnyJSON.self, forKey: AnyKey("id")))?.value
            }
        }
    }

    /// A success answer line.
    public static func answer(id: JSONValue?, number: Int, result: String) -> String {
        "{\"id\":\(GeoJSON.write(id ?? .null)),\"line\":\(number),\"ok\":true,\"result\":\(result)}"
    }

    /// An error answer line.
    public static func answer(id: JSONValue?, number: Int, error: String) -> String {
        "{\"id\":\(GeoJSON.write(id ?? .null)),\"line\":\(number),\"ok\":false,\"error\":\(GeoJSON.write(JSONValue.string(error)))}"
    }
}
