import Foundation
import Hummingbird
import SubterraGeometry
import SubterraRequests

/// An RFC 9457 problem: what every refused request gets, as `application/problem+json`.
///
/// `detail` names the bad field where there is one (`field geometry: …`); `field` repeats its
/// name for programs. No problem ever carries data outside the caller's grant: details come
/// from request validation (which sees only the request) or are fixed texts.
public struct Problem: Error, Sendable, Hashable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    /// The request member at fault, when one is.
    public var field: String?
    /// Headers the answer carries besides the content type (`Retry-After`, `ETag`).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ detail: String, field: String? = nil, title: String? = nil) {
        self.status = status
        self.detail = detail
        self.field = field ?? Self.fieldName(in: detail)
        self.title = title ?? status.reasonPhrase
    }

    /// The field a request error names (`field geometry: …`, `field k must …`).
    static func fieldName(in detail: String) -> String? {
        guard let r = detail.range(of: "field ") else { return nil }
        let rest = detail[r.upperBound...]
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "[" || $0 == "]" }
        return name.isEmpty ? nil : String(name)
    }

    /// The problem document.
    public var json: String {
        var o = JSONObject()
        o.append("type", .string("about:blank"))
        o.append("title", .string(title))
        o.append("status", .number(Double(status.code)))
        o.append("detail", .string(detail))
        if let field { o.append("field", .string(field)) }
        return GeoJSON.write(.object(o))
    }

    /// The HTTP response carrying it.
    public var response: Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"subterra\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func badRequest(_ detail: String) -> Problem { Problem(.badRequest, detail) }
}
