import CPROJ
import Foundation
import SubterraGeometry

/// The area of use of a coordinate system, widened by an ``AreaCheck`` margin, in the system's
/// own coordinates (x easting or longitude, y northing or latitude): where a store, a query or an
/// import in that system may put a point.
///
/// For a projected system the box is the projection of the widened longitude/latitude box
/// (``AreaOfUse`` plus the margin, `proj_trans_bounds` with 21 points per edge, so the curved
/// image of each edge is covered): for EPSG:4549 with the standard 1.5° margin about
/// x 192 175..807 825, y 2 536 785..6 082 433. It holds every point the ``Transformer`` check
/// would pass and a little more near the corners, and it turns the check into four comparisons
/// per point. For a geographic system it is the widened region itself.
///
/// A point at easting 1e155, or a vertex at 1e300, is no place on the map: queries and imports
/// refuse it with ``refusal(_:x:y:)`` rather than measure distances from it.
public struct AreaBounds: Hashable, Sendable, CustomStringConvertible {
    /// Western (least x) edge, in the system's units.
    public let minX: Double
    /// Southern (least y) edge.
    public let minY: Double
    /// Eastern (greatest x) edge.
    public let maxX: Double
    /// Northern (greatest y) edge.
    public let maxY: Double
    /// How the system is named in messages, e.g. `"EPSG:4549"`.
    public let system: String
    /// The recorded area the box comes from.
    public let area: AreaOfUse
    /// The margin the area was widened by, degrees.
    public let marginDegrees: Double
    /// For a geographic system: the widened region (longitudes wrap), which decides instead of
    /// the box.
    let region: _AreaRegion?

    /// Whether `(x, y)` lies inside. NaN never does. O(1): four comparisons (a few more for a
    /// geographic system, whose longitudes wrap).
    public func contains(x: Double, y: Double) -> Bool {
        if let region { return region.contains(x, y) }
        return x >= minX && x <= maxX && y >= minY && y <= maxY
    }

    /// `"x 192175..807825, y 2536785..6082433 (lon 118.5..121.5, lat 24.43..53.33, widened by
    /// 1.5°)"`: the bounds in the system's units, then the recorded area they come from.
    public var description: String {
        let f = Self.format
        let widened = marginDegrees > 0 ? ", widened by \(_AreaRegion.format(marginDegrees))°" : ""
        // Outward to whole units: the box shown always holds the box used.
        let x0 = f(minX.rounded(.down)), x1 = f(maxX.rounded(.up)), y0 = f(minY.rounded(.down)), y1 = f(maxY.rounded(.up))
        return "x \(x0)..\(x1), y \(y0)..\(y1) (\(area)\(widened))"
    }

    /// The one-line reason a point is refused: `"vertex 3 (1e+300, 3140200) is outside the area
    /// of use of EPSG:4549: x 192175..807825, y 2536785..6082433 (lon 118.5..121.5, …)"`, `what`
    /// naming the point.
    public func refusal(_ what: String, x: Double, y: Double) -> String {
        "\(what) (\(Self.format(x)), \(Self.format(y))) is outside the area of use of \(system): \(self)"
    }

    /// Whole units for projected bounds and ordinary coordinates, full precision for the rest.
    static func format(_ v: Double) -> String {
        if v.isFinite, abs(v) < 1e15, v == v.rounded() { return String(Int(v)) }
        if v.isFinite, abs(v) >= 1, abs(v) < 1e15 { return String((v * 1000).rounded() / 1000) }
        return "\(v)"
    }
}

