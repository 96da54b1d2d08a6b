import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SubterraAccess
import SubterraEngine

/// The outermost layer: times the request, turns every error into a problem answer (nothing
/// escapes as a crash or a framework default), counts it in the metrics and writes its audit
/// line.
struct ObserveMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let metrics: ServiceMetrics
    let audit: AuditLog
    /// Routes not audited (health probes and scrapes would drown the log).
    static let quiet: Set<String> = ["/health", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch let p as Problem {
            response = p.response
        } catch let e as any HTTPResponseError {
            let status = e.status
            let detail: String
            switch status {
            case .notFound: detail = "no such route: \(request.method) \(request.uri.path)"
            case .contentTooLarge: detail = "the request body is larger than the limit (limits.maxBodyBytes)"
            case .methodNotAllowed: detail = "method \(request.method) is not allowed on \(request.uri.path)"
            default: detail = status.reasonPhrase
            }
            response = Problem(status, detail).response
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            response = Problem(.internalServerError, "the server could not answer this request").response
        }
        let route = context.endpointPath ?? "unmatched"
        let duration = ContinuousClock.now - start
        metrics.request(route: route, method: request.method.rawValue, status: response.status.code, duration: duration)
        if !Self.quiet.contains(route) {
            let n = context.note.snapshot
            let p = context.note.principal
            await audit.record(
                AuditEntry(
                    time: AuditLog.now(), user: p?.name, auth: p?.method, method: request.method.rawValue,
                    route: context.endpointPath ?? request.uri.path, status: response.status.code, area: n.area, layers: n.layers,
                    features: n.features, detail: n.detail))
        }
        context.logger.info(
            "answered",
            metadata: [
                "route": "\(route)", "status": "\(response.status.code)", "user": "\(context.note.principal?.name ?? "-")",
                "ms": "\(Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)",
            ])
        return response
    }
}

/// Deny by default: every route but the open ones needs a valid credential. A failure is
/// answered 401 with the same text whatever the reason (the reason goes to the audit log).
struct AuthMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    let authenticator: Authenticator
    let metrics: ServiceMetrics
    let rateLimit: RateLimitConfig?
    let limiter: RateLimiter
    /// Routes open without a credential (and the page's files, ``PageAssets/isPagePath(_:)``).
    static let open: Set<String> = ["/health", "/metrics", "/openapi.json"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if Self.open.contains(request.uri.path) || PageAssets.isPagePath(request.uri.path) {
            return try await next(request, context)
        }
        let ipKey = "ip:\(context.clientIP ?? "unknown")"
        if let rateLimit, let wait = limiter.peek(ipKey, rateLimit.failedAuth) {
            context.note.set(detail: "rate limited: too many failed authentications from this address")
            throw Self.tooMany(wait, "too many failed authentications from this address")
        }
        var credential: String?
        if let a = request.headers[.authorization] {
            let parts = a.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" { credential = parts[1].trimmingCharacters(in: .whitespaces) }
        } else if let k = request.headers[Self.apiKeyHeader] {
            credential = k.trimmingCharacters(in: .whitespaces)
        }
        switch await authenticator.authenticate(credential) {
        case .success(let p):
            if let limit = rateLimit?.limit(roles: p.roles), let wait = limiter.take("user:\(p.name)", limit) {
                context.note.principal = p
                context.note.set(detail: "rate limited")
                metrics.rateLimited()
                throw Self.tooMany(wait, "more than \(Self.format(limit.requestsPerSecond)) requests a second (burst \(Self.format(limit.burst))) for this user")
            }
            var context = context
            context.principal = p
            context.note.principal = p
            return try await next(request, context)
        case .failure(let f):
            metrics.authFailure()
            if let rateLimit { _ = limiter.take(ipKey, rateLimit.failedAuth) }
            context.note.set(detail: "authentication failed: \(f.rawValue)")
            throw Problem(.unauthorized, "a valid API key (Authorization: Bearer <key> or X-API-Key) or token is required", title: "Unauthorized")
        }
    }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!

    /// 429 with `Retry-After` (whole seconds).
    static func tooMany(_ wait: Int, _ detail: String) -> Problem {
        var p = Problem(.tooManyRequests, "\(detail); retry in \(wait) s", title: "Too Many Requests")
        p.headers[.retryAfter] = String(wait)
        return p
    }

    static func format(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v) }
}

/// Read-your-writes by version token: a request with `X-Min-Data-Version: N` is answered only
/// once the map answers at data version N or later. A map following a store of record (a PostGIS
/// follower, ``FollowingMap``) is waited for, up to ``ServiceLimits/maxVersionWaitS``, without
/// holding a thread; past it, 503 with `Retry-After`. Any other map applies an edit before
/// answering it, so it either has N already or never will from waiting (503 at once).
///
/// Every answer of a data route carries `X-Data-Version`: the version the map had reached
/// when the request started, so the answer reflects that version or a later one (an edit's
/// answer names the version it made itself). On a follower the version is the store's, the
/// same on every engine; elsewhere it is the engine's ``UtilityEngine/dataVersion``: the store's
/// data version at open plus the edits since, so it does not start again at 0 when the server
/// restarts, and a token from before a restart is never ahead of the restarted server.
struct DataVersionMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext
    /// The map's version now, and how to wait for one (nil: the map cannot be waited for).
    let current: @Sendable () -> Int64?
    let follower: (any FollowingMap)?
    let maxWait: Double

    static let minVersionHeader = HTTPField.Name("X-Min-Data-Version")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if AuthMiddleware.open.contains(request.uri.path) || PageAssets.isPagePath(request.uri.path) {
            return try await next(request, context)
        }
        if let raw = request.headers[Self.minVersionHeader] {
            let text = raw.trimmingCharacters(in: .whitespaces)
            guard text.count <= 19, text.allSatisfy({ $0.isASCII && $0.isNumber }), let wanted = Int64(text) else {
                throw Problem(.badRequest, "X-Min-Data-Version must be a whole number of at most 19 digits, not \"\(raw.prefix(40))\"",
                              field: "X-Min-Data-Version")
            }
            var reached = (current() ?? -1) >= wanted
            if !reached, let follower, maxWait > 0 {
                reached = await follower.waitForStoreVersion(wanted, timeout: .milliseconds(Int64(maxWait * 1000)))
            }
            guard reached else {
                let at = current().map(String.init) ?? "unknown"
                context.note.set(detail: "data version \(wanted) not reached (at \(at))")
                var p = Problem(
                    .serviceUnavailable,
                    "the map answers at data version \(at); X-Min-Data-Version \(wanted) was not reached within \(AuthMiddleware.format(maxWait)) s",
                    field: "X-Min-Data-Version", title: "Service Unavailable")
                p.headers[.retryAfter] = "1"
                throw p
            }
        }
        let version = current()
        var response = try await next(request, context)
        if let version, response.headers[SubterraServer.dataVersionHeader] == nil {
            response.headers[SubterraServer.dataVersionHeader] = String(version)
        }
        return response
    }
}
