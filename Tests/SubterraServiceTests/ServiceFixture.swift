import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SubterraAccess
import SubterraDatasets
import SubterraEngine
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraRequests
import SubterraService

/// The sample district (Datasets/sample) served with a set of roles, one user per role.
enum Fixture {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let sampleDir = root.appendingPathComponent("Datasets/sample").path

    /// The sample's records, read once.
    static let network: UtilityNetwork = try! DistrictReader.readGeoJSON(directory: sampleDir)

    /// The whole sample in one engine, loaded once.
    static let engine: UtilityEngine = try! UtilityEngine(network: network)

    /// Western part of the district (map CRS), for the area role.
    static let west = "POLYGON ((636500 3139900, 637200 3139900, 637200 3140800, 636500 3140800, 636500 3139900))"
    static let gasOwner = "Wenling Natural Gas Co."
    static let waterOwner = "Wenling Water Supply Co."
    static let gasContact = "+86 576 0000 1111 (gas emergency)"

    /// role name -> configuration.
    static let roles: [String: RoleConfig] = [
        "all": RoleConfig(layers: ["*"], fields: ["*"]),
        "gas": RoleConfig(layers: ["RQ"], fields: ["depth"]),
        "water-owner": RoleConfig(layers: ["*"], owners: [waterOwner], fields: ["*"]),
        "west": RoleConfig(layers: ["*"], area: west, fields: ["owner"]),
        "no-gas": RoleConfig(layers: ["DL", "GX", "JS", "PS", "RL", "TX"], fields: ["*"]),
        "auditor": RoleConfig(admin: true),
        // Editors: gas may be edited by its editor; the water editor sees gas but edits water.
        "gas-editor": RoleConfig(layers: ["RQ"], fields: ["*"], edit: ["RQ"]),
        "water-editor": RoleConfig(layers: ["RQ", "JS"], fields: ["*"], edit: ["JS"]),
        // Edits gas but sees only depths (besides id, layer and position).
        "gas-depth-editor": RoleConfig(layers: ["RQ"], fields: ["depth"], edit: ["RQ"]),
    ]

    /// A fresh engine over the sample, for tests that edit (the shared ``engine`` stays as read).
    static func freshEngine() throws -> UtilityEngine {
        try UtilityEngine(network: try DistrictReader.readGeoJSON(directory: sampleDir))
    }

    /// user name (= role name, plus "nobody" with no role) -> API key.
    static let keys: [String: String] = {
        var k: [String: String] = [:]
        for name in Array(roles.keys) + ["nobody"] { k[name] = APIKey.generate() }
        return k
    }()

    static func config(audit: String? = nil, digChecks: String? = nil, maxBodyBytes: Int = 1 << 20) -> ServiceConfig {
        var c = ServiceConfig()
        c.roles = roles
        c.users = keys.keys.sorted().map { name in
            AccessPolicy.User(name: name, keyHash: APIKey.Stored(APIKey.hash(keys[name]!)), roles: roles[name] != nil ? [name] : [])
        }
        c.contacts = [gasOwner: gasContact]
        c.auditPath = audit
        c.digCheckPath = digChecks
        c.limits.maxBodyBytes = maxBodyBytes
        c.jwt = JWTSettings(hmacSecret: jwtSecret)
        return c
    }

    static let jwtSecret = "a-test-secret-of-at-least-32-bytes-long!"

    static func server(_ c: ServiceConfig = config(), map: (any PipeMap)? = nil, withNetwork: Bool = true) async throws -> SubterraServer {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try await SubterraServer(
            map: map ?? engine, config: c, logger: logger, network: withNetwork ? NetworkSource(network) : nil)
    }

    static func temp(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-serve-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// An independent statement of a role's grant, for oracles: layer, owner, and the segment
    /// wholly inside the area (GEOS).
    static func granted(_ s: PipeSegment, role: String) -> Bool {
        guard let r = roles[role], let layers = r.layers else { return false }
        if layers != ["*"], !layers.contains(s.layer.rawValue) { return false }
        if let o = r.owners, !o.contains(s.owner ?? "") { return false }
        if let a = r.area {
            let area = try! WKT.parse(a)
            return try! GEOS.withContext { try $0.contains(area, .lineString(s.geometry)) }
        }
        return true
    }
}

/// Request helpers over a test client.
struct Client {
    let client: any TestClientProtocol

    func send(
        _ method: HTTPRequest.Method, _ uri: String, user: String? = nil, body: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var h = extra
        if let user { h[.authorization] = "Bearer \(Fixture.keys[user]!)" }
        return try await client.execute(uri: uri, method: method, headers: h, body: body.map { ByteBuffer(string: $0) })
    }

    func json(_ method: HTTPRequest.Method, _ uri: String, user: String?, body: String? = nil) async throws -> (TestResponse, [String: Any]) {
        let r = try await send(method, uri, user: user, body: body)
        let o = (try? JSONSerialization.jsonObject(with: Data(String(buffer: r.body).utf8))) as? [String: Any] ?? [:]
        return (r, o)
    }
}

extension SubterraServer {
    func withClient<T: Sendable>(_ setup: TestingSetup = .router, _ body: @Sendable (Client) async throws -> T) async throws -> T {
        let app = try application(address: ListenAddress(host: "127.0.0.1", port: 0))
        return try await app.test(setup) { try await body(Client(client: $0)) }
    }
}

/// Every object anywhere in `v` (depth first).
func objects(_ v: Any) -> [[String: Any]] {
    var out: [[String: Any]] = []
    if let o = v as? [String: Any] {
        out.append(o)
        for x in o.values { out += objects(x) }
    } else if let a = v as? [Any] {
        for x in a { out += objects(x) }
    }
    return out
}
