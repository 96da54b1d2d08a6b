import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// One pipe of a query answer as the tool prints it and batch answers carry it: the record's identifying attributes and the
/// exact answer (distance, closest point, depth there). Flatter than `PipeHit`, whose nested
/// survey record is more than a caller of `nearest` needs.
public struct HitRow: Codable, Hashable, Sendable {
    public var id: Int64
    public var layer: String
    public var subtype: String?
    public var owner: String?
    public var section: String?
    public var road: String?
    public var status: String?
    public var gasPressureMPa: Double?
    public var voltageKV: Double?
    /// Exact plan distance, metres (0: touches or inside).
    public var distance: Double
    public var closestPoint: PlanPoint
    public var parameter: Double
    public var depth: Double?
    /// The operator's id of the pipe, verbatim (``PipeSegment/sourceID``); absent when the source
    /// gave none or gave a whole number (then `id`).
    public var sourceID: String?
    /// For a pipe of several parts: its feature key (``PipeSegment/feature``) and the 1-based
    /// part answered (the nearest).
    public var feature: Int64?
    public var part: Int?
    /// What the pipe is when not a utility line: `cableBed`, `sleeve` or `casing`
    /// (``PipeSegment/featureKind``); absent for a utility line.
    public var featureKind: FeatureKind?
    /// The file the pipe was imported from, as given to the import (``PipeSegment/sourceFile``);
    /// absent for a pipe from a store written before source files were kept.
    public var sourceFile: String?
    /// The network's nominal laying depth (``PipeSegment/nominalDepth``) when no depth was
    /// surveyed (`depth` absent): a design figure, never a surveyed depth.
    public var nominalDepth: Double?
    /// The cable beds, sleeves and casings grouped with this line (``PipeHit/enclosures``),
    /// nearest first; absent when none are.
    public var enclosures: [HitEnclosure]?
    /// The least distance of the line and its `enclosures` (``PipeHit/groupDistance``); absent
    /// when there are none (then `distance`).
    public var groupDistance: Double?

    /// The row of one engine hit.
    public init(_ h: PipeHit) {
        let s = h.pipe
        id = s.id
        layer = s.layer.rawValue
        subtype = s.subtype?.rawValue
        owner = s.owner
        section = s.section?.notation
        road = s.road
        status = s.status?.rawValue
        gasPressureMPa = s.gasPressureMPa
        voltageKV = s.voltageKV
        distance = h.distance
        closestPoint = h.closestPoint
        parameter = h.parameter
        depth = h.depth
        sourceID = s.sourceID
        feature = s.feature
        part = s.part
        featureKind = s.featureKind.isEnclosure ? s.featureKind : nil
        sourceFile = s.sourceFile
        nominalDepth = h.depth == nil ? s.nominalDepth : nil
        enclosures = h.enclosures.isEmpty ? nil : h.enclosures
        groupDistance = h.enclosures.isEmpty ? nil : h.groupDistance
    }
}

/// The `result` of a batch `nearest`, `intersects` or `within` answer.
public struct HitsResult: Codable, Sendable {
    public var count: Int
    public var hits: [HitRow]

    public init(_ hits: [PipeHit]) {
        count = hits.count
        self.hits = hits.map(HitRow.init)
    }
}

/// The one JSON encoding of answers and reports: sorted keys, so output is stable and diffable;
/// NaN/∞ (never expected) as strings rather than a thrown encoding error.
public enum AnswerJSON {
    /// A fresh encoder (encoders are not shared across threads); `pretty` adds indentation.
    public static func encoder(pretty: Bool = true) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    /// `value` as one line of compact JSON (UTF-8, no newline), written from its
    /// ``JSONValueEncoder`` value: the same members as ``encoder(pretty:)`` writes, for log and
    /// store lines that are read back with `JSONDecoder`; nil when `value` refuses to encode.
    public static func line<T: Encodable>(_ value: T) -> [UInt8]? {
        guard let v = try? JSONValueEncoder().encode(value) else { return nil }
        return GeoJSON.writeBytes(v)
    }
}

/// Any JSON document as a `JSONValue` (object keys sorted), decoded strictly: `true` stays a Bool
/// and `1` a number, which `JSONSerialization`'s NSNumber cannot tell apart on Linux.
///
/// Nesting is bounded by `JSONDecoder`, which refuses documents nested deeper than 512 levels
/// before any of this runs.
public struct AnyJSON: Codable, Sendable {
    public var value: JSONValue

    public init(_ value: JSONValue) { self.value = value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let n = try? c.decode(Double.self) {
            value = .number(n)
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let a = try? c.decode([AnyJSON].self) {
            value = .array(a.map(\.value))
        } else {
            var o = JSONObject()
            for (k, v) in try c.decode([String: AnyJSON].self).sorted(by: { $0.key < $1.key }) { o.append(k, v.value) }
            value = .object(o)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch value {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let n):
            var c = encoder.singleValueContainer()
            try c.encode(n)
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let a):
            var c = encoder.singleValueContainer()
            try c.encode(a.map(AnyJSON.init))
        case .object(let o):
            var c = encoder.container(keyedBy: AnyKey.self)
            for (k, v) in zip(o.keys, o.values) { try c.encode(AnyJSON(v), forKey: AnyKey(k)) }
        }
    }
}

/// A coding key for any member name: lets a decoder list the members a document has (to refuse
/// unknown ones) and an encoder write members it does not know in advance.
public struct AnyKey: CodingKey, Hashable, Sendable {
    public var stringValue: String
    public var intValue: Int? { nil }

    public init(_ name: String) { stringValue = name }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}
