import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import ServiceLifecycle
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraRequests

/// The HTTP service: one warm map, the access policy in front of it, the audit log behind it.
///
/// Every data route runs the same three steps: the caller's ``AccessScope`` narrows the engine
/// filter (hidden pipes are never even candidates), the engine answers, and ``AnswerMask``
/// removes whatever the scope does not show from the answer's JSON. Handlers never check
/// access themselves.
///
/// ```swift
/// let server = try await SubterraServer(map: map, config: config, logger: logger)
/// try await server.run()          // until SIGTERM / SIGINT
/// ```
public final class SubterraServer: Sendable {
    public let map: any PipeMap
    public let config: ServiceConfig
    public let policy: AccessPolicy
    let authenticator: Authenticator
    public let audit: AuditLog
    public let metrics = ServiceMetrics()
    public let digChecks: DigCheckStore
    /// The token mixed into every ETag before the data version. On a map following a store of
    /// record with an identity (``FollowingMap/storeIdentity``), derived from that identity:
    /// the store's version names the same data on every server following it, so a tag served
    /// by one server validates on another behind the same load balancer. Otherwise a random
    /// token drawn when this server starts: the engine's data version counts from its load, so
    /// after a restart (perhaps over a store changed offline) the same count must not validate
    /// a tag handed out before. Costs one refetch per client after a restart, never a stale answer.
    let epoch: String
    /// The planners' page served at `/map/`.
    public let page: PageAssets
    let runner: RequestRunner
    let logger: Logger
    /// Serializes edits (``addEditRoutes(to:)``).
    let editDesk = EditDesk()
    /// Token buckets of ``ServiceConfig/rateLimit``.
    let limiter: RateLimiter
    /// Network topologies per (scope, data version, tolerance) for isolate and trace.
    public let networkTopologies = NetworkTopologyCache(capacity: 4)

    /// Builds the service over `map` (already opening or open); `network` (the map's survey
    /// points) serves `POST /isolate` and `/trace`, which answer 503 without it.
    /// - Throws: ``ConfigError`` naming the member: a role's unknown layer code, an unreadable
    ///   audit or dig-check file, a bad JWT key.
    /// - Parameter rateClock: the rate limiter's clock (a fake one in tests).
    public init(
        map: any PipeMap, config: ServiceConfig, logger: Logger, network: NetworkSource? = nil,
        rateClock: any RateClock = ContinuousRateClock()
    ) async throws(ConfigError) {
        self.map = map
        let identity = ((map as? any FollowingMap)?.storeIdentity ?? "").unicodeScalars.filter { $0.isASCII && $0.properties.isAlphabetic || ("0"..."9").contains($0) }
        epoch = identity.isEmpty ? String(UInt64.random(in: 1...UInt64.max), radix: 36) : "s" + String(String.UnicodeScalarView(identity.prefix(24)))
        limiter = RateLimiter(clock: rateClock)
        self.config = config
        self.logger = logger
        do { policy = try AccessPolicy(users: config.users, roles: config.roles, contacts: config.contacts, codes: map.codes) } catch {
            throw ConfigError(error.message)
        }
        authenticator = try await Authenticator(policy: policy, jwt: config.jwt)
        audit = try AuditLog(path: config.auditPath, fsync: config.auditFsync, logger: logger)
        digChecks = try DigCheckStore(path: config.digCheckPath, limit: config.limits.maxStoredChecks)
        var limits = RequestLimits.default
        limits.maxVertices = config.limits.maxVertices
        limits.maxLineBytes = config.limits.maxBodyBytes
        limits.maxGeometryBytes = config.limits.maxBodyBytes
        runner = RequestRunner(engine: map, limits: limits, network: network)
        page = PageAssets.bundled
    }

    // MARK: Application

