import CGEOS
import SubterraGeometry

/// Test-only oracle: GEOS through its reentrant C API, one context per oracle (GEOS contexts are
/// per-thread objects, and each Swift Testing test gets its own oracle). Every GEOS object made
/// here is destroyed before the method returns.
final class GEOSOracle {
    let ctx: GEOSContextHandle_t

    init() {
        ctx = GEOS_init_r()
    }

    deinit {
        GEOS_finish_r(ctx)
    }

    // MARK: Building

    func seq(_ ps: [Point], z: Bool = false) -> OpaquePointer {
        let s = GEOSCoordSeq_create_r(ctx, UInt32(ps.count), z ? 3 : 2)!
        for (k, p) in ps.enumerated() {
            if z {
                GEOSCoordSeq_setXYZ_r(ctx, s, UInt32(k), p.x, p.y, p.z ?? 0)
            } else {
                GEOSCoordSeq_setXY_r(ctx, s, UInt32(k), p.x, p.y)
            }
        }
        return s
    }

    func point(_ p: Point) -> OpaquePointer { GEOSGeom_createPointFromXY_r(ctx, p.x, p.y)! }

    func line(_ ps: [Point]) -> OpaquePointer { GEOSGeom_createLineString_r(ctx, seq(ps))! }

    func ring(_ ps: [Point]) -> OpaquePointer { GEOSGeom_createLinearRing_r(ctx, seq(ps))! }

    func polygon(_ p: Polygon) -> OpaquePointer {
        let shell = ring(p.exterior.points)
        var holes: [OpaquePointer?] = p.holes.map { ring($0.points) }
        return holes.withUnsafeMutableBufferPointer { h in
            GEOSGeom_createPolygon_r(ctx, shell, h.baseAddress, UInt32(h.count))!
        }
    }

    /// An envelope as GEOS sees a box: a point, a line or a polygon by its degeneracy.
    func envelope(_ e: Envelope) -> OpaquePointer {
        if e.minX == e.maxX && e.minY == e.maxY { return point(Point(e.minX, e.minY)) }
        if e.minX == e.maxX || e.minY == e.maxY {
            return line([Point(e.minX, e.minY), Point(e.maxX, e.maxY)])
        }
        let r = [Point(e.minX, e.minY), Point(e.maxX, e.minY), Point(e.maxX, e.maxY), Point(e.minX, e.maxY),
                 Point(e.minX, e.minY)]
        return GEOSGeom_createPolygon_r(ctx, ring(r), nil, 0)!
    }

    /// A segment as GEOS should see it: a zero-length one is a point (GEOS's predicates treat a
    /// zero-length line string as having no interior, so `GEOSIntersects_r` says false even for
    /// two identical ones).
    func segment(_ a: Point, _ b: Point) -> OpaquePointer {
        a.x == b.x && a.y == b.y ? point(a) : line([a, b])
    }

    /// Whether GEOS's double-double orientation agrees with the exact one on every triple; when
    /// it does not, a GEOS predicate built on it may legitimately differ from ours.
    func agreesOnOrientation(_ triples: [(Point, Point, Point)]) -> Bool {
        triples.allSatisfy { a, b, c in
            orientationIndex(a, b, c) == Kernel.orientationSign(a.x, a.y, b.x, b.y, c.x, c.y)
        }
    }

    func free(_ g: OpaquePointer) { GEOSGeom_destroy_r(ctx, g) }

    /// Runs `body` on a GEOS geometry made by `make`, then destroys it.
    func with<T>(_ g: OpaquePointer, _ body: (OpaquePointer) -> T) -> T {
        defer { free(g) }
        return body(g)
    }

    // MARK: Operations

    func distance(_ a: OpaquePointer, _ b: OpaquePointer) -> Double {
        var d = 0.0
        precondition(GEOSDistance_r(ctx, a, b, &d) == 1, "GEOSDistance_r failed")
        return d
    }

    func intersects(_ a: OpaquePointer, _ b: OpaquePointer) -> Bool {
        let r = GEOSIntersects_r(ctx, a, b)
        precondition(r != 2, "GEOSIntersects_r failed")
        return r == 1
    }

