import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// What a map holds, in figures: counts, extent, per-layer and per-owner totals and the gaps a
/// planner should know about (what `subterra info` prints).
///
/// The persisted snapshot (``MappedMap``) keeps one, computed when the file is written, so a
/// one-shot `info` on a city-sized store reads it instead of loading the map.
///
/// ```swift
/// let s = MapSummary(network)
/// print(s.segments, s.layers.map(\.code))
/// ```
public struct MapSummary: Hashable, Sendable, Codable {
    /// One layer's segments and their plan length.
    public struct Layer: Hashable, Sendable, Codable {
        public var code: LayerCode
        public var segments: Int
        public var lengthM: Double
    }

    /// One owner's segments and the layers they are in (sorted).
    public struct Owner: Hashable, Sendable, Codable {
        /// `nil` for segments with no owner.
        public var owner: String?
        public var segments: Int
        public var layers: [LayerCode]
    }

    public var segments: Int
    /// Pipes: a multi-part line counts once however many segments it has.
    public var pipes: Int
    public var points: Int
    public var areas: Int
    /// Plan bounds of the segments and points (map CRS) as minX, minY, maxX, maxY; empty for an
    /// empty map.
    public var extent: [Double]
    /// ``extent``'s corners in WGS84 (OGC:CRS84 longitude, latitude) as minLon, minLat, maxLon,
    /// maxLat; nil for an empty map or when PROJ cannot transform from the map CRS.
    public var extentWGS84: [Double]?
    /// Layers present, sorted by code.
    public var layers: [Layer]
    /// Owners, most segments first (ties by name; no owner last among equals).
    public var owners: [Owner]
    /// Segments lacking a depth (or elevation with ground height) at one end or both.
    public var withoutDepth: Int
    /// Segments with no owner.
    public var withoutOwner: Int
    /// Segment ends naming a point that is not in the survey.
    public var danglingEnds: Int

    /// The summary of `network`. O(n).
    public init(_ network: UtilityNetwork) {
        var acc = _SummaryAccumulator()
        for p in network.points { acc.add(p) }
        for s in network.segments { acc.add(s) }
        self = acc.summary(areas: network.areas.count, crs: network.crs)
    }

    init(
        segments: Int, pipes: Int, points: Int, areas: Int, extent: [Double], extentWGS84: [Double]?, layers: [Layer],
        owners: [Owner], withoutDepth: Int, withoutOwner: Int, danglingEnds: Int
    ) {
        self.extentWGS84 = extentWGS84
        self.segments = segments
        self.pipes = pipes
        self.points = points
        self.areas = areas
        self.extent = extent
        self.layers = layers
        self.owners = owners
        self.withoutDepth = withoutDepth
        self.withoutOwner = withoutOwner
        self.danglingEnds = danglingEnds
    }
}

extension MapSummary {
    /// `e`'s corners (map CRS `crs`) in WGS84 (OGC:CRS84) as minLon, minLat, maxLon, maxLat; nil
    /// for an empty box or when PROJ cannot transform from `crs`.
    public static func wgs84(of e: Envelope, crs: String) -> [Double]? {
        guard !e.isEmpty, let t = try? Transformer(from: crs, to: "OGC:CRS84"),
            let ps = try? t.transform([Point(e.minX, e.minY), Point(e.maxX, e.maxY), Point(e.minX, e.maxY), Point(e.maxX, e.minY)])
        else { return nil }
        let b = Envelope(points: ps)
        return [b.minX, b.minY, b.maxX, b.maxY]
    }
}

/// A ``MapSummary`` built one record at a time, so a whole-map pass over a store (the snapshot
/// file's build) needs no loaded map: every point first, then every segment in map order.
///
/// Holds each point's ground elevation (for depths of pipes surveyed by elevation only) and the
/// per-layer and per-owner figures; equal to `MapSummary(network)` for the same records in the
/// same order (the layer lengths are summed in that order). Points are assumed distinct by number
/// (as a `UtilityNetwork` guarantees): a repeated number keeps its first ground elevation.
struct _SummaryAccumulator {
    private var perLayer: [LayerCode: (Int, Double)] = [:]
    private var perOwner: [String?: (Int, Set<LayerCode>)] = [:]
    private var noDepth = 0, noOwner = 0, segmentCount = 0, pointCount = 0
    private var features = Set<Int64>()
    private var ground: [PointNumber: Double?] = [:]
    private var dangling = Set<PointNumber>()
    private var envelope = Envelope.empty

    mutating func add(_ p: FeaturePoint) {
        pointCount += 1
        if ground[p.number] == nil { ground[p.number] = .some(p.groundElevation) }
        envelope.expand(toInclude: p.position)
    }

    mutating func add(_ s: PipeSegment) {
        segmentCount += 1
        perLayer[s.layer, default: (0, 0)].0 += 1
        perLayer[s.layer, default: (0, 0)].1 += s.length
        perOwner[s.owner, default: (0, [])].0 += 1
        perOwner[s.owner, default: (0, [])].1.insert(s.layer)
        if s.owner == nil { noOwner += 1 }
        let g0 = ground[s.startPoint], g1 = ground[s.endPoint]
        if g0 == nil { dangling.insert(s.startPoint) }
        if g1 == nil { dangling.insert(s.endPoint) }
        if s.depthOfTop(atParameter: 0, groundAtStart: g0 ?? nil, groundAtEnd: g1 ?? nil) == nil
            || s.depthOfTop(atParameter: 1, groundAtStart: g0 ?? nil, groundAtEnd: g1 ?? nil) == nil
        {
            noDepth += 1
        }
        features.insert(s.featureID)
        envelope = envelope.union(s.geometry.envelope)
    }

    /// The summary; `crs` is the map CRS, for ``MapSummary/extentWGS84``.
    func summary(areas: Int, crs: String) -> MapSummary {
        let e = envelope
        let wgs84 = MapSummary.wgs84(of: e, crs: crs)
        return MapSummary(
            segments: segmentCount, pipes: features.count, points: pointCount, areas: areas,
            extent: e.isEmpty ? [] : [e.minX, e.minY, e.maxX, e.maxY], extentWGS84: wgs84,
            layers: perLayer.keys.sorted().map { MapSummary.Layer(code: $0, segments: perLayer[$0]!.0, lengthM: perLayer[$0]!.1) },
            owners: perOwner.map { MapSummary.Owner(owner: $0.key, segments: $0.value.0, layers: $0.value.1.sorted()) }
                .sorted { ($1.segments, $0.owner ?? "\u{10FFFF}") < ($0.segments, $1.owner ?? "\u{10FFFF}") },
            withoutDepth: noDepth, withoutOwner: noOwner, danglingEnds: dangling.count)
    }
}
