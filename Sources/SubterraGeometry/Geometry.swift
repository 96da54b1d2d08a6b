/// A position in a planar or geographic coordinate system.
///
/// `x` is always easting or longitude and `y` northing or latitude, whatever axis order the
/// coordinate system's authority declares; `z` is an optional height.
///
/// Layout: three `Double`s, 24 bytes with a 24-byte stride, so a `[Point]` of 2-D points stays
/// dense (an `Optional<Double>` field would make the stride 32). An absent `z` is stored as one
/// reserved NaN bit pattern (``absentZBitPattern``); every other value, NaN included, is a
/// present `z`. A caller's `z` that happens to carry the reserved pattern is stored as the
/// ordinary quiet NaN, so `Point(x, y, z).z == nil` exactly when `z == nil`. Chosen by
/// measurement, see `Benchmarks/NOTES.md` ("Point stride").
///
/// Equality and hashing are those of the fields `x`, `y`, `z` (`z` compared as `Double?`).
@frozen
public struct Point: Hashable, Sendable {
    public var x: Double
    public var y: Double
    /// The height, or the reserved absent pattern; read it through `z`.
    @usableFromInline var _z: Double

    /// The bit pattern that marks an absent `z`: a quiet NaN with a payload no arithmetic in
    /// this library produces (arithmetic yields the default NaN or propagates an operand's).
    public static let absentZBitPattern: UInt64 = 0x7FF8_5A5A_0000_0001

    /// The optional height.
    @inlinable
    public var z: Double? {
        @inline(__always) get { _z.bitPattern == Self.absentZBitPattern ? nil : _z }
        @inline(__always) set { _z = Self._encode(newValue) }
    }

    @inlinable @inline(__always)
    static func _encode(_ z: Double?) -> Double {
        guard let z else { return Double(bitPattern: absentZBitPattern) }
        return z.bitPattern == absentZBitPattern ? .nan : z
    }

    @inlinable
    public init(x: Double, y: Double, z: Double? = nil) {
        self.x = x
        self.y = y
        _z = Self._encode(z)
    }

    @inlinable
    public init(_ x: Double, _ y: Double, _ z: Double? = nil) {
        self.init(x: x, y: y, z: z)
    }

    /// Whether the point has a height.
    @inlinable
    public var hasZ: Bool { _z.bitPattern != Self.absentZBitPattern }

    /// Whether every coordinate is finite (no NaN, no infinity).
    @inlinable
    public var isFinite: Bool { x.isFinite && y.isFinite && (!hasZ || _z.isFinite) }

    @inlinable
    public static func == (a: Point, b: Point) -> Bool { a.x == b.x && a.y == b.y && a.z == b.z }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(x)
        hasher.combine(y)
        hasher.combine(z)
    }
}

/// An axis-aligned rectangle; `Envelope.empty` contains nothing and is the identity of `union`.
@frozen
public struct Envelope: Hashable, Sendable {
    public var minX: Double
    public var minY: Double
    public var maxX: Double
    public var maxY: Double

    @inlinable
    public init(minX: Double, minY: Double, maxX: Double, maxY: Double) {
        self.minX = minX
        self.minY = minY
        self.maxX = maxX
        self.maxY = maxY
    }

    /// The envelope that contains nothing.
    public static let empty = Envelope(minX: .infinity, minY: .infinity, maxX: -.infinity, maxY: -.infinity)

    @inlinable
    public var isEmpty: Bool { !(minX <= maxX && minY <= maxY) }

    @inlinable
    public var width: Double { isEmpty ? 0 : maxX - minX }

    @inlinable
    public var height: Double { isEmpty ? 0 : maxY - minY }

    /// The envelope of `points`; `.empty` when there are none.
    @inlinable
    public init<S: Sequence>(points: S) where S.Element == Point {
        var e = Envelope.empty
        for p in points { e.expand(toInclude: p) }
        self = e
    }

    @inlinable
    public mutating func expand(toInclude p: Point) {
        if p.x < minX { minX = p.x }
        if p.x > maxX { maxX = p.x }
        if p.y < minY { minY = p.y }
        if p.y > maxY { maxY = p.y }
    }

    /// Whether this box reaches any side of `bounds` (or past it): a box that does not could be
    /// removed from a set bounded by `bounds` without changing the set's bounds. O(1).
    @inlinable
    public func reachesEdge(of bounds: Envelope) -> Bool {
        minX <= bounds.minX || minY <= bounds.minY || maxX >= bounds.maxX || maxY >= bounds.maxY
    }

