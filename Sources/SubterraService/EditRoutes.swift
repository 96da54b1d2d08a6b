import Foundation
import HTTPTypes
import Logging
import Hummingbird
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraRequests

/// Serializes the service's edits, so that an `If-Match` check, the id a `POST` gets and the
/// engine's publication of the edit happen as one step; reads never wait for it (queries run on
/// the snapshot they started with).
final class EditDesk: @unchecked Sendable {
    private let lock = NSLock()
    /// The next id a created feature gets; nil until the first `POST` scans the map.
    private var nextID: Int64?

    /// The data version of the last edit this server made.
    private var last: UInt64 = 0

    /// Runs `body` alone among edits, with the id counter.
    func run<T>(_ body: (inout Int64?) throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&nextID)
    }

    /// Records that an edit made data version `v`.
    func committed(_ v: UInt64) { lock.withLock { last = max(last, v) } }

    /// The data version of the last edit this server made (0 before the first).
    var lastCommitted: UInt64 { lock.withLock { last } }
}

extension SubterraServer {
    // MARK: Edits (OGC API – Features Part 4)

    /// `POST /collections/{layer}/items` (create, 201 + `Location`), `PUT …/items/{id}`
    /// (replace, 200) and `DELETE …/items/{id}` (204).
    ///
    /// - **Who:** a caller some grant lets edit the feature (``AccessScope/mayEdit(_:)``: an edit
    ///   layer, and inside the grant's owners and area), both the stored record and what
    ///   replaces it. A feature the caller cannot see answers 404 as for reads (its existence
    ///   does not leak); one it sees but may not edit, 403.
    /// - **What:** the body is checked as the importer checks a record (``OGCEdit``): 400 for a
    ///   malformed body or unknown member, 422 for a record the quality checks refuse, naming
    ///   the member.
    /// - **Optimistic locking:** `If-Match` is compared (weakly: the service's tags are weak,
    ///   and change with the data version) with the ETag of `GET` on the same feature (PUT,
    ///   DELETE) or on the collection's items (POST), without parameters; a stale tag is 412,
    ///   carrying the current tag. **A missing `If-Match` is accepted** (the last writer wins),
    ///   as OGC API Features Part 4 allows; clients that need lost-update protection send it.
    /// - **Transactional:** one ``StoreEdit`` through ``UtilityEngine/apply(_:)``: the store
    ///   and the engine both take it or neither does; readers keep their snapshot. The answer
    ///   carries the new data version in `X-Data-Version` and (`POST`, `PUT`) the body's
    ///   `dataVersion` member, beside the feature as `GET` would show it.
    /// - Edits need the whole engine: while the store's snapshot file answers (warming up), 503
    ///   with `Retry-After`.
    func addEditRoutes(to router: Router<ServiceRequestContext>) {
        router.post("/collections/{layer}/items") { request, context in try await self.createItem(request, context) }
        router.put("/collections/{layer}/items/{id}") { request, context in try await self.replaceItem(request, context) }
        router.delete("/collections/{layer}/items/{id}") { request, context in try await self.deleteItem(request, context) }
    }

    static let dataVersionHeader = HTTPField.Name("X-Data-Version")!
    static let contentCRSHeader = HTTPField.Name("Content-Crs")!

    /// The engine that takes edits (a following map's: the one answering now), or 503.
    func editEngine() throws(Problem) -> UtilityEngine {
        switch map {
        case let e as UtilityEngine: return e
        case let f as any EditableFollowingMap: return f.engine
        case let w as WarmingMap:
            if let e = w.engine { return e }
            if w.loadError != nil {
                throw Problem(.serviceUnavailable, "edits need the whole map, which failed to load; only reads are answered")
            }
            var p = Problem(.serviceUnavailable, "the map is still loading; edits are taken once it has loaded")
            p.headers[.retryAfter] = "5"
            throw p
        default:
            throw Problem(.serviceUnavailable, "this map is served read-only")
        }
    }

    /// The collection of the path, when the caller may see that layer (else 404, as for reads).
    func editCollection(_ context: ServiceRequestContext, _ p: Principal) throws(Problem) -> LayerCode {
        let text = context.parameters.get("layer") ?? ""
        let layer = LayerCode(rawValue: text)
        guard map.codes.layers.contains(layer), p.scope.layers.contains(layer) else {
            throw Problem(.notFound, "collection '\(QueryRequest.clip(text))' does not exist", field: "collectionId")
        }
        return layer
    }

