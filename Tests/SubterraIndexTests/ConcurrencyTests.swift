import Testing
import SubterraIndex

@Suite struct IndexConcurrencyTests {
    /// Readers query snapshots while a writer edits in pairs (ids 2k and 2k+1 always inserted and
    /// removed in one batch). Every reader result must equal brute force over the snapshot it saw,
    /// and no snapshot may hold half a pair.
    @Test func readersSeeConsistentSnapshotsWhileWriterEdits() async throws {
        var rng = SplitMix64(seed: 77)
        func box(_ rng: inout SplitMix64) -> Box {
            let x = Double.random(in: 0..<500, using: &rng), y = Double.random(in: 0..<500, using: &rng)
            return Box(minX: x, minY: y, maxX: x + Double.random(in: 0..<20, using: &rng), maxY: y + 5)
        }
        var initial: [(box: Box, id: UInt32)] = []
        for k in 0..<300 { initial.append((box(&rng), UInt32(2 * k))); initial.append((box(&rng), UInt32(2 * k + 1))) }
        let index = try DynamicRTree(items: initial, mergeThreshold: 50)
        let writerBoxes = (0..<400).map { _ in (box(&rng), box(&rng)) }

        try await withThrowingTaskGroup(of: Int.self) { group in
            group.addTask {
                var live = Set(0..<300)
                var nextPair = 300
                for (i, (a, b)) in writerBoxes.enumerated() {
                    if i % 3 == 2, let k = live.first {
                        try index.apply([.remove(id: UInt32(2 * k)), .remove(id: UInt32(2 * k + 1))])
                        live.remove(k)
                    } else if i % 3 == 1, let k = live.first {
                        try index.apply([.update(id: UInt32(2 * k), box: a), .update(id: UInt32(2 * k + 1), box: b)])
                    } else {
                        try index.apply([.insert(id: UInt32(2 * nextPair), box: a), .insert(id: UInt32(2 * nextPair + 1), box: b)])
                        live.insert(nextPair)
                        nextPair += 1
                    }
                }
                return 0
            }
            for r in 0..<4 {
                group.addTask {
                    var rng = SplitMix64(seed: UInt64(r))
                    var checked = 0
                    for _ in 0..<120 {
                        let snap = index.snapshot()
                        let items = snap.items
                        let model = Dictionary(uniqueKeysWithValues: items.map { ($0.id, $0.box) })
                        for (id, _) in model { #expect(model[id ^ 1] != nil, "half a batch visible: \(id)") }
                        let p = (x: Double.random(in: 0..<500, using: &rng), y: Double.random(in: 0..<500, using: &rng))
                        let q = Box(minX: p.x, minY: p.y, maxX: p.x + 40, maxY: p.y + 40)
                        #expect(Set(snap.intersecting(q)) == bruteIntersecting(items, q))
                        let exact: (UInt32) -> Double = { model[$0]!.distance(toX: p.x, y: p.y) }
                        let got = snap.nearest(k: 5, boxLowerBound: { $0.distance(toX: p.x, y: p.y) }, exactDistance: exact)
                        #expect(got == bruteNearest(Array(model.keys), k: 5, distance: exact))
                        checked += 1
                    }
                    return checked
                }
            }
            var total = 0
            for try await c in group { total += c }
            #expect(total == 480)
        }
        try index.snapshot().validate()
    }
}
