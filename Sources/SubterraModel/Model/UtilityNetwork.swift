import SubterraGeometry

/// A surveyed utility map: segments and points, lookup by id and number, and the topology (which
/// segments meet at which point), in one coordinate reference system.
///
/// A value: copies are cheap until mutated (arrays and dictionaries are copy-on-write) and a
/// snapshot can be handed to any thread. Lookups are O(1) through dictionaries built at init.
///
/// ```swift
/// let map = try UtilityNetwork(crs: "EPSG:4549", segments: segs, points: pts)
/// let valve = map.point(number: "JS0012")
/// let meeting = map.segmentIDs(at: "JS0012")
/// ```
public struct UtilityNetwork: Hashable, Sendable {
    /// The CRS of all coordinates, e.g. `"EPSG:4549"` (x = easting, y = northing).
    public var crs: String
    /// Segments in insertion order.
    public private(set) var segments: [PipeSegment]
    /// Points in insertion order.
    public private(set) var points: [FeaturePoint]
    /// Operators' precaution zones and interest areas, in insertion order.
    public private(set) var areas: [OperatorArea] = []
    private var areaIDs: Set<Int64> = []

    private var segmentIndex: [Int64: Int]
    private var pointIndex: [PointNumber: Int]
    /// Point number -> indices into `segments` of the segments that start or end there.
    private var incidence: [PointNumber: [Int]]

    /// Builds a map, validating every record (`PipeSegment.validate()`, `FeaturePoint.validate()`)
    /// and refusing duplicate segment ids or point numbers. Segments may refer to point numbers
    /// that have no `FeaturePoint` (partial surveys); `danglingPointNumbers` lists them.
    ///
    /// - Complexity: O(n) in segments + points.
    public init(
        crs: String = "EPSG:4549", segments: [PipeSegment] = [], points: [FeaturePoint] = [],
        areas: [OperatorArea] = []
    ) throws(ModelError) {
        self.crs = crs
        self.segments = []
        self.points = []
        self.segmentIndex = [:]
        self.pointIndex = [:]
        self.incidence = [:]
        self.segments.reserveCapacity(segments.count)
        self.points.reserveCapacity(points.count)
        segmentIndex.reserveCapacity(segments.count)
        pointIndex.reserveCapacity(points.count)
        for p in points { try insert(p) }
        for s in segments { try insert(s) }
        for a in areas { try insert(a) }
    }

    /// Adds an operator area, refusing an invalid one or a duplicate id. O(vertices).
    public mutating func insert(_ a: OperatorArea) throws(ModelError) {
        try a.validate()
        guard areaIDs.insert(a.id).inserted else {
            throw ModelError("area id is used twice", at: a.location)
        }
        areas.append(a)
    }

    /// Adds a point, refusing an invalid one or a duplicate number. O(1) amortized.
    public mutating func insert(_ p: FeaturePoint) throws(ModelError) {
        try p.validate()
        guard pointIndex[p.number] == nil else {
            throw ModelError("point number is used twice", at: p.location)
        }
        pointIndex[p.number] = points.count
        points.append(p)
    }

    /// Adds a segment, refusing an invalid one or a duplicate id. O(1) amortized.
    public mutating func insert(_ s: PipeSegment) throws(ModelError) {
        try s.validate()
        guard segmentIndex[s.id] == nil else {
            throw ModelError("segment id is used twice", at: s.location)
        }
        let i = segments.count
        segmentIndex[s.id] = i
        segments.append(s)
        incidence[s.startPoint, default: []].append(i)
        if s.endPoint != s.startPoint { incidence[s.endPoint, default: []].append(i) }
    }

    /// The segment with `id`. O(1).
    public func segment(id: Int64) -> PipeSegment? { segmentIndex[id].map { segments[$0] } }

    /// The point numbered `number`. O(1).
    public func point(number: PointNumber) -> FeaturePoint? { pointIndex[number].map { points[$0] } }

    /// Ids of the segments that start or end at `number`, in insertion order. O(degree).
    public func segmentIDs(at number: PointNumber) -> [Int64] {
        (incidence[number] ?? []).map { segments[$0].id }
    }

    /// The segments that start or end at `number`. O(degree).
    public func segments(at number: PointNumber) -> [PipeSegment] {
        (incidence[number] ?? []).map { segments[$0] }
    }

    /// How many segments meet at `number` (1 = end of line, 2 = pass-through, 3+ = junction). O(1).
    public func degree(of number: PointNumber) -> Int { incidence[number]?.count ?? 0 }

    /// Point numbers reached from `number` by one segment. O(degree).
    public func neighbours(of number: PointNumber) -> [PointNumber] {
        (incidence[number] ?? []).map { i in
            let s = segments[i]
            return s.startPoint == number ? s.endPoint : s.startPoint
        }
    }

    /// Point numbers that segments refer to but that have no `FeaturePoint`, sorted. O(n log n).
    public var danglingPointNumbers: [PointNumber] {
        incidence.keys.filter { pointIndex[$0] == nil }.sorted()
    }

    /// Layers present in segments, sorted by code. O(n).
    public var layersPresent: [LayerCode] { Set(segments.map(\.layer)).sorted() }

    /// Envelope of all segment geometries and point positions. O(n).
    public var envelope: Envelope {
        var e = Envelope.empty
        for s in segments { e = e.union(s.geometry.envelope) }
        for p in points { e.expand(toInclude: p.position) }
        return e
    }

    /// Depth of the pipe top of segment `id` at parameter `t`, from the surveyed depths or, when
    /// the survey gave elevations only, from the ground elevations of the end points. O(1).
    public func depthOfTop(segmentID id: Int64, atParameter t: Double) -> Double? {
        guard let s = segment(id: id) else { return nil }
        return s.depthOfTop(
            atParameter: t, groundAtStart: point(number: s.startPoint)?.groundElevation,
            groundAtEnd: point(number: s.endPoint)?.groundElevation)
    }

    public static func == (a: UtilityNetwork, b: UtilityNetwork) -> Bool {
        a.crs == b.crs && a.segments == b.segments && a.points == b.points && a.areas == b.areas
    }

    public func hash(into h: inout Hasher) {
        h.combine(crs)
        h.combine(segments)
        h.combine(points)
        h.combine(areas)
    }
}

extension UtilityNetwork: Codable {
    private enum CodingKeys: String, CodingKey { case crs, segments, points, areas }

    /// Decodes and rebuilds the lookups, with the same checks as `init(crs:segments:points:)`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let crs = try c.decode(String.self, forKey: .crs)
        let segments = try c.decode([PipeSegment].self, forKey: .segments)
        let points = try c.decode([FeaturePoint].self, forKey: .points)
        let areas = try c.decodeIfPresent([OperatorArea].self, forKey: .areas) ?? []
        do {
            try self.init(crs: crs, segments: segments, points: points, areas: areas)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(crs, forKey: .crs)
        try c.encode(segments, forKey: .segments)
        try c.encode(points, forKey: .points)
        if !areas.isEmpty { try c.encode(areas, forKey: .areas) }
    }
}
