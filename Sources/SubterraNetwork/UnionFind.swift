/// Disjoint sets over `0..<count` in one `Int32` array: path halving, and the smaller index as
/// the root of every union, so each set's root is its smallest member whatever the order of
/// unions (the numbering of topology nodes relies on that to be deterministic).
///
/// - Complexity: ``find(_:)`` and ``union(_:_:)`` O(log n) amortised (path halving without
///   union by rank); memory 4 bytes per element.
struct UnionFind {
    private(set) var parent: [Int32]

    init(count: Int) {
        parent = [Int32](unsafeUninitializedCapacity: count) { buffer, initialised in
            for i in 0..<count { buffer[i] = Int32(i) }
            initialised = count
        }
    }

    /// The root (smallest member) of `x`'s set.
    mutating func find(_ x: Int) -> Int {
        var x = x
        while Int(parent[x]) != x {
            parent[x] = parent[Int(parent[x])]
            x = Int(parent[x])
        }
        return x
    }

    /// Joins the sets of `a` and `b`; returns the root of the joined set.
    @discardableResult
    mutating func union(_ a: Int, _ b: Int) -> Int {
        let ra = find(a), rb = find(b)
        if ra < rb {
            parent[rb] = Int32(ra)
            return ra
        }
        if rb < ra { parent[ra] = Int32(rb) }
        return rb
    }
}
