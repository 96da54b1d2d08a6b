import SubterraGeometry
import SubterraIndex
import SubterraModel

/// A pipe's plan vertices with the plan length walked to each: the along-pipe measures of one
/// row, built from its record for the rows a query answers with (never for mere candidates).
/// O(vertices) to build.
struct _PipeLine {
    /// The record's vertices, shared with it or its table (not copied); read them through `point(_:)`.
    private let vertices: ArraySlice<Point>
    /// Plan length from the first vertex to vertex `v`.
    let along: [Double]

    init(_ s: PipeSegment) {
        var none: [Double] = []
        self.init(s, storage: &none)
    }

    /// The line of `s`, its along-pipe lengths written into `storage`'s buffer (taken over,
    /// left empty): a caller measuring many rows hands the buffer back with `release(into:)`
    /// and allocates nothing once it is big enough.
    init(_ s: PipeSegment, storage: inout [Double]) { self.init(points: s.geometry.points[...], storage: &storage) }

    /// The line through `points` (a record's or a table row's vertices), as `init(_:storage:)`.
    init(points: ArraySlice<Point>, storage: inout [Double]) {
        vertices = points
        var along: [Double] = []
        swap(&along, &storage)
        along.removeAll(keepingCapacity: true)
        along.reserveCapacity(vertices.count)
        var walked = 0.0
        var previous: Point? = nil
        for p in vertices {
            if let previous { walked += Kernel.distance(previous, p) }
            along.append(walked)
            previous = p
        }
        self.along = along
    }

    /// Gives the along-pipe buffer back to `storage` (see `init(_:storage:)`).
    func release(into storage: inout [Double]) { storage = along }

    /// Plan vertex `v` (any `z` dropped).
    @inline(__always)
    func point(_ v: Int) -> Point {
        let p = vertices[vertices.startIndex + v]
        return Point(p.x, p.y)
    }

    /// The sub-segments' start vertices: `v` runs from `v` to `v + 1`.
    var segmentStarts: Range<Int> { 0..<(vertices.count - 1) }

    /// Fraction of plan length (0...1) at parameter `t` of the sub-segment starting at vertex `v`.
    @inline(__always)
    func parameter(vertex v: Int, t: Double) -> Double {
        let total = along[along.count - 1]
        guard total > 0 else { return 0 }
        let here = along[v] + t * (along[v + 1] - along[v])
        return min(max(here / total, 0), 1)
    }
}

/// The engine's two kinds of upkeep (see `_Snapshot`).
enum _UpkeepKind: Sendable {
    /// Renumber the live rows into a new base and rebuild the segment index and lookups.
    case compaction
    /// Append the overlay's full tables to the base (row numbers unchanged).
    case overlayMerge
}

/// A segment with the depths of its top at both ends (NaN when unknown), as a table row holds it.
struct _Row: Sendable {
    var segment: PipeSegment
    var depth0: Double
    var depth1: Double
}

/// A compact snapshot's lookups and segment index, built beside its row table.
struct _Lookups {
    var rowOfID: _RowMap
    var incidence: _Incidence
    var segmentIndex: DynamicSegmentIndex
}

