import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraService
import Testing

/// Read-your-writes by version token: `X-Data-Version` on answers, `X-Min-Data-Version` waited for.
@Suite("Data version tokens")
struct DataVersionTests {
    static let minVersion = HTTPField.Name("X-Min-Data-Version")!
    static let version = HTTPField.Name("X-Data-Version")!
    static let items = "/collections/RQ/items?limit=1"

    /// A map following a store: the sample engine, at a store version the test raises.
    final class FakeFollower: ReadOnlyMap, FollowingMap, @unchecked Sendable {
        private let lock = NSLock()
        private var _version: Int64
        private var _waits = 0
        /// How many waits have started (the test raises the version once one is under way).
        var waits: Int { lock.withLock { _waits } }
        init(_ engine: UtilityEngine, version: Int64) {
            _version = version
            super.init(engine)
        }
        var storeVersion: Int64 {
            get { lock.withLock { _version } }
            set { lock.withLock { _version = newValue } }
        }
        func waitForStoreVersion(_ version: Int64, timeout: Duration) async -> Bool {
            lock.withLock { _waits += 1 }
            let end = ContinuousClock.now + timeout
            while storeVersion < version {
                if ContinuousClock.now >= end { return false }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return true
        }
    }

    static func problem(_ r: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8))) as? [String: Any] ?? [:]
    }

    @Test func anEngineAnswersItsVersionAndRefusesOneItHasNot() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        try await server.withClient { c in
            let now = engine.dataVersion
            let plain = try await c.send(.get, Self.items, user: "all")
            #expect(plain.status == .ok && plain.headers[Self.version] == String(now))
            let reached = try await c.send(.get, Self.items, user: "all", headers: [Self.minVersion: String(now)])
            #expect(reached.status == .ok)
            // An engine applies an edit before answering it: a version it has not made is not
            // coming by waiting.
            let ahead = try await c.send(.get, Self.items, user: "all", headers: [Self.minVersion: String(now + 1)])
            #expect(ahead.status == .serviceUnavailable && ahead.headers[.retryAfter] == "1")
            #expect(Self.problem(ahead)["field"] as? String == "X-Min-Data-Version")
            for bad in ["abc", "-1", "1.5", "12345678901234567890", ""] {
                let r = try await c.send(.get, Self.items, user: "all", headers: [Self.minVersion: bad])
                #expect(r.status == .badRequest, "X-Min-Data-Version: \(bad)")
                #expect(Self.problem(r)["field"] as? String == "X-Min-Data-Version")
            }
            // Authentication comes first; the open routes ignore the header.
            #expect(try await c.send(.get, Self.items, headers: [Self.minVersion: "abc"]).status == .unauthorized)
            #expect(try await c.send(.get, "/health", headers: [Self.minVersion: "abc"]).status == .ok)
        }
    }

    @Test("a token from before a restart is not ahead of the restarted server: versions count the store's writes")
    func tokensSurviveARestart() async throws {
        let path = Fixture.temp("restart.gpkg")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let network = Fixture.network
        let store = try GeoPackageStore.create(at: path)
        try store.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        var token = ""
        do {
            let engine = try UtilityEngine(store: try GeoPackageStore.open(at: path))
            let opened = UInt64(try store.dataVersion())
            #expect(engine.version == 0 && engine.dataVersion == opened && opened > 0)
            for road in ["Restart Rd 1", "Restart Rd 2"] {
                var s = network.segments[0]
                s.road = road
                try engine.apply(StoreEdit(upsertSegments: [s]))
            }
            let written = UInt64(try store.dataVersion())
            #expect(engine.dataVersion == written, "one store transaction per edit")
            let server = try await Fixture.server(map: engine)
            token = try await server.withClient { c in
                try await c.send(.get, Self.items, user: "all").headers[Self.version] ?? ""
            }
            #expect(token == String(engine.dataVersion))
        }
        // The server restarts: a new engine on the same store.
        let reopened = try UtilityEngine(store: try GeoPackageStore.open(at: path))
        #expect(String(reopened.dataVersion) == token && reopened.version == 0)
        let server = try await Fixture.server(map: reopened)
        let held = token
        try await server.withClient { c in
            let r = try await c.send(.get, Self.items, user: "all", headers: [Self.minVersion: held])
            #expect(r.status == .ok && r.headers[Self.version] == held, "the old token is reached at once")
            // A stored dig check records the same data version, not the engine's edit count.
            let body = #"{"geometry":"\#(ServiceTests.gasSite)","depth":1.99,"workType":"valve pit"}"#
            let (dig, o) = try await c.json(.post, "/dig-checks", user: "all", body: body)
            #expect(dig.status == .created && o["dataVersion"] as? Int == Int(held), "\(o["dataVersion"] ?? "none")")
        }
    }

    @Test func aFollowerIsWaitedForAndItsStoreVersionTagsTheAnswers() async throws {
        let follower = FakeFollower(Fixture.engine, version: 7)
        var config = Fixture.config()
        // Long enough that a loaded machine (the whole suite in parallel) still raises the
        // version within it; the raise waits for the request's wait to start, not for a timer.
        config.limits.maxVersionWaitS = 2
        let server = try await Fixture.server(config, map: follower)
        try await server.withClient { c in
            let first = try await c.send(.get, Self.items, user: "all")
            #expect(first.status == .ok && first.headers[Self.version] == "7")
            let health = Self.problem(try await c.send(.get, "/health"))
            #expect(health["engine"] as? String == "following" && health["dataVersion"] as? Double == 7)
            // Reached while waiting: answered, at the version waited for.
            let raise = Task {
                while follower.waits == 0 { try await Task.sleep(for: .milliseconds(2)) }
                follower.storeVersion = 9
            }
            let waited = try await c.send(.get, Self.items, user: "all", headers: [Self.minVersion: "9"])
            try await raise.value
            #expect(waited.status == .ok && waited.headers[Self.version] == "9")
            // Not reached within the limit: 503, Retry-After.
            let start = ContinuousClock.now
            let late = try await c.send(.get, Self.items, user: "all", headers: [Self.minVersion: "12"])
            #expect(late.status == .serviceUnavailable && late.headers[.retryAfter] == "1")
            #expect(ContinuousClock.now - start >= .milliseconds(1_950))
            #expect((Self.problem(late)["detail"] as? String)?.contains("answers at data version 9") == true)
            // The ETag follows the store version: a tag from version 9 does not validate at 10.
            let tag = try #require(waited.headers[.eTag])
            #expect(try await c.send(.get, Self.items, user: "all", headers: [.ifNoneMatch: tag]).status == .notModified)
            follower.storeVersion = 10
            let after = try await c.send(.get, Self.items, user: "all", headers: [.ifNoneMatch: tag])
            #expect(after.status == .ok && after.headers[.eTag] != tag)
        }
    }
}
