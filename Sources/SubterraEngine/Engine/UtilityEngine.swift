import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// The query engine: exact nearest / intersect / within-distance queries and dig-safety checks
/// over one utility map, safe to share between any number of threads or tasks.
///
/// State lives in immutable snapshots (row table + a `DynamicSegmentIndex` snapshot of every
/// pipe's segments + persistent lookups; see `_Snapshot`). Queries and checks search the segment
/// index, which measures exact distances from the geometry it stores; only the pipes of an
/// answer are read from the row table. A query takes the current snapshot under a lock held only for that pointer
/// read, then runs lock-free, so it always sees one consistent map. An edit goes to the store
/// first, in one transaction; only when the store has accepted it is the next snapshot derived
/// from the current one (sharing everything the edit did not touch) and swapped in. A refused
/// edit changes nothing.
///
/// ```swift
/// let store = try GeoPackageStore.open(at: "wenling.gpkg")
/// let engine = try UtilityEngine(store: store)
/// let gas = try engine.nearest(to: .point(Point(501548, 3379503)), k: 1,
///                              filter: PipeFilter(layers: [.gas]))
/// print(gas[0].pipe.id, gas[0].distance, gas[0].depth ?? .nan)
/// ```
public final class UtilityEngine: Sendable {
    /// The clearance rules every check uses.
    public let rules: ClearanceRules
    /// The map CRS (e.g. `"EPSG:4549"`): every answer's coordinates are in it.
    public let crs: String
    /// The layer catalogue requests are checked against (``codes``), together with the layers
    /// present in the map.
    public let catalog: LayerCatalog
    /// The map CRS's area of use widened by the standard 1.5° margin, in map coordinates: every
    /// query point must lie inside (see ``toMapGeometry(_:crs:at:)``). `nil` when PROJ records
    /// no area for the CRS (or does not know it), or the area is the whole globe.
    public let areaBounds: AreaBounds?
    /// Why ``rules`` may not judge this map (its CRS is used only outside the rules'
    /// ``ClearanceRules/jurisdiction``); nil when they may. Dig and route checks refuse then.
    let rulesMismatch: String?
    let store: (any UtilityStore)?
    let current: _Locked<_Snapshot>
    /// Serializes writers: store transaction + rebuild + publish happen as one step, so two
    /// edits never interleave and snapshots are published in store order. Readers never take it.
    /// Holds the background upkeep job under way, if any.
    let writer = _Locked<_UpkeepJob?>(nil)
    /// Where upkeep runs (``Upkeep``).
    public let upkeep: Upkeep
    let transformers = _Locked<[String: Transformer]>([:])
    /// Working buffers of finished dig checks (`_DigScratch`), for the next `digCheck` calls:
    /// a plain call takes one (or makes one) and gives it back, so it reuses the rule
    /// judgements and buffers of earlier calls. At most `digScratchLimit` are kept.
    let digScratches = _Locked<[_DigScratch]>([])
    static let digScratchLimit = 8
    /// Dead + overlay rows that trigger a compaction; nil: max(4096, n/8). Tests set it small.
    let compactAt: Int?
    /// The whole map's figures when this engine is over a part of it (`MappedMap`'s per-query
    /// engines); nil: the snapshot's.
    let wholeFigures: _MapFigures?
    /// The store's data version when the engine was opened on it (0 without a store).
    let openedAtStoreVersion: UInt64

    /// An engine over an in-memory map (no store: edits only change the engine).
    ///
    /// - Complexity: O(n log n) to build the first snapshot.
    public convenience init(
        network: UtilityNetwork, rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre,
        upkeep: Upkeep = .background
    ) throws(EngineError) {
        try self.init(network: network, rules: rules, catalog: catalog, compactAt: nil, upkeep: upkeep)
    }

    /// An in-memory engine that compacts once dead + overlay rows exceed `compactAt`.
    init(
        network: UtilityNetwork, rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre,
        compactAt: Int?, upkeep: Upkeep = .inline
    ) throws(EngineError) {
        self.compactAt = compactAt
        self.upkeep = upkeep
        wholeFigures = nil
        self.rules = try Self.rulesOrBundled(rules)
        self.catalog = catalog
        crs = network.crs
        areaBounds = try Self.areaBounds(of: network.crs)
        rulesMismatch = Self.jurisdictionMismatch(self.rules, crs: network.crs) { Self.dataExtentWGS84(network) }
        store = nil
        openedAtStoreVersion = 0
        current = _Locked(try _Snapshot(network: network, version: 0, rules: self.rules, indexMerges: upkeep.indexMerges))
        try checkRuleLayers()
    }