    func relatePattern(_ a: OpaquePointer, _ b: OpaquePointer, _ pattern: String) -> Bool {
        let r = GEOSRelatePattern_r(ctx, a, b, pattern)
        precondition(r != 2, "GEOSRelatePattern_r failed")
        return r == 1
    }

    func contains(_ a: OpaquePointer, _ b: OpaquePointer) -> Bool {
        GEOSContains_r(ctx, a, b) == 1
    }

    func orientationIndex(_ a: Point, _ b: Point, _ c: Point) -> Int {
        Int(GEOSOrientationIndex_r(ctx, a.x, a.y, b.x, b.y, c.x, c.y))
    }

    func nearestPoints(_ a: OpaquePointer, _ b: OpaquePointer) -> (Point, Point) {
        let s = GEOSNearestPoints_r(ctx, a, b)!
        defer { GEOSCoordSeq_destroy_r(ctx, s) }
        var x0 = 0.0, y0 = 0.0, x1 = 0.0, y1 = 0.0
        GEOSCoordSeq_getXY_r(ctx, s, 0, &x0, &y0)
        GEOSCoordSeq_getXY_r(ctx, s, 1, &x1, &y1)
        return (Point(x0, y0), Point(x1, y1))
    }

    func length(_ g: OpaquePointer) -> Double {
        var d = 0.0
        precondition(GEOSLength_r(ctx, g, &d) == 1)
        return d
    }

    func interpolate(_ g: OpaquePointer, _ d: Double) -> Point {
        let p = GEOSInterpolate_r(ctx, g, d)!
        defer { free(p) }
        var x = 0.0, y = 0.0
        GEOSGeomGetX_r(ctx, p, &x)
        GEOSGeomGetY_r(ctx, p, &y)
        return Point(x, y)
    }

    func project(_ g: OpaquePointer, _ p: OpaquePointer) -> Double { GEOSProject_r(ctx, g, p) }

    func isValid(_ g: OpaquePointer) -> Bool { GEOSisValid_r(ctx, g) == 1 }

    /// Where `p` is relative to `poly` per GEOS's DE-9IM: interior∩interior, else interior∩boundary.
    func locate(_ p: Point, _ poly: OpaquePointer) -> Location {
        with(point(p)) { gp in
            if relatePattern(gp, poly, "0********") { return .interior }
            if relatePattern(gp, poly, "*0*******") { return .boundary }
            return .exterior
        }
    }

    // MARK: WKT / WKB

    func readWKT(_ s: String) -> OpaquePointer? {
        let r = GEOSWKTReader_create_r(ctx)!
        defer { GEOSWKTReader_destroy_r(ctx, r) }
        return GEOSWKTReader_read_r(ctx, r, s)
    }

    func writeWKT(_ g: OpaquePointer, dims: Int32 = 3) -> String {
        let w = GEOSWKTWriter_create_r(ctx)!
        defer { GEOSWKTWriter_destroy_r(ctx, w) }
        GEOSWKTWriter_setTrim_r(ctx, w, 1)
        GEOSWKTWriter_setRoundingPrecision_r(ctx, w, -1)
        GEOSWKTWriter_setOutputDimension_r(ctx, w, dims)
        let c = GEOSWKTWriter_write_r(ctx, w, g)!
        defer { GEOSFree_r(ctx, c) }
        return String(cString: c)
    }

    func readWKB(_ bytes: [UInt8]) -> OpaquePointer? {
        let r = GEOSWKBReader_create_r(ctx)!
        defer { GEOSWKBReader_destroy_r(ctx, r) }
        return bytes.withUnsafeBufferPointer { GEOSWKBReader_read_r(ctx, r, $0.baseAddress, $0.count) }
    }

