import Foundation
import SubterraGeometry

/// Encodes any `Encodable` straight into a `JSONValue`, the tree the HTTP service masks and
/// writes, with no JSON text in between.
///
/// The value equals what `AnswerJSON.encoder()` writes, read back with keys sorted: members in
/// ascending `String` order, non-finite numbers as the strings `"inf"`, `"-inf"` and `"nan"`,
/// integers as numbers (a `Double`, as `JSONValue` holds them), `Date` as its own `Encodable`
/// form (seconds since 2001, `JSONEncoder`'s default), nothing encoded as `{}`.
///
/// ```swift
/// let v = try JSONValueEncoder().encode(report)   // a DigReport, a HitsResult, …
/// print(GeoJSON.write(v))
/// ```
///
/// Why: the service used to encode an answer to text, decode the text back into a value for its
/// access mask, and write it again; the round trip cost more than the dig check itself (see
/// Benchmarks/NOTES.md, "subterra serve under wrk").
///
/// Layout: one reference node per object or array being built (containers and nested encoders
/// share it); scalars are stored in place in their parent node; an object's members are kept
/// in encoding order and sorted once, when the tree is turned into a value (a key encoded twice
/// keeps the last value, as `JSONEncoder` does). Coding paths are not tracked (`codingPath` is
/// always empty): building one per nested value cost an array per value, and answer types do
/// not read it. Complexity: O(n log m) for n values and objects of at most m members.
public struct JSONValueEncoder: Sendable {
    public init() {}

    /// The value of `value`.
    /// - Throws: what `value`'s own `encode(to:)` throws.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try _JVEncoder.box(value).resolved
    }
}

/// One encoded thing: a finished value, or a node still being filled.
enum _JVEntry {
    case value(JSONValue)
    case node(_JVNode)

    var resolved: JSONValue {
        switch self {
        case .value(let v): return v
        case .node(let n): return n.resolved
        }
    }
}

/// An object, an array or a single value being built.
final class _JVNode {
    /// Members in encoding order (a key may repeat; the last counts).
    var members: [(String, _JVEntry)]?
    var elements: [_JVEntry]?
    var single: JSONValue?

    var resolved: JSONValue {
        if let members {
            var o = JSONObject()
            // Stable sort by key: of repeated keys the last stays last in its run.
            let sorted = members.enumerated().sorted { $0.element.0 != $1.element.0 ? $0.element.0 < $1.element.0 : $0.offset < $1.offset }
            for (i, m) in sorted.enumerated() where i + 1 == sorted.count || sorted[i + 1].element.0 != m.element.0 {
                o.append(m.element.0, m.element.1.resolved)
            }
            return .object(o)
        }
        if let elements { return .array(elements.map(\.resolved)) }
        return single ?? .object(JSONObject())
    }
}

struct _JVEncoder: Encoder {
    let node: _JVNode
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }


    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.members == nil { node.members = [] }
        return KeyedEncodingContainer(_JVKeyed<Key>(node: node))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.elements == nil { node.elements = [] }
        return _JVUnkeyed(node: node)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        _JVSingle(node: node)
    }

    static func number(_ d: Double) -> JSONValue { .encodedNumber(d) }

    /// `value` as an entry: scalars directly (one conformance check, cached by the runtime),
    /// anything else through its own `encode(to:)`.
    static func box<T: Encodable>(_ value: T) throws -> _JVEntry {
        if let s = value as? any _JVScalar { return .value(s.jsonValue) }
        let n = _JVNode()
        try value.encode(to: _JVEncoder(node: n))
        return .node(n)
    }
}

