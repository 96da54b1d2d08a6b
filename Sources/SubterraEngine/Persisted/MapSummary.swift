import SubterraGeometry
import SubterraModel

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
        var perLayer: [LayerCode: (Int, Double)] = [:]
        var perOwner: [String?: (Int, Set<LayerCode>)] = [:]
        var noDepth = 0, noOwner = 0
        var features = Set<Int64>()
        for s in network.segments {
            perLayer[s.layer, default: (0, 0)].0 += 1
            perLayer[s.layer, default: (0, 0)].1 += s.length
            perOwner[s.owner, default: (0, [])].0 += 1
            perOwner[s.owner, default: (0, [])].1.insert(s.layer)
            if s.owner == nil { noOwner += 1 }
            if network.depthOfTop(segmentID: s.id, atParameter: 0) == nil
                || network.depthOfTop(segmentID: s.id, atParameter: 1) == nil
            {
                noDepth += 1
            }
            features.insert(s.featureID)
        }
        segments = network.segments.count
        pipes = features.count
        points = network.points.count
        areas = network.areas.count
        let e = network.envelope
        extent = e.isEmpty ? [] : [e.minX, e.minY, e.maxX, e.maxY]
        layers = perLayer.keys.sorted().map { Layer(code: $0, segments: perLayer[$0]!.0, lengthM: perLayer[$0]!.1) }
        owners = perOwner.map { Owner(owner: $0.key, segments: $0.value.0, layers: $0.value.1.sorted()) }
            .sorted { ($1.segments, $0.owner ?? "\u{10FFFF}") < ($0.segments, $1.owner ?? "\u{10FFFF}") }
        withoutDepth = noDepth
        withoutOwner = noOwner
        danglingEnds = network.danglingPointNumbers.count
    }
}