    func writeWKB(_ g: OpaquePointer, littleEndian: Bool, dims: Int32, iso: Bool, includeSRID: Bool) -> [UInt8] {
        let w = GEOSWKBWriter_create_r(ctx)!
        defer { GEOSWKBWriter_destroy_r(ctx, w) }
        GEOSWKBWriter_setByteOrder_r(ctx, w, littleEndian ? Int32(GEOS_WKB_NDR.rawValue) : Int32(GEOS_WKB_XDR.rawValue))
        GEOSWKBWriter_setOutputDimension_r(ctx, w, dims)
        GEOSWKBWriter_setFlavor_r(ctx, w, iso ? Int32(GEOS_WKB_ISO.rawValue) : Int32(GEOS_WKB_EXTENDED.rawValue))
        GEOSWKBWriter_setIncludeSRID_r(ctx, w, includeSRID ? 1 : 0)
        var size = 0
        let p = GEOSWKBWriter_write_r(ctx, w, g, &size)!
        defer { GEOSFree_r(ctx, p) }
        return Array(UnsafeBufferPointer(start: p, count: size))
    }

    func srid(_ g: OpaquePointer) -> Int32 { GEOSGetSRID_r(ctx, g) }
    func setSRID(_ g: OpaquePointer, _ s: Int32) { GEOSSetSRID_r(ctx, g, s) }
}

/// Deterministic generator (SplitMix64) so an oracle failure reproduces from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random and adversarial coordinates: grid-snapped small integers (many exact collinearities,
/// touches and zero-length segments), survey-sized coordinates near 4.05e7/3.1e6 on a millimetre
/// grid, and plain uniform doubles.
struct CaseGen {
    var rng: SplitMix
    init(seed: UInt64) { rng = SplitMix(seed: seed) }

    enum Regime: CaseIterable { case grid, survey, uniform, tinyGrid }

    mutating func regime() -> Regime { Regime.allCases[Int(rng.next() % 4)] }

    mutating func coord(_ r: Regime) -> Point {
        switch r {
        case .grid: return Point(Double(Int(rng.next() % 9)), Double(Int(rng.next() % 9)))
        case .tinyGrid: return Point(Double(Int(rng.next() % 4)) * 0.1, Double(Int(rng.next() % 4)) * 0.1)
        case .survey:
            return Point(4.05e7 + Double(Int(rng.next() % 2001)) * 0.001, 3.1e6 + Double(Int(rng.next() % 2001)) * 0.001)
        case .uniform: return Point(Double.random(in: -100...100, using: &rng), Double.random(in: -100...100, using: &rng))
        }
    }

    /// A point that is on, or within a few ulps of, segment `a → b`.
    mutating func nearSegment(_ a: Point, _ b: Point) -> Point {
        let t = Double(Int(rng.next() % 9)) / 8
        var p = Point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
        // Nudge by one ulp (never into subnormals: see `Kernel.orientationSign` on underflow).
        if rng.next() % 2 == 0 && p.x != 0 {
            p.x = rng.next() % 2 == 0 ? p.x.nextUp : p.x.nextDown
        }
        return p
    }

    /// Two segments in an adversarial configuration: random, collinear, sharing an endpoint,
    /// zero-length, or nearly parallel.
    mutating func segmentPair() -> (Point, Point, Point, Point) {
        let r = regime()
        let a0 = coord(r), a1 = coord(r)
        switch rng.next() % 6 {
        case 0: return (a0, a1, coord(r), coord(r))
        case 1: return (a0, a1, nearSegment(a0, a1), nearSegment(a0, a1))
        case 2: return (a0, a1, a1, coord(r))
        case 3: return (a0, a0, coord(r), coord(r))
        case 4:
            // Near-parallel: b is a shifted by a few ulps.
            let s = Double(Int(rng.next() % 5)) - 2
            let ulp = max(a0.y.ulp, a1.y.ulp, 1e-12)
            return (a0, a1, Point(a0.x, a0.y + s * ulp), Point(a1.x, a1.y + s * ulp))
        default: return (a0, a1, nearSegment(a0, a1), coord(r))
        }
    }
}

/// Distances agree within 1e-9 relative, or 1e-9 absolute near 0 (the brief's bar, met by every
/// distance kernel on every oracle case, survey-sized coordinates included).
func distancesAgree(_ a: Double, _ b: Double, scale: Double = 1) -> Bool {
    abs(a - b) <= max(1e-9, 1e-9 * max(abs(a), abs(b)))
}

