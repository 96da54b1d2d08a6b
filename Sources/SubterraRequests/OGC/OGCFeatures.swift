import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// How far ``OGCFeatures`` lets one request go.
public struct OGCOptions: Sendable {
    /// Page size when a request gives no `limit` (default 100).
    public var defaultLimit: Int
    /// Largest `limit` accepted (default 10 000); above it is refused (400), not clamped.
    public var maxLimit: Int
    /// Longest `filter` text, in UTF-8 bytes (default 64 KiB).
    public var maxFilterBytes: Int
    /// Nesting depth and geometry-literal vertices and size of filters and `bbox`es.
    public var limits: RequestLimits
    /// The landing page's title and description.
    public var title: String
    public var description: String

    public init(
        defaultLimit: Int = 100, maxLimit: Int = 10_000, maxFilterBytes: Int = 64 << 10, limits: RequestLimits = .default,
        title: String = "Subterra", description: String = "Underground utility survey (CJJ 61): OGC API Features"
    ) {
        self.defaultLimit = defaultLimit
        self.maxLimit = maxLimit
        self.maxFilterBytes = maxFilterBytes
        self.limits = limits
        self.title = title
        self.description = description
    }
}

/// OGC API – Features (Part 1 Core + GeoJSON, Part 2 CRS, Part 3 filtering with a CQL2 subset)
/// over a map, as pure functions: each takes the request's query parameters and the caller's
/// ``OGCAccess`` and returns an ``OGCResponse`` or throws an ``OGCError``. The HTTP server
/// routes to them; nothing here knows sockets.
///
/// A *feature* is one pipe segment (``PipeSegment``, id = segment id; every part of a
/// multi-part pipe is a feature of its own, its `feature` and `part` properties tie them); a
/// *collection* is one layer present in the map (id = layer code).
///
/// ```swift
/// let ogc = OGCFeatures(map: engine, baseURL: "https://maps.example/ogc")
/// let page = try ogc.items(collection: "RQ", query: ["bbox": "121.40,28.36,121.41,28.37", "limit": "50"],
///                          access: .all, dataVersion: "\(engine.version)")
/// ```
///
/// Items are exact: `bbox` and the spatial predicates keep a feature when its geometry meets
/// the box or literal (the engine's segment index, measured exactly), never by bounding box.
/// Items come in id order, so `offset` paging visits each feature once while the data version
/// stays the same.
public struct OGCFeatures: Sendable {
    public let map: any PipeMap
    /// Where the API is served, without a trailing slash; every link starts with it.
    public let baseURL: String
    /// Layer names for collection titles.
    public let catalog: LayerCatalog
    public let options: OGCOptions

    /// The OGC URI of WGS84 longitude, latitude.
    public static let crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"

    /// The conformance classes answered.
    public static let conformanceClasses = [
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
        "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
        // Part 4 (draft): POST, PUT and DELETE on items, for editor roles (the HTTP service).
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
        "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
        "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
        "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
    ]

    public init(map: any PipeMap, baseURL: String, catalog: LayerCatalog = .standardWithFibre, options: OGCOptions = OGCOptions()) {
        self.map = map
        var b = baseURL
        while b.hasSuffix("/") { b.removeLast() }
        self.baseURL = b
        self.catalog = catalog
        self.options = options
    }

    /// The map CRS as an OGC URI (`EPSG:4549` → `http://www.opengis.net/def/crs/EPSG/0/4549`).
    public var mapCRSURI: String {
        let c = map.crs
        if c.uppercased().hasPrefix("EPSG:"), let n = Int(c.dropFirst(5)) { return "http://www.opengis.net/def/crs/EPSG/0/\(n)" }
        return c
    }

    // MARK: Landing page and conformance