/// A persistent hash map: the keys are spread over about √n shard dictionaries, so changing one
/// entry of a map shared with an older snapshot copies the shard list (√n references) and one
/// shard (√n entries) instead of the whole map. O(√n) per update with a small constant (a few
/// µs at 10^6 entries), O(1) lookups (one extra array index). Copy-on-write does the rest: an
/// unshared map is updated in place.
struct _ShardedMap<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private var shards: [[Key: Value]]
    private let mask: Int
    private(set) var count = 0

    /// A map sized for about `expected` entries (the shard count stays fixed afterwards; the map
    /// is rebuilt at each compaction).
    init(expected: Int) {
        var n = 16
        while n * n < expected && n < 4096 { n <<= 1 }
        shards = Array(repeating: [:], count: n)
        mask = n - 1
    }

    @inline(__always)
    private func shard(_ k: Key) -> Int { k.hashValue & mask }

    var isEmpty: Bool { count == 0 }

    subscript(key: Key) -> Value? {
        get { shards[shard(key)][key] }
        set {
            let s = shard(key)
            if let newValue {
                if shards[s].updateValue(newValue, forKey: key) == nil { count += 1 }
            } else if shards[s].removeValue(forKey: key) != nil {
                count -= 1
            }
        }
    }

    subscript(key: Key, default defaultValue: @autoclosure () -> Value) -> Value {
        get { self[key] ?? defaultValue() }
        set { self[key] = newValue }
    }

    /// Every entry, in no particular order. O(n).
    var entries: [(key: Key, value: Value)] { shards.flatMap { $0.map { ($0.key, $0.value) } } }
}

/// Segment id → live row, a persistent map like `_ShardedMap` shaped for dense ids.
///
/// A store numbers its segments 1, 2, 3...: ids within the range the map was built for (when
/// that range is at most twice the ids) sit in a flat table of 4-byte rows, in chunks of about
/// √range slots, so changing one entry of a map shared with an older snapshot copies the chunk
/// list and one chunk (O(√n), as `_ShardedMap`); a hashed map costs about eight times as much
/// per id. Other ids (a sparse map, ids inserted past the range, rows past 32 bits) go to a
/// `_ShardedMap`. O(1) look-ups.
struct _RowMap: Sendable {
    private var chunks: [[UInt32]]
    private let low: Int64
    private let span: Int64
    private let shift: Int
    private var others: _ShardedMap<Int64, Int>
    private(set) var count = 0

    /// An empty map for about the ids `ids` (the range is fixed afterwards; the engine rebuilds
    /// the map at each compaction). O(ids).
    init(expectedIDs ids: some Collection<Int64>) {
        var lo = Int64.max, hi = Int64.min
        for i in ids { (lo, hi) = (min(lo, i), max(hi, i)) }
        let (d, overflow) = hi.subtractingReportingOverflow(lo)
        var shift = 6
        if !ids.isEmpty, !overflow, d < 2 * Int64(ids.count) + 64 {
            while (1 << (2 * shift)) < d { shift += 1 }
            low = lo
            span = d + 1
            let n = Int((span + (1 << shift) - 1) >> shift)
            chunks = Array(repeating: Array(repeating: UInt32.max, count: 1 << shift), count: n)
            others = _ShardedMap(expected: 0)
        } else {
            (low, span, chunks) = (0, 0, [])
            others = _ShardedMap(expected: ids.count)
        }
        self.shift = shift
    }

    /// `id`'s offset in the dense range, nil outside it.
    @inline(__always)
    private func slot(_ id: Int64) -> Int? {
        let (o, overflow) = id.subtractingReportingOverflow(low)
        guard !overflow, o >= 0, o < span else { return nil }
        return Int(o)
    }

    subscript(id: Int64) -> Int? {
        get {
            if let o = slot(id) {
                let r = chunks[o >> shift][o & ((1 << shift) - 1)]
                if r != UInt32.max { return Int(r) }
                return others.isEmpty ? nil : others[id]
            }
            return others[id]
        }
        set {
            let before = others.count
            if let o = slot(id) {
                let c = o >> shift, i = o & ((1 << shift) - 1)
                let had = chunks[c][i] != UInt32.max
                if let newValue, let r = UInt32(exactly: newValue), r != UInt32.max {
                    chunks[c][i] = r
                    others[id] = nil
                    count += (had ? 0 : 1) + (others.count - before)
                    return
                }
                chunks[c][i] = UInt32.max
                if had { count -= 1 }
            }
            others[id] = newValue
            count += others.count - before
        }
    }
}

