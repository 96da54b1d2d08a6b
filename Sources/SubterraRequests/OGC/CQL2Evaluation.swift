import SubterraGeometry
import SubterraModel

/// A CQL2 filter checked against the properties a caller may see and ready to run: each
/// property predicate compiled to a test on the record, each spatial predicate numbered (its
/// answer, a set of segment ids, comes from the engine's index; see ``OGCFeatures``).
///
/// Logic is two-valued: a comparison, `IN`, `BETWEEN` or `LIKE` on a missing value is false
/// (so `NOT (x = 1)` holds where `x` is missing); `IS NULL` is the way to ask for it.
struct _CQL2Plan: Sendable {
    indirect enum Node: Sendable {
        case and([Node])
        case or([Node])
        case not(Node)
        case constant(Bool)
        case test(@Sendable (PipeSegment) -> Bool)
        case spatial(Int)
    }

    /// The spatial predicates: geometry (in the filter CRS) and distance, by number.
    var spatial: [(geometry: Geometry, distance: Double)] = []
    var root: Node = .constant(true)
    /// Whether any predicate reads the record (else ids alone answer).
    var readsRecords = false

    /// Compiles `e`; a property unknown or not visible is refused with the same words.
    init(_ e: CQL2Expression, visible: (String) -> Bool) throws(OGCError) {
        root = try compile(e, visible)
    }

    /// The spatial predicates every match must satisfy (the root, or conjuncts of a root AND):
    /// their id sets bound the candidates, so no scan of the layer is needed.
    var requiredSpatial: [Int] {
        switch root {
        case .spatial(let i): return [i]
        case .and(let parts): return parts.compactMap { if case .spatial(let i) = $0 { i } else { nil } }
        default: return []
        }
    }

    /// Whether the feature `id` (record `s`; nil is enough when ``readsRecords`` is false)
    /// matches, given each spatial predicate's id set.
    func matches(_ id: Int64, _ s: PipeSegment?, _ sets: [Set<Int64>]) -> Bool { Self.eval(root, id, s, sets) }

    private static func eval(_ n: Node, _ id: Int64, _ s: PipeSegment?, _ sets: [Set<Int64>]) -> Bool {
        switch n {
        case .and(let ps): return ps.allSatisfy { eval($0, id, s, sets) }
        case .or(let ps): return ps.contains { eval($0, id, s, sets) }
        case .not(let p): return !eval(p, id, s, sets)
        case .constant(let b): return b
        case .test(let t): return s.map(t) ?? false
        case .spatial(let i): return sets[i].contains(id)
        }
    }

    private static func bad(_ detail: String) -> OGCError { OGCError.bad("filter", detail) }

    private mutating func compile(_ e: CQL2Expression, _ visible: (String) -> Bool) throws(OGCError) -> Node {
        func property(_ name: String) throws(OGCError) -> OGCProperty {
            guard let p = OGCProperty.byName[name], name == "id" || visible(name) else {
                throw Self.bad("unknown property '\(name)' (see the collection's queryables)")
            }
            return p
        }
        func check(_ p: OGCProperty, _ l: CQL2Literal) throws(OGCError) {
            switch (p.kind, l) {
            case (.string, .string), (.number, .number), (.integer, .number): return
            case (.string, .number(let n)): throw Self.bad("property '\(p.name)' is a string; compared with the number \(n)")
            case (_, .string(let s)): throw Self.bad("property '\(p.name)' is a number; compared with the string '\(s)'")
            }
        }
        switch e {
        case .and(let ps):
            var out: [Node] = []
            for p in ps { out.append(try compile(p, visible)) }
            return .and(out)
        case .or(let ps):
            var out: [Node] = []
            for p in ps { out.append(try compile(p, visible)) }
            return .or(out)
        case .not(let p): return .not(try compile(p, visible))
        case .boolean(let b): return .constant(b)
        case .intersects(let g):
            spatial.append((g, 0))
            return .spatial(spatial.count - 1)
        case .dwithin(let g, let d):
            spatial.append((g, d))
            return .spatial(spatial.count - 1)
        case .compare(let name, let op, let l):
            let p = try property(name)
            try check(p, l)
            readsRecords = true
            return .test { s in Self.compare(p.value(s), l).map { op.holds($0) } ?? false }
        case .isIn(let name, let ls):
            let p = try property(name)
            for l in ls { try check(p, l) }
            readsRecords = true
            return .test { s in ls.contains { Self.compare(p.value(s), $0) == 0 } }
        case .between(let name, let lo, let hi):
            let p = try property(name)
            try check(p, lo)
            try check(p, hi)
            readsRecords = true
            return .test { s in
                guard let a = Self.compare(p.value(s), lo), let b = Self.compare(p.value(s), hi) else { return false }
                return a >= 0 && b <= 0
            }
        case .like(let name, let pattern):
            let p = try property(name)
            guard p.kind == .string else { throw Self.bad("LIKE needs a string property; '\(name)' is a number") }
            readsRecords = true
            let pat = Array(pattern)
            return .test { s in
                guard case .string(let v) = p.value(s) else { return false }
                return Self.like(Array(v), pat)
            }
        case .isNull(let name):
            let p = try property(name)
            readsRecords = true
            return .test { s in p.value(s) == .null }
        }
    }

    /// -1, 0, 1 comparing a property's value with a literal of its type; nil when the value is
    /// missing.
    static func compare(_ v: JSONValue, _ l: CQL2Literal) -> Int? {
        switch (v, l) {
        case (.number(let a), .number(let b)): return a < b ? -1 : a > b ? 1 : 0
        case (.string(let a), .string(let b)): return a < b ? -1 : a > b ? 1 : 0
        default: return nil
        }
    }

    /// Whether `s` matches the LIKE pattern `p` (`%`, `_`, `\` escape). O(|s|·|p|) at worst
    /// (the usual wildcard walk, backtracking to the last `%` only).
    static func like(_ s: [Character], _ p: [Character]) -> Bool {
        // Tokens: nil = %, "\u{0}"-tagged any = _, else a literal character.
        enum T: Equatable { case any, one, char(Character) }
        var ts: [T] = []
        var i = 0
        while i < p.count {
            switch p[i] {
            case "%": ts.append(.any)
            case "_": ts.append(.one)
            case "\\" where i + 1 < p.count:
                i += 1
                ts.append(.char(p[i]))
            default: ts.append(.char(p[i]))
            }
            i += 1
        }
        var si = 0, ti = 0, star = -1, mark = 0
        while si < s.count {
            if ti < ts.count, ts[ti] == .one || ts[ti] == .char(s[si]) {
                si += 1
                ti += 1
            } else if ti < ts.count, ts[ti] == .any {
                star = ti
                mark = si
                ti += 1
            } else if star >= 0 {
                ti = star + 1
                mark += 1
                si = mark
            } else {
                return false
            }
        }
        while ti < ts.count, ts[ti] == .any { ti += 1 }
        return ti == ts.count
    }
}

extension CQL2Comparison {
    /// Whether a comparison result (-1, 0, 1) satisfies this operator.
    func holds(_ c: Int) -> Bool {
        switch self {
        case .eq: c == 0
        case .ne: c != 0
        case .lt: c < 0
        case .le: c <= 0
        case .gt: c > 0
        case .ge: c >= 0
        }
    }
}
