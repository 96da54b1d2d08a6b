import SubterraGeometry
import SubterraIndex
import SubterraModel
import SubterraPROJ

extension _Snapshot {
    /// Refuses an edit that would make the map invalid, with the error `UtilityNetwork` would give
    /// for the whole new map: a segment upserted and deleted together, an id or point number twice
    /// in one edit, an invalid record. Records already in the map were validated when written and
    /// ids stay unique by construction (an upsert replaces), so only the edit's records are
    /// checked; every upserted point and segment vertex must lie inside `area` (the map CRS's
    /// widened area of use, as for queries and imports). No side effects. O(edit size).
    func validate(_ edit: StoreEdit, area: AreaBounds?) throws(EngineError) {
        let deleteIDs = Set(edit.deleteSegments)
        for s in edit.upsertSegments where deleteIDs.contains(s.id) {
            throw EngineError("segment is both upserted and deleted in one edit", at: s.location)
        }
        var seen = Set<Int64>()
        for s in edit.upsertSegments where !seen.insert(s.id).inserted {
            throw EngineError("segment id appears twice in one edit", at: s.location)
        }
        func model(_ body: () throws(ModelError) -> Void) throws(EngineError) {
            do { try body() } catch {
                throw EngineError(error.message, at: error.location.isEmpty ? "edit" : error.location)
            }
        }
        // Points before segments, as `UtilityNetwork.init` checks them.
        var numbers = Set<PointNumber>()
        for p in edit.upsertPoints {
            try model { () throws(ModelError) in try p.validate() }
            guard numbers.insert(p.number).inserted else {
                throw EngineError("point number is used twice", at: p.location)
            }
        }
        for s in edit.upsertSegments { try model { () throws(ModelError) in try s.validate() } }
        var areaIDs = Set<Int64>()
        for a in edit.upsertAreas {
            try model { () throws(ModelError) in try a.validate() }
            guard areaIDs.insert(a.id).inserted else { throw EngineError("area id appears twice in one edit", at: a.location) }
        }
        if let area {
            for p in edit.upsertPoints where !area.contains(x: p.position.x, y: p.position.y) {
                throw EngineError(area.refusal("position", x: p.position.x, y: p.position.y), at: p.location)
            }
            for s in edit.upsertSegments {
                let pts = s.geometry.points
                if let v = pts.firstIndex(where: { !area.contains(x: $0.x, y: $0.y) }) {
                    throw EngineError(area.refusal("vertex \(v)", x: pts[v].x, y: pts[v].y), at: s.location)
                }
            }
        }
        for s in edit.upsertSegments {
            if let reason = Self.box(s).invalidityReason {
                throw EngineError("cannot index the segment's bounds: \(reason)", at: s.location)
            }
        }
    }