/// One immutable state of the engine: the map as a row table, a segment index of every row's
/// geometry and the lookups an edit needs.
///
/// Readers take a reference under the engine's lock and then work lock-free on it, so a query
/// always sees one consistent map even while an edit publishes the next snapshot.
///
/// ## Rows
/// Row numbers are the segment index's ids: each row's segments are indexed under its number. A
/// row is never changed once written: an upsert tombstones the segment's old row (removes its
/// segments from the index and the row from `rowOfID`) and appends a new row, so the live rows
/// in row order are exactly the map's segments in map order (surviving segments keep their
/// place, upserted ones go to the end, as `UtilityNetwork` orders them). Rows `0 ..<
/// base.count` live in one big table; later rows in `overlay` tables of `overlayChunk` rows
/// each, so appending copies at most one small table and the list of them. Two kinds of upkeep:
/// - when the overlay passes max(4096, n/8) rows it is appended to the base (bulk array copies,
///   row numbers unchanged, so the index and every lookup stay as they are);
/// - when dead rows pass max(4096, n), or row numbers would pass `UInt32.max`, the engine
///   compacts: renumbers the live rows into a new base and rebuilds the index and lookups
///   (O(n log n), amortised over ≥ n edited rows).
final class _Snapshot: Sendable {
    static let overlayChunk = 64
    let version: UInt64
    let crs: String
    let base: _Table
    /// Tables of exactly `overlayChunk` rows, except the last (never empty).
    let overlay: [_Table]
    /// Rows written, live and dead: the next row number.
    let rowCount: Int
    /// Live segments when the lookups were last built: their shard counts suit about this many,
    /// so a map that has grown well past it (inserts alone leave no dead rows) is rebuilt.
    let builtFor: Int
    /// The writer's segment index (every live row's segments under its row number), shared by
    /// all snapshots since the last compaction; only the (serialized) writer edits it. Readers
    /// use `index`, its immutable state for this version.
    let segmentIndex: DynamicSegmentIndex
    let index: _PipeIndex<DynamicSegmentIndex.Snapshot>
    /// Segment id → its live row.
    let rowOfID: _RowMap
    /// The points, by number (a columnar table and the points edited since it was built).
    let points: _Points
    /// Point number → live rows starting or ending there: whose depths a ground-height edit moves.
    let incidence: _Incidence
    /// Each layer's extent, computed on first ask (``UtilityEngine/layerExtents()``, O(total
    /// vertices)) and kept: a snapshot never changes, so services listing collections and items
    /// pay the scan once per data version, not once per request.
    let layerExtents = _Locked<[LayerCode: Envelope]?>(nil)
    /// Row → depths at both ends, for rows whose end points' ground heights were edited after the
    /// row was written (rare; empty after a compaction).
    let depthOverride: _ShardedMap<Int, _DepthPair>
    /// How many live segments of each rule profile: exact rule maxima under edits.
    let profileCounts: [PipeProfile: Int]
    /// How many live segments each owner has, kept under edits like ``profileCounts``: the
    /// owners present (``codes(catalog:)``) without a scan of the rows.
    let ownerCounts: [String: Int]
    /// The largest positional accuracy and half width of any pipe written since the last
    /// compaction: upper bounds (only search reach depends on them), exact after a compaction.
    let maxAccuracy: Double
    let maxHalfWidth: Double
    /// The distinct rule profiles present (far fewer than pipes), for per-query rule maxima.
    let distinctProfiles: [PipeProfile]
    /// Layers present.
    let layers: Set<LayerCode>
    /// The largest excavation clearance of any pipe: what unruled pipes get, and a dig's search radius.
    let maxExcavation: Double
    /// Operators' precaution zones and interest areas, as of this version.
    let areaSet: _AreaSet
    /// Whether any row written since the last compaction is a part of a multi-part feature (an
    /// upper bound, like `maxAccuracy`): when not, every row is its own feature.
    let multiPart: Bool
    /// Whether any row written since the last compaction is a cable bed, sleeve or casing (an
    /// upper bound): when not, queries skip enclosure grouping entirely.
    let enclosures: Bool
    /// The rows of each feature (``PipeSegment/featureID``), built on first request (O(n)) and
    /// kept; only enclosure grouping on a multi-part map asks for it.
    let featureRowsCache = _Locked<[Int64: [Int]]?>(nil)
    /// The map as a `UtilityNetwork`, built on first request (O(n)) and kept.
    private let materialized = _Locked<UtilityNetwork?>(nil)
    /// The codes requests may name (``CodeCatalogue``), built on first request and kept.
    let codeCache = _Locked<CodeCatalogue?>(nil)

