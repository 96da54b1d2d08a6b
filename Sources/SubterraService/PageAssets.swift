import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SubterraAccess

/// The planners' page: the files of this module's `Public` resource (index.html, app.js,
/// app.css and Leaflet under leaflet/), read once into memory and served at `/map/`.
///
/// **No directory traversal by construction**: a request path is looked up in the table of
/// files found at start, never joined to a file-system path, so `..`, `%2e%2e`, symlinks or
/// absolute paths can only miss (404). Only files with a known media type
/// (``mediaTypes``) are in the table; anything else in the folder is not served.
///
/// The page holds no map data: every byte of it is the same for every caller, so it is served
/// without a credential; the data it shows comes from the API with the user's key.
public struct PageAssets: Sendable {
    /// One file: its bytes, media type and strong ETag (SHA-256 of the bytes, first 16 bytes).
    public struct Asset: Sendable {
        public let body: ByteBuffer
        public let contentType: String
        public let etag: String
    }

    /// Path under `/map/` (`index.html`, `leaflet/leaflet.js`) → file.
    public let assets: [String: Asset]

    /// Media types by file extension (or whole name, for `LICENSE`).
    static let mediaTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "png": "image/png", "svg": "image/svg+xml", "json": "application/json", "LICENSE": "text/plain; charset=utf-8",
    ]

    /// The media type of `name`, nil when it is not served.
    static func mediaType(_ name: String) -> String? {
        if let t = mediaTypes[name] { return t }
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        return mediaTypes[String(name[name.index(after: dot)...])]
    }

    /// Every servable regular file under `directory` (symbolic links are not followed).
    public init(directory: URL) {
        var table: [String: Asset] = [:]
        let root = directory.standardizedFileURL.path
        let keys: [URLResourceKey] = [.isRegularFileKey, .isSymbolicLinkKey]
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: keys)
        while let url = files?.nextObject() as? URL {
            guard let v = try? url.resourceValues(forKeys: Set(keys)), v.isRegularFile == true, v.isSymbolicLink != true,
                let type = Self.mediaType(url.lastPathComponent), let data = try? Data(contentsOf: url)
            else { continue }
            let path = url.standardizedFileURL.path
            guard path.hasPrefix(root + "/") else { continue }
            let digest = APIKey.hex(Array(SHA256.hash(data: data).prefix(16)))
            table[String(path.dropFirst(root.count + 1))] = Asset(
                body: ByteBuffer(bytes: data), contentType: type, etag: "\"\(digest)\"")
        }
        assets = table
    }

    /// The page shipped with this module (empty when the resource bundle is missing).
    public static let bundled: PageAssets = {
        guard let url = Bundle.module.url(forResource: "Public", withExtension: nil) else {
            return PageAssets(directory: URL(fileURLWithPath: "/nonexistent"))
        }
        return PageAssets(directory: url)
    }()

    /// The URL prefix the page is served under.
    public static let prefix = "/map/"

    /// Whether `path` is one of the page's (served without a credential).
    static func isPagePath(_ path: String) -> Bool { path == "/map" || path.hasPrefix(prefix) }

    /// Content Security Policy of every page file: nothing from another origin (no CDN, no
    /// tiles, no exfiltration by the page), no inline script; inline styles for Leaflet.
    static let contentSecurityPolicy =
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
        + "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'"

    /// The answer to `GET path`: `/map` redirects to `/map/`, `/map/` is `index.html`, a file
    /// of the table is sent (304 when `If-None-Match` names its ETag), anything else is 404.
    func response(path: String, ifNoneMatch: String?) throws(Problem) -> Response {
        if path == "/map" {
            var h = HTTPFields()
            h[.location] = Self.prefix
            return Response(status: .permanentRedirect, headers: h)
        }
        var name = String(path.dropFirst(Self.prefix.count))
        if name.isEmpty { name = "index.html" }
        guard let asset = assets[name] else { throw Problem(.notFound, "no such file of the page: \(path.prefix(200))") }
        var h = HTTPFields()
        h[.eTag] = asset.etag
        h[.cacheControl] = "no-cache"
        h[.contentSecurityPolicy] = Self.contentSecurityPolicy
        h[.xContentTypeOptions] = "nosniff"
        h[Self.referrerPolicy] = "no-referrer"
        if let inm = ifNoneMatch, SubterraServer.etagMatches(inm, asset.etag) {
            return Response(status: .notModified, headers: h)
        }
        h[.contentType] = asset.contentType
        return Response(status: .ok, headers: h, body: .init(byteBuffer: asset.body))
    }

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
