import Foundation
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

@testable import SubterraRequests

/// `isolate`, `trace` and `valve-segments` batch lines answer exactly what the library calls
/// (and so the commands' `--json`) give.
@Suite struct NetworkRequestTests {
    static let district = DistrictGenerator(segments: 3000, seed: 42).district().network
    static let runner = RequestRunner(
        engine: try! UtilityEngine(network: district), network: NetworkSource(district))

    /// The `result` of an answer line, as JSON text re-encoded canonically, or the error.
    func answer(_ line: String) -> (ok: Bool, result: JSONValue?, error: String?) {
        let text = Self.runner.answer(line: line, number: 1)
        guard let v = try? JSONDecoder().decode(AnyJSON.self, from: Data(text.utf8)).value, case .object(let o) = v else {
            return (false, nil, "unreadable answer \(text)")
        }
        return (o["ok"] == .bool(true), o["result"], o["error"]?.stringValue)
    }

    /// `value` as the runner encodes answers, read back as JSON.
    func json<T: Encodable>(_ value: T) throws -> JSONValue {
        let data = try AnswerJSON.encoder(pretty: false).encode(value)
        return try JSONDecoder().decode(AnyJSON.self, from: data).value
    }

    func topology(_ layer: LayerCode) throws -> NetworkTopology {
        try NetworkTopology(network: Self.district, scope: .init(layer: layer), tolerance: 0.05)
    }

    @Test func isolateLinesAgreeWithTheLibrary() throws {
        let t = try topology(.water)
        // A pipe, a point and a position: each the plan IsolationPlan gives for that break.
        let pipe = t.segments[t.edgeCount / 2]
        let valve = t.points.first { $0.kind == .valve && t.pointNode[t.pointIndex(number: $0.number)!] >= 0 }!
        let mid = pipe.geometry.points[0]
        let cases: [(String, BreakLocation)] = [
            (#"{"op":"isolate","layer":"JS","target":"\#(pipe.id)"}"#, .edge(t.edge(segmentID: pipe.id)!)),
            (#"{"op":"isolate","layer":"js","target":"\#(valve.number.rawValue)"}"#, .node(Int(t.pointNode[t.pointIndex(number: valve.number)!]))),
            (
                #"{"op":"isolate","layer":"JS","geometry":"POINT (\#(mid.x + 0.01) \#(mid.y))","maxDistance":1}"#,
                .edge(t.nearestEdge(to: Point(mid.x + 0.01, mid.y))!.edge)
            ),
        ]
        for (line, location) in cases {
            let a = answer(line)
            #expect(a.ok, "\(line): \(a.error ?? "")")
            #expect(a.result == (try json(IsolationPlan(topology: t, break: location))), "\(line)")
        }
    }

    @Test func traceAndValveSegmentLinesAgreeWithTheLibrary() throws {
        let ps = try topology(.drainage)
        let manhole = ps.points.first { $0.kind == .manhole && ps.pointNode[ps.pointIndex(number: $0.number)!] >= 0 }!
        let v = Int(ps.pointNode[ps.pointIndex(number: manhole.number)!])
        for dir in TraceDirection.allCases {
            let a = answer(#"{"op":"trace","direction":"\#(dir.rawValue)","from":"\#(manhole.number.rawValue)"}"#)
            #expect(a.ok, "\(a.error ?? "")")
            #expect(a.result == (try json(DrainageTrace(topology: ps, from: [.node(v)], direction: dir))))
        }
        let rq = try topology(.gas)
        let a = answer(#"{"op":"valve-segments","layer":"RQ","top":5}"#)
        #expect(a.ok, "\(a.error ?? "")")
        #expect(a.result == (try json(ValveSegmentsReport(ValveSegments(rq), top: 5))))
    }

    @Test func networkLinesSayWhatIsWrong() {
        for (line, needle) in [
            (#"{"op":"isolate","target":"1"}"#, "field layer is missing"),
            (#"{"op":"isolate","layer":"PS","target":"1"}"#, "pressurised networks"),
            (#"{"op":"isolate","layer":"JS"}"#, "field target is missing"),
            (#"{"op":"isolate","layer":"JS","target":"nope"}"#, "break nope: no JS pipe id"),
            (#"{"op":"isolate","layer":"JS","target":"1","geometry":"POINT (0 0)"}"#, "give one break"),
            (#"{"op":"isolate","layer":"JS","geometry":"LINESTRING (0 0, 1 1)"}"#, "must be a POINT"),
            (#"{"op":"isolate","layer":"JS","pressureClass":"low","target":"1"}"#, "applies to gas"),
            (#"{"op":"trace","from":"PS000001"}"#, "field direction is missing"),
            (#"{"op":"trace","direction":"sideways","from":"PS000001"}"#, "not upstream or downstream"),
            (#"{"op":"trace","direction":"upstream"}"#, "field from is missing"),
            (#"{"op":"valve-segments","layer":"RL","top":0}"#, "field top must be at least 1"),
            (#"{"op":"nearest"}"#, "field geometry is missing"),
        ] {
            let a = answer(line)
            #expect(!a.ok && (a.error ?? "").contains(needle), "\(line): \(a.error ?? "ok")")
        }
        // Without the points, a runner refuses network lines and still answers the others.
        let bare = RequestRunner(engine: Self.runner.engine)
        #expect(bare.answer(line: #"{"op":"isolate","layer":"JS","target":"1"}"#, number: 1).contains("survey points"))
    }
}
