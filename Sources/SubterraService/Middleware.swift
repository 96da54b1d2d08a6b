import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SubterraAccess

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
