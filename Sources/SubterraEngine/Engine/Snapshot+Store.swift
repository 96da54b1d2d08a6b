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
                    rows.append(_Row(
                        segment: s, depth0: s.depthOfTop(atParameter: 0, groundAtStart: g0, groundAtEnd: g1) ?? .nan,
                        depth1: s.depthOfTop(atParameter: 1, groundAtStart: g0, groundAtEnd: g1) ?? .nan))
                })
            areas = try store.storedAreas()
            var areaIDs = Set<Int64>()
            for a in areas {
                try a.validate()
                guard areaIDs.insert(a.id).inserted else { throw ModelError("area id is used twice", at: a.location) }
            }
        } catch {
            throw EngineError("cannot load the map: \(error)", at: "store \(store.path)")
        }
        try self.init(
            rows: rows, points: _Points(table: points.finish()), crs: store.spatialReference.authorityString,
            version: 0, rules: rules, areas: _AreaSet(areas: areas), indexMerges: indexMerges)
    }
}