    /// An engine over these records (no store: edits only change the engine), checked as
    /// `UtilityNetwork(crs:segments:points:areas:)` checks them (each record validated; point
    /// numbers, segment ids and area ids unique) but without building that map value: for
    /// records read from elsewhere, such as a PostGIS snapshot, in less time and memory.
    ///
    /// ```swift
    /// let engine = try UtilityEngine(crs: "EPSG:4549", segments: segments, points: points)
    /// ```
    ///
    /// - Throws: `EngineError` naming the first invalid or repeated record.
    /// - Complexity: O(n log n) to build the first snapshot.
    public convenience init(
        crs: String, segments: [PipeSegment], points: [FeaturePoint], areas: [OperatorArea] = [],
        rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre, upkeep: Upkeep = .background
    ) throws(EngineError) {
        try self.init(
            crs: crs, segmentParts: [segments], pointParts: [points], areas: areas, rules: rules, catalog: catalog, upkeep: upkeep)
    }

    /// ``init(crs:segments:points:areas:rules:catalog:upkeep:)`` over records in parts, taken in
    /// order as if concatenated, without concatenating them: for a reader that gathers a map in
    /// parts (a PostGIS snapshot read on several connections), which would otherwise copy every
    /// record once more. The same engine, checks and first error as the whole arrays give.
    package init(
        crs: String, segmentParts: [[PipeSegment]], pointParts: [[FeaturePoint]], areas: [OperatorArea] = [],
        rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre, upkeep: Upkeep = .background
    ) throws(EngineError) {
        compactAt = nil
        self.upkeep = upkeep
        wholeFigures = nil
        self.rules = try Self.rulesOrBundled(rules)
        self.catalog = catalog
        let first = try _Snapshot(
            crs: crs, segmentParts: segmentParts, pointParts: pointParts, areas: areas, rules: self.rules,
            indexMerges: upkeep.indexMerges)
        self.crs = crs
        areaBounds = try Self.areaBounds(of: crs)
        rulesMismatch = Self.jurisdictionMismatch(self.rules, crs: crs) { Self.dataExtentWGS84(first) }
        store = nil
        openedAtStoreVersion = 0
        current = _Locked(first)
        try checkRuleLayers()
    }

    /// An engine over everything in `store` (its map CRS is the loaded map's); edits through
    /// ``apply(_:)`` are written to the store first. `upkeep`: where the O(n) upkeep under
    /// edits runs (``Upkeep``; in the background by default, so no edit waits for it).
    public init(
        store: any UtilityStore, rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre,
        upkeep: Upkeep = .background
    ) throws(EngineError) {
        self.upkeep = upkeep
        self.rules = try Self.rulesOrBundled(rules)
        self.catalog = catalog
        // Read before the rows: a write committed meanwhile is in the rows or not, and the
        // version never claims one the map may lack.
        do { openedAtStoreVersion = UInt64(max(0, try store.dataVersion())) } catch {
            throw EngineError("cannot read the store's data version: \(error)", at: "store")
        }
        let first: _Snapshot
        if let gpkg = store as? GeoPackageStore {
            // Record by record, no map value in between.
            first = try _Snapshot(store: gpkg, rules: self.rules, indexMerges: upkeep.indexMerges)
        } else {
            let network: UtilityNetwork
            do { network = try store.loadAll() } catch {
                throw EngineError("cannot load the map: \(error)", at: "store")
            }
            first = try _Snapshot(
                network: network, version: 0, rules: self.rules, indexMerges: upkeep.indexMerges, keepNetwork: false)
        }
        crs = first.crs
        areaBounds = try Self.areaBounds(of: first.crs)
        rulesMismatch = Self.jurisdictionMismatch(self.rules, crs: first.crs) { Self.dataExtentWGS84(first) }
        self.store = store
        compactAt = nil
        wholeFigures = nil
        current = _Locked(first)
        try checkRuleLayers()
    }

