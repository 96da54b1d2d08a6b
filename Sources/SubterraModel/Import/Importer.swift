import Foundation
import SubterraGeometry
import SubterraPROJ

/// One file to import, with its format, what its records are, and how its fields map.
public struct ImportSource: Hashable, Sendable {
    public enum Format: Hashable, Sendable {
        /// GeoJSON feature collection (or a single feature); CRS from its `crs` member, else the
        /// caller's, else RFC 7946's WGS84 lon/lat.
        case geoJSON
        /// CSV with a header row; `geometryColumn` holds WKT. Without one, points take their
        /// position from the `x`/`y` fields (survey axis order per `ImportOptions.axes`) and
        /// segments run straight from their start point to their end point (the CJJ 61 survey
        /// table layout).
        case csv(geometryColumn: String?, separator: Character = ",")
        /// A feature table of any GeoPackage (ours or foreign); nil = the only feature table
        /// matching `content`'s geometry type.
        case geoPackage(table: String?)
        /// Records another module has already read (the GDAL bridge, `SubterraGDAL`, reads
        /// Shapefile, DXF, GML, KML, FileGDB … this way, so this module never links GDAL), with
        /// the CRS the source declares (`EPSG:4549`, or WKT), nil for none. They take the same
        /// mapping, CRS and quality path as every other format; `path` still names the file.
        case records([SourceRecord], crs: String?)
    }

    /// What the records are.
    public enum Content: String, Hashable, Sendable, Codable {
        case segments, points
        /// Operators' precaution zones and interest areas (``OperatorArea``): Polygon or
        /// MultiPolygon records.
        case areas
    }

    public var path: String
    public var format: Format
    public var content: Content
    public var mapping: FieldMapping

    public init(path: String, format: Format, content: Content, mapping: FieldMapping) {
        self.path = path
        self.format = format
        self.content = content
        self.mapping = mapping
    }
}

/// Knobs of an import; the defaults suit 1:500 surveys in EPSG:4549.
public struct ImportOptions: Hashable, Sendable {
    public var policy: ImportPolicy
    /// Layers the city uses; a code outside it is an `unknownLayer` issue.
    public var catalog: LayerCatalog
    /// CRS of the result (the store's), as PROJ reads it.
    public var targetCRS: String
    /// Source CRS that overrides whatever files declare (for files that declare it wrongly).
    public var sourceCRS: String?
    /// Survey axis order of `x`/`y` fields.
    public var axes: SurveyAxes
    /// Largest distance (target CRS units, metres) between a segment end and the point it names;
    /// also the snapping distance for segments without point numbers.
    public var endTolerance: Double
    /// Largest difference between depths of one point on the segments that meet it, metres.
    public var depthTolerance: Double
    /// Plausible depths, metres; outside is `depthOutOfRange` (values the model refuses — negative,
    /// non-finite, over 100 m — are dropped from the record and reported).
    public var plausibleDepth: ClosedRange<Double>
    /// The id given to the first segment without an `id` field; later ones count up.
    public var firstSegmentID: Int64
    /// The largest share (0…1) of the records read that may be dropped; when set, an import
    /// that keeps nothing (no records, or every one dropped) or drops more than this share is
    /// refused with an ``ImportError`` carrying the report, so nothing is written. `nil` (the
    /// library default) accepts any result; the CLI's `--max-dropped` defaults to 5 %.
    public var maxDroppedShare: Double? = nil

    public init(
        policy: ImportPolicy = .strict, catalog: LayerCatalog = .standardWithFibre, targetCRS: String = "EPSG:4549",
        sourceCRS: String? = nil, axes: SurveyAxes = .northingEasting, endTolerance: Double = 0.05,
        depthTolerance: Double = 0.05, plausibleDepth: ClosedRange<Double> = 0...15, firstSegmentID: Int64 = 1
    ) {
        self.policy = policy
        self.catalog = catalog
        self.targetCRS = targetCRS
        self.sourceCRS = sourceCRS
        self.axes = axes
        self.endTolerance = endTolerance
        self.depthTolerance = depthTolerance
        self.plausibleDepth = plausibleDepth
        self.firstSegmentID = firstSegmentID
    }
}

