import Foundation
import HTTPTypes
import Hummingbird
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraRequests

extension SubterraServer {
    // MARK: Query routes (the JSON of one `query --batch` line)

    /// `POST /nearest`, `/within`, `/intersects`, `/route-checks`, `/sections`: the body is one
    /// batch line; its `op` may be left out (the route names it) and must match when given.
    func query(_ op: QueryRequest.Op, _ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let p = try Self.principal(context)
        let text = String(decoding: try await body(request), as: UTF8.self)
        let q = try Self.decode(text, op: op, limits: runner.limits)
        let (answer, layers, area) = try scoped(q, p.scope)
        context.note.set(area: area, layers: layers, features: Self.featureCount(answer))
        return Self.json(GeoJSON.write(answer))
    }

    /// One request body as a ``QueryRequest``, its `op` set to `op`.
    static func decode(_ text: String, op: QueryRequest.Op, limits: RequestLimits) throws(Problem) -> QueryRequest {
        do { try RequestRunner.precheck(text, limits: limits) } catch { throw Problem.badRequest(error.description) }
        let value: JSONValue
        do { value = try JSONValue.parse(Array(text.utf8), limits: Self.jsonLimits) } catch {
            throw Problem.badRequest("the body is not valid JSON")
        }
        guard case .object(var o) = value else { throw Problem.badRequest("the body must be a JSON object") }
        if let given = o["op"] {
            guard given.stringValue == op.rawValue else {
                throw Problem.badRequest("field op: this route answers '\(op.rawValue)'; leave op out or send '\(op.rawValue)'")
            }
        } else {
            o["op"] = .string(op.rawValue)
        }
        do { return try JSONDecoder().decode(QueryRequest.self, from: Data(GeoJSON.write(.object(o)).utf8)) } catch let e as RequestError {
            throw Problem.badRequest(e.description)
        } catch {
            throw Problem.badRequest(RequestError(error).description)
        }
    }

    /// The answer to `q` under `scope`, masked; the layers it ran over and the request's bounds
    /// (as given, for the audit log).
    func scoped(_ q: QueryRequest, _ scope: AccessScope) throws(Problem) -> (JSONValue, [String], [Double]?) {
        if q.op.isNetwork {
            let (v, layers) = try scopedNetwork(q, scope)
            return (v, layers, nil)
        }
        let codes = map.codes
        let visible = scope.layers
        var layers = visible
        var q2 = q
        // Names outside the grant get the same answer whether or not they exist: nothing
        // about hidden layers, owners or sub-types can be learnt from an error.
        if let ls = q.layers {
            var chosen: Set<LayerCode> = []
            for t in ls {
                guard let c = try? codes.layer(t, field: "field layers"), visible.contains(c) else {
                    throw Problem.badRequest("field layers: '\(QueryRequest.clip(t))' is not a layer you may see")
                }
                chosen.insert(c)
            }
            layers = chosen
        }
        if let ss = q.subtypes {
            let within = Array(layers).sorted { $0.rawValue < $1.rawValue }
            for s in ss where (try? codes.subtype(s, inLayers: within, field: "field subtypes")) == nil {
                throw Problem.badRequest("field subtypes: '\(QueryRequest.clip(s))' is not a sub-type of a layer you may see")
            }
        }
        // Owners are applied as a filter, never looked up: an unknown owner matches nothing.
        let owners = q.owners.map(Set.init)
        q2.owners = nil
        let restrict: (PipeFilter) -> PipeFilter = { f in
            var g = scope.restricting(f)
            if let owners { g.owners = g.owners.map { $0.intersection(owners) } ?? owners }
            return g
        }
        let bounds = (try? runner.geometry(q)).map { g -> [Double] in
            let e = g.geometry.envelope
            return [e.minX, e.minY, e.maxX, e.maxY]
        }
        let names = layers.map(\.rawValue).sorted()
        if q.op == .checkDig {
            return (try digAnswer(q, scope), names, bounds)
        }
        // A route check runs over the whole map, like a dig check, so that a hidden utility
        // along the route is still announced (owner and contact only).
        let isRoute = q.op == .checkRoute
        let value: JSONValue
        do { value = try runner.resultValue(for: q2, restrict: isRoute ? { $0 } : restrict) } catch let e as RequestError {
            throw Problem.badRequest(e.description)
        } catch {
            throw Problem.badRequest(RequestError(error).description)
        }
        let masked = mask(scope).apply(value)
        guard isRoute, case .object(var o) = masked else { return (masked, names, bounds) }
        o["hiddenUtilities"] = .array(hiddenNotices(in: value, scope).map(Self.json))
        return (.object(o), names, bounds)
    }