    /// An engine over `network` (a part of a larger map) sharing `whole`'s rules, catalogue,
    /// CRS and area checks, so it judges exactly as `whole` would and costs no PROJ work;
    /// `codes` (the whole map's) are what requests may name, and `figures` (the whole map's)
    /// set the checks' reach and fallback clearance. `MappedMap` answers each query
    /// with one, built over the pipes the query can reach. O(p log p) for p pipes.
    init(part network: UtilityNetwork, of whole: UtilityEngine, codes: CodeCatalogue, figures: _MapFigures)
        throws(EngineError)
    {
        wholeFigures = figures
        upkeep = .inline
        rules = whole.rules
        catalog = whole.catalog
        crs = whole.crs
        areaBounds = whole.areaBounds
        rulesMismatch = whole.rulesMismatch
        store = nil
        compactAt = nil
        openedAtStoreVersion = 0
        let snap = try _Snapshot(network: network, version: 0, rules: rules)
        snap.codeCache.withLock { $0 = codes }
        current = _Locked(snap)
    }

    /// An engine over no pipes in `crs`, for `MappedMap`'s conversions and checks of query
    /// geometry; the rule layers are checked against `present`, the whole map's layers.
    /// `extentWGS84` is the whole map's data extent (``MapSummary/extentWGS84``), for the
    /// jurisdiction check.
    init(
        emptyIn crs: String, rules: ClearanceRules?, catalog: LayerCatalog, present: Set<LayerCode>, extentWGS84: [Double]?
    ) throws(EngineError) {
        upkeep = .inline
        self.rules = try Self.rulesOrBundled(rules)
        self.catalog = catalog
        self.crs = crs
        areaBounds = try Self.areaBounds(of: crs)
        rulesMismatch = Self.jurisdictionMismatch(self.rules, crs: crs) { extentWGS84 }
        store = nil
        compactAt = nil
        wholeFigures = nil
        openedAtStoreVersion = 0
        current = _Locked(try _Snapshot(network: try Self.emptyNetwork(crs), version: 0, rules: self.rules))
        try checkRuleLayers(present: present)
    }

    private static func emptyNetwork(_ crs: String) throws(EngineError) -> UtilityNetwork {
        do { return try UtilityNetwork(crs: crs) } catch { throw EngineError("\(error)", at: "map CRS \(crs)") }
    }

    /// Refuses rules that map a layer code matching no layer of ``codes`` (a typo there would
    /// leave that layer unjudged), naming the rule file and the valid codes.
    private func checkRuleLayers(present: Set<LayerCode>? = nil) throws(EngineError) {
        let present = present ?? snapshot.layers
        for layer in rules.mappedLayers where !catalog.contains(layer) && !present.contains(layer) {
            let valid = catalog.codes + present.subtracting(catalog.codes).sorted()
            throw EngineError(
                "unknown layer code \"\(layer)\"; valid codes: \(CodeCatalogue.list(valid))",
                at: "clearance rules \"\(rules.name)\", layerClasses.map")
        }
    }

    /// The widened area of use of `crs` (``AreaCheck/standard``): nil when PROJ does not know
    /// the CRS or records no area for it; an error when it does but cannot project the area.
    private static func areaBounds(of crs: String) throws(EngineError) -> AreaBounds? {
        guard let cs = try? CoordinateSystem(crs) else { return nil }
        do { return try cs.areaBounds(check: .standard) } catch {
            throw EngineError("cannot find where the map CRS may be used: \(error)", at: "map CRS \(crs)")
        }
    }