/// What an import produced: the records that passed (or were kept under `lenient`) and every
/// issue found, in source order.
public struct ImportResult: Hashable, Sendable {
    public var segments: [PipeSegment]
    public var points: [FeaturePoint]
    public var report: QualityReport
    /// Records read from all sources.
    public var recordsRead: Int
    /// Segment ends that named no point and matched no point within the tolerance; they got a
    /// node number (`~N…`) shared by all ends at the same place, so the topology is kept.
    public var syntheticNodes: Int
    /// Segment ids the import assigned (records without a whole-number id, and the second and
    /// later parts of multi-part lines). `Importer.write` moves them past the store's largest id
    /// when they would replace stored segments.
    public var assignedIDs: Set<Int64> = []
    /// Operator areas read from `.areas` sources, in source order.
    public var areas: [OperatorArea] = []
    /// Area ids this import made up (records with no id or a text one).
    public var assignedAreaIDs: Set<Int64> = []
    /// Segments shorter than the snapping tolerance (``ImportOptions/endTolerance``), so both
    /// ends resolved to one point: kept under either policy, each a `startEqualsEnd` warning
    /// stating its length and the tolerance.
    public var shortSegments: Int = 0
    /// Records skipped because their layer is one of the mapping's
    /// ``FieldMapping/ignoreLayers``, by layer as listed there: not imported, not dropped.
    public var ignoredLayers: [String: Int] = [:]
    /// How many records ``ignoredLayers`` holds.
    public var ignoredRecords: Int { ignoredLayers.values.reduce(0, +) }

    /// Segments and points ``Importer/stream(_:into:options:source:progress:)`` wrote to the
    /// store as it read them instead of returning them (`segments` and `points` are then empty),
    /// and the multi-part features among those segments with their parts.
    public var streamedSegments = 0
    public var streamedPoints = 0
    public var streamedFeatures = 0
    public var streamedParts = 0

    /// Segments imported: returned in `segments` or written while reading.
    public var segmentCount: Int { segments.count + streamedSegments }
    /// Points imported: returned in `points` or written while reading.
    public var pointCount: Int { points.count + streamedPoints }
    /// Multi-part lines imported, and the segments they were kept as (parts sharing a feature id).
    public var multiPart: (features: Int, segments: Int) {
        var features = Set<Int64>(), parts = 0
        for s in segments { if let f = s.feature { features.insert(f); parts += 1 } }
        return (features.count + streamedFeatures, parts + streamedParts)
    }

    /// The records as a map (validated again by `UtilityNetwork`).
    public func network(crs: String) throws(ModelError) -> UtilityNetwork {
        try UtilityNetwork(crs: crs, segments: segments, points: points)
    }
}

/// How far an import has got, for a progress bar. Reported on the importing thread.
public struct ImportProgress: Hashable, Sendable {
    public enum Stage: String, Hashable, Sendable {
        /// Reading and transforming files; units are bytes of the input files, advanced per file.
        case reading
        /// Mapping and checking records; units are records.
        case checking
        /// Writing to the store; units are rows.
        case writing
    }

    public var stage: Stage
    /// Units done in this stage.
    public var completed: Int
    /// Units in this stage, when known.
    public var total: Int?
    /// The file being read (reading stage).
    public var file: String?

    public init(stage: Stage, completed: Int, total: Int?, file: String? = nil) {
        self.stage = stage
        self.completed = completed
        self.total = total
        self.file = file
    }

    /// `completed / total` in 0…1, nil when the total is unknown (an empty stage counts as done).
    public var fraction: Double? {
        guard let total else { return nil }
        return total > 0 ? min(1, max(0, Double(completed) / Double(total))) : 1
    }
}

/// Reads survey files into model records, with field mapping, CRS transformation and quality
/// checks, and writes them to a store in one transaction.
///
/// ```swift
/// let mapping = try FieldMapping.load(contentsOf: URL(fileURLWithPath: "Datasets/mappings/vermont-sewer-lines.json"))
/// let result = try Importer.read([ImportSource(path: "BarreL.geojson", format: .geoJSON,
///                                              content: .segments, mapping: mapping)],
///                                options: ImportOptions(policy: .lenient, targetCRS: "EPSG:32618"))
/// try Importer.write(result, to: store)
/// ```
public enum Importer {
    /// Reads, maps, transforms and checks `sources` (points before segments, whatever the order
    /// given, so segments can be matched to points of any file).
    ///
    /// - Throws: `ImportError` when a file cannot be read at all, its CRS is unknown, or — under
    ///   `strict` — any record has an error (the error carries the full report).
    /// - Parameter progress: called on this thread at each file (bytes of the input files) and
    ///   every 1024 records checked; nil costs nothing.
    /// - Complexity: O(n log n) in records.
    public static func read(
        _ sources: [ImportSource], options: ImportOptions, progress: ((ImportProgress) -> Void)? = nil
    ) throws(ImportError) -> ImportResult {
        try read(sources, options: options, progress: progress, sink: nil)
    }