    /// Notices for the pipes of an unmasked report's `findings` and `unchecked` lists that
    /// `scope` does not show: one per owner, by owner.
    func hiddenNotices(in report: JSONValue, _ scope: AccessScope) -> [HiddenUtilityNotice] {
        guard case .object(let o) = report else { return [] }
        var owners: Set<String> = []
        for list in ["findings", "unchecked"] {
            guard case .array(let items)? = o[list] else { continue }
            for item in items {
                guard let n = item.objectValue?["pipeID"]?.numberValue, n == n.rounded(), abs(n) < 9e18 else { continue }
                let s = segment(Int64(n))
                if s.map(scope.admits) != true { owners.insert(s?.owner ?? "(unknown owner)") }
            }
        }
        return owners.sorted().map { HiddenUtilityNotice(owner: $0, contact: policy.contact(for: $0)) }
    }

    static func json(_ h: HiddenUtilityNotice) -> JSONValue {
        var o = JSONObject()
        o.append("owner", .string(h.owner))
        o.append("contact", .string(h.contact))
        o.append("message", .string(h.message))
        return .object(o)
    }

    // MARK: Dig checks

    /// A batch line's `check-dig`: the scoped dig answer (not stored).
    func digAnswer(_ q: QueryRequest, _ scope: AccessScope) throws(Problem) -> JSONValue {
        guard let depth = q.depth else { throw Problem.badRequest("field depth is missing (metres)") }
        let g: InputGeometry
        do { g = try runner.geometry(q) } catch { throw Problem.badRequest(error.description) }
        return try scopedDig(DigRequest(area: g.geometry, crs: g.crs, plannedDepth: depth, workType: q.workType), scope)
    }

    /// The dig check over every pipe, cut to `scope`: visible conflicts grouped by owner, the
    /// owners to notify (with contacts), hidden-utility notices, and the rest of the report.
    func scopedDig(_ request: DigRequest, _ scope: AccessScope) throws(Problem) -> JSONValue {
        let report: DigReport
        do { report = try map.digCheck(request, filter: .all) } catch { throw Problem.badRequest(error.description) }
        // The report's pipes are looked up once for the cut and the mask both.
        let segments = SegmentMemo { self.segment($0) }
        let cut = ScopedDigReport(report, scope: scope, lookup: segments.segment, contact: { self.policy.contact(for: $0) })
        guard case .object(let full) = AnswerMask(scope: scope, lookup: segments.segment).apply(cut.report.jsonValue)
        else { throw Problem(.internalServerError, "the dig report could not be written") }
        var out = JSONObject()
        for (k, v) in full.members where !["conflicts", "owners", "layers"].contains(k) { out.append(k, v) }
        // Conflicts grouped by owner, owners in the engine's notice order (most severe first),
        // each group in the report's order: one pass over the conflicts, each to the notices
        // naming its pipe.
        let conflicts: [JSONValue] = if case .array(let a)? = full["conflicts"] { a } else { [] }
        var noticesOf: [Double: [Int]] = [:]
        for (i, notice) in cut.report.owners.enumerated() {
            for id in notice.pipeIDs where noticesOf[Double(id)]?.last != i { noticesOf[Double(id), default: []].append(i) }
        }
        var members = [[JSONValue]](repeating: [], count: cut.report.owners.count)
        for c in conflicts {
            guard let id = c.objectValue?["pipeID"]?.numberValue, let owners = noticesOf[id] else { continue }
            for i in owners { members[i].append(c) }
        }
        var groups: [JSONValue] = []
        var notify: [JSONValue] = []
        for (i, notice) in cut.report.owners.enumerated() {
            let mine = members[i]
            var n = JSONObject()
            n.append("owner", .string(notice.owner))
            n.append("contact", .string(policy.contact(for: notice.owner)))
            n.append("highestSeverity", .string(notice.highestSeverity.rawValue))
            notify.append(.object(n))
            guard !mine.isEmpty else { continue }
            var g = JSONObject()
            g.append("owner", .string(notice.owner))
            g.append("highestSeverity", .string(notice.highestSeverity.rawValue))
            g.append("conflicts", .array(mine))
            groups.append(.object(g))
        }
        out.append("conflictsByOwner", .array(groups))
        out.append("ownersToNotify", .array(notify))
        out.append("hiddenUtilities", .array(cut.hidden.map(Self.json)))
        return .object(out)
    }