    /// The refusal when the map lies outside the rules' jurisdiction, judged by its CRS and, when
    /// the CRS does not pin the map down, by where its data lie:
    ///
    /// - the CRS's area of use and the jurisdiction's box are both known and disjoint: refused,
    ///   naming both;
    /// - the CRS's area of use lies inside the jurisdiction: accepted (the CRS alone says where
    ///   the data may be);
    /// - otherwise (a worldwide CRS such as EPSG:3857 or EPSG:4326, one reaching beyond the
    ///   jurisdiction, or one PROJ records no area for): refused when the map's data extent in
    ///   WGS84 (``MapSummary/extentWGS84``: minLon, minLat, maxLon, maxLat) is known and disjoint
    ///   from the jurisdiction; accepted when it meets it, or is unknown (an empty map).
    ///
    /// A box across the antimeridian is taken to meet any other, and rules without a jurisdiction
    /// are not judged. `dataExtentWGS84` is called only in the last case. O(1) plus that call.
    static func jurisdictionMismatch(
        _ rules: ClearanceRules, crs: String, dataExtentWGS84: () -> [Double]? = { nil }
    ) -> String? {
        guard let j = rules.jurisdiction, !j.crossesAntimeridian else { return nil }
        let choose = "choose the rule profile of the map's jurisdiction "
            + "(built-in profiles: \(ClearanceRules.builtInProfiles.joined(separator: ", ")); or a rule file whose \"jurisdiction\" covers it)"
        let a = (try? CoordinateSystem(crs))?.areaOfUse
        if let a, !a.crossesAntimeridian {
            let disjoint = a.east < j.west || a.west > j.east || a.north < j.south || a.south > j.north
            if disjoint {
                return "the rules are for \(j.name ?? "another jurisdiction") (\(j)), but the map's CRS \(crs) is used in "
                    + "\(a.name ?? "another area") (\(a)): " + choose
            }
            if a.west >= j.west, a.east <= j.east, a.south >= j.south, a.north <= j.north { return nil }
        }
        guard let e = dataExtentWGS84(), e.count == 4, e.allSatisfy(\.isFinite) else { return nil }
        let data = AreaOfUse(west: e[0], south: e[1], east: e[2], north: e[3])
        guard data.east < j.west || data.west > j.east || data.north < j.south || data.south > j.north else { return nil }
        let used = a.map { " (its CRS \(crs) is used in \($0.name ?? "a wider area") (\($0)), so it does not say where the data are)" }
            ?? " (its CRS \(crs) records no area of use)"
        return "the rules are for \(j.name ?? "another jurisdiction") (\(j)), but the map's data lie at \(data) in WGS84, "
            + "outside it\(used): " + choose
    }

    /// The WGS84 box (minLon, minLat, maxLon, maxLat) of a map's segments and points, for
    /// ``jurisdictionMismatch(_:crs:dataExtentWGS84:)``; nil for an empty map. O(n).
    static func dataExtentWGS84(_ network: UtilityNetwork) -> [Double]? {
        var e = Envelope.empty
        for s in network.segments { e = e.union(s.geometry.envelope) }
        for p in network.points { e.expand(toInclude: p.position) }
        return MapSummary.wgs84(of: e, crs: network.crs)
    }

    /// The WGS84 box (minLon, minLat, maxLon, maxLat) of a snapshot's segments and points, for
    /// ``jurisdictionMismatch(_:crs:dataExtentWGS84:)``; nil for an empty map. O(n).
    static func dataExtentWGS84(_ snap: _Snapshot) -> [Double]? {
        var e = Envelope.empty
        for r in snap.liveRows { snap.withRow(r) { t, l in for p in t.verticesOf(l) { e.expand(toInclude: p) } } }
        snap.points.forEachPosition { e.expand(toInclude: $0) }
        return MapSummary.wgs84(of: e, crs: snap.crs)
    }

    /// Throws ``rulesMismatch`` for a check that applies the rules.
    func checkRulesApply(at location: String) throws(EngineError) {
        if let m = rulesMismatch { throw EngineError(m, at: "\(location): clearance rules \"\(rules.name)\"") }
    }

    private static func rulesOrBundled(_ rules: ClearanceRules?) throws(EngineError) -> ClearanceRules {
        if let rules { return rules }
        do { return try ClearanceRules.bundled() } catch {
            throw EngineError(error.description, at: "bundled clearance rules")
        }
    }

    /// The current snapshot; O(1), the lock is held for one reference copy.
    var snapshot: _Snapshot { current.withLock { $0 } }

    /// The map as of now (a value: later edits do not change it).
    ///
    /// - Complexity: O(1) when this version's map was asked for before, else O(n) (gathered
    ///   from the rows and re-validated, once per version).
    ///
    /// Rebuilding cannot fail (every record was validated when written); if an engine bug ever
    /// broke that, this stops with a precondition message naming the version and the refused
    /// record. Embedders that must never stop use ``currentNetwork()``.
    public var network: UtilityNetwork { snapshot.network() }

    /// ``network``, with a broken engine invariant thrown as an ``EngineError`` (naming the
    /// snapshot version and what the model refused) instead of stopping; never an empty stand-in.
    ///
    /// - Complexity: as ``network``.
    public func currentNetwork() throws(EngineError) -> UtilityNetwork { try snapshot.materializeNetwork() }

    /// The segment with `id` in the current map, without building the whole map value. O(1).
    public func segment(id: Int64) -> PipeSegment? {
        let snap = snapshot
        return snap.rowOfID[id].map(snap.record)
    }

    /// The point numbered `number` in the current map. O(1).
    public func point(number: PointNumber) -> FeaturePoint? { snapshot.points[number] }