    /// The router with every route and the middleware chain (observe → authenticate → route).
    public func router() -> Router<ServiceRequestContext> {
        let router = Router(context: ServiceRequestContext.self)
        router.add(middleware: ObserveMiddleware(metrics: metrics, audit: audit))
        router.add(middleware: AuthMiddleware(authenticator: authenticator, metrics: metrics, rateLimit: config.rateLimit, limiter: limiter))
        router.add(
            middleware: DataVersionMiddleware(
                current: { self.engineState.version.map { Int64(clamping: $0) } }, follower: map as? any FollowingMap,
                maxWait: config.limits.maxVersionWaitS))
        router.get("/health") { _, _ in self.health() }
        router.get("/metrics") { _, _ in self.metricsResponse() }
        router.get("/openapi.json") { _, _ in Self.openAPIResponse() }
        let ops: [(String, QueryRequest.Op)] = [
            ("/nearest", .nearest), ("/within", .within), ("/intersects", .intersects), ("/route-checks", .checkRoute),
            ("/sections", .section),
        ]
        for (path, op) in ops {
            router.post(RouterPath(path)) { request, context in try await self.query(op, request, context) }
        }
        for (path, op) in [("/isolate", QueryRequest.Op.isolate), ("/trace", .trace)] {
            router.post(RouterPath(path)) { request, context in try await self.networkQuery(op, request, context) }
        }
        router.post("/batch") { request, context in try await self.batch(request, context) }
        router.post("/dig-checks") { request, context in try await self.postDigCheck(request, context) }
        router.get("/dig-checks/{id}") { request, context in try self.getDigCheck(request, context) }
        router.get("/audit") { request, context in try self.auditEntries(request, context) }
        addOGCRoutes(to: router)
        addEditRoutes(to: router)
        // The planners' page: open (it holds no data), from memory by exact name.
        for path in ["/map", "/map/**"] {
            router.get(RouterPath(path)) { request, _ in
                try self.page.response(path: request.uri.path, ifNoneMatch: request.headers[.ifNoneMatch])
            }
        }
        return router
    }

