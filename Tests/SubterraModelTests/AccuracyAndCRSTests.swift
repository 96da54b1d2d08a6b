import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing
@testable import SubterraModel

@Suite("Import: positional accuracy; stores in any CRS PROJ knows")
struct AccuracyAndCRSTests {
    /// Rows covering: metres, a cm unit, a lower-case level, no accuracy, a negative accuracy,
    /// a bad level, a level without a horizontal accuracy.
    static let csv = """
        id,layer,wkt,acc,acc_v,ql
        1,JS,"LINESTRING (637000 3140000, 637010 3140000)",30,10,B
        2,JS,"LINESTRING (637010 3140000, 637020 3140000)",5,,c
        3,JS,"LINESTRING (637020 3140000, 637030 3140000)",,,
        4,JS,"LINESTRING (637030 3140000, 637040 3140000)",-2,,A
        5,JS,"LINESTRING (637040 3140000, 637050 3140000)",4,,E
        6,JS,"LINESTRING (637050 3140000, 637060 3140000)",,,D
        """

    static let accuracyMapping = FieldMapping(fields: [
        "id": .field("id"), "layer": .field("layer"),
        "horizontalAccuracy": FieldMapping.Rule(from: ["acc"], unit: "cm"),
        "verticalAccuracy": FieldMapping.Rule(from: ["acc_v"], unit: "cm"),
        "qualityLevel": .field("ql"),
    ])

    func importRows() throws -> (ImportResult, URL) {
        let dir = storeTempDir()
        let path = dir.appendingPathComponent("acc.csv")
        try Data(Self.csv.utf8).write(to: path)
        let source = ImportSource(path: path.path, format: .csv(geometryColumn: "wkt"), content: .segments, mapping: Self.accuracyMapping)
        return (try Importer.read([source], options: ImportOptions(policy: .lenient)), dir)
    }

    @Test func accuracyFieldsAreImportedInMetresAndBadOnesReported() throws {
        let (r, _) = try importRows()
        let byID = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.id, $0) })
        #expect(byID[1]?.accuracy == PositionalAccuracy(horizontalM: 0.3, verticalM: 0.1, qualityLevel: .b))
        #expect(byID[2]?.accuracy == PositionalAccuracy(horizontalM: 0.05, verticalM: nil, qualityLevel: .c))
        #expect(byID[3]?.accuracy == nil)
        // A negative accuracy is not read as 0 (that would narrow every clearance): none, reported.
        #expect(byID[4]?.accuracy == nil)
        #expect(byID[5]?.accuracy == PositionalAccuracy(horizontalM: 0.04), "bad level dropped, accuracy kept")
        #expect(byID[6]?.accuracy == nil)
        let fields = r.report.issues.map { "\($0.location.index ?? -1):\($0.location.field ?? "")" }
        #expect(fields.contains { $0.hasSuffix(":acc") }, "negative accuracy reported: \(fields)")
        #expect(fields.contains { $0.hasSuffix(":ql") }, "level E and a lone level reported: \(fields)")
        #expect(r.report.issues.filter { $0.location.field == "ql" }.count == 2)
    }

    @Test func geoPackageStoreRoundTripsAccuracy() throws {
        let (r, dir) = try importRows()
        let path = dir.appendingPathComponent("acc.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try Importer.write(r, to: store)
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        for s in r.segments {
            #expect(back.segment(id: s.id)?.accuracy == s.accuracy, "segment \(s.id)")
        }
    }

    @Test func mappingFilesAcceptTheAccuracyTargets() throws {
        let m = try mapping("cjj61-survey-segments.json")
        #expect(m[.horizontalAccuracy]?.unit == "m")
        #expect(m[.verticalAccuracy] != nil && m[.qualityLevel] != nil)
        #expect(throws: ImportError.self) {
            try FieldMapping.decode(Data(#"{"fields": {"qualityLevel": {"from": ["q"], "unit": "m"}}}"#.utf8))
        }
    }

    @Test func importProgressCountsEveryStage() throws {
        let (r, dir) = try importRows()
        _ = r
        let path = dir.appendingPathComponent("acc.csv").path
        let source = ImportSource(path: path, format: .csv(geometryColumn: "wkt"), content: .segments, mapping: Self.accuracyMapping)
        var seen: [ImportProgress] = []
        let result = try Importer.read([source], options: ImportOptions(policy: .lenient)) { seen.append($0) }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber
        #expect(seen.first == ImportProgress(stage: .reading, completed: 0, total: size?.intValue, file: path))
        #expect(seen.contains(ImportProgress(stage: .reading, completed: size!.intValue, total: size?.intValue, file: path)))
        #expect(seen.last == ImportProgress(stage: .checking, completed: 6, total: 6))
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("p.gpkg").path)
        var written: [ImportProgress] = []
        try Importer.write(result, to: store) { written.append($0) }
        #expect(written.first?.completed == 0 && written.last?.fraction == 1)
        #expect(written.allSatisfy { $0.stage == .writing && $0.total == result.segments.count })
    }

    // MARK: Spatial references from PROJ

    @Test func spatialReferenceForAnyEPSGCode() throws {
        let vt = try SpatialReference(crs: "EPSG:32145")
        #expect(vt.srsID == 32145 && vt.organization == "EPSG" && vt.organizationCode == 32145)
        #expect(vt.name == "NAD83 / Vermont")
        #expect(vt.definition.hasPrefix(#"PROJCS["NAD83 / Vermont""#) && vt.definition.hasSuffix(#"AUTHORITY["EPSG","32145"]]"#))
        let gk = try SpatialReference(crs: "epsg:4528")
        #expect(gk.srsID == 4528 && gk.definition.contains(#"PARAMETER["false_easting",40500000]"#))
        // The built-in rows come back unchanged, so old and new stores agree.
        #expect(try SpatialReference(crs: "EPSG:4549") == .cgcs2000GK120E)
        #expect(try SpatialReference(crs: "EPSG:4326") == .wgs84)
        #expect(try SpatialReference(crs: "EPSG:32618") == .utm18N)
        // The WKT reads back as the same system.
        let again = try CoordinateSystem(vt.definition)
        #expect(try again.authorityIdentifier()?.code == "32145")
        #expect(try CoordinateSystem("EPSG:32145").wkt(.wkt2_2019).hasPrefix("PROJCRS["))
    }

    @Test func spatialReferenceRefusesSystemsWithoutACode() {
        #expect(throws: PROJError.self) { try SpatialReference(crs: "+proj=utm +zone=51 +ellps=GRS80") }
        #expect(throws: PROJError.self) { try SpatialReference(crs: "EPSG:99999") }
        #expect(throws: PROJError.self) { try SpatialReference(crs: "") }
        do {
            _ = try SpatialReference(crs: "+proj=utm +zone=51 +ellps=GRS80")
        } catch {
            #expect(error.message.contains("no authority code"))
        }
    }

    @Test func storeInANewCRSReopensInIt() throws {
        let path = storeTempDir().appendingPathComponent("vt.gpkg").path
        _ = try GeoPackageStore.create(at: path, spatialReference: try SpatialReference(crs: "EPSG:32145"))
        let s = try GeoPackageStore.open(at: path, readOnly: true)
        #expect(s.spatialReference.authorityString == "EPSG:32145")
        #expect(try s.loadAll().crs == "EPSG:32145")
    }
}
