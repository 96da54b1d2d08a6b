/// Why the engine refused a request or an edit: what is wrong and where (query argument, segment
/// id, store path). The engine never traps on bad input; every refusal is one of these.
public struct EngineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where, e.g. `"nearest(k:)"`, `"dig area ring 0 point 3"`, `"segment 42"`.
    public var location: String
    public var message: String

    public init(_ message: String, at location: String) {
        self.message = message
        self.location = location
    }

    public var description: String { "\(location): \(message)" }
}

/// A plan position in the map CRS (x = easting, y = northing), as reports encode it.
public struct PlanPoint: Hashable, Sendable, Codable {
    public var x: Double
    public var y: Double

    public init(x: Double, y: Double) {
        self.x = x
        self.y = y
    }
}