    init(
        version: UInt64, crs: String, base: _Table, overlay: [_Table], rowCount: Int, builtFor: Int,
        segmentIndex: DynamicSegmentIndex, rowOfID: _RowMap, points: _Points, incidence: _Incidence, depthOverride: _ShardedMap<Int, _DepthPair>,
        profileCounts: [PipeProfile: Int], ownerCounts: [String: Int], maxAccuracy: Double, maxHalfWidth: Double, rules: ClearanceRules,
        network: UtilityNetwork? = nil, areas: _AreaSet = .empty, sameProfilesAs earlier: _Snapshot? = nil
    ) {
        self.areaSet = areas
        self.version = version
        self.crs = crs
        self.base = base
        self.overlay = overlay
        self.rowCount = rowCount
        self.builtFor = builtFor
        self.segmentIndex = segmentIndex
        index = _PipeIndex(segmentIndex.snapshot())
        self.rowOfID = rowOfID
        self.points = points
        self.incidence = incidence
        self.depthOverride = depthOverride
        self.profileCounts = profileCounts
        self.ownerCounts = ownerCounts
        self.maxAccuracy = maxAccuracy
        self.maxHalfWidth = maxHalfWidth
        if let earlier {
            // The same profiles present (the caller vouches): the per-profile figures carry over;
            // judging every profile again (rule look-ups with their texts) costs more than a
            // small edit itself.
            distinctProfiles = earlier.distinctProfiles
            layers = earlier.layers
            maxExcavation = earlier.maxExcavation
        } else {
            distinctProfiles = Array(profileCounts.keys)
            layers = Set(distinctProfiles.map(\.layer))
            maxExcavation = distinctProfiles.map { rules.excavation($0)?.distance ?? 0 }.max() ?? 0
        }
        multiPart = base.multiPart || overlay.contains { $0.multiPart }
        enclosures = base.enclosures || overlay.contains { $0.enclosures }
        if let network { materialized.withLock { $0 = network } }
    }

    /// Builds the table, the lookups and the segment index from a whole map. O(n log n) in segments.
    /// `keepNetwork`: keep `network` as this version's map value (free when the caller holds it
    /// too, as array storage is shared; a map loaded only to build the engine is better dropped:
    /// about a third of the engine's heap, rebuilt on request by `materializeNetwork()`).
    convenience init(
        network: UtilityNetwork, version: UInt64, rules: ClearanceRules, indexMerges: DynamicRTree.MergePolicy = .inline,
        keepNetwork: Bool = true
    ) throws(EngineError) {
        let (points, rows) = _both({ _Points(network.points) }, {
            network.segments.map { s in
                _Row(segment: s, depth0: network.depthOfTop(segmentID: s.id, atParameter: 0) ?? .nan,
                     depth1: network.depthOfTop(segmentID: s.id, atParameter: 1) ?? .nan)
            }
        })
        try self.init(rows: rows, points: points, crs: network.crs,
                      version: version, rules: rules, network: keepNetwork ? network : nil, areas: _AreaSet(areas: network.areas),
                      indexMerges: indexMerges)
    }

