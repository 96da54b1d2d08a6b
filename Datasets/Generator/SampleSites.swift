import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// An excavation area with what it is claimed to hit, derived from a generated district.
public struct DigSite: Hashable, Sendable {
    public var name: String
    /// Excavation depth below ground, metres.
    public var depthM: Double
    /// `"clear"`, `"gas-main"`, `"power-cable"` or `"crossing"`.
    public var expect: String
    /// Closed ring, EPSG:4549.
    public var ring: [Point]
    /// Ids of every segment whose plan geometry touches the area (brute force at generation).
    public var hits: [Int64]
    /// Whether the site is also written in WGS84 (CRS84 lon/lat).
    public var inWGS84: Bool
}

/// A planned new line, for clearance checks against the district.
public struct PlannedRoute: Hashable, Sendable {
    public var name: String
    public var layer: LayerCode
    public var subtype: SubtypeCode
    public var depthM: Double
    public var diameterMM: Double
    public var pressureMPa: Double?
    public var voltageKV: Double?
    public var points: [Point]
}

/// The dig sites and planned routes committed with the sample district.
public enum SampleSites {
    /// Dig sites over `district`: one clear block interior, one over the highest-pressure gas main,
    /// one over a 10 kV+ power duct bank, one on a crossing of two layers, and the clear one again
    /// in WGS84. Each claim is computed by brute force over all segments. O(n²) for the crossing
    /// search (a few seconds at 3000 segments in a debug build).
    public static func digSites(for district: District) -> [DigSite] {
        let segs = district.network.segments.filter { $0.geometry.points.count == 2 }
        func square(_ c: Point, _ half: Double) -> [Point] {
            [
                Point(_mm(c.x - half), _mm(c.y - half)), Point(_mm(c.x + half), _mm(c.y - half)),
                Point(_mm(c.x + half), _mm(c.y + half)), Point(_mm(c.x - half), _mm(c.y + half)),
                Point(_mm(c.x - half), _mm(c.y - half)),
            ]
        }
        func hits(_ ring: [Point]) -> [Int64] {
            segs.filter { _segmentTouchesRing($0.start, $0.end, ring) }.map(\.id)
        }
        func deepest(_ ids: [Int64]) -> Double {
            ids.compactMap { id in district.network.segment(id: id).flatMap { s in
                [s.startDepth, s.endDepth].compactMap { $0 }.max()
            } }.max() ?? 1
        }
        var sites: [DigSite] = []
        // Clear: the block centre farthest from every line (blocks are ~140 m, lines hug streets).
        let layout = DistrictLayout(segments: district.network.segments.count, seed: district.seed)
        var best: (Point, Double)? = nil
        for j in 0..<max(1, layout.estimatedRows - 1) {
            for i in 0..<(layout.columns - 1) {
                let a = layout.node(i, j)
                let b = layout.node(i + 1, j + 1)
                let c = Point(_mm((a.x + b.x) / 2), _mm((a.y + b.y) / 2))
                let d = segs.map { _distance(c, $0.start, $0.end) }.min() ?? .infinity
                if d.isFinite, best == nil || d > best!.1 { best = (c, d) }
            }
        }
        if let (c, _) = best {
            let ring = square(c, 4)
            sites.append(DigSite(name: "Clear block interior (tree pit)", depthM: 1.5, expect: "clear", ring: ring, hits: hits(ring), inWGS84: false))
        }
        // Gas main: highest pressure, then largest diameter.
        if let g = segs.filter({ $0.layer == .gas }).max(by: {
            ($0.gasPressureMPa ?? 0, $0.outerWidthM ?? 0, -$0.id) < ($1.gasPressureMPa ?? 0, $1.outerWidthM ?? 0, -$1.id)
        }) {
            let ring = square(g.point(atParameter: 0.5), 1.5)
            let h = hits(ring)
            sites.append(DigSite(name: "Valve pit over the gas main on \(g.road ?? "?")", depthM: _cm(deepest(h) + 0.5), expect: "gas-main", ring: ring, hits: h, inWGS84: false))
        }
        // Power: a duct bank carrying 10 kV or more.
        if let p = segs.first(where: { $0.layer == .power && ($0.voltageKV ?? 0) >= 10 && $0.burial == .ductBank }) {
            let ring = square(p.point(atParameter: 0.5), 1.2)
            let h = hits(ring)
            sites.append(DigSite(name: "Sign foundation over the \(_num(p.voltageKV ?? 0)) kV cable on \(p.road ?? "?")", depthM: _cm(deepest(h) + 0.3), expect: "power-cable", ring: ring, hits: h, inWGS84: false))
        }
        // Crossing: the first proper crossing of water and gas mains (else any two layers).
        var crossing: (Point, PipeSegment, PipeSegment)? = nil
        let mains = segs.filter { $0.accuracy?.qualityLevel != .c }
        search: for preferGasWater in [true, false] {
            for (n, s) in mains.enumerated() {
                for t in mains[(n + 1)...] where t.layer != s.layer {
                    if preferGasWater, !(Set([s.layer, t.layer]) == [.gas, .water]) { continue }
                    if let x = _properCrossing(s.start, s.end, t.start, t.end) {
                        crossing = (x, s, t)
                        break search
                    }
                }
            }
        }
        if let (x, _, _) = crossing {
            let ring = square(Point(_mm(x.x), _mm(x.y)), 1.0)
            let h = hits(ring)
            sites.append(DigSite(name: "Repair pit on a crossing", depthM: _cm(deepest(h) + 0.3), expect: "crossing", ring: ring, hits: h, inWGS84: false))
        }
        if var clear = sites.first {
            clear.name = "Clear block interior, given in WGS84"
            clear.inWGS84 = true
            sites.append(clear)
        }
        return sites
    }

