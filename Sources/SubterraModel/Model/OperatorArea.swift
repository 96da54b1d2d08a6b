import Foundation
import SubterraGeometry

/// An area an operator declares around its network, as dig-notification systems deliver them
/// beside the lines: a **precaution zone** (digging inside needs the operator's presence or
/// consent, e.g. around a high-pressure gas station or a high-voltage cable route) or an
/// **interest area** (the operator has assets or a stake there, possibly with no lines
/// delivered, and must be notified of any dig that touches it).
///
/// Areas are polygons in the map CRS. A dig check reports every area its excavation touches
/// (shares at least one point with, boundary included) and names each area's operator among
/// the owners to notify, whether or not any of that operator's lines conflict.
///
/// ```swift
/// let zone = try OperatorArea(
///     id: 1, kind: .precaution, owner: "Gasunie", layers: ["RQ"],
///     geometry: .polygon(Polygon(exterior: LinearRing(corners))), note: "presence required")
/// ```
public struct OperatorArea: Hashable, Sendable {
    /// What an area obliges a digger to do.
    public enum Kind: String, Hashable, Sendable, Codable, CaseIterable {
        /// Digging inside needs the operator's presence or consent before work starts.
        case precaution
        /// The operator has a stake here and is notified; no lines need have been delivered.
        case interest

        /// Reads a kind from source text: the raw values, and the words deliveries commonly use
        /// (`precaution zone`, `voorzorgsmaatregel`, `safety zone`; `interest area`, `belang`,
        /// `belanghebbende`, `stakeholder`), ignoring case, spaces, `-` and `_`.
        public init?(source text: String) {
            let t = text.lowercased().filter { !" -_".contains($0) }
            switch t {
            case "precaution", "precautionzone", "voorzorgsmaatregel", "voorzorgsgebied", "safetyzone",
                "protectionzone", "zone", "保护区", "保护范围":
                self = .precaution
            case "interest", "interestarea", "belang", "belangengebied", "belanghebbende", "stakeholder",
                "notificationarea", "area", "关注区":
                self = .interest
            default:
                return nil
            }
        }
    }

    /// Stable id, unique among the areas of a map.
    public var id: Int64
    public var kind: Kind
    /// The operator, as named in the delivery (matched to pipe owners by exact text).
    public var owner: String
    /// The utility layers the area concerns; empty when the operator did not say.
    public var layers: [LayerCode]
    /// The area: a polygon or multipolygon in the map CRS.
    public var geometry: Geometry
    /// The operator's instruction or remark, shown with the area in reports.
    public var note: String?
    /// The operator's own id for the area, kept verbatim.
    public var sourceID: String?
    /// The file the area was imported from, as the path was given to the import; nil for an
    /// area made in code or read from a store written before source files were kept.
    public var sourceFile: String?

    /// Builds an area and validates it (see ``validate()``).
    public init(
        id: Int64, kind: Kind, owner: String, layers: [LayerCode] = [], geometry: Geometry, note: String? = nil,
        sourceID: String? = nil, sourceFile: String? = nil
    ) throws(ModelError) {
        self.id = id
        self.kind = kind
        self.owner = owner
        self.layers = layers
        self.geometry = geometry
        self.note = note
        self.sourceID = sourceID
        self.sourceFile = sourceFile
        try validate()
    }

    /// Where errors about this area point to.
    public var location: String { sourceID.map { "area \(id) (\($0))" } ?? "area \(id)" }

    /// The polygons of the area, in order.
    public var polygons: [Polygon] {
        switch geometry {
        case .polygon(let p): [p]
        case .multiPolygon(let ps): ps
        default: []
        }
    }

    /// Refuses an area without an operator, or whose geometry is not a non-empty polygon or
    /// multipolygon with finite coordinates. O(vertices).
    public func validate() throws(ModelError) {
        if owner.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ModelError("an operator area needs its operator (owner)", at: location)
        }
        let polys = polygons
        guard !polys.isEmpty else {
            throw ModelError("an operator area must be a Polygon or MultiPolygon", at: location)
        }
        for p in polys {
            for ring in [p.exterior] + p.holes {
                for v in ring.points where !(v.x.isFinite && v.y.isFinite) {
                    throw ModelError("area vertex (\(v.x), \(v.y)) is not finite", at: location)
                }
            }
        }
    }
}

extension OperatorArea: Codable {
    private enum CodingKeys: String, CodingKey { case id, kind, owner, layers, geometry, note, sourceID, sourceFile }

    /// Decodes an area (geometry as WKT) and validates it like ``init(id:kind:owner:layers:geometry:note:sourceID:sourceFile:)``.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let wkt = try c.decode(String.self, forKey: .geometry)
        let geometry: Geometry
        do { geometry = try WKT.parse(wkt) } catch {
            throw DecodingError.dataCorruptedError(forKey: .geometry, in: c, debugDescription: error.description)
        }
        do {
            try self.init(
                id: c.decode(Int64.self, forKey: .id), kind: c.decode(Kind.self, forKey: .kind),
                owner: c.decode(String.self, forKey: .owner),
                layers: c.decodeIfPresent([LayerCode].self, forKey: .layers) ?? [], geometry: geometry,
                note: c.decodeIfPresent(String.self, forKey: .note),
                sourceID: c.decodeIfPresent(String.self, forKey: .sourceID),
                sourceFile: c.decodeIfPresent(String.self, forKey: .sourceFile))
        } catch let e as ModelError {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: e.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(owner, forKey: .owner)
        try c.encode(layers, forKey: .layers)
        try c.encode(WKT.write(geometry), forKey: .geometry)
        try c.encodeIfPresent(note, forKey: .note)
        try c.encodeIfPresent(sourceID, forKey: .sourceID)
        try c.encodeIfPresent(sourceFile, forKey: .sourceFile)
    }
}