    /// Builds a compact snapshot (rows numbered 0..<n, one base table, a fresh segment index
    /// whose merges run as `indexMerges` says). O(n log n) in segments.
    convenience init(
        rows: [_Row], points: _Points, crs: String,
        version: UInt64, rules: ClearanceRules, network: UtilityNetwork? = nil, areas: _AreaSet = .empty,
        indexMerges: DynamicRTree.MergePolicy = .inline
    ) throws(EngineError) {
        // The row table on one thread; the id and incidence lookups and the segment index,
        // which read only the rows, on another.
        let (base, lookups) = _both({ _Table(rows: rows) }, {
            Self.lookups(of: rows.lazy.map(\.segment), version: version, indexMerges: indexMerges)
        })
        try self.init(base: base, lookups: lookups.get(), points: points, crs: crs, version: version, rules: rules,
                      network: network, areas: areas)
    }

    /// A compact snapshot of `base` (rows numbered 0..<n) and its lookups and segment index
    /// (built from the same rows in the same order). O(n) for the per-profile and per-owner
    /// counts, taken per attribute combination.
    convenience init(
        base: _Table, lookups: _Lookups, points: _Points, crs: String, version: UInt64, rules: ClearanceRules,
        network: UtilityNetwork? = nil, areas: _AreaSet
    ) {
        precondition(lookups.rowOfID.count == base.count, "lookups of other rows than the table's")
        // Per attribute combination, not per row: the profile, owner, accuracy and width are
        // the combination's, so one count per code and one hash per combination do.
        var rowsOfKind = [Int](repeating: 0, count: base.kinds.count)
        for k in base.kindCode { rowsOfKind[Int(k)] += 1 }
        var profileCounts: [PipeProfile: Int] = [:], ownerCounts: [String: Int] = [:]
        var maxAccuracy = 0.0, maxHalfWidth = 0.0
        for (k, n) in rowsOfKind.enumerated() where n > 0 {
            profileCounts[base.kindProfiles[k], default: 0] += n
            if let o = base.kinds[k].owner { ownerCounts[o, default: 0] += n }
            maxAccuracy = max(maxAccuracy, base.kindAccuracy[k])
            maxHalfWidth = max(maxHalfWidth, base.kindWidth[k] / 2)
        }
        self.init(
            version: version, crs: crs, base: base, overlay: [], rowCount: base.count, builtFor: base.count,
            segmentIndex: lookups.segmentIndex, rowOfID: lookups.rowOfID, points: points, incidence: lookups.incidence,
            depthOverride: _ShardedMap(expected: 0), profileCounts: profileCounts, ownerCounts: ownerCounts,
            maxAccuracy: maxAccuracy, maxHalfWidth: maxHalfWidth, rules: rules, network: network, areas: areas)
    }

    /// The id → row and point → rows lookups and the segment index of `segments`, the rows
    /// 0..<n in order. O(n log n).
    static func lookups(
        of segments: some Collection<PipeSegment>, version: UInt64, indexMerges: DynamicRTree.MergePolicy
    ) -> Result<_Lookups, EngineError> {
        var rowOfID = _RowMap(expectedIDs: segments.lazy.map(\.id))
        var incidence = _Incidence(expected: segments.count)
        var lines: [LineString] = []
        lines.reserveCapacity(segments.count)
        for (r, s) in segments.enumerated() {
            rowOfID[s.id] = r
            incidence.add(r, at: s.startPoint)
            if s.endPoint != s.startPoint { incidence.add(r, at: s.endPoint) }
            lines.append(s.geometry)
        }
        do {
            let index = try DynamicSegmentIndex(lines: lines, ids: lines.indices.map { UInt32($0) }, merges: indexMerges)
            return .success(_Lookups(rowOfID: rowOfID, incidence: incidence, segmentIndex: index))
        } catch {
            return .failure(EngineError("cannot index the segments: \(error)", at: "snapshot \(version)"))
        }
    }

