import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

/// Issue 13 item 5/6: cable beds, sleeves and casings as feature kinds.
@Suite("Feature kinds: mapping, quality messages, store, Codable")
struct FeatureKindTests {
    func read(_ csv: String, _ mapping: FieldMapping, policy: ImportPolicy = .strict) throws -> ImportResult {
        try RealDeliveryImportTests().read(csv, mapping, policy: policy)
    }

    /// An IMKL-like delivery: the object type says what each line is.
    static let imklMapping = Data(#"""
        {
          "fields": {
            "id": { "from": ["id"] },
            "layer": { "constant": "DL" },
            "owner": { "from": ["owner"] },
            "material": { "from": ["material"] },
            "featureKind": { "from": ["type"],
                             "map": { "Elektriciteitskabel": "utilityLine", "Kabelbed": "cableBed",
                                      "Mantelbuis": "sleeve", "Duct": "sleeve" } }
          }
        }
        """#.utf8)

    /// A cable, its bed and its sleeve on one trace, and a lone duct elsewhere.
    static let rows = """
        id,wkt,type,owner,material
        1,"LINESTRING (637000 3140000, 637010 3140000)",Elektriciteitskabel,Grid,Cu
        2,"LINESTRING (637000 3140000, 637010 3140000)",kabelbed,Grid,Cu
        3,"LINESTRING (637010 3140000, 637000 3140000)",Mantelbuis,Grid,Cu
        4,"LINESTRING (637000 3140050, 637010 3140050)",Duct,Grid,PVC
        """

    @Test func mappedSourceWordsBecomeKinds() throws {
        let r = try read(Self.rows, try FieldMapping.decode(Self.imklMapping))
        let kind = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.id, $0.featureKind) })
        #expect(kind == [1: .utilityLine, 2: .cableBed, 3: .sleeve, 4: .sleeve])
    }

    @Test func kindsAreReadWithoutAMapAndBadOnesReported() throws {
        let m = FieldMapping(fields: ["id": .field("id"), "layer": .constant("TX"), "featureKind": .field("kind")])
        let csv = """
            id,wkt,kind
            1,"LINESTRING (637000 3140000, 637010 3140000)",
            2,"LINESTRING (637000 3140010, 637010 3140010)",cable bed
            3,"LINESTRING (637000 3140020, 637010 3140020)",CASING
            4,"LINESTRING (637000 3140030, 637010 3140030)",duct
            5,"LINESTRING (637000 3140040, 637010 3140040)",sleeve
            6,"LINESTRING (637000 3140050, 637010 3140050)",manhole
            """
        let r = try read(csv, m, policy: .lenient)
        let kind = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.id, $0.featureKind) })
        #expect(kind == [1: .utilityLine, 2: .cableBed, 3: .casing, 4: .sleeve, 5: .sleeve, 6: .utilityLine])
        let bad = r.report.issues(.badValue)
        #expect(bad.count == 1, "\(r.report)")
        #expect(bad.first?.message.contains("'manhole' is not a feature kind") == true, "\(bad)")
    }

    @Test func aValueMapToNoKindIsRefusedWhenTheMappingIsRead() {
        let typo = Data(#"{"fields": {"layer": {"constant": "DL"}, "featureKind": {"from": ["t"], "map": {"Kabelbed": "cabelBed"}}}}"#.utf8)
        do {
            _ = try FieldMapping.decode(typo)
            Issue.record("a map to 'cabelBed' was accepted")
        } catch {
            #expect(error.field == "featureKind")
            #expect(error.message.contains("'cabelBed' is not a feature kind; known: utilityLine, cableBed, sleeve, casing"), "\(error)")
        }
        let otherwise = Data(#"{"fields": {"layer": {"constant": "DL"}, "featureKind": {"from": ["t"], "otherwise": "pipe"}}}"#.utf8)
        #expect(throws: ImportError.self) { try FieldMapping.decode(otherwise) }
        #expect(throws: Never.self) { try FieldMapping.decode(Self.imklMapping) }
    }

    @Test func coincidentTraceMessagesNameTheKind() throws {
        let r = try read(Self.rows, try FieldMapping.decode(Self.imklMapping))
        let found = r.report.issues(.coincidentTrace).map(\.message)
        #expect(found.count == 2, "\(r.report)")
        // Same attributes otherwise: the kind alone tells the bed from a duplicate.
        #expect(found.contains { $0.contains("kind (cable bed vs utility line)") && $0.contains("the cable bed of segment 1") }, "\(found)")
        #expect(found.contains { $0.contains("the sleeve of segment 1") }, "\(found)")
        #expect(!r.report.hasErrors, "\(r.report)")
    }

    @Test func kindsRoundTripThroughTheStore() throws {
        let r = try read(Self.rows, try FieldMapping.decode(Self.imklMapping))
        let path = storeTempDir().appendingPathComponent("kinds.gpkg").path
        try Importer.write(r, to: try GeoPackageStore.create(at: path))
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        for s in r.segments { #expect(back.segment(id: s.id)?.featureKind == s.featureKind, "segment \(s.id)") }
        #expect(back.segments.map(\.featureKind).filter(\.isEnclosure).count == 3)
    }

    @Test func aStoreWithoutTheKindColumnOpensAndGainsIt() throws {
        let path = storeTempDir().appendingPathComponent("old-kinds.gpkg").path
        let line = try LineString([Point(637000, 3140000), Point(637010, 3140000)])
        do {
            let store = try GeoPackageStore.create(at: path)
            try store.apply(StoreEdit(upsertSegments: [PipeSegment(id: 1, layer: .power, startPoint: "A", endPoint: "B", geometry: line)]))
        }
        do {
            let db = try Database(path: path, mode: .readWrite)
            try db.execute("ALTER TABLE subterra_segments DROP COLUMN feature_kind")
        }
        let old = try GeoPackageStore.open(at: path)
        #expect(try old.loadAll().segment(id: 1)?.featureKind == .utilityLine)
        try old.apply(StoreEdit(upsertSegments: [
            PipeSegment(id: 2, layer: .power, startPoint: "A", endPoint: "B", geometry: line, featureKind: .cableBed)
        ]))
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        #expect(back.segment(id: 1)?.featureKind == .utilityLine)
        #expect(back.segment(id: 2)?.featureKind == .cableBed)
    }

    @Test func codableKeepsTheKindAndDefaultsToAUtilityLine() throws {
        let line = try LineString([Point(637000, 3140000), Point(637010, 3140000)])
        let s = PipeSegment(id: 3, layer: .gas, startPoint: "A", endPoint: "B", geometry: line, featureKind: .casing)
        let data = try JSONEncoder().encode(s)
        #expect(String(decoding: data, as: UTF8.self).contains(#""featureKind":"casing""#))
        #expect(try JSONDecoder().decode(PipeSegment.self, from: data) == s)
        var plain = s
        plain.featureKind = .utilityLine
        let plainData = try JSONEncoder().encode(plain)
        #expect(!String(decoding: plainData, as: UTF8.self).contains("featureKind"))
        #expect(try JSONDecoder().decode(PipeSegment.self, from: plainData).featureKind == .utilityLine)
    }

    @Test func parsingAcceptsRawValuesAndWords() {
        for k in FeatureKind.allCases {
            #expect(FeatureKind(parsing: k.rawValue) == k)
            #expect(FeatureKind(parsing: k.words.uppercased()) == k)
        }
        #expect(FeatureKind(parsing: "protective_tube") == .sleeve)
        #expect(FeatureKind(parsing: "kabelbed") == nil, "source vocabularies go through a value map")
    }
}
