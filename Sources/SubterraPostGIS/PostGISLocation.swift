import Foundation
import PostgresNIO
import SubterraModel

/// Where a PostGIS store lives: a `postgresql://user[:password]@host[:port]/database` URL (the
/// libpq URI form; `postgres://` too). Only TCP without TLS for now (loopback and private
/// networks); the password, when given, is never shown in ``description``.
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
            throw StoreError("not a postgresql://user@host:port/database URL", path: url)
        }
        guard let user = c.user, !user.isEmpty else {
            throw StoreError("the URL names no user (postgresql://USER@host:port/database)", path: url)
        }
        let db = String(c.path.drop { $0 == "/" })
        guard !db.isEmpty, !db.contains("/") else {
            throw StoreError("the URL names no database (postgresql://user@host:port/DATABASE)", path: url)
        }
        self.host = host
        port = c.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        password = c.password.map { $0.removingPercentEncoding ?? $0 }
        database = db.removingPercentEncoding ?? db
    }

    /// The URL without the password.
    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    var clientConfiguration: PostgresClient.Configuration {
        var c = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: .disable)
        c.options.maximumConnections = 8
        c.options.minimumConnections = 0
        return c
    }
}