    /// This snapshot with another base and overlay holding the same rows (an overlay merge done
    /// in the background), at `version`, with the segment index's current state. O(1) beyond
    /// the small per-snapshot figures.
    func with(base: _Table, overlay: [_Table], version: UInt64, rules: ClearanceRules) -> _Snapshot {
        let next = _Snapshot(
            version: version, crs: crs, base: base, overlay: overlay, rowCount: rowCount, builtFor: builtFor,
            segmentIndex: segmentIndex, rowOfID: rowOfID, points: points, incidence: incidence, depthOverride: depthOverride,
            profileCounts: profileCounts, ownerCounts: ownerCounts, maxAccuracy: maxAccuracy,
            maxHalfWidth: maxHalfWidth, rules: rules, areas: areaSet, sameProfilesAs: self)
        // The same rows: the same extents.
        next.layerExtents.withLock { $0 = layerExtents.withLock { $0 } }
        return next
    }

    /// The upkeep this snapshot is due for, given the engine's `compactAt` (see `applying`):
    /// a compaction past the dead-row limit or 4× growth, else an overlay merge past its limit.
    func upkeepDue(compactAt: Int?) -> _UpkeepKind? {
        let live = count
        let deadLimit = compactAt ?? max(4096, live)
        let overlayLimit = compactAt.map { $0 / 2 } ?? max(4096, live / 8)
        if rowCount - live > deadLimit || live > max(4096, 4 * builtFor) || pointsOutgrown(compactAt: compactAt) {
            return .compaction
        }
        if rowCount - base.count > overlayLimit { return .overlayMerge }
        return nil
    }

    /// Whether the points edited since the point table was built (kept in a hashed overlay)
    /// passed max(4096, table size), or `compactAt`: a compaction folds them into a new table.
    func pointsOutgrown(compactAt: Int?) -> Bool {
        points.edited > (compactAt ?? max(4096, points.table.count))
    }

    /// A record's plan bounds: `validate` refuses a record whose bounds are not finite, which
    /// the segment index could not take.
    static func box(_ s: PipeSegment) -> Box {
        let e = s.geometry.envelope
        return Box(minX: e.minX, minY: e.minY, maxX: e.maxX, maxY: e.maxY)
    }

    /// Live segments.
    var count: Int { rowOfID.count }

    /// The table holding global row `r` and the row's number in it. O(1).
    @inline(__always)
    func locate(_ r: Int) -> (table: _Table, local: Int) {
        if r < base.count { return (base, r) }
        let o = r - base.count
        return (overlay[o / Self.overlayChunk], o % Self.overlayChunk)
    }

    /// `body` of row `r`'s table and its number there, the table lent (not retained) while
    /// `body` runs. O(1).
    @inline(__always)
    func withRow<R>(_ r: Int, _ body: (_Table, Int) throws -> R) rethrows -> R {
        if r < base.count { return try body(base, r) }
        let o = r - base.count
        return try body(overlay[o / Self.overlayChunk], o % Self.overlayChunk)
    }

    /// Row `r`'s record, rebuilt from its table's columns. O(vertices): for the rows an answer
    /// shows; scans read the columns (`id(_:)`, `kind(_:)`, `profile(_:)`...).
    func record(_ r: Int) -> PipeSegment { let (t, l) = locate(r); return t.record(l) }
    /// Segment id of row `r`. O(1).
    @inline(__always) func id(_ r: Int) -> Int64 { withRow(r) { t, l in t.ids[l] } }
    /// The attribute combination of row `r` (layer, owner, kind...). O(1).
    @inline(__always) func kind(_ r: Int) -> _RowKind { withRow(r) { t, l in t.kindOf(l) } }
    /// The vertices of row `l` of `t`, read in place (a slice of the table's vertices). O(1).
    @inline(__always) static func points(_ t: _Table, _ l: Int) -> ArraySlice<Point> { t.verticesOf(l) }
    /// The stated horizontal accuracy of row `l` of `t` (nil: not stated), read in place. O(1).
    @inline(__always) static func statedAccuracy(_ t: _Table, _ l: Int) -> Double? { t.statedAccuracy(l) }
    @inline(__always) func profile(_ r: Int) -> PipeProfile { let (t, l) = locate(r); return t.profile(l) }
    @inline(__always) func accuracy(_ r: Int) -> Double { let (t, l) = locate(r); return t.accuracy(l) }
    @inline(__always) func height(_ r: Int) -> Double { let (t, l) = locate(r); return t.height(l) }
    @inline(__always) func width(_ r: Int) -> Double { let (t, l) = locate(r); return t.width(l) }

