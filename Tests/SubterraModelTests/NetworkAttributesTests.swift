import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

/// Issue 16: valve status and service connections on points, through GeoJSON import, the
/// mapping files, the GeoPackage store (old stores included) and Codable.
@Suite("Network attributes: valve status and service connections")
struct NetworkAttributesTests {
    static let propertyMapping = FieldMapping(fields: [
        "pointNumber": .field("number"), "layer": .field("layer"), "kind": .field("kind"),
        "valveStatus": .field("valve_status"), "customerCategory": .field("customer_category"),
        "customerCount": .field("customer_count"),
    ])

    static let geojson = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637000,3140000]},"properties":{"number":"V1","layer":"JS","kind":"valve","valve_status":"Closed"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637010,3140000]},"properties":{"number":"V2","layer":"JS","kind":"valve-chamber","valve_status":"损坏"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637020,3140000]},"properties":{"number":"V3","layer":"JS","kind":"valve"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637030,3140000]},"properties":{"number":"C1","layer":"JS","kind":"service-connection","customer_category":"hospital"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637040,3140000]},"properties":{"number":"C2","layer":"JS","kind":"service-connection","customer_category":"households","customer_count":24}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637050,3140000]},"properties":{"number":"T1","layer":"JS","kind":"tee","valve_status":"open"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637060,3140000]},"properties":{"number":"C3","layer":"JS","kind":"service-connection","customer_category":"spaceport"}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637070,3140000]},"properties":{"number":"C4","layer":"JS","kind":"service-connection","customer_category":"school","customer_count":0}},
        {"type":"Feature","geometry":{"type":"Point","coordinates":[637080,3140000]},"properties":{"number":"P1","layer":"JS","kind":"plant"}}
        ]}
        """

    func importPoints() throws -> ImportResult {
        let path = storeTempDir().appendingPathComponent("points.geojson")
        try Data(Self.geojson.utf8).write(to: path)
        return try Importer.read(
            [ImportSource(path: path.path, format: .geoJSON, content: .points, mapping: Self.propertyMapping)],
            options: ImportOptions(policy: .lenient))
    }

    @Test func geoJSONPropertiesMapToStatusAndConnections() throws {
        let r = try importPoints()
        let by = Dictionary(uniqueKeysWithValues: r.points.map { ($0.number.rawValue, $0) })
        #expect(by["V1"]?.valveStatus == .closed)
        #expect(by["V2"]?.valveStatus == .inoperable)
        #expect(by["V3"]?.valveStatus == nil)
        #expect(by["C1"]?.connection == ServiceConnection(category: .hospital, count: 1))
        #expect(by["C2"]?.connection == ServiceConnection(category: .household, count: 24))
        #expect(by["P1"]?.kind.isSource == true && by["P1"]?.category == .appurtenance)
        // Refused values are reported and left unknown; the points are kept.
        #expect(by["T1"]?.valveStatus == nil && by["C3"]?.connection == nil && by["C4"]?.connection == nil)
        let messages = r.report.issues.map(\.message)
        #expect(messages.contains { $0.contains("on a tee, which is no valve") })
        #expect(messages.contains { $0.contains("'spaceport' is not a customer category") })
        #expect(messages.contains { $0.contains("customer count 0 must be >= 1") })
        #expect(r.points.count == 9)
    }

    @Test func theSurveyMappingFileMapsChineseWords() throws {
        let m = try mapping("cjj61-survey-points.json")
        let csv = """
            点号,管线类别,附属物,X,Y,阀门状态,用户类别,用户数
            JS1,JS,阀门,3140000,637000,关,,
            JS2,JS,接户点,3140000,637010,,医院,2
            JS3,JS,水厂,3140000,637020,,,
            """
        let path = storeTempDir().appendingPathComponent("survey-points.csv")
        try Data(csv.utf8).write(to: path)
        let r = try Importer.read(
            [ImportSource(path: path.path, format: .csv(geometryColumn: nil), content: .points, mapping: m)],
            options: ImportOptions(policy: .strict))
        #expect(r.points.map(\.kind) == [.valve, .serviceConnection, .plant])
        #expect(r.points[0].valveStatus == .closed)
        #expect(r.points[1].connection == ServiceConnection(category: .hospital, count: 2))
    }

    @Test func storeRoundTripAndOldStoresOpenUnchanged() throws {
        let points = try importPoints().points
        let path = storeTempDir().appendingPathComponent("network-points.gpkg").path
        try GeoPackageStore.create(at: path).apply(StoreEdit(upsertPoints: points))
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        for p in points { #expect(back.point(number: p.number) == p, "\(p.number)") }

        // An older store: the point table without the added columns.
        let old = storeTempDir().appendingPathComponent("old-points.gpkg").path
        let plain = points.map { p -> FeaturePoint in
            var q = p
            q.valveStatus = nil
            q.connection = nil
            return q
        }
        try GeoPackageStore.create(at: old).apply(StoreEdit(upsertPoints: plain))
        do {
            let db = try Database(path: old, mode: .readWrite)
            for c in ["customer_count", "customer_category", "valve_status"] {
                try db.execute("ALTER TABLE subterra_points DROP COLUMN \(c)")
            }
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: old))
        let read = try GeoPackageStore.open(at: old, readOnly: true).loadAll()
        #expect(read.points == plain)
        #expect(try Data(contentsOf: URL(fileURLWithPath: old)) == before, "opening never writes")
        // Its first point write adds the columns.
        let store = try GeoPackageStore.open(at: old)
        try store.apply(StoreEdit(upsertPoints: [points[0]]))
        #expect(try store.loadAll().point(number: points[0].number)?.valveStatus == .closed)
        #expect(try GeoPackageStore.open(at: old, readOnly: true).loadAll().point(number: "C2")?.connection == nil)
    }

    @Test func validationAndCodable() throws {
        let at = Point(1, 2)
        #expect(throws: ModelError.self) {
            try FeaturePoint(number: "T", layer: .water, kind: .tee, position: at, valveStatus: .open).validate()
        }
        #expect(throws: ModelError.self) {
            try FeaturePoint(
                number: "C", layer: .water, kind: .serviceConnection, position: at,
                connection: .init(category: .school, count: 0)
            ).validate()
        }
        let p = FeaturePoint(
            number: "V", layer: .water, kind: .valve, position: at, valveStatus: .inaccessible,
            connection: .init(category: .industry, count: 3))
        let data = try JSONEncoder().encode(p)
        #expect(try JSONDecoder().decode(FeaturePoint.self, from: data) == p)
        let plain = FeaturePoint(number: "X", layer: .water, kind: .tee, position: at)
        #expect(!String(decoding: try JSONEncoder().encode(plain), as: UTF8.self).contains("valveStatus"))
        #expect(CustomerCategory.allCases.sorted() == [.hospital, .school, .household, .industry])
        for s in ValveStatus.allCases { #expect(ValveStatus(parsing: s.rawValue.uppercased()) == s) }
    }
}
