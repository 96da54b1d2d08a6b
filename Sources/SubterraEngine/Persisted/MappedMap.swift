import Foundation
import SubterraGeometry
import SubterraIndex
import SubterraModel
import SubterraPROJ

/// A store's map opened in milliseconds: the engine's snapshot persisted beside the store,
/// answering the same queries and checks as ``UtilityEngine`` with the same answers, without
/// loading the map.
///
/// ## The file
/// `city.gpkg.subterra-snapshot` holds the packed segment index (every pipe's plan geometry),
/// each pipe's id, feature key, layer, owner, sub-type and feature kind (dictionary-coded),
/// the rule profiles present and a ``MapSummary``, with the ``StoreStamp`` of the store it was
/// built from and a checksum (layout in `SnapshotFile.swift`). ``open(store:rules:catalog:)``
/// compares the stamp with the store's before reading anything else: a stale file (any write
/// to the store since, by Subterra or any other program), or a truncated, damaged, foreign or
/// newer-format one, is never used; the store is then read once, record by record, and the file
/// rebuilt (written atomically, so a crash leaves the old file or the new one, never half).
///
/// ## Answers
/// Each query searches the file's index for every pipe that can matter: within the distance
/// asked, the `k` nearest passing the filter, or within the dig or route check's search reach
/// (from the rules and the whole map's figures, exactly as the engine reaches). Only those
/// pipes, their points and the operator areas are read from the store (owner names, depths,
/// remarks: everything an answer shows), and an engine over just them answers, so every
/// rule, tie-break and message is the engine's own. The store's stamp is checked again after
/// the read: an answer never mixes two versions of the map.
///
/// Read-only: edits go through a ``UtilityEngine`` on a writable store; the next open sees the
/// changed stamp and rebuilds.
///
/// ```swift
/// let store = try GeoPackageStore.open(at: "city.gpkg", readOnly: true)
/// let map = try MappedMap.open(store: store)           // ms when the file is fresh
/// let near = try map.nearest(to: .point(Point(501548, 3379503)), k: 3)
/// let report = try map.digCheck(DigRequest(area: site, plannedDepth: 2))
/// ```
///
/// Thread-safe: immutable after opening (the store serializes its own reads).
public final class MappedMap: Sendable {
    /// Where the opened map came from.
    public enum Origin: Hashable, Sendable {
        /// The snapshot file, which matched the store.
        case file
        /// The store, because the file could not be used (`reason`: missing, stale, damaged);
        /// `notWritten` says why the new file could not be written, nil when it was.
        case rebuilt(reason: String, notWritten: String?)
    }

    /// How this map was opened.
    public let origin: Origin
    /// The store it answers from.
    public let store: GeoPackageStore
    /// The snapshot file beside the store.
    public let fileURL: URL
    /// The store's stamp the map is of.
    public var stamp: StoreStamp { file.meta.stamp }
    /// The map CRS.
    public var crs: String { file.meta.crs }
    /// Counts, extent and totals, as of ``stamp``.
    public var summary: MapSummary { file.meta.summary }
    /// The rules every check uses.
    public var rules: ClearanceRules { whole.rules }
    /// The codes requests may name (as ``UtilityEngine/codes``).
    public let codes: CodeCatalogue
    /// How many segments the map holds.
    public var segmentCount: Int { file.meta.rows }

    let file: _SnapshotFile
    let index: _PipeIndex<SegmentIndex>
    /// An engine over no pipes with the map's CRS, rules and catalogue: converts and checks
    /// query geometry and arguments exactly as an engine over the whole map would.
    let whole: UtilityEngine
    /// The whole map's figures (for the checks' reach and fallback clearance).
    let figures: _MapFigures
    let layerOf: [LayerCode: Int]
    let areas = _Locked<[OperatorArea]?>(nil)
    let enclosureFlag = _Locked<Bool?>(nil)
    let extents = _Locked<[LayerCode: Envelope]?>(nil)

