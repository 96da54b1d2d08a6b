import SubterraGeometry
import SubterraModel

/// The street network of a generated district and the plan of the lines under each street.
///
/// Streets are a jittered, gently warped grid (so rows and columns curve), with arterials every
/// few rows and columns, bowed arterial edges, NW–SE diagonal arterials, some local streets
/// removed and some of those kept as dead-end stubs. Everything is a pure function of the seed
/// and the grid indices, so any part can be generated without the rest, in any order.
///
/// Each line type sits at a fixed lateral offset from the street centre (the road cross-section),
/// implemented as one translation vector `(o, o)` per line type: every line of that type meets at
/// the same junction point `node + (o, o)` at an intersection, so the lines form connected
/// networks, and lines of different types cross each other near every intersection.
public struct DistrictLayout: Hashable, Sendable {
    /// Seed of every random choice.
    public let seed: UInt64
    /// Grid columns (nodes per row).
    public let columns: Int
    /// Rows the requested size is expected to need (more are generated if needed).
    public let estimatedRows: Int
    /// Node spacing in metres (a city block plus a street).
    public let spacing: Double
    /// South-west node (0, 0) before jitter and warp, EPSG:4549.
    public let gridOrigin: Point

    /// District centre: 121.4 E, 28.37 N (Wenling) in EPSG:4549, from
    /// `echo "28.37 121.4" | cs2cs -d 3 EPSG:4326 EPSG:4549` → 3140242.867 N, 637240.932 E.
    /// (EPSG:4549 has its central meridian at 120 E, so Wenling's eastings are near 637 km.)
    public static let wenlingCentre = Point(637_240.932, 3_140_242.867)

    /// Average segments one grid node yields (edges, pieces, laterals), measured on generated
    /// districts; sizes the grid for a requested segment count.
    static let segmentsPerNode = 68.0

    /// A layout sized for about `segments` segments, centred on `wenlingCentre`.
    public init(segments: Int, seed: UInt64) {
        self.seed = seed
        self.spacing = 140
        let nodes = max(Double(segments) / Self.segmentsPerNode, 4)
        // Twice as wide as tall, like the district along the Wenling valley.
        columns = max(3, Int((nodes * 2).squareRoot().rounded(.up)))
        estimatedRows = max(2, Int((nodes / Double(columns)).rounded(.up)))
        gridOrigin = Point(
            Self.wenlingCentre.x - Double(columns - 1) * spacing / 2,
            Self.wenlingCentre.y - Double(estimatedRows - 1) * spacing / 2)
    }

    /// `i + j` (mod 29) of the nodes the diagonal arterials run through.
    var diagonalPhase: Int { ((columns + estimatedRows) / 2) % 29 }

    // MARK: Nodes

    @inlinable
    func nodeKey(_ i: Int, _ j: Int) -> UInt64 { UInt64(j) &* UInt64(columns) &+ UInt64(i) }

    /// Position of node (i, j): grid + smooth warp (curved streets) + jitter, rounded to mm.
    func node(_ i: Int, _ j: Int) -> Point {
        var r = Xoshiro256(seed: seed, key: nodeKey(i, j), salt: 0x6E6F_6465)
        let fi = Double(i)
        let fj = Double(j)
        let warpX = 18 * _sin(fj * 0.37 + Double(seed % 97))
        let warpY = 22 * _sin(fi * 0.23 + Double(seed % 89))
        let x = gridOrigin.x + fi * spacing + warpX + r.uniform(-12, 12)
        let y = gridOrigin.y + fj * spacing + warpY + r.uniform(-12, 12)
        return Point(_mm(x), _mm(y))
    }

    // MARK: Streets

    /// Street class of an edge; `nil` when there is no street.
    func streetClass(_ e: _Edge) -> StreetClass? {
        switch e.kind {
        case .east:
            guard e.i + 1 < columns else { return nil }
            if e.j % 5 == 2 { return .arterial }
            if e.j % 5 == 0 || e.i % 7 == 0 { return .secondary }
        case .north:
            if e.i % 6 == 3 { return .arterial }
            if e.i % 3 == 0 || e.j % 6 == 4 { return .secondary }
        case .diagonal:
            // Every 29th anti-diagonal, phased so that even a small district has one through its middle.
            guard e.i + 1 < columns, e.j >= 1, (e.i + e.j) % 29 == diagonalPhase else { return nil }
            return .arterial
        case .stub:
            return .local
        }
        // Local streets: some missing, making T junctions and irregular blocks.
        var r = Xoshiro256(seed: seed, key: e.key(columns), salt: 0x6472_6F70)
        return r.chance(0.13) ? nil : .local
    }

    /// Whether a missing local street `e` is kept as a dead end from its start node, and how far.
    func stubFraction(_ e: _Edge) -> Double? {
        guard e.kind == .east || e.kind == .north else { return nil }
        var r = Xoshiro256(seed: seed, key: e.key(columns), salt: 0x7374_7562)
        return r.chance(0.5) ? r.uniform(0.35, 0.6) : nil
    }

    /// Lateral offset vector component of each line type, metres (see type doc).
    static let lineOffsets: [Double] = LineType.allCases.map(\.offset)

    /// Whether line type `t` runs under street `e` of class `c`.
    func carries(_ e: _Edge, _ c: StreetClass, _ t: LineType) -> Bool {
        let p = t.probability(on: c)
        if p >= 1 { return true }
        if p <= 0 { return false }
        // Decided per street run (row or column), not per block, so a main continues along a street.
        let run: UInt64
        switch e.kind {
        case .east: run = UInt64(e.j) &* 1_000_003 &+ UInt64(e.i / 4)
        case .north: run = UInt64(e.i) &* 1_000_033 &+ UInt64(e.j / 4) &+ 0x8000_0000
        case .diagonal: run = UInt64(e.i + e.j) &+ 0x4000_0000_0000
        case .stub: run = e.key(columns)
        }
        var r = Xoshiro256(seed: seed, key: _mix(run, UInt64(e.kind.rawValue)), salt: 0x4C00 + UInt64(t.rawValue))
        return r.chance(p)
    }
}

