/// A JSON value as GeoJSON properties hold it. Objects keep their key order (see `JSONObject`).
///
/// Numbers are doubles, so integers beyond 2^53 lose precision, as in JavaScript.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number, if this is one.
    public var numberValue: Double? {
        if case .number(let v) = self { return v }
        return nil
    }

    /// The object, if this is one.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }
}

/// A JSON object that keeps its members in document order (survey attribute tables are read by
/// people, and a round trip should not shuffle columns). Lookup by key is a linear scan: GeoJSON
/// property tables have tens of keys, where a scan beats hashing.
public struct JSONObject: Hashable, Sendable, ExpressibleByDictionaryLiteral {
    /// Member names in document order.
    public private(set) var keys: [String]
    /// Member values, parallel to `keys`.
    public private(set) var values: [JSONValue]

    public init() {
        keys = []
        values = []
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init()
        for (k, v) in elements { self[k] = v }
    }

    /// Number of members.
    public var count: Int { keys.count }

    /// The value of member `key` (the last one if the document repeated it); setting replaces it
    /// in place or appends a new member, setting `nil` removes it. O(n).
    public subscript(key: String) -> JSONValue? {
        get {
            guard let i = keys.lastIndex(of: key) else { return nil }
            return values[i]
        }
        set {
            if let i = keys.lastIndex(of: key) {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                }
            } else if let newValue {
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    /// Room for `n` members without regrowing.
    public mutating func reserveCapacity(_ n: Int) {
        keys.reserveCapacity(n)
        values.reserveCapacity(n)
    }

    /// Appends a member without looking for an existing one (parsers use this: O(1)).
    public mutating func append(_ key: String, _ value: JSONValue) {
        keys.append(key)
        values.append(value)
    }

    /// Members in document order.
    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }
}

/// The `crs` member of pre-RFC 7946 GeoJSON (2008 spec), still written by GDAL and QGIS for
/// projected data: `{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}}`.
public struct GeoJSONCRS: Hashable, Sendable {
    /// The CRS name as written.
    public var name: String

    public init(name: String) { self.name = name }

    /// An `urn:ogc:def:crs:EPSG::4549`-style name for an EPSG code.
    public init(epsg: Int) { self.name = "urn:ogc:def:crs:EPSG::\(epsg)" }

    /// The EPSG code if the name is one of `urn:ogc:def:crs:EPSG::4549`,
    /// `urn:ogc:def:crs:EPSG:9.1:4549`, `EPSG:4549` or `http://www.opengis.net/def/crs/EPSG/0/4549`;
    /// `nil` otherwise (`urn:ogc:def:crs:OGC:1.3:CRS84` is WGS 84 longitude/latitude, which is not
    /// EPSG:4326's latitude/longitude order, so it is not mapped).
    public var epsg: Int? {
        guard name.uppercased().contains("EPSG") else { return nil }
        let digits = name.reversed().prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count < 10 else { return nil }
        let before = name.dropLast(digits.count).last
        guard before == ":" || before == "/" else { return nil }
        return Int(String(digits.reversed()))
    }

    /// Whether the name says OGC CRS84 (WGS 84 longitude, latitude), the RFC 7946 default.
    public var isCRS84: Bool { name.uppercased().hasSuffix("CRS84") }
}

/// A GeoJSON feature: an optional id (string or number), an optional geometry (`null` in the
/// file) and properties (`nil` when the file says `null` or leaves them out).
public struct GeoJSONFeature: Hashable, Sendable {
    public var id: JSONValue?
    public var geometry: Geometry?
    public var properties: JSONObject?

    public init(id: JSONValue? = nil, geometry: Geometry?, properties: JSONObject? = nil) {
        self.id = id
        self.geometry = geometry
        self.properties = properties
    }
}

/// A GeoJSON feature collection, with the legacy `crs` member if the file had one.
public struct GeoJSONFeatureCollection: Hashable, Sendable {
    public var features: [GeoJSONFeature]
    public var crs: GeoJSONCRS?

    public init(features: [GeoJSONFeature], crs: GeoJSONCRS? = nil) {
        self.features = features
        self.crs = crs
    }
}

/// Any GeoJSON document.
public enum GeoJSONObject: Hashable, Sendable {
    case geometry(Geometry)
    case feature(GeoJSONFeature)
    case featureCollection(GeoJSONFeatureCollection)
}

/// What a streaming read learned about the document besides its features.
public struct GeoJSONHeader: Hashable, Sendable {
    /// The legacy `crs` member, wherever it appeared in the top-level object.
    public var crs: GeoJSONCRS?
    /// How many features were delivered.
    public var featureCount: Int

    public init(crs: GeoJSONCRS?, featureCount: Int) {
        self.crs = crs
        self.featureCount = featureCount
    }
}

extension GeometryError {
    /// This error with `key` prepended to its JSON path (`geometry` + `coordinates[3]` →
    /// `geometry.coordinates[3]`).
    func prefixed(key: String) -> GeometryError {
        var e = self
        let p = path ?? ""
        e.path = key + (p.isEmpty || p.hasPrefix("[") ? p : "." + p)
        return e
    }

    /// This error with `[index]` prepended to its JSON path.
    func prefixed(index: Int) -> GeometryError {
        var e = self
        let p = path ?? ""
        e.path = "[\(index)]" + (p.isEmpty || p.hasPrefix("[") ? p : "." + p)
        return e
    }
}
