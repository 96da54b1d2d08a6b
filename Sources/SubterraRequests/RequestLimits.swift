import SubterraGeometry

/// How much one request may ask of the tool before it is refused, each limit with its own
/// message. The defaults are safe for input from other services: every limit is far above a real
/// dig site, route or cut line, and low enough that one hostile request cannot exhaust memory or
/// the stack, or keep a worker busy for minutes.
///
/// The parsers enforce depth, vertices and size while they read (see ``parseLimits``), so an
/// over-limit geometry costs no more than the limit. The `subterra` tool sets them from `--max-line-bytes`, `--max-geometry-bytes`,
/// `--max-vertices` and `--max-depth`.
public struct RequestLimits: Sendable, Hashable {
    /// Longest batch line, in bytes without its newline (default 16 MiB). A longer line is
    /// answered with an error and skipped; the reader keeps at most this much of it in memory.
    public var maxLineBytes: Int
    /// Longest geometry text, in UTF-8 bytes (default 8 MiB): a batch line's `"geometry"` (a
    /// GeoJSON object counted as written compactly), a geometry argument, or an `@file`'s
    /// contents (the file is read no further than this).
    public var maxGeometryBytes: Int
    /// Most vertices in a query geometry (default 100 000). The exact kernels are
    /// O(pipe × query vertices), so a bigger shape would make a dig check crawl.
    public var maxVertices: Int
    /// Deepest nesting of a query geometry's text (default 64, at most
    /// `ParseLimits.depthCeiling`, 256): WKT parentheses and GeoJSON arrays and objects, counted
    /// from 1 at the outermost (see `ParseLimits`). A polygon in a collection is depth 4 in WKT
    /// and 7 in GeoJSON, so 64 leaves room for any real shape, while a hostile
    /// `GEOMETRYCOLLECTION (` nested 60 000 deep is refused by the parser at level 65.
    public var maxDepth: Int

    /// The defaults described on each field.
    public static let `default` = RequestLimits(
        maxLineBytes: 16 << 20, maxGeometryBytes: 8 << 20, maxVertices: 100_000, maxDepth: ParseLimits.default.maxDepth)

    public init(maxLineBytes: Int, maxGeometryBytes: Int, maxVertices: Int, maxDepth: Int) {
        self.maxLineBytes = maxLineBytes
        self.maxGeometryBytes = maxGeometryBytes
        self.maxVertices = maxVertices
        self.maxDepth = maxDepth
    }

    /// What the geometry parsers are held to: this depth, vertex count and text size.
    public var parseLimits: ParseLimits {
        ParseLimits(maxDepth: maxDepth, maxVertices: maxVertices, maxBytes: maxGeometryBytes)
    }

    /// Refuses a limit below 1 (a limit of 0 would refuse every request, which is never meant)
    /// and a depth above `ParseLimits.depthCeiling` (the parsers would not honour it).
    /// - Parameter option: how the caller names each limit, for the message
    ///   (e.g. `"--max-depth"`).
    public func validate(option: (KeyPath<RequestLimits, Int>) -> String) throws(RequestError) {
        for k in [\RequestLimits.maxLineBytes, \.maxGeometryBytes, \.maxVertices, \.maxDepth] where self[keyPath: k] < 1 {
            throw RequestError("\(option(k)) \(self[keyPath: k]): a limit must be at least 1")
        }
        if maxDepth > ParseLimits.depthCeiling {
            throw RequestError("\(option(\.maxDepth)) \(maxDepth): at most \(ParseLimits.depthCeiling) (the parsers' ceiling)")
        }
    }
}
