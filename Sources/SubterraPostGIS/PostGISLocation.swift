import Foundation
import NIOSSL
import PostgresNIO
import SubterraModel

/// Where a PostGIS store lives: a `postgresql://user[:password]@host[:port]/database` URL (the
/// libpq URI form; `postgres://` too), over TCP, with TLS as libpq's `sslmode` says.
///
/// The password, when given, is never shown in ``description`` or in an error; as with libpq,
/// `PGPASSWORD` supplies it when the URL has none, so it need not appear on a command line
/// (where `ps` shows it).
///
/// **TLS.** The URL's query takes libpq's `sslmode` and `sslrootcert` (and, as libpq does,
/// `PGSSLMODE` and `PGSSLROOTCERT` from the environment when the URL has none; and libpq's
/// `password`, never shown):
///
/// | sslmode | TLS | the server's certificate |
/// |---|---|---|
/// | `disable` | never | |
/// | `prefer` (the default, as in libpq) | when the server offers it | not checked |
/// | `require` | always | not checked; checked against `sslrootcert` when one is given (libpq's rule) |
/// | `verify-ca` | always | signed by a CA in `sslrootcert` |
/// | `verify-full` | always | that, and issued for the URL's host name or IP address |
///
/// `sslrootcert` is a PEM file of CA certificates, or `system` for the system's trust store
/// (then, as in libpq 16, `verify-full` is the default and a weaker mode is refused);
/// without one, `verify-ca` and `verify-full` use `~/.postgresql/root.crt` as libpq does, and
/// refuse to start when it is missing. `allow` (plain first, TLS on refusal) is not offered:
/// ask for `prefer`. Other query parameters are refused by name rather than ignored.
///
/// ```
/// postgresql://editor@db.city.example/pipes?sslmode=verify-full&sslrootcert=/etc/subterra/city-ca.pem
/// ```
public struct PostGISLocation: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// How TLS is used: libpq's `sslmode`.
    public var sslMode: SSLMode
    /// The CA certificates (a PEM file path, or `system`) a `verify-*` mode, or `require` with
    /// a root given, checks the server's certificate against.
    public var sslRootCert: String?

    /// libpq's `sslmode` values Subterra offers (see the type).
    public enum SSLMode: String, Hashable, Sendable, CaseIterable {
        case disable
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Whether `text` names a PostGIS store rather than a file: it starts with `postgresql://`
    /// or `postgres://`.
    public static func isURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
    }

    /// Parses `url`.
    ///
    /// - Throws: `StoreError` saying which part is missing or malformed.
    public init(url: String) throws(StoreError) {
        guard Self.isURL(url), let c = URLComponents(string: url), let host = c.host, !host.isEmpty else {
            throw StoreError("not a postgresql://user@host:port/database URL", path: Self.redacted(url))
        }
        guard let user = c.user, !user.isEmpty else {
            throw StoreError("the URL names no user (postgresql://USER@host:port/database)", path: Self.redacted(url))
        }
        let db = String(c.path.drop { $0 == "/" })
        guard !db.isEmpty, !db.contains("/") else {
            throw StoreError("the URL names no database (postgresql://user@host:port/DATABASE)", path: Self.redacted(url))
        }
        self.host = host
        port = c.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        let environment = ProcessInfo.processInfo.environment
        password = c.password.map { $0.removingPercentEncoding ?? $0 } ?? environment["PGPASSWORD"]
        database = db.removingPercentEncoding ?? db
        var mode = environment["PGSSLMODE"], root = environment["PGSSLROOTCERT"]
        var modeSource = "PGSSLMODE"
        for item in c.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                mode = item.value
                modeSource = "sslmode"
            case "sslrootcert": root = item.value
            case "password": if let p = item.value { password = p }
            default:
                throw StoreError(
                    "the URL's query parameter \"\(item.name.prefix(40))\" is not understood (sslmode and sslrootcert are)",
                    path: Self.redacted(url))
            }
        }
        if let mode, !mode.isEmpty {
            guard let m = SSLMode(rawValue: mode) else {
                let offered = SSLMode.allCases.map(\.rawValue).joined(separator: ", ")
                let hint = mode == "allow" ? " (allow is not offered: use prefer)" : ""
                throw StoreError("\(modeSource) \"\(mode.prefix(40))\" is not one of \(offered)\(hint)", path: Self.redacted(url))
            }
            sslMode = m
        } else {
            sslMode = .prefer
        }
        sslRootCert = root.flatMap { $0.isEmpty ? nil : $0 }
        // libpq 16: the system's roots vouch for any public name, so they are used with the host
        // name checked only: verify-full by default, any weaker mode refused.
        if sslRootCert == "system" {
            if mode == nil || mode?.isEmpty == true {
                sslMode = .verifyFull
            } else if sslMode != .verifyFull {
                throw StoreError(
                    "sslrootcert=system needs sslmode=verify-full (the system's CAs vouch for any public host name), not \(sslMode.rawValue)",
                    path: Self.redacted(url))
            }
        }
    }

    /// The URL without the password; the TLS parameters when they are not the defaults.
    public var description: String {
        var query: [String] = []
        if sslMode != .prefer { query.append("sslmode=" + sslMode.rawValue) }
        if let sslRootCert { query.append("sslrootcert=" + sslRootCert) }
        return "postgresql://\(user)@\(host):\(port)/\(database)" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
    }

    /// `text` with any password of its user-info part removed, and its query dropped (what
    /// messages may show of a store argument): `postgresql://ana:secret@h/db?sslmode=require` →
    /// `postgresql://ana@h/db`. Text that is
    /// not a postgresql URL is returned unchanged; one with user info that cannot be parsed
    /// loses everything between `://` and the last `@`.
    public static func redacted(_ text: String) -> String {
        guard isURL(text), let scheme = text.range(of: "://") else { return text }
        // The query may carry a password (libpq's `password=`): dropped whole.
        if let q = text.firstIndex(of: "?") { return redacted(String(text[..<q])) }
        guard let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + String(text[at...])
    }

    /// The TLS setting of every connection to this location (the pool's and a follower's
    /// listening one), as ``sslMode`` and ``sslRootCert`` say: whether TLS is used (nil: never),
    /// required, and how the server's certificate is checked.
    ///
    /// - Throws: `StoreError` when a mode that checks certificates has no CA file to check
    ///   against, or the file cannot be read as PEM certificates.
    func tlsSetting() throws(StoreError) -> (required: Bool, configuration: TLSConfiguration)? {
        var config = TLSConfiguration.makeClientConfiguration()
        // libpq: require with a root certificate given checks the chain, as verify-ca does.
        let mode = sslMode == .require && sslRootCert != nil ? .verifyCA : sslMode
        switch mode {
        case .disable: return nil
        case .prefer, .require:
            config.certificateVerification = .none
            return (mode == .require, config)
        case .verifyCA, .verifyFull:
            config.certificateVerification = mode == .verifyFull ? .fullVerification : .noHostnameVerification
            let root: String
            if let sslRootCert {
                root = sslRootCert
            } else {
                root = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".postgresql/root.crt").path
                guard FileManager.default.fileExists(atPath: root) else {
                    throw StoreError(
                        "sslmode=\(sslMode.rawValue) checks the server's certificate, but there is no CA file: give sslrootcert=PATH "
                            + "(or sslrootcert=system), or put one at \(root)", path: description)
                }
            }
            if root != "system" {
                do {
                    config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(root))
                } catch {
                    throw StoreError("sslrootcert \(root) cannot be read as PEM certificates: \(error)", path: description)
                }
            }
            return (true, config)
        }
    }

    /// ``tlsSetting()`` for a pool.
    func clientTLS() throws(StoreError) -> PostgresClient.Configuration.TLS {
        guard let t = try tlsSetting() else { return .disable }
        return t.required ? .require(t.configuration) : .prefer(t.configuration)
    }

    /// ``tlsSetting()`` for a single connection.
    func connectionTLS() throws(StoreError) -> PostgresConnection.Configuration.TLS {
        guard let t = try tlsSetting() else { return .disable }
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: t.configuration) } catch {
            throw StoreError("cannot set up TLS: \(error)", path: description)
        }
        return t.required ? .require(context) : .prefer(context)
    }

    /// A single connection's configuration (a store's first connection, a follower's listening
    /// one). Throws as ``tlsSetting()`` does.
    func connectionConfiguration(applicationName: String) throws(StoreError) -> PostgresConnection.Configuration {
        var c = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try connectionTLS())
        c.options.additionalStartupParameters = [("application_name", applicationName)]
        return c
    }

    /// The most connections one store's pool opens.
    static let poolSize = 8

    /// The pool's configuration. Throws as ``tlsSetting()`` does.
    func clientConfiguration() throws(StoreError) -> PostgresClient.Configuration {
        var c = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: try clientTLS())
        c.options.maximumConnections = Self.poolSize
        c.options.minimumConnections = 0
        return c
    }
}
