import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SubterraAccess
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import SubterraRequests
import SubterraService
import Testing

/// `POST /isolate`, `POST /trace` and those ops in `/batch`, under the access rules.
@Suite struct NetworkRouteTests {
    static let water = try! NetworkTopology(network: Fixture.network, scope: .init(layer: .water), tolerance: 0.05)
    static let drainage = try! NetworkTopology(network: Fixture.network, scope: .init(layer: .drainage), tolerance: 0.05)

    /// The first water pipe (by id) whose isolated part lies partly inside and partly outside
    /// the "west" role's area, with the whole plan.
    static let straddling: (PipeSegment, IsolationPlan) = {
        let t = water
        for e in t.segments.indices.sorted(by: { t.segments[$0].id < t.segments[$1].id }) {
            let plan = try! IsolationPlan(topology: t, break: .edge(e), failureScenarios: false)
            let inside = plan.isolatedPipes.map { Fixture.granted(Fixture.network.segment(id: $0.segmentID)!, role: "west") }
            if inside.contains(true) && inside.contains(false) && !plan.cutOffConnections.isEmpty { return (t.segments[e], plan) }
        }
        fatalError("no water break straddles the west area")
    }()

    @Test func aRoleWithoutTheLayerIsDeniedWithProblemJSON() async throws {
        let audit = Fixture.temp("audit.jsonl")
        let server = try await Fixture.server(Fixture.config(audit: audit))
        let id = Self.straddling.0.id
        try await server.withClient { c in
            // "gas" sees RQ only; "no-gas" sees everything but RQ.
            for (route, body, user) in [
                ("/isolate", #"{"layer":"JS","target":"\#(id)"}"#, "gas"),
                ("/trace", #"{"direction":"downstream","from":"PS000001"}"#, "gas"),
                ("/isolate", #"{"layer":"RQ","target":"1"}"#, "no-gas"),
            ] {
                let r = try await c.send(.post, route, user: user, body: body)
                #expect(r.status == .forbidden, "\(route) as \(user)")
                #expect(r.headers[.contentType] == "application/problem+json")
                let o = try JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8)) as? [String: Any] ?? [:]
                #expect((o["detail"] as? String)?.contains("is not a layer you may see") == true && o["field"] as? String == "layer")
            }
            // The same refusal whether or not the layer exists in the map: nothing is learnt.
            let missing = try await c.send(.post, "/isolate", user: "gas", body: #"{"layer":"RL","target":"1"}"#)
            #expect(missing.status == .forbidden)
            // A batch line for a hidden layer is an error line, the others are answered.
            let batch = try await c.send(
                .post, "/batch", user: "gas",
                body: #"{"id":1,"op":"isolate","layer":"JS","target":"\#(id)"}"# + "\n" + #"{"id":2,"op":"isolate","layer":"RQ","target":"nope"}"#)
            let lines = String(buffer: batch.body).split(separator: "\n").map { String($0) }
            #expect(lines.count == 2 && lines[0].contains("\"ok\":false") && lines[0].contains("not a layer you may see"))
            #expect(lines[1].contains("\"ok\":false") && lines[1].contains("break nope"))
        }
        let entries = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(entries.contains { $0["route"] as? String == "/isolate" && $0["user"] as? String == "gas" && $0["status"] as? Int == 403 })
        #expect(entries.contains { $0["route"] as? String == "/trace" && $0["status"] as? Int == 403 })
    }

    @Test func anAreaRoleSeesNothingOutsideItsArea() async throws {
        let audit = Fixture.temp("audit.jsonl")
        let server = try await Fixture.server(Fixture.config(audit: audit))
        let (pipe, whole) = Self.straddling
        try await server.withClient { c in
            let (all, full) = try await c.json(.post, "/isolate", user: "all", body: #"{"layer":"JS","target":"\#(pipe.id)"}"#)
            #expect(all.status == .ok)
            let fullPipes = (full["isolatedPipes"] as? [[String: Any]] ?? []).compactMap { $0["segmentID"] as? Int }
            #expect(Set(fullPipes.map(Int64.init)) == Set(whole.isolatedPipes.map(\.segmentID)), "the whole plan for a full grant")

            let (r, o) = try await c.json(.post, "/isolate", user: "west", body: #"{"layer":"JS","target":"\#(pipe.id)"}"#)
            #expect(r.status == .ok)
            let pipes = (o["isolatedPipes"] as? [[String: Any]] ?? [])
            let ids = pipes.compactMap { $0["segmentID"] as? Int }.map(Int64.init)
            #expect(!ids.isEmpty && ids.count < fullPipes.count)
            #expect(ids.allSatisfy { Fixture.granted(Fixture.network.segment(id: $0)!, role: "west") })
            // Nothing hidden is counted: the length is the shown pipes' sum; no volume (no section grant).
            let length = pipes.compactMap { $0["length"] as? Double }.reduce(0, +)
            #expect(abs((o["isolatedLength"] as? Double ?? -1) - length) < 1e-6)
            #expect(pipes.allSatisfy { $0["volume"] == nil })
            // Every valve and connection shown sits on a shown pipe.
            let t = Self.water
            func onShownPipe(_ number: String) -> Bool {
                let v = Int(t.pointNode[t.pointIndex(number: PointNumber(number))!])
                return t.edges(at: v).contains { Fixture.granted(t.segments[Int($0)], role: "west") }
            }
            let points = ["valvesToClose", "closedBarriers", "passedValves", "cutOffConnections"].flatMap {
                (o[$0] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }
            }
            #expect(points.allSatisfy(onShownPipe), "\(points)")
            let customers = (o["customersCutOff"] as? [[String: Any]] ?? []).compactMap { $0["customers"] as? Int }.reduce(0, +)
            let shownCustomers = (o["cutOffConnections"] as? [[String: Any]] ?? []).compactMap { $0["count"] as? Int }.reduce(0, +)
            #expect(customers == shownCustomers)
            // A trace as the area role: pipes and manholes inside only.
            let manhole = Self.drainage.points.first {
                $0.kind == .manhole && Self.drainage.pointNode[Self.drainage.pointIndex(number: $0.number)!] >= 0
            }!
            let (tr, trace) = try await c.json(.post, "/trace", user: "west", body: #"{"direction":"upstream","from":["\#(manhole.number.rawValue)"]}"#)
            #expect(tr.status == .ok)
            let traced = (trace["pipes"] as? [[String: Any]] ?? []).compactMap { $0["segmentID"] as? Int }.map(Int64.init)
            #expect(traced.allSatisfy { Fixture.granted(Fixture.network.segment(id: $0)!, role: "west") })
        }
        let entries = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let west = try #require(entries.first { $0["route"] as? String == "/isolate" && $0["user"] as? String == "west" })
        #expect(west["layers"] as? [String] == ["JS"] && west["status"] as? Int == 200 && (west["features"] as? Int ?? 0) > 0)
        #expect(entries.contains { $0["route"] as? String == "/trace" && $0["user"] as? String == "west" && $0["status"] as? Int == 200 })
    }

    @Test func withoutSurveyPointsTheRoutesSaySo() async throws {
        let server = try await Fixture.server(withNetwork: false)
        try await server.withClient { c in
            let r = try await c.send(.post, "/isolate", user: "all", body: #"{"layer":"JS","target":"1"}"#)
            #expect(r.status == .serviceUnavailable && r.headers[.contentType] == "application/problem+json")
        }
    }

    @Test func theTopologyIsKeptPerDataVersionAndAnEditChangesTheNextAnswer() async throws {
        let engine = try Fixture.freshEngine()
        let server = try await Fixture.server(map: engine)
        let cache = server.networkTopologies
        // A water break isolating several pipes; one of them (not the break) will be deleted.
        let t = try NetworkTopology(network: engine.network, scope: .init(layer: .water), tolerance: 0.05)
        let (pipe, other) = try #require(t.segments.indices.lazy.compactMap { e -> (Int64, Int64)? in
            guard let p = try? IsolationPlan(topology: t, break: .edge(e), failureScenarios: false),
                let o = p.isolatedPipes.first(where: { $0.segmentID != t.segments[e].id })
            else { return nil }
            return (t.segments[e].id, o.segmentID)
        }.first)
        let body = #"{"layer":"JS","target":"\#(pipe)"}"#
        try await server.withClient { c in
            let first = try await c.send(.post, "/isolate", user: "water-editor", body: body)
            #expect(first.status == .ok)
            #expect(cache.builds == 1)
            let second = try await c.send(.post, "/isolate", user: "water-editor", body: body)
            #expect(String(buffer: second.body) == String(buffer: first.body), "equal answers")
            #expect(cache.builds == 1 && cache.hits >= 2, "the second request reuses the kept topology")
            let before = (try JSONSerialization.jsonObject(with: Data(String(buffer: first.body).utf8)) as? [String: Any])?["isolatedPipes"]
            #expect((before as? [[String: Any]] ?? []).contains { ($0["segmentID"] as? Int).map(Int64.init) == other })
            // An edit over HTTP: the next answer is computed on the new map.
            let deleted = try await c.send(.delete, "/collections/JS/items/\(other)", user: "water-editor")
            #expect(deleted.status == .noContent || deleted.status == .ok, "\(deleted.status)")
            let third = try await c.send(.post, "/isolate", user: "water-editor", body: body)
            #expect(third.status == .ok)
            #expect(String(buffer: third.body) != String(buffer: first.body))
            let after = (try JSONSerialization.jsonObject(with: Data(String(buffer: third.body).utf8)) as? [String: Any])?["isolatedPipes"]
            #expect(!(after as? [[String: Any]] ?? []).contains { ($0["segmentID"] as? Int).map(Int64.init) == other })
            #expect(cache.builds == 2 && cache.count == 1, "the old version's topology is dropped")
        }
    }

    @Test func theTopologyCacheIsBoundedLeastRecentlyUsedFirst() throws {
        let cache = NetworkTopologyCache(capacity: 2)
        let net = Fixture.network
        func get(_ tolerance: Double, version: UInt64? = 0) throws -> NetworkTopology {
            try cache.topology(.init(scope: .init(layer: .water), version: version, tolerance: tolerance)) {
                try NetworkTopology(network: net, scope: .init(layer: .water), tolerance: tolerance)
            }
        }
        _ = try get(0.01)
        _ = try get(0.02)
        _ = try get(0.01)  // kept; 0.02 is now the least recently used
        _ = try get(0.03)  // drops 0.02
        #expect(cache.builds == 3 && cache.hits == 1 && cache.count == 2)
        _ = try get(0.01)
        #expect(cache.builds == 3)
        _ = try get(0.02)
        #expect(cache.builds == 4)
        // A newer data version drops the older version's topologies; an older one is not kept.
        _ = try get(0.01, version: 1)
        #expect(cache.builds == 5 && cache.count == 1)
        _ = try get(0.01, version: 0)
        #expect(cache.builds == 6 && cache.count == 1)
    }
}