    /// `read`, with kept records written to `sink` as they are checked when it is given.
    static func read(
        _ sources: [ImportSource], options: ImportOptions, progress: ((ImportProgress) -> Void)?, sink: _RowSink?
    ) throws(ImportError) -> ImportResult {
        // Points go to the builder before segments (and areas last), whatever the order given;
        // GeoJSON files are streamed into it feature by feature, in that order, so no file's
        // records are ever held whole. Other formats are loaded in source order first, as
        // before, and fed in the same order.
        var report = QualityReport()
        var loaded: [Int: SourceLoader.Loaded] = [:]
        // File sizes are the only total known before parsing (a streamed GeoJSON says how many
        // features it had only at its end).
        let sizes = progress == nil ? [] : sources.map { s -> Int in
            ((try? FileManager.default.attributesOfItem(atPath: s.path))?[.size] as? NSNumber)?.intValue ?? 0
        }
        let totalBytes = sizes.reduce(0, +)
        var bytesRead = 0
        func reading(_ k: Int, done: Bool) {
            guard progress != nil else { return }
            if done { bytesRead += sizes[k] }
            progress?(ImportProgress(stage: .reading, completed: bytesRead, total: totalBytes, file: sources[k].path))
        }
        for (k, source) in sources.enumerated() {
            if case .geoJSON = source.format {
                guard FileManager.default.fileExists(atPath: source.path) else {
                    throw ImportError("file does not exist", file: source.path)
                }
                continue
            }
            reading(k, done: false)
            loaded[k] = try SourceLoader.load(source, options: options, report: &report)
            reading(k, done: true)
        }
        var builder = RecordBuilder(options: options, area: try targetArea(options, sources))
        builder.sink = sink
        var recordsRead = 0
        for (k, source) in sources.enumerated() {
            guard case .network(let n)? = loaded[k] else { continue }
            builder.adopt(n, file: source.path, content: sources.first { $0.path == source.path }?.content)
            recordsRead += n.segments.count + n.points.count
        }
        var checked = 0
        func tick() {
            checked += 1
            if checked & 1023 == 0 { progress?(ImportProgress(stage: .checking, completed: checked, total: nil)) }
        }
        for content in [ImportSource.Content.points, .segments, .areas] {
            for (k, source) in sources.enumerated() where source.content == content {
                switch loaded[k] {
                case .network?:
                    continue
                case .records(let recs, let xyCRS)?:
                    let xy = try SourceLoader.xyTransformer(source, xyCRS: xyCRS, options: options)
                    for r in recs {
                        builder.add(r, content: content, mapping: source.mapping, xyTransform: xy)
                        if content != .areas { tick() }
                    }
                    recordsRead += recs.count
                    loaded[k] = nil
                case nil:
                    reading(k, done: false)
                    recordsRead += try SourceLoader.streamGeoJSON(source, options: options, into: &builder) {
                        if content != .areas { tick() }
                    }
                    reading(k, done: true)
                }
            }
        }
        var result = builder.finish()
        progress?(ImportProgress(stage: .checking, completed: checked, total: checked))
        report.append(contentsOf: result.report)
        result.report = report
        result.recordsRead = recordsRead
        if options.policy == .strict, result.report.hasErrors {
            throw ImportError(
                "import rejected under the strict policy: \(result.report.errors.count) errors; nothing was written",
                file: sources.map(\.path).joined(separator: ", "), report: result.report)
        }
        if let share = options.maxDroppedShare, let why = refusal(result, maxDroppedShare: share) {
            throw ImportError(why, file: sources.map(\.path).joined(separator: ", "), report: result.report)
        }
        return result
    }

    /// Why `result` must not be written under `maxDroppedShare`, or nil when it may: nothing
    /// kept, or more than the share of the records read dropped. Dropped records are counted
    /// once each (by file and record), however many issues they have. O(issues).
    public static func refusal(_ result: ImportResult, maxDroppedShare share: Double) -> String? {
        // Records on ignored layers were never candidates: they count neither way.
        let read = result.recordsRead - result.ignoredRecords
        let kept = result.segmentCount + result.pointCount + result.areas.count
        var droppedAt = Set<RecordLocation>()
        for i in result.report.issues where i.outcome == .dropped { droppedAt.insert(i.location.field(nil)) }
        let dropped = droppedAt.count
        let first = result.report.dropped.first.map { "; first: \($0.location): \($0.message)" } ?? ""
        if kept == 0 {
            if read == 0, result.ignoredRecords > 0 {
                return "nothing to import: all \(result.ignoredRecords) records are on ignored layers "
                    + "(\(result.ignoredLayers.keys.sorted().joined(separator: ", "))); nothing was written"
            }
            return read == 0
                ? "nothing to import: no records were read; nothing was written"
                : "0 of \(read) records imported: every record was dropped\(first); nothing was written"
        }
        guard read > 0 else { return nil }
        let part = Double(dropped) / Double(read)
        guard part > share else { return nil }
        return String(format: "%d of %d records dropped (%.1f %%), more than the %@ %% allowed; nothing was written",
                      dropped, read, part * 100, _percent(share)) + first
    }