    /// `POST /dig-checks`: validates, checks, stores and answers (201 with `Location`); with an
    /// `Idempotency-Key` seen before from the same user, replays the stored answer (200), or
    /// refuses a different body under the same key (422).
    /// The data version a dig check answered at, as `X-Data-Version` counts: an engine's report
    /// names its snapshot (`mapVersion`), which ``UtilityEngine/dataVersion(atMapVersion:)``
    /// turns into the data version; another map (a follower, a snapshot file while the engine
    /// loads) records the version read before the check (`started`), or null.
    /// - Parameter engine: ``answeringEngine()`` as read **before** the check: a warming map
    ///   whose engine finished loading during the check may have answered from its snapshot
    ///   file, whose `mapVersion` the engine's numbering does not describe.
    static func dataVersion(ofMapVersion mapVersion: JSONValue?, startedAt started: UInt64?, engine: UtilityEngine?) -> JSONValue {
        if let engine, case .number(let v)? = mapVersion, v >= 0, v < 1e18 {
            return .number(Double(engine.dataVersion(atMapVersion: UInt64(v))))
        }
        return started.map { .number(Double($0)) } ?? .null
    }

    /// The engine that answers every query from now on, when there is one: the map itself, or
    /// a warming map's engine once loaded (it never goes back to its snapshot file); nil while
    /// the snapshot file answers, and for other maps.
    func answeringEngine() -> UtilityEngine? {
        switch map {
        case let w as WarmingMap: w.engine
        case let e as UtilityEngine: e
        default: nil
        }
    }

    func postDigCheck(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        // The map's data version before the check: what a map that cannot name the version of
        // the snapshot it answered from (a follower) records, a lower bound as X-Data-Version is.
        let startVersion = engineState.version
        let answering = answeringEngine()
        let p = try Self.principal(context)
        let bytes = try await body(request)
        let fingerprint = DigCheckStore.fingerprint(bytes)
        let key = request.headers[Self.idempotencyHeader]
        if let key {
            guard !key.isEmpty, key.utf8.count <= 200 else {
                throw Problem(.badRequest, "header Idempotency-Key must be 1 to 200 bytes", field: "Idempotency-Key")
            }
            if let stored = digChecks.check(user: p.name, idempotencyKey: key) {
                return try replay(stored, fingerprint: fingerprint, context)
            }
        }
        let text = String(decoding: bytes, as: UTF8.self)
        do { try RequestRunner.precheck(text, limits: runner.limits) } catch { throw Problem.badRequest(error.description) }
        let value: JSONValue
        do { value = try JSONValue.parse(bytes, limits: Self.jsonLimits) } catch {
            throw Problem.badRequest("the body is not valid JSON")
        }
        let input = try DigCheckInput(json: value)
        let dig = try ValidatedDig(input, map: map, runner: runner, limits: config.limits)
        context.note.set(area: [dig.bounds.minX, dig.bounds.minY, dig.bounds.maxX, dig.bounds.maxY], layers: p.scope.layers.map(\.rawValue).sorted())
        let answer = try scopedDig(
            DigRequest(area: dig.area, crs: map.crs, plannedDepth: input.depth, workType: input.workType,
                startDate: input.startDate, endDate: input.endDate), p.scope)
        guard case .object(let body) = answer else { throw Problem(.internalServerError, "the dig report could not be written") }
        let id = DigCheckStore.newID()
        var o = JSONObject()
        o.append("id", .string(id))
        o.append("createdAt", .string(AuditLog.now()))
        o.append("dataVersion", Self.dataVersion(ofMapVersion: body["mapVersion"], startedAt: startVersion, engine: answering))
        o.append("areaSquareMetres", .number((dig.squareMetres * 100).rounded() / 100))
        for (k, v) in body.members { o.append(k, v) }
        let features = Self.featureCount(.object(o))
        let made = StoredDigCheck(
            id: id, user: p.name, idempotencyKey: key, fingerprint: fingerprint, answer: GeoJSON.write(.object(o)), features: features)
        let stored = await digChecks.store(made, trustedJSON: true)
        if stored.id != made.id { return try replay(stored, fingerprint: fingerprint, context) }
        context.note.set(features: features, detail: "dig check \(id)")
        var h = HTTPFields()
        h[.location] = "/dig-checks/\(id)"
        return Self.json(stored.answer, status: .created, headers: h)
    }

