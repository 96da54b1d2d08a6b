/// A code from an open vocabulary (layer, sub-type, burial method, point kind, ...): a string
/// wrapper with well-known constants, so a city can use codes this library does not know without
/// a change to the library, while typos in known codes stay visible as unknown values.
///
/// Encodes as its bare string (JSON `"JS"`), compares and hashes by the raw string.
public protocol OpenCode: RawRepresentable, Hashable, Sendable, Codable, Comparable,
    ExpressibleByStringLiteral, CustomStringConvertible where RawValue == String
{
    init(rawValue: String)
}

extension OpenCode {
    /// Wraps `code` as given; surrounding whitespace is the caller's to trim.
    @inlinable
    public init(_ code: String) { self.init(rawValue: code) }

    @inlinable
    public init(stringLiteral value: String) { self.init(rawValue: value) }

    public var description: String { rawValue }

    @inlinable
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A survey point number (管线点号), e.g. `"JS0012"`; unique within one `UtilityNetwork`.
@frozen
public struct PointNumber: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }
}