    /// The next snapshot: this one with `edit` (already validated) applied. Deleted and replaced
    /// segments' rows become tombstones, upserted segments get new rows at the end, points
    /// change in the point map, and rows whose end points changed get their depths recomputed.
    ///
    /// - Complexity: O(e · (log n + √n)) for an edit touching e records (one segment-index batch
    ///   removing the old rows' segments and inserting the new rows', sharded lookups copying the
    ///   shards they touch, one ≤ 64-row overlay table rebuilt), plus the index's own amortised
    ///   merges; past max(4096, n/8) overlay rows an O(n) bulk copy of the
    ///   overlay into the base (amortised over ≥ n/8 new rows); past max(4096, n) dead rows, or
    ///   with `compact`, or once the map has grown to 4× the size its lookups were built for, an
    ///   O(n log n) renumbering compaction (amortised over ≥ n dead rows or a 4× growth).
    /// - Throws: only when the segment index refuses an edit that `validate` let through; the
    ///   caller then compacts instead (the index's batch is atomic: on error it changes nothing).
    ///
    /// With `deferUpkeep` (the engine runs its upkeep in the background) neither the overlay
    /// merge nor the compaction happens here, except the compaction forced by `compact` or by
    /// row numbers nearing `UInt32.max`; `upkeepDue(compactAt:)` tells the engine what is due.
    func applying(_ edit: StoreEdit, rules: ClearanceRules, compactAt: Int?, compact: Bool = false, deferUpkeep: Bool = false)
        throws(EngineError) -> _Snapshot
    {
        var rowOfID = self.rowOfID, points = self.points, incidence = self.incidence
        var depthOverride = self.depthOverride, profileCounts = self.profileCounts, ownerCounts = self.ownerCounts
        // Each layer's extent follows the edit when it was known and no removed row touched its
        // edge (then the rows left keep it exactly); else it is computed again on request.
        var extents = layerExtents.withLock { $0 }
        var indexEdits: [SegmentEdit] = []

        var touched = Set<PointNumber>()
        /// Whether a rule profile appeared or disappeared (else the per-profile figures carry over).
        var profilesChanged = false
        for n in edit.deletePoints where points.delete(n) { touched.insert(n) }
        for p in edit.upsertPoints {
            points.upsert(p)
            touched.insert(p.number)
        }

        func tombstone(_ id: Int64) {
            guard let r = rowOfID[id] else { return }
            rowOfID[id] = nil
            let s = record(r)
            incidence.remove(r, at: s.startPoint)
            if s.endPoint != s.startPoint { incidence.remove(r, at: s.endPoint) }
            if let o = s.owner {
                let owned = (ownerCounts[o] ?? 1) - 1
                ownerCounts[o] = owned > 0 ? owned : nil
            }
            if let e = extents?[s.layer], Envelope(points: s.geometry.points).reachesEdge(of: e) { extents = nil }
            let p = profile(r)
            let left = (profileCounts[p] ?? 1) - 1
            profileCounts[p] = left > 0 ? left : nil
            if left <= 0 { profilesChanged = true }
            depthOverride[r] = nil
            indexEdits.append(.remove(id: UInt32(truncatingIfNeeded: r)))
        }
        for id in edit.deleteSegments { tombstone(id) }
        for s in edit.upsertSegments { tombstone(s.id) }

        func depths(_ s: PipeSegment) -> _DepthPair {
            _Row.depths(of: s, groundAtStart: points.groundElevation(s.startPoint), groundAtEnd: points.groundElevation(s.endPoint))
        }

        // Rows already written whose end point changed: their depths may follow the ground.
        for n in touched {
            for r in incidence.rows(n) {
                let d = depths(record(r))
                let (t, l) = locate(r)
                let same = Self.same(d.start, t.depth0[l]) && Self.same(d.end, t.depth1[l])
                depthOverride[r] = same ? nil : d
            }
        }

        var newRows: [_Row] = []
        var next = rowCount
        var maxAccuracy = self.maxAccuracy, maxHalfWidth = self.maxHalfWidth
        for s in edit.upsertSegments {
            let d = depths(s)
            newRows.append(_Row(segment: s, depth0: d.start, depth1: d.end))
            rowOfID[s.id] = next
            incidence.add(next, at: s.startPoint)
            if s.endPoint != s.startPoint { incidence.add(next, at: s.endPoint) }
            if let o = s.owner { ownerCounts[o, default: 0] += 1 }
            if extents != nil {
                extents![s.layer] = (extents![s.layer] ?? .empty).union(Envelope(points: s.geometry.points))
            }
            let p = PipeProfile(s)
            if profileCounts[p] == nil { profilesChanged = true }
            profileCounts[p, default: 0] += 1
            // Past UInt32 ids the edit compacts below (and these index edits are dropped).
            indexEdits.append(.insert(id: UInt32(truncatingIfNeeded: next), line: s.geometry))
            maxAccuracy = max(maxAccuracy, s.accuracy?.horizontalM ?? 0)
            maxHalfWidth = max(maxHalfWidth, (s.outerWidthM ?? 0) / 2)
            next += 1
        }

        let live = rowOfID.count
        // Tests pass a small `compactAt` to see both kinds of upkeep often.
        let deadLimit = compactAt ?? max(4096, live)
        let overlayLimit = compactAt.map { $0 / 2 } ?? max(4096, live / 8)
        let outgrown = live > max(4096, 4 * builtFor)
        let pointsOutgrown = points.edited > (compactAt ?? max(4096, points.table.count))
        if compact || next >= Int(UInt32.max) || (!deferUpkeep && (next - live > deadLimit || outgrown || pointsOutgrown)) {
            // Live old rows in row order (with their current depths), then the new rows.
            var rows: [_Row] = []
            rows.reserveCapacity(live)
            for r in 0..<rowCount where rowOfID[id(r)] == r {
                let (t, l) = locate(r)
                var row = t.row(l)
                if let o = depthOverride[r] { (row.depth0, row.depth1) = (o.start, o.end) }
                rows.append(row)
            }
            rows += newRows
            return try _Snapshot(rows: rows, points: points.compacted(), crs: crs,
                                 version: version + 1, rules: rules, areas: areaSet.applying(edit),
                                 indexMerges: segmentIndex.merges)
        }

        do { try segmentIndex.apply(indexEdits) } catch {
            throw EngineError("cannot index the edit: \(error)", at: "snapshot \(version + 1)")
        }
        var overlay = self.overlay
        var pending = newRows[...]
        if let last = overlay.last, last.count < Self.overlayChunk, !pending.isEmpty {
            let take = min(Self.overlayChunk - last.count, pending.count)
            overlay[overlay.count - 1] = _Table(rows: (0..<last.count).map(last.row) + pending.prefix(take))
            pending = pending.dropFirst(take)
        }
        while !pending.isEmpty {
            overlay.append(_Table(rows: Array(pending.prefix(Self.overlayChunk))))
            pending = pending.dropFirst(Self.overlayChunk)
        }
        var base = self.base
        if !deferUpkeep && next - base.count > overlayLimit {
            base = _Table(concatenating: [base] + overlay)
            overlay = []
        }
        let snapshot = _Snapshot(
            version: version + 1, crs: crs, base: base, overlay: overlay, rowCount: next, builtFor: builtFor,
            segmentIndex: segmentIndex, rowOfID: rowOfID, points: points, incidence: incidence, depthOverride: depthOverride, profileCounts: profileCounts,
            ownerCounts: ownerCounts, maxAccuracy: maxAccuracy, maxHalfWidth: maxHalfWidth, rules: rules, areas: areaSet.applying(edit),
            sameProfilesAs: profilesChanged ? nil : self)
        if let extents { snapshot.layerExtents.withLock { $0 = extents } }
        return snapshot
    }

    /// Equal, or both unknown (NaN).
    static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }
}