    /// Planned routes: a gas main squeezed between telecom and gas on an arterial, a water main cut
    /// diagonally across a block (crossing laterals), and a 10 kV duct along a street.
    public static func routes(for district: District) -> [PlannedRoute] {
        let layout = DistrictLayout(segments: district.network.segments.count, seed: district.seed)
        let rows = max(2, layout.estimatedRows)
        func offset(_ p: Point, _ o: Double) -> Point { Point(_mm(p.x + o), _mm(p.y + o)) }
        let row = min(2, rows - 1)
        let gas = (0..<min(4, layout.columns)).map { offset(layout.node($0, row), -8.4) }
        let water = [offset(layout.node(0, 0), 8.5), offset(layout.node(1, 1), -15)]
        let col = min(3, layout.columns - 1)
        let power = (0..<min(3, rows)).map { offset(layout.node(col, $0), 8.2) }
        return [
            PlannedRoute(name: "Planned medium-A gas main", layer: .gas, subtype: .naturalGas, depthM: 1.3, diameterMM: 200, pressureMPa: 0.3, voltageKV: nil, points: gas),
            PlannedRoute(name: "Planned DN300 water main across a block", layer: .water, subtype: .distribution, depthM: 1.6, diameterMM: 300, pressureMPa: nil, voltageKV: nil, points: water),
            PlannedRoute(name: "Planned 10 kV cable duct", layer: .power, subtype: .powerSupply, depthM: 0.9, diameterMM: 200, pressureMPa: nil, voltageKV: 10, points: power),
        ]
    }

    /// Writes `dig-sites.geojson` and `routes.geojson` into `directory`. The WGS84 site carries a
    /// feature-level `crs` of `urn:ogc:def:crs:OGC:1.3:CRS84` (lon/lat), converted with PROJ.
    public static func write(for district: District, to directory: String) throws {
        let toWGS84 = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        var lines: [String] = []
        for (k, s) in digSites(for: district).enumerated() {
            var ring = s.ring
            if s.inWGS84 {
                ring = try toWGS84.transform(ring).map { Point(($0.x * 1e9).rounded() / 1e9, ($0.y * 1e9).rounded() / 1e9) }
            }
            let props: JSONObject = [
                "name": .string(s.name), "depth_m": .number(s.depthM), "expect": .string(s.expect),
                "hits": .array(s.hits.map { .number(Double($0)) }),
                "crs_name": .string(s.inWGS84 ? "EPSG:4326" : "EPSG:4549"),
            ]
            let polygon = Polygon(exterior: try LinearRing(ring))
            var text = GeoJSON.write(GeoJSONFeature(id: .number(Double(k + 1)), geometry: .polygon(polygon), properties: props))
            if s.inWGS84 {
                // GeoJSONFeature has no crs; a feature-level legacy crs member marks the one site in lon/lat.
                let crs = "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:OGC:1.3:CRS84\"}},"
                text = "{\"type\":\"Feature\"," + crs + text.dropFirst("{\"type\":\"Feature\",".count)
            }
            lines.append(text)
        }
        try writeCollection(lines, name: "dig-sites", path: directory + "/dig-sites.geojson")
        lines = []
        for (k, r) in routes(for: district).enumerated() {
            var props: JSONObject = [
                "name": .string(r.name), "layer": .string(r.layer.rawValue), "subtype": .string(r.subtype.rawValue),
                "depth_m": .number(r.depthM), "diameter_mm": .number(r.diameterMM),
            ]
            if let p = r.pressureMPa {
                props.append("pressure_mpa", .number(p))
                props.append("pressure_class", .string(GasPressureClass(megapascals: p)?.rawValue ?? ""))
            }
            if let v = r.voltageKV { props.append("voltage_kv", .number(v)) }
            let line = try LineString(r.points)
            lines.append(GeoJSON.write(GeoJSONFeature(id: .number(Double(k + 1)), geometry: .lineString(line), properties: props)))
        }
        try writeCollection(lines, name: "routes", path: directory + "/routes.geojson")
    }