    /// Writes `result` to `store` in one transaction (upserting by segment id and point number),
    /// recording the import in the store's metadata in the same transaction. Ids the import made
    /// up are moved past the store's largest id when they would collide (the offset is recorded as
    /// `import.last.idOffset`); explicit ids upsert. A feature delivered again (by its explicit id,
    /// or by a text source id one stored feature has) replaces the stored one and keeps its row
    /// ids; stored parts no longer delivered are deleted (`reuseStoredIDs`). On failure the store
    /// is unchanged.
    ///
    /// - Parameter progress: rows written of the rows in the edit, every 1024 rows, when `store`
    ///   is a ``GeoPackageStore`` (other stores report only the start and the end).
    public static func write(
        _ result: ImportResult, to store: any UtilityStore, source: String? = nil,
        progress: ((ImportProgress) -> Void)? = nil
    ) throws(StoreError) {
        var meta: [String: String?] = [
            "import.last.records": String(result.recordsRead),
            "import.last.segments": String(result.segments.count),
            "import.last.points": String(result.points.count),
            "import.last.issues": String(result.report.issues.count),
        ]
        if let source { meta["import.last.source"] = source }
        var segments = result.segments
        // Made-up ids must never replace stored segments: shift them all past both the store's
        // largest id and the import's own explicit ids (a constant shift keeps their order).
        var assigned = result.assignedIDs
        if let lowest = result.assignedIDs.min() {
            let next = try store.nextSegmentID()
            if lowest < next {
                let explicitMax = segments.lazy.filter { !result.assignedIDs.contains($0.id) }.map(\.id).max() ?? 0
                let offset = max(next, explicitMax + 1) - lowest
                for i in segments.indices {
                    if result.assignedIDs.contains(segments[i].id) { segments[i].id += offset }
                    // A multi-part feature's key is its first part's id: it moves with it.
                    if let f = segments[i].feature, result.assignedIDs.contains(f) { segments[i].feature = f + offset }
                }
                meta["import.last.idOffset"] = String(offset)
                assigned = Set(assigned.map { $0 + offset })
            }
        }
        // A feature delivered again replaces all its stored parts (`reuseStoredIDs`), so a
        // re-import never leaves a pipe with parts from two deliveries.
        // (An empty store holds nothing to match: the grouping of every imported segment, large
        // on a city, is skipped.)
        var stale = try store.counts().segments == 0 ? [] : try reuseStoredIDs(&segments, assigned: assigned, store)
        if !stale.isEmpty {
            let written = Set(segments.map(\.id))
            stale = stale.filter { !written.contains($0) }.sorted()
        }
        if !result.areas.isEmpty { meta["import.last.areas"] = String(result.areas.count) }
        let areas = try placeAreas(result, in: store)
        let edit = StoreEdit(
            upsertSegments: segments, upsertPoints: result.points, deleteSegments: stale, metadata: meta, upsertAreas: areas)
        guard let progress else { return try store.apply(edit) }
        let rows = segments.count + result.points.count
        progress(ImportProgress(stage: .writing, completed: 0, total: rows))
        if let gpkg = store as? GeoPackageStore {
            // The store calls back on this thread while it holds its lock, before `apply` returns.
            try gpkg.apply(edit) { written, total in progress(ImportProgress(stage: .writing, completed: written, total: total)) }
        } else {
            try store.apply(edit)
        }
        progress(ImportProgress(stage: .writing, completed: rows, total: rows))
    }

