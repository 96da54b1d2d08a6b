import Foundation
import SubterraGeometry
import SubterraIndex
import Testing

/// Every query form of `SegmentIndex` and `DynamicSegmentIndex` against brute force over the same
/// segments with the same exact kernels, on several data families and on degenerate data.
@Suite("SegmentIndex vs brute force")
struct SegmentIndexTests {
    // MARK: Data

    struct RNG {
        var s: UInt64
        mutating func next() -> UInt64 {
            s &+= 0x9E37_79B9_7F4A_7C15
            var z = s
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func uniform(_ a: Double, _ b: Double) -> Double {
            a + (b - a) * Double(next() >> 11) / Double(1 << 53)
        }
    }

    /// Uniform random segments in a square, random directions, 2–60 m.
    static func uniform(_ n: Int, seed: UInt64, origin: Double = 637_000, span: Double = 3000) -> [Segment] {
        var r = RNG(s: seed)
        return (0..<n).map { _ in
            let x = r.uniform(origin, origin + span), y = r.uniform(3_140_000, 3_140_000 + span)
            let a = r.uniform(0, 2 * Double.pi), l = r.uniform(2, 60)
            return Segment(x0: x, y0: y, x1: x + l * cos(a), y1: y + l * sin(a))
        }
    }

    /// Gaussian-ish clusters of short segments.
    static func clustered(_ n: Int, seed: UInt64) -> [Segment] {
        var r = RNG(s: seed)
        let centres = (0..<8).map { _ in (r.uniform(637_000, 640_000), r.uniform(3_140_000, 3_143_000), r.uniform(5, 120)) }
        return (0..<n).map { _ in
            let c = centres[Int(r.next() % 8)]
            let x = c.0 + (r.uniform(-1, 1) + r.uniform(-1, 1)) * c.2, y = c.1 + (r.uniform(-1, 1) + r.uniform(-1, 1)) * c.2
            let a = r.uniform(0, 2 * Double.pi), l = r.uniform(0.5, 20)
            return Segment(x0: x, y0: y, x1: x + l * cos(a), y1: y + l * sin(a))
        }
    }

    /// A street grid: parallel lines at cross-section offsets, chained segments sharing ends,
    /// collinear overlaps (a cable and its duct), axis-parallel and zero-length segments, exact
    /// touches at shared corners.
    static func streets(seed: UInt64) -> [Segment] {
        var r = RNG(s: seed)
        var out: [Segment] = []
        for street in 0..<6 {
            let y = 3_140_000 + Double(street) * 80
            for offset in [-6.0, -3.5, 0, 2.5, 5] {
                var x = 637_000.0
                while x < 637_400 {
                    let step = [10.0, 20, 25, 40][Int(r.next() % 4)]
                    out.append(Segment(x0: x, y0: y + offset, x1: x + step, y1: y + offset))
                    x += step
                }
            }
            // Overlapping duplicate run and a reversed copy.
            out.append(Segment(x0: 637_050, y0: y, x1: 637_150, y1: y))
            out.append(Segment(x0: 637_150, y0: y, x1: 637_050, y1: y))
            // Zero-length segments (a surveyed point pair at one place).
            out.append(Segment(x0: 637_100, y0: y + 1, x1: 637_100, y1: y + 1))
        }
        for avenue in 0..<5 {
            let x = 637_000 + Double(avenue) * 100
            out.append(Segment(x0: x, y0: 3_139_990, x1: x, y1: 3_140_420))
            out.append(Segment(x0: x, y0: 3_140_000, x1: x + 50, y1: 3_140_050))  // diagonal through a corner
        }
        return out
    }

    // MARK: Oracle

    static func hits(_ segs: [Segment], _ ids: [UInt32], _ dist: (Segment) -> Double, within r: Double) -> [UInt32: Double] {
        var best: [UInt32: Double] = [:]
        for (s, id) in zip(segs, ids) {
            let d = dist(s)
            if d <= r { best[id] = min(best[id] ?? .infinity, d) }
        }
        return best
    }

    /// Per-id least distances, sorted.
    static func ranked(_ segs: [Segment], _ ids: [UInt32], _ dist: (Segment) -> Double, filter: (UInt32) -> Bool = { _ in true })
        -> [(UInt32, Double)]
    {
        var best: [UInt32: Double] = [:]
        for (s, id) in zip(segs, ids) where filter(id) { best[id] = min(best[id] ?? .infinity, dist(s)) }
        return best.map { ($0.key, $0.value) }.sorted { ($0.1, $0.0) < ($1.1, $1.0) }
    }

