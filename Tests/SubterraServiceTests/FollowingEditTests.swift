import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SubterraEngine
import SubterraGeometry
import SubterraModel
@testable import SubterraService

/// Edits over HTTP on a map that commits to a store of record it follows (as `serve` on a
/// `postgresql://` store does, ``EditableFollowingMap``), against a stand-in: a "store" engine
/// that other servers also write, and a lagging "shown" engine that answers reads.
@Suite("subterra serve: edits on a following map", .serialized)
struct FollowingEditTests {
    /// The stand-in: commits check each changed feature of the store against the records the
    /// edit was made from, as `PostGISEditor` does, then apply it to the store and catch the
    /// shown engine up. ``otherServer(_:)`` writes the store only (a commit made elsewhere that
    /// this map has not followed yet).
    final class StandIn: EditableFollowingMap, ForwardingPipeMap, @unchecked Sendable {
        let store: UtilityEngine
        let shown: UtilityEngine
        private let lock = NSLock()
        private var version: Int64 = 100
        private var pending: [StoreEdit] = []
        private(set) var commits = 0
        /// While set, commits reach the store but this map does not show them (a lagging follower).
        private var _lagging = false
        var lagging: Bool {
            get { lock.withLock { _lagging } }
            set { lock.withLock { _lagging = newValue } }
        }

        init() throws {
            store = try Fixture.freshEngine()
            shown = try Fixture.freshEngine()
        }

        var engine: UtilityEngine { shown }
        var forwardee: any PipeMap { shown }
        var storeVersion: Int64 { lock.withLock { version } }
        var storeIdentity: String? { "stand-in store 1" }
        func waitForStoreVersion(_ v: Int64, timeout: Duration) async -> Bool {
            if storeVersion >= v { return true }
            try? await Task.sleep(for: timeout)
            return storeVersion >= v
        }
        func nextSegmentID() throws(EngineError) -> Int64 { 9_000_000 + Int64(lock.withLock { commits }) }

        func otherServer(_ edit: StoreEdit) throws {
            try store.apply(edit)
            lock.withLock { pending.append(edit) }
        }

        func commit(_ edit: StoreEdit, basedOn base: EditBase) throws(EngineError) -> Int64 {
            try shown.validate(edit)
            for id in edit.upsertSegments.map(\.id) + edit.deleteSegments where store.segment(id: id) != base.segments[id] {
                throw EngineError("segment \(id) changed in the store since it was read", at: "segment \(id)", storeFailure: .conflict)
            }
            try store.apply(edit)
            if lagging {
                lock.withLock { pending.append(edit) }
                return lock.withLock { version + Int64(pending.count) }
            }
            // Follow: the other servers' commits first, then this one.
            let edits: [StoreEdit] = lock.withLock {
                defer { pending = [] }
                return pending + [edit]
            }
            for e in edits { try shown.apply(e) }
            return lock.withLock {
                commits += 1
                version += Int64(edits.count)
                return version
            }
        }
    }

