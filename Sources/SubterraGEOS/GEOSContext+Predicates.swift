import CGEOS
import SubterraGeometry

// Convenience predicates for tests and one-off checks. Each call converts both geometries to
// GEOS, so query loops should use the Swift kernels instead.

extension GEOSContext {
    /// The minimum Euclidean distance between two geometries (`GEOSDistance_r`); 0 when they
    /// intersect.
    public func distance(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Double {
        let op = "distance"
        let ga = try makeGEOS(a, op)
        let gb = try makeGEOS(b, op)
        var d = 0.0
        messages.reset()
        guard GEOSDistance_r(handle, ga.pointer, gb.pointer, &d) == 1 else { throw failure(op) }
        return d
    }

    /// Whether the geometries share at least one point (`GEOSIntersects_r`).
    public func intersects(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Bool {
        try relate(a, b, "intersects") { GEOSIntersects_r($0, $1, $2) }
    }

    /// Whether no point of `b` lies outside `a` and their interiors meet (`GEOSContains_r`).
    public func contains(_ a: Geometry, _ b: Geometry) throws(GEOSError) -> Bool {
        try relate(a, b, "contains") { GEOSContains_r($0, $1, $2) }
    }

    private func relate(
        _ a: Geometry, _ b: Geometry, _ op: String,
        _ call: (GEOSContextHandle_t, OpaquePointer, OpaquePointer) -> CChar
    ) throws(GEOSError) -> Bool {
        let ga = try makeGEOS(a, op)
        let gb = try makeGEOS(b, op)
        messages.reset()
        return try predicate(call(handle, ga.pointer, gb.pointer), op)
    }
}
