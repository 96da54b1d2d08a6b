import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
@testable import SubterraService

@Suite("subterra serve", .serialized)
struct ServiceTests {
    // MARK: Authentication: deny by default

    @Test func noKeyUnknownKeyAndNoRoleAreDenied() async throws {
        let audit = Fixture.temp("audit.jsonl")
        let server = try await Fixture.server(Fixture.config(audit: audit))
        let body = #"{"geometry":"POINT (636900 3140200)","distance":50}"#
        try await server.withClient { c in
            let none = try await c.send(.post, "/within", body: body)
            #expect(none.status == .unauthorized)
            #expect(none.headers[.contentType] == "application/problem+json")
            let bad = try await c.client.execute(
                uri: "/within", method: .post, headers: [.authorization: "Bearer stk_0000"], body: ByteBuffer(string: body))
            #expect(bad.status == .unauthorized)
            #expect(String(buffer: bad.body) == String(buffer: none.body), "the same answer whatever the reason")
            // Unknown routes are not revealed to the unauthenticated either.
            #expect(try await c.send(.get, "/no-such-route").status == .unauthorized)
            // A user without a role is authenticated but sees nothing.
            let (r, o) = try await c.json(.post, "/within", user: "nobody", body: body)
            #expect(r.status == .ok)
            #expect((o["hits"] as? [Any])?.isEmpty == true && o["count"] as? Int == 0)
            // The health probe is open.
            #expect(try await c.send(.get, "/health").status == .ok)
        }
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let failed = lines.filter { ($0["detail"] as? String)?.hasPrefix("authentication failed") == true }
        #expect(failed.count == 3)
        #expect(failed.allSatisfy { $0["user"] == nil && $0["status"] as? Int == 401 })
        #expect(failed.contains { ($0["detail"] as? String)?.contains("unknown API key") == true })
        #expect(lines.contains { $0["user"] as? String == "nobody" && $0["route"] as? String == "/within" && $0["features"] as? Int == 0 })
        #expect(!lines.contains { $0["route"] as? String == "/health" }, "probes are not audited")
    }

