import SubterraGEOS
import SubterraGeometry
import SubterraIndex
import SubterraModel

/// Which pipes a query considers: by layer, owner, sub-type and/or any predicate on the record.
/// `nil` sets mean "any"; all given conditions must hold.
///
/// ```swift
/// let cityGas = PipeFilter(layers: [.gas], owners: ["Wenling Gas"]) { ($0.gasPressureMPa ?? 0) > 0.4 }
/// ```
public struct PipeFilter: Sendable {
    public var layers: Set<LayerCode>?
    public var owners: Set<String>?
    public var subtypes: Set<SubtypeCode>?
    /// Any further condition, e.g. on status, material or laying date.
    public var predicate: (@Sendable (PipeSegment) -> Bool)?

    public init(
        layers: Set<LayerCode>? = nil, owners: Set<String>? = nil, subtypes: Set<SubtypeCode>? = nil,
        predicate: (@Sendable (PipeSegment) -> Bool)? = nil
    ) {
        self.layers = layers
        self.owners = owners
        self.subtypes = subtypes
        self.predicate = predicate
    }

    /// Every pipe.
    public static let all = PipeFilter()

    /// True when no condition is set (every pipe passes): lets scans skip reading the record.
    @inline(__always)
    var acceptsAll: Bool { layers == nil && owners == nil && subtypes == nil && predicate == nil }

    /// Whether `s` passes. O(1) besides the predicate.
    public func accepts(_ s: PipeSegment) -> Bool {
        if let layers, !layers.contains(s.layer) { return false }
        if let owners, !owners.contains(s.owner ?? "") { return false }
        if let subtypes, !(s.subtype.map(subtypes.contains) ?? false) { return false }
        if let predicate, !predicate(s) { return false }
        return true
    }
}

/// One pipe in a query answer: the whole record, the exact plan distance to the query, the point
/// on the pipe where that distance is reached and the depth of the pipe top there.
public struct PipeHit: Hashable, Sendable, Codable {
    public var pipe: PipeSegment
    /// Exact horizontal distance in metres, centreline to query (0: touches, crosses or inside).
    public var distance: Double
    /// The closest point on the pipe (map CRS); where the pipe meets a query area, the shallowest
    /// such point.
    public var closestPoint: PlanPoint
    /// Fraction of the pipe's plan length at `closestPoint` (0 = start, 1 = end).
    public var parameter: Double
    /// Depth of the pipe top at `closestPoint`, interpolated from the surveyed ends; nil when the
    /// survey gave neither depths nor elevations with ground heights.
    public var depth: Double?
    /// The cable beds, sleeves and casings carrying this line that the answer folded into it
    /// (``EnclosureHits/grouped``), nearest first; empty when separate or there are none.
    public var enclosures: [HitEnclosure] = []
    /// The least distance of the pipe and its ``enclosures``, metres: what a grouped answer is
    /// ordered by. `distance` when there are no enclosures.
    public var groupDistance: Double
}

extension UtilityEngine {
    func hit(_ snap: _Snapshot, _ r: Int, _ c: _Closest) -> PipeHit {
        PipeHit(
            pipe: snap.record(r), distance: c.distance, closestPoint: PlanPoint(x: c.point.x, y: c.point.y),
            parameter: c.parameter, depth: c.depth, groupDistance: c.distance)
    }

    /// The accepted rows within `distance` of `q` (inclusive), each once with its exact distance
    /// from the segment index, in row order. Only the rows the index answers with are read (for
    /// `filter`), and nothing is measured again.
    func rows(_ snap: _Snapshot, _ q: _QueryShape, within distance: Double, _ filter: PipeFilter) -> [Neighbor] {
        let found = snap.index.within(distance, of: q)
        guard !filter.acceptsAll else { return found }
        return found.filter { snap.accepts(filter, row: Int($0.id)) }
    }

    /// `rows(_:_:within:_:)` written into `out` (cleared first, its storage reused), in no
    /// particular order.
    func rows(_ snap: _Snapshot, _ q: _QueryShape, within distance: Double, _ filter: PipeFilter, into out: inout [Neighbor]) {
        snap.index.within(distance, of: q, into: &out)
        guard !filter.acceptsAll else { return }
        out.removeAll { !snap.accepts(filter, row: Int($0.id)) }
    }