    /// Matches the features of `segments` to the stored features they deliver again, so a
    /// re-import replaces them instead of adding parts: a feature keyed by an explicit id matches
    /// the stored feature of that key; one keyed by an assigned id matches the stored feature with
    /// its text source id. The parts, in part order, take the stored parts' ids in part order (an
    /// explicit key stays the first part's id; a text-id feature takes the stored key); parts
    /// beyond the stored ones keep their new ids. Returns the stored ids no part took, to delete.
    /// A source id that two imported features, or two stored features, carry matches nothing;
    /// nor does a stored feature one of whose ids an explicit id of the import writes.
    ///
    /// - Complexity: O(k log k) for the k segments imported, plus the store's scans.
    static func reuseStoredIDs(_ segments: inout [PipeSegment], assigned: Set<Int64>, _ store: any UtilityStore)
        throws(StoreError) -> [Int64]
    {
        var groups: [Int64: [Int]] = [:]
        for (i, s) in segments.enumerated() { groups[s.featureID, default: []].append(i) }
        // Explicit keys: the feature of that key. Assigned keys with a text id: by source id.
        var textKey: [String: Int64] = [:]
        var ambiguous = Set<String>()
        var explicitKeys = Set<Int64>()
        for (key, parts) in groups {
            if !assigned.contains(key) {
                explicitKeys.insert(key)
            } else if let sid = segments[parts[0]].sourceID, textKey.updateValue(key, forKey: sid) != nil {
                ambiguous.insert(sid)
            }
        }
        let byKey = Dictionary(grouping: try store.storedParts(ofFeatures: explicitKeys), by: \.featureID)
        let bySource = Dictionary(grouping: try store.segments(withSourceIDs: Set(textKey.keys)), by: { $0.sourceID ?? "" })
        let explicitIDs = Set(segments.lazy.map(\.id).filter { !assigned.contains($0) })
        var matches: [(key: Int64, stored: [StoredPart])] = byKey.map { ($0.key, $0.value) }
        for (sid, key) in textKey where !ambiguous.contains(sid) {
            if let old = bySource[sid], Set(old.map(\.featureID)).count == 1 { matches.append((key, old)) }
        }
        var stale: [Int64] = []
        for (key, old) in matches {
            var reuse = old.sorted { ($0.part ?? 0, $0.id) < ($1.part ?? 0, $1.id) }.map(\.id)
            let parts = groups[key]!.sorted { (segments[$0].part ?? 0) < (segments[$1].part ?? 0) }
            if explicitIDs.contains(key) {
                // The first part keeps its explicit id; the others take the stored ones.
                reuse.removeAll { $0 == key }
                guard explicitIDs.isDisjoint(with: reuse) else { continue }
                for (n, i) in parts.dropFirst().enumerated() where n < reuse.count { segments[i].id = reuse[n] }
                stale += reuse.dropFirst(parts.count - 1)
            } else {
                guard explicitIDs.isDisjoint(with: reuse) else { continue }
                for (n, i) in parts.enumerated() {
                    if n < reuse.count { segments[i].id = reuse[n] }
                    if parts.count > 1 { segments[i].feature = reuse[0] }
                }
                stale += reuse.dropFirst(parts.count)
            }
        }
        return stale
    }

    /// Reads, checks and writes `sources` into `store` in one transaction, writing each record
    /// as soon as it is checked: the import's memory holds compact per-record keys (ids, point
    /// numbers and positions, end-point pairs, first depths), never the whole map. The
    /// cross-record checks run on those keys, reading an earlier segment back from the rows
    /// written when a later one duplicates or reverses it, and report what ``read(_:options:progress:)``
    /// reports. R-trees and end-point indexes are built once at the end, in the transaction.
    ///
    /// All or nothing as ``run(_:into:options:)``: a strict rejection, a refusal under
    /// `maxDroppedShare`, an unreadable file or a failed write rolls back every row written,
    /// and the store is left as it was. Records are read in the store's CRS.
    ///
    /// A store that already holds segments or points, or `firstSegmentID` below 1, takes the
    /// ``read(_:options:progress:)`` then ``write(_:to:source:progress:)`` path instead: a
    /// re-delivery is matched against the stored features, which needs the import's records
    /// whole. The result then carries the records; otherwise it carries counts
    /// (``ImportResult/streamedSegments``, ``ImportResult/streamedPoints``).
    ///
    /// - Throws: ``ImportError`` as `read`; `StoreError` when the store cannot be written.
    /// - Complexity: O(n log n) in records; memory O(n) in small keys only (figures in
    ///   `Benchmarks/NOTES.md`, "Issue 14: streaming import").
    @discardableResult
    public static func stream(
        _ sources: [ImportSource], into store: GeoPackageStore, options: ImportOptions, source: String? = nil,
        progress: ((ImportProgress) -> Void)? = nil
    ) throws -> ImportResult {
        var o = options
        o.targetCRS = store.spatialReference.authorityString
        guard o.firstSegmentID >= 1, try store.counts() == (0, 0) else {
            let result = try read(sources, options: o, progress: progress)
            try write(result, to: store, source: source, progress: progress)
            return result
        }
        // The transaction's closure must not throw the import's own errors through the store's
        // error wrapping: they are kept here and thrown again after the rollback.
        struct Aborted: Error {}
        var importError: ImportError?
        var writeError: (any Error)?
        do {
            return try store.withStreamedWrite { writer throws -> (ImportResult, StoreEdit) in
                let sink = _RowSink(writer)
                let result: ImportResult
                do { result = try read(sources, options: o, progress: progress, sink: sink) } catch {
                    if let f = sink.failure { writeError = f } else { importError = error as? ImportError; writeError = importError == nil ? error : nil }
                    throw Aborted()
                }
                if let f = sink.failure {
                    writeError = f
                    throw Aborted()
                }
                var meta: [String: String?] = [
                    "import.last.records": String(result.recordsRead),
                    "import.last.segments": String(result.segmentCount),
                    "import.last.points": String(result.pointCount),
                    "import.last.issues": String(result.report.issues.count),
                ]
                if let source { meta["import.last.source"] = source }
                if !result.areas.isEmpty { meta["import.last.areas"] = String(result.areas.count) }
                let areas = try placeAreas(result, stored: result.assignedAreaIDs.isEmpty ? [] : writer.storedAreas())
                progress?(ImportProgress(stage: .writing, completed: result.segmentCount + result.pointCount,
                                         total: result.segmentCount + result.pointCount))
                return (result, StoreEdit(upsertSegments: [], upsertPoints: [], metadata: meta, upsertAreas: areas))
            }
        } catch {
            if let importError { throw importError }
            if let writeError { throw writeError }
            throw error
        }
    }