    @Test func jwtBearerTokensCarryRolesAndExpire() async throws {
        let server = try await Fixture.server()
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Fixture.jwtSecret), digestAlgorithm: .sha256)
        let good = try await keys.sign(ServiceTokenPayload(sub: "permits-svc", roles: ["gas"], expires: Date().addingTimeInterval(600)))
        let expired = try await keys.sign(ServiceTokenPayload(sub: "permits-svc", roles: ["gas"], expires: Date().addingTimeInterval(-600)))
        let unknownRole = try await keys.sign(ServiceTokenPayload(sub: "x", roles: ["root"], expires: Date().addingTimeInterval(600)))
        let body = #"{"geometry":"POINT (637850 3140130)","distance":30,"enclosures":"separate"}"#
        try await server.withClient { c in
            let ok = try await c.client.execute(uri: "/within", method: .post, headers: [.authorization: "Bearer \(good)"], body: ByteBuffer(string: body))
            #expect(ok.status == .ok)
            let o = try JSONSerialization.jsonObject(with: Data(String(buffer: ok.body).utf8)) as! [String: Any]
            let hits = o["hits"] as! [[String: Any]]
            #expect(!hits.isEmpty && hits.allSatisfy { $0["layer"] as? String == "RQ" })
            for t in [expired, unknownRole, good + "x"] {
                let r = try await c.client.execute(uri: "/within", method: .post, headers: [.authorization: "Bearer \(t)"], body: ByteBuffer(string: body))
                #expect(r.status == .unauthorized)
            }
        }
    }

    // MARK: Authorisation: the scoped answer is the oracle's answer filtered by the grant

    @Test(arguments: ["all", "gas", "water-owner", "west", "no-gas", "auditor"])
    func roleMatrixShowsExactlyTheGrant(role: String) async throws {
        let server = try await Fixture.server()
        let engine = Fixture.engine
        let points = [Point(636900, 3140200), Point(637850, 3140130), Point(636610, 3139943), Point(637400, 3140500)]
        try await server.withClient { c in
            for p in points {
                let wkt = "POINT (\(p.x) \(p.y))"
                // within
                let (_, w) = try await c.json(.post, "/within", user: role, body: #"{"geometry":"\#(wkt)","distance":60,"enclosures":"separate"}"#)
                let oracleW = try engine.within(distance: 60, of: .point(p), crs: nil, filter: .all, allParts: false, enclosures: .separate)
                    .filter { Fixture.granted($0.pipe, role: role) }.map(\.pipe.id)
                let gotW = (w["hits"] as? [[String: Any]] ?? []).map { Int64($0["id"] as! Int) }
                #expect(Set(gotW) == Set(oracleW), "within, \(role) at \(wkt)")
                #expect(w["count"] as? Int == oracleW.count)
                // intersects (a 40 m square)
                let sq = "POLYGON ((\(p.x - 20) \(p.y - 20), \(p.x + 20) \(p.y - 20), \(p.x + 20) \(p.y + 20), \(p.x - 20) \(p.y + 20), \(p.x - 20) \(p.y - 20)))"
                let (_, i) = try await c.json(.post, "/intersects", user: role, body: #"{"geometry":"\#(sq)","enclosures":"separate"}"#)
                let oracleI = try engine.intersecting(try WKT.parse(sq), crs: nil, filter: .all, allParts: false, enclosures: .separate)
                    .filter { Fixture.granted($0.pipe, role: role) }.map(\.pipe.id)
                #expect(Set((i["hits"] as? [[String: Any]] ?? []).map { Int64($0["id"] as! Int) }) == Set(oracleI), "intersects, \(role)")
                // nearest: the k nearest the role may see, not the k nearest filtered afterwards
                let nBody = #"{"geometry":"\#(wkt)","k":5,"enclosures":"separate"}"#
                let (nr, n) = try await c.json(.post, "/nearest", user: role, body: nBody)
                let oracleN = try engine.nearest(to: .point(p), crs: nil, k: 3000, maxDistance: .infinity, perLayer: false, filter: .all, enclosures: .separate)
                    .filter { Fixture.granted($0.pipe, role: role) }.prefix(5).map(\.distance)
                // JSONDecoder reads doubles exactly (JSONSerialization on Linux does not).
                struct Distances: Decodable {
                    struct Hit: Decodable { var distance: Double }
                    var hits: [Hit]
                }
                let gotN = try JSONDecoder().decode(Distances.self, from: Data(String(buffer: nr.body).utf8)).hits.map(\.distance)
                #expect(gotN == Array(oracleN), "nearest, \(role) at \(wkt)")
                // fields: only the granted groups leave
                let hits = (w["hits"] as? [[String: Any]] ?? []) + (n["hits"] as? [[String: Any]] ?? [])
                let fields = Set(Fixture.roles[role]!.fields ?? [])
                for h in hits {
                    if !fields.contains("*") && !fields.contains("owner") { #expect(h["owner"] == nil, "\(role) sees no owner") }
                    if !fields.contains("*") && !fields.contains("pressure") { #expect(h["gasPressureMPa"] == nil) }
                    if !fields.contains("*") && !fields.contains("depth") { #expect(h["depth"] == nil) }
                    if !fields.contains("*") && !fields.contains("source") { #expect(h["sourceID"] == nil && h["sourceFile"] == nil) }
                }
                if fields.contains("*") { #expect(hits.allSatisfy { $0["owner"] != nil }) }
            }
        }
    }

    @Test func aHiddenLayerOrOwnerNamedInARequestTellsNothing() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let (r1, p1) = try await c.json(.post, "/within", user: "gas", body: #"{"geometry":"POINT (636900 3140200)","distance":50,"layers":["JS"]}"#)
            let (r2, p2) = try await c.json(.post, "/within", user: "gas", body: #"{"geometry":"POINT (636900 3140200)","distance":50,"layers":["ZZ"]}"#)
            #expect(r1.status == .badRequest && r2.status == .badRequest)
            #expect((p1["detail"] as? String)?.replacingOccurrences(of: "JS", with: "ZZ") == p2["detail"] as? String)
            #expect(p1["field"] as? String == "layers")
            // An owner the role cannot see matches nothing, exactly like one that does not exist.
            let (_, o1) = try await c.json(.post, "/within", user: "gas", body: #"{"geometry":"POINT (636900 3140200)","distance":500,"owners":"\#(Fixture.waterOwner)"}"#)
            let (_, o2) = try await c.json(.post, "/within", user: "gas", body: #"{"geometry":"POINT (636900 3140200)","distance":500,"owners":"Nobody Ltd"}"#)
            #expect(o1["count"] as? Int == 0 && o2["count"] as? Int == 0)
        }
    }

    // MARK: Dig checks

    @Test("operator-area notices: areas a role may not name dropped, source fields masked, the operator named")
    func areaNoticesAreMasked() throws {
        let policy = try AccessPolicy(users: [], roles: Fixture.roles, contacts: [:], codes: Fixture.engine.codes)
        func area(_ id: Int, _ owner: String, _ layer: String) -> String {
            #"{"areaID":\#(id),"owner":"\#(owner)","layers":["\#(layer)"],"kind":"precautionZone","note":"call 24 h ahead","action":"consult the operator","severity":"high","sourceID":"Z-\#(id)","sourceFile":"/srv/deliveries/zones-\#(id).gpkg"}"#
        }
        let owners = #"[{"owner":"\#(Fixture.gasOwner)","pipeIDs":[],"areaIDs":[1]},{"owner":"\#(Fixture.waterOwner)","pipeIDs":[],"areaIDs":[2]}]"#
        let report = try JSONValue.parse(Array(#"{"result":"conflict","owners":\#(owners),"areas":[\#(area(1, Fixture.gasOwner, "RQ")),\#(area(2, Fixture.waterOwner, "JS"))]}"#.utf8))
        func masked(_ role: String) -> [String: Any] {
            let masked = AnswerMask(scope: policy.scope(roles: [role]), lookup: { _ in nil }).apply(report)
            return (try? JSONSerialization.jsonObject(with: Data(GeoJSON.write(masked).utf8))) as? [String: Any] ?? [:]
        }
        func areas(_ role: String) -> [[String: Any]] { masked(role)["areas"] as? [[String: Any]] ?? [] }
        func ownersNamed(_ role: String) -> [String] { (masked(role)["owners"] as? [[String: Any]] ?? []).compactMap { $0["owner"] as? String } }
        // The owners to notify name only the areas kept: a hidden area's operator is not named.
        #expect(ownersNamed("all") == [Fixture.gasOwner, Fixture.waterOwner])
        #expect(ownersNamed("gas") == [Fixture.gasOwner] && ownersNamed("water-owner") == [Fixture.waterOwner])
        let all = areas("all")
        #expect(all.map { $0["areaID"] as? Int } == [1, 2] && all.allSatisfy { $0["sourceFile"] != nil && $0["sourceID"] != nil })
        // Gas only, depth only: the gas area, without its source id and file; owner and note stay.
        let gas = areas("gas")
        #expect(gas.map { $0["areaID"] as? Int } == [1])
        #expect(gas.first.map { $0["sourceFile"] == nil && $0["sourceID"] == nil } == true, "\(gas)")
        #expect(gas.first?["owner"] as? String == Fixture.gasOwner && gas.first?["note"] as? String == "call 24 h ahead")
        // Restricted to the water owner: the gas operator's area is not named.
        #expect(areas("water-owner").map { $0["areaID"] as? Int } == [2])
        #expect(areas("nobody").isEmpty)
    }

    static let gasSite = "POLYGON ((637850.316 3140128.779, 637853.316 3140128.779, 637853.316 3140131.779, 637850.316 3140131.779, 637850.316 3140128.779))"

    @Test func aDigNearAHiddenUtilityNamesWhomToCallAndNothingElse() async throws {
        let server = try await Fixture.server()
        let body = #"{"geometry":"\#(Self.gasSite)","depth":1.99,"workType":"valve pit"}"#
        try await server.withClient { c in
            let (all, a) = try await c.json(.post, "/dig-checks", user: "all", body: body)
            #expect(all.status == .created)
            let allConflicts = objects(a["conflictsByOwner"] ?? []).compactMap { $0["pipeID"] as? Int }
            #expect(allConflicts.contains(1070))
            #expect((a["hiddenUtilities"] as? [Any])?.isEmpty == true)

            let (hidden, h) = try await c.json(.post, "/dig-checks", user: "no-gas", body: body)
            #expect(hidden.status == .created)
            let notices = h["hiddenUtilities"] as? [[String: Any]] ?? []
            #expect(notices.count == 1)
            #expect(notices.first?["owner"] as? String == Fixture.gasOwner)
            #expect(notices.first?["contact"] as? String == Fixture.gasContact)
            #expect(Set(notices.first?.keys.map { $0 } ?? []) == ["owner", "contact", "message"])
            // No trace of the gas pipe anywhere in the answer.
            for o in objects(h) {
                #expect(o["pipeID"] as? Int != 1070 && o["id"] as? Int != 1070)
                #expect(o["layer"] as? String != "RQ")
            }
            #expect(!String(buffer: hidden.body).contains("\"RQ\""))
            #expect(h["result"] as? String == a["result"] as? String, "a dig near only a hidden utility is not clear")
        }
    }

    @Test func digChecksAreStoredReplayedAndIdempotent() async throws {
        let store = Fixture.temp("checks.jsonl")
        let server = try await Fixture.server(Fixture.config(digChecks: store))
        let body = #"{"geometry":"\#(Self.gasSite)","depth":1.5}"#
        let first = try await server.withClient { c in
            let r1 = try await c.send(.post, "/dig-checks", user: "all", body: body, headers: [SubterraServer.idempotencyHeader: "k-1"])
            #expect(r1.status == .created)
            let r2 = try await c.send(.post, "/dig-checks", user: "all", body: body, headers: [SubterraServer.idempotencyHeader: "k-1"])
            #expect(r2.status == .ok && r2.headers[SubterraServer.replayedHeader] == "true")
            #expect(String(buffer: r2.body) == String(buffer: r1.body))
            let r3 = try await c.send(
                .post, "/dig-checks", user: "all", body: #"{"geometry":"\#(Self.gasSite)","depth":2.5}"#,
                headers: [SubterraServer.idempotencyHeader: "k-1"])
            #expect(r3.status == .unprocessableContent)
            // Another user's key space is their own.
            let r4 = try await c.send(.post, "/dig-checks", user: "gas", body: body, headers: [SubterraServer.idempotencyHeader: "k-1"])
            #expect(r4.status == .created)
            let id = try #require(r1.headers[.location]).split(separator: "/").last.map(String.init)!
            let g = try await c.send(.get, "/dig-checks/\(id)", user: "all")
            #expect(g.status == .ok && String(buffer: g.body) == String(buffer: r1.body))
            #expect(try await c.send(.get, "/dig-checks/\(id)", user: "gas").status == .notFound)
            #expect(try await c.send(.get, "/dig-checks/\(id)", user: "auditor").status == .ok)
            return (id, String(buffer: r1.body))
        }
        // A restarted service replays the same bytes from the file.
        let again = try await Fixture.server(Fixture.config(digChecks: store))
        try await again.withClient { c in
            let g = try await c.send(.get, "/dig-checks/\(first.0)", user: "all")
            #expect(String(buffer: g.body) == first.1)
        }
    }

    @Test func aTrenchLineIsBufferedByItsWidth() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let line = #"{"geometry":"LINESTRING (637840 3140130, 637860 3140130)","width":1.0,"depth":2}"#
            let (r, o) = try await c.json(.post, "/dig-checks", user: "all", body: line)
            #expect(r.status == .created)
            #expect(abs(((o["areaSquareMetres"] as? NSNumber)?.doubleValue ?? 0) - 20) < 1e-6)
            let (r2, p) = try await c.json(.post, "/dig-checks", user: "all", body: #"{"geometry":"LINESTRING (637840 3140130, 637860 3140130)","depth":2}"#)
            #expect(r2.status == .badRequest && p["field"] as? String == "width")
        }
    }

    // MARK: Problems

    @Test func badRequestsGetProblemJSONNamingTheField() async throws {
        let server = try await Fixture.server(Fixture.config(maxBodyBytes: 4096))
        try await server.withClient { c in
            func problem(_ uri: String, _ body: String) async throws -> (Int, [String: Any]) {
                let (r, o) = try await c.json(.post, uri, user: "all", body: body)
                #expect(r.headers[.contentType] == "application/problem+json", "\(uri) \(body.prefix(60))")
                #expect(o["status"] as? Int == Int(r.status.code))
                return (Int(r.status.code), o)
            }
            let (s1, _) = try await problem("/within", #"{"geometry": "POINT (1 2)", "distance": "#)
            #expect(s1 == 400)
            let (s2, p2) = try await problem("/within", #"{"geometry":"POINT (636900 3140200)","distance":5,"colour":"red"}"#)
            #expect(s2 == 400 && (p2["detail"] as? String)?.contains("colour") == true)
            let (s3, _) = try await problem("/within", "{\"geometry\":\"" + String(repeating: "x", count: 5000) + "\"}")
            #expect(s3 == 413)
            let bowtie = "POLYGON ((637840 3140120, 637860 3140140, 637860 3140120, 637840 3140140, 637840 3140120))"
            let (s4, p4) = try await problem("/dig-checks", #"{"geometry":"\#(bowtie)","depth":1}"#)
            #expect(s4 == 400 && p4["field"] as? String == "geometry")
            #expect((p4["detail"] as? String)?.lowercased().contains("self-intersection") == true)
            let (s5, p5) = try await problem("/dig-checks", #"{"geometry":"\#(Self.gasSite)","crs":"EPSG:999999","depth":1}"#)
            #expect(s5 == 400 && p5["field"] as? String == "crs")
            let (s6, p6) = try await problem("/dig-checks", #"{"geometry":"\#(Self.gasSite)","depth":1,"when":"now"}"#)
            #expect(s6 == 400 && p6["field"] as? String == "when")
            let huge = "POLYGON ((636000 3139000, 638000 3139000, 638000 3141000, 636000 3141000, 636000 3139000))"
            let (s7, p7) = try await problem("/dig-checks", #"{"geometry":"\#(huge)","depth":1}"#)
            #expect(s7 == 400 && (p7["detail"] as? String)?.contains("maxDigAreaM2") == true)
            let (s8, _) = try await problem("/nearest", #"{"op":"within","geometry":"POINT (1 2)"}"#)
            #expect(s8 == 400)
            let (s9, _) = try await problem("/within", "[1,2]")
            #expect(s9 == 400)
        }
    }

    @Test func sectionsAndRouteChecksShowOnlyTheGrant() async throws {
        let server = try await Fixture.server()
        let engine = Fixture.engine
        let cut = "LINESTRING (637840 3140100, 637860 3140160)"
        guard case .lineString(let line) = try WKT.parse(cut) else { fatalError("a line") }
        let oracle = try engine.crossSection(along: line, crs: nil, filter: .all).items
        try await server.withClient { c in
            for role in ["all", "gas", "no-gas", "west"] {
                let (r, o) = try await c.json(.post, "/sections", user: role, body: #"{"geometry":"\#(cut)"}"#)
                #expect(r.status == .ok)
                let got = (o["items"] as? [[String: Any]] ?? []).compactMap { $0["pipeID"] as? Int }.map(Int64.init)
                let want = oracle.filter { engine.segment(id: $0.pipeID).map { Fixture.granted($0, role: role) } ?? false }.map(\.pipeID)
                #expect(Set(got) == Set(want), "section, \(role)")
                if role == "gas" { #expect((o["items"] as? [[String: Any]] ?? []).allSatisfy { $0["owner"] == nil && $0["depthTop"] != nil }) }
                let route = #"{"geometry":"\#(cut)","layer":"JS","depth":1.2,"diameter":200}"#
                let (rr, ro) = try await c.json(.post, "/route-checks", user: role, body: route)
                #expect(rr.status == .ok)
                for f in objects(ro) {
                    if let id = f["pipeID"] as? Int {
                        #expect(engine.segment(id: Int64(id)).map { Fixture.granted($0, role: role) } == true, "route finding \(id), \(role)")
                    }
                }
            }
        }
    }

    @Test func aRouteAcrossAHiddenUtilityNamesWhomToCall() async throws {
        let server = try await Fixture.server()
        let route = #"{"geometry":"LINESTRING (637840 3140100, 637860 3140160)","layer":"JS","depth":1.2,"diameter":200}"#
        try await server.withClient { c in
            let (_, all) = try await c.json(.post, "/route-checks", user: "all", body: route)
            let gasFindings = objects(all["findings"] ?? []).filter { $0["layer"] as? String == "RQ" }
            try #require(!gasFindings.isEmpty, "the route crosses the gas main")
            #expect((all["hiddenUtilities"] as? [Any])?.isEmpty == true)
            let (_, hidden) = try await c.json(.post, "/route-checks", user: "no-gas", body: route)
            for o in objects(hidden) { #expect(o["layer"] as? String != "RQ") }
            let notices = hidden["hiddenUtilities"] as? [[String: Any]] ?? []
            #expect(notices.map { $0["owner"] as? String } == [Fixture.gasOwner])
            #expect(notices.first?["contact"] as? String == Fixture.gasContact)
        }
    }

    @Test func vertexLimitsRefuseHugeGeometries() async throws {
        var config = Fixture.config()
        config.limits.maxVertices = 10
        let server = try await Fixture.server(config)
        let ring = (0...12).map { i -> String in
            let a = Double(i % 12) / 12 * 2 * Double.pi
            return "\(637850 + 3 * cos(a)) \(3140130 + 3 * sin(a))"
        }.joined(separator: ", ")
        try await server.withClient { c in
            let (r, o) = try await c.json(.post, "/dig-checks", user: "all", body: #"{"geometry":"POLYGON ((\#(ring)))","depth":1}"#)
            #expect(r.status == .badRequest && o["field"] as? String == "geometry")
            let (r2, _) = try await c.json(.post, "/intersects", user: "all", body: #"{"geometry":"POLYGON ((\#(ring)))"}"#)
            #expect(r2.status == .badRequest)
        }
    }

    // MARK: Batch, audit, health, metrics

    @Test func batchAnswersEveryLineInOrderUnderTheScope() async throws {
        let server = try await Fixture.server()
        let lines = [
            #"{"id":"a","op":"within","geometry":"POINT (637850 3140130)","distance":30}"#,
            #"{"id":"b","op":"nearest","geometry":"POINT (637850 3140130)","k":"3"}"#,
            "",
            #"{"id":"c","op":"check-dig","geometry":"\#(Self.gasSite)","depth":1.99}"#,
        ].joined(separator: "\n")
        try await server.withClient { c in
            let r = try await c.send(.post, "/batch", user: "no-gas", body: lines)
            #expect(r.status == .ok)
            let out = String(buffer: r.body).split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
            #expect(out.map { $0["id"] as? String } == ["a", "b", "c"])
            #expect(out.map { $0["line"] as? Int } == [1, 2, 4])
            #expect(out[1]["ok"] as? Bool == false && (out[1]["error"] as? String)?.contains("k") == true)
            for o in objects(out) { #expect(o["layer"] as? String != "RQ") }
            let hidden = (out[2]["result"] as? [String: Any])?["hiddenUtilities"] as? [[String: Any]]
            #expect(hidden?.first?["owner"] as? String == Fixture.gasOwner)
        }
    }

    @Test func auditLinesRecordWhoWhereWhatAndHowMany() async throws {
        let audit = Fixture.temp("audit.jsonl")
        let server = try await Fixture.server(Fixture.config(audit: audit))
        try await server.withClient { c in
            _ = try await c.send(.post, "/within", user: "gas", body: #"{"geometry":"POINT (637850 3140130)","distance":30}"#)
            _ = try await c.send(.post, "/dig-checks", user: "west", body: #"{"geometry":"\#(Self.gasSite)","depth":1}"#)
            let (denied, _) = try await c.json(.get, "/audit", user: "gas")
            #expect(denied.status == .forbidden)
            let (r, o) = try await c.json(.get, "/audit?user=gas", user: "auditor")
            #expect(r.status == .ok)
            let entries = o["entries"] as? [[String: Any]] ?? []
            #expect(entries.allSatisfy { $0["user"] as? String == "gas" })
            let w = try #require(entries.first { $0["route"] as? String == "/within" })
            #expect(w["layers"] as? [String] == ["RQ"])
            #expect((w["features"] as? Int ?? 0) > 0)
            #expect((w["area"] as? [NSNumber])?.map(\.doubleValue) == [637850, 3140130, 637850, 3140130])
            #expect(w["status"] as? Int == 200)
        }
        let text = try String(contentsOfFile: audit, encoding: .utf8)
        #expect(text.contains("\"route\":\"/dig-checks\"") && text.contains("\"user\":\"west\""))
        let perms = try FileManager.default.attributesOfItem(atPath: audit)[.posixPermissions] as? Int
        #expect(perms == 0o600)
    }

    @Test func healthAndMetrics() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let (h, o) = try await c.json(.get, "/health", user: nil)
            #expect(h.status == .ok && o["engine"] as? String == "loaded" && o["dataVersion"] != nil)
            _ = try await c.send(.post, "/within", user: "all", body: #"{"geometry":"POINT (637850 3140130)","distance":30}"#)
            let m = String(buffer: try await c.send(.get, "/metrics").body)
            #expect(m.contains("subterra_http_requests_total{route=\"/within\",method=\"POST\",status=\"200\"} 1"))
            #expect(m.contains("subterra_http_request_duration_seconds_bucket"))
            #expect(m.contains("subterra_engine_loaded 1"))
        }
    }

    @Test func liveOnALoopbackPort() async throws {
        let server = try await Fixture.server()
        try await server.withClient(.live) { c in
            #expect(try await c.send(.get, "/health").status == .ok)
            let (r, o) = try await c.json(.post, "/within", user: "gas", body: #"{"geometry":"POINT (637850 3140130)","distance":30}"#)
            #expect(r.status == .ok && (o["count"] as? Int ?? 0) > 0)
        }
    }

    // MARK: Configuration

    @Test func configurationErrorsNameTheField() async throws {
        #expect(throws: ConfigError.self) { try ServiceConfig.parse(Data(#"{"listen":"127.0.0.1:8080","colour":1}"#.utf8)) }
        do { _ = try ServiceConfig.parse(Data(#"{"limits":{"maxBodyBytes":"big"}}"#.utf8)) } catch {
            #expect(error.message.hasPrefix("limits.maxBodyBytes"))
        }
        do { _ = try ServiceConfig.parse(Data(#"{"users":[{"name":"a","keyHash":"plain"}]}"#.utf8)) } catch {
            #expect(error.message.hasPrefix("users[0].keyHash"))
        }
        var c = Fixture.config()
        c.roles["typo"] = RoleConfig(layers: ["XX"])
        do {
            _ = try await Fixture.server(c)
            Issue.record("an unknown layer code in a role must be refused")
        } catch let e as ConfigError {
            #expect(e.message.hasPrefix("roles.typo.layers"))
        }
        var d = Fixture.config()
        d.users.append(AccessPolicy.User(name: "x", keyHash: nil, roles: ["ghost"]))
        await #expect(throws: ConfigError.self) { _ = try await Fixture.server(d) }
    }

    @Test func apiKeysAreStoredOnlyAsSaltedHashes() {
        let key = APIKey.generate()
        #expect(key.hasPrefix("stk_") && key.count == 68)
        let h1 = APIKey.hash(key), h2 = APIKey.hash(key)
        #expect(h1 != h2, "a fresh salt each time")
        #expect(!h1.contains(key.dropFirst(4)))
        #expect(APIKey.Stored(h1)?.matches(key) == true && APIKey.Stored(h2)?.matches(key) == true)
        #expect(APIKey.Stored(h1)?.matches(key + "0") == false)
        #expect(APIKey.Stored("sha256:00:11") == nil)
    }
}
