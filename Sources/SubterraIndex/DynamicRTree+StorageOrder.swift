// Nearest search over a dynamic snapshot's tiers in storage order, for indexes built on top of
// `DynamicRTree` (the dynamic segment index): each packed tier is searched by the same best-first
// loop as a lone `PackedRTree` (one queue per tier: the base alone, the delta with the tail), and
// the two ascending answer streams are merged. Keys inside each search are leaf positions, so an
// answer's id and box are read by position, as in a packed index built by `renumbered(boxes:)`.
// The snapshot's own `forEachNearest` (one queue over every tier, ties by id) is unchanged.

extension DynamicRTree.Snapshot {
    /// Best-first nearest search over the live items, reporting each answer with its box: ascending
    /// exact distance, ties in storage order (base leaves, then delta leaves, then the tail, the
    /// order of `items`), until `body` returns `.stop`, `k` were reported or nothing within
    /// `maxDistance` is left. The closures see item ids, as in `forEachNearest`; tombstoned items
    /// are never seen.
    ///
    /// Each packed tier runs the packed tree's own search (one queue for the base, one for the
    /// delta and the tail) and the answers are merged, so a snapshot searches like a packed tree
    /// per tier (chosen by measurement, see `Benchmarks/NOTES.md`). For the dynamic segment index;
    /// other callers want `forEachNearest`.
    /// - Complexity: about that of `forEachNearest` on each tier.
    @inlinable @inline(__always)
    public func _forEachNearestInStorageOrder(
        k: Int, maxDistance: Double,
        boxLowerBound: (Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch,
        _ body: (Neighbor, Box) throws -> SearchControl
    ) rethrows {
        try _storageOrderNearest(k: k, maxDistance: maxDistance, squared: false, lowerBound: boxLowerBound,
                                 itemDistance: itemDistance, filter: filter, scratch: scratch, body)
    }

    /// The point form of `_forEachNearestInStorageOrder` in squared distances, with the same
    /// safeguards as `PackedRTree.forEachNearest(k:maxDistance:toX:y:…)`: plain distances when a
    /// square could overflow, or when the nearest answer is too small for its square to be exact.
    @inlinable @inline(__always)
    public func _forEachNearestInStorageOrder(
        k: Int, maxDistance: Double, toX x: Double, y: Double,
        itemSquaredDistance: (UInt32, Box) throws -> Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch,
        _ body: (Neighbor, Box) throws -> SearchControl
    ) rethrows {
        var safe = _squaredKeysAreSafe(x: x, y: y, base.bounds) && _squaredKeysAreSafe(x: x, y: y, delta.bounds)
        for item in _tail where safe { safe = _squaredKeysAreSafe(x: x, y: y, item.box) }
        if safe {
            var tiny = false
            try _storageOrderNearest(
                k: k, maxDistance: Swift.max(maxDistance, 0x1p-484), squared: true,
                lowerBound: { $0.squaredDistance(toX: x, y: y) }, itemDistance: itemSquaredDistance,
                filter: filter, scratch: scratch
            ) { n, box in
                // Answers ascend, so a distance too small to square exactly is the first one.
                if n.distance < 0x1p-484 {
                    tiny = true
                    return .stop
                }
                return n.distance > maxDistance ? .stop : try body(n, box)
            }
            if !tiny { return }
        }
        try _storageOrderNearestPlain(k: k, maxDistance: maxDistance, x: x, y: y, itemDistance: itemDistance,
                                      filter: filter, scratch: scratch, body)
    }

    /// The plain-distance point search, the rare path: out of line so the squared one stays small.
    @inlinable @inline(never)
    func _storageOrderNearestPlain(
        k: Int, maxDistance: Double, x: Double, y: Double,
        itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch,
        _ body: (Neighbor, Box) throws -> SearchControl
    ) rethrows {
        try _storageOrderNearest(k: k, maxDistance: maxDistance, squared: false,
                                 lowerBound: { $0.distance(toX: x, y: y) }, itemDistance: itemDistance,
                                 filter: filter, scratch: scratch, body)
    }

    /// Both forms: queue A searches the base, queue B the delta and the tail (when either holds
    /// anything); the smaller head is reported next, A's first on equal distances. Each queue
    /// prunes by its own k-th best, which is never below the merged k-th best.
    @inlinable @inline(__always)
    func _storageOrderNearest(
        k: Int, maxDistance: Double, squared: Bool,
        lowerBound: (Box) throws -> Double, itemDistance: (UInt32, Box) throws -> Double,
        filter: (UInt32) -> Bool, scratch: NearestScratch, _ body: (Neighbor, Box) throws -> SearchControl
    ) rethrows {
        guard k > 0 else { return }
        let first = _basePositional, second = _deltaPositional
        let loose = _tailPositional
        let baseTree = base, deltaTree = delta
        let baseDead = _baseDead, deltaDead = _deltaDead
        let noBaseDead = baseDead.isEmpty, noDeltaDead = deltaDead.isEmpty
        let deltaCount = second.count
        let later = deltaCount > 0 || !loose.isEmpty
        try baseTree._ids.withUnsafeBufferPointer { baseIDs in
            try deltaTree._ids.withUnsafeBufferPointer { deltaIDs in
                try _tail.withUnsafeBufferPointer { tail in
                    var a = _NearestState(scratch: scratch, maxDistance: maxDistance, k: k, squared: squared)
                    defer { a.finish() }
                    var b = _NearestState(scratch: scratch._companion, maxDistance: maxDistance, k: later ? k : 0,
                                          squared: squared)
                    defer { b.finish() }
                    try a.start(first, treeBit: 0, lowerBound: lowerBound)
                    if later {
                        try b.start(second, treeBit: 0, lowerBound: lowerBound)
                        // Tail keys are `deltaCount + i`, never tombstoned.
                        try b.seed(loose, lowerBound: lowerBound, filter: { filter(tail[Int($0) - deltaCount].id) })
                    }
                    var headA: Neighbor? = nil, headB: Neighbor? = nil
                    var needA = true, needB = later
                    var reported = 0
                    while true {
                        if needA {
                            needA = false
                            headA = try a.next(
                                first, first, loose: [], excludedFromFirst: { _ in false }, excludedFromSecond: { _ in false },
                                lowerBound: lowerBound,
                                itemDistance: { p, box in try itemDistance(baseTree._id(at: Int(p), baseIDs), box) },
                                filter: { p in
                                    let id = baseTree._id(at: Int(p), baseIDs)
                                    return (noBaseDead || !baseDead.contains(id)) && filter(id)
                                })
                        }
                        if needB {
                            needB = false
                            headB = try b.next(
                                second, second, loose: loose, excludedFromFirst: { _ in false },
                                excludedFromSecond: { _ in false }, lowerBound: lowerBound,
                                itemDistance: { p, box in
                                    let i = Int(p)
                                    return try itemDistance(
                                        i < deltaCount ? deltaTree._id(at: i, deltaIDs) : tail[i - deltaCount].id, box)
                                },
                                // Called for delta leaves only: the tail was filtered when seeded.
                                filter: { p in
                                    let id = deltaTree._id(at: Int(p), deltaIDs)
                                    return (noDeltaDead || !deltaDead.contains(id)) && filter(id)
                                })
                        }
                        let n: Neighbor, id: UInt32, box: Box
                        if let x = headA, headB.map({ x.distance <= $0.distance }) ?? true {
                            let p = Int(x.id)
                            (n, id, box) = (x, baseTree._id(at: p, baseIDs), first._boxes[p])
                            needA = true
                        } else if let y = headB {
                            let p = Int(y.id)
                            if p < deltaCount {
                                (n, id, box) = (y, deltaTree._id(at: p, deltaIDs), second._boxes[p])
                            } else {
                                (n, id, box) = (y, tail[p - deltaCount].id, tail[p - deltaCount].box)
                            }
                            needB = true
                        } else {
                            return
                        }
                        // Squared searches prune at a hair above maxDistance²; the rooted answer decides.
                        if n.distance > maxDistance { return }
                        reported += 1
                        if try body(Neighbor(id: id, distance: n.distance), box) == .stop || reported == k { return }
                    }
                }
            }
        }
    }
}
