import Foundation
import SubterraGEOS
import SubterraGeometry
import Testing

// Oracles here are closed-form areas and brute-force distances computed in the test, never GEOS
// checking itself.

/// Deterministic numbers (the module's SplitMix64) so failures reproduce from their seed.
struct GEOSBridgeRNG {
    var base: SplitMix
    init(seed: UInt64) { base = SplitMix(seed: seed) }
    mutating func next() -> UInt64 { base.next() }
    mutating func double(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(next() % UInt64(hi - lo + 1)) }
}

enum GEOSBridgeFixtures {
    static func square(_ x: Double, _ y: Double, _ w: Double, _ h: Double) -> Polygon {
        Polygon(exterior: try! LinearRing([Point(x, y), Point(x + w, y), Point(x + w, y + h), Point(x, y + h), Point(x, y)]))
    }

    /// Shoelace area of every polygon in a geometry (holes subtracted).
    static func area(_ g: Geometry) -> Double {
        func ring(_ r: LinearRing) -> Double {
            // Relative to the first vertex: survey coordinates near 3e6 would cost 1e-4 m² otherwise.
            var s = 0.0
            let o = r.points[0]
            for i in 0..<(r.points.count - 1) {
                let a = r.points[i], b = r.points[i + 1]
                s += (a.x - o.x) * (b.y - o.y) - (b.x - o.x) * (a.y - o.y)
            }
            return abs(s) / 2
        }
        func poly(_ p: Polygon) -> Double { ring(p.exterior) - p.holes.reduce(0) { $0 + ring($1) } }
        switch g {
        case .polygon(let p): return poly(p)
        case .multiPolygon(let ps): return ps.reduce(0) { $0 + poly($1) }
        case .collection(let gs): return gs.reduce(0) { $0 + area($1) }
        default: return 0
        }
    }

    static func pointSegment(_ p: Point, _ a: Point, _ b: Point) -> Double {
        let dx = b.x - a.x, dy = b.y - a.y
        let len2 = dx * dx + dy * dy
        let t = len2 == 0 ? 0 : max(0, min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2))
        return hypot(p.x - (a.x + t * dx), p.y - (a.y + t * dy))
    }

    /// Random geometry of every kind, optionally with heights on some points.
    /// With `mixedZ`, only some points carry heights; otherwise all or none of them do.
    static func random(_ rng: inout GEOSBridgeRNG, depth: Int = 0, mixedZ: Bool = false, withZ: Bool? = nil) -> Geometry {
        let withZ = withZ ?? (rng.int(0, 1) == 0)
        func pt(_ rng: inout GEOSBridgeRNG) -> Point {
            let z: Double? = (mixedZ ? rng.int(0, 2) == 0 : withZ) ? rng.double(-5, 5) : nil
            return Point(x: rng.double(500_000, 501_000), y: rng.double(3_140_000, 3_141_000), z: z)
        }
        func line(_ rng: inout GEOSBridgeRNG) -> LineString {
            try! LineString((0..<rng.int(2, 6)).map { _ in pt(&rng) })
        }
        func poly(_ rng: inout GEOSBridgeRNG) -> Polygon {
            let x = rng.double(500_000, 501_000), y = rng.double(3_140_000, 3_141_000)
            let outer = square(x, y, 50, 30)
            let hole = try! LinearRing([Point(x + 10, y + 10), Point(x + 10, y + 20), Point(x + 20, y + 20), Point(x + 10, y + 10)])
            return rng.int(0, 1) == 0 ? outer : Polygon(exterior: outer.exterior, holes: [hole])
        }
        switch rng.int(0, depth > 0 ? 5 : 6) {
        case 0: return .point(pt(&rng))
        case 1: return .lineString(line(&rng))
        case 2: return .polygon(poly(&rng))
        case 3: return .multiPoint((0..<rng.int(0, 4)).map { _ in pt(&rng) })
        case 4: return .multiLineString((0..<rng.int(0, 3)).map { _ in line(&rng) })
        case 5: return .multiPolygon((0..<rng.int(0, 3)).map { _ in poly(&rng) })
        default:
            return .collection((0..<rng.int(0, 3)).map { _ in random(&rng, depth: depth + 1, mixedZ: mixedZ, withZ: withZ) })
        }
    }
}