    /// How many segments the current map holds. O(1).
    public var segmentCount: Int { snapshot.count }

    /// How many edits have been published since the engine was built.
    public var version: UInt64 { snapshot.version }

    /// The data version of the current map: the store's data version when the engine was
    /// opened on a store (``UtilityStore/dataVersion()``), plus the edits published since
    /// (each is one store transaction); ``version`` for an engine without a store.
    ///
    /// Unlike ``version`` it does not start again at 0 when a process opens the store anew, so
    /// a token a client holds (a service's `X-Data-Version`) stays comparable across restarts:
    /// never ahead of what a reopened engine answers at. Writes by other programs to the store
    /// are counted once the store is opened again.
    public var dataVersion: UInt64 { openedAtStoreVersion + version }

    /// ``dataVersion`` of this engine's map at snapshot version `v` (what a report's
    /// `mapVersion` names). O(1).
    public func dataVersion(atMapVersion v: UInt64) -> UInt64 { openedAtStoreVersion + v }

    // MARK: Edits

    /// Checks `edit` as ``apply(_:)`` would against the current map (invalid records, an id
    /// upserted and deleted together, an id or point number twice, a point or vertex outside the
    /// map CRS's area of use) without applying it: what a map that commits elsewhere (a
    /// following map's store of record) refuses first. O(e log n) for an edit of e records.
    public func validate(_ edit: StoreEdit) throws(EngineError) {
        try snapshot.validate(edit, area: areaBounds)
    }

    /// Applies `edit` (upserts and deletes of segments and points) as one transaction: validated
    /// as the whole new map would be (invalid records, an id upserted and deleted together, an id
    /// or point number twice, a point or vertex outside the map CRS's area of use), written to the store, then published as a new snapshot. When any
    /// step fails the error says which record and why, and neither the store nor the engine
    /// changes. Queries running meanwhile finish on the snapshot they started with. An empty
    /// edit changes nothing and publishes no version (the store writes nothing for it either, so
    /// ``dataVersion`` stays the store's).
    ///
    /// ```swift
    /// try engine.apply(StoreEdit(upsertSegments: [newMain], deleteSegments: [oldMainID]))
    /// ```
    /// - Complexity: O(e log n) amortised for an edit of e records: only the edited records (and,
    ///   for point edits, the segments meeting those points) are checked and written, the segment
    ///   index (`DynamicSegmentIndex`) takes the edit as one atomic batch, and the persistent
    ///   lookups copy only the shards they touch. The upkeep (an O(n) overlay merge per ~n/8
    ///   edited rows, an O(n log n) compaction per ~n dead rows, the index's O(n) merges) runs
    ///   in the background under ``Upkeep/background`` (the default): an edit then costs at most
    ///   the replay of the few edits made while a job ran (≤ 64, see `_UpkeepJob`). Under
    ///   ``Upkeep/inline`` the edit that crosses a threshold does the upkeep itself. Edit
    ///   latencies: `Benchmarks/NOTES.md`.
    public func apply(_ edit: StoreEdit) throws(EngineError) {
        if edit.isEmpty { return }
        try writer.withLock { (job: inout _UpkeepJob?) throws(EngineError) in
            var old = snapshot
            if let j = job, j.isFinished {
                job = nil
                if let s = j.installed(over: old, rules: rules, compactAt: compactAt) {
                    current.withLock { $0 = s }
                    var superseded: _Snapshot? = old
                    old = s
                    _UpkeepJob.retire(&superseded)
                }
            }
            try old.validate(edit, area: areaBounds)
            if let store {
                do { try store.apply(edit) } catch {
                    throw EngineError("the store refused the edit: \(error)", at: "store", storeFailure: (error as? StoreError)?.kind ?? .invalid)
                }
            }
            let background = upkeep == .background
            let next: _Snapshot
            do {
                next = try old.applying(edit, rules: rules, compactAt: compactAt, deferUpkeep: background)
            } catch {
                // The segment index refused what validation let through (it changed nothing):
                // rebuild from the rows instead, so the engine still matches the store.
                next = try old.applying(edit, rules: rules, compactAt: compactAt, compact: true, deferUpkeep: background)
            }
            current.withLock { $0 = next }
            if let job {
                job.append(edit)
            } else if background, let kind = next.upkeepDue(compactAt: compactAt) {
                job = _UpkeepJob.start(kind, of: next, rules: rules, compactAt: compactAt)
            }
        }
    }

