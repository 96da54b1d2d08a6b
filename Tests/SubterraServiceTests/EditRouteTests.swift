import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
@testable import SubterraService

/// Edits over HTTP (OGC API Features Part 4): each test serves a fresh engine of its own.
@Suite("subterra serve: edits", .serialized)
struct EditRouteTests {
    static let mapCRS = "http://www.opengis.net/def/crs/EPSG/0/4549"
    static let mapHeaders: HTTPFields = [HTTPField.Name("Content-Crs")!: "<\(mapCRS)>", .contentType: "application/geo+json"]

    /// A gas main near the middle of the sample, in the map CRS; `props` (raw JSON values)
    /// replace or add properties, nil removes one.
    static func feature(_ props: KeyValuePairs<String, String?> = [:], coords: String = "[[636900,3140200],[636930,3140210]]") -> String {
        var p: [(String, String)] = [
            ("startPoint", #""T1""#), ("endPoint", #""T2""#), ("owner", #""\#(Fixture.gasOwner)""#), ("gasPressureMPa", "0.2"),
            ("startDepth", "1.1"), ("endDepth", "1.2"), ("section", #""DN200""#),
        ]
        for (k, v) in props {
            p.removeAll { $0.0 == k }
            if let v { p.append((k, v)) }
        }
        let text = p.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",")
        return #"{"type":"Feature","geometry":{"type":"LineString","coordinates":\#(coords)},"properties":{\#(text)}}"#
    }

    /// A gas segment of the sample (lowest id).
    static func gasID(_ engine: UtilityEngine) throws -> Int64 {
        try #require(try engine.segmentIDs(within: 0, of: nil, crs: nil, filter: PipeFilter(layers: [LayerCode(rawValue: "RQ")])).first)
    }

    static func send(_ c: Client, _ m: HTTPRequest.Method, _ uri: String, _ user: String, body: String? = nil, headers: HTTPFields = [:])
        async throws -> (TestResponse, [String: Any])
    {
        var h = headers
        if body != nil, h[.contentType] == nil { h.append(contentsOf: mapHeaders) }
        let r = try await c.send(m, uri, user: user, body: body, headers: h)
        let o = (try? JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8))) as? [String: Any] ?? [:]
        return (r, o)
    }

    @Test func createReadsBackChangesTheCollectionTagAndIsAudited() async throws {
        let audit = Fixture.temp("audit.jsonl")
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(Fixture.config(audit: audit), map: engine)
        let before = engine.dataVersion
        try await server.withClient { c in
            let tag0 = try await c.send(.get, "/collections/RQ/items", user: "gas-editor").headers[.eTag]
            let (r, o) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: Self.feature())
            #expect(r.status == .created, "\(String(buffer: r.body))")
            let location = try #require(r.headers[.location])
            #expect(r.headers[.eTag] != nil)
            let version = try #require(r.headers[HTTPField.Name("X-Data-Version")!])
            #expect(UInt64(version) == before + 1 && o["dataVersion"] as? Int == Int(before + 1))
            let id = try #require(o["id"] as? Int)
            #expect(location.hasSuffix("/collections/RQ/items/\(id)"))
            // Reads back, in the map CRS, with what was sent.
            let (g, f) = try await c.json(.get, "/collections/RQ/items/\(id)?crs=\(Self.mapCRS)", user: "gas-editor")
            #expect(g.status == .ok)
            let props = try #require(f["properties"] as? [String: Any])
            #expect(props["gasPressureMPa"] as? Double == 0.2 && props["section"] as? String == "DN200")
            #expect(props["owner"] as? String == Fixture.gasOwner && props["startPoint"] as? String == "T1")
            let coords = try #require((f["geometry"] as? [String: Any])?["coordinates"] as? [[Double]])
            #expect(coords == [[636900, 3140200], [636930, 3140210]])
            #expect(engine.segment(id: Int64(id))?.layer.rawValue == "RQ")
            let tag1 = try await c.send(.get, "/collections/RQ/items", user: "gas-editor").headers[.eTag]
            #expect(tag0 != nil && tag1 != nil && tag0 != tag1, "the collection's ETag follows the data version")
            // The next one gets the next id.
            let (r2, o2) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: Self.feature())
            #expect(r2.status == .created && o2["id"] as? Int == id + 1)
            // Edit lag and data version in the metrics.
            let m = String(buffer: try await c.send(.get, "/metrics").body)
            #expect(m.contains("subterra_edits_total{verb=\"create\"} 2"))
            #expect(m.contains("subterra_edit_lag_seconds_count{verb=\"create\"} 2"))
            let gauge = m.split(separator: "\n").first { $0.hasPrefix("subterra_engine_data_version ") }
            #expect(gauge.flatMap { Double($0.split(separator: " ")[1]) } == Double(before + 2))
        }
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let edits = lines.filter { $0["method"] as? String == "POST" && $0["route"] as? String == "/collections/{layer}/items" }
        #expect(edits.count == 2)
        #expect(edits.allSatisfy { $0["user"] as? String == "gas-editor" && $0["status"] as? Int == 201 && $0["layers"] as? [String] == ["RQ"] })
        #expect(edits.allSatisfy { ($0["detail"] as? String)?.hasPrefix("created feature") == true })
    }

    @Test func replaceWithIfMatchThenAStaleTagIs412() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        let id = try Self.gasID(engine)
        let old = try #require(engine.segment(id: id))
        try await server.withClient { c in
            let uri = "/collections/RQ/items/\(id)"
            let tag = try #require(try await c.send(.get, uri, user: "gas-editor").headers[.eTag])
            let coords = "[" + old.geometry.points.map { "[\($0.x),\($0.y)]" }.joined(separator: ",") + "]"
            let body = Self.feature(["road": #""Edited Rd""#, "nominalDepth": "1.5"], coords: coords)
            let (r, o) = try await Self.send(c, .put, uri, "gas-editor", body: body, headers: [.ifMatch: tag])
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            #expect(o["dataVersion"] as? Int == Int(engine.dataVersion))
            let now = try #require(engine.segment(id: id))
            #expect(now.road == "Edited Rd" && now.nominalDepth == 1.5 && now.section?.notation == "DN200")
            #expect(now.geometry.points.map { [$0.x, $0.y] } == old.geometry.points.map { [$0.x, $0.y] })
            let newTag = try #require(r.headers[.eTag])
            #expect(newTag != tag)
            #expect(try await c.send(.get, uri, user: "gas-editor").headers[.eTag] == newTag, "the answer's tag is GET's")
            // The tag read before the edit is stale now: refused, nothing changes.
            let version = engine.dataVersion
            let (stale, p) = try await Self.send(c, .put, uri, "gas-editor", body: Self.feature(coords: coords), headers: [.ifMatch: tag])
            #expect(stale.status == .preconditionFailed)
            #expect(stale.headers[.contentType] == "application/problem+json" && p["field"] as? String == "If-Match")
            #expect(stale.headers[.eTag] == newTag)
            let (staleDelete, _) = try await Self.send(c, .delete, uri, "gas-editor", headers: [.ifMatch: tag])
            #expect(staleDelete.status == .preconditionFailed)
            #expect(engine.dataVersion == version && engine.segment(id: id)?.road == "Edited Rd")
            // Without If-Match: accepted (documented: the last writer wins).
            let (free, _) = try await Self.send(c, .put, uri, "gas-editor", body: Self.feature(coords: coords))
            #expect(free.status == .ok)
        }
    }

    @Test func aFeatureReadInCRS84GoesBackAsItCameAndHiddenFieldsAreKept() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        let id = try Self.gasID(engine)
        let old = try #require(engine.segment(id: id))
        try await server.withClient { c in
            let uri = "/collections/RQ/items/\(id)"
            // GET (CRS84 by default) then PUT the same body: the same pipe, to well under a millimetre.
            let got = try await c.send(.get, uri, user: "gas-editor")
            let (r, _) = try await Self.send(c, .put, uri, "gas-editor", body: String(buffer: got.body), headers: [.contentType: "application/geo+json"])
            #expect(r.status == .ok, "\(String(buffer: r.body))")
            let now = try #require(engine.segment(id: id))
            for (a, b) in zip(now.geometry.points, old.geometry.points) { #expect(abs(a.x - b.x) < 1e-4 && abs(a.y - b.y) < 1e-4) }
            #expect(now.owner == old.owner && now.startPoint == old.startPoint && now.gasPressureMPa == old.gasPressureMPa)
            // An editor seeing only depths sets depths; the owner, pressure and point numbers it
            // cannot see are kept, and naming one is refused like an unknown property.
            let coords = "[" + old.geometry.points.map { "[\($0.x),\($0.y)]" }.joined(separator: ",") + "]"
            let depthOnly = #"{"type":"Feature","geometry":{"type":"LineString","coordinates":\#(coords)},"properties":{"startDepth":2.25,"endDepth":2.5}}"#
            let (d, _) = try await Self.send(c, .put, uri, "gas-depth-editor", body: depthOnly)
            #expect(d.status == .ok, "\(String(buffer: d.body))")
            let after = try #require(engine.segment(id: id))
            #expect(after.startDepth == 2.25 && after.endDepth == 2.5)
            #expect(after.owner == old.owner && after.gasPressureMPa == old.gasPressureMPa && after.startPoint == old.startPoint)
            let named = Self.feature(coords: coords)
            let (n, p) = try await Self.send(c, .put, uri, "gas-depth-editor", body: named)
            #expect(n.status == .badRequest && (p["field"] as? String)?.hasPrefix("properties.") == true)
        }
    }

    @Test func deleteRemovesTheFeature() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        let id = try Self.gasID(engine)
        try await server.withClient { c in
            let uri = "/collections/RQ/items/\(id)"
            let tag = try #require(try await c.send(.get, uri, user: "gas-editor").headers[.eTag])
            let (r, _) = try await Self.send(c, .delete, uri, "gas-editor", headers: [.ifMatch: tag])
            #expect(r.status == .noContent)
            #expect(r.headers[HTTPField.Name("X-Data-Version")!] == String(engine.dataVersion))
            #expect(engine.segment(id: id) == nil)
            #expect(try await c.send(.get, uri, user: "gas-editor").status == .notFound)
            #expect(try await Self.send(c, .delete, uri, "gas-editor").0.status == .notFound)
        }
    }

    @Test func onlyEditorsOfTheLayerMayEditAndHiddenFeaturesAre404() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        let id = try Self.gasID(engine)
        let version = engine.dataVersion
        try await server.withClient { c in
            let uri = "/collections/RQ/items/\(id)"
            // A reader of gas, and an editor of water who sees gas: 403.
            for user in ["gas", "water-editor", "all"] {
                let (put, p) = try await Self.send(c, .put, uri, user, body: Self.feature())
                #expect(put.status == .forbidden, "\(user)")
                #expect(put.headers[.contentType] == "application/problem+json" && p["status"] as? Int == 403)
                #expect(try await Self.send(c, .delete, uri, user).0.status == .forbidden, "\(user)")
                #expect(try await Self.send(c, .post, "/collections/RQ/items", user, body: Self.feature()).0.status == .forbidden, "\(user)")
            }
            // A role that cannot see gas: the same 404 as for a feature that does not exist.
            let (hidden, h) = try await Self.send(c, .delete, uri, "no-gas")
            let (absent, a) = try await Self.send(c, .delete, "/collections/RQ/items/999999", "no-gas")
            #expect(hidden.status == .notFound && absent.status == .notFound)
            #expect((h["detail"] as? String)?.replacingOccurrences(of: "\(id)", with: "999999") == a["detail"] as? String)
            #expect(try await Self.send(c, .post, "/collections/RQ/items", "no-gas", body: Self.feature()).0.status == .notFound)
            // The gas editor may not put its feature into another layer.
            let (moved, m) = try await Self.send(c, .put, uri, "gas-editor", body: Self.feature(["layer": #""JS""#]))
            #expect(moved.status == .badRequest && m["field"] as? String == "properties.layer")
        }
        #expect(engine.dataVersion == version, "no refused edit changed the map")
    }

    @Test func anEditorRestrictedByOwnerOrAreaStaysInside() async throws {
        let engine = try Fixture.freshEngine()
        var config = Fixture.config()
        config.roles["west-gas-editor"] = RoleConfig(layers: ["RQ"], owners: [Fixture.gasOwner], area: Fixture.west, fields: ["*"], edit: ["RQ"])
        config.users.append(.init(name: "west-gas-editor", keyHash: APIKey.Stored(APIKey.hash(Fixture.keys["gas-editor"]!)), roles: ["west-gas-editor"]))
        config.users.removeAll { $0.name == "gas-editor" }
        let server = try await Fixture.server(config, map: engine)
        try await server.withClient { (c: Client) async throws -> Void in
            // "gas-editor"'s key now holds the west role.
            let inside = Self.feature(coords: "[[636600,3140000],[636620,3140010]]")
            #expect(try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: inside).0.status == .created)
            let outside = Self.feature(coords: "[[637500,3140000],[637520,3140010]]")
            #expect(try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: outside).0.status == .forbidden)
            let other = Self.feature(coords: "[[636600,3140000],[636620,3140010]]").replacingOccurrences(of: Fixture.gasOwner, with: Fixture.waterOwner)
            #expect(try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: other).0.status == .forbidden)
        }
    }

    @Test func aSegmentFailingQualityChecksIsRefusedNamingTheField() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        let version = engine.dataVersion
        try await server.withClient { c in
            let cases: [(String, Int, String)] = [
                (Self.feature(["gasPressureMPa": "9"]), 422, "properties.gasPressureMPa"),
                (Self.feature(["startDepth": "-1"]), 422, "properties.startDepth"),
                (Self.feature(["section": #""DN-5""#]), 422, "properties.section"),
                (Self.feature(["subtype": #""ZZ""#]), 422, "properties.subtype"),
                (Self.feature(["colour": #""yellow""#]), 400, "properties.colour"),
                (Self.feature(["startDepth": #""deep""#]), 400, "properties.startDepth"),
                (Self.feature(["endPoint": nil]), 422, "properties.endPoint"),
                (Self.feature(["endPoint": #""T1""#]), 422, "properties.endPoint"),
                (Self.feature(coords: "[[636900,3140200],[636900,3140200]]"), 422, "geometry"),
                (#"{"type":"Feature","geometry":{"type":"Point","coordinates":[636900,3140200]},"properties":{}}"#, 400, "geometry"),
                (#"{"type":"Feature","id":5,"geometry":null,"properties":{}}"#, 400, "id"),
                ("{not json", 400, ""),
            ]
            for (body, status, field) in cases {
                let (r, p) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: body)
                #expect(r.status.code == status, "\(body): \(String(buffer: r.body))")
                #expect(r.headers[.contentType] == "application/problem+json")
                if !field.isEmpty { #expect(p["field"] as? String == field, "\(body)") }
            }
            // A vertex outside the map's area: the engine's refusal, 422 naming the geometry.
            let (far, f) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: Self.feature(coords: "[[100,100],[200,200]]"))
            #expect(far.status.code == 422 && f["field"] as? String == "geometry")
        }
        #expect(engine.dataVersion == version)
    }

    /// A store that holds the sample and refuses every write with `kind`.
    final class RefusingStore: UtilityStore, @unchecked Sendable {
        let map: UtilityNetwork
        let kind: StoreError.Kind
        init(_ map: UtilityNetwork, _ kind: StoreError.Kind) {
            self.map = map
            self.kind = kind
        }
        var spatialReference: SpatialReference { .cgcs2000GK120E }
        func loadAll() throws(StoreError) -> UtilityNetwork { map }
        func load(in envelope: Envelope) throws(StoreError) -> UtilityNetwork { map }
        func apply(_ edit: StoreEdit) throws(StoreError) { throw StoreError("refused for the test", path: "test-store", kind: kind) }
        func metadata() throws(StoreError) -> [String: String] { [:] }
        func setMetadata(_ entries: [String: String?]) throws(StoreError) {}
        func counts() throws(StoreError) -> (segments: Int, points: Int) { (map.segments.count, map.points.count) }
        func nextSegmentID() throws(StoreError) -> Int64 { (map.segments.map(\.id).max() ?? 0) + 1 }
    }

    /// A store that cannot write is the server's fault (503), a lost optimistic race is 409; the
    /// engine's own refusals stay 422. Nothing changes in any case, and the store's reason stays
    /// in the server log.
    @Test(arguments: [(StoreError.Kind.invalid, 503), (.corrupt, 503), (.conflict, 409)])
    func aStoreRefusalIsNotTheRequestsFault(kind: StoreError.Kind, status: Int) async throws {
        let engine = try UtilityEngine(store: RefusingStore(Fixture.network, kind))
        let server = try await Fixture.server(map: engine)
        let version = engine.dataVersion
        try await server.withClient { c in
            let (r, p) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: Self.feature())
            #expect(r.status.code == status, "\(String(buffer: r.body))")
            #expect(r.headers[.contentType] == "application/problem+json")
            #expect(!(p["detail"] as? String ?? "").contains("test-store"), "the store's reason is not sent")
            let id = try Self.gasID(engine)
            let (d, _) = try await Self.send(c, .delete, "/collections/RQ/items/\(id)", "gas-editor")
            #expect(d.status.code == status)
        }
        #expect(engine.dataVersion == version)
    }

    @Test func aConcurrentReaderSeesOneSnapshotPerVersion() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        try await server.withClient { c in
            let uri = "/collections/RQ/items?limit=10000&crs=\(Self.mapCRS)"
            async let reads: [(String, String)] = {
                var out: [(String, String)] = []
                for _ in 0..<40 {
                    let r = try await c.send(.get, uri, user: "gas-editor")
                    out.append((r.headers[.eTag] ?? "", String(buffer: r.body)))
                }
                return out
            }()
            for i in 0..<10 {
                let x = 636700 + Double(i) * 20
                let (r, _) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: Self.feature(coords: "[[\(x),3140300],[\(x + 5),3140305]]"))
                #expect(r.status == .created)
            }
            let seen = try await reads
            // One body per tag: no answer mixes two versions; each page is whole.
            var byTag: [String: String] = [:]
            for (tag, body) in seen {
                if let b = byTag[tag] { #expect(b == body, "two answers under one ETag") } else { byTag[tag] = body }
                let o = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
                #expect((o["features"] as? [Any])?.count == o["numberMatched"] as? Int)
            }
            let final = try await c.json(.get, uri, user: "gas-editor").1
            let first = try JSONSerialization.jsonObject(with: Data(seen[0].1.utf8)) as! [String: Any]
            #expect((final["numberMatched"] as? Int ?? 0) >= (first["numberMatched"] as? Int ?? 0))
        }
    }

    @Test func editsWaitForTheWholeEngine() async throws {
        // A map that is not an engine (the snapshot file while warming) takes no edits.
        let server = try await Fixture.server(map: ReadOnlyMap(Fixture.engine))
        try await server.withClient { c in
            let (r, p) = try await Self.send(c, .post, "/collections/RQ/items", "gas-editor", body: Self.feature())
            #expect(r.status == .serviceUnavailable && p["status"] as? Int == 503)
        }
    }
}

/// A read-only stand-in map: forwards every read to an engine, takes no edits. Open for
/// stand-ins that add to it (``DataVersionTests/FakeFollower``); its state is immutable.
class ReadOnlyMap: ForwardingPipeMap, @unchecked Sendable {
    let base: UtilityEngine
    init(_ base: UtilityEngine) { self.base = base }
    var forwardee: any PipeMap { base }
}
