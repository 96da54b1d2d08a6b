/// Where a coordinate system is meant to be used, as its authority records it: a
/// longitude/latitude box in degrees (WGS 84), read with `proj_get_area_of_use`.
///
/// EPSG:4549 (CGCS2000 3-degree Gauss-Kruger CM 120E) records 118.5°E–121.5°E, 24.43°N–53.33°N.
/// A box may cross the antimeridian: then ``west`` is greater than ``east`` (EPSG:3832 records
/// 98.69°E–68°W).
public struct AreaOfUse: Hashable, Sendable, CustomStringConvertible {
    /// Western edge, degrees of longitude in -180...180.
    public var west: Double
    /// Southern edge, degrees of latitude.
    public var south: Double
    /// Eastern edge, degrees of longitude in -180...180; less than ``west`` across the antimeridian.
    public var east: Double
    /// Northern edge, degrees of latitude.
    public var north: Double
    /// The authority's description, e.g. `"China - onshore between 118°30'E and 121°30'E."`.
    public var name: String?

    public init(west: Double, south: Double, east: Double, north: Double, name: String? = nil) {
        self.west = west
        self.south = south
        self.east = east
        self.north = north
        self.name = name
    }

    /// Whether the box crosses the antimeridian (``west`` > ``east``).
    public var crossesAntimeridian: Bool { west > east }

    /// Whether (`longitude`, `latitude`) lies in the box widened by `marginDegrees` on every side.
    /// Longitudes are taken modulo 360, so 481.4 is 121.4.
    ///
    /// - Complexity: O(1), a few comparisons.
    public func contains(longitude: Double, latitude: Double, marginDegrees: Double = 0) -> Bool {
        _AreaRegion(self, margin: marginDegrees).contains(longitude, latitude)
    }

    /// `lon 118.5..121.5, lat 24.43..53.33`: the box only, short enough for a one-line error.
    public var description: String {
        "lon \(_AreaRegion.format(west))..\(_AreaRegion.format(east)), lat \(_AreaRegion.format(south))..\(_AreaRegion.format(north))"
    }
}

/// How strictly a ``Transformer`` refuses points outside the area of use of its systems.
///
/// Outside its area a projection still computes *something*: a dig polygon at −170° longitude
/// projected into EPSG:4549 lands at easting ≈ 1.09e7 and every nearby-pipe query answers "clear".
/// A planner must get an error instead, so transformers check by default.
public enum AreaCheck: Hashable, Sendable, CustomStringConvertible {
    /// Refuse anything outside the recorded box itself (no margin).
    case strict
    /// Refuse points farther than `marginDegrees` outside the recorded box, in longitude or
    /// latitude.
    case lenient(marginDegrees: Double)
    /// Transform everything PROJ can compute; the caller vouches for the input.
    case none

    /// The default margin: 1.5°, half the width of a 3-degree Gauss-Kruger zone.
    ///
    /// Survey practice uses a 3-degree zone a little beyond its ±1.5° edges (Wenling, at
    /// 121.4°E–121.6°E, sits on the eastern edge of EPSG:4549's 118.5°E–121.5°E). At 3° from the
    /// central meridian the Transverse Mercator scale error is still only about 1.1 mm per metre at
    /// 28°N and PROJ's projection stays exact to the millimetre, while a wrong zone (one zone
    /// over is 3° away), a lon/lat swap or a wrong hemisphere is 3° or more off and is refused.
    /// For 6-degree UTM zones the margin still admits all of a neighbouring state's edge.
    public static let standardMarginDegrees = 1.5

    /// ``lenient(marginDegrees:)`` with ``standardMarginDegrees``: what transformers use unless
    /// told otherwise.
    public static let standard = AreaCheck.lenient(marginDegrees: standardMarginDegrees)

    /// The margin in degrees, `nil` for ``none``.
    public var marginDegrees: Double? {
        switch self {
        case .strict: 0
        case .lenient(let m): m
        case .none: nil
        }
    }

    public var description: String {
        switch self {
        case .strict: "strict"
        case .lenient(let m): "lenient(\(_AreaRegion.format(m))°)"
        case .none: "none"
        }
    }
}

/// An area of use widened by a margin, in the form the hot loop tests: a latitude band and a
/// longitude arc starting at `west` and `width` degrees long (no antimeridian special case).
struct _AreaRegion: Hashable, Sendable {
    var south: Double
    var north: Double
    var west: Double
    var width: Double
    /// Whether every longitude is in (the arc is 360° or more).
    var allLongitudes: Bool

    init(_ a: AreaOfUse, margin: Double) {
        south = Swift.max(-90, a.south - margin)
        north = Swift.min(90, a.north + margin)
        var w = a.east - a.west
        if w < 0 { w += 360 }  // crosses the antimeridian
        width = w + 2 * margin
        west = a.west - margin
        allLongitudes = width >= 360
    }

    /// Whether the region holds every point of the globe, so checking it would be wasted work.
    var isWholeGlobe: Bool { allLongitudes && south <= -90 && north >= 90 }

    /// Degrees east of `west`, in 0..<360.
    @inline(__always)
    func offset(_ lon: Double) -> Double {
        var d = lon - west
        // The usual case is one compare: inputs are -180...180 and west >= -180 - margin.
        if d < 0 || d >= 360 { d -= 360 * (d / 360).rounded(.down) }
        return d
    }

    /// O(1). NaN is never contained.
    @inline(__always)
    func contains(_ lon: Double, _ lat: Double) -> Bool {
        guard lat >= south && lat <= north else { return false }
        return allLongitudes || offset(lon) <= width
    }

    /// Whether the box [minLon, maxLon] × [minLat, maxLat] lies inside (`maxLon - minLon` < 360).
    func contains(minLon: Double, minLat: Double, maxLon: Double, maxLat: Double) -> Bool {
        guard minLat >= south && maxLat <= north else { return false }
        return allLongitudes || offset(minLon) + (maxLon - minLon) <= width
    }

    /// Up to 6 significant decimals, no trailing zeros: `118.5`, `-170`, `24.43`.
    static func format(_ v: Double) -> String {
        let rounded = (v * 1e6).rounded() / 1e6
        if rounded == rounded.rounded() && abs(rounded) < 1e15 { return String(Int(rounded)) }
        return String(rounded)
    }
}
