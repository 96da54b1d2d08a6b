import SubterraEngine
import SubterraGeometry
import SubterraModel

/// One property of an OGC feature (a pipe segment): its name, JSON type and how it is read from
/// the record. The one table items, `properties`, CQL2 filters and queryables all use, so a name
/// means the same everywhere. Names are the `subterra` tool's GeoJSON property names
/// (``HitRow``) where it has one, else the record's own coding keys (``PipeSegment``).
public struct OGCProperty: Sendable {
    /// JSON Schema type of the property's values (absent values are `null`).
    public enum Kind: String, Sendable, Hashable {
        case string, number, integer
    }

    public let name: String
    public let kind: Kind
    /// One line for queryables.
    public let title: String
    let read: @Sendable (PipeSegment) -> JSONValue

    init(_ name: String, _ kind: Kind, _ title: String, _ read: @escaping @Sendable (PipeSegment) -> JSONValue) {
        self.name = name
        self.kind = kind
        self.title = title
        self.read = read
    }

    /// The property's value in `s` (`.null` when the record has none).
    public func value(_ s: PipeSegment) -> JSONValue { read(s) }

    /// The name a filter uses for the feature's geometry (queryables list it as a geometry).
    public static let geometryName = "geometry"

    /// Every property a feature has, in output order (sorted by name, as the tool's JSON is).
    public static let all: [OGCProperty] = [
        OGCProperty("burial", .string, "Burial method code (CJJ 61)") { str($0.burial?.rawValue) },
        OGCProperty("cableCount", .integer, "Cables in the duct") { int($0.cableCount) },
        OGCProperty("ductHoles", .integer, "Duct holes") { int($0.ductHoles) },
        OGCProperty("ductHolesOccupied", .integer, "Duct holes in use") { int($0.ductHolesOccupied) },
        OGCProperty("endDepth", .number, "Depth of the pipe top at the end point, metres") { num($0.endDepth) },
        OGCProperty("endPoint", .string, "Survey point number at the end") { .string($0.endPoint.rawValue) },
        OGCProperty("feature", .integer, "Feature key of a multi-part pipe") { $0.feature.map { .number(Double($0)) } ?? .null },
        OGCProperty("featureKind", .string, "cableBed, sleeve or casing; absent for a utility line") {
            $0.featureKind.isEnclosure ? .string($0.featureKind.rawValue) : .null
        },
        OGCProperty("gasPressureMPa", .number, "Gas pressure, MPa") { num($0.gasPressureMPa) },
        OGCProperty("id", .integer, "Segment id (also the feature's id); always visible") { .number(Double($0.id)) },
        OGCProperty("layer", .string, "Layer code (CJJ 61 appendix B)") { .string($0.layer.rawValue) },
        OGCProperty("layingDate", .string, "Laying date as surveyed") { str($0.layingDate) },
        OGCProperty("material", .string, "Material code") { str($0.material?.rawValue) },
        OGCProperty("nominalDepth", .number, "The network's nominal laying depth, metres (a design figure)") { num($0.nominalDepth) },
        OGCProperty("owner", .string, "Owner") { str($0.owner) },
        OGCProperty("part", .integer, "1-based part of a multi-part pipe") { int($0.part) },
        OGCProperty("road", .string, "Road") { str($0.road) },
        OGCProperty("section", .string, "Cross-section, DN300 or 800x600 (mm)") { str($0.section?.notation) },
        OGCProperty("sourceFile", .string, "File the pipe was imported from") { str($0.sourceFile) },
        OGCProperty("sourceID", .string, "The operator's id, verbatim") { str($0.sourceID) },
        OGCProperty("startDepth", .number, "Depth of the pipe top at the start point, metres") { num($0.startDepth) },
        OGCProperty("startPoint", .string, "Survey point number at the start") { .string($0.startPoint.rawValue) },
        OGCProperty("status", .string, "Record status code") { str($0.status?.rawValue) },
        OGCProperty("subtype", .string, "Sub-type code") { str($0.subtype?.rawValue) },
        OGCProperty("voltageKV", .number, "Voltage, kV") { num($0.voltageKV) },
    ]

    /// ``all`` by name.
    public static let byName: [String: OGCProperty] = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

    private static func str(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
    private static func num(_ v: Double?) -> JSONValue { v.map(JSONValue.number) ?? .null }
    private static func int(_ v: Int?) -> JSONValue { v.map { .number(Double($0)) } ?? .null }
}
