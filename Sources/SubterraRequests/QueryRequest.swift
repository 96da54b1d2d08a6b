import Foundation
import SubterraEngine
import SubterraGeometry

/// One query as a batch line (and, later, an HTTP body) carries it: a JSON object with `op`,
/// `geometry` and the op's fields.
///
/// Decoding is strict, so a typo cannot silently change an answer: a member this type does not
/// know is refused with its name, and every field must have its documented JSON type
/// (`"k": "3"` is an error, not 1). Each refusal is one ``RequestError`` line naming the field.
/// Fields an op does not use are accepted and ignored (one line format serves every op).
public struct QueryRequest: Codable, Sendable, Hashable {
    /// What to answer.
    public enum Op: String, Codable, Sendable, CaseIterable {
        case nearest, intersects, within
        case checkDig = "check-dig"
        case checkRoute = "check-route"
        case section
        /// Valve isolation of a break (``IsolationPlan``): `layer`, `target` or a POINT `geometry`.
        case isolate
        /// Drainage trace (``DrainageTrace``): `direction`, `from`, `layer` (default `PS`).
        case trace
        /// Valve segments and valve criticality of a layer (``ValveSegmentsReport``): `layer`.
        case valveSegments = "valve-segments"

        /// Whether the op works on the pipe network (points and topology) rather than the index;
        /// its `geometry` is optional.
        public var isNetwork: Bool { self == .isolate || self == .trace || self == .valveSegments }

        static let list = allCases.map(\.rawValue).joined(separator: ", ")
    }

    /// Echoed back in the answer; any JSON value.
    public var id: JSONValue?
    public var op: Op
    /// WKT/EWKT text, or a GeoJSON geometry/feature object (kept as its JSON value); `null`
    /// when a network op leaves it out.
    public var geometry: JSONValue
    /// CRS of the geometry (default: what it declares, else the map CRS).
    public var crs: String?
    /// nearest: how many pipes (default 1).
    public var k: Int?
    /// nearest: farthest distance in metres (default unbounded).
    public var maxDistance: Double?
    /// nearest: k per layer (default false).
    public var perLayer: Bool?
    /// nearest, within, intersects: `"grouped"` (default: a cable bed, sleeve or casing is
    /// reported with the line it carries) or `"separate"` (every feature a hit of its own).
    public var enclosures: EnclosureHits?
    /// within: the distance in metres.
    public var distance: Double?
    /// check-dig: planned depth; check-route: depth at both ends (metres).
    public var depth: Double?
    /// Filter: layer codes (a string or a list of strings in the line).
    public var layers: [String]?
    /// Filter: sub-type codes of those layers (a string or a list of strings in the line).
    public var subtypes: [String]?
    /// Filter: owners, exact (a string or a list of strings in the line).
    public var owners: [String]?
    /// check-dig: the work type of the clearance rules.
    public var workType: String?
    /// check-route: the planned pipe's layer code, subtype code, outer diameter (mm), gas
    /// pressure (MPa), voltage (kV), burial method, depths at start and end, and surface.
    public var layer: String?
    public var subtype: String?
    public var diameter: Double?
    public var pressure: Double?
    public var voltage: Double?
    public var burial: String?
    public var depthStart: Double?
    public var depthEnd: Double?
    public var surface: String?
    /// isolate: the break, a pipe id or a point number (instead of a POINT geometry).
    public var target: String?
    /// isolate, valve-segments: gas only, one pressure system (`low`, `mediumB`, …).
    public var pressureClass: String?
    /// isolate, trace, valve-segments: snapping tolerance in metres (default 0.05).
    public var tolerance: Double?
    /// trace: `upstream` or `downstream`.
    public var direction: String?
    /// trace: manhole point numbers or pipe ids (a string or a list of strings in the line).
    public var from: [String]?
    /// valve-segments: rows per list (default all).
    public var top: Int?

