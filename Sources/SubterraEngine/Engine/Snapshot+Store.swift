import SubterraIndex
import SubterraModel

extension _Snapshot {
    /// The first snapshot of the map in `store`, read one record at a time (points, then
    /// segments in fid order, then the operator areas) straight into the row table and lookups,
    /// with no `UtilityNetwork` in between: each record validated, and point numbers, segment
    /// ids and area ids checked unique, as `UtilityNetwork` would. The same snapshot as
    /// `init(network: store.loadAll(), …)`, in less time and memory (no second copy of every
    /// record, no map-wide dictionaries built only to be dropped).
    ///
    /// - Throws: `EngineError` naming the store and the unreadable or invalid record.
    /// - Complexity: O(n log n) in segments.
    convenience init(store: GeoPackageStore, rules: ClearanceRules, indexMerges: DynamicRTree.MergePolicy)
        throws(EngineError)
    {
        var points = _PointTableBuilder(capacity: 0)
        var rows: [_Row] = []
        var areas: [OperatorArea] = []
        do {
            let (ns, np) = try store.counts()
            points = _PointTableBuilder(capacity: np)
            rows.reserveCapacity(ns)
            try store.forEachValidRecord(
                point: { p in
                    // `forEachValidRecord` refuses a number twice before this runs.
                    guard points.add(p) else { throw ModelError("point number is used twice", at: p.location) }
                },
                segment: { s in
                    let g0 = points.index(of: s.startPoint).flatMap { points.groundElevation($0) }
                    let g1 = points.index(of: s.endPoint).flatMap { points.groundElevation($0) }
                    rows.append(_Row(segment: s, groundAtStart: g0, groundAtEnd: g1))
                })
            areas = try store.storedAreas()
            try Self.checkAreas(areas)
        } catch {
            throw EngineError("cannot load the map: \(error)", at: "store \(store.path)")
        }
        try self.init(
            rows: rows, points: _Points(table: points.finish()), crs: store.spatialReference.authorityString,
            version: 0, rules: rules, areas: _AreaSet(areas: areas), indexMerges: indexMerges)
    }

    /// The first snapshot of these records, checked as `UtilityNetwork(crs:segments:points:areas:)`
    /// checks them (each record validated; point numbers, segment ids and area ids unique; the
    /// same first error: points, then segments, then areas, each in order), without building
    /// that map value. The records come in parts, in order (a whole map is one part each; a
    /// store read on several connections hands its parts over as they are, not copied into one
    /// array first). Two stages on two threads: the point table (each point validated) beside
    /// the segments' checks; then the row table's columns beside the depths (from the points'
    /// ground elevations), the lookups and the segment index. The rows are those
    /// `init(store:)` makes, with no array of rows in between.
    ///
    /// - Throws: `EngineError` naming the first invalid or repeated record.
    /// - Complexity: O(n log n) in segments.
    convenience init(
        crs: String, segmentParts: [[PipeSegment]], pointParts: [[FeaturePoint]], areas: [OperatorArea], rules: ClearanceRules,
        indexMerges: DynamicRTree.MergePolicy
    ) throws(EngineError) {
        let segmentCount = segmentParts.reduce(0) { $0 + $1.count }
        let (table, segmentError) = _both({ () -> Result<_PointTable, ModelError> in
            var b = _PointTableBuilder(capacity: pointParts.reduce(0) { $0 + $1.count })
            for part in pointParts {
                for p in part {
                    do throws(ModelError) { try p.validate() } catch { return .failure(error) }
                    guard b.add(p) else { return .failure(ModelError("point number is used twice", at: p.location)) }
                }
            }
            return .success(b.finish())
        }, { () -> ModelError? in
            var ids = Set<Int64>(minimumCapacity: segmentCount)
            for part in segmentParts {
                for s in part {
                    do throws(ModelError) { try s.validate() } catch { return error }
                    guard ids.insert(s.id).inserted else { return ModelError("segment id is used twice", at: s.location) }
                }
            }
            return nil
        })
        let pointTable: _PointTable
        do {
            pointTable = try table.get()
            if let segmentError { throw segmentError }
            try Self.checkAreas(areas)
        } catch {
            throw EngineError("invalid map: \(error)", at: "records")
        }
        let points = _Points(table: pointTable)
        // The row table's columns on one thread; on another the depths (which need the point
        // table), the lookups and the segment index. No array of rows in between.
        let (columns, rest) = _both({ _Table.columns(of: segmentParts) }, { () -> Result<(_Lookups, [Double], [Double]), EngineError> in
            var depth0: [Double] = [], depth1: [Double] = []
            depth0.reserveCapacity(segmentCount)
            depth1.reserveCapacity(segmentCount)
            for part in segmentParts {
                for s in part {
                    let d = _Row.depths(of: s, groundAtStart: points.groundElevation(s.startPoint), groundAtEnd: points.groundElevation(s.endPoint))
                    depth0.append(d.start)
                    depth1.append(d.end)
                }
            }
            return Self.lookups(of: segmentParts.joined(), version: 0, indexMerges: indexMerges).map { ($0, depth0, depth1) }
        })
        let (lookups, depth0, depth1) = try rest.get()
        self.init(base: _Table(columns, depth0: depth0, depth1: depth1), lookups: lookups, points: points, crs: crs,
                  version: 0, rules: rules, areas: _AreaSet(areas: areas))
    }

    /// Each area valid, and no area id twice (as `UtilityNetwork` checks them).
    private static func checkAreas(_ areas: [OperatorArea]) throws(ModelError) {
        var areaIDs = Set<Int64>()
        for a in areas {
            try a.validate()
            guard areaIDs.insert(a.id).inserted else { throw ModelError("area id is used twice", at: a.location) }
        }
    }
}

extension _Row {
    /// `s`'s row, with the depth of its top at each end from its own depths or elevations and
    /// the ground elevations of its end points (NaN where none can be told).
    init(segment s: PipeSegment, groundAtStart g0: Double?, groundAtEnd g1: Double?) {
        let d = Self.depths(of: s, groundAtStart: g0, groundAtEnd: g1)
        self.init(segment: s, depth0: d.start, depth1: d.end)
    }

    /// The depth of `s`'s top at its start and end, from its own depths or elevations and the
    /// ground elevations of its end points (NaN where none can be told).
    static func depths(of s: PipeSegment, groundAtStart g0: Double?, groundAtEnd g1: Double?) -> _DepthPair {
        _DepthPair(
            start: s.depthOfTop(atParameter: 0, groundAtStart: g0, groundAtEnd: g1) ?? .nan,
            end: s.depthOfTop(atParameter: 1, groundAtStart: g0, groundAtEnd: g1) ?? .nan)
    }
}