    /// The stored feature of the path, when the caller may see it (else 404 whatever the
    /// reason, so existence does not leak), and may edit it (else 403).
    func editedFeature(_ context: ServiceRequestContext, _ p: Principal, _ layer: LayerCode, _ engine: UtilityEngine)
        throws(Problem) -> PipeSegment
    {
        let text = context.parameters.get("id") ?? ""
        guard let id = Int64(text), let s = engine.segment(id: id), s.layer == layer, p.scope.admits(s) else {
            throw Problem(
                .notFound, "feature '\(QueryRequest.clip(text))' in collection '\(layer.rawValue)' does not exist", field: "featureId")
        }
        guard p.scope.mayEdit(s) else {
            throw Problem(.forbidden, "your roles may not edit feature \(id) of collection '\(layer.rawValue)'", title: "Forbidden")
        }
        return s
    }

    /// Refuses a stale `If-Match` (412, with the current tag), when one is given.
    func checkIfMatch(_ request: Request, current: String) throws(Problem) {
        guard let given = request.headers[.ifMatch] else { return }
        guard Self.etagMatches(given, current) else {
            var p = Problem(
                .preconditionFailed, "If-Match: the data changed since that ETag was served; read the feature again (current ETag in this answer)",
                field: "If-Match", title: "Precondition Failed")
            p.headers[.eTag] = current
            throw p
        }
    }

    /// The body as a segment (``OGCEdit``), refusals as problems.
    func editedSegment(
        _ request: Request, _ body: [UInt8], id: Int64, layer: LayerCode, base: PipeSegment?, engine: UtilityEngine, access: OGCAccess
    ) throws(Problem) -> PipeSegment {
        if let type = request.headers[.contentType]?.lowercased(),
            !(type.hasPrefix("application/geo+json") || type.hasPrefix("application/json"))
        {
            throw Problem(.unsupportedMediaType, "Content-Type \(QueryRequest.clip(type)): send application/geo+json", field: "Content-Type")
        }
        do {
            return try OGCEdit.segment(
                from: body, id: id, layer: layer, base: base, map: engine, limits: runner.limits,
                contentCRS: request.headers[Self.contentCRSHeader], writable: access.visibleProperty)
        } catch {
            throw Problem(HTTPResponse.Status(code: error.status), error.detail, field: error.parameter)
        }
    }

    /// Applies `edit`: to the engine (which writes its store), or, on a following map, to the
    /// store of record, which must still hold `base` (the records the edit was made from;
    /// ``EditableFollowingMap``); returns the data version it made (a following map's: the
    /// store's). The engine's own refusals (the map's area of use, vertex checks) are 422; a
    /// store that lost an optimistic race, or no longer holds `base`, is 409 (read again and
    /// redo); a store that cannot write (read-only, full, damaged) is 503, the server's fault
    /// and not the request's, with the reason in the server log only.
    func apply(_ edit: StoreEdit, basedOn base: EditBase, to engine: UtilityEngine) throws(Problem) -> UInt64 {
        do {
            if let f = map as? any EditableFollowingMap {
                return UInt64(max(0, try f.commit(edit, basedOn: base)))
            }
            try engine.apply(edit)
        } catch {
            switch error.storeFailure {
            case .conflict?:
                throw Problem(.conflict, "the edit lost a race with another editor; read the feature again and redo the edit")
            case .some:
                logger.error("the store refused an edit", metadata: ["error": "\(error)"])
                throw Problem(.serviceUnavailable, "the store could not record the edit; nothing was changed")
            case nil:
                let field = error.message.contains("vertex") ? "geometry" : nil
                throw Problem(.unprocessableContent, "the edit was refused: \(error.message)", field: field)
            }
        }
        return engine.dataVersion
    }

    /// Whether this server shows data version `version` (of an edit it just made): at once for
    /// an engine, which applied it; a following map is waited for, outside the edit desk and
    /// without blocking a thread, up to ``ServiceLimits/maxVersionWaitS``.
    func shows(_ version: UInt64) async -> Bool {
        guard let f = map as? any EditableFollowingMap else { return true }
        if await f.waitForStoreVersion(Int64(clamping: version), timeout: config.limits.maxVersionWait) { return true }
        logger.warning("an edit is committed but not yet shown here", metadata: ["version": "\(version)", "shown": "\(f.storeVersion)"])
        return false
    }

