import SubterraGeometry
import SubterraModel
import SubterraNetwork

/// Hand-built networks: points by number, straight pipes between them.
struct NetBuilder {
    var layer: LayerCode = .water
    var points: [FeaturePoint] = []
    var segments: [PipeSegment] = []
    private var at: [String: Point] = [:]

    init(layer: LayerCode = .water) { self.layer = layer }

    mutating func point(
        _ n: String, _ x: Double, _ y: Double, _ kind: PointKind = .tee, valve: ValveStatus? = nil,
        connection: ServiceConnection? = nil
    ) {
        at[n] = Point(x, y)
        points.append(FeaturePoint(
            number: PointNumber(n), layer: layer, kind: kind, position: Point(x, y), valveStatus: valve, connection: connection))
    }

    /// A position without a survey point.
    mutating func node(_ n: String, _ x: Double, _ y: Double) { at[n] = Point(x, y) }

    mutating func pipe(_ id: Int64, _ a: String, _ b: String, dn: Double? = 200) {
        segments.append(PipeSegment(
            id: id, layer: layer, startPoint: PointNumber(a), endPoint: PointNumber(b),
            geometry: try! LineString([at[a]!, at[b]!]), section: dn.map { .circular(diameterMM: $0) }))
    }

    func topology(tolerance: Double = 0.05) throws -> NetworkTopology {
        try NetworkTopology(segments: segments, points: points, scope: .init(layer: layer), tolerance: tolerance)
    }
}

/// SplitMix64: a small seeded generator, so random cases repeat.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension IsolationPlan {
    var closeNumbers: [String] { valvesToClose.map(\.number.rawValue) }
    var pipeIDs: [Int64] { isolatedPipes.map(\.segmentID) }
    var cutNumbers: [String] { cutOffConnections.map(\.number.rawValue) }
}