    /// `GET /`: title, description and links to itself, `/conformance`, `/collections` and the
    /// OpenAPI document at `/openapi.json`.
    public func landingPage(query: [String: String] = [:]) throws(OGCError) -> OGCResponse {
        try Self.allow(query, [])
        let links: [JSONValue] = [
            link(baseURL + "/", "self", "application/json", "This document"),
            link(baseURL + "/conformance", "conformance", "application/json", "Conformance classes"),
            link(baseURL + "/collections", "data", "application/json", "The layers"),
            link(baseURL + "/openapi.json", "service-desc", "application/vnd.oai.openapi+json;version=3.0", "The API definition"),
        ]
        let o: JSONObject = ["description": .string(options.description), "links": .array(links), "title": .string(options.title)]
        return json(o, etagOf: "landing", query: query, dataVersion: "", access: .all)
    }

    /// `GET /conformance`: ``conformanceClasses``.
    public func conformance(query: [String: String] = [:]) throws(OGCError) -> OGCResponse {
        try Self.allow(query, [])
        let o: JSONObject = ["conformsTo": .array(Self.conformanceClasses.map(JSONValue.string))]
        return json(o, etagOf: "conformance", query: query, dataVersion: "", access: .all)
    }

    // MARK: Collections

    /// `GET /collections`: one collection per layer with a feature `access` may see, in layer
    /// code order.
    ///
    /// - Complexity: ``PipeMap/layerExtents()`` when `access` restricts by layer only; else the
    ///   visible records are read to bound them (O(n)), so no hidden feature widens an extent.
    public func collections(query: [String: String] = [:], access: OGCAccess, dataVersion: String) throws(OGCError) -> OGCResponse {
        try Self.allow(query, [])
        let extents = try visibleExtents(access, only: nil)
        let cols = extents.keys.sorted().map { collectionJSON($0, extents[$0]!) }
        let o: JSONObject = [
            "collections": .array(cols.map(JSONValue.object)),
            "links": .array([link(baseURL + "/collections", "self", "application/json", "The layers")]),
        ]
        return json(o, etagOf: "collections", query: query, dataVersion: dataVersion, access: access)
    }

    /// `GET /collections/{layer}`; 404 for a layer absent from the map or with nothing `access`
    /// may see.
    public func collection(_ id: String, query: [String: String] = [:], access: OGCAccess, dataVersion: String)
        throws(OGCError) -> OGCResponse
    {
        try Self.allow(query, [])
        let layer = try visibleLayer(id, access)
        let extents = try visibleExtents(access, only: layer)
        guard let e = extents[layer] else { throw OGCError.notFound("collectionId", "collection '\(id)'") }
        return json(collectionJSON(layer, e), etagOf: "collection/\(id)", query: query, dataVersion: dataVersion, access: access)
    }

    /// `GET /collections/{layer}/queryables`: a JSON Schema of the properties a filter may name
    /// (those `access` may see), typed, plus the geometry.
    public func queryables(collection id: String, query: [String: String] = [:], access: OGCAccess, dataVersion: String)
        throws(OGCError) -> OGCResponse
    {
        try Self.allow(query, [])
        let layer = try visibleLayer(id, access)
        guard try visibleExtents(access, only: layer)[layer] != nil else { throw OGCError.notFound("collectionId", "collection '\(id)'") }
        var props = JSONObject()
        props.append(OGCProperty.geometryName, .object(["format": .string("geometry-linestring"), "title": .string("Centreline")]))
        for p in OGCProperty.all where p.name == "id" || access.visibleProperty(p.name) {
            props.append(p.name, .object(["title": .string(p.title), "type": .string(p.kind.rawValue)]))
        }
        let url = "\(baseURL)/collections/\(Self.escape(id))/queryables"
        let o: JSONObject = [
            "$id": .string(url), "$schema": .string("https://json-schema.org/draft/2020-12/schema"),
            "additionalProperties": .bool(false), "properties": .object(props), "title": .string(title(layer)),
            "type": .string("object"),
        ]
        var r = json(o, etagOf: "queryables/\(id)", query: query, dataVersion: dataVersion, access: access)
        r.contentType = "application/schema+json"
        return r
    }

    // MARK: Items

    /// The parameters `items` accepts.
    public static let itemsParameters: Set<String> = [
        "f", "bbox", "bbox-crs", "limit", "offset", "properties", "crs", "datetime", "filter", "filter-lang", "filter-crs",
    ]

