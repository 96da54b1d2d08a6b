import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// The engine's answers, which come from its segment index, against brute force over every pipe
/// of the map, after every edit of a long series (moves, reshapes into several vertices, copies
/// of a pipe's geometry under a new id, deletes, point edits, compactions): the same pipes, in
/// the same order (equal distances in map order), at the same exact distances, for every kind of
/// query geometry, multi-part ones included.
@Suite struct SegmentIndexOracleTests {
    /// Exact plan distance from pipe `s` to `g` by the kernels the segment index measures with,
    /// pipe segment by pipe segment and part by part: the brute-force oracle.
    static func distance(_ s: PipeSegment, _ g: Geometry) -> Double {
        let p = s.geometry.points
        var best = Double.infinity
        for v in 1..<p.count {
            best = min(best, distance(Point(p[v - 1].x, p[v - 1].y), Point(p[v].x, p[v].y), g))
        }
        return best
    }

    /// Exact distance from segment `a → b` to `g` (a polygon's inside counts as 0).
    static func distance(_ a: Point, _ b: Point, _ g: Geometry) -> Double {
        func line(_ l: LineString) -> Double {
            (1..<l.points.count).map { Kernel.distance(segment: a, b, segment: l.points[$0 - 1], l.points[$0]) }.min()!
        }
        switch g {
        case .point(let q): return Kernel.distance(q, segment: a, b)
        case .multiPoint(let qs): return qs.map { Kernel.distance($0, segment: a, b) }.min() ?? .infinity
        case .lineString(let l): return line(l)
        case .multiLineString(let ls): return ls.map(line).min() ?? .infinity
        case .polygon(let poly): return Kernel.distance(segment: a, b, polygon: poly)
        case .multiPolygon(let ps): return ps.map { Kernel.distance(segment: a, b, polygon: $0) }.min() ?? .infinity
        case .collection(let gs): return gs.map { distance(a, b, $0) }.min() ?? .infinity
        }
    }

    /// Accepted pipes of `map` at most `limit` from `g`, as (id, distance), nearest first, equal
    /// distances in map order.
    static func ranked(_ map: UtilityNetwork, _ g: Geometry, limit: Double = .infinity, _ filter: PipeFilter = .all)
        -> [(id: Int64, distance: Double)]
    {
        let all = map.segments.enumerated().compactMap { (i, s) -> (Int, Int64, Double)? in
            guard filter.accepts(s) else { return nil }
            let d = distance(s, g)
            return d <= limit ? (i, s.id, d) : nil
        }
        return all.sorted { ($0.2, $0.0) < ($1.2, $1.0) }.map { ($0.1, $0.2) }
    }

    /// One random query geometry of each kind in turn, around `c`.
    static func query(_ kind: Int, around c: Point, _ rng: inout TestRandom) -> Geometry {
        func near(_ r: Double) -> Point { Point(c.x + rng.uniform(-r, r), c.y + rng.uniform(-r, r)) }
        func line() -> LineString { try! LineString((0..<Int(rng.next() % 3) + 2).map { _ in near(40) }) }
        switch kind % 8 {
        case 0: return .point(c)
        case 1: return .multiPoint((0..<Int(rng.next() % 3) + 2).map { _ in near(60) })
        case 2: return .lineString(line())
        case 3: return .multiLineString([line(), line()])
        case 4: return .polygon(randomPolygon(&rng, around: c, radius: rng.uniform(3, 30)))
        case 5:
            // A square with a square hole: a pipe inside the hole is not inside the polygon.
            let r = rng.uniform(10, 40), h = r * rng.uniform(0.2, 0.7)
            let outer = rect(c.x - r, c.y - r, c.x + r, c.y + r).exterior
            let hole = rect(c.x - h, c.y - h, c.x + h, c.y + h).exterior
            return .polygon(Polygon(exterior: outer, holes: [hole]))
        case 6:
            return .multiPolygon([randomPolygon(&rng, around: c, radius: 15), randomPolygon(&rng, around: near(80), radius: 10)])
        default:
            return .collection([.point(near(50)), .lineString(line()), .polygon(randomPolygon(&rng, around: near(50), radius: 12))])
        }
    }

