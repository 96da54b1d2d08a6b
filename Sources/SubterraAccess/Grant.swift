import Foundation
import SubterraEngine
import SubterraGEOS
import SubterraGeometry
import SubterraModel

/// An attribute group a role may be granted sight of. A feature's id, layer and position
/// (geometry, distances, closest points) are always visible to whoever may see the feature;
/// every other attribute belongs to one of these groups and is removed from answers unless a
/// grant names it.
public enum VisibleField: String, CaseIterable, Codable, Sendable, Hashable {
    /// The operator's name (`owner`).
    case owner
    /// Sub-type code (`subtype`).
    case subtype
    /// Cross-section and outer size (`section`, `outerWidth`, `widthM`, `heightM`).
    case section
    /// Gas pressure (`gasPressureMPa`).
    case pressure
    /// Voltage (`voltageKV`).
    case voltage
    /// Depths and elevations (`depth`, `depthTop`, `nominalDepth`, …).
    case depth
    /// Road name (`road`).
    case road
    /// Record status (`status`).
    case status
    /// Material (`material`).
    case material
    /// The operator's own ids and source files (`sourceID`, `sourceFile`).
    case source

    /// The JSON member names of answers that carry this group.
    public var memberNames: [String] {
        switch self {
        case .owner: return ["owner"]
        case .subtype: return ["subtype"]
        case .section: return ["section", "outerWidth", "widthM", "heightM", "ductHoles", "ductHolesOccupied", "cableCount"]
        case .pressure: return ["gasPressureMPa", "pressureMPa"]
        case .voltage: return ["voltageKV"]
        case .depth:
            return [
                "depth", "depthTop", "depthBottom", "topElevation", "bottomElevation", "nominalDepth", "existingDepth",
                "startDepth", "endDepth", "startElevation", "endElevation",
            ]
        case .road: return ["road"]
        case .status: return ["status"]
        case .material: return ["material"]
        case .source: return ["sourceID", "sourceFile"]
        }
    }

    /// Free-text and rule members that can spell out a pipe's class (pressure, voltage,
    /// sub-type): kept only when all three groups are visible.
    public static let classRevealingMembers = ["rule", "reason", "ruleClearance"]
}

/// One role as the service configuration writes it: what its holders may see and edit.
///
/// Deny by default, member by member:
/// - `layers`: layer codes, or `"*"` for every layer; absent means **no** layer (the role sees
///   nothing).
/// - `owners`: owner names, or `"*"`; absent means any owner (the layers are the grant, owners
///   narrow it).
/// - `area`: a polygon (WKT, map CRS); absent means anywhere. A pipe segment is visible only
///   when it lies wholly inside the area (see ``AccessScope``).
/// - `fields`: ``VisibleField`` names, or `"*"`; absent means none beyond id, layer and position.
/// - `edit`: layer codes (or `"*"`) the role may edit; absent means none.
/// - `admin`: may read the audit log and any stored dig check.
public struct RoleConfig: Sendable, Hashable {
    public var layers: [String]?
    public var owners: [String]?
    public var area: String?
    public var fields: [String]?
    public var edit: [String]?
    public var admin: Bool

    public init(
        layers: [String]? = nil, owners: [String]? = nil, area: String? = nil, fields: [String]? = nil,
        edit: [String]? = nil, admin: Bool = false
    ) {
        self.layers = layers
        self.owners = owners
        self.area = area
        self.fields = fields
        self.edit = edit
        self.admin = admin
    }

    /// Member names a role may have.
    public static let memberNames = ["layers", "owners", "area", "fields", "edit", "admin"]
}

/// A role resolved against the map: codes checked, the area parsed. Immutable and `Sendable`,
/// so one value serves every request of every user holding the role.
public struct Grant: Sendable {
    /// The role's name, for logs and errors.
    public let role: String
    /// Layers visible (empty: none).
    public let layers: Set<LayerCode>
    /// Owners visible; nil: any.
    public let owners: Set<String>?
    /// The area visible (map CRS); nil: anywhere.
    public let area: Geometry?
    let areaEnvelope: Envelope?
    /// The area prepared once for GEOS's exact `contains` (indexed, shared by every thread), so
    /// the area test of a segment costs O(log n) in the area's n vertices, not a conversion and
    /// relate graph of the whole area per segment.
    let preparedArea: PreparedGeometry?
    /// Attribute groups visible.
    public let fields: Set<VisibleField>
    /// Layers the role may edit.
    public let editLayers: Set<LayerCode>
    /// Whether the role may read the audit log and every stored dig check.
    public let admin: Bool