    @inlinable
    public func union(_ o: Envelope) -> Envelope {
        Envelope(minX: min(minX, o.minX), minY: min(minY, o.minY), maxX: max(maxX, o.maxX), maxY: max(maxY, o.maxY))
    }

    @inlinable
    public func intersects(_ o: Envelope) -> Bool {
        minX <= o.maxX && o.minX <= maxX && minY <= o.maxY && o.minY <= maxY
    }

    @inlinable
    public func contains(_ p: Point) -> Bool {
        p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY
    }

    /// The envelope grown by `d` on every side.
    @inlinable
    public func expanded(by d: Double) -> Envelope {
        Envelope(minX: minX - d, minY: minY - d, maxX: maxX + d, maxY: maxY + d)
    }
}

/// Why a geometry could not be built or parsed.
///
/// Parsers fill in where the problem is: `offset` is the byte offset (WKB, GeoJSON) or character
/// offset (WKT) in the input, `path` the JSON path of the offending value (for example
/// `features[1234].geometry.coordinates[3][1]`) and `featureIndex` the feature it belongs to, so
/// a planner can find the bad record in a file of a million.
public struct GeometryError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// Byte (WKB, GeoJSON) or character (WKT) offset of the problem in the input, if parsed.
    public var offset: Int?
    /// JSON path of the offending value, if parsed from GeoJSON; empty at the document root.
    public var path: String?
    /// Index of the feature in its feature collection, if the problem is inside one.
    public var featureIndex: Int?
    /// The `ParseLimits` limit the input exceeded, when that is why it was refused.
    public var exceededLimit: ParseLimits.Limit?

    public init(_ message: String, offset: Int? = nil, path: String? = nil, featureIndex: Int? = nil) {
        self.message = message
        self.offset = offset
        self.path = path
        self.featureIndex = featureIndex
    }

    /// `path: message (at byte N)`, leaving out what is unknown.
    public var description: String {
        var s = ""
        if let path, !path.isEmpty { s += path + ": " }
        s += message
        if let offset { s += " (at offset \(offset))" }
        return s
    }
}

/// A sequence of two or more points joined by straight segments.
public struct LineString: Hashable, Sendable {
    public private(set) var points: [Point]

    /// Builds a line string, refusing fewer than two points or non-finite coordinates.
    public init(_ points: [Point]) throws(GeometryError) {
        guard points.count >= 2 else {
            throw GeometryError("a line string needs at least 2 points, got \(points.count)")
        }
        if let i = points.firstIndex(where: { !$0.isFinite }) {
            throw GeometryError("line string point \(i) has a non-finite coordinate")
        }
        self.points = points
    }

    public var envelope: Envelope { Envelope(points: points) }
}

/// A closed line string: first point equals last, at least four points.
public struct LinearRing: Hashable, Sendable {
    public private(set) var points: [Point]

    /// Builds a ring, refusing one that is not closed, has fewer than four points or non-finite
    /// coordinates.
    public init(_ points: [Point]) throws(GeometryError) {
        guard points.count >= 4 else {
            throw GeometryError("a linear ring needs at least 4 points, got \(points.count)")
        }
        if let i = points.firstIndex(where: { !$0.isFinite }) {
            throw GeometryError("ring point \(i) has a non-finite coordinate")
        }
        let first = points[0], last = points[points.count - 1]
        guard first.x == last.x, first.y == last.y else {
            throw GeometryError("a linear ring must be closed (first point equal to last)")
        }
        self.points = points
    }

    public var envelope: Envelope { Envelope(points: points) }
}

/// A polygon: an exterior ring and zero or more holes.
///
/// Ring orientation is not enforced (GeoJSON asks for counter-clockwise exteriors, shapefiles
/// write clockwise ones); every kernel here is orientation-agnostic. Whether holes lie inside the
/// exterior and do not cross is a GEOS validity question (`SubterraGEOS`), not checked here.
public struct Polygon: Hashable, Sendable {
    public var exterior: LinearRing
    public var holes: [LinearRing]

    public init(exterior: LinearRing, holes: [LinearRing] = []) {
        self.exterior = exterior
        self.holes = holes
    }

    /// Builds a polygon from raw rings (first the exterior), validating each ring.
    /// - Throws: `GeometryError` naming the ring (0 = exterior) and the reason.
    public init(rings: [[Point]]) throws(GeometryError) {
        guard !rings.isEmpty else { throw GeometryError("a polygon needs at least an exterior ring") }
        var built: [LinearRing] = []
        built.reserveCapacity(rings.count)
        for (i, r) in rings.enumerated() {
            do { built.append(try LinearRing(r)) } catch {
                throw GeometryError("polygon ring \(i): \(error.message)")
            }
        }
        self.exterior = built[0]
        self.holes = Array(built.dropFirst())
    }