    private init(store: GeoPackageStore, file: _SnapshotFile, origin: Origin, rules: ClearanceRules?, catalog: LayerCatalog)
        throws(EngineError)
    {
        self.store = store
        self.file = file
        self.origin = origin
        fileURL = _SnapshotFile.url(forStore: store.path)
        index = _PipeIndex(file.index)
        let meta = file.meta
        if let r = meta.areaBounds { (try? CoordinateSystem(meta.crs))?.adopt(r) }
        let whole = try UtilityEngine(
            emptyIn: meta.crs, rules: rules, catalog: catalog, present: Set(meta.layers), extentWGS84: meta.summary.extentWGS84)
        self.whole = whole
        figures = _MapFigures(
            profiles: meta.profiles, maxExcavation: meta.profiles.map { whole.rules.excavation($0)?.distance ?? 0 }.max() ?? 0,
            maxAccuracy: meta.maxAccuracy, maxHalfWidth: meta.maxHalfWidth)
        codes = CodeCatalogue(
            catalog: catalog, present: meta.profiles.map { ($0.layer, $0.subtype) }, owners: meta.owners,
            burials: meta.profiles.compactMap(\.burial))
        layerOf = Dictionary(uniqueKeysWithValues: meta.layers.enumerated().map { ($1, $0) })
    }

    /// Opens `store`'s map from its snapshot file, rebuilding the file first when it is missing,
    /// stale or damaged (see ``Origin``).
    ///
    /// - Parameter progress: told what happens ("rebuilding the snapshot: …") on the slow path.
    /// - Complexity: O(file size) for the checksum, on all cores (a fresh file is used in place
    ///   from its mapped pages: no copy, no parsing, no sorting, no store reads beyond its stamp);
    ///   a rebuild reads the store once, record by
    ///   record (memory: the file's columns and each point's ground height, not the map), and
    ///   builds the index, O(n log n).
    /// - Throws: ``EngineError`` when the store cannot be read or the rules refuse the map.
    public static func open(
        store: GeoPackageStore, rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre,
        progress: ((String) -> Void)? = nil
    ) throws(EngineError) -> MappedMap {
        let url = _SnapshotFile.url(forStore: store.path)
        let stamp = try Self.stamp(of: store)
        let reason: String
        switch read(url, expecting: stamp) {
        case .success(let file):
            return try MappedMap(store: store, file: file, origin: .file, rules: rules, catalog: catalog)
        case .failure(let problem):
            reason = problem.description
        }
        progress?("rebuilding the snapshot file (\(reason))")
        let bytes: Data
        do { bytes = try _SnapshotFile.serialize(store: store, stamp: stamp) } catch let e as StoreError {
            throw EngineError("cannot read the map: \(e)", at: "store")
        } catch {
            throw EngineError("cannot build the snapshot: \(error)", at: "snapshot file \(url.path)")
        }
        let after = try Self.stamp(of: store)
        var notWritten: String?
        if after != stamp {
            notWritten = "the store changed while it was read"
        } else {
            do { try bytes.write(to: url, options: .atomic) } catch {
                notWritten = "cannot write \(url.path): \(error.localizedDescription)"
            }
        }
        let file: _SnapshotFile
        do { file = try _SnapshotFile(_FileBytes(copying: bytes)) } catch {
            throw EngineError("the snapshot just built does not read back: \(error)", at: "snapshot file \(url.path)")
        }
        return try MappedMap(
            store: store, file: file, origin: .rebuilt(reason: reason, notWritten: notWritten), rules: rules,
            catalog: catalog)
    }

    /// The file at `url` when it exists, is of `stamp` and reads back whole; else why not. The
    /// file is mapped, and used in place.
    static func read(_ url: URL, expecting stamp: StoreStamp) -> Result<_SnapshotFile, _SnapshotFileProblem> {
        guard FileManager.default.fileExists(atPath: url.path) else { return .failure(_SnapshotFileProblem("no snapshot file yet")) }
        do throws(_SnapshotFileProblem) {
            let bytes = try _FileBytes(mapping: url.path)
            let meta = try _SnapshotFile.meta(bytes.raw)
            guard meta.stamp == stamp else {
                return .failure(_SnapshotFileProblem("stale: built from the store at \(meta.stamp); the store is now at \(stamp)"))
            }
            return .success(try _SnapshotFile(bytes))
        } catch {
            return .failure(error)
        }
    }

    static func stamp(of store: GeoPackageStore) throws(EngineError) -> StoreStamp {
        do { return try store.stamp() } catch { throw EngineError("cannot read the store's stamp: \(error)", at: "store") }
    }

    // MARK: Parts of the map

