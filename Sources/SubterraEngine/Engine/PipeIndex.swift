import SubterraGeometry
import SubterraIndex

/// The map's segment index as the engine reads it: one immutable state of a
/// `DynamicSegmentIndex` holding every live row's segments under the row number, answering per
/// row for a whole query shape.
///
/// The index measures every distance itself, exactly, from the segments it stores (the
/// library's kernels; see `SegmentSearching`), so a query's candidates never go back to the row
/// table: only the rows of an answer are looked up, for their record, and measured again by
/// `_Snapshot.closest(row:to:)` only for what the index does not give (the closest point, the
/// depth and the along-pipe position there); the distance answered is the index's.
///
/// A query shape may have several parts (the points, lines and polygons of a multi-geometry or
/// a collection); the index answers one part at a time and the answers merge per row at its
/// least distance, which is the row's distance to the whole shape.
///
/// Generic over the index so the persisted snapshot (`MappedMap`, a packed `SegmentIndex` read
/// from its file) answers with exactly the same searches as the engine's dynamic index.
struct _PipeIndex<Segments: SegmentSearching & Sendable>: Sendable {
    /// The segment index state of this version.
    let segments: Segments

    init(_ segments: Segments) { self.segments = segments }

    /// Segments indexed (a pipe of several parts counts each segment).
    var segmentCount: Int { segments.count }

    /// Every row with a segment within `distance` of `q` (inclusive), once, at its exact least
    /// distance from `q`, in no particular order.
    ///
    /// - Complexity: O(p · log n + h) for a shape of p parts and h segment hits.
    func within(_ distance: Double, of q: _QueryShape) -> [Neighbor] {
        var hits: [Neighbor] = []
        hits.reserveCapacity(32)
        within(distance, of: q, into: &hits)
        return hits
    }

    /// `within(_:of:)` written into `hits` (cleared first, its storage reused): every row once,
    /// at its least distance, in no particular order. Rows met more than once (a pipe of several
    /// segments, a shape of several parts) are merged in place by sorting the hits by row, so
    /// nothing is allocated beyond `hits`' growth.
    ///
    /// - Complexity: O(p · log n + h log h) for a shape of p parts and h segment hits.
    func within(_ distance: Double, of q: _QueryShape, into hits: inout [Neighbor]) {
        hits.removeAll(keepingCapacity: true)
        func collect(_ hit: SegmentHit) -> SearchControl {
            hits.append(Neighbor(id: hit.id, distance: hit.distance))
            return .continue
        }
        for p in q.points { segments.forEachWithin(distance, of: p, collect) }
        for l in q.lines { segments.forEachWithin(distance, of: l, collect) }
        for poly in q.polygons { segments.forEachWithin(distance, of: poly, collect) }
        // With one segment per row and one part, every hit is a different row already.
        let single = q.points.count + q.lines.count + q.polygons.count == 1
        guard !(single && segments.idsAreDistinct), hits.count > 1 else { return }
        hits.sort { ($0.id, $0.distance) < ($1.id, $1.distance) }
        // Keep each row's first hit: its least distance.
        var kept = 1
        for i in 1..<hits.count where hits[i].id != hits[kept - 1].id {
            hits[kept] = hits[i]
            kept += 1
        }
        hits.removeLast(hits.count - kept)
    }

    /// The `k` rows nearest to `q` that `accept` passes, at most `maxDistance` away, ascending by
    /// exact distance, equal distances in row (map) order.
    ///
    /// Per part, segments come from the index nearest first (ties in the index's own order), so
    /// the search goes on past the `k`-th row until a segment is farther than it: every row tied
    /// with the `k`-th is then held and the ties can be broken by row. Across parts, a row of the
    /// true answer is among the `k` nearest of the part it is nearest to, at its true distance,
    /// and any other row held is no nearer than its own distance; so sorting the rows held by
    /// their least distance over the parts and keeping `k` is exact.
    ///
    /// With `feature`, the answer is the `k` nearest *features* instead (rows with equal keys are
    /// parts of one pipe), each as its nearest row (equal distances: the lowest row): the search
    /// of a part counts distinct features instead of rows and stops only past the distance at
    /// which it met the `k`-th, so every part that could be a feature's nearest is held. The same
    /// argument as for rows makes this exact.
    ///
    /// - Parameters:
    ///   - accept: sees row numbers before any distance is taken.
    ///   - feature: the feature key of a row; nil when every row is its own feature.
    /// - Complexity: about O(p · (log n + k·m) log n) for a shape of p parts, m the most parts of
    ///   a feature met on the way.
    func nearest(
        k: Int, to q: _QueryShape, maxDistance: Double, accept: (Int) -> Bool, feature: ((Int) -> Int64)? = nil
    ) -> [Neighbor] {
        guard k > 0, segmentCount > 0 else { return [] }
        let scratch = NearestScratch()
        // With one segment per row (two-point pipes) every hit is a new row: no set needed.
        let distinct = segments.idsAreDistinct
        var held: [Neighbor] = []
        var seen = Set<UInt32>()
        var features = Set<Int64>()
        var parts = 0
        func part(_ search: ((SegmentHit) -> SearchControl) -> Void) {
            parts += 1
            seen.removeAll(keepingCapacity: true)
            features.removeAll(keepingCapacity: true)
            var found = 0
            var kth = Double.infinity
            search { hit in
                if hit.distance > kth { return .stop }
                if distinct || seen.insert(hit.id).inserted {
                    held.append(Neighbor(id: hit.id, distance: hit.distance))
                    if let feature {
                        guard features.insert(feature(Int(hit.id))).inserted else { return .continue }
                    }
                    found += 1
                    if found == k { kth = hit.distance }
                }
                return .continue
            }
        }
        for p in q.points {
            part { body in
                segments.forEachNearest(to: p, maxDistance: maxDistance, filter: { accept(Int($0)) }, scratch: scratch, body)
            }
        }
        for l in q.lines {
            part { body in
                segments.forEachNearest(to: l, maxDistance: maxDistance, filter: { accept(Int($0)) }, scratch: scratch, body)
            }
        }
        for poly in q.polygons {
            part { body in
                segments.forEachNearest(to: poly, maxDistance: maxDistance, filter: { accept(Int($0)) }, scratch: scratch, body)
            }
        }
        // One part holds each row once already.
        let rows = (parts == 1 ? held : Self.leastPerRow(held)).sorted { ($0.distance, $0.id) < ($1.distance, $1.id) }
        guard let feature else { return Array(rows.prefix(k)) }
        features.removeAll(keepingCapacity: true)
        var out: [Neighbor] = []
        for n in rows where features.insert(feature(Int(n.id))).inserted {
            out.append(n)
            if out.count == k { break }
        }
        return out
    }

    /// Each row of `hits` once, at its least distance, in no particular order.
    static func leastPerRow<S: Sequence<Neighbor>>(_ hits: S) -> [Neighbor] {
        var least: [UInt32: Double] = [:]
        for n in hits { least[n.id] = min(least[n.id] ?? .infinity, n.distance) }
        return least.map { Neighbor(id: $0.key, distance: $0.value) }
    }
}

extension _PipeIndex where Segments == DynamicSegmentIndex.Snapshot {
    /// Live rows indexed.
    var count: Int { segments.idCount }
}