extension CoordinateSystem {
    /// This system's area of use widened by `check`'s margin, in its own coordinates, or `nil`
    /// when there is nothing to check: the check is ``AreaCheck/none``, PROJ records no area
    /// (a bare PROJ string), or the widened area covers the globe.
    ///
    /// - Complexity: the first call per system and margin converts the widened box with PROJ
    ///   (an operation from OGC:CRS84, found once per process and shared with ``Transformer``s,
    ///   about 100 ms); later calls are a dictionary look-up.
    /// - Throws: ``PROJError`` when PROJ cannot convert the box (no operation, or every sampled
    ///   edge point fails).
    public func areaBounds(check: AreaCheck = .standard) throws(PROJError) -> AreaBounds? {
        guard let margin = check.marginDegrees, let area = areaOfUse else { return nil }
        let region = _AreaRegion(area, margin: margin)
        if region.isWholeGlobe { return nil }
        let key = "\(margin)|\(definition)"
        if let known = _AreaBoundsCache.lookup(key) { return known }
        let made: AreaBounds
        if isGeographicDegrees {
            made = AreaBounds(
                minX: region.west, minY: region.south, maxX: region.west + region.width, maxY: region.north,
                system: label, area: area, marginDegrees: margin, region: region)
        } else {
            let pool = try _PJPool.shared(source: CoordinateSystem("OGC:CRS84"), target: self)
            let handle = try pool.checkOut()
            defer { pool.checkIn(handle) }
            var west = region.west, east = region.west + region.width
            if region.allLongitudes {
                west = -180
                east = 180
            } else {
                // proj_trans_bounds takes -180...180, east < west meaning across the antimeridian.
                if west < -180 { west += 360 }
                if east > 180 { east -= 360 }
            }
            var minX = 0.0, minY = 0.0, maxX = 0.0, maxY = 0.0
            proj_errno_reset(handle.pj)
            let ok = proj_trans_bounds(
                handle.context.ctx, handle.pj, PJ_FWD, west, region.south, east, region.north,
                &minX, &minY, &maxX, &maxY, 21)
            guard ok != 0, minX.isFinite, minY.isFinite, maxX.isFinite, maxY.isFinite, minX <= maxX, minY <= maxY else {
                throw handle.context.error("project the area of use of \(label) (\(area), widened by \(margin)°)")
            }
            made = AreaBounds(
                minX: minX, minY: minY, maxX: maxX, maxY: maxY, system: label, area: area, marginDegrees: margin,
                region: nil)
        }
        _AreaBoundsCache.store(key, made)
        return made
    }
}

/// Area bounds already computed, by margin and definition. Bounded; values are immutable.
enum _AreaBoundsCache {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var byKey: [String: AreaBounds] = [:]

    static func lookup(_ key: String) -> AreaBounds? {
        lock.lock()
        defer { lock.unlock() }
        return byKey[key]
    }

    static func store(_ key: String, _ bounds: AreaBounds) {
        lock.lock()
        defer { lock.unlock() }
        if byKey.count >= 64 { byKey.removeAll(keepingCapacity: true) }
        byKey[key] = bounds
    }
}

/// ``AreaBounds`` of a projected system as plain numbers, to be kept in a file and adopted
/// later (``CoordinateSystem/adopt(_:)``) instead of projecting the area again: that needs a
/// CRS84 → system transformation, which PROJ takes about 0.1 s to build, most of a one-shot
/// command's budget.
public struct RecordedAreaBounds: Hashable, Sendable, Codable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double
    public var marginDegrees: Double
    /// The system's definition and recorded area they were computed for, and the PROJ release.
    public var definition: String
    public var west: Double
    public var south: Double
    public var east: Double
    public var north: Double
    public var projVersion: String
}

extension AreaBounds {
    /// These bounds as numbers to keep; nil for a geographic system (computed without PROJ).
    public var recorded: RecordedAreaBounds? {
        guard region == nil else { return nil }
        return RecordedAreaBounds(
            minX: minX, minY: minY, maxX: maxX, maxY: maxY, marginDegrees: marginDegrees, definition: "",
            west: area.west, south: area.south, east: area.east, north: area.north, projVersion: _projVersion)
    }
}

/// The PROJ release in use, e.g. "9.1.1".
let _projVersion = String(cString: proj_info().version)

extension CoordinateSystem {
    /// ``areaBounds(check:)`` with `check`, recorded for keeping (its definition filled in).
    public func recordedAreaBounds(check: AreaCheck = .standard) throws(PROJError) -> RecordedAreaBounds? {
        guard var r = try areaBounds(check: check)?.recorded else { return nil }
        r.definition = definition
        return r
    }

    /// Takes bounds recorded earlier for this system, so ``areaBounds(check:)`` with that margin
    /// answers without projecting the area again. Refused (returns false, nothing changes) unless
    /// they were recorded for this definition, this recorded area of use and this PROJ release.
    @discardableResult
    public func adopt(_ r: RecordedAreaBounds) -> Bool {
        guard r.definition == definition, r.projVersion == _projVersion, !isGeographicDegrees, let area = areaOfUse,
            area.west == r.west, area.south == r.south, area.east == r.east, area.north == r.north,
            [r.minX, r.minY, r.maxX, r.maxY].allSatisfy(\.isFinite), r.minX <= r.maxX, r.minY <= r.maxY
        else { return false }
        let key = "\(r.marginDegrees)|\(definition)"
        if _AreaBoundsCache.lookup(key) != nil { return true }
        _AreaBoundsCache.store(key, AreaBounds(
            minX: r.minX, minY: r.minY, maxX: r.maxX, maxY: r.maxY, system: label, area: area,
            marginDegrees: r.marginDegrees, region: nil))
        return true
    }
}