    /// `GET /collections/{layer}/items`: the visible features of the layer matching `bbox` and
    /// `filter`, in id order, one page of `limit` from `offset`, as a GeoJSON FeatureCollection
    /// with `numberMatched`, `numberReturned` and `self`/`next`/`prev` links.
    ///
    /// Parameters: `bbox` (4 numbers; in `bbox-crs`, CRS84 by default, or the map CRS), `limit`
    /// (1...``OGCOptions/maxLimit``), `offset` (≥ 0), `properties` (comma-separated names; only
    /// those are written), `crs` (output: CRS84, the default, or the map CRS; echoed in
    /// `Content-Crs`), `filter` + `filter-lang` (`cql2-text`, the default, or `cql2-json`) +
    /// `filter-crs` (of the filter's geometry literals; CRS84 by default). `datetime` is
    /// refused: the map has no time axis. Any other parameter is refused, naming it.
    ///
    /// - Complexity: with `bbox` or a spatial predicate every match must satisfy, O(log n + c
    ///   log c) for the c index candidates (``PipeMap/segmentIDs(within:of:crs:filter:)``);
    ///   otherwise a scan of the layer's ids (O(n), documented). Records are read only for the
    ///   page, unless a property predicate must be tested on every candidate.
    public func items(collection id: String, query: [String: String], access: OGCAccess, dataVersion: String)
        throws(OGCError) -> OGCResponse
    {
        try Self.allow(query, Self.itemsParameters)
        if query["datetime"] != nil {
            throw OGCError.bad("datetime", "the map's features have no time; leave datetime out")
        }
        let layer = try visibleLayer(id, access)
        let limit = try integer(query, "limit", default: options.defaultLimit, range: 1...options.maxLimit)
        let offset = try integer(query, "offset", default: 0, range: 0...Int.max)
        let outCRS = try crsParameter(query, "crs")
        let selected = try propertyList(query, access)
        var filter = access.filter
        filter.layers = (filter.layers ?? [layer]).intersection([layer])

        // Candidates: ids from the index for bbox and required spatial predicates.
        var candidates: [Int64]?
        func narrow(_ ids: [Int64]) {
            if let c = candidates {
                let s = Set(ids)
                candidates = c.filter(s.contains)
            } else {
                candidates = ids
            }
        }
        if let text = query["bbox"] {
            let bcrs = try crsParameter(query, "bbox-crs")
            if let numbers = clipped(try bbox(text), crs: bcrs) {
                let box = try CQL2.box(numbers) { OGCError.bad("bbox", $0) }
                narrow(try engine("bbox") { () throws(EngineError) in try map.segmentIDs(within: 0, of: box, crs: bcrs, filter: filter) })
            } else {
                narrow([])
            }
        } else if query["bbox-crs"] != nil {
            throw OGCError.bad("bbox-crs", "given without bbox")
        }
        var plan: _CQL2Plan?
        var sets: [Set<Int64>] = []
        if let text = query["filter"] {
            let p = try parseFilter(text, lang: query["filter-lang"], access: access)
            let fcrs = try crsParameter(query, "filter-crs")
            for (i, s) in p.spatial.enumerated() {
                let ids = try engine("filter") { () throws(EngineError) in
                    try map.segmentIDs(within: s.distance, of: s.geometry, crs: fcrs, filter: filter)
                }
                sets.append(Set(ids))
                if p.requiredSpatial.contains(i) { narrow(ids) }
            }
            plan = p
        } else {
            for k in ["filter-lang", "filter-crs"] where query[k] != nil { throw OGCError.bad(k, "given without filter") }
        }
        var ids: [Int64]
        if let c = candidates {
            ids = c
        } else {
            ids = try engine("collectionId") { () throws(EngineError) in try map.segmentIDs(filter: filter) }
        }
        if let p = plan, !p.readsRecords { ids = ids.filter { p.matches($0, nil, sets) } }

        // Matches, then the page.
        var page: [PipeSegment] = []
        let matched: Int
        if let plan, plan.readsRecords {
            var n = 0
            for id in ids {
                guard let s = try record(id), plan.matches(id, s, sets) else { continue }
                if n >= offset && page.count < limit { page.append(s) }
                n += 1
            }
            matched = n
        } else {
            matched = ids.count
            if offset < ids.count {
                for id in ids[offset..<min(ids.count, offset + limit)] { if let s = try record(id) { page.append(s) } }
            }
        }

        var features: [String] = []
        let transform = try outputTransform(outCRS)
        for s in page { features.append(try featureJSON(s, access: access, selected: selected, transform: transform)) }
        let path = "/collections/\(Self.escape(id))/items"
        var links = [link(url(path, query), "self", "application/geo+json", "This page")]
        var headerLinks: [String] = []
        if offset + page.count < matched {
            var q = query
            q["offset"] = String(offset + page.count)
            links.append(link(url(path, q), "next", "application/geo+json", "Next page"))
        }
        if offset > 0 {
            var q = query
            q["offset"] = String(max(0, offset - limit))
            links.append(link(url(path, q), "prev", "application/geo+json", "Previous page"))
        }
        links.append(link(url("/collections/\(Self.escape(id))", [:]), "collection", "application/json", title(layer)))
        for case .object(let l) in links where l["rel"] != .string("collection") {
            headerLinks.append("<\(l["href"]!.stringValue!)>; rel=\"\(l["rel"]!.stringValue!)\"; type=\"application/geo+json\"")
        }
        var head = JSONObject()
        head.append("links", .array(links))
        head.append("numberMatched", .number(Double(matched)))
        head.append("numberReturned", .number(Double(page.count)))
        head.append("type", .string("FeatureCollection"))
        let headText = GeoJSON.write(JSONValue.object(head))
        let body = "{\"features\":[" + features.joined(separator: ",") + "]," + headText.dropFirst()
        var r = OGCResponse(contentType: "application/geo+json", body: body)
        r.headers.append(.init("ETag", etag("items" + path, query, dataVersion, access)))
        r.headers.append(.init("Content-Crs", "<\(outCRS == map.crs ? mapCRSURI : Self.crs84)>"))
        for l in headerLinks { r.headers.append(.init("Link", l)) }
        return r
    }

