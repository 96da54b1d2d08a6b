import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraRequests

/// Batch answers show a line's kind when it is not a utility line, and a dig check answers a
/// cable once with its sleeve.
@Suite struct FeatureKindAnswerTests {
    let runner: RequestRunner = {
        let trace = try! LineString([Point(501000, 3379000), Point(501020, 3379000)])
        let map = try! UtilityNetwork(crs: "EPSG:4549", segments: [
            PipeSegment(id: 1, layer: .power, startPoint: "A", endPoint: "B", geometry: trace, startDepth: 1, endDepth: 1, owner: "Liander"),
            PipeSegment(id: 2, layer: .power, startPoint: "A", endPoint: "B", geometry: trace, startDepth: 0.9, endDepth: 0.9,
                        owner: "Liander", featureKind: .sleeve),
        ])
        return RequestRunner(engine: try! UtilityEngine(network: map))
    }()

    @Test func withinShowsTheSleeveKindOnly() {
        let within = runner.answer(
            line: #"{"id":1,"op":"within","geometry":"POINT (501010 3379001)","distance":5,"enclosures":"separate"}"#, number: 1)
        #expect(within.contains(#""count":2"#), "\(within)")
        #expect(within.components(separatedBy: #""featureKind":"#).count == 2, "the sleeve only: \(within)")
        #expect(within.contains(#""featureKind":"sleeve""#), "\(within)")
    }

    @Test func withinGroupsTheSleeveWithTheCable() {
        let within = runner.answer(line: #"{"id":1,"op":"within","geometry":"POINT (501010 3379001)","distance":5}"#, number: 1)
        #expect(within.contains(#""count":1"#), "\(within)")
        #expect(within.contains(#""enclosures":[{"distance":1,"kind":"sleeve","pipeID":2}]"#), "\(within)")
        #expect(within.contains(#""groupDistance":1"#), "\(within)")
    }

    @Test func digCheckAnswersTheCableOnceWithItsSleeve() {
        let dig = runner.answer(
            line: #"{"id":2,"op":"check-dig","geometry":"POLYGON ((501005 3378995, 501015 3378995, 501015 3379005, 501005 3379005, 501005 3378995))","depth":1.5}"#,
            number: 2)
        #expect(dig.contains(#""enclosures":[{"#), "\(dig)")
        #expect(dig.contains(#""kind":"sleeve""#), "\(dig)")
        #expect(dig.contains(#""pipeIDs":[1]"#), "one owner pipe: \(dig)")
    }
}
