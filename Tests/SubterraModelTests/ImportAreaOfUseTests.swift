import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing
@testable import SubterraModel

/// A point or vertex outside the target CRS's area of use (widened by the standard 1.5°) never
/// enters a store: strict rejects the delivery naming the record and vertex, lenient drops the
/// record and reports it.
@Suite struct ImportAreaOfUseTests {
    static let segments = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},
         "features":[
          {"type":"Feature","properties":{"L":"JS"},"geometry":{"type":"LineString","coordinates":[[636600,3139924],[636610,3139930]]}},
          {"type":"Feature","properties":{"L":"JS"},"geometry":{"type":"LineString","coordinates":[[636600,3139924],[636605,3139926],[1e300,3140200]]}},
          {"type":"Feature","properties":{"L":"RQ"},"geometry":{"type":"LineString","coordinates":[[636700,-1e308],[636710,3139930]]}},
          {"type":"Feature","properties":{"L":"DL"},"geometry":{"type":"LineString","coordinates":[[100000,3139924],[636710,3139930]]}}
         ]}
        """

    /// Survey X (northing), Y (easting): JS2's easting is 1e300.
    static let points = """
        点号,管线类别,特征,附属物,X,Y,地面高程,埋深
        JS1,JS,,阀门,3139924.000,636600.000,5.20,1.10
        JS2,JS,弯头,,3139930.000,1e300,5.25,1.20
        """

    func run(_ policy: ImportPolicy) throws -> Result<ImportResult, ImportError> {
        let dir = storeTempDir()
        let seg = dir.appendingPathComponent("segments.geojson"), pts = dir.appendingPathComponent("points.csv")
        try Data(Self.segments.utf8).write(to: seg)
        try Data(Self.points.utf8).write(to: pts)
        let sources = [
            ImportSource(path: seg.path, format: .geoJSON, content: .segments, mapping: FieldMapping(fields: ["layer": .field("L")])),
            ImportSource(path: pts.path, format: .csv(geometryColumn: nil), content: .points,
                         mapping: try mapping("cjj61-survey-points.json")),
        ]
        do { return .success(try Importer.read(sources, options: ImportOptions(policy: policy))) } catch {
            return .failure(error)
        }
    }

    @Test func strictRejectsTheDeliveryNamingRecordAndVertex() throws {
        guard case .failure(let e) = try run(.strict) else {
            Issue.record("strict import with vertices at 1e300 was accepted")
            return
        }
        let issues = e.report?.issues.filter { $0.message.contains("outside the area of use") } ?? []
        let lines = issues.map(\.description)
        #expect(issues.count == 4, "\(lines)")
        #expect(lines.contains { $0.contains("segments.geojson") && $0.contains("vertex 2 (1e+300, 3140200) is outside the area of use of EPSG:4549: x ") })
        #expect(lines.contains { $0.contains("vertex 0 (636700, -1e+308)") })
        #expect(lines.contains { $0.contains("vertex 0 (100000, 3139924)") })
        #expect(lines.contains { $0.contains("points.csv") && $0.contains("position (1e+300, 3139930)") })
        #expect(lines.allSatisfy { !$0.contains("\n") })
    }

    @Test func lenientDropsAndReportsTheRecords() throws {
        guard case .success(let r) = try run(.lenient) else {
            Issue.record("lenient import failed")
            return
        }
        #expect(r.segments.count == 1 && r.segments[0].geometry.points[0] == Point(636600, 3139924))
        #expect(r.points.map(\.number) == [PointNumber("JS1")])
        let dropped = r.report.dropped.filter { $0.message.contains("outside the area of use") }
        #expect(dropped.count == 4 && dropped.allSatisfy { $0.severity == .error })
        // Nothing kept lies outside.
        let b = try #require(try CoordinateSystem("EPSG:4549").areaBounds())
        #expect(r.segments.allSatisfy { $0.geometry.points.allSatisfy { b.contains(x: $0.x, y: $0.y) } })
    }
}