    /// `GET /collections/{layer}/items/{featureId}`: one feature; 404 when it does not exist,
    /// is in another layer, or `access` may not see it (the same answer, so existence does not
    /// leak). Accepts `crs` and `properties`.
    public func item(collection id: String, featureID: String, query: [String: String], access: OGCAccess, dataVersion: String)
        throws(OGCError) -> OGCResponse
    {
        try Self.allow(query, ["f", "crs", "properties"])
        let layer = try visibleLayer(id, access)
        let outCRS = try crsParameter(query, "crs")
        let selected = try propertyList(query, access)
        guard let n = Int64(featureID), let s = try record(n), s.layer == layer, access.filter.accepts(s) else {
            throw OGCError.notFound("featureId", "feature '\(featureID)' in collection '\(id)'")
        }
        let path = "/collections/\(Self.escape(id))/items/\(n)"
        let body = try featureJSON(s, access: access, selected: selected, transform: try outputTransform(outCRS))
        var r = OGCResponse(contentType: "application/geo+json", body: body)
        r.headers.append(.init("ETag", etag("item" + path, query, dataVersion, access)))
        r.headers.append(.init("Content-Crs", "<\(outCRS == map.crs ? mapCRSURI : Self.crs84)>"))
        r.headers.append(.init("Link", "<\(url(path, query))>; rel=\"self\"; type=\"application/geo+json\""))
        r.headers.append(.init("Link", "<\(url("/collections/\(Self.escape(id))", [:]))>; rel=\"collection\"; type=\"application/json\""))
        return r
    }

    /// The ETag `GET /collections/{layer}/items/{featureId}` without parameters answers with:
    /// what an edit's `If-Match` is compared with (OGC API Features Part 4 optimistic locking).
    public func itemETag(collection id: String, featureID: Int64, access: OGCAccess, dataVersion: String) -> String {
        etag("item/collections/\(Self.escape(id))/items/\(featureID)", [:], dataVersion, access)
    }