    /// Whether row `r` passes `filter`'s layers, owners and sub-types (from the file's columns)
    /// and its predicate (on the record, read from the store, only for rows the columns pass).
    func accepting(_ filter: PipeFilter) -> (Int) -> Bool {
        guard !filter.acceptsAll else { return { _ in true } }
        let meta = file.meta
        let layers = filter.layers.map { set in meta.layers.map(set.contains) }
        let owners = filter.owners.map { set in [set.contains("")] + meta.owners.map(set.contains) }
        let subtypes = filter.subtypes.map { set in [false] + meta.subtypes.map(set.contains) }
        let predicate = filter.predicate
        return { [file, store] r in
            if let layers, !layers[Int(file.layer[r])] { return false }
            if let owners, !owners[Int(file.owner[r])] { return false }
            if let subtypes, !subtypes[Int(file.subtype[r])] { return false }
            if let predicate {
                guard let s = try? store.segments(ids: [file.ids[r]]).first else { return false }
                return predicate(s)
            }
            return true
        }
    }

    /// An engine over rows `rows` of the map (with their points, and the operator areas when
    /// `areas`), read from the store; refuses when the store is no longer at ``stamp``.
    /// O(p log n) for p rows.
    func part(_ rows: some Sequence<Int>, areas withAreas: Bool = false) throws(EngineError) -> UtilityEngine {
        let ids = Set(rows).map { file.ids[$0] }
        let network: UtilityNetwork
        do {
            let segs = try store.segments(ids: ids)
            let pts = try store.points(numbers: segs.flatMap { [$0.startPoint, $0.endPoint] })
            let ars = withAreas ? try operatorAreas() : []
            let now = try store.stamp()
            guard now == stamp, segs.count == ids.count else {
                throw EngineError(
                    "the store changed after its map was opened (it was at \(stamp), it is at \(now)): open it again",
                    at: "store \(store.path)")
            }
            network = try UtilityNetwork(crs: crs, segments: segs, points: pts, areas: ars)
        } catch let e as EngineError {
            throw e
        } catch {
            throw EngineError("cannot read the pipes an answer needs: \(error)", at: "store \(store.path)")
        }
        return try UtilityEngine(part: network, of: whole, codes: codes, figures: figures)
    }

    func operatorAreas() throws -> [OperatorArea] {
        if let a = areas.withLock({ $0 }) { return a }
        let a = try store.storedAreas()
        areas.withLock { $0 = a }
        return a
    }

    private var featureOfRow: ((Int) -> Int64)? {
        file.meta.multiPart ? { [file] in file.feature[$0] } : nil
    }

    // MARK: Queries (the engine's, on the part of the map they reach)

    /// Whether any row is a cable bed, sleeve or casing: read from the file's kind column on the
    /// first grouped query (O(n) bytes), then kept.
    var hasEnclosures: Bool {
        enclosureFlag.withLock { flag in
            if let flag { return flag }
            let utility = UInt8(FeatureKind.allCases.firstIndex(of: .utilityLine)!)
            let found = (0..<file.kind.count).contains { file.kind[$0] != utility }
            flag = found
            return found
        }
    }

    /// `rows` with what grouping their enclosures needs (``UtilityEngine/groupedNearest``):
    /// every part of their features, the rows within ``UtilityEngine/enclosureTolerance`` of
    /// those (the lines an enclosure carries, the enclosures carrying a line) with all their
    /// parts, and the rows within the tolerance of each enclosure so added (what decides the lines
    /// it carries). O(n) per round over the feature column on a multi-part map, plus the reads.
    func withEnclosureNeighbours(_ rows: Set<Int>) throws(EngineError) -> Set<Int> {
        func allParts(_ s: Set<Int>) -> Set<Int> {
            guard file.meta.multiPart else { return s }
            let fs = Set(s.map { file.feature[$0] })
            var out = s
            for r in 0..<file.feature.count where fs.contains(file.feature[r]) { out.insert(r) }
            return out
        }
        let s1 = allParts(rows)
        let s3 = allParts(s1.union(try tolNeighbours(s1)))
        let added = s3.subtracting(s1).filter { FeatureKind.allCases[Int(file.kind[$0])].isEnclosure }
        return s3.union(try tolNeighbours(added))
    }

    /// The rows within ``UtilityEngine/enclosureTolerance`` of any row of `rows` (read from the store).
    func tolNeighbours(_ rows: some Collection<Int>) throws(EngineError) -> Set<Int> {
        guard !rows.isEmpty else { return [] }
        let records: [PipeSegment]
        do { records = try store.segments(ids: rows.map { file.ids[$0] }) } catch {
            throw EngineError("cannot read the pipes near enclosures: \(error)", at: "store \(store.path)")
        }
        var out = Set<Int>()
        for s in records {
            let line = try _QueryShape(.lineString(s.geometry), at: "pipe \(s.id)")
            out.formUnion(index.within(UtilityEngine.enclosureTolerance, of: line).map { Int($0.id) })
        }
        return out
    }

