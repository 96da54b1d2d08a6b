import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import SubterraRequests
@testable import SubterraService

/// The OpenAPI document served at `/openapi.json` against the router it describes.
@Suite("subterra serve: OpenAPI document")
struct OpenAPITests {
    static func document() throws -> [String: Any] {
        let o = try JSONSerialization.jsonObject(with: Data(SubterraServer.openAPIDocument.utf8))
        return try #require(o as? [String: Any])
    }

    /// A registered path as the document spells it (`/map/**` is `/map/{file}`).
    static func documented(_ path: String) -> String { path.replacingOccurrences(of: "/**", with: "/{file}") }

    @Test func theDocumentParsesAndDescribesEveryRegisteredRoute() async throws {
        let doc = try Self.document()
        #expect((doc["openapi"] as? String)?.hasPrefix("3.") == true)
        let paths = try #require(doc["paths"] as? [String: [String: Any]])
        let server = try await Fixture.server()
        let routes = server.router().routes
        #expect(routes.count > 20)
        var registered = Set<String>()
        for r in routes {
            let path = Self.documented(r.path.description)
            let method = r.method.rawValue.lowercased()
            registered.insert("\(method) \(path)")
            let op = paths[path]?[method] as? [String: Any]
            #expect(op != nil, "\(r.method) \(r.path) is not in the OpenAPI document")
            #expect((op?["responses"] as? [String: Any])?.isEmpty == false, "\(r.method) \(r.path) has no responses")
        }
        // And nothing is described that is not served.
        for (path, ops) in paths {
            for method in ops.keys where ["get", "put", "post", "delete", "patch"].contains(method) {
                #expect(registered.contains("\(method) \(path)"), "\(method) \(path) is described but not routed")
            }
        }
        // Every $ref resolves.
        let text = SubterraServer.openAPIDocument
        let components = try #require(doc["components"] as? [String: [String: Any]])
        for m in text.matches(of: #/"\$ref": "#/components/(\w+)/(\w+)"/#) {
            #expect(components[String(m.output.1)]?[String(m.output.2)] != nil, "unresolved \(m.output.0)")
        }
    }

    @Test func requestBodiesRefusingUnknownMembersListExactlyTheirMembers() throws {
        let doc = try Self.document()
        let schemas = try #require((doc["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        func members(_ name: String) -> Set<String> {
            #expect(schemas[name]?["additionalProperties"] as? Bool == false, "\(name) refuses unknown members")
            return Set((schemas[name]?["properties"] as? [String: Any] ?? [:]).keys)
        }
        #expect(members("QueryRequest") == Set(QueryRequest.fieldNames))
        #expect(members("DigCheckInput") == Set(DigCheckInput.memberNames))
        #expect(members("FeatureProperties") == Set(OGCProperty.all.map(\.name)))
        // Problems are described with their media type.
        let responses = try #require((doc["components"] as? [String: Any])?["responses"] as? [String: [String: Any]])
        #expect(responses.values.allSatisfy { ($0["content"] as? [String: Any])?["application/problem+json"] != nil })
    }

    @Test func theDocumentIsServedWithoutACredential() async throws {
        let server = try await Fixture.server()
        try await server.withClient { c in
            let r = try await c.send(.get, "/openapi.json")
            #expect(r.status == .ok && r.headers[.contentType] == "application/json")
            #expect(String(buffer: r.body) == SubterraServer.openAPIDocument)
        }
    }
}
