import SubterraGeometry
import SubterraModel

// Network decisions that need the whole district before the first record streams: where each
// pressurised component's source is, where drainage discharges, and how deep every drainage
// survey point lies so that gravity carries water to an outfall.
//
// **Why a pre-pass.** A point's kind and depth are written the moment the walk reaches it, but
// a component (which pipes of a line type, or of one gas pressure class, are connected) and a
// fall toward an outfall are properties of the whole walk, including where `maxSegments` cuts it
// off. So `_NetworkPlan` walks the layout once without attributes (the geometry-only walk), keeps
// one small record per street run and per junction, and decides:
//
// - **Sources.** Every connected component of water, reclaimed water, heat, and of gas per
//   pressure class (the topology's scope), gets one source at a junction: the component's
//   first junction in walk order, for gas preferring a junction no other pressure class
//   reaches (else one already chosen for another class, else the first). The first component
//   of each line type therefore keeps the district's south-west source.
// - **Outfalls.** Storm and sewage each form components; the district is cut into cells of
//   6 × 5 grid nodes, and in every (component, cell) the junction with the lowest design pipe
//   top is an outfall (to a canal or, for sewage, a pumping main), so every component has one
//   and no catchment spans more than a cell or two.
// - **Pipe tops.** At a drainage junction the design top is ground − the point's random depth
//   (as before). A priority flood from the outfalls (lowest top first; Barnes, Lehman & Mulla
//   2014) raises a junction's top where needed so that it lies at least 0.2 % of the pipe's
//   length (at least 2 cm) above the junction it was reached from, and 3 mm away from every
//   neighbour already set; where that would raise a junction more than 25 cm above its design
//   top (a dip in the ground), the junction becomes an outfall of its own instead: every junction then has a strictly lower neighbour, and no pipe
//   between junctions is flat. Interior points slope linearly between their run's ends when
//   those differ by at least 5 mm a piece; otherwise the run rises to a summit at its middle
//   point and falls both ways. A run the walk cut short drains to its start. A lateral's
//   building end lies at least 5 cm (or 1 % of its length) above the main. Segments are then
//   written in flow direction (start = upstream end, as CJJ 61 tables record drainage), so the
//   network quality check finds no pipe rising against its direction.
//
// Memory: one entry per run and junction of these line types (O(grid nodes)), like the junction
// numbering the stream already keeps. Time: one extra geometry-only walk, O(segments).

/// Fixed cell size, in grid nodes, within which one outfall per drainage component is placed.
let _outfallCellColumns = 6
let _outfallCellRows = 5

extension LineType {
    /// Storm and sewage: gravity lines with outfalls and inverts falling toward them.
    var isDrainage: Bool { self == .storm || self == .sewage }
}

/// Sources, outfalls and drainage pipe tops of one generated district (see file comment).
struct _NetworkPlan {
    /// Junction refs whose kind is decided by the plan: sources and outfalls.
    var kinds: [_PointRef: PointKind] = [:]
    /// Design pipe-top elevation (mm) of each drainage junction.
    var junctionTop: [_PointRef: Double] = [:]
    /// Drainage runs: end junctions and how many pieces the walk produced.
    var runs: [_GeneratorState._RunKey: _DrainRun] = [:]

    struct _DrainRun {
        var start: UInt64
        /// The end junction's node key; nil when the walk stopped inside the run.
        var end: UInt64?
        var pieces: Int
    }

    init() {}

    /// Plans the district `layout.walk(maxSegments:)` produces. O(segments).
    init(layout: DistrictLayout, segments: Int) {
        struct Run {
            var type: LineType
            var gasClass: GasPressureClass?
            var start: UInt64
            var end: UInt64?
            var pieces: Int
            var startXY: (Double, Double)
            var endXY: (Double, Double)
        }
        var runs: [Run] = []
        var runIndex: [_GeneratorState._RunKey: Int] = [:]
        layout.walk(maxSegments: segments) { raw in
            let t = raw.type
            guard !raw.isLateral, t.isPressurised || t.isDrainage else { return }
            let key = _GeneratorState._RunKey(edgeKey: raw.edgeKey, type: t)
            let k: Int
            if let known = runIndex[key] {
                k = known
            } else {
                var gasClass: GasPressureClass?
                if t == .gas {
                    var r = Xoshiro256(seed: layout.seed, key: raw.edgeKey, salt: 0x6174_7200 + UInt64(t.rawValue))
                    let attr = _RunAttributes(type: t, role: raw.streetClass.role, &r, ownerSalt: 0)
                    gasClass = attr.pressure.flatMap { GasPressureClass(megapascals: $0) }
                }
                k = runs.count
                runIndex[key] = k
                runs.append(Run(type: t, gasClass: gasClass, start: raw.start.key, end: nil, pieces: 0,
                                startXY: (raw.x0, raw.y0), endXY: (raw.x0, raw.y0)))
            }
            runs[k].pieces += 1
            if raw.end.kind == .junction {
                runs[k].end = raw.end.key
                runs[k].endXY = (raw.x1, raw.y1)
            }
        }
        planSources(runs.filter { $0.type.isPressurised }.map { ($0.type, $0.gasClass, $0.start, $0.end) })
        for t in [LineType.storm, .sewage] {
            let mine = runs.filter { $0.type == t }
            planDrainage(
                t, layout,
                mine.map { _FloodRun(start: $0.start, end: $0.end, startXY: $0.startXY, endXY: $0.endXY) })
        }
        for (key, k) in runIndex where runs[k].type.isDrainage {
            self.runs[key] = _DrainRun(start: runs[k].start, end: runs[k].end, pieces: runs[k].pieces)
        }
    }