    func replay(_ stored: StoredDigCheck, fingerprint: String, _ context: ServiceRequestContext) throws(Problem) -> Response {
        guard stored.fingerprint == fingerprint else {
            throw Problem(
                .unprocessableContent, "header Idempotency-Key was used before with a different request body", field: "Idempotency-Key")
        }
        context.note.set(features: stored.features, detail: "replay of dig check \(stored.id)")
        var h = HTTPFields()
        h[.location] = "/dig-checks/\(stored.id)"
        h[Self.replayedHeader] = "true"
        return Self.json(stored.answer, headers: h)
    }

    /// `GET /dig-checks/{id}`: the stored answer, byte for byte, to the user who asked it or an
    /// admin; 404 to anyone else (whether or not it exists).
    func getDigCheck(_ request: Request, _ context: ServiceRequestContext) throws -> Response {
        let p = try Self.principal(context)
        let id = context.parameters.get("id") ?? ""
        guard let stored = digChecks.check(id: id), stored.user == p.name || p.scope.isAdmin else {
            throw Problem(.notFound, "no dig check '\(QueryRequest.clip(id))' of yours")
        }
        context.note.set(features: stored.features, detail: "replay of dig check \(stored.id)")
        return Self.json(stored.answer)
    }

    /// Limits for reading JSON with ``JSONValue/parse(_:limits:)``: request bodies passed
    /// `RequestRunner.precheck` (nesting and size) before, and answers are our own, so only the
    /// parser's own depth ceiling applies.
    static let jsonLimits = ParseLimits(maxDepth: ParseLimits.depthCeiling, maxVertices: .max, maxBytes: .max)

    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!
    static let replayedHeader = HTTPField.Name("Idempotent-Replayed")!

    // MARK: Batch

    /// `POST /batch`: JSON lines in, one answer line out per non-blank line, in order, each as
    /// `query --batch` writes it; each line under the caller's scope. At most
    /// `limits.maxBatchLines` lines.
    func batch(_ request: Request, _ context: ServiceRequestContext) async throws -> Response {
        let p = try Self.principal(context)
        let text = String(decoding: try await body(request), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count <= config.limits.maxBatchLines + 1 else {
            throw Problem.badRequest("the batch has more than \(config.limits.maxBatchLines) lines (limits.maxBatchLines)")
        }
        var out = ""
        var features = 0
        for (i, raw) in lines.enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            out += runner.answer(line: line, number: i + 1) { q in
                do {
                    let (v, _, _) = try self.scoped(q, p.scope)
                    features += q.op.isNetwork ? Self.networkFeatureCount(v) : Self.featureCount(v)
                    return GeoJSON.write(v)
                } catch {
                    throw RequestError((error as? Problem)?.detail ?? "\(error)")
                }
            }
            out += "\n"
        }
        context.note.set(layers: p.scope.layers.map(\.rawValue).sorted(), features: features)
        var h = HTTPFields()
        h[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: out)))
    }

    // MARK: Audit

    /// `GET /audit?user=&since=&until=&limit=`: audit entries for an admin role (403 else).
    func auditEntries(_ request: Request, _ context: ServiceRequestContext) throws -> Response {
        let p = try Self.principal(context)
        guard p.scope.isAdmin else { throw Problem(.forbidden, "reading the audit log needs an admin role") }
        let q = request.uri.queryParameters
        let limit: Int
        if let l = q["limit"] {
            guard let n = Int(l), n > 0, n <= 100_000 else { throw Problem(.badRequest, "query limit must be 1 to 100000", field: "limit") }
            limit = n
        } else {
            limit = 1000
        }
        let entries = audit.entries(user: q["user"].map(String.init), since: q["since"].map(String.init), until: q["until"].map(String.init), limit: limit)
        context.note.set(features: entries.count)
        struct Page: Encodable { var entries: [AuditEntry] }
        let data = (try? AnswerJSON.encoder(pretty: false).encode(Page(entries: entries))) ?? Data("{\"entries\":[]}".utf8)
        return Self.json(String(decoding: data, as: UTF8.self))
    }
}

/// A segment lookup that asks its source once per id: a dig answer's pipes are looked up by the
/// cut to the scope and again by the mask. Used by one request at a time.
final class SegmentMemo {
    private let source: (Int64) -> PipeSegment?
    private var seen: [Int64: PipeSegment?] = [:]

    init(_ source: @escaping (Int64) -> PipeSegment?) { self.source = source }

    func segment(_ id: Int64) -> PipeSegment? {
        if let s = seen[id] { return s }
        let s = source(id)
        seen[id] = s
        return s
    }
}