    /// The import's areas with their store ids: an area whose made-up id stands for a text id the
    /// store already holds (same operator id text) replaces that area; other made-up ids move
    /// past the store's largest area id; explicit (numeric) ids upsert.
    static func placeAreas(_ result: ImportResult, in store: any UtilityStore) throws(StoreError) -> [OperatorArea] {
        guard !result.assignedAreaIDs.isEmpty else { return result.areas }
        return placeAreas(result, stored: try store.storedAreas())
    }

    /// ``placeAreas(_:in:)`` against the `stored` areas.
    static func placeAreas(_ result: ImportResult, stored: [OperatorArea]) -> [OperatorArea] {
        guard !result.assignedAreaIDs.isEmpty else { return result.areas }
        var bySourceID: [String: Int64] = [:]
        for a in stored { if let s = a.sourceID { bySourceID[s] = a.id } }
        let taken = Set(stored.map(\.id)).union(result.areas.lazy.filter { !result.assignedAreaIDs.contains($0.id) }.map(\.id))
        var next = (taken.max() ?? 0) + 1
        var out = result.areas
        for i in out.indices where result.assignedAreaIDs.contains(out[i].id) {
            if let s = out[i].sourceID, let id = bySourceID[s] {
                out[i].id = id
            } else {
                out[i].id = next
                next += 1
            }
        }
        return out
    }

    /// The target CRS's area of use widened by the standard 1.5° margin (``AreaCheck/standard``),
    /// which every imported point and vertex must lie in; nil when PROJ does not know the CRS or
    /// records no area for it.
    static func targetArea(_ options: ImportOptions, _ sources: [ImportSource]) throws(ImportError) -> AreaBounds? {
        guard let cs = try? CoordinateSystem(options.targetCRS) else { return nil }
        do { return try cs.areaBounds(check: .standard) } catch {
            throw ImportError("cannot find where \(options.targetCRS) may be used: \(error)",
                              file: sources.map(\.path).joined(separator: ", "))
        }
    }

    /// `read` then `write`: a strict rejection or a failed write leaves the store unchanged.
    /// Records are read in the store's CRS, and segments without an `id` field get ids after
    /// the store's largest.
    @discardableResult
    public static func run(_ sources: [ImportSource], into store: any UtilityStore, options: ImportOptions) throws -> ImportResult {
        var o = options
        o.targetCRS = store.spatialReference.authorityString
        // Ids assigned by the import start after the stored ones, so nothing stored is replaced
        // except by an explicit `id` field.
        o.firstSegmentID = max(o.firstSegmentID, try store.nextSegmentID())
        let result = try read(sources, options: o)
        try write(result, to: store, source: sources.map(\.path).joined(separator: ", "))
        return result
    }
}

/// `0.05` → `"5"`, `0.125` → `"12.5"`: a share as a percentage without trailing zeros.
func _percent(_ share: Double) -> String {
    var t = String(format: "%.3f", share * 100)
    while t.hasSuffix("0") { t.removeLast() }
    if t.hasSuffix(".") { t.removeLast() }
    return t
}

/// Reads one source into records, transformed to the target CRS.
enum SourceLoader {
    enum Loaded {
        /// Records with geometry in the target CRS; `x`/`y` fields still in `xyCRS`.
        case records([SourceRecord], xyCRS: String)
        case network(UtilityNetwork)
    }

    /// The transformer of a points source's `x`/`y` fields from `xyCRS`, nil when they need none.
    static func xyTransformer(_ source: ImportSource, xyCRS: String, options: ImportOptions) throws(ImportError) -> Transformer? {
        guard source.content == .points, xyCRS != options.targetCRS, source.mapping[.x] != nil else { return nil }
        do { return try Transformer(from: xyCRS, to: options.targetCRS) } catch {
            throw ImportError("cannot transform x/y from \(xyCRS) to \(options.targetCRS): \(error)", file: source.path)
        }
    }