    /// ``UtilityEngine/nearest(to:crs:k:maxDistance:perLayer:filter:enclosures:)``: the `k`
    /// nearest pipes (features) passing `filter` are found in the file's index; only they are
    /// read. Grouped on a map with enclosures, the nearest features are read with what their
    /// groups need (``withEnclosureNeighbours(_:)``), twice as many each round, until the part
    /// answers `k` groups all nearer than the last feature read (or the map has no more).
    public func nearest(
        to geometry: Geometry, crs: String? = nil, k: Int = 1, maxDistance: Double = .infinity,
        perLayer: Bool = false, filter: PipeFilter = .all, enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> [PipeHit] {
        _ = try whole.nearest(to: geometry, crs: crs, k: k, maxDistance: maxDistance, perLayer: perLayer, filter: filter)
        let q = try whole.toMap(geometry, crs: crs, at: "nearest")
        let accept = accepting(filter)
        let grouped = enclosures == .grouped && hasEnclosures
        var want = k
        while true {
            var rows: [Neighbor] = []
            // The least distance at which a search stopped with `want` features (more lie beyond).
            var bound = Double.infinity
            // The layers (nil: the one search) whose search stopped short.
            var short: [LayerCode?] = []
            func searched(_ found: [Neighbor], _ layer: LayerCode?) {
                rows += found
                if found.count == want, let last = found.last {
                    bound = min(bound, last.distance)
                    short.append(layer)
                }
            }
            if perLayer {
                for (code, l) in layerOf where filter.layers?.contains(code) ?? true {
                    searched(index.nearest(
                        k: want, to: q, maxDistance: maxDistance, accept: { [file] in Int(file.layer[$0]) == l && accept($0) },
                        feature: featureOfRow), code)
                }
            } else {
                searched(index.nearest(k: want, to: q, maxDistance: maxDistance, accept: accept, feature: featureOfRow), nil)
            }
            let ids = Set(rows.map { Int($0.id) })
            guard grouped else {
                return try part(ids).nearest(
                    to: geometry, crs: crs, k: k, maxDistance: maxDistance, perLayer: perLayer, filter: filter,
                    enclosures: enclosures)
            }
            let answer = try part(try withEnclosureNeighbours(ids)).nearest(
                to: geometry, crs: crs, k: k, maxDistance: maxDistance, perLayer: perLayer, filter: filter,
                enclosures: enclosures)
            // Exact when no search stopped short, or each that did has its k groups and every
            // group answered opened nearer than where any search stopped (every feature nearer
            // than that was read, with all it groups with).
            let full = short.allSatisfy { l in answer.lazy.filter { l == nil || $0.pipe.layer == l }.count >= k }
            if short.isEmpty || (full && answer.allSatisfy { $0.groupDistance < bound }) { return answer }
            want *= 2
        }
    }

    /// ``UtilityEngine/within(distance:of:crs:filter:allParts:enclosures:)``.
    public func within(
        distance: Double, of geometry: Geometry, crs: String? = nil, filter: PipeFilter = .all, allParts: Bool = false,
        enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> [PipeHit] {
        _ = try whole.within(distance: distance, of: geometry, crs: crs, filter: filter, allParts: allParts)
        let q = try whole.toMap(geometry, crs: crs, at: "within")
        let accept = accepting(filter)
        var rows = Set(index.within(distance, of: q).lazy.map { Int($0.id) }.filter(accept))
        if enclosures == .grouped, !allParts, hasEnclosures {
            // The lines an enclosure of the answer carries run within the tolerance of it.
            rows.formUnion(try tolNeighbours(rows.filter { FeatureKind.allCases[Int(file.kind[$0])].isEnclosure }))
        }
        return try part(rows).within(
            distance: distance, of: geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    /// ``UtilityEngine/intersecting(_:crs:filter:allParts:enclosures:)``.
    public func intersecting(
        _ geometry: Geometry, crs: String? = nil, filter: PipeFilter = .all, allParts: Bool = false,
        enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> [PipeHit] {
        try within(distance: 0, of: geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    /// ``UtilityEngine/digCheck(_:filter:)``: every pipe within the dig check's reach (and every
    /// line an enclosure in reach may carry) is read, with the operator areas.
    public func digCheck(_ request: DigRequest, filter: PipeFilter = .all) throws(EngineError) -> DigReport {
        _ = try whole.digCheck(request, filter: filter)
        let q = try whole.toMap(request.area, crs: request.crs, at: "digCheck area")
        let reach = whole.digReach(request, workType: whole.rules.excavationWorkType(matching: request.workType), figures).reach
        var rows = Set(index.within(reach, of: q).map { Int($0.id) })
        // A conflicting cable bed, sleeve or casing names the lines it carries, which run
        // within `enclosureTolerance` of it however far it reaches from the dig.
        let enclosures = rows.filter { FeatureKind.allCases[Int(file.kind[$0])].isEnclosure }
        if !enclosures.isEmpty {
            let records: [PipeSegment]
            do { records = try store.segments(ids: enclosures.map { file.ids[$0] }) } catch {
                throw EngineError("cannot read the enclosures in reach: \(error)", at: "store \(store.path)")
            }
            for e in records {
                let line = try _QueryShape(.lineString(e.geometry), at: "enclosure \(e.id)")
                rows.formUnion(index.within(UtilityEngine.enclosureTolerance, of: line).map { Int($0.id) })
            }
        }
        return try part(rows, areas: true).digCheck(request, filter: filter)
    }

    /// ``UtilityEngine/routeCheck(_:nearMargin:filter:enclosures:)``: every pipe within the
    /// route check's reach is read (grouped, with the lines its enclosures may carry).
    public func routeCheck(
        _ planned: PlannedPipe, nearMargin: Double = 1.0, filter: PipeFilter = .all, enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> RouteReport {
        _ = try whole.routeCheck(planned, nearMargin: nearMargin, filter: filter)
        let q = try whole.toMap(.lineString(planned.route), crs: planned.crs, at: "routeCheck route")
        let reach = whole.routeReach(planned, nearMargin: nearMargin, figures)
        let accept = accepting(filter)
        var rows = Set(index.within(reach, of: q).lazy.map { Int($0.id) }.filter(accept))
        if enclosures == .grouped, hasEnclosures {
            rows.formUnion(try tolNeighbours(rows.filter { FeatureKind.allCases[Int(file.kind[$0])].isEnclosure }))
        }
        return try part(rows).routeCheck(planned, nearMargin: nearMargin, filter: filter, enclosures: enclosures)
    }

    /// ``UtilityEngine/crossSection(along:crs:filter:)``.
    public func crossSection(along cut: LineString, crs: String? = nil, filter: PipeFilter = .all)
        throws(EngineError) -> CrossSection
    {
        _ = try whole.crossSection(along: cut, crs: crs, filter: filter)
        let q = try whole.toMap(.lineString(cut), crs: crs, at: "crossSection")
        let accept = accepting(filter)
        let rows = index.within(0, of: q).lazy.map { Int($0.id) }.filter(accept)
        return try part(rows).crossSection(along: cut, crs: crs, filter: filter)
    }

    /// ``UtilityEngine/bufferZone(of:crs:distance:)`` (geometry only; no pipe is read).
    public func bufferZone(of geometry: Geometry, crs: String? = nil, distance: Double) throws(EngineError) -> Geometry {
        try whole.bufferZone(of: geometry, crs: crs, distance: distance)
    }

    /// The segment with `id`, read from the store; nil when the map has none. O(log n).
    public func segment(id: Int64) throws(EngineError) -> PipeSegment? {
        do { return try store.segments(ids: [id]).first } catch {
            throw EngineError("cannot read segment \(id): \(error)", at: "store \(store.path)")
        }
    }

    /// Every part of the feature with key `feature` (``PipeSegment/featureID``), ordered by
    /// part then id. O(n) over the file's feature column plus the parts' reads.
    public func parts(ofFeature feature: Int64) throws(EngineError) -> [PipeSegment] {
        let rows = (0..<file.feature.count).filter { file.feature[$0] == feature }
        do {
            return try store.segments(ids: rows.map { file.ids[$0] }).sorted { ($0.part ?? 0, $0.id) < ($1.part ?? 0, $1.id) }
        } catch {
            throw EngineError("cannot read the parts of feature \(feature): \(error)", at: "store \(store.path)")
        }
    }
}
