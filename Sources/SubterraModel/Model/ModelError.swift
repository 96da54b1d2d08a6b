/// Why a utility record was refused: what is wrong and where (record id, point number, field).
///
/// Bad survey input is common (missing depths, swapped axes, typos in codes); every check in this
/// module reports it through this one type instead of trapping, so a city service never crashes on
/// a bad file.
public struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where the problem is, e.g. `"segment 42"` or `"point JS0012"`; empty when not tied to a record.
    public var location: String
    /// What is wrong, e.g. `"depth at start is -1.2 m; must be finite and >= 0"`.
    public var message: String

    public init(_ message: String, at location: String = "") {
        self.message = message
        self.location = location
    }

    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}
