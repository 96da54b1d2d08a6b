import Foundation
import SubterraGeometry
import SubterraRequests

/// Reads one JSON object of a configuration strictly: every member must be known and of its
/// type, and every error names the member by its path (`limits.maxBodyBytes`).
struct ConfigReader {
    let object: JSONObject
    let path: String

    init(_ value: JSONValue, path: String, allowed: [String]) throws(ConfigError) {
        guard case .object(let o) = value else { throw ConfigError("\(path.isEmpty ? "the configuration" : path) must be a JSON object") }
        for k in o.keys where !allowed.contains(k) {
            throw ConfigError("\(Self.join(path, k)): unknown field (fields: \(allowed.joined(separator: ", ")))")
        }
        object = o
        self.path = path
    }

    static func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    func at(_ key: String) -> String { Self.join(path, key) }

    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], v != .null else { return nil }
        return v
    }

    func string(_ key: String) throws(ConfigError) -> String? {
        guard let v = value(key) else { return nil }
        guard let s = v.stringValue else { throw ConfigError("\(at(key)) must be a string") }
        return s
    }

    func bool(_ key: String) throws(ConfigError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw ConfigError("\(at(key)) must be true or false") }
        return b
    }

    func number(_ key: String, min: Double) throws(ConfigError) -> Double? {
        guard let v = value(key) else { return nil }
        guard let n = v.numberValue, n.isFinite else { throw ConfigError("\(at(key)) must be a number") }
        guard n >= min else { throw ConfigError("\(at(key)) must be at least \(min), not \(n)") }
        return n
    }

    func int(_ key: String, min: Int) throws(ConfigError) -> Int? {
        guard let n = try number(key, min: Double(min)) else { return nil }
        guard n == n.rounded(), n < 1e15 else { throw ConfigError("\(at(key)) must be a whole number") }
        return Int(n)
    }

    /// A string or a list of strings.
    func strings(_ key: String) throws(ConfigError) -> [String]? {
        guard let v = value(key) else { return nil }
        if let s = v.stringValue { return [s] }
        guard case .array(let a) = v else { throw ConfigError("\(at(key)) must be a string or a list of strings") }
        var out: [String] = []
        for (i, e) in a.enumerated() {
            guard let s = e.stringValue else { throw ConfigError("\(at(key))[\(i)] must be a string") }
            out.append(s)
        }
        return out
    }
}

/// A configuration problem, naming the field.
public struct ConfigError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
