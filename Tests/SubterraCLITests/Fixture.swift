import Foundation

/// A small deterministic district written as the sample's GeoJSON layout (segments.geojson +
/// points.geojson, EPSG:4549): a 6×6 street grid, five layers per street at fixed offsets, so
/// every pair of layers crosses at every node and depths differ per layer. Coordinates sit on a
/// 0.5 m lattice, so the oracle's orientation tests below are exact in doubles.
struct Fixture {
    struct Seg {
        var id: Int
        var layer: String
        var a: (Double, Double)
        var b: (Double, Double)
    }

    static let x0 = 501_000.0, y0 = 3_379_000.0, spacing = 60.0, n = 6
    static let layers: [(code: String, subtype: String, offset: Double, depth: Double, owner: String, extra: String)] = [
        ("JS", "JP", -6, 1.2, "Water Co.", "\"section\":\"DN300\""),
        ("PS", "WS", -3, 2.5, "Drainage Office", "\"section\":\"DN600\""),
        ("RQ", "TR", 0, 1.0, "Gas Co.", "\"section\":\"DN200\",\"pressure_mpa\":0.3"),
        ("DL", "GD", 3, 0.8, "Power Co.", "\"section\":\"DN150\",\"voltage_kv\":10"),
        ("TX", "DH", 6, 0.7, "Telecom Co.", "\"section\":\"DN100\""),
    ]

    /// Outer width in metres of a layer's pipes: its section's DN (the model reads DN as the
    /// outer diameter), what the dig check halves to measure to the outer wall.
    static func outerWidthM(_ layer: String) -> Double {
        guard let extra = layers.first(where: { $0.code == layer })?.extra,
            let r = extra.range(of: #"DN[0-9]+"#, options: .regularExpression), let dn = Double(extra[r].dropFirst(2))
        else { return 0 }
        return dn / 1000
    }

    var segments: [Seg] = []
    /// Directory holding segments.geojson and points.geojson.
    let dir: String
    /// A GeoPackage store imported from `dir` with the CLI.
    let store: String

    /// Built once per test process (the import runs the CLI); a failure fails each test, not the run.
    static let shared: Result<Fixture, CLITestError> = {
        do { return .success(try Fixture()) } catch { return .failure(CLITestError("fixture: \(error)")) }
    }()

    init() throws {
        dir = CLI.tempDir("fixture")
        var segFeatures: [String] = []
        var ptFeatures: [String] = []
        var id = 0
        func depth(_ k: Int, _ i: Int, _ j: Int) -> Double { Self.layers[k].depth + 0.1 * Double((i + j) % 3) }
        func num(_ v: Double) -> String { String(v) }
        for (k, l) in Self.layers.enumerated() {
            for i in 0..<Self.n {
                for j in 0..<Self.n {
                    let x = Self.x0 + Double(j) * Self.spacing + l.offset, y = Self.y0 + Double(i) * Self.spacing + l.offset
                    ptFeatures.append(
                        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(num(x)),\(num(y))]},\"properties\":{\"number\":\"\(l.code)-\(i)-\(j)\",\"layer\":\"\(l.code)\",\"category\":\"feature\",\"kind\":\"tee\",\"depth\":\(num(depth(k, i, j))),\"owner\":\"\(l.owner)\"}}")
                }
            }
            // Horizontal runs (along x) then vertical runs (along y), node to node.
            for i in 0..<Self.n {
                for j in 0..<Self.n {
                    for (di, dj) in [(0, 1), (1, 0)] where i + di < Self.n && j + dj < Self.n {
                        id += 1
                        let a = (Self.x0 + Double(j) * Self.spacing + l.offset, Self.y0 + Double(i) * Self.spacing + l.offset)
                        let b = (Self.x0 + Double(j + dj) * Self.spacing + l.offset, Self.y0 + Double(i + di) * Self.spacing + l.offset)
                        segments.append(Seg(id: id, layer: l.code, a: a, b: b))
                        segFeatures.append(
                            "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[\(num(a.0)),\(num(a.1))],[\(num(b.0)),\(num(b.1))]]},\"properties\":{\"id\":\(id),\"layer\":\"\(l.code)\",\"subtype\":\"\(l.subtype)\",\"start_point\":\"\(l.code)-\(i)-\(j)\",\"end_point\":\"\(l.code)-\(i + di)-\(j + dj)\",\"start_depth\":\(num(depth(k, i, j))),\"end_depth\":\(num(depth(k, i + di, j + dj))),\"owner\":\"\(l.owner)\",\"road\":\"Grid Road \(i)\",\(l.extra)}}")
                    }
                }
            }
        }
        let header = "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}},\"features\":[\n"
        try (header + segFeatures.joined(separator: ",\n") + "\n]}\n").write(toFile: dir + "/segments.geojson", atomically: true, encoding: .utf8)
        try (header + ptFeatures.joined(separator: ",\n") + "\n]}\n").write(toFile: dir + "/points.geojson", atomically: true, encoding: .utf8)
        store = dir + "/fixture.gpkg"
        let r = try CLI.run(["import", dir, "--store", store])
        guard r.status == 0 else { throw CLITestError("fixture import failed: \(r.stderr) \(r.stdout)") }
    }

    var extent: (minX: Double, minY: Double, maxX: Double, maxY: Double) {
        (Self.x0 - 6, Self.y0 - 6, Self.x0 + Double(Self.n - 1) * Self.spacing + 6, Self.y0 + Double(Self.n - 1) * Self.spacing + 6)
    }
}