    /// The CRS name a GeoJSON `crs` member declares.
    static func crsName(_ c: GeoJSONCRS) -> String {
        if c.isCRS84 { return "OGC:CRS84" }
        if let e = c.epsg { return "EPSG:\(e)" }
        return c.name
    }

    /// Streams the GeoJSON file of `source` into `builder`, one feature at a time: each feature
    /// becomes a record, is transformed to the target CRS and handed to the builder before the
    /// next is parsed, so memory is O(largest feature) beyond what the builder keeps. Returns the
    /// number of records read; `tick` is called per record.
    ///
    /// The file's CRS must be known before its features: when the `crs` member comes only after
    /// them (and no CRS is forced) and names another CRS than the one assumed, the builder is
    /// put back as it was before the file and the file is read again with the declared CRS, so
    /// the result is the one a whole-file read gives.
    static func streamGeoJSON(
        _ source: ImportSource, options: ImportOptions, into builder: inout RecordBuilder, tick: () -> Void
    ) throws(ImportError) -> Int {
        let path = source.path
        // Every feature of a file sees the same `crs` member: its name is worked out once.
        var resolved: (GeoJSONCRS?, String)?
        func resolve(_ declared: GeoJSONCRS?) -> String {
            if let (c, name) = resolved, c == declared { return name }
            let name = options.sourceCRS ?? declared.map(crsName) ?? source.mapping.sourceCRS ?? "OGC:CRS84"
            resolved = (declared, name)
            return name
        }
        func pass(forced: String?, before: inout RecordBuilder?) throws(ImportError) -> (count: Int, used: String?, header: GeoJSONHeader) {
            var transformer = RecordTransformer(options: options, file: path)
            var used: String?
            var xy: Transformer?
            var count = 0
            let header: GeoJSONHeader
            do {
                header = try GeoJSON.forEachFeatureWithCRS(inFile: path) { i, f, declared in
                    let crs = forced ?? resolve(declared)
                    if used == nil {
                        // The first feature fixes the CRS assumed for the file.
                        if forced == nil, options.sourceCRS == nil, declared == nil {
                            before = builder
                            builder.sink?.mark()
                        }
                        used = crs
                        xy = try xyTransformer(source, xyCRS: crs, options: options)
                    }
                    var fields: [(String, SourceValue)] = []
                    if let props = f.properties {
                        for (k, v) in props.members { fields.append((k, SourceValue(v))) }
                    }
                    var r = SourceRecord(
                        location: RecordLocation(file: path, unit: .feature, index: i), fields: fields,
                        geometry: f.geometry, geometryError: f.geometry == nil ? "feature has no geometry" : nil)
                    try transformer.apply(&r, from: crs)
                    builder.add(r, content: source.content, mapping: source.mapping, xyTransform: xy)
                    count += 1
                    tick()
                }
            } catch let e as ImportError {
                throw e
            } catch let e as GeometryError {
                throw ImportError("not readable as GeoJSON: \(e)", file: path, record: e.featureIndex)
            } catch {
                throw ImportError("not readable as GeoJSON: \(error)", file: path)
            }
            return (count, used, header)
        }
        var before: RecordBuilder?
        let first = try pass(forced: nil, before: &before)
        let declared = resolve(first.header.crs)
        if first.used == nil {
            // No features: the x/y transformer is still checked, as a whole-file read does.
            _ = try xyTransformer(source, xyCRS: declared, options: options)
            return first.count
        }
        guard first.used != declared, let before else {
            if before != nil { builder.sink?.releaseMark() }
            return first.count
        }
        builder = before
        // The rows written in the assumed CRS go with the builder's state.
        builder.sink?.rollBackToMark()
        var unused: RecordBuilder?
        return try pass(forced: declared, before: &unused).count
    }