    @Test func editsGoThroughTheStoreAndAFeatureChangedElsewhereIs409() async throws {
        let map = try StandIn()
        let server = try await Fixture.server(map: map)
        let id = try EditRouteTests.gasID(map.shown)
        let old = try #require(map.shown.segment(id: id))
        let coords = "[" + old.geometry.points.map { "[\($0.x),\($0.y)]" }.joined(separator: ",") + "]"
        try await server.withClient { c in
            let uri = "/collections/RQ/items/\(id)"
            // A replace: committed through the map, answered at the store's version.
            let (r, o) = try await EditRouteTests.send(c, .put, uri, "gas-editor", body: EditRouteTests.feature(["road": #""Via the store""#], coords: coords))
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            #expect(map.commits == 1)
            #expect(r.headers[HTTPField.Name("X-Data-Version")!] == "101" && o["dataVersion"] as? Int == 101)
            #expect(map.store.segment(id: id)?.road == "Via the store" && map.shown.segment(id: id)?.road == "Via the store")
            // Another server changes the pipe; this one has not followed yet: 409, nothing written.
            var elsewhere = try #require(map.store.segment(id: id))
            elsewhere.road = "Changed elsewhere"
            try map.otherServer(StoreEdit(upsertSegments: [elsewhere]))
            let (conflict, p) = try await EditRouteTests.send(c, .put, uri, "gas-editor", body: EditRouteTests.feature(["road": #""Lost update""#], coords: coords))
            #expect(conflict.status == .conflict, "\(String(buffer: conflict.body))")
            #expect((p["detail"] as? String)?.contains("read the feature again") == true)
            let (deleteConflict, _) = try await EditRouteTests.send(c, .delete, uri, "gas-editor")
            #expect(deleteConflict.status == .conflict)
            #expect(map.commits == 1 && map.store.segment(id: id)?.road == "Changed elsewhere")
            // A create takes its id past the store's largest, and follows the other server's edit too.
            let (created, co) = try await EditRouteTests.send(c, .post, "/collections/RQ/items", "gas-editor", body: EditRouteTests.feature())
            #expect(created.status == .created, "\(String(buffer: created.body))")
            #expect(co["id"] as? Int == 9_000_001)
            #expect(created.headers[HTTPField.Name("X-Data-Version")!] == "103")
            #expect(map.shown.segment(id: id)?.road == "Changed elsewhere" && map.shown.segment(id: 9_000_001) != nil)
            // Now that it shows the other edit, the replace goes through.
            let (again, _) = try await EditRouteTests.send(c, .put, uri, "gas-editor", body: EditRouteTests.feature(["road": #""After reading again""#], coords: coords))
            #expect(again.status == .ok, "\(String(buffer: again.body))")
            #expect(map.store.segment(id: id)?.road == "After reading again")
            // The engine's own refusals are 422 and reach no store.
            let (far, _) = try await EditRouteTests.send(
                c, .put, uri, "gas-editor", body: EditRouteTests.feature(coords: "[[1e9,1e9],[1000000005,1e9]]"))
            #expect(far.status == .unprocessableContent || far.status == .badRequest, "\(String(buffer: far.body))")
            #expect(map.commits == 3)
        }
    }

    /// Two servers on one store: a tag one serves validates on the other (the ETag's epoch is the
    /// store's identity, not a per-process token); a server that lags its own commit answers 202.
    @Test func tagsHoldAcrossServersAndALaggingCommitIs202() async throws {
        let map = try StandIn()
        var config = Fixture.config()
        config.limits.maxVersionWaitS = 0.2
        let a = try await Fixture.server(config, map: map), b = try await Fixture.server(config, map: map)
        let id = try EditRouteTests.gasID(map.shown)
        let old = try #require(map.shown.segment(id: id))
        let coords = "[" + old.geometry.points.map { "[\($0.x),\($0.y)]" }.joined(separator: ",") + "]"
        let uri = "/collections/RQ/items/\(id)"
        let tagA = try await a.withClient { c in try #require(try await c.send(.get, uri, user: "gas-editor").headers[.eTag]) }
        try await b.withClient { c in
            #expect(try await c.send(.get, uri, user: "gas-editor").headers[.eTag] == tagA, "the same data, the same tag on both")
            let (r, _) = try await EditRouteTests.send(
                c, .put, uri, "gas-editor", body: EditRouteTests.feature(["road": #""Tag from A""#], coords: coords), headers: [.ifMatch: tagA])
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            // Committed but not shown: 202 with the store's version and no tag.
            map.lagging = true
            let (lag, o) = try await EditRouteTests.send(c, .put, uri, "gas-editor", body: EditRouteTests.feature(["road": #""Lagging""#], coords: coords))
            #expect(lag.status == .accepted, "\(String(buffer: lag.body))")
            #expect(lag.headers[.eTag] == nil && o["shown"] as? Bool == false && o["id"] as? Int == Int(id))
            #expect(lag.headers[HTTPField.Name("X-Data-Version")!] == "102" && map.store.segment(id: id)?.road == "Lagging")
            // A create likewise, with where to read it once shown.
            let (made, mo) = try await EditRouteTests.send(c, .post, "/collections/RQ/items", "gas-editor", body: EditRouteTests.feature())
            #expect(made.status == .accepted, "\(String(buffer: made.body))")
            let newID = try #require(mo["id"] as? Int)
            #expect(made.headers[.location]?.hasSuffix("/collections/RQ/items/\(newID)") == true)
            #expect(map.store.segment(id: Int64(newID)) != nil && map.shown.segment(id: Int64(newID)) == nil)
        }
    }

    /// Another server inserts under the id this one is about to use: the create is retried once
    /// with the next id, not refused.
    @Test func aCreateWhoseIdAnotherServerTookGetsTheNext() async throws {
        let map = try StandIn()
        let server = try await Fixture.server(map: map)
        var taken = try #require(map.store.segment(id: try EditRouteTests.gasID(map.store)))
        taken.id = try map.nextSegmentID()
        taken.feature = nil
        taken.part = nil
        taken.sourceID = nil
        try map.otherServer(StoreEdit(upsertSegments: [taken]))
        let other = taken
        try await server.withClient { c in
            let (r, o) = try await EditRouteTests.send(c, .post, "/collections/RQ/items", "gas-editor", body: EditRouteTests.feature())
            #expect(r.status == .created, "\(String(buffer: r.body))")
            #expect(o["id"] as? Int == Int(other.id) + 1)
            #expect(map.store.segment(id: other.id) == other, "the other server's pipe is untouched")
        }
    }
}
