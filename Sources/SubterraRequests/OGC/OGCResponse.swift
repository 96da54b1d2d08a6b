import Foundation
import SubterraEngine
import SubterraGeometry

/// One answer of the OGC API Features functions (``OGCFeatures``), ready for an HTTP layer to
/// send: status, media type, body and headers. Pure data: no socket, no framework.
public struct OGCResponse: Sendable, Hashable {
    /// One response header, in the order the answer gives them (`Link` may repeat).
    public struct Header: Sendable, Hashable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// HTTP status: 200 for every answer built here (errors are thrown as ``OGCError``).
    public var status: Int
    /// `application/json`, `application/geo+json` or `application/schema+json`.
    public var contentType: String
    /// The JSON document, UTF-8.
    public var body: String
    /// `ETag` (a weak tag from the data version, the request and the caller's access key),
    /// `Content-Crs` for features, and one `Link` per paging link.
    public var headers: [Header]

    public init(status: Int = 200, contentType: String, body: String, headers: [Header] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    /// The value of the first header named `name` (case-insensitive), if any.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    /// The `ETag` header, for the caller's `If-None-Match` handling.
    public var etag: String? { header("ETag") }
}

/// A refused OGC request: the HTTP status, the query parameter (or path part) at fault, and a
/// message saying what and where, for an RFC 9457 `application/problem+json` answer
/// (``problemJSON(instance:)``).
///
/// A feature or collection the caller may not see is answered exactly like one that does not
/// exist (404, same words), so a refusal never tells that it exists.
public struct OGCError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 400 (bad parameter), 404 (no such collection or feature, or not visible).
    public var status: Int
    /// The query parameter or path part at fault (`bbox`, `limit`, `filter`, `featureId`...);
    /// nil when none is.
    public var parameter: String?
    /// What is wrong, one line.
    public var detail: String

    public init(status: Int, parameter: String?, _ detail: String) {
        self.status = status
        self.parameter = parameter
        self.detail = detail
    }

    /// A 400 naming `parameter`.
    static func bad(_ parameter: String, _ detail: String) -> OGCError {
        OGCError(status: 400, parameter: parameter, "\(parameter): \(detail)")
    }

    /// A 404 saying `what` does not exist.
    static func notFound(_ parameter: String, _ what: String) -> OGCError {
        OGCError(status: 404, parameter: parameter, "\(what) does not exist")
    }

    public var description: String { "\(status) \(detail)" }

    /// The problem document (RFC 9457): `type` about:blank, `title` the status's reason,
    /// `status`, `detail`, `parameter` when known and `instance` when given. Sorted keys.
    public func problemJSON(instance: String? = nil) -> String {
        var o = JSONObject()
        o.append("detail", .string(detail))
        if let instance { o.append("instance", .string(instance)) }
        if let parameter { o.append("parameter", .string(parameter)) }
        o.append("status", .number(Double(status)))
        o.append("title", .string(status == 404 ? "Not Found" : status == 400 ? "Bad Request" : "Error"))
        o.append("type", .string("about:blank"))
        return GeoJSON.write(JSONValue.object(o))
    }
}

/// What the caller may see, enforced by every function of ``OGCFeatures``: a feature outside
/// `filter` is never listed, counted, answered by id (404 like a missing one) or used for an
/// extent; a property `visibleProperty` refuses never leaves, and naming it in `properties`, a
/// filter or queryables is refused as an unknown property would be.
public struct OGCAccess: Sendable {
    /// The features visible: layers, owners, sub-types, any predicate (e.g. an area).
    public var filter: PipeFilter
    /// Whether a property (by its ``OGCProperty`` name) may leave. `id` and the geometry always
    /// do: a feature is shown only with its position.
    public var visibleProperty: @Sendable (String) -> Bool
    /// Who this access is for (a role's name and grant version): mixed into ETags so two
    /// callers with different grants never share a cached answer.
    public var key: String

    public init(filter: PipeFilter = .all, key: String = "", visibleProperty: @escaping @Sendable (String) -> Bool = { _ in true }) {
        self.filter = filter
        self.visibleProperty = visibleProperty
        self.key = key
    }

    /// Everything visible.
    public static let all = OGCAccess()

    /// Whether the filter restricts more than layers (then extents and layer presence are
    /// computed from the visible records, not from the map's figures).
    var restrictsWithinLayers: Bool { filter.owners != nil || filter.subtypes != nil || filter.predicate != nil }
}
