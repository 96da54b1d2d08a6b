import CGEOS
import SubterraGeometry

/// Whether a geometry is valid in the OGC simple-features sense, and if not, why and where.
public struct GEOSValidity: Hashable, Sendable {
    public var isValid: Bool
    /// GEOS's reason, e.g. `"Self-intersection"` or `"Too few points"`; `nil` when valid.
    public var reason: String?
    /// A point at or near the problem, when GEOS gives one.
    public var location: Point?

    public init(isValid: Bool, reason: String? = nil, location: Point? = nil) {
        self.isValid = isValid
        self.reason = reason
        self.location = location
    }
}

extension GEOSContext {
    /// Validity with the reason and location (`GEOSisValidDetail_r`).
    ///
    /// - Parameter allowSelfTouchingRingHoles: accept a ring that touches itself at a point to
    ///   form a hole (the ESRI convention, `GEOSVALID_ALLOW_SELFTOUCHING_RING_FORMING_HOLE`).
    /// - Complexity: O(n log n).
    public func validity(_ geometry: Geometry, allowSelfTouchingRingHoles: Bool = false) throws(GEOSError) -> GEOSValidity {
        let op = "validity check"
        let g = try makeGEOS(geometry, op)
        var reason: UnsafeMutablePointer<CChar>?
        var location: OpaquePointer?
        messages.reset()
        let flags: Int32 = allowSelfTouchingRingHoles ? Int32(GEOSVALID_ALLOW_SELFTOUCHING_RING_FORMING_HOLE.rawValue) : 0
        let r = GEOSisValidDetail_r(handle, g.pointer, flags, &reason, &location)
        // Take ownership of both outputs before anything can throw.
        let ownedLocation = location.map { _OwnedGeometry(self, $0) }
        let reasonText = reason.map { String(cString: $0) }
        if let reason { GEOSFree_r(handle, reason) }
        let valid = try predicate(r, op)
        if valid { return GEOSValidity(isValid: true) }
        var point: Point?
        if let ownedLocation, case .point(let p) = try makeGeometry(ownedLocation.pointer, op) { point = p }
        return GEOSValidity(isValid: false, reason: reasonText, location: point)
    }

    /// Whether the geometry is valid; see ``validity(_:allowSelfTouchingRingHoles:)`` for why not.
    public func isValid(_ geometry: Geometry) throws(GEOSError) -> Bool {
        try validity(geometry).isValid
    }

    /// A valid geometry covering the same points (`GEOSMakeValid_r`, the "linework" method):
    /// bow-ties split into two polygons, collapsed parts kept as lines or points, so the result
    /// may be a collection of another dimension.
    public func makeValid(_ geometry: Geometry) throws(GEOSError) -> Geometry {
        try unary(geometry, "make valid") { GEOSMakeValid_r($0, $1) }
    }
}
