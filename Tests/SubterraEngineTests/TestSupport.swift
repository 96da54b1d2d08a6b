import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Deterministic generator for test data (SplitMix64).
struct TestRandom: RandomNumberGenerator {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ a: Double, _ b: Double) -> Double { Double.random(in: a...b, using: &self) }
    mutating func chance(_ p: Double) -> Bool { uniform(0, 1) < p }
}

/// Centre of the test districts: EPSG:4549 near Wenling (x = easting, y = northing).
let origin = Point(637_240, 3_140_240)

/// A random district of `count` pipes in a `size`-metre square around `origin`: every layer,
/// pressure classes, voltages, DN and W×H sections, duct banks and trenches, owners, positional
/// accuracy, 10% without depths, 20% with 3–4 vertices, and a few degenerate records (zero-length
/// pipe, exact duplicates of a geometry, axis-parallel pipes on integer coordinates).
func randomDistrict(count: Int, seed: UInt64, size: Double = 400) -> UtilityNetwork {
    var rng = TestRandom(seed)
    let layers: [LayerCode] = [.water, .drainage, .gas, .heat, .power, .telecom, .industrial, .fibre]
    let owners = ["Wenling Water", "Wenling Gas", "State Grid Wenling", "China Telecom", "Heat Co", nil]
    var segs: [PipeSegment] = []
    for i in 0..<count {
        let layer = layers[Int(rng.next() % UInt64(layers.count))]
        var pts: [Point] = []
        var p = Point(origin.x + rng.uniform(-size / 2, size / 2), origin.y + rng.uniform(-size / 2, size / 2))
        if i % 17 == 0 { p = Point(p.x.rounded(), p.y.rounded()) }
        pts.append(p)
        let n = rng.chance(0.2) ? Int(rng.next() % 2) + 2 : 1
        for _ in 0..<n {
            let len = rng.uniform(5, 60)
            let a = i % 17 == 0 ? Double(rng.next() % 4) * .pi / 2 : rng.uniform(0, 2 * .pi)
            p = Point(p.x + len * cos(a), p.y + len * sin(a))
            if i % 17 == 0 { p = Point(p.x.rounded(), p.y.rounded()) }
            pts.append(p)
        }
        if i % 97 == 5 { pts = [pts[0], pts[0]] }  // zero-length
        if i % 89 == 7, let prev = segs.last { pts = prev.geometry.points }  // duplicate geometry
        let d0 = rng.uniform(0.5, 3), d1 = rng.uniform(0.5, 3)
        let known = !rng.chance(0.1)
        var s = PipeSegment(
            id: Int64(i + 1), layer: layer, startPoint: PointNumber("P\(i)a"), endPoint: PointNumber("P\(i)b"),
            geometry: try! LineString(pts), startDepth: known ? d0 : nil, endDepth: known ? d1 : nil,
            owner: owners[Int(rng.next() % UInt64(owners.count))])
        if known, rng.chance(0.5) {
            s.startElevation = 4.0 - d0
            s.endElevation = 4.0 - d1
        }
        s.section = rng.chance(0.8)
            ? .circular(diameterMM: [50, 100, 150, 200, 300, 400, 600, 1000][Int(rng.next() % 8)])
            : .rectangular(widthMM: rng.uniform(300, 1500).rounded(), heightMM: rng.uniform(300, 1000).rounded())
        s.burial = [BurialMethod.directBuried, .ductBank, .trench, .casing][Int(rng.next() % 4)]
        if layer == .gas, rng.chance(0.9) { s.gasPressureMPa = [0.005, 0.1, 0.3, 0.6, 1.2, 2.0][Int(rng.next() % 6)] }
        if layer == .power { s.voltageKV = [0.4, 10, 35, 110][Int(rng.next() % 4)] }
        if rng.chance(0.6) { s.accuracy = PositionalAccuracy(horizontalM: rng.uniform(0, 0.5), verticalM: rng.chance(0.5) ? 0.1 : nil) }
        segs.append(s)
    }
    return try! UtilityNetwork(crs: "EPSG:4549", segments: segs)
}