    /// Calls `body` for every accepted row within `distance` of `q`, in row order, with its
    /// closest approach: the distance from the segment index, the closest point and the depth
    /// there from the row (`_Snapshot.closest(row:to:)`, for these rows only). Every part of a
    /// multi-part pipe is a row of its own here.
    func scan(_ snap: _Snapshot, _ q: _QueryShape, within distance: Double, _ filter: PipeFilter,
              _ body: (Int, _Closest) -> Void) {
        for n in rows(snap, q, within: distance, filter) {
            let r = Int(n.id)
            body(r, snap.closest(row: r, to: q, distance: n.distance))
        }
    }

    static func checkDistance(_ d: Double, _ name: String, at location: String) throws(EngineError) {
        guard d.isFinite, d >= 0 else {
            throw EngineError("\(name) is \(d); must be finite and >= 0", at: location)
        }
    }

    /// A planned value (depth, diameter, voltage) must be finite, >= 0 and at most `max` (the
    /// bounds rule files are held to, ``ClearanceRules/Limits``): an absurd plan (a pipe 1e308 m
    /// deep) would otherwise be judged against no pipe and pass as clear.
    static func checkPlanned(_ v: Double, _ name: String, max: Double, unit: String, at location: String) throws(EngineError) {
        try checkDistance(v, name, at: location)
        guard v <= max else {
            throw EngineError("\(name) is \(v) \(unit); the largest accepted is \(Int(max)) \(unit)", at: location)
        }
    }