    /// A nearest answer equals brute force up to the order of equal distances: the distance
    /// sequence is the same, and every id is one the oracle has at that distance.
    static func expectNearest(_ got: [Neighbor], _ oracle: [(UInt32, Double)], k: Int, maxDistance: Double,
                              _ what: String) {
        let want = oracle.filter { $0.1 <= maxDistance }.prefix(k)
        #expect(got.map(\.distance) == want.map(\.1), "\(what): distances")
        let byID = Dictionary(oracle.map { ($0.0, $0.1) }, uniquingKeysWith: min)
        for n in got { #expect(byID[n.id] == n.distance, "\(what): id \(n.id) at \(n.distance)") }
        #expect(Set(got.map(\.id)).count == got.count, "\(what): an id twice")
    }

    static func queryPolygon(_ cx: Double, _ cy: Double, _ r: Double, _ rng: inout RNG) -> Polygon {
        let k = 4 + Int(rng.next() % 5)
        var angles = (0..<k).map { _ in rng.uniform(0, 2 * Double.pi) }
        angles.sort()
        var pts = angles.map { a in Point(cx + r * cos(a), cy + r * sin(a)) }
        pts.append(pts[0])
        // Star-shaped around the centre, hence simple; several vertices, so never degenerate.
        return Polygon(exterior: try! LinearRing(pts))
    }

    /// Runs every query form on `index` and compares it with brute force over (segs, ids).
    static func checkAll<I: SegmentSearching>(_ index: I, _ segs: [Segment], _ ids: [UInt32], seed: UInt64,
                                              queries: Int = 40, family: String) {
        var r = RNG(s: seed)
        let scratch = NearestScratch()
        let anchor = { (r: inout RNG) -> (Double, Double) in
            let s = segs[Int(r.next() % UInt64(segs.count))]
            let t = r.uniform(0, 1)
            return (s.x0 + t * (s.x1 - s.x0) + r.uniform(-8, 8), s.y0 + t * (s.y1 - s.y0) + r.uniform(-8, 8))
        }
        for q in 0..<queries {
            let what = "\(family) query \(q)"
            let (x, y) = anchor(&r)
            let p = Point(x, y)
            // Window (sometimes degenerate: a line or a point box).
            let w = r.uniform(0, 50), h = q % 7 == 0 ? 0 : r.uniform(0, 50)
            let box = Box(minX: x - w / 2, minY: y - h / 2, maxX: x + w / 2, maxY: y + h / 2)
            let env = Envelope(minX: box.minX, minY: box.minY, maxX: box.maxX, maxY: box.maxY)
            let wantWindow = Set(zip(segs, ids).filter { Kernel.intersects(segment: $0.0.start, $0.0.end, envelope: env) }.map(\.1))
            #expect(Set(index.intersecting(box)) == wantWindow, "\(what): window")
            #expect(index.intersecting(box).count == wantWindow.count, "\(what): window ids once")
            var perSegment = 0
            index.forEachIntersecting(box) { hit in
                perSegment += 1
                #expect(Kernel.intersects(segment: hit.segment.start, hit.segment.end, envelope: env))
                return .continue
            }
            #expect(perSegment == zip(segs, ids).filter { Kernel.intersects(segment: $0.0.start, $0.0.end, envelope: env) }.count,
                    "\(what): window per segment")

            // Within of a point, a segment, a line and a polygon.
            let radius = q % 5 == 0 ? 0 : r.uniform(0.5, 6)
            let pd: (Segment) -> Double = { Kernel.distance(p, segment: $0.start, $0.end) }
            let b = Point(x + r.uniform(-20, 20), y + r.uniform(-20, 20))
            let sd: (Segment) -> Double = { Kernel.distance(segment: $0.start, $0.end, segment: p, b) }
            let line = try! LineString([p, b, Point(b.x + r.uniform(-15, 15), b.y + r.uniform(-15, 15))])
            let ld: (Segment) -> Double = { s in
                zip(line.points, line.points.dropFirst()).map { Kernel.distance(segment: s.start, s.end, segment: $0, $1) }.min()!
            }
            let poly = queryPolygon(x, y, r.uniform(2, 15), &r)
            let gd: (Segment) -> Double = { Kernel.distance(segment: $0.start, $0.end, polygon: poly) }
            func compareWithin(_ got: [Neighbor], _ d: (Segment) -> Double, _ kind: String) {
                let want = hits(segs, ids, d, within: radius)
                #expect(Dictionary(got.map { ($0.id, $0.distance) }, uniquingKeysWith: { _, _ in -1 }) == want,
                        "\(what): within \(radius) of \(kind)")
                #expect(got.map(\.distance) == got.map(\.distance).sorted(), "\(what): within order")
            }
            compareWithin(index.within(radius, of: p), pd, "point")
            compareWithin(index.within(radius, ofSegment: p, b), sd, "segment")
            compareWithin(index.within(radius, of: line), ld, "line")
            compareWithin(index.within(radius, of: poly), gd, "polygon")
            var cbCount = 0
            index.forEachWithin(radius, of: poly) { hit in
                cbCount += 1
                #expect(hit.distance == gd(hit.segment) && hit.distance <= radius)
                return .continue
            }
            #expect(cbCount == segs.filter { gd($0) <= radius }.count, "\(what): within polygon per segment")

            // Nearest, k = 1 and 10, with and without a max distance and a filter.
            let k = [1, 10, 3][q % 3]
            let maxD = q % 4 == 0 ? r.uniform(1, 10) : .infinity
            let odd: (UInt32) -> Bool = { $0 % 2 == 1 }
            expectNearest(index.nearest(k: k, to: p, maxDistance: maxD), ranked(segs, ids, pd), k: k, maxDistance: maxD,
                          "\(what): nearest point")
            expectNearest(index.nearest(k: k, to: p, maxDistance: maxD, filter: odd), ranked(segs, ids, pd, filter: odd),
                          k: k, maxDistance: maxD, "\(what): nearest point filtered")
            expectNearest(index.nearest(k: k, toSegment: p, b, maxDistance: maxD), ranked(segs, ids, sd), k: k,
                          maxDistance: maxD, "\(what): nearest segment")
            expectNearest(index.nearest(k: k, to: line, maxDistance: maxD), ranked(segs, ids, ld), k: k, maxDistance: maxD,
                          "\(what): nearest line")
            expectNearest(index.nearest(k: k, to: poly, maxDistance: maxD, filter: odd), ranked(segs, ids, gd, filter: odd),
                          k: k, maxDistance: maxD, "\(what): nearest polygon filtered")
            // The callback form: segments in ascending distance, each hit's segment real.
            var last = -Double.infinity, seen = 0
            index.forEachNearest(k: 12, to: p, scratch: scratch) { hit in
                #expect(hit.distance >= last && hit.distance == pd(hit.segment))
                last = hit.distance
                seen += 1
                return .continue
            }
            #expect(seen == min(12, segs.count), "\(what): nearest callback count")
        }
    }