/// Constructed *points* (closest points, crossing points) agree to within a few ulps of the
/// coordinates' magnitude: at 4.05e7 one ulp is 7.5e-9, so no double computation can place a
/// point within 1e-9 there, and a near-collinear crossing is ill-conditioned on top of that.
func pointsAgree(_ a: Double, _ b: Double, scale: Double = 1) -> Bool {
    abs(a - b) <= max(1e-9, 4 * scale.ulp, 1e-9 * max(abs(a), abs(b)))
}

/// Brute-force exact orientation by big-integer arithmetic: every double is m·2^e, so after
/// scaling all six coordinates to the smallest exponent they are integers and the determinant is
/// an integer computed exactly. Slow and simple: an oracle for `Kernel.orientationSign`
/// independent of expansion arithmetic (and of GEOS's double-double).
enum BigOrientation {
    /// Signed magnitude with little-endian 32-bit limbs.
    struct Big {
        var neg = false
        var mag: [UInt32] = []

        init(_ m: UInt64, shift: Int, neg: Bool) {
            self.neg = neg && m != 0
            mag = Array(repeating: 0, count: shift / 32)
            let s = UInt64(shift % 32)
            let lo = (m << s) & 0xFFFF_FFFF, mid = (m >> (32 - s)) & 0xFFFF_FFFF
            let hi = s == 0 ? 0 : (m >> (64 - s))
            let parts: [UInt64] = s == 0 ? [m & 0xFFFF_FFFF, m >> 32] : [lo, mid, hi]
            mag += parts.map { UInt32($0) }
            trim()
        }

        init() {}

        mutating func trim() { while let l = mag.last, l == 0 { mag.removeLast() } }

        static func cmpMag(_ a: [UInt32], _ b: [UInt32]) -> Int {
            if a.count != b.count { return a.count < b.count ? -1 : 1 }
            for k in stride(from: a.count - 1, through: 0, by: -1) where a[k] != b[k] { return a[k] < b[k] ? -1 : 1 }
            return 0
        }

        static func addMag(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
            var r: [UInt32] = []
            var carry: UInt64 = 0
            for k in 0..<max(a.count, b.count) {
                let s = UInt64(k < a.count ? a[k] : 0) + UInt64(k < b.count ? b[k] : 0) + carry
                r.append(UInt32(s & 0xFFFF_FFFF))
                carry = s >> 32
            }
            if carry > 0 { r.append(UInt32(carry)) }
            return r
        }

        /// a - b for |a| ≥ |b|.
        static func subMag(_ a: [UInt32], _ b: [UInt32]) -> [UInt32] {
            var r: [UInt32] = []
            var borrow: Int64 = 0
            for k in 0..<a.count {
                var d = Int64(a[k]) - Int64(k < b.count ? b[k] : 0) - borrow
                borrow = d < 0 ? 1 : 0
                if d < 0 { d += 1 << 32 }
                r.append(UInt32(d))
            }
            return r
        }

        static func + (a: Big, b: Big) -> Big {
            var r = Big()
            if a.neg == b.neg {
                r.mag = addMag(a.mag, b.mag)
                r.neg = a.neg
            } else if cmpMag(a.mag, b.mag) >= 0 {
                r.mag = subMag(a.mag, b.mag)
                r.neg = a.neg
            } else {
                r.mag = subMag(b.mag, a.mag)
                r.neg = b.neg
            }
            r.trim()
            if r.mag.isEmpty { r.neg = false }
            return r
        }

        static prefix func - (a: Big) -> Big {
            var r = a
            if !r.mag.isEmpty { r.neg.toggle() }
            return r
        }

        static func * (a: Big, b: Big) -> Big {
            var r = [UInt32](repeating: 0, count: a.mag.count + b.mag.count + 1)
            for i in 0..<a.mag.count {
                var carry: UInt64 = 0
                for j in 0..<b.mag.count {
                    let t = UInt64(a.mag[i]) * UInt64(b.mag[j]) + UInt64(r[i + j]) + carry
                    r[i + j] = UInt32(t & 0xFFFF_FFFF)
                    carry = t >> 32
                }
                var k = i + b.mag.count
                while carry > 0 {
                    let t = UInt64(r[k]) + carry
                    r[k] = UInt32(t & 0xFFFF_FFFF)
                    carry = t >> 32
                    k += 1
                }
            }
            var out = Big()
            out.mag = r
            out.trim()
            out.neg = !out.mag.isEmpty && (a.neg != b.neg)
            return out
        }

