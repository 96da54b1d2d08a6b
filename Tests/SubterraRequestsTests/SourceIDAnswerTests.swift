import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraRequests

/// Batch answers name the operator's id and answer a multi-part pipe once.
@Suite struct SourceIDAnswerTests {
    /// A two-part cable with a text id beside a water main with none.
    let runner: RequestRunner = {
        func line(_ a: (Double, Double), _ b: (Double, Double)) -> LineString {
            try! LineString([Point(a.0, a.1), Point(b.0, b.1)])
        }
        let cable = [
            PipeSegment(id: 1, layer: .power, startPoint: "A", endPoint: "B", geometry: line((501000, 3379000), (501010, 3379000)),
                        startDepth: 1, endDepth: 1, owner: "Liander", sourceID: "nl.imkl-KL1031.EKBL_0042", feature: 1, part: 1),
            PipeSegment(id: 2, layer: .power, startPoint: "B", endPoint: "C", geometry: line((501010, 3379000), (501010, 3379010)),
                        startDepth: 1, endDepth: 1, owner: "Liander", sourceID: "nl.imkl-KL1031.EKBL_0042", feature: 1, part: 2),
        ]
        let water = PipeSegment(
            id: 3, layer: .water, startPoint: "D", endPoint: "E", geometry: line((501000, 3379020), (501010, 3379020)),
            startDepth: 1, endDepth: 1, owner: "Vitens")
        let map = try! UtilityNetwork(crs: "EPSG:4549", segments: cable + [water])
        return RequestRunner(engine: try! UtilityEngine(network: map))
    }()

    @Test func nearestAndWithinNameTheSourceIDAndCountTheCableOnce() {
        let near = runner.answer(line: #"{"id":1,"op":"nearest","geometry":"POINT (501011 3379001)","k":2}"#, number: 1)
        #expect(near.contains(#""sourceID":"nl.imkl-KL1031.EKBL_0042""#), "\(near)")
        #expect(near.contains(#""count":2"#) && near.contains(#""owner":"Vitens""#), "the cable once, then the main: \(near)")
        #expect(near.contains(#""part":2"#), "the nearer part: \(near)")
        let within = runner.answer(line: #"{"id":2,"op":"within","geometry":"POINT (501005 3379005)","distance":30}"#, number: 2)
        #expect(within.contains(#""count":2"#), "\(within)")
    }

    @Test func digCheckNamesTheSourceIDAndOneOwnerPipe() {
        let dig = runner.answer(
            line: #"{"id":3,"op":"check-dig","geometry":"POLYGON ((501005 3378995, 501015 3378995, 501015 3379005, 501005 3379005, 501005 3378995))","depth":1.5}"#,
            number: 3)
        #expect(dig.contains(#""sourceID":"nl.imkl-KL1031.EKBL_0042""#), "\(dig)")
        #expect(dig.components(separatedBy: #""pipeID":"#).count == 2, "one conflict for the cable: \(dig)")
    }
}
