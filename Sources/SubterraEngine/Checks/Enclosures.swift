import SubterraGeometry
import SubterraModel

/// A cable bed, sleeve or casing grouped into the conflict of the utility line it carries
/// (``DigConflict/enclosures``) instead of being reported as a conflict of its own.
public struct DigEnclosure: Hashable, Sendable, Codable {
    /// The enclosure's segment id (its reported part, for one of several parts).
    public var pipeID: Int64
    /// Cable bed, sleeve or casing; never ``FeatureKind/utilityLine``.
    public var kind: FeatureKind
    /// The operator's id of the enclosure (``PipeSegment/sourceID``), when it has a text one.
    public var sourceID: String?
    /// Its clear distance to the dig, metres (its own outer width taken off).
    public var clearDistance: Double
    /// The severity it would have had as a conflict of its own.
    public var severity: Severity
    /// The file the enclosure was imported from (``PipeSegment/sourceFile``).
    public var sourceFile: String? = nil
}

extension UtilityEngine {
    /// How far an enclosure's trace may lie from the line it carries, metres: 0.1 m. Operators
    /// deliver a cable, its bed and its sleeve on one shared trace (often identical coordinates);
    /// the tolerance absorbs re-digitising, not a neighbouring line (parallel cables of one trench
    /// lie 0.2 m or more apart).
    public static let enclosureTolerance = 0.1

    /// How long a line must run within ``enclosureTolerance`` of an enclosure to be carried by
    /// it, metres: 1 m (or the whole enclosure, when shorter). A line of the same operator that
    /// merely crosses the enclosure, or ends where it starts, lies that close over only
    /// 2 × 0.1 m / sin(angle), under 1 m for any angle above 11.5°.
    public static let enclosureMinimumAlongside = 1.0

    /// Whether an enclosure of layer `e` may carry a line of layer `l`: the same layer, telecom
    /// and fibre (`TX`, `GX`) for each other, and an enclosure of layer "other" (`QT`, a theme the
    /// source did not name) for any line. O(1).
    public static func layersCompatible(enclosure e: LayerCode, line l: LayerCode) -> Bool {
        if e == l || e == .other { return true }
        let telecom: Set<LayerCode> = [.telecom, .fibre]
        return telecom.contains(e) && telecom.contains(l)
    }

    /// The utility lines (feature keys, ascending) the enclosure in row `r` carries, empty when `r`
    /// is a utility line or carries none.
    ///
    /// A line is carried when it is a utility line of a compatible layer
    /// (``layersCompatible(enclosure:line:)``), has the enclosure's owner when both state one,
    /// and the enclosure's whole trace lies within ``enclosureTolerance`` of the union of such
    /// lines (so a sleeve shorter than its cable, or one spanning two cable segments, counts);
    /// of those, the ones alongside it for at least ``enclosureMinimumAlongside`` (or for all of
    /// it, when it is shorter) are carried, so a cable that merely crosses it or ends where it
    /// starts is not.
    ///
    /// Exact: each enclosure edge is tested against the capsule (all points within the
    /// tolerance) of each candidate line edge; the capsule is convex, so the edge's points inside
    /// it form one parameter interval, found in closed form (a slab and two discs), and the
    /// edge is covered when the union of its intervals is all of it.
    /// - Complexity: O(log n + c) for the c index candidates within the tolerance, plus
    ///   O(v·w) for the enclosure's v vertices against the candidates' w.
    func carriedFeatures(_ snap: _Snapshot, row r: Int) -> [Int64] {
        let e = snap.record(r)
        guard e.featureKind.isEnclosure,
            let q = try? _QueryShape(.lineString(e.geometry), at: "enclosure \(e.id)")
        else { return [] }
        let tol = Self.enclosureTolerance
        var lines: [Int64: [PipeSegment]] = [:]
        for n in snap.index.within(tol, of: q) {
            let row = Int(n.id)
            let s = snap.record(row)
            guard s.featureKind == .utilityLine, Self.layersCompatible(enclosure: e.layer, line: s.layer) else { continue }
            if let a = e.owner, let b = s.owner, a != b { continue }
            lines[s.featureID, default: []].append(s)
        }
        guard !lines.isEmpty else { return [] }
        let pts = e.geometry.points
        // Per edge of the enclosure: the covered parameter intervals of every candidate, and
        // of each feature.
        var alongside: [Int64: Double] = [:]
        for i in 1..<pts.count {
            let a = pts[i - 1], b = pts[i]
            let len = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            var all: [ClosedRange<Double>] = []
            for (f, segs) in lines {
                var mine: [ClosedRange<Double>] = []
                for s in segs {
                    let lp = s.geometry.points
                    for j in 1..<lp.count {
                        if let iv = _capsuleInterval(a, b, lp[j - 1], lp[j], radius: tol) { mine.append(iv) }
                    }
                }
                all += mine
                alongside[f, default: 0] += _unionLength(mine) * len
            }
            // Covered up to rounding (a relative 1e-9 of the edge, far below the tolerance).
            guard _unionLength(all) >= 1 - 1e-9 || len == 0 else { return [] }
        }
        let total = e.length
        return alongside.filter { $0.value >= min(Self.enclosureMinimumAlongside, total) * (1 - 1e-9) }.keys.sorted()
    }
}

