/// The correctness gate: every peer answers the same queries and must agree before any timing
/// is reported. Id sets must be equal, nearest distances equal within `tolerance`; the only
/// differences forgiven are genuine ties (a nearest-k cut between equidistant segments, or a
/// segment whose exact distance is within `tolerance` of the query radius), checked with the
/// benchmark's own exact kernels.
public struct GateFailure: Error, CustomStringConvertible, Sendable {
    public var workload: String
    public var size: Int
    public var queryIndex: Int
    public var query: String
    public var reference: String
    public var other: String
    public var detail: String
    public var description: String {
        """
        CORRECTNESS GATE FAILED: workload \(workload), size \(size), first differing query #\(queryIndex) \(query)
          \(reference)
          \(other)
          \(detail)
        """
    }
}

/// Relative tolerance with a 1 m floor: `|a - b| <= 1e-9 * max(1, |a|, |b|)`. The floor matters
/// because coordinates near 3.15e6 m carry ~5e-10 m of rounding, so a sub-metre distance can't
/// be reproduced to 1e-9 of itself by two different (correct) formulas.
@inlinable
public func distancesAgree(_ a: Double, _ b: Double, tolerance: Double = 1e-9) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

public enum Gate {
    /// Checks `peers` against `peers[0]` on the first `limit` queries of each workload.
    /// - Throws: `GateFailure` naming the workload and the first differing query.
    public static func check(
        peers: [any IndexPeer], data: SegmentSet, queries q: QuerySet, limit: Int, size: Int,
        workloads: Set<String>? = nil
    ) throws(GateFailure) {
        guard let ref = peers.first else { return }
        let m = min(limit, q.points.count)
        func wanted(_ w: String) -> Bool { workloads?.contains(w) ?? true }
        var a = [UInt32](), b = [UInt32](), da = [Double](), db = [Double]()

        func fail(_ w: String, _ i: Int, _ query: String, _ p: any IndexPeer, _ ra: String, _ rb: String, _ why: String)
            -> GateFailure
        {
            GateFailure(
                workload: w, size: size, queryIndex: i, query: query,
                reference: "\(ref.name): \(ra)", other: "\(p.name): \(rb)", detail: why)
        }
        func describe(_ ids: [UInt32]) -> String {
            let s = ids.sorted()
            return "\(s.count) ids " + (s.count <= 20 ? "\(s)" : "\(Array(s.prefix(20)))…")
        }
        // Set comparison forgiving only ids that are genuinely on the boundary of the query.
        func compareSets(_ w: String, _ i: Int, _ query: String, _ p: any IndexPeer, ambiguous: (UInt32) -> Bool,
                         explain: (UInt32) -> String) throws(GateFailure)
        {
            let sa = Set(a), sb = Set(b)
            if sa == sb && a.count == b.count { return }
            if a.count != sa.count || b.count != sb.count {
                throw fail(w, i, query, p, describe(a), describe(b), "duplicate ids in an answer")
            }
            for id in sa.symmetricDifference(sb).sorted() where !ambiguous(id) {
                throw fail(
                    w, i, query, p, describe(a), describe(b),
                    "id \(id) (\(explain(id))) is in only one answer (in \(sa.contains(id) ? ref.name : p.name)'s)")
            }
        }

        for p in peers.dropFirst() {
            if wanted("window") {
                for i in 0..<m {
                    let w = q.windows[i]
                    ref.window(w, into: &a)
                    p.window(w, into: &b)
                    // A segment is on the boundary when growing the window by a micrometre (far
                    // above the ~5e-10 m rounding of these coordinates) changes the answer
                    // compared with shrinking it by as much.
                    try compareSets("window", i, "box \(w)", p, ambiguous: { id in
                        let s = data.segment(Int(id)), e = 1e-6
                        return segmentIntersectsBox(s.x0, s.y0, s.x1, s.y1, w.0 - e, w.1 - e, w.2 + e, w.3 + e)
                            != segmentIntersectsBox(s.x0, s.y0, s.x1, s.y1, w.0 + e, w.1 + e, w.2 - e, w.3 - e)
                    }, explain: { id in
                        let s = data.segment(Int(id))
                        return "segment \(s), exactly intersects: \(segmentIntersectsBox(s.x0, s.y0, s.x1, s.y1, w.0, w.1, w.2, w.3))"
                    })
                }
            }
            for k in [1, 10] where wanted("nearest\(k)") {
                for i in 0..<m {
                    let (x, y) = q.points[i]
                    ref.nearest(x: x, y: y, k: k, ids: &a, distances: &da)
                    p.nearest(x: x, y: y, k: k, ids: &b, distances: &db)
                    let query = "point (\(x), \(y)) k=\(k)"
                    guard a.count == b.count else {
                        throw fail("nearest\(k)", i, query, p, describe(a), describe(b), "different result counts")
                    }
                    for j in 0..<a.count where !distancesAgree(da[j], db[j]) {
                        throw fail("nearest\(k)", i, query, p, "\(a) \(da)", "\(b) \(db)", "distance #\(j) differs")
                    }
                    // Every id strictly nearer than the k-th distance must be in both answers;
                    // at the k-th distance itself any equidistant segment is a correct pick.
                    if let last = da.last {
                        let strictA = Set(zip(a, da).filter { !distancesAgree($0.1, last) && $0.1 < last }.map(\.0))
                        let strictB = Set(zip(b, db).filter { !distancesAgree($0.1, last) && $0.1 < last }.map(\.0))
                        if strictA != strictB {
                            throw fail("nearest\(k)", i, query, p, "\(a) \(da)", "\(b) \(db)", "ids nearer than the k-th differ")
                        }
                        for (id, d) in zip(b, db) {
                            let s = data.segment(Int(id))
                            let exact = pointSegmentDistance(x, y, s.x0, s.y0, s.x1, s.y1)
                            if !distancesAgree(exact, d) {
                                throw fail("nearest\(k)", i, query, p, "\(a) \(da)", "\(b) \(db)",
                                           "id \(id) reported at \(d), exact distance is \(exact)")
                            }
                        }
                    }
                }
            }
            if wanted("within") {
                for i in 0..<m {
                    let (x, y) = q.points[i], r = q.radii[i]
                    ref.within(x: x, y: y, r: r, into: &a)
                    p.within(x: x, y: y, r: r, into: &b)
                    func d(_ id: UInt32) -> Double {
                        let s = data.segment(Int(id))
                        return pointSegmentDistance(x, y, s.x0, s.y0, s.x1, s.y1)
                    }
                    try compareSets("within", i, "point (\(x), \(y)) r=\(r)", p,
                                    ambiguous: { distancesAgree(d($0), r) }, explain: { "exact distance \(d($0)), limit \(r)" })
                }
            }
            if wanted("dig_polygon") {
                for i in 0..<m {
                    let ring = q.polygons[i]
                    ref.polygonWithin(ring: ring, r: 1, into: &a)
                    p.polygonWithin(ring: ring, r: 1, into: &b)
                    func d(_ id: UInt32) -> Double {
                        let s = data.segment(Int(id))
                        return segmentPolygonDistance(s.x0, s.y0, s.x1, s.y1, ring: ring)
                    }
                    try compareSets("dig_polygon", i, "polygon \(ring) r=1", p,
                                    ambiguous: { distancesAgree(d($0), 1) }, explain: { "exact distance \(d($0)), limit 1" })
                }
            }
        }
    }
}
