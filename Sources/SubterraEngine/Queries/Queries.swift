import SubterraGEOS
import SubterraGeometry
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
}

extension UtilityEngine {
    func hit(_ snap: _Snapshot, _ r: Int, _ c: _Closest) -> PipeHit {
        PipeHit(
            pipe: snap.records[r], distance: c.distance, closestPoint: PlanPoint(x: c.point.x, y: c.point.y),
            parameter: c.parameter, depth: c.depth)
    }

    /// Calls `body` for every accepted row within `distance` of `q`, with its exact closest approach.
    func scan(_ snap: _Snapshot, _ q: _QueryShape, within distance: Double, _ filter: PipeFilter,
              _ body: (Int, _Closest) -> Void) {
        snap.candidates(near: q.envelope, margin: distance) { r in
            guard filter.accepts(snap.records[r]) else { return }
            let c = snap.closest(row: r, to: q)
            if c.distance <= distance { body(r, c) }
        }
    }

    static func checkDistance(_ d: Double, _ name: String, at location: String) throws(EngineError) {
        guard d.isFinite, d >= 0 else {
            throw EngineError("\(name) is \(d); must be finite and >= 0", at: location)
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
    /// - Complexity: best-first by growing radius over the packed tree: O(log n + c) per round for c
    ///   candidates, a few rounds; exact distances only for candidates. Ties are broken by segment id.
    public func nearest(
        to geometry: Geometry, crs: String? = nil, k: Int = 1, maxDistance: Double = .infinity,
        perLayer: Bool = false, filter: PipeFilter = .all
    ) throws(EngineError) -> [PipeHit] {
        let at = "nearest"
        guard k > 0 else { throw EngineError("k is \(k); must be at least 1", at: at) }
        guard !maxDistance.isNaN, maxDistance >= 0 else {
            throw EngineError("maxDistance is \(maxDistance); must be >= 0", at: at)
        }
        let q = try toMap(geometry, crs: crs, at: at)
        let snap = snapshot
        guard snap.count > 0 else { return [] }
        // Any pipe lies within `reach` of the query: the farthest corner of the map's bounds.
        let b = snap.bounds, e = q.envelope
        let dx = max(abs(b.maxX - e.minX), abs(e.maxX - b.minX))
        let dy = max(abs(b.maxY - e.minY), abs(e.maxY - b.minY))
        let reach = min(maxDistance, (dx * dx + dy * dy).squareRoot() * (1 + 1e-12) + 1e-9)
        // Layers that can answer: those present, cut down by the filter (a scan only when the
        // filter looks at more than the layer).
        let layersWanted: Set<LayerCode>? = !perLayer ? nil
            : filter.owners == nil && filter.subtypes == nil && filter.predicate == nil
            ? snap.layers.intersection(filter.layers ?? snap.layers)
            : Set(snap.records.lazy.filter(filter.accepts).map(\.layer))
        var radius = min(reach, 16)
        while true {
            var found: [(Int, _Closest)] = []
            scan(snap, q, within: radius, filter) { found.append(($0, $1)) }
            found.sort { ($0.1.distance, snap.records[$0.0].id) < ($1.1.distance, snap.records[$1.0].id) }
            let enough: Bool
            var out: [PipeHit] = []
            if let layersWanted {
                var byLayer: [LayerCode: [PipeHit]] = [:]
                for (r, c) in found where byLayer[snap.records[r].layer, default: []].count < k {
                    byLayer[snap.records[r].layer, default: []].append(hit(snap, r, c))
                }
                enough = layersWanted.allSatisfy { byLayer[$0, default: []].count >= k }
                for layer in byLayer.keys.sorted() { out += byLayer[layer]! }
            } else {
                enough = found.count >= k
                out = found.prefix(k).map { hit(snap, $0.0, $0.1) }
            }
            if enough || radius >= reach { return out }
            radius = min(reach, radius * 4)
        }
    }

    /// Pipes that cross, touch or lie inside `geometry` (a polygon, box, line or point in `crs`),
    /// decided exactly (never by bounding box), ordered by segment id. `closestPoint` is the
    /// shallowest shared point.
    ///
    /// ```swift
    /// let site = try Polygon(exterior: LinearRing([p0, p1, p2, p3, p0]))
    /// let cut = try engine.intersecting(.polygon(site), filter: PipeFilter(layers: [.power]))
    /// ```
    /// - Complexity: O(log n + c·v) for c box candidates of v vertices against the query's.
    public func intersecting(_ geometry: Geometry, crs: String? = nil, filter: PipeFilter = .all)
        throws(EngineError) -> [PipeHit]
    {
        try within(distance: 0, of: geometry, crs: crs, filter: filter)
    }

    /// Pipes whose exact plan distance to `geometry` is at most `distance` metres (inclusive),
    /// nearest first, ties by segment id.
    ///
    /// ```swift
    /// let near = try engine.within(distance: 5, of: .lineString(plannedRoute))
    /// ```
    /// - Complexity: O(log n + c·v) for c candidates from the tree (boxes grown by `distance`).
    public func within(distance: Double, of geometry: Geometry, crs: String? = nil, filter: PipeFilter = .all)
        throws(EngineError) -> [PipeHit]
    {
        let at = "within"
        try Self.checkDistance(distance, "distance", at: at)
        let q = try toMap(geometry, crs: crs, at: at)
        let snap = snapshot
        var out: [PipeHit] = []
        scan(snap, q, within: distance, filter) { out.append(hit(snap, $0, $1)) }
        out.sort { ($0.distance, $0.pipe.id) < ($1.distance, $1.pipe.id) }
        return out
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