    static func ids(for segs: [Segment], polylines: Bool) -> [UInt32] {
        // Polyline mode: runs of 1–4 consecutive segments share an id, ids not in order.
        guard polylines else { return (0..<segs.count).map { UInt32($0) * 3 + 7 } }
        var out: [UInt32] = [], id: UInt32 = 1000
        var i = 0
        while i < segs.count {
            let run = 1 + i % 4
            for _ in 0..<min(run, segs.count - i) { out.append(id) }
            i += run
            id = id &* 7 &+ 13
        }
        return out
    }

    // MARK: Tests

    @Test(arguments: ["uniform", "clustered", "streets"], [false, true])
    func packedEqualsBruteForce(family: String, polylines: Bool) throws {
        let segs: [Segment] = switch family {
        case "uniform": Self.uniform(2000, seed: 1)
        case "clustered": Self.clustered(2000, seed: 2)
        default: Self.streets(seed: 3)
        }
        let ids = Self.ids(for: segs, polylines: polylines)
        let index = try SegmentIndex(segments: segs, ids: ids)
        #expect(index.count == segs.count)
        #expect(index.idsAreDistinct == !polylines)
        #expect(Set(index.segments.map { "\($0.id) \($0.segment)" }) == Set(zip(ids, segs).map { "\($0.0) \($0.1)" }))
        Self.checkAll(index, segs, ids, seed: 11, family: "\(family) packed polylines=\(polylines)")
    }