/// Brute-force plan geometry: the oracle the CLI's answers are checked against.
enum Oracle {
    typealias P = (Double, Double)

    static func orient(_ a: P, _ b: P, _ c: P) -> Double { (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0) }

    static func onSegment(_ a: P, _ b: P, _ p: P) -> Bool {
        orient(a, b, p) == 0 && min(a.0, b.0) <= p.0 && p.0 <= max(a.0, b.0) && min(a.1, b.1) <= p.1 && p.1 <= max(a.1, b.1)
    }

    static func segmentsMeet(_ a: P, _ b: P, _ c: P, _ d: P) -> Bool {
        let o1 = orient(a, b, c), o2 = orient(a, b, d), o3 = orient(c, d, a), o4 = orient(c, d, b)
        if ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0)) { return true }
        return onSegment(a, b, c) || onSegment(a, b, d) || onSegment(c, d, a) || onSegment(c, d, b)
    }

    static func pointSegment(_ p: P, _ a: P, _ b: P) -> Double {
        let dx = b.0 - a.0, dy = b.1 - a.1
        let l2 = dx * dx + dy * dy
        let t = l2 > 0 ? max(0, min(1, ((p.0 - a.0) * dx + (p.1 - a.1) * dy) / l2)) : 0
        return hypot(a.0 + t * dx - p.0, a.1 + t * dy - p.1)
    }

    static func segmentSegment(_ a: P, _ b: P, _ c: P, _ d: P) -> Double {
        if segmentsMeet(a, b, c, d) { return 0 }
        return min(pointSegment(a, c, d), pointSegment(b, c, d), pointSegment(c, a, b), pointSegment(d, a, b))
    }

    /// Inside or on the boundary of a closed ring.
    static func inRing(_ p: P, _ ring: [P]) -> Bool {
        for k in 1..<ring.count where onSegment(ring[k - 1], ring[k], p) { return true }
        var inside = false
        for k in 1..<ring.count {
            let u = ring[k - 1], v = ring[k]
            if (u.1 > p.1) != (v.1 > p.1), p.0 < u.0 + (p.1 - u.1) / (v.1 - u.1) * (v.0 - u.0) { inside.toggle() }
        }
        return inside
    }

    static func segmentPolygon(_ a: P, _ b: P, _ ring: [P]) -> Double {
        if inRing(a, ring) || inRing(b, ring) { return 0 }
        var best = Double.infinity
        for k in 1..<ring.count { best = min(best, segmentSegment(a, b, ring[k - 1], ring[k])) }
        return best
    }

    static func wkt(_ ring: [P]) -> String {
        "POLYGON ((" + ring.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "))"
    }
}

/// Deterministic PRNG (SplitMix64) so random cases are reproducible.
struct SplitMix {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A multiple of 0.5 in lo...hi.
    mutating func half(_ lo: Double, _ hi: Double) -> Double {
        let steps = UInt64(((hi - lo) * 2).rounded())
        return lo + Double(next() % (steps + 1)) / 2
    }
}
