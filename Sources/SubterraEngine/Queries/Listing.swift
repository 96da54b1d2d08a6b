import SubterraGeometry
import SubterraModel

// Listings for paged services (OGC API Features items): segment ids in id order, from the
// segment index when a geometry bounds them, and each layer's extent.

extension UtilityEngine {
    /// See ``PipeMap/segmentIDs(within:of:crs:filter:)``: the segment index's exact answer
    /// (`rows(_:_:within:_:)`, the one `within` and `intersecting` use) when a geometry is
    /// given, else the live rows the filter accepts; ids sorted ascending.
    public func segmentIDs(within distance: Double, of geometry: Geometry?, crs: String?, filter: PipeFilter)
        throws(EngineError) -> [Int64]
    {
        let snap = snapshot
        guard let geometry else {
            var out: [Int64] = []
            for r in snap.liveRows where snap.accepts(filter, row: r) { out.append(snap.id(r)) }
            return out.sorted()
        }
        let at = "segmentIDs"
        try Self.checkDistance(distance, "distance", at: at)
        let q = try toMap(geometry, crs: crs, at: at)
        return rows(snap, q, within: distance, filter).map { snap.id(Int($0.id)) }.sorted()
    }

    /// See ``PipeMap/layerExtents()``: the vertices of every live row, read in place. O(total
    /// vertices) on the first call for a snapshot, then kept with it (O(layers)).
    public func layerExtents() -> [LayerCode: Envelope] {
        let snap = snapshot
        if let cached = snap.layerExtents.withLock({ $0 }) { return cached }
        var out: [LayerCode: Envelope] = [:]
        for r in snap.liveRows {
            let (t, l) = snap.locate(r)
            out[snap.kind(r).layer, default: .empty] = out[snap.kind(r).layer, default: .empty].union(Envelope(points: _Snapshot.points(t, l)))
        }
        snap.layerExtents.withLock { $0 = out }
        return out
    }
}

extension MappedMap {
    /// See ``PipeMap/segmentIDs(within:of:crs:filter:)``: the file's segment index answers a
    /// geometry exactly, the filter is read from the file's columns (a predicate reads each
    /// candidate's record from the store); ids sorted ascending.
    public func segmentIDs(within distance: Double, of geometry: Geometry?, crs: String?, filter: PipeFilter)
        throws(EngineError) -> [Int64]
    {
        let accept = accepting(filter)
        guard let geometry else { return (0..<file.ids.count).filter(accept).map { self.file.ids[$0] }.sorted() }
        let at = "segmentIDs"
        try UtilityEngine.checkDistance(distance, "distance", at: at)
        let q = try whole.toMap(geometry, crs: crs, at: at)
        return index.within(distance, of: q).lazy.map { Int($0.id) }.filter(accept).map { self.file.ids[$0] }.sorted()
    }

    /// See ``PipeMap/layerExtents()``: the store read record by record on the first call, then
    /// kept (the map of a ``MappedMap`` never changes).
    public func layerExtents() throws(EngineError) -> [LayerCode: Envelope] {
        if let e = extents.withLock({ $0 }) { return e }
        var out: [LayerCode: Envelope] = [:]
        do { try store.forEachSegment { s in out[s.layer, default: .empty] = out[s.layer, default: .empty].union(Envelope(points: s.geometry.points)) } } catch {
            throw EngineError("cannot read the segments: \(error)", at: "store \(store.path)")
        }
        extents.withLock { $0 = out }
        return out
    }
}