        var sign: Int { mag.isEmpty ? 0 : (neg ? -1 : 1) }
    }

    static func sign(_ ax: Double, _ ay: Double, _ bx: Double, _ by: Double, _ cx: Double, _ cy: Double) -> Int {
        let vals = [ax, ay, bx, by, cx, cy]
        // Exponent of each value's least significant bit.
        func parts(_ v: Double) -> (UInt64, Int) {
            if v == 0 { return (0, Int.max) }
            let m = v.significandBitPattern | (v.isNormal ? (1 << 52) : 0)
            let e = (v.isNormal ? Int(v.exponentBitPattern) : 1) - 1075
            return (m, e)
        }
        let ps = vals.map(parts)
        let emin = ps.map(\.1).min()!
        let bigs = zip(vals, ps).map { v, p in p.0 == 0 ? Big() : Big(p.0, shift: p.1 - emin, neg: v < 0) }
        let det = (bigs[0] + -bigs[4]) * (bigs[3] + -bigs[5]) + -((bigs[1] + -bigs[5]) * (bigs[2] + -bigs[4]))
        return det.sign
    }
}

extension GEOSOracle {
    func readGeoJSON(_ s: String) -> OpaquePointer? {
        let r = GEOSGeoJSONReader_create_r(ctx)!
        defer { GEOSGeoJSONReader_destroy_r(ctx, r) }
        return GEOSGeoJSONReader_readGeometry_r(ctx, r, s)
    }

    func writeGeoJSON(_ g: OpaquePointer) -> String {
        let w = GEOSGeoJSONWriter_create_r(ctx)!
        defer { GEOSGeoJSONWriter_destroy_r(ctx, w) }
        let c = GEOSGeoJSONWriter_writeGeometry_r(ctx, w, g, -1)!
        defer { GEOSFree_r(ctx, c) }
        return String(cString: c)
    }
}

extension CaseGen {
    /// A random valid-by-construction geometry of any type (collections nest once), all 2D or
    /// all 3D, with survey-sized, grid and awkward (long fraction, tiny, negative) coordinates.
    mutating func geometry(z: Bool, depth: Int = 0) -> Geometry {
        func num() -> Double {
            switch rng.next() % 5 {
            case 0: return Double(Int(rng.next() % 2001)) - 1000
            case 1: return 4.05e7 + Double(Int(rng.next() % 100_000)) * 0.001
            case 2: return Double.random(in: -1e-3...1e-3, using: &rng)
            case 3: return Double.random(in: -180...180, using: &rng)
            default: return Double(bitPattern: 0x4000_0000_0000_0000 | (rng.next() & 0x000F_FFFF_FFFF_FFFF))
            }
        }
        func pt() -> Point { Point(x: num(), y: num(), z: z ? num() : nil) }
        func pts(_ n: Int) -> [Point] { (0..<n).map { _ in pt() } }
        func ring() -> LinearRing {
            var ps = pts(3 + Int(rng.next() % 4))
            ps.append(ps[0])
            return try! LinearRing(ps)
        }
        func line() -> LineString { try! LineString(pts(2 + Int(rng.next() % 4))) }
        func poly() -> Polygon { Polygon(exterior: ring(), holes: (0..<Int(rng.next() % 3)).map { _ in ring() }) }
        switch rng.next() % (depth == 0 ? 7 : 6) {
        case 0: return .point(pt())
        case 1: return .lineString(line())
        case 2: return .polygon(poly())
        case 3: return .multiPoint(pts(1 + Int(rng.next() % 4)))
        case 4: return .multiLineString((0..<(1 + Int(rng.next() % 3))).map { _ in line() })
        case 5: return .multiPolygon((0..<(1 + Int(rng.next() % 3))).map { _ in poly() })
        default: return .collection((0..<(1 + Int(rng.next() % 3))).map { _ in geometry(z: z, depth: 1) })
        }
    }
}