    /// Whether row `r` passes `filter`: read from the row's columns, the record rebuilt only
    /// for a predicate. O(1) besides the predicate.
    func accepts(_ filter: PipeFilter, row r: Int) -> Bool {
        if filter.acceptsAll { return true }
        if filter.layers != nil || filter.owners != nil || filter.subtypes != nil {
            let k = kind(r)
            if let layers = filter.layers, !layers.contains(k.layer) { return false }
            if let owners = filter.owners, !owners.contains(k.owner ?? "") { return false }
            if let subtypes = filter.subtypes, !(k.subtype.map(subtypes.contains) ?? false) { return false }
        }
        if let predicate = filter.predicate, !predicate(record(r)) { return false }
        return true
    }
    /// Feature key of row `r` (`PipeSegment.featureID`). O(1).
    @inline(__always) func feature(_ r: Int) -> Int64 { let (t, l) = locate(r); return t.feature[l] }

    /// Row `r` as written, with its current depths.
    func row(_ r: Int) -> _Row {
        let (t, l) = locate(r)
        var row = t.row(l)
        if !depthOverride.isEmpty, let o = depthOverride[r] { (row.depth0, row.depth1) = (o.start, o.end) }
        return row
    }

    /// Depths of the pipe top at both ends of row `r` (NaN when not surveyed).
    @inline(__always)
    func depths(row r: Int, _ t: _Table, _ l: Int) -> _DepthPair {
        if !depthOverride.isEmpty, let o = depthOverride[r] { return o }
        return _DepthPair(start: t.depth0[l], end: t.depth1[l])
    }

    /// Depth of the pipe top at fraction `u`; `nil` when not surveyed.
    func depth(row r: Int, at u: Double) -> Double? {
        let (t, l) = locate(r)
        return depths(row: r, t, l).at(u)
    }

    /// Top elevation at fraction `u`.
    func topElevation(row r: Int, at u: Double) -> Double? {
        let (t, l) = locate(r)
        guard let (a, b) = t.topElevations(l) else { return nil }
        return a + (b - a) * u
    }

    /// The live rows of the feature keyed `f`, row `r` being one of them: `[r]` when the map has
    /// no multi-part feature, else from a per-feature table built on the first call (O(n), kept
    /// for this version), then O(1).
    func rows(ofFeature f: Int64, at r: Int) -> [Int] {
        guard multiPart else { return [r] }
        let table = featureRowsCache.withLock { cache in
            if let cache { return cache }
            var t: [Int64: [Int]] = [:]
            for row in liveRows { t[feature(row), default: []].append(row) }
            cache = t
            return t
        }
        return table[f] ?? [r]
    }

    /// Live rows in row order: the map's segments in map order. O(n).
    var liveRows: [Int] {
        var out: [Int] = []
        out.reserveCapacity(count)
        for r in 0..<rowCount where rowOfID[id(r)] == r { out.append(r) }
        return out
    }

    /// The map of this version, or why it cannot be rebuilt. O(n) the first time (rows and points
    /// gathered, records re-validated by `UtilityNetwork`), O(1) afterwards; a failure is not
    /// cached, and never replaced by an empty map (a planner must not be shown an empty street).
    func materializeNetwork() throws(EngineError) -> UtilityNetwork {
        try materialized.withLock { (cached) throws(EngineError) -> UtilityNetwork in
            if let cached { return cached }
            let segments = liveRows.map(record)
            let pts = points.all
            let map: UtilityNetwork
            do { map = try UtilityNetwork(crs: crs, segments: segments, points: pts, areas: areaSet.areas) } catch {
                throw EngineError(
                    "the map's \(segments.count) segments and \(pts.count) points no longer form a valid network: "
                        + "\(error) (engine invariant broken: every record is validated when written)",
                    at: "snapshot version \(version)")
            }
            cached = map
            return map
        }
    }