    /// Resolves `config` against the map's codes.
    /// - Throws: ``AccessError`` naming the role and member: an unknown layer code or field
    ///   name, an area that is not a valid polygon.
    public init(role: String, config: RoleConfig, codes: CodeCatalogue) throws(AccessError) {
        self.role = role
        let at = "roles.\(role)"
        func layerSet(_ items: [String]?, _ member: String) throws(AccessError) -> Set<LayerCode> {
            guard let items else { return [] }
            if items == ["*"] { return Set(codes.layers) }
            var out: Set<LayerCode> = []
            for t in items {
                do { out.insert(try codes.layer(t, field: "\(at).\(member)")) } catch {
                    throw AccessError("\(at).\(member): unknown layer code '\(t)' (\(codes.layers.map(\.rawValue).joined(separator: ", ")))")
                }
            }
            return out
        }
        layers = try layerSet(config.layers, "layers")
        editLayers = try layerSet(config.edit, "edit")
        if let o = config.owners, o != ["*"] {
            guard !o.isEmpty else { throw AccessError("\(at).owners is an empty list; leave it out for any owner") }
            owners = Set(o)
        } else {
            owners = nil
        }
        if let f = config.fields {
            if f == ["*"] {
                fields = Set(VisibleField.allCases)
            } else {
                var out: Set<VisibleField> = []
                for name in f {
                    guard let v = VisibleField(rawValue: name) else {
                        throw AccessError(
                            "\(at).fields: unknown field '\(name)' (\(VisibleField.allCases.map(\.rawValue).joined(separator: ", ")), or \"*\")")
                    }
                    out.insert(v)
                }
                fields = out
            }
        } else {
            fields = []
        }
        if let wkt = config.area {
            let g: Geometry
            do { g = try WKT.parse(wkt) } catch { throw AccessError("\(at).area: not WKT: \(error)") }
            switch g {
            case .polygon, .multiPolygon: break
            default: throw AccessError("\(at).area must be a POLYGON or MULTIPOLYGON in the map CRS, not \(g.typeName)")
            }
            // Only a valid area: GEOS's predicates (prepared or not) are defined for valid
            // geometries, and a bow-tie or overlapping parts would make "inside" ambiguous.
            let validity: GEOSValidity
            do { validity = try GEOS.withContext { (c) throws(GEOSError) in try c.validity(g) } } catch {
                throw AccessError("\(at).area: GEOS cannot check it: \(error)")
            }
            guard validity.isValid else {
                let place = validity.location.map { " at (\($0.x), \($0.y))" } ?? ""
                throw AccessError("\(at).area is not a valid polygon: \(validity.reason ?? "invalid")\(place)")
            }
            area = g
            areaEnvelope = g.envelope
            do { preparedArea = try PreparedGeometry(g) } catch {
                throw AccessError("\(at).area: GEOS cannot use it: \(error)")
            }
        } else {
            area = nil
            areaEnvelope = nil
            preparedArea = nil
        }
        admin = config.admin
    }

    /// Whether this grant shows `s`: its layer is granted, its owner (when owners are
    /// restricted) and, when an area is set, the segment lies wholly inside it.
    public func admits(_ s: PipeSegment) -> Bool {
        guard layers.contains(s.layer) else { return false }
        return ownerAndAreaAdmit(s)
    }

    /// Whether this grant lets its holder write `s` (create it, replace it with, or delete it):
    /// its layer is an edit layer, and the owners and area that narrow sight narrow edits too,
    /// so an editor never writes a pipe it could not see, nor moves one out of its area or to
    /// another owner (callers check the stored record and its replacement).
    public func mayEdit(_ s: PipeSegment) -> Bool {
        guard editLayers.contains(s.layer), layers.contains(s.layer) else { return false }
        return ownerAndAreaAdmit(s)
    }

    /// The owner and area parts of ``admits(_:)``.
    func ownerAndAreaAdmit(_ s: PipeSegment) -> Bool {
        if let owners, !owners.contains(s.owner ?? "") { return false }
        if let preparedArea, let env = areaEnvelope {
            let e = s.geometry.envelope
            guard e.minX >= env.minX, e.maxX <= env.maxX, e.minY >= env.minY, e.maxY <= env.maxY else { return false }
            // GEOS "contains": no point of the segment outside the area; exact predicates.
            return (try? preparedArea.contains(.lineString(s.geometry))) ?? false
        }
        return true
    }
}

/// A configuration error of the access rules, naming the role and member.
public struct AccessError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