    /// The ETag `GET /collections/{layer}/items` without parameters answers with: what a
    /// `POST`'s `If-Match` is compared with.
    public func itemsETag(collection id: String, access: OGCAccess, dataVersion: String) -> String {
        etag("items/collections/\(Self.escape(id))/items", [:], dataVersion, access)
    }

    // MARK: Parameters

    /// Refuses any parameter outside `known` (plus `f=json`/`geojson`, always accepted).
    static func allow(_ query: [String: String], _ known: Set<String>) throws(OGCError) {
        for k in query.keys.sorted() where !known.contains(k) && k != "f" {
            let list = known.subtracting(["f"]).sorted().joined(separator: ", ")
            throw OGCError.bad(k, "unknown parameter\(list.isEmpty ? "" : " (accepted: \(list))")")
        }
        if let f = query["f"], !["json", "geojson"].contains(f.lowercased()) {
            throw OGCError.bad("f", "unknown format '\(f)' (accepted: json, geojson)")
        }
    }

    func integer(_ query: [String: String], _ name: String, default d: Int, range: ClosedRange<Int>) throws(OGCError) -> Int {
        guard let text = query[name] else { return d }
        guard let v = Int(text.trimmingCharacters(in: .whitespaces)) else { throw OGCError.bad(name, "'\(text)' is not an integer") }
        guard range.contains(v) else {
            throw OGCError.bad(name, range.upperBound == Int.max ? "\(v) is below \(range.lowerBound)" : "\(v) is outside \(range.lowerBound)...\(range.upperBound)")
        }
        return v
    }

    /// A CRS parameter's PROJ name: CRS84 (the default) or the map CRS, by URI or short name.
    func crsParameter(_ query: [String: String], _ name: String) throws(OGCError) -> String {
        guard var text = query[name]?.trimmingCharacters(in: .whitespaces) else { return "OGC:CRS84" }
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        let u = text.uppercased()
        if [Self.crs84.uppercased(), "OGC:CRS84", "URN:OGC:DEF:CRS:OGC:1.3:CRS84", "CRS84"].contains(u) { return "OGC:CRS84" }
        let m = map.crs.uppercased()
        var forms = [mapCRSURI.uppercased(), m]
        if m.hasPrefix("EPSG:") { forms.append("URN:OGC:DEF:CRS:EPSG::" + m.dropFirst(5)) }
        if forms.contains(u) { return map.crs }
        throw OGCError.bad(name, "unsupported CRS '\(text)' (supported: \(Self.crs84), \(mapCRSURI))")
    }