/// Road class; decides which lines run under a street and their sizes.
public enum StreetClass: Int, Hashable, Sendable, CaseIterable {
    case arterial
    case secondary
    case local
}

/// The line types laid under streets, in the standard crossing order from the top down where it
/// matters (telecom, power, gas, heat, water, reclaimed, storm, sewage).
public enum LineType: Int, Hashable, Sendable, CaseIterable {
    case telecom, fibre, power, lighting, gas, heat, water, reclaimed, storm, sewage

    public var layer: LayerCode {
        switch self {
        case .telecom: return .telecom
        case .fibre: return .fibre
        case .power, .lighting: return .power
        case .gas: return .gas
        case .heat: return .heat
        case .water, .reclaimed: return .water
        case .storm, .sewage: return .drainage
        }
    }

    public var subtype: SubtypeCode {
        switch self {
        case .telecom: return .telephone
        case .fibre: return .dataNetwork
        case .power: return .powerSupply
        case .lighting: return .streetLighting
        case .gas: return .naturalGas
        case .heat: return .hotWater
        case .water: return .distribution
        case .reclaimed: return .reclaimed
        case .storm: return .storm
        case .sewage: return .sewage
        }
    }

    /// Offset from the street centre, metres; sign = side. Power and telecom under opposite
    /// sidewalks, gas and water further in, heat and reclaimed water nearer the centre, drainage
    /// either side of the centreline.
    public var offset: Double {
        switch self {
        case .telecom: return -10
        case .fibre: return -11.2
        case .power: return 10
        case .lighting: return 11.4
        case .gas: return -6.5
        case .heat: return 3.6
        case .water: return 6.4
        case .reclaimed: return -3.7
        case .storm: return -1.6
        case .sewage: return 1.5
        }
    }

    /// Depth band of the pipe top at survey points, metres: stacked in the standard order.
    public var depthBand: ClosedRange<Double> {
        switch self {
        case .lighting: return 0.7...0.8
        case .telecom: return 0.7...0.9
        case .fibre: return 0.8...1.0
        case .power: return 0.9...1.2
        case .gas: return 1.2...1.5
        case .heat: return 1.6...1.9
        case .water: return 1.9...2.2
        case .reclaimed: return 2.2...2.5
        case .storm: return 2.5...3.2
        case .sewage: return 3.2...4.0
        }
    }

    func probability(on c: StreetClass) -> Double {
        switch (self, c) {
        case (.water, .local): return 0.95
        case (.water, _), (.storm, .arterial), (.sewage, .arterial), (.power, .arterial), (.telecom, .arterial),
            (.gas, .arterial), (.fibre, .arterial), (.lighting, .arterial):
            return 1
        case (.storm, _), (.sewage, _): return 0.9
        case (.gas, .secondary), (.power, .secondary), (.telecom, .secondary): return 0.95
        case (.gas, .local): return 0.8
        case (.power, .local), (.telecom, .local): return 0.75
        case (.fibre, .secondary), (.lighting, .secondary): return 0.5
        case (.heat, .arterial): return 0.6
        case (.reclaimed, .arterial): return 0.5
        default: return 0
        }
    }

    /// Chance that an interior survey point of this line feeds a service lateral to a building.
    var lateralProbability: Double {
        switch self {
        case .water: return 0.5
        case .gas: return 0.35
        case .sewage: return 0.4
        case .power, .telecom: return 0.25
        default: return 0
        }
    }
}

/// One street edge of the grid: from node (i, j) east, north, south-east (diagonal) or a dead-end
/// stub along a missing east/north street.
struct _Edge: Hashable, Sendable {
    enum Kind: Int { case east, north, diagonal, stub }
    var i: Int
    var j: Int
    var kind: Kind
    /// For a stub: the kind of the missing street it follows.
    var stubOf: Kind = .east

    func key(_ columns: Int) -> UInt64 {
        (UInt64(j) &* UInt64(columns) &+ UInt64(i)) &* 8 &+ UInt64(kind.rawValue) &* 2 &+ UInt64(stubOf.rawValue & 1)
    }

    /// End node indices (for grid edges).
    var to: (Int, Int) {
        switch kind {
        case .east: return (i + 1, j)
        case .north: return (i, j + 1)
        case .diagonal: return (i + 1, j - 1)
        case .stub: return stubOf == .east ? (i + 1, j) : (i, j + 1)
        }
    }
}

/// Rounds to millimetres, the precision of a 1:500 survey record.
@inlinable
func _mm(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }

/// Rounds to centimetres (depths).
@inlinable
func _cm(_ v: Double) -> Double { (v * 100).rounded() / 100 }

/// sin without Foundation, accurate to ~1e-12 for the small arguments used here; deterministic
/// because it is ours (libm may differ between platforms in the last bit).
@inlinable
func _sin(_ x: Double) -> Double {
    let twoPi = 6.283185307179586
    var r = x - (x / twoPi).rounded() * twoPi  // now in [-pi, pi]
    if r > 1.5707963267948966 { r = 3.141592653589793 - r }
    if r < -1.5707963267948966 { r = -3.141592653589793 - r }
    let r2 = r * r
    // Taylor series to r^15 on [-pi/2, pi/2]: error < 1e-10.
    var term = r
    var sum = r
    var k = 1.0
    for _ in 0..<7 {
        term *= -r2 / ((k + 1) * (k + 2))
        sum += term
        k += 2
    }
    return sum
}
