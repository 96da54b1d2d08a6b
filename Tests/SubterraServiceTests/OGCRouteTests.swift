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

/// The OGC API routes and the planners' page over HTTP, against the fixture's roles: what a
/// role gets equals the oracle (every segment of the sample filtered by ``Fixture/granted``).
@Suite("subterra serve: OGC routes and the page", .serialized)
struct OGCRouteTests {
    /// Every segment of the sample, by layer.
    static let segments: [LayerCode: [PipeSegment]] = {
        let ids = try! Fixture.engine.segmentIDs(within: 0, of: nil, crs: nil, filter: .all)
        return Dictionary(grouping: ids.compactMap { Fixture.engine.segment(id: $0) }, by: \.layer)
    }()

    static func ids(_ o: [String: Any]) -> Set<Int64> {
        Set((o["features"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value })
    }

    @Test(arguments: ["all", "gas", "water-owner", "west", "no-gas", "auditor", "nobody"])
    func aRoleGetsExactlyItsGrant(role: String) async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let visible = Self.segments.mapValues { $0.filter { Fixture.granted($0, role: role) } }.filter { !$0.value.isEmpty }
            let (r, o) = try await c.json(.get, "/collections", user: role)
            #expect(r.status == .ok)
            let listed = Set((o["collections"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            #expect(listed == Set(visible.keys.map(\.rawValue)), "role \(role): /collections")
            for (layer, all) in Self.segments.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
                let mine = visible[layer] ?? []
                let (cr, _) = try await c.json(.get, "/collections/\(layer.rawValue)", user: role)
                let (ir, items) = try await c.json(.get, "/collections/\(layer.rawValue)/items?limit=10000", user: role)
                if mine.isEmpty {
                    // A layer holding nothing visible answers as an absent one.
                    #expect(cr.status == .notFound && ir.status == .notFound, "role \(role) layer \(layer)")
                    #expect(ir.headers[.contentType] == "application/problem+json")
                } else {
                    #expect(cr.status == .ok && ir.status == .ok, "role \(role) layer \(layer)")
                    #expect(Self.ids(items) == Set(mine.map(\.id)), "role \(role) layer \(layer): items")
                    #expect(items["numberMatched"] as? Int == mine.count)
                }
                // By id: every hidden segment (up to 25 a layer) is 404, like a missing one.
                let shown = Set(mine.map(\.id))
                for s in all.filter({ !shown.contains($0.id) }).prefix(25) {
                    let r = try await c.send(.get, "/collections/\(layer.rawValue)/items/\(s.id)", user: role)
                    #expect(r.status == .notFound, "role \(role): hidden segment \(s.id) answered \(r.status)")
                    #expect(!String(buffer: r.body).contains("\"coordinates\""))
                }
                for s in mine.prefix(3) {
                    let (r, f) = try await c.json(.get, "/collections/\(layer.rawValue)/items/\(s.id)", user: role)
                    #expect(r.status == .ok && (f["id"] as? NSNumber)?.int64Value == s.id)
                }
            }
        }
    }

    @Test func fieldsOutsideTheGrantNeverLeave() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            // "gas" sees depths only; "west" the owner only.
            let depthNames: Set<String> = ["startDepth", "endDepth", "nominalDepth"]
            let always: Set<String> = ["id", "layer", "feature", "part", "featureKind"]
            let (_, gas) = try await c.json(.get, "/collections/RQ/items?limit=200", user: "gas")
            let gasKeys = Set((gas["features"] as! [[String: Any]]).flatMap { ($0["properties"] as! [String: Any]).keys })
            #expect(gasKeys.isSubset(of: depthNames.union(always)), "gas role sees \(gasKeys.subtracting(always))")
            #expect(gasKeys.contains("startDepth"))
            let (_, west) = try await c.json(.get, "/collections/PS/items?limit=200", user: "west")
            let westKeys = Set((west["features"] as! [[String: Any]]).flatMap { ($0["properties"] as! [String: Any]).keys })
            #expect(westKeys.isSubset(of: always.union(["owner"])), "west role sees \(westKeys.subtracting(always))")
            // Naming a hidden property is refused like an unknown one, in properties and filters.
            let p = try await c.send(.get, "/collections/RQ/items?properties=owner", user: "gas")
            let u = try await c.send(.get, "/collections/RQ/items?properties=nonesuch", user: "gas")
            #expect(p.status == .badRequest && u.status == .badRequest)
            let f = try await c.send(.get, "/collections/RQ/items?filter=owner%3D'x'", user: "gas")
            #expect(f.status == .badRequest)
            let (q, qo) = try await c.json(.get, "/collections/RQ/queryables", user: "gas")
            #expect(q.status == .ok && q.headers[.contentType] == "application/schema+json")
            #expect((qo["properties"] as? [String: Any])?["owner"] == nil)
        }
    }

    @Test func errorsAreProblemJSONNamingTheParameter() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let cases: [(String, HTTPResponse.Status, String)] = [
                ("/collections/RQ/items?bbox=1,2,3", .badRequest, "bbox"),
                ("/collections/RQ/items?limit=0", .badRequest, "limit"),
                ("/collections/RQ/items?frobnicate=1", .badRequest, "frobnicate"),
                ("/collections/RQ/items?limit=1&limit=2", .badRequest, "limit"),
                ("/collections/RQ/items?crs=EPSG:9999", .badRequest, "crs"),
                ("/collections/RQ/items?filter=pressure%20%3E", .badRequest, "filter"),
                ("/collections/XX/items", .notFound, "collectionId"),
                ("/collections/RQ/items/nonesuch", .notFound, "featureId"),
                ("/conformance?x=1", .badRequest, "x"),
            ]
            for (uri, status, field) in cases {
                let (r, o) = try await c.json(.get, uri, user: "all")
                #expect(r.status == status, "\(uri)")
                #expect(r.headers[.contentType] == "application/problem+json", "\(uri)")
                #expect(o["field"] as? String == field, "\(uri): \(o)")
                #expect(o["status"] as? Int == Int(status.code))
            }
            for uri in ["/", "/conformance", "/collections", "/collections/RQ/items"] {
                let r = try await c.send(.get, uri)
                #expect(r.status == .unauthorized, "\(uri) without a credential")
            }
        }
    }

    @Test func landingPageConformanceAndLinks() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let (r, o) = try await c.json(.get, "/", user: "all")
            #expect(r.status == .ok && r.headers[.contentType] == "application/json")
            let rels = Set((o["links"] as? [[String: Any]] ?? []).compactMap { $0["rel"] as? String })
            #expect(rels.isSuperset(of: ["self", "conformance", "data"]))
            let (_, conf) = try await c.json(.get, "/conformance", user: "all")
            #expect((conf["conformsTo"] as? [String])?.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core") == true)
            // Paging: the next link continues where the page ended, with the request's host.
            let (pr, page) = try await c.json(.get, "/collections/PS/items?limit=7", user: "all")
            #expect(pr.headers[.contentType] == "application/geo+json")
            let next = (page["links"] as! [[String: Any]]).first { $0["rel"] as? String == "next" }?["href"] as? String
            #expect(next?.hasPrefix("http://") == true && next?.contains("/collections/PS/items?") == true && next?.contains("offset=7") == true)
            // A form-encoded space ('+') and percent-encoding both decode.
            let (fr, _) = try await c.json(.get, "/collections/RQ/items?filter=gasPressureMPa+%3E+0.1&limit=1", user: "all")
            #expect(fr.status == .ok)
        }
    }

    @Test func etagsGive304AndDifferByGrant() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let uri = "/collections/DL/items?limit=5"
            let a = try await c.send(.get, uri, user: "all")
            let tag = try #require(a.headers[.eTag])
            #expect(a.headers[.cacheControl] == "private, no-cache")
            let again = try await c.send(.get, uri, user: "all", headers: [.ifNoneMatch: tag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            #expect(again.headers[.eTag] == tag)
            let listed = try await c.send(.get, uri, user: "all", headers: [.ifNoneMatch: "\"zz\", \(tag)"])
            #expect(listed.status == .notModified)
            let other = try await c.send(.get, uri, user: "all", headers: [.ifNoneMatch: "W/\"0000000000000000\""])
            #expect(other.status == .ok)
            // Another grant never shares the tag (so never a cached answer).
            let b = try await c.send(.get, uri, user: "no-gas")
            #expect(b.headers[.eTag] != nil && b.headers[.eTag] != tag)
            let cross = try await c.send(.get, uri, user: "no-gas", headers: [.ifNoneMatch: tag])
            #expect(cross.status == .ok)
        }
    }

    /// The engine's version counts from its load: a restarted server (here a second one over the
    /// same store) must not honour a tag the first handed out.
    @Test func etagsDoNotSurviveARestart() async throws {
        let uri = "/collections/DL/items?limit=5"
        let first = try await Fixture.server()
        let tag: String = try await first.withClient { c in try #require(try await c.send(.get, uri, user: "all").headers[.eTag]) }
        let second = try await Fixture.server()
        try await second.withClient { c in
            let a = try await c.send(.get, uri, user: "all")
            #expect(a.headers[.eTag] != nil && a.headers[.eTag] != tag)
            let old = try await c.send(.get, uri, user: "all", headers: [.ifNoneMatch: tag])
            #expect(old.status == .ok, "a tag from before the restart is not honoured")
        }
    }

    @Test func ogcRequestsAreAudited() async throws {
        let audit = Fixture.temp("audit.jsonl")
        let server = try await Fixture.server(Fixture.config(audit: audit))
        try await server.withClient { c in
            _ = try await c.send(.get, "/collections/RQ/items?limit=4&bbox=121.3,28.3,121.5,28.5", user: "all")
            _ = try await c.send(.get, "/collections/RQ/items/1070", user: "no-gas")
        }
        let lines = try String(contentsOfFile: audit, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let items = try #require(lines.first { $0["route"] as? String == "/collections/{layer}/items" })
        #expect(items["user"] as? String == "all" && items["status"] as? Int == 200)
        #expect(items["features"] as? Int == 4 && items["layers"] as? [String] == ["RQ"])
        #expect(items["area"] as? [Double] == [121.3, 28.3, 121.5, 28.5])
        let refused = try #require(lines.first { $0["route"] as? String == "/collections/{layer}/items/{id}" })
        #expect(refused["user"] as? String == "no-gas" && refused["status"] as? Int == 404)
    }

    // MARK: The page

    @Test func thePageIsServedOpenlyWithTypesAndNoTraversal() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let r = try await c.send(.get, "/map")
            #expect(r.status == .permanentRedirect && r.headers[.location] == "/map/")
            let index = try await c.send(.get, "/map/")
            #expect(index.status == .ok && index.headers[.contentType] == "text/html; charset=utf-8")
            #expect(String(buffer: index.body).contains("leaflet/leaflet.js"))
            #expect(index.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
            let types = [
                "/map/app.js": "text/javascript; charset=utf-8", "/map/app.css": "text/css; charset=utf-8",
                "/map/leaflet/leaflet.js": "text/javascript; charset=utf-8", "/map/leaflet/leaflet.css": "text/css; charset=utf-8",
                "/map/leaflet/images/marker-icon.png": "image/png", "/map/leaflet/LICENSE": "text/plain; charset=utf-8",
            ]
            for (path, type) in types {
                let a = try await c.send(.get, path)
                #expect(a.status == .ok && a.headers[.contentType] == type, "\(path)")
                #expect(a.headers[.xContentTypeOptions] == "nosniff")
                let tag = try #require(a.headers[.eTag])
                #expect(try await c.send(.get, path, headers: [.ifNoneMatch: tag]).status == .notModified)
            }
            for path in [
                "/map/../Package.swift", "/map/%2e%2e/Package.swift", "/map/..%2fPackage.swift", "/map//etc/passwd",
                "/map/leaflet/../../../../etc/passwd", "/map/nonesuch.js", "/map/leaflet/", "/map/leaflet",
            ] {
                let a = try await c.send(.get, path)
                #expect(a.status == .notFound, "\(path): \(a.status)")
                #expect(!String(buffer: a.body).contains("root:"))
            }
        }
    }

    @Test func thePageFilesAreTheModulesResource() {
        let names = Set(PageAssets.bundled.assets.keys)
        #expect(names.isSuperset(of: ["index.html", "app.js", "app.css", "leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/LICENSE"]))
        // Only known media types are served: nothing else in the folder becomes a URL.
        #expect(names.allSatisfy { PageAssets.mediaType(($0 as NSString).lastPathComponent) != nil })
    }

    @Test func thePagesLayerColoursAreTheCataloguesCJJ61Colours() throws {
        let js = String(decoding: PageAssets.bundled.assets["app.js"]!.body.readableBytesView, as: UTF8.self)
        let table = try #require(js.firstMatch(of: #/const LAYER_COLOURS = \{([^}]*)\}/#)).1
        var colours: [String: [Int]] = [:]
        for m in table.matches(of: #/([A-Z]{2}): \[(\d+), (\d+), (\d+)\]/#) {
            colours[String(m.1)] = [Int(m.2)!, Int(m.3)!, Int(m.4)!]
        }
        let catalogue = LayerCatalog.standardWithFibre
        #expect(colours.count == catalogue.layers.count)
        for layer in catalogue.layers {
            let c = layer.colour
            #expect(colours[layer.code.rawValue] == [Int(c.red), Int(c.green), Int(c.blue)], "layer \(layer.code)")
        }
    }
}