    /// The next edit: one of the shared script's, or a pipe reshaped into 3–5 vertices, or a copy
    /// of a pipe's geometry under a new id (equal distances to every query).
    static func edit(_ script: inout EditScript, _ map: UtilityNetwork) -> (StoreEdit, refused: Bool) {
        guard !map.segments.isEmpty, script.rng.chance(0.4) else { return script.next(map) }
        var s = map.segments[Int(script.rng.next() % UInt64(map.segments.count))]
        if script.rng.chance(0.5) {
            var p = script.point()
            var pts = [p]
            for _ in 0..<Int(script.rng.next() % 3) + 2 {
                p = Point(p.x + script.rng.uniform(-30, 30), p.y + script.rng.uniform(-30, 30))
                pts.append(p)
            }
            s.geometry = try! LineString(pts)
        } else {
            script.nextID += 1
            s.id = script.nextID
        }
        return (StoreEdit(upsertSegments: [s]), false)
    }

    /// Nearest (plain, filtered, capped, per layer), within, intersecting and the dig check of
    /// `engine` against brute force on `map`.
    static func check(_ engine: UtilityEngine, _ map: UtilityNetwork, _ rng: inout TestRandom, step: Int) throws {
        for kind in 0..<8 {
            let c = Point(origin.x + rng.uniform(-170, 170), origin.y + rng.uniform(-170, 170))
            let g = query(kind + step, around: c, &rng)
            let at = "step \(step), \(g)"
            func same(_ got: [PipeHit], _ want: [(id: Int64, distance: Double)], _ what: String) {
                #expect(got.map(\.pipe.id) == want.map(\.id), "\(what) ids, \(at)")
                #expect(got.map(\.distance) == want.map(\.distance), "\(what) distances, \(at)")
                for h in got { #expect(map.segment(id: h.pipe.id) == h.pipe, "\(what): stale record \(h.pipe.id)") }
            }
            let k = [1, 3, 7][(kind + step) % 3]
            same(try engine.nearest(to: g, k: k), Array(ranked(map, g).prefix(k)), "nearest k=\(k)")
            let filter = kind % 2 == 0
                ? PipeFilter(layers: [.gas, .water, .power])
                : PipeFilter(predicate: { $0.id % 3 != 0 })
            same(try engine.nearest(to: g, k: k, filter: filter), Array(ranked(map, g, filter).prefix(k)), "filtered nearest")
            let cap = rng.uniform(0, 25)
            same(try engine.nearest(to: g, k: 40, maxDistance: cap), Array(ranked(map, g, limit: cap).prefix(40)), "capped nearest")
            let layers = Set(map.segments.map(\.layer)).sorted()
            same(try engine.nearest(to: g, k: 2, perLayer: true),
                 layers.flatMap { l in ranked(map, g, PipeFilter(layers: [l])).prefix(2) }, "per-layer nearest")
            let d = rng.uniform(0, 30)
            same(try engine.within(distance: d, of: g), ranked(map, g, limit: d).sorted { ($0.distance, $0.id) < ($1.distance, $1.id) },
                 "within \(d)")
            same(try engine.intersecting(g), ranked(map, g, limit: 0).sorted { $0.id < $1.id }, "intersecting")
            let report = try engine.digCheck(DigRequest(area: g, plannedDepth: 1.5))
            #expect(digBruteForceMismatches(report, map, engine.rules, g) == [], "dig, \(at)")
            for conflict in report.conflicts {
                let want = distance(map.segment(id: conflict.pipeID)!, g)
                #expect(conflict.distance == want, "dig distance of \(conflict.pipeID), \(at)")
            }
        }
    }

    @Test func answersMatchBruteForceAcrossEdits() throws {
        var map = randomDistrict(count: 150, seed: 121, size: 300)
        // A small compaction limit: overlay merges and renumbering compactions happen often.
        let engine = try UtilityEngine(network: map, compactAt: 16)
        var script = EditScript(seed: 122)
        var rng = TestRandom(123)
        try Self.check(engine, map, &rng, step: 0)
        var compactions = 0
        for step in 1...60 {
            let (edit, refused) = Self.edit(&script, map)
            let before = engine.snapshot
            if refused {
                #expect(throws: EngineError.self) { try engine.apply(edit) }
                #expect(engine.snapshot === before)
                continue
            }
            try engine.apply(edit)
            map = try referenceEdited(map, edit)
            // Dead rows before, none after: the edit renumbered the rows.
            if before.rowCount > before.count && engine.snapshot.rowCount == engine.snapshot.count { compactions += 1 }
            if step % 4 == 0 { try Self.check(engine, map, &rng, step: step) }
        }
        #expect(compactions > 0)
        try Self.check(engine, map, &rng, step: 61)
        #expect(engine.network == map)
    }
}
