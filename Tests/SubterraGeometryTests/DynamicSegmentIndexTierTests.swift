import Foundation
@testable import SubterraGeometry
@testable import SubterraIndex
import Testing

/// The dynamic segment index's nearest search runs one queue per packed tier (base; delta with
/// the tail) and merges them. These tests put live items, tombstones and ties in every tier and
/// compare every answer with brute force over the live segments.
@Suite("DynamicSegmentIndex tiers vs brute force")
struct DynamicSegmentIndexTierTests {
    typealias T = SegmentIndexTests

    /// An index with items in base, delta and tail, tombstones in base and delta, and the model
    /// of what is live (id → segments). Ids are `3i + 7`; polylines give 1–3 segments per id.
    static func tieredIndex(seed: UInt64, polylines: Bool, merges: DynamicRTree.MergePolicy = .inline) throws
        -> (DynamicSegmentIndex, [UInt32: [Segment]])
    {
        let segs = T.uniform(1200, seed: seed)
        var groups: [(UInt32, [Segment])] = []
        var i = 0
        while i < segs.count {
            let run = polylines ? 1 + i % 3 : 1
            groups.append((UInt32(groups.count) * 3 + 7, Array(segs[i..<min(i + run, segs.count)])))
            i += run
        }
        let baseCount = groups.count * 2 / 3
        let initial = groups[..<baseCount]
        let index = try DynamicSegmentIndex(segments: initial.flatMap(\.1),
                                            ids: initial.flatMap { g in g.1.map { _ in g.0 } }, merges: merges)
        var live = Dictionary(uniqueKeysWithValues: initial.map { ($0.0, $0.1) })
        var rng = T.RNG(s: seed ^ 0xABCD)
        // One by one: the tail overflows into the delta every 64 segments; what is left stays in
        // the tail.
        for (id, ss) in groups[baseCount...] {
            try index.apply([.insert(id: id, segments: ss)])
            live[id] = ss
        }
        // Tombstones: remove and move some base ids and some delta ids (ids from the later groups
        // went through the delta unless they are still in the tail).
        let baseIDs = initial.map(\.0), laterIDs = groups[baseCount...].map(\.0)
        for _ in 0..<25 {
            for pool in [baseIDs, Array(laterIDs.dropLast(40))] {
                let id = pool[Int(rng.next() % UInt64(pool.count))]
                guard let ss = live[id] else { continue }
                if rng.next() % 2 == 0 {
                    try index.remove(id: id)
                    live[id] = nil
                } else {
                    let moved = ss.map { Segment(x0: $0.x0 + 4, y0: $0.y0 - 2, x1: $0.x1 + 4, y1: $0.y1 - 2) }
                    try index.apply([.replace(id: id, segments: moved)])
                    live[id] = moved
                }
            }
        }
        return (index, live)
    }

    static func flat(_ live: [UInt32: [Segment]]) -> (segs: [Segment], ids: [UInt32]) {
        let pairs = live.sorted { $0.key < $1.key }.flatMap { id, ss in ss.map { ($0, id) } }
        return (pairs.map(\.0), pairs.map(\.1))
    }

    @Test(arguments: [false, true])
    func everyTierHoldsItemsAndTombstones(polylines: Bool) throws {
        let (index, live) = try Self.tieredIndex(seed: 21, polylines: polylines)
        let snap = index.snapshot()
        let tiers = snap._index
        #expect(tiers.base.count > 0 && tiers.delta.count > 0 && !tiers._tail.isEmpty, "items in every tier")
        #expect(!tiers._baseDead.isEmpty && !tiers._deltaDead.isEmpty, "tombstones in base and delta")
        try tiers.validate()
        let (segs, ids) = Self.flat(live)
        #expect(snap.count == segs.count)
        T.checkAll(snap, segs, ids, seed: 31, queries: 60, family: "tiers polylines=\(polylines)")
    }

    @Test func kBeyondTheLiveCount() throws {
        let (index, live) = try Self.tieredIndex(seed: 22, polylines: false)
        let snap = index.snapshot()
        let (segs, ids) = Self.flat(live)
        let p = Point(638_000, 3_141_000)
        let pd: (Segment) -> Double = { Kernel.distance(p, segment: $0.start, $0.end) }
        let all = snap.nearest(k: segs.count + 50, to: p)
        T.expectNearest(all, T.ranked(segs, ids, pd), k: .max, maxDistance: .infinity, "k past count")
        #expect(all.count == live.count)
        // The callback form with an open-ended k reports every live segment once.
        var keys = Set<String>()
        snap.forEachNearest(to: p, scratch: NearestScratch()) { hit in
            keys.insert("\(hit.id) \(hit.segment)")
            return .continue
        }
        #expect(keys == Set(zip(ids, segs).map { "\($0.0) \($0.1)" }))
        // A segment query with k past the count, and with a filter that keeps a few.
        let b = Point(638_040, 3_141_030)
        let sd: (Segment) -> Double = { Kernel.distance(segment: $0.start, $0.end, segment: p, b) }
        T.expectNearest(snap.nearest(k: segs.count + 1, toSegment: p, b), T.ranked(segs, ids, sd), k: .max,
                        maxDistance: .infinity, "segment, k past count")
        let few: (UInt32) -> Bool = { $0 % 97 == 0 }
        T.expectNearest(snap.nearest(k: 1000, to: p, filter: few), T.ranked(segs, ids, pd, filter: few), k: 1000,
                        maxDistance: .infinity, "filtered, k past the matches")
    }