    static func load(_ source: ImportSource, options: ImportOptions, report: inout QualityReport) throws(ImportError) -> Loaded {
        let path = source.path
        guard FileManager.default.fileExists(atPath: path) else { throw ImportError("file does not exist", file: path) }
        switch source.format {
        case .geoJSON:
            var records: [SourceRecord] = []
            let header: GeoJSONHeader
            do {
                header = try GeoJSON.forEachFeature(inFile: path) { i, f in
                    var fields: [(String, SourceValue)] = []
                    if let props = f.properties { for (k, v) in props.members { fields.append((k, SourceValue(v))) } }
                    records.append(SourceRecord(
                        location: RecordLocation(file: path, unit: .feature, index: i), fields: fields,
                        geometry: f.geometry, geometryError: f.geometry == nil ? "feature has no geometry" : nil))
                }
            } catch let e as GeometryError {
                throw ImportError("not readable as GeoJSON: \(e)", file: path, record: e.featureIndex)
            } catch {
                throw ImportError("not readable as GeoJSON: \(error)", file: path)
            }
            let declared = header.crs.map { c -> String in
                if c.isCRS84 { return "OGC:CRS84" }
                if let e = c.epsg { return "EPSG:\(e)" }
                return c.name
            }
            let crs = options.sourceCRS ?? declared ?? source.mapping.sourceCRS ?? "OGC:CRS84"
            return .records(try transform(records, from: crs, options: options, file: path), xyCRS: crs)
        case .csv(let geometryColumn, let separator):
            var text = ""
            // An empty regular file is an empty table (and Foundation's whole-file read leaks its
            // buffer on one); anything else, FIFOs included, is read.
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            if attributes?[.type] as? FileAttributeType != .typeRegular || (attributes?[.size] as? NSNumber)?.intValue != 0 {
                do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                    throw ImportError("cannot read as UTF-8 text: \(error.localizedDescription)", file: path)
                }
            }
            let records = try CSVReader.records(file: path, text: text, geometryColumn: geometryColumn, separator: separator)
            let crs = options.sourceCRS ?? source.mapping.sourceCRS ?? options.targetCRS
            return .records(try transform(records, from: crs, options: options, file: path), xyCRS: crs)
        case .geoPackage(let table):
            // A Subterra store is read whole; any other GeoPackage by its feature tables. A store
            // with damaged pages is neither: it is refused with SQLite's report.
            var subterraStore: GeoPackageStore?
            if table == nil {
                do { subterraStore = try GeoPackageStore.open(at: path, readOnly: true) } catch where error.kind == .corrupt {
                    throw ImportError(error.message, file: path)
                } catch {}
            }
            if let store = subterraStore {
                do {
                    let n = try store.loadAll()
                    if store.spatialReference.authorityString != options.targetCRS {
                        throw ImportError(
                            "store CRS \(store.spatialReference.authorityString) differs from target \(options.targetCRS); reading Subterra stores across CRSs is not supported",
                            file: path)
                    }
                    return .network(n)
                } catch let e as ImportError { throw e } catch { throw ImportError("\(error)", file: path) }
            }
            let (records, srs) = try GeoPackageReader.records(path: path, table: table, content: source.content)
            let crs = options.sourceCRS ?? srs ?? source.mapping.sourceCRS ?? options.targetCRS
            return .records(try transform(records, from: crs, options: options, file: path), xyCRS: crs)
        case .records(let records, let declared):
            let crs = options.sourceCRS ?? declared ?? source.mapping.sourceCRS ?? options.targetCRS
            return .records(try transform(records, from: crs, options: options, file: path), xyCRS: crs)
        }
    }

    /// Transforms record geometries (and nothing else: `x`/`y` fields of survey tables are
    /// transformed by the builder) from `crs`, or from a record's own EWKT SRID unless the caller
    /// forced a source CRS. A record that fails keeps no geometry and says why.
    static func transform(_ records: [SourceRecord], from crs: String, options: ImportOptions, file: String)
        throws(ImportError) -> [SourceRecord]
    {
        var t = RecordTransformer(options: options, file: file)
        var out = records
        for i in out.indices { try t.apply(&out[i], from: crs) }
        return out
    }
}

/// Transforms one record's geometry at a time to the target CRS, keeping one PROJ transformer
/// per source CRS met (the file's, and any per-record EWKT SRIDs).
struct RecordTransformer {
    let options: ImportOptions
    let file: String
    var transformers: [String: Transformer] = [:]

    init(options: ImportOptions, file: String) {
        self.options = options
        self.file = file
    }

    /// Transforms `record`'s geometry from `crs` (or its own SRID unless a source CRS is forced).
    /// - Throws: `ImportError` when a file-wide CRS cannot be used; a bad per-record SRID costs
    ///   only that record's geometry, with the reason in `geometryError`.
    mutating func apply(_ record: inout SourceRecord, from crs: String) throws(ImportError) {
        guard let g = record.geometry else { return }
        let source = options.sourceCRS ?? record.srid.map { "EPSG:\($0)" } ?? crs
        if source == options.targetCRS { return }
        let t: Transformer
        if let known = transformers[source] {
            t = known
        } else {
            do { t = try Transformer(from: source, to: options.targetCRS) } catch {
                guard let srid = record.srid, options.sourceCRS == nil else {
                    throw ImportError("cannot transform from \(source) to \(options.targetCRS): \(error)", file: file)
                }
                record.geometry = nil
                record.geometryError = "SRID \(srid) is unusable: \(error)"
                return
            }
            transformers[source] = t
        }
        do { record.geometry = try t.transform(g) } catch {
            record.geometry = nil
            record.geometryError = "cannot transform from \(source): \(error)"
        }
    }
}