    /// The exterior followed by the holes.
    public var rings: [LinearRing] { [exterior] + holes }

    public var envelope: Envelope { exterior.envelope }
}

/// Any geometry this library handles.
///
/// Multi forms are plain arrays of their parts rather than dedicated `MultiPoint`/… structs: a
/// multi geometry has no invariant of its own beyond its parts' (which their types already
/// enforce), and arrays let callers use the whole standard library on them. An empty multi
/// geometry or collection is an empty array; there is no empty point or line string.
public indirect enum Geometry: Hashable, Sendable {
    case point(Point)
    case lineString(LineString)
    case polygon(Polygon)
    case multiPoint([Point])
    case multiLineString([LineString])
    case multiPolygon([Polygon])
    case collection([Geometry])

    /// The bounding box; `.empty` for an empty multi geometry or collection.
    public var envelope: Envelope {
        switch self {
        case .point(let p): return Envelope(points: [p])
        case .lineString(let l): return l.envelope
        case .polygon(let p): return p.envelope
        case .multiPoint(let ps): return Envelope(points: ps)
        case .multiLineString(let ls): return ls.reduce(.empty) { $0.union($1.envelope) }
        case .multiPolygon(let ps): return ps.reduce(.empty) { $0.union($1.envelope) }
        case .collection(let gs): return gs.reduce(.empty) { $0.union($1.envelope) }
        }
    }
}

extension Geometry {
    /// The OGC type name as WKT spells it (`POINT`, `MULTILINESTRING`, `GEOMETRYCOLLECTION`, …).
    public var typeName: String {
        switch self {
        case .point: return "POINT"
        case .lineString: return "LINESTRING"
        case .polygon: return "POLYGON"
        case .multiPoint: return "MULTIPOINT"
        case .multiLineString: return "MULTILINESTRING"
        case .multiPolygon: return "MULTIPOLYGON"
        case .collection: return "GEOMETRYCOLLECTION"
        }
    }

    /// Whether the geometry has no points at all (only multi forms and collections can be empty).
    public var isEmpty: Bool {
        switch self {
        case .point, .lineString, .polygon: return false
        case .multiPoint(let a): return a.isEmpty
        case .multiLineString(let a): return a.isEmpty
        case .multiPolygon(let a): return a.isEmpty
        case .collection(let a): return a.allSatisfy(\.isEmpty)
        }
    }

    /// Calls `body` on every vertex, rings and parts in order. O(n), no allocation.
    public func forEachPoint(_ body: (Point) throws -> Void) rethrows {
        switch self {
        case .point(let p): try body(p)
        case .lineString(let l): for p in l.points { try body(p) }
        case .polygon(let p):
            for p in p.exterior.points { try body(p) }
            for h in p.holes { for p in h.points { try body(p) } }
        case .multiPoint(let ps): for p in ps { try body(p) }
        case .multiLineString(let ls): for l in ls { for p in l.points { try body(p) } }
        case .multiPolygon(let polys):
            for poly in polys {
                for p in poly.exterior.points { try body(p) }
                for h in poly.holes { for p in h.points { try body(p) } }
            }
        case .collection(let gs): for g in gs { try g.forEachPoint(body) }
        }
    }

    /// Whether every vertex carries a `z` (and there is at least one vertex). Writers emit Z
    /// coordinates only then, so a mixed geometry is written 2D rather than with invented heights.
    public var hasZ: Bool {
        var any = false
        var all = true
        forEachPoint { p in
            any = true
            if p.z == nil { all = false }
        }
        return any && all
    }
}

extension Geometry {
    /// Checks what the enum cases cannot enforce by construction: every point and multi-point
    /// coordinate finite (line strings and rings already refuse non-finite ones).
    /// - Throws: `GeometryError` naming the first bad point, such as `multipoint point 3 has a
    ///   non-finite coordinate` or `collection member 1: point has a non-finite coordinate`.
    /// - Complexity: O(n) in the vertex count.
    public func validate() throws(GeometryError) {
        switch self {
        case .point(let p):
            if !p.isFinite { throw GeometryError("point has a non-finite coordinate") }
        case .multiPoint(let ps):
            if let i = ps.firstIndex(where: { !$0.isFinite }) {
                throw GeometryError("multipoint point \(i) has a non-finite coordinate")
            }
        case .collection(let gs):
            for (i, g) in gs.enumerated() {
                do { try g.validate() } catch { throw GeometryError("collection member \(i): \(error.message)") }
            }
        case .lineString, .polygon, .multiLineString, .multiPolygon:
            break
        }
    }
}
