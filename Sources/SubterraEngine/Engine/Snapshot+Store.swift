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
        var points = _ShardedMap<PointNumber, _PointEntry>(expected: 0)
        var rows: [_Row] = []
        var areas: [OperatorArea] = []
        var sequence = 0
        // Each point's owner and road as read is a string of its own; most are the same few.
        var texts = _SharedTexts()
        do {
            let (ns, np) = try store.counts()
            points = _ShardedMap(expected: np)
            rows.reserveCapacity(ns)
            try store.forEachValidRecord(
                point: { p in
                    var p = p
                    p.owner = texts.share(p.owner)
                    p.road = texts.share(p.road)
                    points[p.number] = _PointEntry(point: p, sequence: sequence)
                    sequence += 1
                },
                segment: { s in
                    let g0 = points[s.startPoint]?.point.groundElevation, g1 = points[s.endPoint]?.point.groundElevation
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
            rows: rows, points: points, nextPointSequence: sequence, crs: store.spatialReference.authorityString,
            version: 0, rules: rules, areas: _AreaSet(areas: areas), indexMerges: indexMerges)
    }
}

/// One copy of each long text read, handed out for every equal one: a store read gives every
/// record its own copy of its owner's name, a heap block per point. Short texts (15 UTF-8
/// bytes or fewer) are stored inline in a `String` and left as they are; a text equal to a
/// kept one but spelt in other bytes (another Unicode normalisation) is left as it is too.
struct _SharedTexts {
    private var kept: [String: String] = [:]

    /// `s`, or the kept copy spelt in the same bytes. O(length) expected.
    mutating func share(_ s: String?) -> String? {
        guard let s, s.utf8.count > 15 else { return s }
        if let k = kept[s] { return _sameBytes(k, s) ? k : s }
        kept[s] = s
        return s
    }
}
