import Foundation
import PostgresNIO
import SubterraModel

/// Where a PostGIS store lives: a `postgresql://user[:password]@host[:port]/database` URL (the
/// libpq URI form; `postgres://` too). Only TCP without TLS for now (loopback and private
/// networks). The password, when given, is never shown in ``description`` or in an error; as
/// with libpq, `PGPASSWORD` supplies it when the URL has none, so it need not appear on a
/// command line (where `ps` shows it).
public struct PostGISLocation: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

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
        password = c.password.map { $0.removingPercentEncoding ?? $0 } ?? ProcessInfo.processInfo.environment["PGPASSWORD"]
        database = db.removingPercentEncoding ?? db
    }

    /// The URL without the password.
    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    /// `text` with any password of its user-info part removed (what messages may show of a
    /// store argument): `postgresql://ana:secret@h/db` → `postgresql://ana@h/db`. Text that is
    /// not a postgresql URL is returned unchanged; one with user info that cannot be parsed
    /// loses everything between `://` and the last `@`.
    public static func redacted(_ text: String) -> String {
        guard isURL(text), let scheme = text.range(of: "://") else { return text }
        guard let at = text[scheme.upperBound...].lastIndex(of: "@") else { return text }
        let userInfo = text[scheme.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + String(text[at...])
    }

    var clientConfiguration: PostgresClient.Configuration {
        var c = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable)
        c.options.maximumConnections = 8
        c.options.minimumConnections = 0
        return c
    }
}