/// `n` random query geometries around `origin`, within `spread` metres of it: points, two-point
/// lines and polygons in turn.
func randomQueries(_ n: Int, seed: UInt64, spread: Double) -> [Geometry] {
    var rng = TestRandom(seed)
    return (0..<n).map { i in
        let c = Point(origin.x + rng.uniform(-spread, spread), origin.y + rng.uniform(-spread, spread))
        switch i % 3 {
        case 0: return .point(c)
        case 1: return .lineString(try! LineString([c, Point(c.x + rng.uniform(-40, 40), c.y + rng.uniform(-40, 40))]))
        default: return .polygon(randomPolygon(&rng, around: c, radius: rng.uniform(3, 30)))
        }
    }
}

/// A random dig site: a polygon of `radius` metres within `spread` metres of `origin`.
func randomSite(_ rng: inout TestRandom, spread: Double, radius: ClosedRange<Double>) -> Geometry {
    let c = Point(origin.x + rng.uniform(-spread, spread), origin.y + rng.uniform(-spread, spread))
    return .polygon(randomPolygon(&rng, around: c, radius: rng.uniform(radius.lowerBound, radius.upperBound)))
}

/// A random simple polygon (star-shaped) of about `radius` metres around `c`.
func randomPolygon(_ rng: inout TestRandom, around c: Point, radius: Double) -> Polygon {
    let n = Int(rng.next() % 6) + 3
    var pts: [Point] = []
    for k in 0..<n {
        let a = Double(k) / Double(n) * 2 * .pi
        let r = radius * rng.uniform(0.4, 1)
        pts.append(Point(c.x + r * cos(a), c.y + r * sin(a)))
    }
    pts.append(pts[0])
    return Polygon(exterior: try! LinearRing(pts))
}

func rect(_ minX: Double, _ minY: Double, _ maxX: Double, _ maxY: Double) -> Polygon {
    Polygon(exterior: try! LinearRing([
        Point(minX, minY), Point(maxX, minY), Point(maxX, maxY), Point(minX, maxY), Point(minX, minY),
    ]))
}

/// GEOS distance between a pipe and a query geometry: the independent oracle.
func geosDistance(_ s: PipeSegment, _ g: Geometry) -> Double {
    try! GEOS.withContext { ctx throws(GEOSError) in try ctx.distance(.lineString(s.geometry), g) }
}

func geosIntersects(_ s: PipeSegment, _ g: Geometry) -> Bool {
    try! GEOS.withContext { ctx throws(GEOSError) in try ctx.intersects(.lineString(s.geometry), g) }
}

/// Checks a hit's closest point lies on the pipe, is `distance` from the query, and that its
/// depth is the model's depth at the reported parameter.
func expectConsistent(_ h: PipeHit, _ query: Geometry, _ map: UtilityNetwork, sourceLocation: SourceLocation = #_sourceLocation) {
    let p = Geometry.point(Point(h.closestPoint.x, h.closestPoint.y))
    let onPipe = try! GEOS.withContext { ctx throws(GEOSError) in try ctx.distance(.lineString(h.pipe.geometry), p) }
    #expect(onPipe < 1e-6, "closest point \(onPipe) m off pipe \(h.pipe.id)", sourceLocation: sourceLocation)
    let toQuery = try! GEOS.withContext { ctx throws(GEOSError) in try ctx.distance(p, query) }
    #expect(abs(toQuery - h.distance) < 1e-6, "closest point is \(toQuery) m from the query, reported \(h.distance)",
            sourceLocation: sourceLocation)
    let want = map.depthOfTop(segmentID: h.pipe.id, atParameter: h.parameter)
    #expect((want == nil) == (h.depth == nil), sourceLocation: sourceLocation)
    if let want, let got = h.depth { #expect(abs(want - got) < 1e-9, sourceLocation: sourceLocation) }
    let u = h.pipe.parameter(nearestTo: Point(h.closestPoint.x, h.closestPoint.y))
    #expect(abs(u - h.parameter) < 1e-6 || h.pipe.length == 0, "parameter \(h.parameter) vs model \(u)",
            sourceLocation: sourceLocation)
}