extension UtilityEngine {
    /// `items` with every enclosure among them that carries a line among them folded into that
    /// line's item (the first item of each line) and dropped: the grouping that dig checks, route
    /// checks and queries share (``EnclosureHits/grouped``).
    ///
    /// `lineKey` is the feature key of a utility line's item (nil for any other item);
    /// `enclosureRow` the map row of an enclosure's item (nil for any other), given the item's
    /// index; `fold(&line, enclosure)` records one enclosure in the item of a line it carries;
    /// `unhosted(&enclosure, carried)` sees an enclosure whose carried lines (possibly none) have
    /// no item. Order is kept (callers re-sort); fewer items come back exactly when some enclosure
    /// was folded. ``carriedFeatures(_:row:)`` runs once per distinct enclosure row, however many
    /// items name it (a route check has a horizontal and a vertical finding of one sleeve).
    /// - Complexity: O(i) plus ``carriedFeatures(_:row:)`` per distinct enclosure row.
    func foldEnclosures<Item>(
        _ snap: _Snapshot, _ items: [Item], lineKey: (Item) -> Int64?, enclosureRow: (Int, Item) -> Int?,
        fold: (inout Item, Item) -> Void, unhosted: (inout Item, [Int64]) -> Void = { _, _ in }
    ) -> [Item] {
        var out = items
        var lineAt: [Int64: Int] = [:]
        for (i, item) in items.enumerated() {
            if let key = lineKey(item), lineAt[key] == nil { lineAt[key] = i }
        }
        var carriedOf: [Int: [Int64]] = [:]
        var grouped = Set<Int>()
        for (i, item) in items.enumerated() {
            guard let r = enclosureRow(i, item) else { continue }
            let carried = carriedOf[r] ?? carriedFeatures(snap, row: r)
            carriedOf[r] = carried
            let hosts = carried.compactMap { lineAt[$0] }
            guard !hosts.isEmpty else {
                unhosted(&out[i], carried)
                continue
            }
            grouped.insert(i)
            for h in hosts { fold(&out[h], item) }
        }
        guard !grouped.isEmpty else { return out }
        return out.enumerated().filter { !grouped.contains($0.offset) }.map(\.element)
    }
}

/// The parameters `t` in 0...1 for which `a + t(b − a)` lies within `radius` of the segment
/// `c`–`d` (its capsule), or nil when none do. The capsule is convex, so they form one interval:
/// the hull of the intervals of the slab beside `c`–`d` and of the discs at its ends. Plan
/// coordinates only. O(1).
func _capsuleInterval(_ a: Point, _ b: Point, _ c: Point, _ d: Point, radius r: Double) -> ClosedRange<Double>? {
    var lo = Double.infinity, hi = -Double.infinity
    func take(_ iv: (Double, Double)?) {
        guard let (l, h) = iv, l <= h else { return }
        lo = min(lo, l)
        hi = max(hi, h)
    }
    let vx = b.x - a.x, vy = b.y - a.y
    // Discs: |a − p + t v|² ≤ r².
    func disc(_ p: Point) {
        let wx = a.x - p.x, wy = a.y - p.y
        let qa = vx * vx + vy * vy, qb = 2 * (vx * wx + vy * wy), qc = wx * wx + wy * wy - r * r
        if qa == 0 {
            if qc <= 0 { take((0, 1)) }
            return
        }
        let disc = qb * qb - 4 * qa * qc
        guard disc >= 0 else { return }
        let root = disc.squareRoot()
        take((max(0, (-qb - root) / (2 * qa)), min(1, (-qb + root) / (2 * qa))))
    }
    disc(c)
    disc(d)
    // Slab: 0 ≤ projection onto c–d ≤ |c–d|² and |cross| ≤ r |c–d|, each linear in t.
    let ux = d.x - c.x, uy = d.y - c.y
    let l2 = ux * ux + uy * uy
    if l2 > 0 {
        let l = l2.squareRoot()
        let wx = a.x - c.x, wy = a.y - c.y
        let s0 = wx * ux + wy * uy, s1 = vx * ux + vy * uy
        let h0 = ux * wy - uy * wx, h1 = ux * vy - uy * vx
        var t0 = 0.0, t1 = 1.0
        // α + β t ≤ γ for each half-plane.
        func clip(_ alpha: Double, _ beta: Double, _ gamma: Double) {
            if beta == 0 {
                if alpha > gamma { t0 = 1; t1 = 0 }
            } else if beta > 0 {
                t1 = min(t1, (gamma - alpha) / beta)
            } else {
                t0 = max(t0, (gamma - alpha) / beta)
            }
        }
        clip(-s0, -s1, 0)
        clip(s0, s1, l2)
        clip(h0, h1, r * l)
        clip(-h0, -h1, r * l)
        take((t0, t1))
    }
    return lo <= hi ? lo...hi : nil
}

/// Total length of the union of intervals within 0...1. O(k log k).
func _unionLength(_ ivs: [ClosedRange<Double>]) -> Double {
    var total = 0.0
    var end = -Double.infinity
    var start = -Double.infinity
    for iv in ivs.sorted(by: { $0.lowerBound < $1.lowerBound }) {
        if iv.lowerBound > end {
            if end > start { total += end - start }
            start = iv.lowerBound
            end = iv.upperBound
        } else {
            end = max(end, iv.upperBound)
        }
    }
    if end > start { total += end - start }
    return total
}