    static func writeCollection(_ features: [String], name: String, path: String) throws {
        let sink = try TextSink(path: path)
        try sink.write(DistrictFiles.geoJSONHeader(name) + "\n" + features.joined(separator: ",\n") + "\n]}\n")
        try sink.close()
    }
}

// MARK: - Small exact plan kernels (the geometry module's kernels are the engine's business)

/// Distance from `p` to segment a–b.
func _distance(_ p: Point, _ a: Point, _ b: Point) -> Double {
    let dx = b.x - a.x
    let dy = b.y - a.y
    let l2 = dx * dx + dy * dy
    let u = l2 > 0 ? min(max(((p.x - a.x) * dx + (p.y - a.y) * dy) / l2, 0), 1) : 0
    let qx = a.x + u * dx - p.x
    let qy = a.y + u * dy - p.y
    return (qx * qx + qy * qy).squareRoot()
}

func _orient(_ a: Point, _ b: Point, _ c: Point) -> Double { (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x) }

/// The crossing point of a–b and c–d when they cross properly (interiors, not at end points).
func _properCrossing(_ a: Point, _ b: Point, _ c: Point, _ d: Point) -> Point? {
    let o1 = _orient(a, b, c)
    let o2 = _orient(a, b, d)
    let o3 = _orient(c, d, a)
    let o4 = _orient(c, d, b)
    guard (o1 > 0 && o2 < 0 || o1 < 0 && o2 > 0), (o3 > 0 && o4 < 0 || o3 < 0 && o4 > 0) else { return nil }
    let t = o3 / (o3 - o4)
    return Point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
}

/// Whether segment a–b touches the closed polygon `ring` (an end inside, or crossing/touching an edge).
func _segmentTouchesRing(_ a: Point, _ b: Point, _ ring: [Point]) -> Bool {
    if _inside(a, ring) || _inside(b, ring) { return true }
    for k in 1..<ring.count where _segmentsTouch(a, b, ring[k - 1], ring[k]) { return true }
    return false
}

func _inside(_ p: Point, _ ring: [Point]) -> Bool {
    var inside = false
    for k in 1..<ring.count {
        let u = ring[k - 1]
        let v = ring[k]
        if (u.y > p.y) != (v.y > p.y), p.x < u.x + (p.y - u.y) / (v.y - u.y) * (v.x - u.x) { inside.toggle() }
    }
    return inside
}

func _segmentsTouch(_ a: Point, _ b: Point, _ c: Point, _ d: Point) -> Bool {
    let o1 = _orient(a, b, c)
    let o2 = _orient(a, b, d)
    let o3 = _orient(c, d, a)
    let o4 = _orient(c, d, b)
    func on(_ p: Point, _ q: Point, _ r: Point) -> Bool {
        min(p.x, q.x) <= r.x && r.x <= max(p.x, q.x) && min(p.y, q.y) <= r.y && r.y <= max(p.y, q.y)
    }
    if (o1 > 0) != (o2 > 0), o1 != 0, o2 != 0, (o3 > 0) != (o4 > 0), o3 != 0, o4 != 0 { return true }
    return (o1 == 0 && on(a, b, c)) || (o2 == 0 && on(a, b, d)) || (o3 == 0 && on(c, d, a)) || (o4 == 0 && on(c, d, b))
}
