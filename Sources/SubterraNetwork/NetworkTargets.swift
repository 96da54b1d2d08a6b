import Foundation
import SubterraGeometry
import SubterraModel

/// Where a break or a trace starts, as a caller names it (a command argument, a batch line, an
/// HTTP body), resolved against a topology. Shared by `subterra isolate`, `subterra trace`,
/// `query --batch` and the HTTP service, so all read a target the same way.
extension NetworkTopology {
    /// The break `target` names, and words for it: a pipe (segment id, then source id), a survey
    /// point (its number: a fitting or valve that broke), or `x,y` map coordinates (the nearest
    /// pipe within `maxDistance` metres).
    ///
    /// - Parameter segmentOutside: looks up a segment id this topology does not hold, so the
    ///   error can say which layer it is in.
    /// - Throws: ``NetworkError`` located at `"break <target>"`.
    /// - Complexity: O(log m) for ids and numbers, O(m) for a source id or coordinates.
    public func locateBreak(
        _ target: String, maxDistance: Double, segmentOutside: (Int64) -> PipeSegment? = { _ in nil }
    ) throws(NetworkError) -> (location: BreakLocation, words: String) {
        let text = target.trimmingCharacters(in: .whitespaces)
        let at = "break \(target)"
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.count == 2, let x = Double(parts[0]), let y = Double(parts[1]) {
            guard x.isFinite, y.isFinite else { throw NetworkError("coordinates must be finite", at: at) }
            guard let (e, d) = nearestEdge(to: Point(x, y)), d <= maxDistance else {
                throw NetworkError("no \(scope) pipe within --max-distance \(Self.metres(maxDistance)) m", at: at)
            }
            return (.edge(e), "a break on pipe \(segments[e].displayID) (\(Self.metres(d)) m from \(Self.coordinate(x)), \(Self.coordinate(y)))")
        }
        if let id = Int64(text) {
            if let e = edge(segmentID: id) { return (.edge(e), "a break on pipe \(segments[e].displayID)") }
            if let s = segmentOutside(id) {
                throw NetworkError(
                    "pipe \(id) is in layer \(s.layer)\(s.gasPressureClass.map { " (\($0.rawValue))" } ?? ""), not \(scope)", at: at)
            }
        }
        if let i = pointIndex(number: PointNumber(text)) {
            let v = Int(pointNode[i])
            guard v >= 0 else {
                throw NetworkError("point \(text) is not within \(Self.metres(tolerance)) m of a \(scope) pipe end", at: at)
            }
            return (.node(v), "a break at point \(text) (\(points[i].kind))")
        }
        if let e = segments.firstIndex(where: { $0.sourceID == text }) {
            return (.edge(e), "a break on pipe \(segments[e].displayID)")
        }
        throw NetworkError("no \(scope) pipe id, point number or source id '\(text)', and not 'x,y' coordinates", at: at)
    }

    /// A trace start: a point number (a manhole), else a pipe id of this topology.
    /// - Throws: ``NetworkError`` located at `"trace from <start>"`.
    public func locateTraceStart(_ start: String) throws(NetworkError) -> DrainageTrace.Start {
        let at = "trace from \(start)"
        if let i = pointIndex(number: PointNumber(start)) {
            let v = Int(pointNode[i])
            guard v >= 0 else {
                throw NetworkError("point \(start) is not within \(Self.metres(tolerance)) m of a \(scope.layer) pipe end", at: at)
            }
            return .node(v)
        }
        if let id = Int64(start), let e = edge(segmentID: id) { return .edge(e) }
        throw NetworkError("no \(scope.layer) point number or pipe id '\(start)'", at: at)
    }

    /// Metres as the command line prints them: 2 decimals.
    static func metres(_ v: Double) -> String { String(format: "%.2f", v) }

    /// A coordinate as the command line prints it: to the millimetre.
    static func coordinate(_ v: Double) -> String { String(format: "%.3f", v) }
}

/// The planning figures of a layer as one answer: its valve segments, worst first, and each
/// valve's criticality, most extra customers first. What `subterra valve-segments --json`,
/// `query --batch` (`"op":"valve-segments"`) and the HTTP service print.
public struct ValveSegmentsReport: Hashable, Sendable, Codable {
    public var scope: NetworkTopology.Scope
    public var tolerance: Double
    public var pipes: Int
    public var segmentCount: Int
    /// Connections at valve or source nodes, in no segment.
    public var boundaryConnections: Int
    /// Worst first (most customers, then longest).
    public var segments: [SegmentSummary]
    /// Worst first (most extra customers, then most extra length).
    public var valves: [ValveCriticality]

    /// The report of `segments`, at most `top` rows per list. O(n + m) plus the criticality.
    public init(_ segments: ValveSegments, top: Int = .max) {
        let t = segments.topology
        scope = t.scope
        tolerance = t.tolerance
        pipes = t.edgeCount
        segmentCount = segments.segmentCount
        boundaryConnections = segments.boundaryConnections
        self.segments = Array(segments.summariesWorstFirst().prefix(top))
        valves = Array(segments.criticality().prefix(top))
    }
}
