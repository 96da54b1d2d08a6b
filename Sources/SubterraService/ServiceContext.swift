import Foundation
import Hummingbird
import SubterraAccess

/// What a handler tells the audit middleware about its answer. A reference shared by the
/// context copies of one request (contexts are values, handed down the middleware chain).
public final class AuditNote: @unchecked Sendable {
    private let lock = NSLock()
    private var _principal: Principal?
    private var _area: [Double]?
    private var _crs: String?
    private var _layers: [String]?
    private var _features: Int?
    private var _detail: String?

    public init() {}

    var principal: Principal? {
        get { lock.withLock { _principal } }
        set { lock.withLock { _principal = newValue } }
    }

    /// Records the request's area (bounds), the layers answered over and the feature count.
    func set(area: [Double]? = nil, layers: [String]? = nil, features: Int? = nil, detail: String? = nil) {
        lock.withLock {
            if let area { _area = area }
            if let layers { _layers = layers }
            if let features { _features = features }
            if let detail { _detail = detail }
        }
    }

    var snapshot: (area: [Double]?, layers: [String]?, features: Int?, detail: String?) {
        lock.withLock { (_area, _layers, _features, _detail) }
    }
}

/// The request context of the service: Hummingbird's core storage, the authenticated
/// principal (set by the auth middleware) and the audit note.
public struct ServiceRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Who asked; nil before authentication and on the open routes.
    public var principal: Principal?
    public let note: AuditNote
    /// The client's IP address (no port), for the failed-authentication rate limit; nil when
    /// the channel has none (in-process tests).
    public let clientIP: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        principal = nil
        note = AuditNote()
        clientIP = source.channel.remoteAddress?.ipAddress
    }
}