    @Test(arguments: ["uniform", "streets"], [false, true])
    func dynamicEqualsBruteForceUnderEdits(family: String, polylines: Bool) throws {
        let segs = family == "uniform" ? Self.uniform(1500, seed: 5) : Self.streets(seed: 6)
        let ids = Self.ids(for: segs, polylines: polylines)
        // Build half, then insert, replace and remove in batches of varied size.
        var groups: [UInt32: [Segment]] = [:]
        var order: [UInt32] = []
        for (s, id) in zip(segs, ids) {
            if groups[id] == nil { order.append(id) }
            groups[id, default: []].append(s)
        }
        let half = order.count / 2
        let first = order[..<half].flatMap { id in groups[id]!.map { ($0, id) } }
        let index = try DynamicSegmentIndex(segments: first.map(\.0), ids: first.map(\.1))
        var rng = RNG(s: 9)
        var live = Dictionary(uniqueKeysWithValues: order[..<half].map { ($0, groups[$0]!) })
        var pending = Array(order[half...])
        while !pending.isEmpty {
            let batch = 1 + Int(rng.next() % 90)
            var edits: [SegmentEdit] = []
            for _ in 0..<min(batch, pending.count) {
                let id = pending.removeLast()
                edits.append(.insert(id: id, segments: groups[id]!))
                live[id] = groups[id]!
            }
            // Move one live id by 3 m, remove another.
            if let id = live.keys.min() {
                let moved = live[id]!.map { Segment(x0: $0.x0 + 3, y0: $0.y0, x1: $0.x1 + 3, y1: $0.y1) }
                edits.append(.replace(id: id, segments: moved))
                live[id] = moved
            }
            if let id = live.keys.max(), live.count > 10 {
                edits.append(.remove(id: id))
                live[id] = nil
            }
            try index.apply(edits)
        }
        let snap = index.snapshot()
        let liveSegs = live.flatMap { id, ss in ss.map { ($0, id) } }
        #expect(snap.count == liveSegs.count)
        #expect(snap.idCount == live.count)
        Self.checkAll(snap, liveSegs.map(\.0), liveSegs.map(\.1), seed: 12, family: "\(family) dynamic polylines=\(polylines)")
        // The packed form over the same live segments answers the same.
        let packed = try SegmentIndex(segments: liveSegs.map(\.0), ids: liveSegs.map(\.1))
        let p = Point(637_120, 3_140_030)
        #expect(snap.nearest(k: 10, to: p).map(\.distance) == packed.nearest(k: 10, to: p).map(\.distance))
        try index.compact()
        Self.checkAll(index.snapshot(), liveSegs.map(\.0), liveSegs.map(\.1), seed: 13, queries: 20,
                      family: "\(family) dynamic compacted")
    }

    @Test func degenerateData() throws {
        // Zero-length segments, collinear overlaps, exact touches, a query point on a segment.
        let segs = [
            Segment(x0: 0, y0: 0, x1: 10, y1: 0), Segment(x0: 5, y0: 0, x1: 15, y1: 0),    // overlap
            Segment(x0: 10, y0: 0, x1: 10, y1: 10),                                          // touch at end
            Segment(x0: 3, y0: 3, x1: 3, y1: 3), Segment(x0: 3, y0: 3, x1: 3, y1: 3),        // zero-length twice
            Segment(x0: 0, y0: 10, x1: 10, y1: 0),                                           // diagonal
            Segment(x0: -5, y0: -5, x1: -1, y1: -1),
        ]
        let index = try SegmentIndex(segments: segs)
        // A box touching a segment only at one corner point.
        #expect(index.intersecting(Box(minX: 10, minY: 10, maxX: 11, maxY: 11)) == [2])
        #expect(index.intersecting(Box(x: 3, y: 3)) == [3, 4])
        // The diagonal passes exactly through the corner (5, 5) of this box.
        #expect(index.intersecting(Box(minX: 5, minY: 5, maxX: 6, maxY: 6)) == [5])
        // A box between the diagonal and the origin, not touching it.
        #expect(index.intersecting(Box(minX: 1, minY: 1, maxX: 2, maxY: 2)) == [])
        let on = index.nearest(k: 3, to: Point(7, 0))
        #expect(on.map(\.distance) == [0, 0, Kernel.distance(Point(7, 0), segment: segs[5].start, segs[5].end)])
        #expect(Set(on.prefix(2).map(\.id)) == [0, 1])
        #expect(index.within(0, of: Point(3, 3)).map(\.id) == [3, 4, 5].filter { Kernel.distance(Point(3, 3), segment: segs[Int($0)].start, segs[Int($0)].end) == 0 })
        Self.checkAll(index, segs, (0..<UInt32(segs.count)).map { $0 }, seed: 4, queries: 40, family: "degenerate")
    }