    /// Equal distances in every tier: copies of one segment in base, delta and tail, answered in
    /// storage order (the order of `segments`), and the distances equal brute force.
    @Test func tiesComeInStorageOrder() throws {
        let s = Segment(x0: 100, y0: 100, x1: 110, y1: 100)
        let mirror = Segment(x0: 110, y0: 120, x1: 100, y1: 120)  // same distance from (105, 110)
        let far = T.uniform(300, seed: 4, origin: 0, span: 50).map {
            Segment(x0: $0.x0 + 1000, y0: $0.y0 - 3_140_000 + 1000, x1: $0.x1 + 1000, y1: $0.y1 - 3_140_000 + 1000)
        }
        var segs = far + [s, mirror, s]
        var ids = (0..<UInt32(segs.count)).map { $0 }
        let index = try DynamicSegmentIndex(segments: segs, ids: ids)
        var next = UInt32(segs.count)
        // 70 copies: 64 overflow into the delta, 6 stay in the tail.
        for j in 0..<70 {
            let c = j % 2 == 0 ? s : mirror
            try index.apply([.insert(id: next, segments: [c])])
            segs.append(c)
            ids.append(next)
            next += 1
        }
        // A tombstone among the copies in the base and in the delta.
        try index.remove(id: UInt32(far.count))
        try index.remove(id: UInt32(far.count + 5))
        let removed: Set<UInt32> = [UInt32(far.count), UInt32(far.count + 5)]
        let liveSegs = zip(segs, ids).filter { !removed.contains($0.1) }
        let snap = index.snapshot()
        #expect(snap._index.delta.count > 0 && !snap._index._tail.isEmpty)
        let p = Point(105, 110)
        let storage = snap.segments.map(\.id)
        for k in [1, 5, 40, 71, 200] {
            var got: [SegmentHit] = []
            snap.forEachNearest(k: k, to: p, scratch: NearestScratch()) { got.append($0); return .continue }
            let want = liveSegs.map { Kernel.distance(p, segment: $0.0.start, $0.0.end) }.sorted().prefix(k)
            #expect(got.map(\.distance) == Array(want), "k \(k): distances")
            let tied = got.filter { $0.distance == 10 }.map(\.id)
            #expect(tied == storage.filter { Set(tied).contains($0) }, "k \(k): ties in storage order")
        }
    }

    /// A search started inside another's callback with the same scratch (both queues in use).
    @Test func reentrantSearchesShareNothing() throws {
        let (index, live) = try Self.tieredIndex(seed: 23, polylines: false)
        let snap = index.snapshot()
        let (segs, ids) = Self.flat(live)
        let scratch = NearestScratch()
        let p = Point(638_500, 3_141_500), q = Point(637_700, 3_140_900)
        let pd: (Segment) -> Double = { Kernel.distance(p, segment: $0.start, $0.end) }
        let qd: (Segment) -> Double = { Kernel.distance(q, segment: $0.start, $0.end) }
        var outer: [Neighbor] = []
        snap.forEachNearest(k: 8, to: p, scratch: scratch) { hit in
            outer.append(Neighbor(id: hit.id, distance: hit.distance))
            var inner: [Neighbor] = []
            snap.forEachNearest(k: 5, to: q, scratch: scratch) { inner.append(Neighbor(id: $0.id, distance: $0.distance)); return .continue }
            T.expectNearest(inner, T.ranked(segs, ids, qd), k: 5, maxDistance: .infinity, "inner")
            return .continue
        }
        T.expectNearest(outer, T.ranked(segs, ids, pd), k: 8, maxDistance: .infinity, "outer")
    }

    /// Query points on a segment (distance 0: the plain-distance restart) and huge coordinates
    /// (squares would overflow), with items in every tier.
    @Test func plainDistancePathsInEveryTier() throws {
        for scale in [1.0, 1e200] {
            let base = T.uniform(400, seed: 9, origin: 0, span: 3000).map {
                Segment(x0: $0.x0 * scale, y0: ($0.y0 - 3_140_000) * scale, x1: $0.x1 * scale, y1: ($0.y1 - 3_140_000) * scale)
            }
            let index = try DynamicSegmentIndex(segments: Array(base[..<300]), ids: (0..<300).map { UInt32($0) })
            for j in 300..<400 { try index.apply([.insert(id: UInt32(j), segments: [base[j]])]) }
            try index.remove(id: 5)
            try index.remove(id: 320)
            let snap = index.snapshot()
            #expect(snap._index.delta.count > 0 && !snap._index._tail.isEmpty)
            let ids = (0..<UInt32(400)).filter { $0 != 5 && $0 != 320 }
            let segs = ids.map { base[Int($0)] }
            for pick in [3, 310, 399] {
                let s = base[pick]
                for p in [Point((s.x0 + s.x1) / 2, (s.y0 + s.y1) / 2), Point(s.x0 + 7 * scale, s.y0 - 3 * scale)] {
                    let pd: (Segment) -> Double = { Kernel.distance(p, segment: $0.start, $0.end) }
                    T.expectNearest(snap.nearest(k: 6, to: p), T.ranked(segs, ids, pd), k: 6, maxDistance: .infinity,
                                    "scale \(scale) near segment \(pick)")
                }
            }
        }
    }

    /// Background merges: a snapshot taken while a merge runs, and one after it is installed,
    /// both answer as brute force.
    @Test func backgroundMergedSnapshots() throws {
        let (index, live) = try Self.tieredIndex(seed: 24, polylines: true, merges: .background)
        let (segs, ids) = Self.flat(live)
        T.checkAll(index.snapshot(), segs, ids, seed: 41, queries: 20, family: "background before")
        try index.finishMerges()
        T.checkAll(index.snapshot(), segs, ids, seed: 42, queries: 20, family: "background after")
        try index.compact()
        #expect(index.snapshot()._index.delta.count == 0)
        T.checkAll(index.snapshot(), segs, ids, seed: 43, queries: 20, family: "compacted")
    }
}
