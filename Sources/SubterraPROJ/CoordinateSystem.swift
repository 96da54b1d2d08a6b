import CPROJ
import Foundation

/// A coordinate reference system known to PROJ: `EPSG:4549`, a PROJ string
/// (`+proj=tmerc +lon_0=121.5 …`) or WKT.
///
/// A value holds only the definition text and facts read from PROJ once at creation, so it is a
/// plain `Sendable` value; PROJ objects are made per thread by ``Transformer``.
public struct CoordinateSystem: Hashable, Sendable, CustomStringConvertible {
    /// The definition passed to PROJ. A PROJ string gets `+type=crs` appended when it lacks it,
    /// so that PROJ reads it as a coordinate system rather than as an operation.
    public let definition: String
    /// PROJ's name for it, e.g. `"CGCS2000 / 3-degree Gauss-Kruger CM 120E"`.
    public let name: String
    /// Whether coordinates are longitude/latitude angles (geographic 2D or 3D CRS).
    public let isGeographic: Bool
    /// The unit of the first axis as PROJ names it (`"metre"`, `"degree"`, `"US survey foot"`),
    /// `nil` when PROJ does not say (some bound or engineering systems).
    public let unitName: String?
    /// Metres (or radians, for angles) per unit of the first axis, `nil` when unknown.
    public let unitToBase: Double?
    /// Where the system is meant to be used (`proj_get_area_of_use`), `nil` when PROJ records
    /// none, as for a bare PROJ string or a WKT without a `USAGE`/`BBOX`. ``Transformer`` refuses
    /// points outside it (see ``AreaCheck``).
    public let areaOfUse: AreaOfUse?
    /// `"EPSG:4549"` when PROJ knows the system's authority and code, else its ``name``: how
    /// error messages name the system.
    public let label: String

    /// Reads a coordinate system from any form `proj_create` understands.
    ///
    /// - Complexity: one PROJ database look-up; creating a system costs about a millisecond, so
    ///   make it once and keep the value.
    /// - Throws: ``PROJError`` carrying PROJ's message when the text is malformed, the code is
    ///   unknown, or it names something that is not a coordinate system (e.g. an operation).
    public init(_ definition: String) throws(PROJError) {
        let trimmed = definition._trimmingWhitespace()
        let op = "create coordinate system from '\(trimmed.prefix(80))'"
        guard !trimmed.isEmpty else {
            throw PROJError(operation: op, message: "the definition is empty")
        }
        var text = trimmed
        if text.hasPrefix("+") || text.hasPrefix("proj=") {
            if !text.contains("type=crs") { text += " +type=crs" }
        }
        if let known = _CoordinateSystemCache.lookup(text) {
            self = known
            return
        }
        let context = try _PROJContext()
        context.resetLog()
        guard let made = proj_create(context.ctx, text) else { throw context.error(op) }
        let crs = _PJ(context, made)
        guard proj_is_crs(crs.pj) != 0 else {
            throw PROJError(operation: op, message: "this defines a coordinate operation, not a coordinate system")
        }
        self.definition = text
        self.name = proj_get_name(crs.pj).map { String(cString: $0) } ?? text
        let type = proj_get_type(crs.pj)
        self.isGeographic = type == PJ_TYPE_GEOGRAPHIC_2D_CRS || type == PJ_TYPE_GEOGRAPHIC_3D_CRS
        let unit = Self.firstAxisUnit(crs)
        self.unitName = unit?.name
        self.unitToBase = unit?.factor
        self.areaOfUse = Self.areaOfUse(crs)
        if let auth = proj_get_id_auth_name(crs.pj, 0), let code = proj_get_id_code(crs.pj, 0) {
            self.label = "\(String(cString: auth)):\(String(cString: code))"
        } else {
            self.label = self.name
        }
        _CoordinateSystemCache.store(self)
    }

    /// `EPSG:code`, e.g. `try CoordinateSystem(epsg: 4549)`.
    public init(epsg code: Int) throws(PROJError) {
        try self.init("EPSG:\(code)")
    }

    public var description: String { name }

    /// Whether coordinates are longitude/latitude in degrees, so they can be checked against an
    /// ``AreaOfUse`` as they are (x longitude, y latitude after axis normalization).
    var isGeographicDegrees: Bool {
        guard isGeographic, let f = unitToBase else { return false }
        return abs(f - Double.pi / 180) <= 1e-12
    }

    /// The recorded area of use of `crs`; PROJ writes -1000 for an unknown edge.
    private static func areaOfUse(_ crs: _PJ) -> AreaOfUse? {
        var west = -1000.0, south = -1000.0, east = -1000.0, north = -1000.0
        var name: UnsafePointer<CChar>?
        guard proj_get_area_of_use(crs.context.ctx, crs.pj, &west, &south, &east, &north, &name) != 0 else { return nil }
        let edges = [west, south, east, north]
        guard edges.allSatisfy({ $0.isFinite && $0 > -1000 }), south <= north,
              abs(south) <= 90, abs(north) <= 90, abs(west) <= 180, abs(east) <= 180
        else { return nil }
        return AreaOfUse(west: west, south: south, east: east, north: north, name: name.map { String(cString: $0) })
    }

    /// The unit of the first axis of the horizontal part of `crs`.
    private static func firstAxisUnit(_ crs: _PJ) -> (name: String, factor: Double)? {
        let ctx = crs.context.ctx
        var horizontal = crs
        switch proj_get_type(crs.pj) {
        case PJ_TYPE_COMPOUND_CRS:
            guard let sub = proj_crs_get_sub_crs(ctx, crs.pj, 0) else { return nil }
            horizontal = _PJ(crs.context, sub)
        case PJ_TYPE_BOUND_CRS:
            guard let base = proj_get_source_crs(ctx, crs.pj) else { return nil }
            horizontal = _PJ(crs.context, base)
        default:
            break
        }
        guard let csPointer = proj_crs_get_coordinate_system(ctx, horizontal.pj) else { return nil }
        let cs = _PJ(crs.context, csPointer)
        var factor = 0.0
        var unit: UnsafePointer<CChar>?
        guard proj_cs_get_axis_info(ctx, cs.pj, 0, nil, nil, nil, &factor, &unit, nil, nil) != 0, let unit else {
            return nil
        }
        return (String(cString: unit), factor)
    }
}

extension String {
    /// Drops leading and trailing white space.
    fileprivate func _trimmingWhitespace() -> String {
        var s = Substring(self)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}

/// Recently read coordinate systems by definition, so importers that name the same system for
/// every file do not pay a database look-up each time. Bounded; values are immutable.
enum _CoordinateSystemCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var byDefinition: [String: CoordinateSystem] = [:]
    private static let capacity = 64

    static func lookup(_ definition: String) -> CoordinateSystem? {
        lock.lock()
        defer { lock.unlock() }
        return byDefinition[definition]
    }

    static func store(_ cs: CoordinateSystem) {
        lock.lock()
        defer { lock.unlock() }
        // Rarely more than a handful of systems: starting over when full is simpler than LRU.
        if byDefinition.count >= capacity { byDefinition.removeAll(keepingCapacity: true) }
        byDefinition[cs.definition] = cs
    }
}