struct _JVKeyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: _JVNode
    var codingPath: [any CodingKey] { [] }

    private func set(_ e: _JVEntry, _ key: Key) { node.members!.append((key.stringValue, e)) }

    mutating func encodeNil(forKey key: Key) throws { set(.value(.null), key) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { set(.value(.bool(value)), key) }
    mutating func encode(_ value: String, forKey key: Key) throws { set(.value(.string(value)), key) }
    mutating func encode(_ value: Double, forKey key: Key) throws { set(.value(_JVEncoder.number(value)), key) }
    mutating func encode(_ value: Float, forKey key: Key) throws { set(.value(_JVEncoder.number(Double(value))), key) }
    mutating func encode(_ value: Int, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { set(.value(.number(Double(value))), key) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try _JVEncoder.box(value), key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let n = _JVNode()
        set(.node(n), key)
        return _JVEncoder(node: n).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let n = _JVNode()
        set(.node(n), key)
        return _JVEncoder(node: n).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let n = _JVNode()
        set(.node(n), key)
        return _JVEncoder(node: n)
    }
}

struct _JVUnkeyed: UnkeyedEncodingContainer {
    let node: _JVNode
    var codingPath: [any CodingKey] { [] }
    var count: Int { node.elements!.count }

    private func add(_ e: _JVEntry) { node.elements!.append(e) }

    mutating func encodeNil() throws { add(.value(.null)) }
    mutating func encode(_ value: Bool) throws { add(.value(.bool(value))) }
    mutating func encode(_ value: String) throws { add(.value(.string(value))) }
    mutating func encode(_ value: Double) throws { add(.value(_JVEncoder.number(value))) }
    mutating func encode(_ value: Float) throws { add(.value(_JVEncoder.number(Double(value)))) }
    mutating func encode(_ value: Int) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: Int64) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: Int8) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: Int16) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: Int32) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: UInt) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: UInt8) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: UInt16) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: UInt32) throws { add(.value(.number(Double(value)))) }
    mutating func encode(_ value: UInt64) throws { add(.value(.number(Double(value)))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        add(try _JVEncoder.box(value))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let n = _JVNode()
        add(.node(n))
        return _JVEncoder(node: n).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let n = _JVNode()
        add(.node(n))
        return _JVEncoder(node: n).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        let n = _JVNode()
        add(.node(n))
        return _JVEncoder(node: n)
    }
}

struct _JVSingle: SingleValueEncodingContainer {
    let node: _JVNode
    var codingPath: [any CodingKey] { [] }

    mutating func encodeNil() throws { node.single = .null }
    mutating func encode(_ value: Bool) throws { node.single = .bool(value) }
    mutating func encode(_ value: String) throws { node.single = .string(value) }
    mutating func encode(_ value: Double) throws { node.single = _JVEncoder.number(value) }
    mutating func encode(_ value: Float) throws { node.single = _JVEncoder.number(Double(value)) }
    mutating func encode(_ value: Int) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: Int64) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: Int8) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: Int16) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: Int32) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: UInt) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: UInt8) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: UInt16) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: UInt32) throws { node.single = .number(Double(value)) }
    mutating func encode(_ value: UInt64) throws { node.single = .number(Double(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        switch try _JVEncoder.box(value) {
        case .value(let v): node.single = v
        case .node(let n):
            node.members = n.members
            node.elements = n.elements
            node.single = n.single
        }
    }
}

/// The types `JSONValueEncoder` stores directly, as `JSONEncoder` writes them.
protocol _JVScalar { var jsonValue: JSONValue { get } }
extension String: _JVScalar { var jsonValue: JSONValue { .string(self) } }
extension Bool: _JVScalar { var jsonValue: JSONValue { .bool(self) } }
extension Double: _JVScalar { var jsonValue: JSONValue { _JVEncoder.number(self) } }
extension Float: _JVScalar { var jsonValue: JSONValue { _JVEncoder.number(Double(self)) } }
extension Int: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension Int8: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension Int16: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension Int32: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension Int64: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension UInt: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension UInt8: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension UInt16: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension UInt32: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension UInt64: _JVScalar { var jsonValue: JSONValue { .number(Double(self)) } }
extension URL: _JVScalar { var jsonValue: JSONValue { .string(absoluteString) } }

extension JSONValue {
    /// `d` as every Subterra answer writes a number: itself when finite, else the string
    /// `"inf"`, `"-inf"` or `"nan"` (JSON has no non-finite numbers). The one mapping shared by
    /// ``JSONValueEncoder``, the hand-written answer values and the audit log.
    ///
    /// ```swift
    /// JSONValue.encodedNumber(1.5)             // .number(1.5)
    /// JSONValue.encodedNumber(.infinity)       // .string("inf")
    /// ```
    @inlinable
    public static func encodedNumber(_ d: Double) -> JSONValue {
        d.isFinite ? .number(d) : .string(d.isNaN ? "nan" : d > 0 ? "inf" : "-inf")
    }
}
