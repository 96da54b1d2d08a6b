import Foundation
import SubterraDatasets
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine
@testable import SubterraRequests

/// `DigReport.jsonValue` (written member by member) equals `JSONValueEncoder`'s encoding (the
/// `Codable` one) on real dig checks and on reports with every optional member set.
@Suite struct DigReportJSONTests {
    static let district = DistrictGenerator(segments: 3000, seed: 42).district().network
    static let engine = try! UtilityEngine(network: district)

    /// 200 dig sites of 3–40 m near pipe vertices, depths 0.5–4 m, with and without a work type.
    @Test func equalsTheCodableEncodingOnDistrictDigs() throws {
        let segments = Self.district.segments
        var rng = SplitMix64(seed: 61)
        var withConflicts = 0
        for i in 0..<200 {
            let v = segments[Int(rng.next() % UInt64(segments.count))].geometry.points[0]
            let w = 3 + Double(rng.next() % 37), h = 3 + Double(rng.next() % 37)
            let (x, y) = (v.x - w / 2, v.y - h / 3)
            let ring = try LinearRing([Point(x, y), Point(x + w, y), Point(x + w, y + h), Point(x, y + h), Point(x, y)])
            let request = DigRequest(
                area: .polygon(Polygon(exterior: ring)), plannedDepth: 0.5 + Double(i % 8) / 2,
                workType: i % 3 == 0 ? "trench" : nil, startDate: i % 5 == 0 ? "2026-12-01" : nil)
            let report = try Self.engine.digCheck(request)
            if !report.conflicts.isEmpty { withConflicts += 1 }
            #expect(report.jsonValue == (try JSONValueEncoder().encode(report)), "site \(i)")
        }
        #expect(withConflicts > 100, "the sites found conflicts (\(withConflicts) of 200)")
    }

    /// A report whose every optional member is set (non-finite numbers too): equal to the
    /// `Codable` encoding, and every stored property of each type appears as a member, so a
    /// property added to a report type and not to `jsonValue` fails here.
    @Test func everyMemberOfEveryTypeIsWritten() throws {
        let segments = Self.district.segments
        var report: DigReport?
        for s in segments.prefix(400) {
            let v = s.geometry.points[0]
            let ring = try LinearRing([
                Point(v.x - 4, v.y - 4), Point(v.x + 4, v.y - 4), Point(v.x + 4, v.y + 4), Point(v.x - 4, v.y + 4), Point(v.x - 4, v.y - 4),
            ])
            let r = try Self.engine.digCheck(DigRequest(area: .polygon(Polygon(exterior: ring)), plannedDepth: 2))
            if !r.conflicts.isEmpty, !r.owners.isEmpty, !r.layers.isEmpty {
                report = r
                break
            }
        }
        var r = try #require(report)
        let rule = ClearanceRule(distance: 1.5, table: "GB50289 table 4.1.9", keys: ["gas", "power"], basis: "largest")
        r.workType = "trench"
        r.startDate = "2026-12-01"
        r.endDate = "2026-12-05"
        r.highestSeverity = .critical
        r.plannedDepth = .infinity
        var c = r.conflicts[0]
        c.subtype = SubtypeCode("GS")
        c.owner = "Water Co"
        c.section = "DN300"
        c.gasPressureMPa = .nan
        c.voltageKV = 10
        c.depth = -.infinity
        c.rule = rule
        c.sourceID = "W-1"
        c.feature = 77
        c.nominalDepth = 1.2
        c.sourceFile = "water.shp"
        c.enclosures = [DigEnclosure(pipeID: 9, kind: .sleeve, sourceID: "S-9", clearDistance: 0.25, severity: .high, sourceFile: "s.shp")]
        r.conflicts = [c]
        r.unchecked = [
            UncheckedPair(kind: .excavation, pipeID: 5, layer: LayerCode("QT"), owner: "X", reason: "not checked", sourceID: "Q-5",
                          feature: 6, sourceFile: "q.shp")
        ]
        r.precautions = [
            PrecautionNotice(pipeID: 3, layer: LayerCode("RQ"), owner: "Gas Co", clearDistance: 2, requiredDistance: 5, rule: rule,
                             sourceID: "G-3", feature: 3, sourceFile: "g.shp")
        ]
        r.areas = [
            AreaNotice(areaID: 12, sourceID: "A-12", kind: .precaution, owner: "Gas Co", layers: [LayerCode("RQ")], note: "call first",
                       action: "consult", severity: .high, sourceFile: "areas.geojson")
        ]
        r.owners[0].areaIDs = [12]
        #expect(r.jsonValue == (try JSONValueEncoder().encode(r)))

        func keys(_ v: JSONValue?) -> Set<String> { Set(v?.objectValue?.keys ?? []) }
        func labels(_ x: Any) -> Set<String> { Set(Mirror(reflecting: x).children.compactMap(\.label)) }
        let o = r.jsonValue.objectValue
        #expect(keys(r.jsonValue) == labels(r))
        #expect(keys(o?["conflicts"]?.testArray?.first) == labels(c))
        #expect(keys(o?["conflicts"]?.testArray?.first?.objectValue?["rule"]) == labels(rule))
        #expect(keys(o?["conflicts"]?.testArray?.first?.objectValue?["closestPoint"]) == labels(c.closestPoint))
        #expect(keys(o?["conflicts"]?.testArray?.first?.objectValue?["enclosures"]?.testArray?.first) == labels(c.enclosures[0]))
        #expect(keys(o?["unchecked"]?.testArray?.first) == labels(r.unchecked[0]))
        #expect(keys(o?["precautions"]?.testArray?.first) == labels(r.precautions[0]))
        #expect(keys(o?["areas"]?.testArray?.first) == labels(r.areas[0]))
        #expect(keys(o?["layers"]?.testArray?.first) == labels(r.layers[0]))
        #expect(keys(o?["owners"]?.testArray?.first) == labels(r.owners[0]))
    }
}

extension JSONValue {
    fileprivate var testArray: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}