    /// The `k` pipes nearest to `geometry`, nearest first, each with its exact distance, closest
    /// point and depth there; with `perLayer`, the `k` nearest of **each** layer ("nearest gas
    /// main and nearest water main"), grouped by layer code, nearest first within a layer.
    ///
    /// ```swift
    /// // Nearest gas and water main to a point a planner clicked on a web map:
    /// let hits = try engine.nearest(to: .point(Point(121.37, 28.37)), crs: "EPSG:4326", k: 1,
    ///                               perLayer: true, filter: PipeFilter(layers: [.gas, .water]))
    /// ```
    /// - Parameters:
    ///   - geometry: any geometry, in `crs` (nil: the map CRS); areas count as filled.
    ///   - maxDistance: ignore pipes farther than this (metres).
    ///   - enclosures: ``EnclosureHits/grouped`` (the default) folds a cable bed, sleeve or
    ///     casing into the hit of the line it carries; `k` then counts such groups, ordered by
    ///     ``PipeHit/groupDistance`` (then segment id).
    /// A multi-part pipe counts once, as its nearest part: `k` = 3 answers three different pipes.
    ///
    /// - Complexity: best-first search of the segment index (`DynamicSegmentIndex`), about
    ///   O((log n + k) log n) node visits, exact distances only for segments whose box could
    ///   still hold an answer, per part of a multi-part geometry; with `perLayer`, one search per
    ///   layer. Equal distances keep map order.
    public func nearest(
        to geometry: Geometry, crs: String? = nil, k: Int = 1, maxDistance: Double = .infinity,
        perLayer: Bool = false, filter: PipeFilter = .all, enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> [PipeHit] {
        let at = "nearest"
        guard k > 0 else { throw EngineError("k is \(k); must be at least 1", at: at) }
        guard !maxDistance.isNaN, maxDistance >= 0 else {
            throw EngineError("maxDistance is \(maxDistance); must be >= 0", at: at)
        }
        let q = try toMap(geometry, crs: crs, at: at)
        let snap = snapshot
        // Best-first over the segment index, which measures each segment exactly; the closest
        // point and depth are taken from the row for the k winners only.
        let feature = snap.multiPart ? snap.feature : nil
        // Grouping only when the map holds an enclosure at all: one flag.
        let grouped = enclosures == .grouped && snap.enclosures
        func search(_ accept: (Int) -> Bool) -> [PipeHit] {
            if grouped { return groupedNearest(snap, q, k: k, maxDistance: maxDistance, accept: accept) }
            return snap.index.nearest(k: k, to: q, maxDistance: maxDistance, accept: accept, feature: feature).map { n in
                hit(snap, Int(n.id), snap.closest(row: Int(n.id), to: q, distance: n.distance))
            }
        }
        guard perLayer else { return search { snap.accepts(filter, row: $0) } }
        var out: [PipeHit] = []
        for layer in snap.layers.intersection(filter.layers ?? snap.layers).sorted() {
            out += search { snap.profile($0).layer == layer && snap.accepts(filter, row: $0) }
        }
        return out
    }

    /// Pipes that cross, touch or lie inside `geometry` (a polygon, box, line or point in `crs`),
    /// decided exactly (never by bounding box), ordered by segment id. A multi-part pipe is
    /// answered once, as its lowest-id part that meets `geometry`. `closestPoint` is the
    /// shallowest shared point.
    ///
    /// ```swift
    /// let site = try Polygon(exterior: LinearRing([p0, p1, p2, p3, p0]))
    /// let cut = try engine.intersecting(.polygon(site), filter: PipeFilter(layers: [.power]))
    /// ```
    /// - Complexity: O(log n + c) for c segment candidates from the index, plus O(v·w) per pipe
    ///   answered (v vertices against the query's w) for its closest point.
    /// - Parameters:
    ///   - allParts: answer every part of a multi-part pipe (to draw a map), not the pipe once;
    ///     such an answer is never grouped.
    ///   - enclosures: see ``within(distance:of:crs:filter:allParts:enclosures:)``.
    public func intersecting(
        _ geometry: Geometry, crs: String? = nil, filter: PipeFilter = .all, allParts: Bool = false,
        enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> [PipeHit] {
        try within(distance: 0, of: geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    /// Pipes whose exact plan distance to `geometry` is at most `distance` metres (inclusive),
    /// nearest first, ties by segment id. A multi-part pipe (parts sharing a
    /// `PipeSegment.featureID`) is answered once, as its nearest part (equal distances: the
    /// lowest segment id), with that part's distance, closest point and depth.
    ///
    /// ```swift
    /// let near = try engine.within(distance: 5, of: .lineString(plannedRoute))
    /// ```
    /// - Complexity: O(log n + c) for c segment candidates from the index (boxes within
    ///   `distance`), plus O(v·w) per pipe answered (v vertices against the query's w) for its
    ///   closest point.
    /// - Parameters:
    ///   - allParts: answer every part of a multi-part pipe (to draw a map), not the pipe once;
    ///     such an answer is never grouped.
    ///   - enclosures: ``EnclosureHits/grouped`` (the default) folds a cable bed, sleeve or
    ///     casing of the answer into the hit of each line of the answer it carries
    ///     (``carriedFeatures(_:row:)`` of its nearest part) and orders by
    ///     ``PipeHit/groupDistance``; one carrying no line of the answer stays a hit of its own.
    public func within(
        distance: Double, of geometry: Geometry, crs: String? = nil, filter: PipeFilter = .all, allParts: Bool = false,
        enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> [PipeHit] {
        let at = "within"
        try Self.checkDistance(distance, "distance", at: at)
        let q = try toMap(geometry, crs: crs, at: at)
        let snap = snapshot
        var out: [PipeHit] = []
        let found = rows(snap, q, within: distance, filter)
        let answered = allParts ? found : oncePerFeature(snap, found)
        for n in answered {
            let r = Int(n.id)
            out.append(hit(snap, r, snap.closest(row: r, to: q, distance: n.distance)))
        }
        // Grouping only when the map holds an enclosure at all: one flag.
        if enclosures == .grouped, !allParts, snap.enclosures {
            return groupEnclosures(snap, out, rows: answered.map { Int($0.id) })
        }
        out.sort { ($0.distance, $0.pipe.id) < ($1.distance, $1.pipe.id) }
        return out
    }

    /// `rows` with each feature once, as its nearest row (equal distances: the lowest segment
    /// id), in no particular order; `rows` itself when the map has no multi-part feature. O(n).
    func oncePerFeature(_ snap: _Snapshot, _ rows: [Neighbor]) -> [Neighbor] {
        guard snap.multiPart else { return rows }
        var best: [Int64: Neighbor] = [:]
        for n in rows {
            let f = snap.feature(Int(n.id))
            if let b = best[f], (b.distance, snap.id(Int(b.id))) <= (n.distance, snap.id(Int(n.id))) {
                continue
            }
            best[f] = n
        }
        return Array(best.values)
    }

    /// The area within `distance` metres of `geometry`, in the map CRS, for display (GEOS
    /// `GEOSBufferWithParams_r`, 8 segments per quadrant). Queries never use it: they measure
    /// exact distances instead.
    ///
    /// ```swift
    /// let zone = try engine.bufferZone(of: .lineString(gasMain.geometry), distance: 1.5)
    /// ```
    public func bufferZone(of geometry: Geometry, crs: String? = nil, distance: Double) throws(EngineError) -> Geometry {
        let at = "bufferZone"
        try Self.checkDistance(distance, "distance", at: at)
        let g = try toMapGeometry(geometry, crs: crs, at: at)
        do {
            return try GEOS.withContext { (ctx) throws(GEOSError) in try ctx.buffer(g, distance: distance) }
        } catch {
            throw EngineError("\(error)", at: at)
        }
    }
}