@Suite struct GEOSBridgeTests {
    @Test func conversionRoundTripsThroughWKTAndWKB() throws {
        var rng = GEOSBridgeRNG(seed: 42)
        try GEOS.withContext { ctx in
            for _ in 0..<300 {
                let g = GEOSBridgeFixtures.random(&rng)
                let wkt = try ctx.wkt(g)
                #expect(try ctx.geometry(wkt: wkt) == g, "WKT \(wkt)")
                let wkb = try ctx.wkb(g)
                #expect(try ctx.geometry(wkb: wkb) == g)
            }
        }
    }

    @Test func zAndEmptyGeometriesConvert() throws {
        let ctx = try GEOSContext()
        let p = Geometry.point(Point(1, 2, 3))
        #expect(try ctx.wkt(p) == "POINT Z (1 2 3)")
        #expect(try ctx.wkt(.point(Point(1.5, 2))) == "POINT (1.5 2)")
        // A missing height after the first point travels as NaN in WKB and comes back as nil.
        let mixed = Geometry.lineString(try LineString([Point(1, 2, 3), Point(4, 5), Point(6, 7, 8)]))
        #expect(try ctx.geometry(wkb: ctx.wkb(mixed)) == mixed)
        // Subterra has no empty point/line/polygon: GEOS's come back as empty multis.
        #expect(try ctx.geometry(wkt: "POINT EMPTY") == .multiPoint([]))
        #expect(try ctx.geometry(wkt: "LINESTRING EMPTY") == .multiLineString([]))
        #expect(try ctx.geometry(wkt: "POLYGON EMPTY") == .multiPolygon([]))
        #expect(try ctx.geometry(wkt: "GEOMETRYCOLLECTION EMPTY") == .collection([]))
        for empty: Geometry in [.multiPoint([]), .multiLineString([]), .multiPolygon([]), .collection([])] {
            #expect(try ctx.geometry(wkb: ctx.wkb(empty)) == empty)
        }
        #expect(try ctx.wkt(.multiPolygon([])) == "MULTIPOLYGON EMPTY")
        // A ring read on its own becomes a line string.
        #expect(try ctx.geometry(wkt: "LINEARRING (0 0, 1 0, 1 1, 0 0)")
            == .lineString(try LineString([Point(0, 0), Point(1, 0), Point(1, 1), Point(0, 0)])))
    }

    @Test func pointBufferIsTheInscribedRegularPolygon() throws {
        let ctx = try GEOSContext()
        let c = Point(500_100, 3_140_200)
        for q in [1, 2, 8, 16] {
            let r = 2.5
            let b = try ctx.buffer(.point(c), distance: r, parameters: BufferParameters(quadrantSegments: q))
            guard case .polygon(let poly) = b else { Issue.record("not a polygon: \(b)"); continue }
            #expect(poly.exterior.points.count == 4 * q + 1)
            for v in poly.exterior.points { #expect(abs(hypot(v.x - c.x, v.y - c.y) - r) < 1e-9) }
            let n = Double(4 * q)
            #expect(abs(GEOSBridgeFixtures.area(b) - 0.5 * n * r * r * sin(2 * .pi / n)) < 1e-6)
        }
    }

    @Test func lineBufferCapsJoinsAndSides() throws {
        let ctx = try GEOSContext()
        let line = Geometry.lineString(try LineString([Point(0, 0), Point(10, 0)]))
        let r = 1.0
        func area(_ p: BufferParameters, _ d: Double = 1.0) throws -> Double {
            GEOSBridgeFixtures.area(try ctx.buffer(line, distance: d, parameters: p))
        }
        #expect(abs(try area(BufferParameters(capStyle: .flat)) - 2 * r * 10) < 1e-9)
        #expect(abs(try area(BufferParameters(capStyle: .square)) - 2 * r * 12) < 1e-9)
        let q = 8.0, n = 4 * q
        let roundArea = 2 * r * 10 + 0.5 * n * r * r * sin(2 * .pi / n)
        #expect(abs(try area(BufferParameters(capStyle: .round)) - roundArea) < 1e-9)
        // Single-sided: a rectangle on the left for positive, on the right for negative distances.
        let left = try ctx.buffer(line, distance: 1, parameters: BufferParameters(singleSided: true))
        #expect(abs(GEOSBridgeFixtures.area(left) - 10) < 1e-9)
        #expect(left.envelope == Envelope(minX: 0, minY: 0, maxX: 10, maxY: 1))
        let right = try ctx.buffer(line, distance: -1, parameters: BufferParameters(singleSided: true))
        #expect(right.envelope == Envelope(minX: 0, minY: -1, maxX: 10, maxY: 0))

        // An L: mitre fills the outer corner square, bevel cuts it in half.
        let l = Geometry.lineString(try LineString([Point(0, 0), Point(10, 0), Point(10, 10)]))
        let flatSides = 2.0 * 10 + 2.0 * 10  // two arms, both sides, overlapping at the corner
        let mitre = try ctx.buffer(l, distance: 1, parameters: BufferParameters(capStyle: .flat, joinStyle: .mitre))
        let bevel = try ctx.buffer(l, distance: 1, parameters: BufferParameters(capStyle: .flat, joinStyle: .bevel))
        // Inner corner overlap 1x1 counted twice; outer corner square 1x1 (mitre) or half (bevel).
        #expect(abs(GEOSBridgeFixtures.area(mitre) - (flatSides - 1 + 1)) < 1e-9)
        #expect(abs(GEOSBridgeFixtures.area(bevel) - (flatSides - 1 + 0.5)) < 1e-9)
        #expect(mitre.envelope == Envelope(minX: 0, minY: -1, maxX: 11, maxY: 10))
    }

    @Test func polygonNegativeBufferShrinks() throws {
        let ctx = try GEOSContext()
        let sq = Geometry.polygon(GEOSBridgeFixtures.square(0, 0, 10, 10))
        let inner = try ctx.buffer(sq, distance: -1, parameters: BufferParameters(joinStyle: .mitre))
        #expect(abs(GEOSBridgeFixtures.area(inner) - 64) < 1e-9)
        // Shrunk away entirely: an empty polygon, which Subterra writes as an empty multi polygon.
        #expect(try ctx.buffer(sq, distance: -6) == .multiPolygon([]))
    }

    @Test func overlayOfRandomRectanglesMatchesClosedForm() throws {
        var rng = GEOSBridgeRNG(seed: 7)
        let ctx = try GEOSContext()
        for _ in 0..<200 {
            let (ax, ay, aw, ah) = (rng.double(0, 10), rng.double(0, 10), rng.double(0.5, 8), rng.double(0.5, 8))
            var (bx, by, bw, bh) = (rng.double(0, 10), rng.double(0, 10), rng.double(0.5, 8), rng.double(0.5, 8))
            if rng.int(0, 5) == 0 { (bx, by, bw, bh) = (ax + aw, ay, 3, ah) }  // degenerate: shared edge
            let a = Geometry.polygon(GEOSBridgeFixtures.square(ax, ay, aw, ah))
            let b = Geometry.polygon(GEOSBridgeFixtures.square(bx, by, bw, bh))
            let ix = max(0, min(ax + aw, bx + bw) - max(ax, bx)), iy = max(0, min(ay + ah, by + bh) - max(ay, by))
            let inter = ix * iy
            let tol = 1e-9 * 100
            #expect(abs(GEOSBridgeFixtures.area(try ctx.intersection(a, b)) - inter) < tol)
            #expect(abs(GEOSBridgeFixtures.area(try ctx.union(a, b)) - (aw * ah + bw * bh - inter)) < tol)
            #expect(abs(GEOSBridgeFixtures.area(try ctx.difference(a, b)) - (aw * ah - inter)) < tol)
            #expect(abs(GEOSBridgeFixtures.area(try ctx.symmetricDifference(a, b)) - (aw * ah + bw * bh - 2 * inter)) < tol)
            #expect(abs(GEOSBridgeFixtures.area(try ctx.unaryUnion(.multiPolygon([
                GEOSBridgeFixtures.square(ax, ay, aw, ah), GEOSBridgeFixtures.square(bx, by, bw, bh),
            ]))) - (aw * ah + bw * bh - inter)) < tol)
            #expect(try ctx.intersects(a, b) == (ix >= 0 && iy >= 0 && max(ax, bx) <= min(ax + aw, bx + bw)
                && max(ay, by) <= min(ay + ah, by + bh)))
        }
        #expect(try ctx.union([]) == .collection([]))
    }

    @Test func validityReasonLocationAndRepair() throws {
        let ctx = try GEOSContext()
        let bowTie = Geometry.polygon(Polygon(exterior: try LinearRing([
            Point(0, 0), Point(10, 10), Point(10, 0), Point(0, 10), Point(0, 0),
        ])))
        let v = try ctx.validity(bowTie)
        #expect(!v.isValid)
        #expect(v.reason?.contains("Self-intersection") == true)
        #expect(v.location == Point(5, 5))
        let fixed = try ctx.makeValid(bowTie)
        #expect(try ctx.isValid(fixed))
        guard case .multiPolygon(let parts) = fixed else { Issue.record("expected two triangles, got \(fixed)"); return }
        #expect(parts.count == 2)
        #expect(abs(GEOSBridgeFixtures.area(fixed) - 50) < 1e-9)

        let good = try ctx.validity(.polygon(GEOSBridgeFixtures.square(0, 0, 1, 1)))
        #expect(good == GEOSValidity(isValid: true))
        // A hole outside its shell.
        let badHole = Geometry.polygon(Polygon(
            exterior: GEOSBridgeFixtures.square(0, 0, 1, 1).exterior,
            holes: [GEOSBridgeFixtures.square(5, 5, 1, 1).exterior]))
        #expect(try ctx.validity(badHole).reason?.contains("Hole lies outside shell") == true)
    }

    @Test func simplifyRemovesNoiseWithinTolerance() throws {
        let ctx = try GEOSContext()
        var rng = GEOSBridgeRNG(seed: 3)
        let pts = (0...100).map { i in Point(Double(i), i == 0 || i == 100 ? 0 : rng.double(-0.01, 0.01)) }
        let noisy = Geometry.lineString(try LineString(pts))
        #expect(try ctx.simplify(noisy, tolerance: 0.05) == .lineString(try LineString([Point(0, 0), Point(100, 0)])))
        #expect(try ctx.topologyPreservingSimplify(noisy, tolerance: 0.05)
            == .lineString(try LineString([Point(0, 0), Point(100, 0)])))
        #expect(try ctx.simplify(noisy, tolerance: 0) == noisy)
        // A small square collapses under plain simplify but survives the topology-preserving one.
        let small = Geometry.polygon(GEOSBridgeFixtures.square(0, 0, 1, 1))
        #expect(try ctx.simplify(small, tolerance: 2) == .multiPolygon([]))
        #expect(try ctx.topologyPreservingSimplify(small, tolerance: 2) == small)
    }

    @Test func distanceAndPredicatesMatchBruteForce() throws {
        let ctx = try GEOSContext()
        var rng = GEOSBridgeRNG(seed: 11)
        for _ in 0..<300 {
            let pts = (0..<rng.int(2, 6)).map { _ in Point(rng.double(0, 100), rng.double(0, 100)) }
            let q = Point(rng.double(-20, 120), rng.double(-20, 120))
            var best = Double.infinity
            for i in 0..<(pts.count - 1) { best = min(best, GEOSBridgeFixtures.pointSegment(q, pts[i], pts[i + 1])) }
            let d = try ctx.distance(.lineString(try LineString(pts)), .point(q))
            #expect(abs(d - best) <= 1e-9 * max(1, best))
        }
        let sq = Geometry.polygon(GEOSBridgeFixtures.square(0, 0, 10, 10))
        #expect(try ctx.contains(sq, .point(Point(5, 5))))
        #expect(try !ctx.contains(sq, .point(Point(10, 5))))  // on the boundary: not contained
        #expect(try ctx.intersects(sq, .point(Point(10, 5))))
        #expect(try ctx.distance(sq, .point(Point(5, 5))) == 0)
    }

    @Test func badInputGivesClearErrors() throws {
        let ctx = try GEOSContext()
        #expect {
            try ctx.buffer(.lineString(try LineString([Point(0, 0), Point(1, 1)])), distance: .nan)
        } throws: { ($0 as? GEOSError)?.message.contains("finite") == true }
        #expect {
            try ctx.buffer(.point(Point(0, 0)), distance: 1, parameters: BufferParameters(quadrantSegments: 0))
        } throws: { ($0 as? GEOSError)?.message.contains("quadrant segments") == true }
        #expect {
            try ctx.buffer(.multiPoint([Point(0, 0), Point(.nan, 1)]), distance: 1)
        } throws: { ($0 as? GEOSError)?.message.contains("point 1 point 0 has a non-finite") == true }
        #expect {
            try ctx.geometry(wkt: "POLYGON ((0 0, 1 0, 1 1")
        } throws: { e in
            guard let e = e as? GEOSError else { return false }
            return e.operation == "read WKT" && e.message.contains("ParseException")
        }
        #expect {
            try ctx.geometry(wkt: "LINESTRING (0 0)")
        } throws: { ($0 as? GEOSError)?.message.contains("IllegalArgumentException") == true }
        #expect {
            try ctx.geometry(wkb: [1, 2, 0, 0, 0, 9])
        } throws: { ($0 as? GEOSError)?.operation == "read WKB" }
        #expect(throws: GEOSError.self) { try ctx.simplify(.point(Point(0, 0)), tolerance: -1) }
        // GEOS 3.11's WKT writer would overrun a stack buffer (abort) on these: refused first.
        #expect {
            try ctx.wkt(.multiPoint([Point(0, 0), Point(1.5, 1e300)]))
        } throws: { ($0 as? GEOSError)?.message.contains("point 1 has a coordinate of magnitude") == true }
        #expect(try ctx.geometry(wkb: ctx.wkb(.point(Point(1.5, 1e300)))) == .point(Point(1.5, 1e300)))
        // The context still works after errors, and stale messages do not leak into results.
        #expect(try ctx.wkt(.point(Point(1, 1))) == "POINT (1 1)")
    }

    /// Truncated and bit-flipped WKB/WKT must give errors or geometries, never crash.
    @Test func mangledWKBAndWKTNeverCrash() throws {
        let ctx = try GEOSContext()
        var rng = GEOSBridgeRNG(seed: 99)
        var errors = 0
        for _ in 0..<400 {
            let g = GEOSBridgeFixtures.random(&rng)
            var wkb = try ctx.wkb(g)
            if rng.int(0, 1) == 0 {
                wkb.removeLast(rng.int(1, wkb.count))
            } else {
                for _ in 0..<rng.int(1, 4) { wkb[rng.int(0, wkb.count - 1)] ^= UInt8(truncatingIfNeeded: rng.next() | 1) }
            }
            do { _ = try ctx.geometry(wkb: wkb) } catch { errors += 1 }
            var wkt = Array(try ctx.wkt(g).utf8)
            wkt.removeLast(rng.int(1, wkt.count))
            do { _ = try ctx.geometry(wkt: String(decoding: wkt, as: UTF8.self)) } catch { errors += 1 }
        }
        #expect(errors > 400)
    }

    @Test func pooledContextKeptByCallerIsNotSharedAgain() throws {
        let kept = GEOS.withContext { $0 }
        let next = GEOS.withContext { $0 }
        #expect(kept !== next)
        #expect(try kept.wkt(.point(Point(2, 3))) == "POINT (2 3)")
        #expect(GEOSContext.libraryVersion.hasPrefix("3."))
    }
}