    @Test func hugeCoordinates() throws {
        // Squares of distances overflow here: the point search must fall back to plain distances.
        for scale in [1e150, 1e200, 1e300] {
            let segs = Self.uniform(500, seed: 8, origin: 0, span: 3000).map {
                Segment(x0: $0.x0 / 3000 * scale, y0: ($0.y0 - 3_140_000) / 3000 * scale,
                        x1: $0.x1 / 3000 * scale, y1: ($0.y1 - 3_140_000) / 3000 * scale)
            }
            let ids = (0..<UInt32(segs.count)).map { $0 }
            let index = try SegmentIndex(segments: segs, ids: ids)
            let p = Point(0.3 * scale, 0.6 * scale)
            let pd: (Segment) -> Double = { Kernel.distance(p, segment: $0.start, $0.end) }
            Self.expectNearest(index.nearest(k: 5, to: p), Self.ranked(segs, ids, pd), k: 5, maxDistance: .infinity,
                               "scale \(scale)")
            let r = Self.ranked(segs, ids, pd)[3].1
            #expect(Set(index.within(r, of: p).map(\.id)) == Set(Self.hits(segs, ids, pd, within: r).keys), "scale \(scale)")
        }
    }

    @Test func refusesBadInput() throws {
        #expect(throws: IndexError.self) { try SegmentIndex(segments: [Segment(x0: 0, y0: 0, x1: .nan, y1: 1)]) }
        #expect(throws: IndexError.self) { try SegmentIndex(segments: [Segment(x0: 0, y0: 0, x1: 1, y1: 1)], ids: [1, 2]) }
        let d = try DynamicSegmentIndex(segments: [Segment(x0: 0, y0: 0, x1: 1, y1: 1)], ids: [5])
        #expect(throws: IndexError.self) { try d.apply([.insert(id: 5, segments: [Segment(x0: 2, y0: 2, x1: 3, y1: 3)])]) }
        #expect(throws: IndexError.self) { try d.apply([.remove(id: 6)]) }
        // A failing batch publishes nothing.
        #expect(throws: IndexError.self) {
            try d.apply([.insert(id: 7, segments: [Segment(x0: 2, y0: 2, x1: 3, y1: 3)]),
                         .insert(id: 8, segments: [Segment(x0: .infinity, y0: 2, x1: 3, y1: 3)])])
        }
        #expect(d.snapshot().nearest(k: 5, to: Point(2, 2)).map(\.id) == [5])
        try d.apply([.insert(id: 7, segments: [Segment(x0: 2, y0: 2, x1: 3, y1: 3)])])
        #expect(d.snapshot().nearest(k: 5, to: Point(2, 2)).map(\.id) == [7, 5])
        let empty = try SegmentIndex(segments: [])
        #expect(empty.nearest(k: 3, to: Point(0, 0)).isEmpty && empty.intersecting(Box(x: 0, y: 0)).isEmpty)
    }

    @Test func lineStringsAreTaggedByLine() throws {
        let a = try LineString([Point(0, 0), Point(10, 0), Point(10, 10)])
        let b = try LineString([Point(0, 1), Point(5, 1)])
        let index = try SegmentIndex(lines: [a, b], ids: [40, 41])
        #expect(index.count == 3 && !index.idsAreDistinct)
        // Both segments of line 40 are within 2 m of (9, 1): it is reported once, at 1 m.
        #expect(index.within(2, of: Point(9, 1)) == [Neighbor(id: 40, distance: 1)])
        #expect(index.nearest(k: 2, to: Point(4, 0.4)).map(\.id) == [40, 41])
        let dynamic = try DynamicSegmentIndex(lines: [a, b], ids: [40, 41])
        #expect(dynamic.snapshot().nearest(k: 2, to: Point(4, 0.4)).map(\.id) == [40, 41])
        try dynamic.replace(id: 40, line: try LineString([Point(100, 100), Point(110, 100)]))
        #expect(dynamic.snapshot().nearest(k: 2, to: Point(4, 0.4)).map(\.id) == [41, 40])
    }
}
