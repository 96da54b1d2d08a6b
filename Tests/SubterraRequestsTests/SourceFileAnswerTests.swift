import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraRequests

/// Batch answers carry each pipe's source file, and a nominal-only depth as `nominalDepth`.
@Suite struct SourceFileAnswerTests {
    let runner: RequestRunner = {
        let cable = PipeSegment(
            id: 1, layer: .power, startPoint: "A", endPoint: "B",
            geometry: try! LineString([Point(501000, 3379000), Point(501010, 3379000)]),
            startDepth: 1, endDepth: 1, owner: "Liander", sourceFile: "d/kabels.geojson")
        let main = PipeSegment(
            id: 2, layer: .water, startPoint: "C", endPoint: "D",
            geometry: try! LineString([Point(501000, 3379020), Point(501010, 3379020)]),
            owner: "Vitens", nominalDepth: 0.8, sourceFile: "d/water.geojson")
        return RequestRunner(engine: try! UtilityEngine(network: try! UtilityNetwork(crs: "EPSG:4549", segments: [cable, main])))
    }()

    @Test func hitsNameTheirFileAndANominalDepth() throws {
        let near = runner.answer(line: #"{"id":1,"op":"nearest","geometry":"POINT (501005 3379010)","k":2}"#, number: 1)
        #expect(near.contains(#""sourceFile":"d/kabels.geojson""#) && near.contains(#""sourceFile":"d/water.geojson""#), "\(near)")
        #expect(near.contains(#""nominalDepth":0.8"#), "\(near)")
        #expect(near.components(separatedBy: "nominalDepth").count == 2, "only the nominal-only main: \(near)")
    }

    @Test func digCheckAnswersNameTheFile() {
        let dig = runner.answer(
            line: #"{"id":2,"op":"check-dig","geometry":"POLYGON ((501004 3379018, 501006 3379018, 501006 3379022, 501004 3379022, 501004 3379018))","depth":0.5}"#,
            number: 2)
        #expect(dig.contains(#""sourceFile":"d/water.geojson""#), "\(dig)")
        #expect(dig.contains(#""reaches":"possibly""#), "\(dig)")
    }
}
