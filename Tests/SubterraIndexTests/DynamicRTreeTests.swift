import Testing
@testable import SubterraIndex

@Suite struct DynamicRTreeTests {
    /// Compares every query kind on `snap` with brute force over `model`.
    func check(_ snap: DynamicRTree.Snapshot, against model: [UInt32: Box], rng: inout SplitMix64, queries: Int = 6) throws {
        #expect(snap.count == model.count)
        let items = model.map { (box: $0.value, id: $0.key) }
        let ids = Array(model.keys)
        for _ in 0..<queries {
            let p = (x: Double.random(in: -50..<1050, using: &rng), y: Double.random(in: -50..<1050, using: &rng))
            let q = Box(minX: p.x, minY: p.y, maxX: p.x + Double.random(in: 0..<80, using: &rng), maxY: p.y + 30)
            let hits = snap.intersecting(q)
            #expect(hits.count == Set(hits).count)
            #expect(Set(hits) == bruteIntersecting(items, q))
            let exact: (UInt32) -> Double = { model[$0]!.distance(toX: p.x, y: p.y) }
            let lb: (Box) -> Double = { $0.distance(toX: p.x, y: p.y) }
            #expect(snap.nearest(k: 9, boxLowerBound: lb, exactDistance: exact) == bruteNearest(ids, k: 9, distance: exact))
            #expect(Array(snap.nearestSequence(boxLowerBound: lb, exactDistance: exact).prefix(12))
                    == bruteNearest(ids, k: 12, distance: exact))
            let within = snap.within(distance: 40, ofX: p.x, y: p.y, exactDistance: exact)
            #expect(Set(within) == Set(ids.map { Neighbor(id: $0, distance: exact($0)) }.filter { $0.distance <= 40 }))
            let boxExact: (UInt32) -> Double = { model[$0]!.distance(to: q) }
            #expect(Set(snap.within(distance: 12, of: q, exactDistance: boxExact))
                    == Set(ids.map { Neighbor(id: $0, distance: boxExact($0)) }.filter { $0.distance <= 12 }))
        }
    }

    func randomBox(_ rng: inout SplitMix64) -> Box {
        let x = Double.random(in: 0..<1000, using: &rng), y = Double.random(in: 0..<1000, using: &rng)
        return Box(x0: x, y0: y, x1: x + Double.random(in: -40..<40, using: &rng), y1: y + Double.random(in: -40..<40, using: &rng))
    }

    /// Default thresholds with large batches (the delta may outgrow the standard threshold, see
    /// `apply`): a bulk load, then batches of updates and removals; the state stays valid and
    /// answers equal brute force, and the delta really does hold more than the standard threshold
    /// (so the batch rule is exercised).
    @Test func largeBatchesWithDefaultThresholds() throws {
        var rng = SplitMix64(seed: 41)
        var model: [UInt32: Box] = [:]
        let index = try DynamicRTree()
        var sawLargeDelta = false
        for batch in 0..<60 {
            var edits: [IndexEdit] = []
            for j in 0..<1000 {
                let id = UInt32(batch * 1000 + j)
                let b = randomBox(&rng)
                edits.append(.insert(id: id, box: b))
                model[id] = b
            }
            try index.apply(edits)
            let snap = index.snapshot()
            if snap.delta.count > Swift.max(1024, snap.count / 64) { sawLargeDelta = true }
        }
        #expect(sawLargeDelta, "no batch let the delta outgrow the standard threshold")
        for _ in 0..<5 {
            var edits: [IndexEdit] = []
            for id in Set((0..<800).map { _ in UInt32.random(in: 0..<60_000, using: &rng) }) where model[id] != nil {
                if Bool.random(using: &rng) {
                    let b = randomBox(&rng)
                    edits.append(.update(id: id, box: b))
                    model[id] = b
                } else {
                    edits.append(.remove(id: id))
                    model[id] = nil
                }
            }
            try index.apply(edits)
        }
        let snap = index.snapshot()
        try snap.validate()
        #expect(snap._baseDead.count + snap._deltaDead.count <= Swift.max(1024, snap.count / 64))
        try check(snap, against: model, rng: &rng, queries: 4)
    }

    /// Random edits under both merge policies: with background merges, edits keep going while a
    /// merge runs and are replayed onto its base, so every snapshot still matches the model.
    @Test(arguments: [7, 60, 100_000], [DynamicRTree.MergePolicy.inline, .background])
    func randomEditSequencesMatchModel(mergeThreshold: Int, merges: DynamicRTree.MergePolicy) throws {
        var rng = SplitMix64(seed: UInt64(mergeThreshold))
        var model: [UInt32: Box] = [:]
        var initial: [(box: Box, id: UInt32)] = []
        for i in 0..<400 {
            let b = randomBox(&rng)
            initial.append((b, UInt32(i * 2)))
            model[UInt32(i * 2)] = b
        }
        let index = try DynamicRTree(items: initial, nodeSize: 6, mergeThreshold: mergeThreshold, merges: merges)
        var nextID: UInt32 = 10_000
        var lastVersion = index.snapshot().version
        var sawMerging = false, finished = 0
        for step in 0..<600 {
            sawMerging = sawMerging || index.isMerging
            if step % 5 == 0 && index.isMerging {
                try index.finishMerges()
                #expect(!index.isMerging)
                let snap = index.snapshot()
                #expect(snap.version == lastVersion, "installing a merge changes no content, so no version")
                try snap.validate()
                try check(snap, against: model, rng: &rng)
                finished += 1
            }
            switch Int.random(in: 0..<3, using: &rng) {
            case 0:
                let b = randomBox(&rng)
                try index.insert(id: nextID, box: b)
                model[nextID] = b
                nextID += 1
            case 1:
                guard let id = model.keys.randomElement(using: &rng) else { continue }
                try index.remove(id: id)
                model[id] = nil
            default:
                guard let id = model.keys.randomElement(using: &rng) else { continue }
                let b = randomBox(&rng)
                try index.update(id: id, box: b)
                model[id] = b
            }
            let snap = index.snapshot()
            #expect(snap.version > lastVersion)
            lastVersion = snap.version
            if step % 25 == 0 {
                try snap.validate()
                try check(snap, against: model, rng: &rng)
                for (id, b) in model.prefix(20) { #expect(snap.box(for: id) == b) }
            }
        }
        if mergeThreshold < 100 { #expect(sawMerging == (merges == .background)) }
        if mergeThreshold == 7 && merges == .background { #expect(finished > 0) }
        try index.finishMerges()
        try index.snapshot().validate()
        try check(index.snapshot(), against: model, rng: &rng)
        try index.compact()
        #expect(!index.isMerging)
        let compacted = index.snapshot()
        #expect(compacted.delta.isEmpty)
        try compacted.validate()
        try check(compacted, against: model, rng: &rng)
    }

    /// A large tree whose background merges take long enough for many edits to arrive meanwhile:
    /// those edits are logged and replayed onto the merged base, never lost or applied twice.
    @Test func backgroundMergesKeepTheEditsMadeMeanwhile() throws {
        var rng = SplitMix64(seed: 4242)
        var model: [UInt32: Box] = [:]
        var initial: [(box: Box, id: UInt32)] = []
        for i in 0..<20_000 {
            let b = randomBox(&rng)
            initial.append((b, UInt32(i)))
            model[UInt32(i)] = b
        }
        let index = try DynamicRTree(items: initial, nodeSize: 16, mergeThreshold: 100, merges: .background)
        var ids = Array(model.keys)
        var nextID: UInt32 = 1_000_000
        for step in 0..<900 {
            let b = randomBox(&rng)
            let k = Int.random(in: 0..<ids.count, using: &rng)
            switch step % 3 {
            case 0:
                try index.apply([.insert(id: nextID, box: b), .remove(id: ids[k])])
                model[ids[k]] = nil
                model[nextID] = b
                ids[k] = nextID
                nextID += 1
            default:
                try index.update(id: ids[k], box: b)
                model[ids[k]] = b
            }
            if step % 300 == 299 {
                let snap = index.snapshot()
                #expect(snap.count == model.count)
                try check(snap, against: model, rng: &rng, queries: 6)
            }
        }
        try index.finishMerges()
        let snap = index.snapshot()
        try snap.validate()
        #expect(snap.count == model.count)
        for (id, b) in model.prefix(500) { #expect(snap.box(for: id) == b) }
        try check(snap, against: model, rng: &rng, queries: 6)
    }

    @Test func editErrorsPublishNothing() throws {
        let index = try DynamicRTree(items: [(Box(x: 1, y: 1), 1), (Box(x: 2, y: 2), 2)])
        #expect(throws: IndexError.duplicateID(1)) { try index.insert(id: 1, box: Box(x: 0, y: 0)) }
        #expect(throws: IndexError.unknownID(9)) { try index.remove(id: 9) }
        #expect(throws: IndexError.unknownID(9)) { try index.update(id: 9, box: Box(x: 0, y: 0)) }
        let before = index.snapshot()
        // A batch whose third edit fails leaves the index untouched.
        #expect(throws: IndexError.self) {
            try index.apply([.insert(id: 3, box: Box(x: 3, y: 3)), .remove(id: 1),
                             .insert(id: 4, box: Box(minX: 1, minY: 1, maxX: 0, maxY: 2))])
        }
        let after = index.snapshot()
        #expect(after.version == before.version && after.count == 2 && after.contains(id: 1) && !after.contains(id: 3))
        // Remove then re-insert the same id in one batch; update of a delta item.
        try index.apply([.remove(id: 1), .insert(id: 1, box: Box(x: 5, y: 5)), .update(id: 1, box: Box(x: 6, y: 6))])
        #expect(index.snapshot().box(for: 1) == Box(x: 6, y: 6))
        #expect(index.intersecting(Box(x: 1, y: 1)).isEmpty)
        #expect(index.intersecting(Box(x: 6, y: 6)) == [1])
        try index.snapshot().validate()
        #expect(throws: IndexError.duplicateID(5)) { try DynamicRTree(items: [(Box(x: 1, y: 1), 5), (Box(x: 2, y: 2), 5)]) }
        let empty = try DynamicRTree()
        #expect(empty.nearest(k: 3, boxLowerBound: { _ in 0 }, exactDistance: { _ in 0 }).isEmpty)
        try empty.insert(id: 0, box: Box(x: 0, y: 0))
        #expect(empty.nearest(k: 3, boxLowerBound: { $0.distance(toX: 1, y: 0) }, exactDistance: { _ in 1 })
                == [Neighbor(id: 0, distance: 1)])
    }
}