    /// `bbox`: 4 finite numbers, minimum below maximum.
    func bbox(_ text: String) throws(OGCError) -> [Double] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        if parts.count == 6 { throw OGCError.bad("bbox", "6 numbers (a 3D box) are not supported; give 4") }
        guard parts.count == 4 else { throw OGCError.bad("bbox", "needs 4 comma-separated numbers, got \(parts.count)") }
        var ns: [Double] = []
        for p in parts {
            guard let v = Double(p.trimmingCharacters(in: .whitespaces)) else { throw OGCError.bad("bbox", "'\(p)' is not a number") }
            ns.append(v)
        }
        _ = try CQL2.box(ns) { OGCError.bad("bbox", $0) }
        return ns
    }

    /// A CRS84 box cut to the map CRS's area of use (where every feature lies, since the engine
    /// refuses vertices outside it), so a client's wide box (a whole-country view, the world)
    /// finds what it covers instead of being refused by PROJ; nil when nothing is left. A box in
    /// the map CRS, or a map CRS with no (or an antimeridian-crossing) area of use, is unchanged.
    func clipped(_ b: [Double], crs: String) -> [Double]? {
        guard crs == "OGC:CRS84", let a = (try? CoordinateSystem(map.crs))?.areaOfUse, !a.crossesAntimeridian else { return b }
        let c = [max(b[0], a.west), max(b[1], a.south), min(b[2], a.east), min(b[3], a.north)]
        return c[0] <= c[2] && c[1] <= c[3] ? c : nil
    }

    /// `properties`: known names `access` may see; nil when not given (all visible ones).
    func propertyList(_ query: [String: String], _ access: OGCAccess) throws(OGCError) -> Set<String>? {
        guard let text = query["properties"] else { return nil }
        var out = Set<String>()
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard OGCProperty.byName[name] != nil, name == "id" || access.visibleProperty(name) else {
                throw OGCError.bad("properties", "unknown property '\(name)'")
            }
            out.insert(name)
        }
        return out
    }

    func parseFilter(_ text: String, lang: String?, access: OGCAccess) throws(OGCError) -> _CQL2Plan {
        let bytes = text.utf8.count
        guard bytes <= options.maxFilterBytes else {
            throw OGCError.bad("filter", "\(bytes) bytes; the limit is \(options.maxFilterBytes)")
        }
        let e: CQL2Expression
        do {
            switch lang?.lowercased() ?? "cql2-text" {
            case "cql2-text": e = try CQL2.parseText(text, limits: options.limits)
            case "cql2-json": e = try CQL2.parseJSON(text, limits: options.limits)
            default: throw OGCError.bad("filter-lang", "unknown language '\(lang ?? "")' (accepted: cql2-text, cql2-json)")
            }
        } catch let error as CQL2Error {
            throw OGCError.bad("filter", error.description)
        } catch {
            throw error as! OGCError
        }
        return try _CQL2Plan(e, visible: access.visibleProperty)
    }

    // MARK: Building blocks

    /// The layer `id` names when the map has it, `access` allows the layer and, when `access`
    /// restricts within layers, some feature of it is visible (else 404: a layer holding only
    /// hidden features answers as an absent one). O(1) for a layer-only grant; else a scan of
    /// the layer's ids (``PipeMap/segmentIDs(within:of:crs:filter:)``, the grant's predicate on
    /// each).
    func visibleLayer(_ id: String, _ access: OGCAccess) throws(OGCError) -> LayerCode {
        let layer = LayerCode(rawValue: id)
        let present = try engine("collectionId") { () throws(EngineError) in try map.layerExtents() }
        guard present[layer] != nil, access.filter.layers?.contains(layer) ?? true else {
            throw OGCError.notFound("collectionId", "collection '\(id)'")
        }
        if access.restrictsWithinLayers {
            var f = access.filter
            f.layers = [layer]
            guard try !engine("collectionId", { () throws(EngineError) in try map.segmentIDs(filter: f) }).isEmpty else {
                throw OGCError.notFound("collectionId", "collection '\(id)'")
            }
        }
        return layer
    }

    /// The extent (map CRS) of each layer's visible features (only `only` when given).
    func visibleExtents(_ access: OGCAccess, only: LayerCode?) throws(OGCError) -> [LayerCode: Envelope] {
        let all = try engine("collections") { () throws(EngineError) in try map.layerExtents() }
        var layers = Set(all.keys).intersection(access.filter.layers ?? Set(all.keys))
        if let only { layers = layers.intersection([only]) }
        guard access.restrictsWithinLayers else { return all.filter { layers.contains($0.key) } }
        var out: [LayerCode: Envelope] = [:]
        var f = access.filter
        f.layers = layers
        let ids = try engine("collections") { () throws(EngineError) in try map.segmentIDs(filter: f) }
        for id in ids {
            guard let s = try record(id) else { continue }
            out[s.layer] = (out[s.layer] ?? .empty).union(Envelope(points: s.geometry.points))
        }
        return out
    }

    func title(_ layer: LayerCode) -> String {
        guard let d = catalog[layer] else { return layer.rawValue }
        return "\(d.chineseName) \(d.englishName)"
    }

    func collectionJSON(_ layer: LayerCode, _ e: Envelope) -> JSONObject {
        let id = Self.escape(layer.rawValue)
        var spatial = JSONObject()
        if let w = MapSummary.wgs84(of: e, crs: map.crs) { spatial.append("bbox", .array([.array(w.map(JSONValue.number))])) }
        spatial.append("crs", .string(Self.crs84))
        spatial.append("storageCrsBbox", .array([.array([e.minX, e.minY, e.maxX, e.maxY].map(JSONValue.number))]))
        return [
            "crs": .array([.string(Self.crs84), .string(mapCRSURI)]),
            "extent": .object(["spatial": .object(spatial)]),
            "id": .string(layer.rawValue),
            "itemType": .string("feature"),
            "links": .array([
                link("\(baseURL)/collections/\(id)", "self", "application/json", title(layer)),
                link("\(baseURL)/collections/\(id)/items", "items", "application/geo+json", "Features"),
                link("\(baseURL)/collections/\(id)/queryables", "http://www.opengis.net/def/rel/ogc/1.0/queryables", "application/schema+json", "Queryables"),
            ]),
            "storageCrs": .string(mapCRSURI),
            "title": .string(title(layer)),
        ]
    }

    func outputTransform(_ crs: String) throws(OGCError) -> Transformer? {
        guard crs != map.crs else { return nil }
        do { return try Transformer(from: map.crs, to: crs) } catch {
            throw OGCError(status: 500, parameter: "crs", "cannot transform the map CRS \(map.crs) to \(crs)")
        }
    }

    /// One feature: id, geometry (in the output CRS) and the visible, selected properties.
    func featureJSON(_ s: PipeSegment, access: OGCAccess, selected: Set<String>?, transform: Transformer?) throws(OGCError) -> String {
        var props = JSONObject()
        for p in OGCProperty.all where (p.name == "id" || access.visibleProperty(p.name)) && (selected?.contains(p.name) ?? true) {
            let v = p.value(s)
            if v != .null { props.append(p.name, v) }
        }
        var g = Geometry.lineString(s.geometry)
        if let transform {
            do { g = try transform.transform(g) } catch {
                throw OGCError(status: 500, parameter: "crs", "feature \(s.id) cannot be transformed to the output CRS")
            }
        }
        return GeoJSON.write(GeoJSONFeature(id: .number(Double(s.id)), geometry: g, properties: props))
    }

    func record(_ id: Int64) throws(OGCError) -> PipeSegment? {
        try engine("featureId") { () throws(EngineError) in try map.segment(id: id) }
    }

    /// Runs an engine call; a refusal of the caller's geometry (outside the map's area, unknown
    /// CRS) is a 400 naming `parameter`.
    func engine<T>(_ parameter: String, _ body: () throws(EngineError) -> T) throws(OGCError) -> T {
        do { return try body() } catch { throw OGCError.bad(parameter, error.description) }
    }

    func link(_ href: String, _ rel: String, _ type: String, _ title: String) -> JSONValue {
        .object(["href": .string(href), "rel": .string(rel), "title": .string(title), "type": .string(type)])
    }

    func url(_ path: String, _ query: [String: String]) -> String {
        let q = query.keys.sorted().map { "\(Self.escape($0))=\(Self.escape(query[$0]!))" }.joined(separator: "&")
        return baseURL + path + (q.isEmpty ? "" : "?" + q)
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }

    func json(_ o: JSONObject, etagOf path: String, query: [String: String], dataVersion: String, access: OGCAccess) -> OGCResponse {
        OGCResponse(
            contentType: "application/json", body: GeoJSON.write(JSONValue.object(o)),
            headers: [.init("ETag", etag(path, query, dataVersion, access))])
    }

    /// A weak ETag: FNV-1a 64 of the data version, the access key, the path and the sorted
    /// query, so it changes with the data, the grant and the request, and with nothing else.
    func etag(_ path: String, _ query: [String: String], _ dataVersion: String, _ access: OGCAccess) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let text = ([dataVersion, access.key, baseURL, path] + query.keys.sorted().map { "\($0)=\(query[$0]!)" }).joined(separator: "\u{0}")
        for b in text.utf8 {
            h ^= UInt64(b)
            h = h &* 0x100_0000_01b3
        }
        let hex = String(h, radix: 16)
        return "W/\"\(String(repeating: "0", count: 16 - hex.count) + hex)\""
    }
}
