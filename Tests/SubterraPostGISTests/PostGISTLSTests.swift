import Foundation
import SubterraModel
import Testing

@testable import SubterraPostGIS

/// libpq's `sslmode` and `sslrootcert` in a store URL: parsed (no server needed), and used, against
/// the TLS-enabled servers of `scripts/with-postgres.sh` (its throwaway CA in `SUBTERRA_PG_TLS_CA`).
@Suite("PostGIS: TLS to the store (sslmode)")
struct PostGISTLSTests {
    static let ca = ProcessInfo.processInfo.environment["SUBTERRA_PG_TLS_CA"]
    static let otherCA = ProcessInfo.processInfo.environment["SUBTERRA_PG_TLS_OTHER_CA"]
    static let base = "postgresql://ana@db.example:6543/city"

    @Test("sslmode and sslrootcert parse as libpq's; prefer is the default; the description names them")
    func parsing() throws {
        #expect(try PostGISLocation(url: Self.base).sslMode == .prefer)
        for mode in PostGISLocation.SSLMode.allCases {
            let l = try PostGISLocation(url: Self.base + "?sslmode=" + mode.rawValue)
            #expect(l.sslMode == mode)
            #expect(l.description == Self.base + (mode == .prefer ? "" : "?sslmode=" + mode.rawValue))
        }
        let l = try PostGISLocation(url: Self.base + "?sslmode=verify-full&sslrootcert=/etc/city%20ca.pem")
        #expect(l.sslRootCert == "/etc/city ca.pem")
        #expect(l.description == Self.base + "?sslmode=verify-full&sslrootcert=/etc/city ca.pem")
    }

    @Test("an unknown sslmode, allow, or another query parameter is refused by name")
    func refusals() throws {
        let cases: [(String, String)] = [
            ("?sslmode=verify", "sslmode \"verify\" is not one of disable, prefer, require, verify-ca, verify-full"),
            ("?sslmode=allow", "allow is not offered: use prefer"),
            ("?connect_timeout=5", "query parameter \"connect_timeout\" is not understood"),
        ]
        // libpq's password parameter is taken and never shown, even in a refusal of the URL.
        let e = #expect(throws: StoreError.self) { try PostGISLocation(url: "postgresql://ana@db.example/city?password=hunter2&sslmode=bogus") }
        #expect(e.map { !"\($0)".contains("hunter2") } == true, "\(e.map { "\($0)" } ?? "")")
        #expect(try PostGISLocation(url: "postgresql://ana@db.example/city?password=hunter2").password == "hunter2")
        #expect(PostGISLocation.redacted("postgresql://ana:pw@h/db?password=hunter2") == "postgresql://ana@h/db")
        // The system's CAs: verify-full by default, a weaker mode refused (libpq 16).
        #expect(try PostGISLocation(url: Self.base + "?sslrootcert=system").sslMode == .verifyFull)
        for weak in ["require", "verify-ca", "prefer"] {
            #expect(throws: StoreError.self, "\(weak)") { try PostGISLocation(url: Self.base + "?sslrootcert=system&sslmode=\(weak)") }
        }
        for (query, message) in cases {
            let e = #expect(throws: StoreError.self) { try PostGISLocation(url: "postgresql://ana:hunter2@db.example/city" + query) }
            #expect(e?.message.contains(message) == true, "\(query): \(e.map { "\($0)" } ?? "")")
            #expect(e.map { !"\($0)".contains("hunter2") } == true)
        }
    }

