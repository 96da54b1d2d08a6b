import SubterraIndex

/// SplitMix64: tiny, seedable, good enough to drive property tests reproducibly.
struct SplitMix64: RandomNumberGenerator {
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

/// A test segment; the index only sees its box, the oracle uses the exact geometry.
struct Segment: Equatable {
    var x0, y0, x1, y1: Double
    var box: Box { Box(x0: x0, y0: y0, x1: x1, y1: y1) }

    /// Exact Euclidean distance from a point to the closed segment (projection, clamped).
    func distance(toX px: Double, y py: Double) -> Double {
        let dx = x1 - x0, dy = y1 - y0
        let len2 = dx * dx + dy * dy
        var t = 0.0
        if len2 > 0 { t = max(0, min(1, ((px - x0) * dx + (py - y0) * dy) / len2)) }
        let qx = x0 + t * dx, qy = y0 + t * dy
        return ((px - qx) * (px - qx) + (py - qy) * (py - qy)).squareRoot()
    }
}

enum DataKind: String, CaseIterable, CustomStringConvertible {
    case uniform, streets, points, identical, oneLine, huge
    var description: String { rawValue }
}

/// Test data sets. Streets: a jittered street grid near Wenling in EPSG:4549 terms (x = easting
/// with zone prefix ~4.05e7, y = northing ~3.1e6), pipes 20–60 m long running along streets with a
/// few metres of lateral offset, like the engine's segment table.
func makeSegments(_ kind: DataKind, count n: Int, seed: UInt64) -> [Segment] {
    var rng = SplitMix64(seed: seed)
    func r(_ a: Double, _ b: Double) -> Double { Double.random(in: a..<b, using: &rng) }
    switch kind {
    case .uniform:
        return (0..<n).map { _ in
            let x = r(0, 1000), y = r(0, 1000)
            return Segment(x0: x, y0: y, x1: x + r(-20, 20), y1: y + r(-20, 20))
        }
    case .streets, .huge:
        let ox = kind == .huge ? 40_512_000.0 : 40_500_000.0
        let oy = 3_100_000.0
        var out: [Segment] = []
        out.reserveCapacity(n)
        while out.count < n {
            // Pick a street: horizontal or vertical line of the ~80 m grid, jittered.
            let horizontal = Bool.random(using: &rng)
            let line = Double(Int.random(in: 0..<40, using: &rng)) * 80 + r(-3, 3)
            let offset = r(-6, 6)  // lateral position of this utility in the street
            var along = r(0, 3200)
            let pieces = Int.random(in: 1...8, using: &rng)
            for _ in 0..<pieces where out.count < n {
                let len = r(20, 60)
                let drift = r(-0.5, 0.5)
                let s = horizontal
                    ? Segment(x0: ox + along, y0: oy + line + offset, x1: ox + along + len, y1: oy + line + offset + drift)
                    : Segment(x0: ox + line + offset, y0: oy + along, x1: ox + line + offset + drift, y1: oy + along + len)
                out.append(s)
                along += len
            }
        }
        return out
    case .points:
        return (0..<n).map { _ in
            let x = r(0, 500), y = r(0, 500)
            return Segment(x0: x, y0: y, x1: x, y1: y)
        }
    case .identical:
        return (0..<n).map { _ in Segment(x0: 10, y0: 20, x1: 30, y1: 20) }
    case .oneLine:
        return (0..<n).map { _ in
            let x = r(0, 5000)
            return Segment(x0: x, y0: 7, x1: x + r(0, 30), y1: 7)
        }
    }
}

/// A random query point near the data (sometimes far outside).
func queryPoint(near segs: [Segment], using rng: inout SplitMix64) -> (x: Double, y: Double) {
    if segs.isEmpty || Int.random(in: 0..<10, using: &rng) == 0 {
        return (Double.random(in: -1e6..<1e6, using: &rng), Double.random(in: -1e6..<1e6, using: &rng))
    }
    let s = segs[Int.random(in: 0..<segs.count, using: &rng)]
    return (s.x0 + Double.random(in: -30..<30, using: &rng), s.y0 + Double.random(in: -30..<30, using: &rng))
}

/// A random query window: dig-sized (10–50 m), sometimes huge or degenerate.
func queryBox(near segs: [Segment], using rng: inout SplitMix64) -> Box {
    let p = queryPoint(near: segs, using: &rng)
    switch Int.random(in: 0..<8, using: &rng) {
    case 0: return Box(x: p.x, y: p.y)
    case 1: return Box(minX: p.x - 5000, minY: p.y - 5000, maxX: p.x + 5000, maxY: p.y + 5000)
    default:
        let w = Double.random(in: 10..<50, using: &rng), h = Double.random(in: 10..<50, using: &rng)
        return Box(minX: p.x, minY: p.y, maxX: p.x + w, maxY: p.y + h)
    }
}

/// Brute force oracle: ids whose box intersects.
func bruteIntersecting(_ items: [(box: Box, id: UInt32)], _ q: Box) -> Set<UInt32> {
    Set(items.filter { $0.box.intersects(q) }.map(\.id))
}

/// Brute force oracle: the k nearest (ascending distance, ties by id) within maxDistance.
func bruteNearest(_ ids: [UInt32], k: Int, maxDistance: Double = .infinity,
                  filter: (UInt32) -> Bool = { _ in true }, distance: (UInt32) -> Double) -> [Neighbor] {
    let all = ids.filter(filter).map { Neighbor(id: $0, distance: distance($0)) }.filter { $0.distance <= maxDistance }
    let sorted = all.sorted { $0.distance < $1.distance || ($0.distance == $1.distance && $0.id < $1.id) }
    return Array(sorted.prefix(max(0, k)))
}
