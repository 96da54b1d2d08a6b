/// Limits that the WKT, WKB and GeoJSON readers enforce on untrusted input, so that a hostile or
/// broken document is refused with one line instead of exhausting the stack, memory or time.
///
/// Each limit has its own error message naming the limit, its value and where it was exceeded
/// (byte offset), and `GeometryError.exceededLimit` says which one it was:
/// - `maxDepth`: `WKT: nesting deeper than 64 levels (maxDepth) (at offset 412)`
/// - `maxVertices`: `WKT: more than 1000000 vertices (maxVertices) (at offset 9)`
/// - `maxBytes`: `WKT: input of 70000000 bytes is larger than 67108864 bytes (maxBytes) (at offset 67108864)`
///
/// What counts as one level of depth, per format:
/// - WKT: one level per open parenthesis (`POINT (1 2)` is 1, `POLYGON ((…))` 2, `MULTIPOLYGON
///   (((…)))` 3, each enclosing `GEOMETRYCOLLECTION (…)` one more); `MULTIPOINT (1 2)` counts 2
///   like the `MULTIPOINT ((1 2))` that `WKT.write` makes of it.
/// - WKB: the depth the same geometry has when written as WKT (`WKB.read` accepts exactly what
///   `WKT.parse` accepts at the same limit after `WKT.write`).
/// - GeoJSON: one level per JSON array or object, including `coordinates` arrays and foreign
///   members (`{"type":"Point","coordinates":[1,2]}` is 2).
///
/// The WKB and GeoJSON readers recurse once per level (the WKT reader does not), and so do the
/// operations on the `Geometry` value they build (comparison, destruction, writing), so
/// `maxDepth` is capped at `depthCeiling` (256) whatever value is set: that bounds the stack any
/// input can need. Measured unoptimised (optimised builds need a fraction): input at the default
/// 64 levels fits a 512 KiB thread stack, input at 256 levels 2 MiB; Linux threads have 8 MiB.
///
/// Vertices are the positions of the whole document (`GeoJSON.forEachFeature`: of one feature).
/// Bytes are the size of the whole input (`GeoJSON.forEachFeature` streams a file of any size and
/// applies only the depth and vertex limits, per feature).
public struct ParseLimits: Sendable, Hashable {
    /// Deepest nesting accepted, in the format's own levels (see the type's documentation);
    /// values above `depthCeiling` act as `depthCeiling`. Default 64.
    public var maxDepth: Int
    /// Most positions (vertices) accepted in one document. Default 1,000,000 (32 MB of points).
    public var maxVertices: Int
    /// Largest input accepted, in bytes (UTF-8 bytes for text). Default 64 MiB.
    public var maxBytes: Int

    /// The hard cap on `maxDepth`: 256 levels keep the recursion of the readers and of the
    /// geometry values they build within 2 MiB of stack even unoptimised.
    public static let depthCeiling = 256

    /// Limits with the given values; each defaults to the value of `ParseLimits.default`.
    public init(maxDepth: Int = 64, maxVertices: Int = 1_000_000, maxBytes: Int = 64 << 20) {
        self.maxDepth = maxDepth
        self.maxVertices = maxVertices
        self.maxBytes = maxBytes
    }

    /// Depth 64, 1,000,000 vertices, 64 MiB: far above any real utility geometry (a pipe has
    /// tens of vertices, a district boundary tens of thousands) and far below what hurts.
    public static let `default` = ParseLimits()

    /// `maxDepth` capped at `depthCeiling`; what the readers enforce.
    public var effectiveMaxDepth: Int { Swift.min(maxDepth, Self.depthCeiling) }

    /// Which limit an input exceeded.
    public enum Limit: String, Sendable, Hashable {
        case maxDepth, maxVertices, maxBytes
    }

    /// The error for nesting deeper than `effectiveMaxDepth` at byte `offset`.
    func depthError(_ prefix: String, at offset: Int) -> GeometryError {
        var e = GeometryError(
            "\(prefix)nesting deeper than \(effectiveMaxDepth) levels (maxDepth)", offset: offset)
        e.exceededLimit = .maxDepth
        return e
    }

    /// The error for more than `maxVertices` positions, the one over the limit at byte `offset`.
    func verticesError(_ prefix: String, at offset: Int) -> GeometryError {
        var e = GeometryError("\(prefix)more than \(maxVertices) vertices (maxVertices)", offset: offset)
        e.exceededLimit = .maxVertices
        return e
    }

    /// The error for an input of `count` bytes when at most `maxBytes` are accepted; the offset is
    /// the first byte past the limit.
    func bytesError(_ prefix: String, count: Int) -> GeometryError {
        var e = GeometryError(
            "\(prefix)input of \(count) bytes is larger than \(maxBytes) bytes (maxBytes)", offset: max(0, maxBytes))
        e.exceededLimit = .maxBytes
        return e
    }
}
