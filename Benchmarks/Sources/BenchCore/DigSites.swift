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

/// One pipe in a dig-check answer: its id and exact distance to the site, metres.
public struct DigHit: Sendable, Hashable {
    public var id: Int64
    public var distance: Double
    public init(id: Int64, distance: Double) {
        self.id = id
        self.distance = distance
    }
}

/// Compares two dig-check answers for one site.
public enum DigAnswerComparison {
    /// Nil when `reference` and `other` name the same pipes, or a sentence saying how they differ.
    ///
    /// Pipes in both must report distances equal within `distancesAgree` (1e-9 relative, 1 m
    /// floor). A pipe in only one answer is forgiven only when it is a genuine tie: its exact
    /// distance equals its required clearance within that tolerance, where "too close" can be
    /// decided either way by the last bit of two different (correct) distance formulas. A pipe at
    /// distance 0 is never a tie (both sides must report a crossing). Duplicate ids are an error.
    /// `required(id)` is the clearance (rule + accuracy) the pipe is held to; nil means unknown,
    /// which is never forgiven.
    /// - Complexity: O((a + b) log(a + b)).
    public static func difference(
        reference: [DigHit], other: [DigHit], referenceName: String = "subterra", otherName: String = "postgis",
        required: (Int64) -> Double?
    ) -> String? {
        var a = [Int64: Double](), b = [Int64: Double]()
        for h in reference {
            if a.updateValue(h.distance, forKey: h.id) != nil { return "\(referenceName) reports pipe \(h.id) twice" }
        }
        for h in other {
            if b.updateValue(h.distance, forKey: h.id) != nil { return "\(otherName) reports pipe \(h.id) twice" }
        }
        for (id, da) in a.sorted(by: { $0.key < $1.key }) {
            guard let db = b[id] else { continue }
            if !distancesAgree(da, db) {
                return "pipe \(id): distance \(da) (\(referenceName)) vs \(db) (\(otherName))"
            }
        }
        let only = Set(a.keys).symmetricDifference(b.keys).sorted()
        for id in only {
            let inA = a[id] != nil
            let d = a[id] ?? b[id]!
            let who = inA ? referenceName : otherName
            guard let req = required(id) else {
                return "pipe \(id) at \(d) m is only in \(who)'s answer and has no known clearance"
            }
            if d > 0 && distancesAgree(d, req) { continue }
            return "pipe \(id) at \(d) m (required clearance \(req) m) is only in \(who)'s answer"
        }
        return nil
    }
}
