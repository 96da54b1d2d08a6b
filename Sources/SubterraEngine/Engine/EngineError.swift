import SubterraModel

/// Why the engine refused a request or an edit: what is wrong and where (query argument, segment
/// id, store path). The engine never traps on bad input; every refusal is one of these.
public struct EngineError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where, e.g. `"nearest(k:)"`, `"dig area ring 0 point 3"`, `"segment 42"`.
    public var location: String
    public var message: String
    /// Set when the store of record refused a write (the engine's own checks had passed): the
    /// store's kind of failure, so callers can tell a lost optimistic race (`.conflict`) from a
    /// store that cannot write (`.invalid`, `.corrupt`). Nil for the engine's own refusals.
    public var storeFailure: StoreError.Kind?

    public init(_ message: String, at location: String, storeFailure: StoreError.Kind? = nil) {
        self.message = message
        self.location = location
        self.storeFailure = storeFailure
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