/// Clear distance from `area` to the outer wall of `s` by GEOS: the distance to the centreline less
/// half the surveyed outer width (0 without a section), clamped at 0. What GB 50289 measures.
func geosClearDistance(_ s: PipeSegment, _ area: Geometry) -> Double {
    max(0, geosDistance(s, area) - (s.outerWidthM ?? 0) / 2)
}

/// The dig check by brute force: every pipe of `map`, GEOS clear distance to the area (to the
/// pipe's outer wall), the rule's clearance (or the map's largest one for unruled pipes) widened
/// by accuracy (the profile's `unknownHorizontalAccuracy` when the pipe states none). Pipe id → (clear distance, required clearance) for the pipes that should be reported.
func bruteForceDig(
    _ map: UtilityNetwork, _ rules: ClearanceRules, _ area: Geometry, planned: PipeProfile? = nil, workType: String? = nil
) -> [Int64: (Double, Double)] {
    let profiles = map.segments.map(PipeProfile.init)
    func rule(_ q: PipeProfile) -> ClearanceRule? {
        planned.map { rules.horizontal($0, q) } ?? rules.excavation(q, workType: workType)
    }
    let fallback = profiles.map { rule($0)?.distance ?? 0 }.max() ?? 0
    var out: [Int64: (Double, Double)] = [:]
    for (s, p) in zip(map.segments, profiles) {
        let d = geosClearDistance(s, area)
        let rule = rule(p)?.distance ?? fallback
        let required = rule + (s.accuracy?.horizontalM ?? rules.unknownHorizontalAccuracy)
        if d == 0 || d < required - UtilityEngine.clearanceTolerance { out[s.id] = (d, required) }
    }
    return out
}

/// Pipes where a dig report and brute force disagree (in the set beyond pipes within rounding of
/// the limit, in the required clearance, or in the reported clear distance or outer width), each as
/// `"pipe 12: reported, oracle clear distance 1.3 m, required 1.5 m"`; empty when they agree.
/// `area` must be in the map CRS: for a site given in another CRS, the test converts it with PROJ.
func digBruteForceMismatches(
    _ report: DigReport, _ map: UtilityNetwork, _ rules: ClearanceRules, _ area: Geometry, workType: String? = nil
) -> [String] {
    let want = bruteForceDig(map, rules, area, workType: workType)
    let got = Dictionary(uniqueKeysWithValues: report.conflicts.map { ($0.pipeID, $0.requiredClearance) })
    var out: [String] = []
    for id in Set(got.keys).symmetricDifference(want.keys).sorted() {
        guard let s = map.segment(id: id) else { out.append("pipe \(id): reported but not in the map"); continue }
        let req = got[id] ?? want[id]!.1
        let d = geosClearDistance(s, area)
        if d == 0 || abs(d - req) >= 1e-9 {
            out.append("pipe \(id): \(got[id] == nil ? "missed" : "reported"), oracle clear distance \(d) m, required \(req) m")
        }
    }
    for c in report.conflicts {
        guard let s = map.segment(id: c.pipeID), let w = want[c.pipeID] else { continue }
        if c.outerWidth != (s.outerWidthM ?? 0) { out.append("pipe \(c.pipeID): outer width \(c.outerWidth) m, record \(s.outerWidthM ?? 0) m") }
        if abs(c.clearDistance - w.0) >= 1e-7 { out.append("pipe \(c.pipeID): clear distance \(c.clearDistance) m, oracle \(w.0) m") }
    }
    for (id, required) in got.sorted(by: { $0.key < $1.key }) {
        if let w = want[id], abs(w.1 - required) > 1e-12 {
            out.append("pipe \(id): required clearance \(required) m, oracle \(w.1) m")
        }
    }
    return out
}

/// Whether a dig report's pipe set equals brute force (``digBruteForceMismatches`` is empty).
func digMatchesBruteForce(
    _ report: DigReport, _ map: UtilityNetwork, _ rules: ClearanceRules, _ area: Geometry, workType: String? = nil
) -> Bool {
    digBruteForceMismatches(report, map, rules, area, workType: workType).isEmpty
}