    /// Waits for the upkeep under way in the background (``Upkeep/background``), the engine's
    /// and its segment index's, and publishes its result: the same map, compacted. Nothing to
    /// wait for under ``Upkeep/inline``. For tests, benchmarks and before measuring memory.
    public func finishUpkeep() throws(EngineError) {
        try writer.withLock { (job: inout _UpkeepJob?) throws(EngineError) in
            var now = snapshot
            if let j = job {
                job = nil
                if let s = j.installed(over: now, rules: rules, compactAt: compactAt) { now = s }
            }
            do { try now.segmentIndex.finishMerges() } catch {
                throw EngineError("cannot finish the segment index's merge: \(error)", at: "snapshot \(now.version)")
            }
            let refreshed = now.with(base: now.base, overlay: now.overlay, version: now.version, rules: rules)
            current.withLock { $0 = refreshed }
        }
    }

    /// Whether background upkeep is under way.
    var isUpkeepRunning: Bool { writer.withLock { $0 != nil } }

    /// Renumbers the live rows into one table and rebuilds the segment index now (e.g. after a bulk
    /// load of edits), publishing the same map at the same version. O(n log n). Supersedes any
    /// background upkeep under way.
    public func compact() throws(EngineError) {
        try writer.withLock { (job: inout _UpkeepJob?) throws(EngineError) in
            job = nil
            let old = snapshot
            let compacted = try old.applying(StoreEdit(), rules: rules, compactAt: compactAt, compact: true)
            // The same map: published at the same version (no store write, no new data version).
            let next = compacted.with(base: compacted.base, overlay: compacted.overlay, version: old.version, rules: rules)
            current.withLock { $0 = next }
        }
    }

    // MARK: Coordinate systems

    /// `g` converted from `crs` (nil or the map CRS: unchanged) to the map CRS, validated.
    func toMap(_ g: Geometry, crs source: String?, at location: String) throws(EngineError) -> _QueryShape {
        try toMapChecked(g, crs: source, at: location).shape
    }

    /// `g` converted to the map CRS; see `toMapChecked`.
    func toMapGeometry(_ g: Geometry, crs source: String?, at location: String) throws(EngineError) -> Geometry {
        try toMapChecked(g, crs: source, at: location).geometry
    }

    /// The one door every query geometry passes (queries, dig, route and section checks, buffer
    /// zones): refuses empty or non-finite input before PROJ sees it, converts it to the map CRS,
    /// and refuses any point outside ``areaBounds``, naming the point, its map coordinates and
    /// the area, so no distance is ever measured from a point that is no place on the map.
    func toMapChecked(_ g: Geometry, crs source: String?, at location: String)
        throws(EngineError) -> (geometry: Geometry, shape: _QueryShape)
    {
        var mapped = g
        if let source, source != crs {
            _ = try _QueryShape(g, at: location)
            let t = try transformer(from: source, at: location)
            do { mapped = try t.transform(g) } catch {
                throw EngineError("cannot convert from \(source) to \(crs): \(error)", at: location)
            }
        }
        return (mapped, try _QueryShape(mapped, at: location, area: areaBounds))
    }

    /// `toMapChecked`'s shape, written into `shape` (its storage reused, see
    /// `_QueryShape.reset`): the same checks, conversion and refusals.
    func toMapChecked(_ g: Geometry, crs source: String?, at location: String, into shape: inout _QueryShape)
        throws(EngineError)
    {
        var mapped = g
        if let source, source != crs {
            try shape.reset(g, at: location)
            let t = try transformer(from: source, at: location)
            do { mapped = try t.transform(g) } catch {
                throw EngineError("cannot convert from \(source) to \(crs): \(error)", at: location)
            }
        }
        try shape.reset(mapped, at: location, area: areaBounds)
    }

    /// A cached transformer `source → map CRS` (creating one parses both CRS definitions).
    func transformer(from source: String, at location: String) throws(EngineError) -> Transformer {
        if let t = transformers.withLock({ $0[source] }) { return t }
        do {
            let t = try Transformer(from: source, to: crs)
            transformers.withLock { $0[source] = t }
            return t
        } catch {
            throw EngineError("unknown or unusable CRS \"\(source)\": \(error)", at: location)
        }
    }
}

/// A value behind a lock; the `Synchronization.Mutex` idea, on `NSLock` so the package keeps its
/// macOS 14 deployment target (Mutex needs macOS 15).
final class _Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<R, E: Error>(_ body: (inout Value) throws(E) -> R) throws(E) -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
