import Foundation
import HTTPTypes
import Hummingbird
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraRequests

extension SubterraServer {
    // MARK: OGC API – Features

    /// The OGC API Features routes, answered by ``OGCFeatures`` (pure functions) under the
    /// caller's ``OGCAccess`` (``ogcAccess(_:)``): `/` (landing page, JSON), `/conformance`,
    /// `/collections`, `/collections/{layer}`, `/collections/{layer}/items`,
    /// `/collections/{layer}/items/{id}`, `/collections/{layer}/queryables`. Each needs a
    /// credential like every data route.
    func addOGCRoutes(to router: Router<ServiceRequestContext>) {
        router.get("/") { request, context in
            try self.ogc(request, context) { (o, q, _, _) throws(OGCError) in try o.landingPage(query: q) }
        }
        router.get("/conformance") { request, context in
            try self.ogc(request, context) { (o, q, _, _) throws(OGCError) in try o.conformance(query: q) }
        }
        router.get("/collections") { request, context in
            try self.ogc(request, context) { (o, q, a, v) throws(OGCError) in try o.collections(query: q, access: a, dataVersion: v) }
        }
        router.get("/collections/{layer}") { request, context in
            let layer = context.parameters.get("layer") ?? ""
            return try self.ogc(request, context, layer: layer) { (o, q, a, v) throws(OGCError) in
                try o.collection(layer, query: q, access: a, dataVersion: v)
            }
        }
        router.get("/collections/{layer}/queryables") { request, context in
            let layer = context.parameters.get("layer") ?? ""
            return try self.ogc(request, context, layer: layer) { (o, q, a, v) throws(OGCError) in
                try o.queryables(collection: layer, query: q, access: a, dataVersion: v)
            }
        }
        router.get("/collections/{layer}/items") { request, context in
            let layer = context.parameters.get("layer") ?? ""
            return try self.ogc(request, context, layer: layer) { (o, q, a, v) throws(OGCError) in
                try o.items(collection: layer, query: q, access: a, dataVersion: v)
            }
        }
        router.get("/collections/{layer}/items/{id}") { request, context in
            let layer = context.parameters.get("layer") ?? ""
            let id = context.parameters.get("id") ?? ""
            return try self.ogc(request, context, layer: layer) { (o, q, a, v) throws(OGCError) in
                try o.item(collection: layer, featureID: id, query: q, access: a, dataVersion: v)
            }
        }
    }

    /// Runs one OGC function for the authenticated caller and turns its answer into HTTP:
    /// an ``OGCError`` becomes a problem answer naming the parameter; a matching
    /// `If-None-Match` gives 304 with the ETag and no body; the audit note gets the layer, the
    /// `bbox` as given and the features returned.
    func ogc(
        _ request: Request, _ context: ServiceRequestContext, layer: String? = nil,
        _ answer: (OGCFeatures, [String: String], OGCAccess, String) throws(OGCError) -> OGCResponse
    ) throws -> Response {
        let p = try Self.principal(context)
        let query = try Self.queryParameters(request.uri.query)
        let features = OGCFeatures(map: map, baseURL: baseURL(request))
        let r: OGCResponse
        do { r = try answer(features, query, ogcAccess(p), ogcDataVersion) } catch {
            throw Problem(HTTPResponse.Status(code: error.status), error.detail, field: error.parameter)
        }
        let bbox = query["bbox"].flatMap { t -> [Double]? in
            let n = t.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            return n.count == 4 ? n : nil
        }
        context.note.set(area: bbox, layers: layer.map { [$0] }, features: Self.ogcFeatureCount(r))
        var h = HTTPFields()
        for header in r.headers {
            guard let name = HTTPField.Name(header.name) else { continue }
            h.append(HTTPField(name: name, value: header.value))
        }
        // Answers depend on the caller's grant: shared caches must not keep them.
        h[.cacheControl] = "private, no-cache"
        if let tag = r.etag, let inm = request.headers[.ifNoneMatch], Self.etagMatches(inm, tag) {
            return Response(status: .notModified, headers: h)
        }
        h[.contentType] = r.contentType
        return Response(status: .init(code: r.status), headers: h, body: .init(byteBuffer: ByteBuffer(string: r.body)))
    }

    /// The data version in ETags: this server's ``SubterraServer/epoch`` and the loaded
    /// engine's snapshot version; while a store warms up (answers from its snapshot file of the
    /// same store), a fixed tag of its own.
    var ogcDataVersion: String {
        engineState.version.map(etagVersion) ?? epoch + "-snapshot"
    }

    /// Data version `v` as ETags carry it (after this server's epoch).
    func etagVersion(_ v: UInt64) -> String { epoch + "-" + String(v) }

    /// Where links point: the scheme this server speaks and the request's `Host` (when it is a
    /// plain host[:port]), else the listen address.
    func baseURL(_ request: Request) -> String {
        let scheme = config.tlsCert != nil ? "https" : "http"
        let allowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]")
        if let host = request.head.authority, !host.isEmpty, host.count <= 255,
            host.unicodeScalars.allSatisfy(allowed.contains)
        {
            return "\(scheme)://\(host)"
        }
        let h = config.listen.host.contains(":") ? "[\(config.listen.host)]" : config.listen.host
        return "\(scheme)://\(h):\(config.listen.port)"
    }

    /// Features an OGC answer returned, for the audit log: `numberReturned` of a page (the
    /// last member but `type` the functions write), 1 for a feature, the collections listed.
    static func ogcFeatureCount(_ r: OGCResponse) -> Int? {
        if r.contentType == "application/geo+json" {
            guard let range = r.body.range(of: "\"numberReturned\":", options: .backwards) else { return 1 }
            return Int(r.body[range.upperBound...].prefix { $0.isNumber })
        }
        return nil
    }

    /// Query parameters as `application/x-www-form-urlencoded` (`+` is a space, then percent
    /// decoding, names too). A parameter given twice is refused: OGC parameters take one value.
    static func queryParameters(_ query: String?) throws(Problem) -> [String: String] {
        guard let query, !query.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) throws(Problem) -> String {
                guard let d = s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    throw Problem(.badRequest, "query: '\(QueryRequest.clip(String(s)))' is not percent-encoded UTF-8", field: "query")
                }
                return d
            }
            let name = try decode(kv[0])
            guard out[name] == nil else {
                throw Problem(.badRequest, "\(QueryRequest.clip(name)): given more than once", field: QueryRequest.clip(name))
            }
            out[name] = kv.count > 1 ? try decode(kv[1]) : ""
        }
        return out
    }

    /// Whether an `If-None-Match` value (`*` or a list of entity tags) names `etag`, by weak
    /// comparison (RFC 9110 §13.1.2: `W/` ignored).
    static func etagMatches(_ ifNoneMatch: String, _ etag: String) -> Bool {
        func opaque(_ t: Substring) -> Substring {
            let s = t.trimmingCharacters(in: .whitespaces)
            return s.hasPrefix("W/") ? Substring(s.dropFirst(2)) : Substring(s)
        }
        let mine = opaque(Substring(etag))
        return ifNoneMatch.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "*" || opaque($0) == mine }
    }
}
