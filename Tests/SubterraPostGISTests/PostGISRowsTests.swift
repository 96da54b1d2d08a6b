import Foundation
import PostgresNIO
import SubterraGeometry
import SubterraModel
import Testing
@testable import SubterraPostGIS

/// Every column of a row is read back into its own field, and a row that no longer decodes as
/// the schema's types is refused naming the table, the record and the column.
@Suite("PostGIS rows", .enabled(if: PG.primary != nil, PG.skipReason))
struct PostGISRowsTests {
    /// Points and segments with every optional field set to a value no other field has (so a
    /// column read into the wrong field shows), and one with every optional field empty.
    static func fixture() throws -> (segments: [PipeSegment], points: [FeaturePoint], areas: [OperatorArea]) {
        let p1 = FeaturePoint(
            number: "GS-0001", layer: .gas, category: .appurtenance, kind: "valve", position: Point(500_000, 2_500_000, 4.25),
            groundElevation: 4.75, depth: 1.35, owner: "港华燃气", road: "人民路", status: "existing",
            valveStatus: .closed, connection: ServiceConnection(category: .hospital, count: 3))
        let p2 = FeaturePoint(number: "GS-0002", layer: .gas, category: .feature, kind: "tee", position: Point(500_010, 2_500_000, 4.0))
        let p3 = FeaturePoint(number: "GS-0003", layer: .gas, category: .feature, kind: "cap", position: Point(500_020, 2_500_005, 3.5))
        let full = PipeSegment(
            id: 11, layer: .gas, subtype: .sewage, startPoint: p1.number, endPoint: p2.number,
            geometry: try LineString([p1.position, Point(500_005, 2_500_001, 4.1), p2.position]),
            startDepth: 1.11, endDepth: 1.22, startElevation: 2.33, endElevation: 2.44, elevationReference: .bottom,
            section: .circular(diameterMM: 315), ductHoles: 16, ductHolesOccupied: 5, cableCount: 7, material: "PE",
            burial: "ZM", gasPressureMPa: 0.4, voltageKV: 10.5, owner: "港华燃气", road: "人民路", layingDate: "2015-06",
            status: "existing", accuracy: PositionalAccuracy(horizontalM: 0.07, verticalM: 0.03, qualityLevel: .b),
            sourceID: "S-11", feature: 77, part: 2, nominalDepth: 1.55, featureKind: .cableBed, accuracyAssumed: true,
            sourceFile: "/data/gas.geojson")
        let boxed = PipeSegment(
            id: 12, layer: .gas, startPoint: p2.number, endPoint: p3.number, geometry: try LineString([p2.position, p3.position]),
            section: .rectangular(widthMM: 800, heightMM: 600))
        let bare = PipeSegment(id: 13, layer: .gas, startPoint: p3.number, endPoint: p1.number, geometry: try LineString([p3.position, p1.position]))
        let ring = try Polygon(rings: [[Point(499_990, 2_499_990), Point(500_030, 2_499_990), Point(500_030, 2_500_010), Point(499_990, 2_499_990)]])
        let area = try OperatorArea(
            id: 5, kind: .precaution, owner: "港华燃气", layers: [.gas, .power], geometry: .multiPolygon([ring]),
            note: "高压段", sourceID: "A-5", sourceFile: "/data/areas.geojson")
        return ([full, boxed, bare], [p1, p2, p3], [area])
    }

    @Test func everyColumnReadsBackIntoItsOwnField() throws {
        let (segments, points, areas) = try Self.fixture()
        let pg = try PostGISStore.open(try PG.freshDatabase("rows"))
        try pg.apply(StoreEdit(upsertSegments: segments, upsertPoints: points, upsertAreas: areas))
        // Through the whole-map read, the single-feature reads and the change log.
        let all = try pg.loadAll()
        #expect(all.segments.sorted { $0.id < $1.id } == segments)
        #expect(all.points.sorted { $0.number.rawValue < $1.number.rawValue } == points)
        #expect(all.areas == areas)
        for s in segments { #expect(try pg.segment(id: s.id)?.record == s) }
        for p in points { #expect(try pg.point(number: p.number)?.record == p) }
        let batch = try pg.changes(after: 0)
        #expect(batch.segments.count == 3 && batch.points.count == 3 && batch.areas.count == 1)
        for s in segments { #expect(batch.segments[s.id] == s) }
        for p in points { #expect(batch.points[p.number] == p) }
        #expect(batch.areas[5] == areas[0])
    }

    @Test func aColumnOfTheWrongTypeIsRefusedNamingRecordAndColumn() throws {
        let (segments, points, _) = try Self.fixture()
        let url = try PG.freshDatabase("rowsbad")
        let pg = try PostGISStore.open(url)
        try pg.apply(StoreEdit(upsertSegments: segments, upsertPoints: points))
        // Someone changes a column's type by hand: the read says which table, record and column.
        try PG.sql(url, "ALTER TABLE subterra_segments ALTER COLUMN cable_count TYPE text USING cable_count::text")
        let e = #expect(throws: StoreError.self) { _ = try pg.loadAll() }
        #expect(e?.table == "subterra_segments" && e?.record == "id 11" && e?.field == "cable_count", "\(String(describing: e))")
        #expect(e?.message.contains("not an integer") == true, "\(String(describing: e))")
        // A required value made NULL by hand is refused too.
        try PG.sql(url, "ALTER TABLE subterra_segments ALTER COLUMN cable_count TYPE bigint USING cable_count::bigint")
        try PG.sql(url, "ALTER TABLE subterra_points ALTER COLUMN kind DROP NOT NULL")
        try PG.sql(url, "UPDATE subterra_points SET kind = NULL WHERE number = 'GS-0002'")
        let n = #expect(throws: StoreError.self) { _ = try pg.point(number: "GS-0002") }
        #expect(n?.table == "subterra_points" && n?.message.contains("required value is NULL") == true, "\(String(describing: n))")
        #expect(try pg.segment(id: 11)?.record == segments[0])
    }
}
