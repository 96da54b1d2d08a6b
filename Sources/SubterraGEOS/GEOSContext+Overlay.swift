import CGEOS
import SubterraGeometry

extension GEOSContext {
    /// The point set union of two geometries (`GEOSUnion_r`, OverlayNG).
    ///
    /// - Complexity: O((n + m) log (n + m)).
    /// - Throws: ``GEOSError`` carrying GEOS's message, e.g. for a topology exception on
    ///   invalid input (repair it with ``makeValid(_:)`` first).
    public func union(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Geometry {
        try binary(a, b, "union") { GEOSUnion_r($0, $1, $2) }
    }

    /// The union of all parts of one geometry (`GEOSUnaryUnion_r`): merges overlapping polygons
    /// of a multi polygon or collection and nodes line work.
    ///
    /// - Complexity: O(n log n), cascaded so many small parts stay fast.
    public func unaryUnion(_ geometry: Geometry) throws(GEOSError) -> Geometry {
        try unary(geometry, "unary union") { GEOSUnaryUnion_r($0, $1) }
    }

    /// The union of many geometries: one collection, then ``unaryUnion(_:)``.
    public func union(_ geometries: [Geometry]) throws(GEOSError) -> Geometry {
        try unaryUnion(.collection(geometries))
    }

    /// The points common to both geometries (`GEOSIntersection_r`).
    public func intersection(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Geometry {
        try binary(a, b, "intersection") { GEOSIntersection_r($0, $1, $2) }
    }

    /// The points of `a` not in `b` (`GEOSDifference_r`).
    public func difference(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Geometry {
        try binary(a, b, "difference") { GEOSDifference_r($0, $1, $2) }
    }

    /// The points in exactly one of the two geometries (`GEOSSymDifference_r`).
    public func symmetricDifference(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Geometry {
        try binary(a, b, "symmetric difference") { GEOSSymDifference_r($0, $1, $2) }
    }

    /// Douglas-Peucker simplification (`GEOSSimplify_r`); may make polygons invalid or collapse
    /// them. Use ``topologyPreservingSimplify(_:tolerance:)`` when topology matters.
    ///
    /// - Throws: ``GEOSError`` for a negative or non-finite tolerance.
    public func simplify(_ geometry: Geometry, tolerance: Double) throws(GEOSError) -> Geometry {
        try checkTolerance(tolerance, "simplify")
        return try unary(geometry, "simplify") { GEOSSimplify_r($0, $1, tolerance) }
    }

    /// Simplification that keeps rings valid and parts from crossing
    /// (`GEOSTopologyPreserveSimplify_r`).
    public func topologyPreservingSimplify(_ geometry: Geometry, tolerance: Double) throws(GEOSError) -> Geometry {
        try checkTolerance(tolerance, "topology-preserving simplify")
        return try unary(geometry, "topology-preserving simplify") {
            GEOSTopologyPreserveSimplify_r($0, $1, tolerance)
        }
    }

    private func checkTolerance(_ tolerance: Double, _ op: String) throws(GEOSError) {
        guard tolerance.isFinite, tolerance >= 0 else {
            throw GEOSError(operation: op, message: "tolerance must be finite and not negative, got \(tolerance)")
        }
    }
}