    /// One source per component of each pressurised line type (gas: per pressure class).
    private mutating func planSources(_ runs: [(LineType, GasPressureClass?, UInt64, UInt64?)]) {
        struct Group: Hashable { var type: LineType; var gasClass: GasPressureClass? }
        var order: [Group] = []
        var nodes: [Group: [UInt64]] = [:]
        var slot: [Group: [UInt64: Int]] = [:]
        var sets: [Group: _UnionFind] = [:]
        var classesAt: [UInt64: Set<GasPressureClass?>] = [:]
        func add(_ g: Group, _ key: UInt64) -> Int {
            if let s = slot[g]?[key] { return s }
            let s = nodes[g, default: []].count
            nodes[g, default: []].append(key)
            slot[g, default: [:]][key] = s
            sets[g, default: _UnionFind()].add()
            return s
        }
        for (t, c, a, b) in runs {
            let g = Group(type: t, gasClass: c)
            if nodes[g] == nil { order.append(g) }
            let sa = add(g, a)
            if t == .gas { classesAt[a, default: []].insert(c) }
            if let b {
                let sb = add(g, b)
                sets[g]!.union(sa, sb)
                if t == .gas { classesAt[b, default: []].insert(c) }
            }
        }
        // Types in a fixed order (gas classes in walk order), components in walk order.
        for g in order.enumerated().sorted(by: { ($0.element.type.rawValue, $0.offset) < ($1.element.type.rawValue, $1.offset) }).map(\.element) {
            var uf = sets[g]!
            let keys = nodes[g]!
            var members: [Int: [Int]] = [:]
            var roots: [Int] = []
            for s in keys.indices {
                let r = uf.find(s)
                if members[r] == nil { roots.append(r) }
                members[r, default: []].append(s)
            }
            let kind = g.type.sourceKind!
            for r in roots {
                let m = members[r]!
                let ref = { (s: Int) in _PointRef(kind: .junction, key: keys[s], type: g.type, index: 0) }
                var pick = m[0]
                if g.type == .gas {
                    if let own = m.first(where: { (classesAt[keys[$0]]?.count ?? 0) <= 1 }) {
                        pick = own
                    } else if let shared = m.first(where: { kinds[ref($0)] != nil }) {
                        pick = shared
                    }
                }
                kinds[ref(pick)] = kind
            }
            sets[g] = uf
        }
    }

    struct _FloodRun {
        var start: UInt64
        var end: UInt64?
        var startXY: (Double, Double)
        var endXY: (Double, Double)
    }