    /// The Hummingbird application on `address` (plain HTTP, or TLS when the configuration
    /// names a certificate and key).
    /// - Throws: ``ConfigError`` when the certificate or key cannot be read.
    public func application(address: ListenAddress? = nil) throws(ConfigError) -> some ApplicationProtocol {
        let a = address ?? config.listen
        let deadline = TimeAmount.nanoseconds(Int64(config.limits.requestTimeoutS * 1e9))
        let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [RequestDeadlineHandler(limit: deadline)])
        var server: HTTPServerBuilder = .http1(configuration: http1)
        if let cert = config.tlsCert, let key = config.tlsKey {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(cert)
                let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
                let tls = TLSConfiguration.makeServerConfiguration(
                    certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(privateKey))
                server = try .tls(.http1(configuration: http1), tlsConfiguration: tls)
            } catch {
                throw ConfigError("tls: cannot read certificate \(cert) or key \(key): \(error)")
            }
        }
        return Application(
            router: router(), server: server,
            configuration: .init(address: .hostname(a.host, port: a.port), serverName: "subterra"), logger: logger)
    }

    /// Runs until SIGTERM or SIGINT, then stops accepting, finishes the requests in flight and
    /// returns (ServiceGroup's graceful shutdown).
    public func run(address: ListenAddress? = nil) async throws {
        let app = try application(address: address)
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    // MARK: Open routes

    /// Whether the whole engine answers (`loaded`), the snapshot file answers while it loads
    /// (`warming`), or the load failed and the snapshot file answers (`mapped`).
    var engineState: (state: String, version: UInt64?, error: String?) {
        switch map {
        case let w as WarmingMap:
            if let e = w.engine { return ("loaded", e.dataVersion, nil) }
            if let f = w.loadError { return ("mapped", nil, f.description) }
            return ("warming", nil, nil)
        case let e as UtilityEngine: return ("loaded", e.dataVersion, nil)
        // The store's version: the same on every follower of it, and it only grows (a reload
        // after a gap builds a new engine, whose own counter starts again).
        case let f as any FollowingMap: return ("following", UInt64(max(0, f.storeVersion)), nil)
        default: return ("mapped", nil, nil)
        }
    }

    func health() -> Response {
        let s = engineState
        var o = JSONObject()
        o.append("status", .string("ok"))
        o.append("engine", .string(s.state))
        o.append("dataVersion", s.version.map { .number(Double($0)) } ?? .null)
        o.append("crs", .string(map.crs))
        if let e = s.error { o.append("loadError", .string(e)) }
        return Self.json(GeoJSON.write(.object(o)))
    }

    func metricsResponse() -> Response {
        let s = engineState
        metrics.engine(version: s.version ?? 0, crs: map.crs, loaded: s.state == "loaded" || s.state == "following")
        var h = HTTPFields()
        h[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
        return Response(status: .ok, headers: h, body: .init(byteBuffer: ByteBuffer(string: metrics.text())))
    }

    /// The OpenAPI 3 document of every route (the module's `openapi.json` resource), read once.
    ///
    /// Hand-written rather than generated by swift-openapi-generator: the generator would own
    /// the routing (its handlers replace these `Router` closures and their middleware chain),
    /// while this service's routes are shaped by the access policy; a test keeps the document
    /// and the router in step (every registered route is described).
    public static let openAPIDocument: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { return "{}" }
        return text
    }()

    static func openAPIResponse() -> Response {
        var h = HTTPFields()
        h[.cacheControl] = "no-cache"
        return json(openAPIDocument, headers: h)
    }

    // MARK: Helpers

    static func json(_ text: String, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
        var h = extra
        h[.contentType] = "application/json"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The body, at most `limits.maxBodyBytes` (413 above).
    func body(_ request: Request) async throws -> [UInt8] {
        let b = try await request.body.collect(upTo: config.limits.maxBodyBytes)
        return Array(buffer: b)
    }

    static func principal(_ context: ServiceRequestContext) throws(Problem) -> Principal {
        guard let p = context.principal else { throw Problem(.unauthorized, "a valid API key or token is required") }
        return p
    }

    /// The segment with `id` (nil when unknown or unreadable).
    func segment(_ id: Int64) -> PipeSegment? { (try? map.segment(id: id)) ?? nil }

    func mask(_ scope: AccessScope) -> AnswerMask { AnswerMask(scope: scope, lookup: { self.segment($0) }) }

    /// The caller's scope as the OGC functions take it (``OGCFeatures`` enforces it):
    /// - features: the scope's filter (``AccessScope/restricting(_:)``); when no grant has an
    ///   area or owners, the layers alone, which is the same set without the per-record
    ///   predicate (so listings and extents need not read every record);
    /// - properties: one whose ``VisibleField`` group every grant showing features shows
    ///   (OGC masks by name, not per feature as ``AnswerMask`` does, so with several roles the
    ///   intersection, which never shows more than a feature's own grants); `id`, `layer`,
    ///   `feature`, `part` and `featureKind` always (identity and position); a property no group
    ///   covers, never;
    /// - ETag key: the roles, so answers for different grants never share a tag.
    func ogcAccess(_ p: Principal) -> OGCAccess {
        let grants = p.scope.grants.filter { !$0.layers.isEmpty }
        var filter = p.scope.filter
        if grants.allSatisfy({ $0.area == nil && $0.owners == nil }) { filter = PipeFilter(layers: p.scope.layers) }
        let shown = grants.isEmpty ? [] : grants.reduce(Set(VisibleField.allCases)) { $0.intersection($1.fields) }
        let visible: Set<String> = Set(
            OGCProperty.all.map(\.name).filter { name in
                if Self.ogcAlwaysVisible.contains(name) { return true }
                return Self.ogcPropertyGroup(name).map(shown.contains) ?? false
            })
        return OGCAccess(filter: filter, key: p.roles.sorted().joined(separator: ","), visibleProperty: { visible.contains($0) })
    }

    /// OGC properties shown to whoever sees the feature.
    static let ogcAlwaysVisible: Set<String> = ["id", "layer", "feature", "part", "featureKind"]

    /// The attribute group of an OGC property: by the groups' member names, plus the survey
    /// fields answers do not carry (burial with material, laying date with status, survey
    /// point numbers with the operator's ids).
    static func ogcPropertyGroup(_ name: String) -> VisibleField? {
        switch name {
        case "burial": return .material
        case "layingDate": return .status
        case "startPoint", "endPoint": return .source
        default: return VisibleField.allCases.first { $0.memberNames.contains(name) }
        }
    }

    /// Features an answer shows: the elements of its top-level feature lists.
    static func featureCount(_ v: JSONValue) -> Int {
        guard case .object(let o) = v else { return 0 }
        var n = 0
        for (k, v) in o.members where AnswerMask.featureLists.contains(k) || k == "conflictsByOwner" {
            guard case .array(let a) = v else { continue }
            guard k == "conflictsByOwner" else {
                n += a.count
                continue
            }
            for group in a {
                if case .array(let c)? = group.objectValue?["conflicts"] { n += c.count }
            }
        }
        return n
    }
}

extension SubterraServer {
    /// Runs the service over `map` as `subterra serve` does: structured logs (swift-log, one
    /// line per event on stderr, `LOG_LEVEL` sets the level) and graceful shutdown on SIGTERM
    /// or SIGINT.
    public static func serve(map: any PipeMap, config: ServiceConfig, network: NetworkSource? = nil) async throws {
        var logger = Logger(label: "subterra.serve")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let server = try await SubterraServer(map: map, config: config, logger: logger, network: network)
        logger.info("serving", metadata: ["listen": "\(config.listen)", "crs": "\(map.crs)", "tls": "\(config.tlsCert != nil)"])
        try await server.run()
    }
}