    @Test("a mode that checks certificates needs a readable CA file")
    func rootCertificates() throws {
        let home = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".postgresql/root.crt").path
        if !FileManager.default.fileExists(atPath: home) {
            let l = try PostGISLocation(url: Self.base + "?sslmode=verify-full")
            let e = #expect(throws: StoreError.self) { try l.tlsSetting() }
            #expect(e?.message.contains("give sslrootcert=PATH") == true, "\(e.map { "\($0)" } ?? "")")
        }
        let bad = NSTemporaryDirectory() + "subterra-not-a-cert-\(UUID().uuidString).pem"
        try "not a certificate".write(toFile: bad, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: bad) }
        for mode in ["verify-ca", "require"] {
            let l = try PostGISLocation(url: Self.base + "?sslmode=\(mode)&sslrootcert=" + bad)
            let e = #expect(throws: StoreError.self) { try l.tlsSetting() }
            #expect(e?.message.contains("cannot be read as PEM certificates") == true, "\(mode)")
        }
        #expect(try PostGISLocation(url: Self.base + "?sslmode=disable").tlsSetting() == nil)
        #expect(try PostGISLocation(url: Self.base + "?sslmode=verify-full&sslrootcert=system").tlsSetting()?.required == true)
    }

    /// Whether the connections named `application` on the server of `url` use TLS (nil: none).
    static func usesTLS(_ url: String, application: String) throws -> Bool? {
        let rows = try PG.sql(
            url, "SELECT bool_and(s.ssl)::text FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.application_name = '\(application)' AND a.datname = current_database()")
        return rows.first?.first.flatMap { $0 }.map { $0 == "true" }
    }

    static func url(_ db: String, _ query: String) -> String { db + (query.isEmpty ? "" : "?" + query) }

    @Test("each sslmode connects as it says: plain, or TLS with the certificate checked", .enabled(if: PG.primary != nil && ca != nil, PG.skipReason))
    func modesAgainstTheServer() throws {
        let db = try PG.freshDatabase("tlsmodes")
        let ca = Self.ca!
        let cases: [(String, Bool)] = [
            ("sslmode=disable", false), ("", true), ("sslmode=require", true),
            ("sslmode=verify-ca&sslrootcert=\(ca)", true), ("sslmode=verify-full&sslrootcert=\(ca)", true),
        ]
        for (k, (query, tls)) in cases.enumerated() {
            let application = "subterra-tls-\(k)-\(ProcessInfo.processInfo.processIdentifier)"
            let store = try PostGISStore.open(Self.url(db, query), applicationName: application)
            defer { store.close() }
            // A pooled connection, open while it is looked at.
            _ = try store.dataVersion()
            #expect(try Self.usesTLS(db, application: application) == tls, "\(query)")
        }
    }

    @Test("a certificate from another CA is refused at once, saying so, in every mode that checks it",
          .enabled(if: PG.primary != nil && otherCA != nil, PG.skipReason), .timeLimit(.minutes(1)))
    func wrongCA() throws {
        let db = try PG.freshDatabase("tlswrongca")
        for mode in ["verify-full", "verify-ca", "require"] {
            let started = Date()
            let e = #expect(throws: StoreError.self) { try PostGISStore.open(Self.url(db, "sslmode=\(mode)&sslrootcert=\(Self.otherCA!)")) }
            let text = e.map { "\($0)" } ?? ""
            #expect(text.contains("cannot open store") && text.lowercased().contains("certificate"), "\(mode): \(text)")
            #expect(Date().timeIntervalSince(started) < 15, "\(mode): the refusal took \(Date().timeIntervalSince(started)) s")
        }
    }

    @Test("a follower reads and listens over TLS", .enabled(if: PG.primary != nil && ca != nil, PG.skipReason), .timeLimit(.minutes(1)))
    func followerOverTLS() throws {
        let db = try PG.freshDatabase("tlsfollow")
        let url = Self.url(db, "sslmode=verify-full&sslrootcert=\(Self.ca!)")
        let pg = try PostGISFollowerTests.loadSample(url, segments: 50)
        defer { pg.close() }
        let follower = try PostGISFollower(url: url)
        follower.start()
        defer { follower.stop() }
        let version = try pg.dataVersion()
        #expect(follower.wait(forVersion: version, timeout: .seconds(20)))
        var listening: Bool?
        for _ in 0..<100 where listening == nil {
            listening = try Self.usesTLS(db, application: "subterra-follower")
            if listening == nil { Thread.sleep(forTimeInterval: 0.1) }
        }
        #expect(listening == true, "the listening connection: \(listening.map(String.init) ?? "not seen")")
    }
}
