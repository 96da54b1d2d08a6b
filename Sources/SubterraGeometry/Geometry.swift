/// A position in a planar or geographic coordinate system.
///
/// `x` is always easting or longitude and `y` northing or latitude, whatever axis order the
/// coordinate system's authority declares; `z` is an optional height.
@frozen
public struct Point: Hashable, Sendable {
    public var x: Double
    public var y: Double
    public var z: Double?

    @inlinable
    public init(x: Double, y: Double, z: Double? = nil) {
        self.x = x
        self.y = y
        self.z = z
    }

    @inlinable
    public init(_ x: Double, _ y: Double, _ z: Double? = nil) {
        self.init(x: x, y: y, z: z)
    }

    /// Whether every coordinate is finite (no NaN, no infinity).
    @inlinable
    public var isFinite: Bool { x.isFinite && y.isFinite && (z?.isFinite ?? true) }
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

/// Why a geometry could not be built.
public struct GeometryError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
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
        guard points.first!.x == points.last!.x, points.first!.y == points.last!.y else {
            throw GeometryError("a linear ring must be closed (first point equal to last)")
        }
        self.points = points
    }

    public var envelope: Envelope { Envelope(points: points) }
}

/// A polygon: an exterior ring and zero or more holes.
public struct Polygon: Hashable, Sendable {
    public var exterior: LinearRing
    public var holes: [LinearRing]

    public init(exterior: LinearRing, holes: [LinearRing] = []) {
        self.exterior = exterior
        self.holes = holes
    }

    public var envelope: Envelope { exterior.envelope }
}

/// Any geometry this library handles.
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
