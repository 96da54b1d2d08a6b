#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One typical dig site of the `digcheck` workload: a small excavation polygon on a street.
public struct BenchDigSite: Sendable, Hashable {
    /// Open ring, counter-clockwise, `x0, y0, x1, y1, …` (metres, EPSG:4549 as the engine stores
    /// it), 4–8 vertices, coordinates rounded to the millimetre like survey data.
    public var ring: [Double]
    /// Planned excavation depth, metres (1–3).
    public var depth: Double

    public var vertexCount: Int { ring.count / 2 }

    /// `SRID=4549;POLYGON((x y,…,x0 y0))`, the closed ring in the EWKT PostGIS reads. Shortest
    /// round-trip decimal, so PostGIS parses exactly the doubles the engine is given.
    public var ewkt: String {
        var s = "SRID=4549;POLYGON(("
        for i in 0...vertexCount {
            let j = i % vertexCount
            if i > 0 { s += "," }
            s += "\(ring[2 * j]) \(ring[2 * j + 1])"
        }
        return s + "))"
    }
}

/// Deterministic typical dig sites for the `digcheck` workload.
public enum DigSiteGenerator {
    /// `count` dig sites over the pipe segments `streets` (each site is centred on a random
    /// segment, 0–4 m off it across, so on the street the pipes run under): 4–8 vertices at
    /// jittered, increasing angles around the centre, every vertex 0.5–1 × half the site's size
    /// from it, the size 3–20 m, depth 1–3 m.
    ///
    /// The angle gaps stay below π, so the centre is in the kernel of the ring and the polygon is
    /// simple and star-shaped whatever the radii; rounding to mm moves a vertex by < 0.71 mm,
    /// far less than the ≥ 0.75 m radii, so it cannot fold an edge over.
    /// Same inputs ⇒ same sites on every platform (own PRNG; `cos`/`sin` of libm are correctly
    /// rounded enough that the mm rounding absorbs any difference in practice).
    /// - Complexity: O(count).
    public static func make(count: Int, streets: SegmentSet, seed: UInt64) -> [BenchDigSite] {
        guard streets.count > 0, count > 0 else { return [] }
        var rng = SplitMix64(seed: seed ^ 0x0D16_C4EC_0000_0003)
        var sites = [BenchDigSite]()
        sites.reserveCapacity(count)
        for _ in 0..<count {
            let s = streets.segment(Int(rng.next() % UInt64(streets.count)))
            let t = rng.uniform(0, 1)
            let dx = s.x1 - s.x0, dy = s.y1 - s.y0
            let len = (dx * dx + dy * dy).squareRoot()
            // Unit normal of the segment (any unit vector for a degenerate one).
            let (nx, ny) = len > 0 ? (-dy / len, dx / len) : (1.0, 0.0)
            let off = rng.uniform(-4, 4)
            let cx = s.x0 + t * dx + off * nx, cy = s.y0 + t * dy + off * ny
            let size = rng.uniform(3, 20)
            let k = 4 + Int(rng.next() % 5)
            let phase = rng.uniform(0, 2 * Double.pi)
            var ring = [Double]()
            ring.reserveCapacity(2 * k)
            for i in 0..<k {
                let a = phase + (Double(i) + rng.uniform(-0.3, 0.3)) * 2 * Double.pi / Double(k)
                let r = rng.uniform(0.5, 1) * size / 2
                ring.append(mm(cx + r * cos(a)))
                ring.append(mm(cy + r * sin(a)))
            }
            sites.append(BenchDigSite(ring: ring, depth: mm(rng.uniform(1, 3))))
        }
        return sites
    }

    @inline(__always) static func mm(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
}

/// One pipe in a dig-check answer: its id, exact distance from the site to its centreline and
/// clear distance to its outer wall, metres.
public struct DigHit: Sendable, Hashable {
    public var id: Int64
    /// To the centreline: what both peers compute with their own kernels, so compared between them.
    public var distance: Double
    /// To the outer wall, `max(0, distance − half width)`: what the clearance is checked against.
    public var clearDistance: Double
    public init(id: Int64, distance: Double, clearDistance: Double) {
        self.id = id
        self.distance = distance
        self.clearDistance = clearDistance
    }

    /// A pipe of no surveyed width: its wall is its centreline.
    public init(id: Int64, distance: Double) {
        self.init(id: id, distance: distance, clearDistance: distance)
    }
}

/// Compares two dig-check answers for one site.
public enum DigAnswerComparison {
    /// Nil when `reference` and `other` name the same pipes, or a sentence saying how they differ.
    ///
    /// Pipes in both must report centreline distances equal within `distancesAgree` (1e-9
    /// relative, 1 m floor). A pipe in only one answer is forgiven only when it is a genuine tie:
    /// its clear distance to the outer wall equals its required clearance within that tolerance,
    /// where "too close" can be decided either way by the last bit of two different (correct)
    /// distance formulas. A pipe at clear distance 0 is never a tie (both sides must report a dig
    /// reaching its wall). Duplicate ids are an error. `required(id)` is the clearance (rule +
    /// accuracy, to the wall) the pipe is held to; nil means unknown, which is never forgiven.
    /// - Complexity: O((a + b) log(a + b)).
    public static func difference(
        reference: [DigHit], other: [DigHit], referenceName: String = "subterra", otherName: String = "postgis",
        required: (Int64) -> Double?
    ) -> String? {
        var a = [Int64: DigHit](), b = [Int64: DigHit]()
        for h in reference {
            if a.updateValue(h, forKey: h.id) != nil { return "\(referenceName) reports pipe \(h.id) twice" }
        }
        for h in other {
            if b.updateValue(h, forKey: h.id) != nil { return "\(otherName) reports pipe \(h.id) twice" }
        }
        for (id, ha) in a.sorted(by: { $0.key < $1.key }) {
            guard let hb = b[id] else { continue }
            if !distancesAgree(ha.distance, hb.distance) {
                return "pipe \(id): distance \(ha.distance) (\(referenceName)) vs \(hb.distance) (\(otherName))"
            }
            // Within the centreline distances' own tolerance: the clamp and half width add at most an
            // ulp, so a wider gap means the peers hold a pipe to different widths.
            if abs(ha.clearDistance - hb.clearDistance) > 1e-9 * max(1, ha.distance, hb.distance) {
                return "pipe \(id): clear distance \(ha.clearDistance) (\(referenceName)) vs \(hb.clearDistance) (\(otherName))"
            }
        }
        let only = Set(a.keys).symmetricDifference(b.keys).sorted()
        for id in only {
            let inA = a[id] != nil
            let h = a[id] ?? b[id]!
            let who = inA ? referenceName : otherName
            let at = "pipe \(id) at \(h.distance) m (wall \(h.clearDistance) m)"
            guard let req = required(id) else {
                return "\(at) is only in \(who)'s answer and has no known clearance"
            }
            if h.clearDistance > 0 && distancesAgree(h.clearDistance, req) { continue }
            return "\(at) (required clearance \(req) m) is only in \(who)'s answer"
        }
        return nil
    }
}