    /// ``materializeNetwork()`` for callers that hold the invariant: every record was validated
    /// when it was written and ids/numbers are unique by construction, so rebuilding cannot fail
    /// short of an engine bug, which stops here with what broke rather than showing a wrong map.
    func network() -> UtilityNetwork {
        do { return try materializeNetwork() } catch {
            preconditionFailure("SubterraEngine invariant broken: \(error)")
        }
    }
}

/// Depths of a pipe top at its start and end (NaN when unknown).
struct _DepthPair: Sendable, Equatable {
    var start: Double
    var end: Double

    /// Linear depth at fraction `u`; nil when either end is unknown.
    @inline(__always)
    func at(_ u: Double) -> Double? {
        guard !start.isNaN, !end.isNaN else { return nil }
        return start + (end - start) * u
    }
}

/// Point number → the live rows starting or ending there.
///
/// Most points meet one to three pipes, so up to four rows sit inline in a trivially copyable
/// value: copying a shard of the map (what an edit of a shared snapshot does) is then a memory
/// copy with no reference counting per entry. The rows of a point met by more pipes (a large
/// junction, rare) live in `spill` instead.
struct _Incidence: Sendable {
    private var inline: _ShardedMap<PointNumber, _RowQuad>
    private var spill: _ShardedMap<PointNumber, [Int]>

    init(expected: Int) {
        inline = _ShardedMap(expected: expected)
        spill = _ShardedMap(expected: 0)
    }

    /// The rows meeting `n`, in the order they were added.
    func rows(_ n: PointNumber) -> [Int] {
        if let q = inline[n] { return q.rows }
        return spill[n] ?? []
    }

    mutating func add(_ r: Int, at n: PointNumber) {
        if var q = inline[n] {
            if q.count < 4, _RowQuad.fits(r) {
                q.append(r)
                inline[n] = q
            } else {
                inline[n] = nil
                spill[n] = q.rows + [r]
            }
        } else if var more = spill[n] {
            more.append(r)
            spill[n] = more
        } else if _RowQuad.fits(r) {
            var q = _RowQuad()
            q.append(r)
            inline[n] = q
        } else {
            spill[n] = [r]
        }
    }

    mutating func remove(_ r: Int, at n: PointNumber) {
        var rows = self.rows(n)
        guard let i = rows.firstIndex(of: r) else { return }
        rows.remove(at: i)
        inline[n] = nil
        spill[n] = nil
        if rows.count > 4 || !rows.allSatisfy(_RowQuad.fits) {
            spill[n] = rows
        } else if !rows.isEmpty {
            var q = _RowQuad()
            for r in rows { q.append(r) }
            inline[n] = q
        }
    }
}

/// Up to four row numbers, inline, 32 bits each (row numbers stay below `UInt32.max`; a row
/// past that is refused by `fits` and goes to the spill list): 20 bytes, against 40 for `Int`s.
struct _RowQuad: Sendable {
    private var r0: UInt32 = 0, r1: UInt32 = 0, r2: UInt32 = 0, r3: UInt32 = 0
    private var stored: UInt8 = 0

    var count: Int { Int(stored) }

    /// Whether row `r` can be held here.
    static func fits(_ r: Int) -> Bool { UInt32(exactly: r) != nil }

    mutating func append(_ r: Int) {
        let v = UInt32(r)
        switch stored {
        case 0: r0 = v
        case 1: r1 = v
        case 2: r2 = v
        default: r3 = v
        }
        stored += 1
    }

    var rows: [Int] { Array([Int(r0), Int(r1), Int(r2), Int(r3)].prefix(count)) }
}