    /// Outfalls and junction pipe tops of one drainage line type (see file comment).
    private mutating func planDrainage(_ t: LineType, _ layout: DistrictLayout, _ runs: [_FloodRun]) {
        var keys: [UInt64] = []
        var slot: [UInt64: Int] = [:]
        var xy: [(Double, Double)] = []
        var uf = _UnionFind()
        func add(_ key: UInt64, _ p: (Double, Double)) -> Int {
            if let s = slot[key] { return s }
            slot[key] = keys.count
            keys.append(key)
            xy.append(p)
            uf.add()
            return keys.count - 1
        }
        var adjacency: [[(Int, Double)]] = []
        for r in runs {
            let a = add(r.start, r.startXY)
            while adjacency.count < keys.count { adjacency.append([]) }
            guard let end = r.end else { continue }
            let b = add(end, r.endXY)
            while adjacency.count < keys.count { adjacency.append([]) }
            guard a != b else { continue }
            let dx = r.endXY.0 - r.startXY.0, dy = r.endXY.1 - r.startXY.1
            let len = (dx * dx + dy * dy).squareRoot()
            adjacency[a].append((b, len))
            adjacency[b].append((a, len))
            uf.union(a, b)
        }
        let n = keys.count
        guard n > 0 else { return }
        // Design tops: ground − the point's own random depth (the draw `pointNumber` makes).
        let design = (0..<n).map { s -> Double in
            var r = Xoshiro256(seed: layout.seed, key: _mix(keys[s], 0), salt: 0x6470_0000 + UInt64(t.rawValue))
            let depth = _cm(r.uniform(t.depthBand.lowerBound, t.depthBand.upperBound))
            return _mm(_ground(xy[s].0, xy[s].1, layout)) - depth
        }
        // One outfall per (component, cell): its lowest design top (ties: first in walk order).
        struct Cell: Hashable { var root: Int; var cx: Int; var cy: Int }
        var lowest: [Cell: Int] = [:]
        var cellOrder: [Cell] = []
        let w = Double(_outfallCellColumns) * layout.spacing, h = Double(_outfallCellRows) * layout.spacing
        for s in 0..<n {
            let c = Cell(
                root: uf.find(s), cx: Int(((xy[s].0 - layout.gridOrigin.x) / w).rounded(.down)),
                cy: Int(((xy[s].1 - layout.gridOrigin.y) / h).rounded(.down)))
            if let o = lowest[c] {
                if design[s] < design[o] { lowest[c] = s }
            } else {
                lowest[c] = s
                cellOrder.append(c)
            }
        }
        // Priority flood from the outfalls, lowest top first.
        var top = [Double?](repeating: nil, count: n)
        var heap = _MinHeap()
        for c in cellOrder {
            let s = lowest[c]!
            top[s] = _mm(design[s])
            heap.push(top[s]!, s)
            kinds[_PointRef(kind: .junction, key: keys[s], type: t, index: 0)] = .outfall
        }
        while let (tv, v) = heap.pop() {
            for (w, len) in adjacency[v] where top[w] == nil {
                var tw = _mm(max(design[w], tv + max(0.02, 0.002 * len)))
                if tw - design[w] > 0.25 {
                    // A dip the fall would bring a pipe too near the surface in: it discharges
                    // there instead (its own outfall), at its design depth.
                    tw = _mm(design[w])
                    kinds[_PointRef(kind: .junction, key: keys[w], type: t, index: 0)] = .outfall
                }
                // Three millimetres from every neighbour already set: no flat pipe.
                var moved = true
                while moved {
                    moved = false
                    for (x, _) in adjacency[w] {
                        if let tx = top[x], abs(tx - tw) < 0.0025 {
                            tw = _mm(tx + 0.003)
                            moved = true
                        }
                    }
                }
                top[w] = tw
                heap.push(tw, w)
            }
        }
        for s in 0..<n {
            junctionTop[_PointRef(kind: .junction, key: keys[s], type: t, index: 0)] = top[s]!
        }
    }

    /// The design pipe top of drainage point `ref` (a junction or an interior point of a run).
    /// For a building end, see ``lateralEndTop(_:ground:depth:length:)``.
    func top(_ ref: _PointRef) -> Double? {
        switch ref.kind {
        case .junction: return junctionTop[ref]
        case .lateralEnd: return nil
        case .interior:
            guard let run = runs[_GeneratorState._RunKey(edgeKey: ref.key, type: ref.type)],
                let ta = junctionTop[_PointRef(kind: .junction, key: run.start, type: ref.type, index: 0)]
            else { return nil }
            let m = Double(ref.index)
            guard let end = run.end,
                let tb = junctionTop[_PointRef(kind: .junction, key: end, type: ref.type, index: 0)]
            else {
                // The walk stopped inside this run: it drains back to its start.
                return _mm(ta + 0.01 * m)
            }
            let p = Double(run.pieces)
            if abs(tb - ta) >= 0.005 * p { return _mm(ta + (tb - ta) * m / p) }
            // Nearly level ends: a summit at the middle point, falling both ways.
            let k = Double(run.pieces / 2)
            let peak = max(ta, tb) + 0.005 * p + 0.005
            return _mm(m <= k ? ta + (peak - ta) * m / k : peak + (tb - peak) * (m - k) / (p - k))
        }
    }

    /// The pipe top of a lateral's building end: its own design depth below ground, but at
    /// least 5 cm (or 1 % of the lateral's length) above the main it drains into.
    func lateralEndTop(_ ref: _PointRef, ground: Double, depth: Double, length: Double) -> Double? {
        guard let main = top(_PointRef(kind: .interior, key: ref.key, type: ref.type, index: ref.index)) else { return nil }
        return _mm(max(ground - depth, main + max(0.05, 0.01 * length)))
    }
}

/// Union-find over dense indices (path halving, union by index: the smaller root wins).
struct _UnionFind {
    var parent: [Int] = []

    mutating func add() { parent.append(parent.count) }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        let ra = find(a), rb = find(b)
        if ra < rb { parent[rb] = ra } else if rb < ra { parent[ra] = rb }
    }
}

/// A binary min-heap of (priority, item); ties pop the smaller item first, so a flood is
/// deterministic.
struct _MinHeap {
    private var items: [(Double, Int)] = []

    private static func less(_ a: (Double, Int), _ b: (Double, Int)) -> Bool { a.0 < b.0 || (a.0 == b.0 && a.1 < b.1) }

    mutating func push(_ p: Double, _ x: Int) {
        items.append((p, x))
        var i = items.count - 1
        while i > 0 {
            let up = (i - 1) / 2
            guard Self.less(items[i], items[up]) else { break }
            items.swapAt(i, up)
            i = up
        }
    }

    mutating func pop() -> (Double, Int)? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count, Self.less(items[l], items[m]) { m = l }
                if r < items.count, Self.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return first
    }
}