    /// Waits (as ``shows(_:)``) until this server shows its own last edit, before an edit reads
    /// the feature it changes: on a following map a commit reaches the engine through the
    /// change log, so without this a second edit right after the first would read the record
    /// as it was and be refused by the store (409) rather than judged by its `If-Match` (412).
    func showsLastEdit() async {
        guard map is any EditableFollowingMap else { return }
        let last = editDesk.lastCommitted
        if last > 0 { _ = await shows(last) }
    }

    /// The answer to an edit committed to the store of record that this server does not show
    /// yet (its follower lags): 202, the store's version (readable with `X-Min-Data-Version`)
    /// and the feature's id, no ETag (this server's tags would not name that version yet).
    func committedNotShown(_ id: Int64, version: UInt64, location: String? = nil) -> Response {
        var h = HTTPFields()
        if let location { h[.location] = location }
        h[Self.dataVersionHeader] = String(version)
        h[.cacheControl] = "no-store"
        h[.contentType] = "application/json"
        let body = "{\"dataVersion\":\(version),\"id\":\(id),\"shown\":false}"
        return Response(status: .accepted, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Where `GET` reads feature `s` (a created feature's `Location`).
    static func itemLocation(_ ogc: OGCFeatures, _ s: PipeSegment) -> String {
        let layerPath = s.layer.rawValue.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s.layer.rawValue
        return "\(ogc.baseURL)/collections/\(layerPath)/items/\(s.id)"
    }

    /// The answer to a `POST` or `PUT`: the feature as `GET` shows it to the caller (with the
    /// `dataVersion` member), its ETag and the version header.
    func editAnswer(
        _ request: Request, _ s: PipeSegment, version: UInt64, access: OGCAccess, status: HTTPResponse.Status
    ) -> Response {
        let ogc = OGCFeatures(map: map, baseURL: baseURL(request))
        let v = etagVersion(version)
        var h = HTTPFields()
        h[Self.dataVersionHeader] = String(version)
        h[.eTag] = ogc.itemETag(collection: s.layer.rawValue, featureID: s.id, access: access, dataVersion: v)
        h[.cacheControl] = "no-store"
        if status == .created { h[.location] = Self.itemLocation(ogc, s) }
        // As GET would show it; an editor whose grant shows the layer sees it (mayEdit ⊂ admits).
        var body = "{\"dataVersion\":\(version),\"id\":\(s.id)}"
        if let r = try? ogc.item(collection: s.layer.rawValue, featureID: String(s.id), query: [:], access: access, dataVersion: v),
            r.body.hasPrefix("{")
        {
            body = "{\"dataVersion\":\(version)," + r.body.dropFirst()
        }
        h[.contentType] = "application/geo+json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func noteEdit(_ context: ServiceRequestContext, _ verb: String, _ s: PipeSegment, version: UInt64) {
        let e = Envelope(points: s.geometry.points)
        context.note.set(
            area: [e.minX, e.minY, e.maxX, e.maxY], layers: [s.layer.rawValue], features: 1,
            detail: "\(verb) feature \(s.id); data version \(version)")
    }

    func createItem(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let p = try Self.principal(context)
        let layer = try editCollection(context, p)
        guard p.scope.editLayers.contains(layer) else {
            throw Problem(.forbidden, "your roles may not edit collection '\(layer.rawValue)'", title: "Forbidden")
        }
        let engine = try editEngine()
        let bytes = try await body(request)
        let access = ogcAccess(p)
        let ogc = OGCFeatures(map: map, baseURL: baseURL(request))
        await showsLastEdit()
        let (s, version) = try editDesk.run { (next: inout Int64?) throws -> (PipeSegment, UInt64) in
            var id = try next ?? Self.firstFreeID(engine)
            let following = map as? any EditableFollowingMap
            // Other servers insert too: past the store's largest id as well.
            if let following { id = max(id, try Self.storeNextID(following, logger: logger)) }
            /// The record with id `id` (point names made from the id when the caller cannot
            /// name them, so a retry makes it anew), within the caller's edit grant.
            func record(_ id: Int64) throws(Problem) -> PipeSegment {
                let s = try editedSegment(request, bytes, id: id, layer: layer, base: nil, engine: engine, access: access)
                guard p.scope.mayEdit(s) else {
                    throw Problem(.forbidden, "the feature would lie outside your roles' edit grant (owner or area)", title: "Forbidden")
                }
                return s
            }
            let s = try record(id)
            try checkIfMatch(request, current: ogc.itemsETag(collection: layer.rawValue, access: access, dataVersion: ogcDataVersion))
            do {
                let v = try apply(StoreEdit(upsertSegments: [s]), basedOn: EditBase(), to: engine)
                next = id + 1
                return (s, v)
            } catch let problem as Problem where problem.status == .conflict {
                // Another server took the id between the read of the largest and the commit:
                // once more, with the store's largest read again.
                guard let following else { throw problem }
                let retry = try record(max(id + 1, try Self.storeNextID(following, logger: logger)))
                let v = try apply(StoreEdit(upsertSegments: [retry]), basedOn: EditBase(), to: engine)
                next = retry.id + 1
                return (retry, v)
            }
        }
        editDesk.committed(version)
        noteEdit(context, "created", s, version: version)
        metrics.edit(verb: "create", lag: ContinuousClock.now - start, version: version)
        guard await shows(version) else { return committedNotShown(s.id, version: version, location: Self.itemLocation(ogc, s)) }
        return editAnswer(request, s, version: version, access: access, status: .created)
    }

    func replaceItem(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let p = try Self.principal(context)
        let layer = try editCollection(context, p)
        let engine = try editEngine()
        _ = try editedFeature(context, p, layer, engine)
        let bytes = try await body(request)
        let access = ogcAccess(p)
        let ogc = OGCFeatures(map: map, baseURL: baseURL(request))
        await showsLastEdit()
        let (s, version) = try editDesk.run { (_: inout Int64?) throws -> (PipeSegment, UInt64) in
            // Again under the desk: an edit may have changed or removed it meanwhile.
            let old = try editedFeature(context, p, layer, engine)
            try checkIfMatch(request, current: ogc.itemETag(collection: layer.rawValue, featureID: old.id, access: access, dataVersion: ogcDataVersion))
            let s = try editedSegment(request, bytes, id: old.id, layer: layer, base: old, engine: engine, access: access)
            guard p.scope.mayEdit(s) else {
                throw Problem(.forbidden, "the replacement would lie outside your roles' edit grant (owner or area)", title: "Forbidden")
            }
            return (s, try apply(StoreEdit(upsertSegments: [s]), basedOn: EditBase(segments: [old]), to: engine))
        }
        editDesk.committed(version)
        noteEdit(context, "replaced", s, version: version)
        metrics.edit(verb: "replace", lag: ContinuousClock.now - start, version: version)
        guard await shows(version) else { return committedNotShown(s.id, version: version) }
        return editAnswer(request, s, version: version, access: access, status: .ok)
    }

    func deleteItem(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let start = ContinuousClock.now
        let p = try Self.principal(context)
        let layer = try editCollection(context, p)
        let engine = try editEngine()
        let access = ogcAccess(p)
        let ogc = OGCFeatures(map: map, baseURL: baseURL(request))
        await showsLastEdit()
        let (s, version) = try editDesk.run { (_: inout Int64?) throws -> (PipeSegment, UInt64) in
            let old = try editedFeature(context, p, layer, engine)
            try checkIfMatch(request, current: ogc.itemETag(collection: layer.rawValue, featureID: old.id, access: access, dataVersion: ogcDataVersion))
            return (old, try apply(StoreEdit(deleteSegments: [old.id]), basedOn: EditBase(segments: [old]), to: engine))
        }
        editDesk.committed(version)
        noteEdit(context, "deleted", s, version: version)
        metrics.edit(verb: "delete", lag: ContinuousClock.now - start, version: version)
        guard await shows(version) else { return committedNotShown(s.id, version: version) }
        var h = HTTPFields()
        h[Self.dataVersionHeader] = String(version)
        return Response(status: .noContent, headers: h)
    }

    /// The store's next free segment id, through a following map; 503 when it cannot be read.
    static func storeNextID(_ f: any EditableFollowingMap, logger: Logger) throws(Problem) -> Int64 {
        do { return try f.nextSegmentID() } catch {
            logger.error("cannot read the store's largest id", metadata: ["error": "\(error)"])
            throw Problem(.serviceUnavailable, "the store could not be read; nothing was changed")
        }
    }

    /// One more than every segment id and multi-part feature key in the map (a new segment
    /// must not join another pipe's feature). O(n), once per service: later ids count on.
    static func firstFreeID(_ engine: UtilityEngine) throws(Problem) -> Int64 {
        let ids: [Int64]
        do { ids = try engine.segmentIDs(within: 0, of: nil, crs: nil, filter: .all) } catch {
            throw Problem(.internalServerError, "cannot list the map's ids")
        }
        var top: Int64 = 0
        for id in ids {
            top = max(top, id)
            if let f = engine.segment(id: id)?.feature { top = max(top, f) }
        }
        return top + 1
    }
}