    public init(op: Op, geometry: JSONValue) {
        self.op = op
        self.geometry = geometry
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, op, geometry, crs, k, maxDistance, perLayer, distance, depth, layers, subtypes, owners, workType
        case layer, subtype, diameter, pressure, voltage, burial, depthStart, depthEnd, surface, enclosures
        case target, pressureClass, tolerance, direction, from, top
    }

    /// Every member name a request may have, in the order the README lists them.
    public static let fieldNames = CodingKeys.allCases.map(\.rawValue)

    public init(from decoder: any Decoder) throws {
        let all = try decoder.container(keyedBy: AnyKey.self)
        let unknown = all.allKeys.map(\.stringValue).filter { CodingKeys(rawValue: $0) == nil }.sorted()
        if !unknown.isEmpty {
            let names = unknown.prefix(5).map { "'\(Self.clip($0))'" }.joined(separator: ", ") + (unknown.count > 5 ? ", …" : "")
            throw RequestError(
                "unknown field\(unknown.count == 1 ? "" : "s") \(names) (fields: \(Self.fieldNames.joined(separator: ", ")))")
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = (try? c.decodeIfPresent(AnyJSON.self, forKey: .id))?.value
        guard let opName = try Self.string(c, .op) else {
            throw RequestError("field op is missing (\(Op.list))")
        }
        guard let op = Op(rawValue: opName) else {
            throw RequestError("field op: unknown operation '\(Self.clip(opName))' (\(Op.list))")
        }
        self.op = op
        if let text = try? c.decodeIfPresent(String.self, forKey: .geometry) {
            geometry = .string(text)
        } else {
            switch try Self.value(c, .geometry) {
            case nil, .null?:
                guard op.isNetwork else { throw RequestError("field geometry is missing (WKT string or GeoJSON geometry)") }
                geometry = .null
            case let g? where g.objectValue != nil: geometry = g
            default: throw RequestError("field geometry must be a WKT string or a GeoJSON object")
            }
        }
        crs = try Self.string(c, .crs)
        if let v = try Self.number(c, .k) {
            guard v == v.rounded(), abs(v) < 1e9 else { throw RequestError("field k must be an integer") }
            k = Int(v)
        }
        maxDistance = try Self.number(c, .maxDistance)
        if let b = try? c.decodeIfPresent(Bool.self, forKey: .perLayer) {
            perLayer = b
        } else if c.contains(.perLayer), try Self.value(c, .perLayer) != .null {
            throw RequestError("field perLayer must be true or false")
        }
        if let e = try Self.string(c, .enclosures) {
            guard let v = EnclosureHits(rawValue: e) else {
                throw RequestError("field enclosures must be 'grouped' or 'separate', not '\(Self.clip(e))'")
            }
            enclosures = v
        }
        distance = try Self.number(c, .distance)
        depth = try Self.number(c, .depth)
        layers = try Self.strings(c, .layers)
        subtypes = try Self.strings(c, .subtypes)
        owners = try Self.strings(c, .owners)
        workType = try Self.string(c, .workType)
        layer = try Self.string(c, .layer)
        subtype = try Self.string(c, .subtype)
        diameter = try Self.number(c, .diameter)
        pressure = try Self.number(c, .pressure)
        voltage = try Self.number(c, .voltage)
        burial = try Self.string(c, .burial)
        depthStart = try Self.number(c, .depthStart)
        depthEnd = try Self.number(c, .depthEnd)
        surface = try Self.string(c, .surface)
        target = try Self.string(c, .target)
        pressureClass = try Self.string(c, .pressureClass)
        tolerance = try Self.number(c, .tolerance)
        direction = try Self.string(c, .direction)
        from = try Self.strings(c, .from)
        if let v = try Self.number(c, .top) {
            guard v == v.rounded(), abs(v) < 1e9 else { throw RequestError("field top must be an integer") }
            top = Int(v)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(id.map(AnyJSON.init), forKey: .id)
        try c.encode(op, forKey: .op)
        if geometry != .null { try c.encode(AnyJSON(geometry), forKey: .geometry) }
        try c.encodeIfPresent(crs, forKey: .crs)
        try c.encodeIfPresent(k, forKey: .k)
        try c.encodeIfPresent(maxDistance, forKey: .maxDistance)
        try c.encodeIfPresent(perLayer, forKey: .perLayer)
        try c.encodeIfPresent(enclosures, forKey: .enclosures)
        try c.encodeIfPresent(distance, forKey: .distance)
        try c.encodeIfPresent(depth, forKey: .depth)
        try c.encodeIfPresent(layers, forKey: .layers)
        try c.encodeIfPresent(subtypes, forKey: .subtypes)
        try c.encodeIfPresent(owners, forKey: .owners)
        try c.encodeIfPresent(workType, forKey: .workType)
        try c.encodeIfPresent(layer, forKey: .layer)
        try c.encodeIfPresent(subtype, forKey: .subtype)
        try c.encodeIfPresent(diameter, forKey: .diameter)
        try c.encodeIfPresent(pressure, forKey: .pressure)
        try c.encodeIfPresent(voltage, forKey: .voltage)
        try c.encodeIfPresent(burial, forKey: .burial)
        try c.encodeIfPresent(depthStart, forKey: .depthStart)
        try c.encodeIfPresent(depthEnd, forKey: .depthEnd)
        try c.encodeIfPresent(surface, forKey: .surface)
        try c.encodeIfPresent(target, forKey: .target)
        try c.encodeIfPresent(pressureClass, forKey: .pressureClass)
        try c.encodeIfPresent(tolerance, forKey: .tolerance)
        try c.encodeIfPresent(direction, forKey: .direction)
        try c.encodeIfPresent(from, forKey: .from)
        try c.encodeIfPresent(top, forKey: .top)
    }

    // MARK: Field readers: the expected type first (no thrown error on the common path), then
    // the JSON value to say what was wrong, each refusal naming the field.

    static func value(_ c: KeyedDecodingContainer<CodingKeys>, _ k: CodingKeys) throws -> JSONValue? {
        guard c.contains(k) else { return nil }
        do { return try c.decode(AnyJSON.self, forKey: k).value } catch {
            throw RequestError("field \(k.rawValue) cannot be read (a number must be a finite double)")
        }
    }

    static func number(_ c: KeyedDecodingContainer<CodingKeys>, _ k: CodingKeys) throws -> Double? {
        guard c.contains(k) else { return nil }
        if let v = try? c.decodeIfPresent(Double.self, forKey: k), v.isFinite { return v }
        switch try value(c, k) {
        case nil, .null?: return nil
        case .number?: throw RequestError("field \(k.rawValue) must be a finite number")
        default: throw RequestError("field \(k.rawValue) must be a number")
        }
    }

    static func string(_ c: KeyedDecodingContainer<CodingKeys>, _ k: CodingKeys) throws -> String? {
        guard c.contains(k) else { return nil }
        if let s = try? c.decodeIfPresent(String.self, forKey: k) { return s }
        switch try value(c, k) {
        case nil, .null?: return nil
        default: throw RequestError("field \(k.rawValue) must be a string")
        }
    }

    static func strings(_ c: KeyedDecodingContainer<CodingKeys>, _ k: CodingKeys) throws -> [String]? {
        guard c.contains(k) else { return nil }
        if let s = try? c.decodeIfPresent(String.self, forKey: k) { return [s] }
        let list: [String]
        if let ss = try? c.decodeIfPresent([String].self, forKey: k) {
            list = ss
        } else {
            switch try value(c, k) {
            case nil, .null?: return nil
            case .array?: throw RequestError("field \(k.rawValue) must be a list of strings")
            default: throw RequestError("field \(k.rawValue) must be a string or a list of strings")
            }
        }
        // An empty list would select nothing or, as "no condition", everything: neither is
        // what a caller who sent one meant.
        guard !list.isEmpty else { throw RequestError("field \(k.rawValue) is an empty list; leave it out for no condition") }
        return list
    }

    /// At most 40 characters of a name the request made up, so an error line stays short.
    public static func clip(_ s: String) -> String { s.count <= 40 ? s : s.prefix(40) + "…" }
}
