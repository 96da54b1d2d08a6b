import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Testing
@testable import SubterraService

/// A clock that moves only when told.
final class FakeRateClock: RateClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now = 0.0
    func seconds() -> Double { lock.withLock { now } }
    func advance(by s: Double) { lock.withLock { now += s } }
}

@Suite("subterra serve: rate limits")
struct RateLimitTests {
    static func server(_ limits: RateLimitConfig, clock: FakeRateClock) async throws -> SubterraServer {
        var c = Fixture.config()
        c.rateLimit = limits
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try await SubterraServer(map: Fixture.engine, config: c, logger: logger, rateClock: clock)
    }

    @Test func eachPrincipalHasABucketAndA429SaysWhenToRetry() async throws {
        let clock = FakeRateClock()
        let limits = RateLimitConfig(
            perPrincipal: RateLimit(requestsPerSecond: 2, burst: 3), perRole: ["all": RateLimit(requestsPerSecond: 100, burst: 10)])
        let server = try await Self.server(limits, clock: clock)
        try await server.withClient { c in
            for _ in 0..<3 { #expect(try await c.send(.get, "/collections", user: "gas").status == .ok) }
            let refused = try await c.send(.get, "/collections", user: "gas")
            #expect(refused.status == .tooManyRequests)
            #expect(refused.headers[.contentType] == "application/problem+json")
            #expect(refused.headers[.retryAfter] == "1")
            // Another user has a bucket of their own; a role override is more generous.
            #expect(try await c.send(.get, "/collections", user: "no-gas").status == .ok)
            for _ in 0..<10 { #expect(try await c.send(.get, "/collections", user: "all").status == .ok) }
            #expect(try await c.send(.get, "/collections", user: "all").status == .tooManyRequests)
            // Half a second refills one token at 2/s: one request, then refused again.
            clock.advance(by: 0.5)
            #expect(try await c.send(.get, "/collections", user: "gas").status == .ok)
            #expect(try await c.send(.get, "/collections", user: "gas").status == .tooManyRequests)
            // The open routes are not limited.
            for _ in 0..<5 { #expect(try await c.send(.get, "/health").status == .ok) }
            let m = String(buffer: try await c.send(.get, "/metrics").body)
            #expect(m.contains("subterra_http_rate_limited_total 3"))
        }
    }

    @Test func failedAuthenticationsFromOneAddressAreLimited() async throws {
        let clock = FakeRateClock()
        let server = try await Self.server(RateLimitConfig(failedAuth: RateLimit(requestsPerSecond: 0.5, burst: 2)), clock: clock)
        try await server.withClient { c in
            let bad: HTTPFields = [.authorization: "Bearer stk_wrong"]
            #expect(try await c.send(.get, "/collections", headers: bad).status == .unauthorized)
            #expect(try await c.send(.get, "/collections", headers: bad).status == .unauthorized)
            // The bucket is empty: refused before the credential is even checked.
            let r = try await c.send(.get, "/collections", user: "gas")
            #expect(r.status == .tooManyRequests && r.headers[.retryAfter] == "2")
            clock.advance(by: 2)
            #expect(try await c.send(.get, "/collections", user: "gas").status == .ok)
            // Successful requests cost the address nothing (no per-principal limit here).
            for _ in 0..<5 { #expect(try await c.send(.get, "/collections", user: "gas").status == .ok) }
        }
    }

    @Test func theConfigurationNamesItsMembers() throws {
        let ok = try ServiceConfig.parse(Data(#"{"roles":{"p":{"layers":"*"}},"rateLimit":{"requestsPerSecond":5,"burst":10,"roles":{"p":{"requestsPerSecond":50}}}}"#.utf8))
        #expect(ok.rateLimit?.perPrincipal == RateLimit(requestsPerSecond: 5, burst: 10))
        #expect(ok.rateLimit?.perRole["p"] == RateLimit(requestsPerSecond: 50, burst: 50))
        #expect(ok.rateLimit?.limit(roles: ["x", "p"]) == RateLimit(requestsPerSecond: 50, burst: 50))
        #expect(ok.rateLimit?.limit(roles: ["x"]) == RateLimit(requestsPerSecond: 5, burst: 10))
        #expect(try ServiceConfig.parse(Data("{}".utf8)).rateLimit == nil)
        func refusal(_ text: String) -> String? {
            do { _ = try ServiceConfig.parse(Data(text.utf8)) } catch { return error.message }
            return nil
        }
        #expect(refusal(#"{"rateLimit":{"requestsPerSecnd":5}}"#)?.hasPrefix("rateLimit.requestsPerSecnd: unknown field") == true)
        #expect(refusal(#"{"rateLimit":{"burst":5}}"#) == "rateLimit.requestsPerSecond is missing")
        #expect(refusal(#"{"rateLimit":{"requestsPerSecond":0}}"#)?.hasPrefix("rateLimit.requestsPerSecond must be at least") == true)
        #expect(refusal(#"{"roles":{"p":{}},"rateLimit":{"roles":{"q":{"requestsPerSecond":1}}}}"#) == "rateLimit.roles.q: no such role")
    }

    @Test func bucketsRefillToTheirBurstAndNoFurther() {
        let clock = FakeRateClock()
        let l = RateLimiter(clock: clock)
        let limit = RateLimit(requestsPerSecond: 10, burst: 5)
        for _ in 0..<5 { #expect(l.take("k", limit) == nil) }
        #expect(l.take("k", limit) == 1)
        clock.advance(by: 100)
        for _ in 0..<5 { #expect(l.take("k", limit) == nil) }
        #expect(l.take("k", limit) != nil, "a long pause refills to the burst, not beyond")
        #expect(l.peek("other", limit) == nil)
    }
}
