import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

/// Issue 13 items 3 and 4: policies and mappings that fit real deliveries.
@Suite("Import: coincident traces, measured messages, null sentinels, fallbacks, nominal depth")
struct RealDeliveryImportTests {
    /// Writes `csv` to a temporary file and reads it with `mapping`.
    func read(_ csv: String, _ mapping: FieldMapping, policy: ImportPolicy = .strict) throws -> ImportResult {
        let path = storeTempDir().appendingPathComponent("rows.csv")
        try Data(csv.utf8).write(to: path)
        let source = ImportSource(path: path.path, format: .csv(geometryColumn: "wkt"), content: .segments, mapping: mapping)
        return try Importer.read([source], options: ImportOptions(policy: policy))
    }

    static let traceMapping = FieldMapping(fields: [
        "id": .field("id"), "layer": .field("layer"), "material": .field("material"), "owner": .field("owner"),
    ])

    /// A cable, its bed and its sleeve (drawn the other way) share one trace: three features.
    static let traces = """
        id,layer,wkt,material,owner
        1,DL,"LINESTRING (637000 3140000, 637010 3140000)",Cu,Grid
        2,DL,"LINESTRING (637000 3140000, 637010 3140000)",sand,Grid
        3,DL,"LINESTRING (637010 3140000, 637000 3140000)",PVC,Grid
        """

    @Test func coincidentTracesOfDifferentFeaturesAreWarningsUnderStrict() throws {
        let r = try read(Self.traces, Self.traceMapping)
        #expect(r.segments.count == 3)
        let found = r.report.issues.filter { $0.check.rawValue == "coincidentTrace" }
        #expect(found.count == 2, "\(r.report)")
        #expect(found.allSatisfy { $0.severity == .warning && $0.outcome == .kept })
        #expect(!r.report.hasErrors, "\(r.report)")
        // The message names the other record and what differs.
        #expect(found[0].message.contains("segment 1"), "\(found[0].message)")
        #expect(found[0].message.contains("material"), "\(found[0].message)")
        #expect(found[1].message.contains("reverse"), "\(found[1].message)")
    }

    @Test func genuineDuplicatesStayErrors() throws {
        // Same layer, material and owner on the same ends: the same record twice.
        let csv = Self.traces + "\n4,DL,\"LINESTRING (637000 3140000, 637010 3140000)\",Cu,Grid"
        #expect(throws: ImportError.self) { try read(csv, Self.traceMapping) }
        let r = try read(csv, Self.traceMapping, policy: .lenient)
        let dups = r.report.issues(.duplicateSegment)
        #expect(dups.count == 1)
        #expect(dups.first?.message.contains("same layer") == true, "\(dups)")
        #expect(dups.first?.message.contains("0 mm") == true, "ends measured: \(dups)")
    }

    @Test func twoFeaturesTheSourceNamesApartAreNotDuplicates() throws {
        // Two LV cables of one owner in one trench: the same attributes, the same ends, but the
        // operator's own ids differ, so they are two features (a coincident trace, kept).
        let csv = """
            id,layer,wkt,material,owner
            UKPN-LV-0042,DL,"LINESTRING (637000 3140000, 637010 3140000)",Cu,Grid
            UKPN-LV-0044,DL,"LINESTRING (637000 3140000, 637010 3140000)",Cu,Grid
            """
        let r = try read(csv, Self.traceMapping)
        #expect(r.segments.count == 2 && !r.report.hasErrors, "\(r.report)")
        let found = r.report.issues(.coincidentTrace)
        #expect(found.count == 1 && found[0].message.contains("source id (UKPN-LV-0044 vs UKPN-LV-0042)"), "\(found)")
        // The same text id twice is still refused (a duplicate identifier and a duplicate record).
        let twice = csv.replacingOccurrences(of: "UKPN-LV-0044", with: "UKPN-LV-0042")
        #expect(throws: ImportError.self) { try read(twice, Self.traceMapping) }
    }

    @Test func endsWithinTheToleranceAreReportedWithTheirDistance() throws {
        // 9 mm long: both ends snap to one node under the 50 mm tolerance.
        let csv = """
            id,layer,wkt,material,owner
            1,JS,"LINESTRING (637000 3140000, 637000.009 3140000)",,
            """
        let r = try read(csv, Self.traceMapping, policy: .lenient)
        let found = r.report.issues(.startEqualsEnd)
        #expect(found.count == 1)
        let m = found.first?.message ?? ""
        #expect(m.contains("ends 9 mm apart, within the 50 mm snapping tolerance"), "\(m)")
        #expect(!m.contains("the same point"), "\(m)")
    }

    /// A pipe shorter than the snapping tolerance is real (a stub of a few millimetres): a
    /// warning stating its length and the tolerance, kept under strict and lenient alike. A
    /// closed loop (ends together, long pipe) and a zero-length line stay errors.
    @Test func pipesShorterThanTheToleranceAreKeptWithAWarning() throws {
        let csv = """
            id,layer,wkt,material,owner
            1,JS,"LINESTRING (637000 3140000, 637000.009 3140000)",,
            2,JS,"LINESTRING (637100 3140000, 637100.02 3140000.03)",,
            3,JS,"LINESTRING (637200 3140000, 637210 3140000)",,
            """
        for policy in [ImportPolicy.strict, .lenient] {
            let r = try read(csv, Self.traceMapping, policy: policy)
            #expect(r.segments.count == 3 && r.shortSegments == 2, "\(policy): \(r.report)")
            let found = r.report.issues(.startEqualsEnd)
            #expect(found.count == 2 && found.allSatisfy { $0.severity == .warning && $0.outcome == .kept }, "\(found)")
            #expect(found.first?.message.contains("segment 1 is 9 mm long, shorter than the 50 mm snapping tolerance") == true, "\(found)")
            #expect(found.last?.message.contains("segment 2 is 36 mm long, shorter than the 50 mm snapping tolerance") == true, "\(found)")
            #expect(!r.report.hasErrors, "\(r.report)")
        }
        // A loop whose ends meet is not short: still an error, and so is a line of no length.
        let loop = """
            id,layer,wkt,material,owner
            1,JS,"LINESTRING (637000 3140000, 637010 3140000, 637010 3140010, 637000 3140000)",,
            """
        #expect(throws: ImportError.self) { try read(loop, Self.traceMapping) }
        let dot = """
            id,layer,wkt,material,owner
            1,JS,"LINESTRING (637000 3140000, 637000 3140000)",,
            """
        #expect(throws: ImportError.self) { try read(dot, Self.traceMapping) }
    }

    @Test func zeroLengthSaysWhereTheVerticesAre() throws {
        let csv = """
            id,layer,wkt,material,owner
            1,JS,"LINESTRING (637000 3140000, 637000 3140000)",,
            """
        let r = try read(csv, Self.traceMapping, policy: .lenient)
        let m = r.report.issues(.zeroLength).first?.message ?? ""
        #expect(m.contains("all 2 vertices at (637000.000, 3140000.000)"), "\(m)")
    }

    // MARK: Mappings

    static let dutchMapping = Data(#"""
        {
          "name": "IMKL gas",
          "defaultAccuracy": { "horizontalM": 1.0 },
          "fields": {
            "id": { "from": ["id"] },
            "layer": { "constant": "RQ" },
            "pressure": { "from": ["druk"], "unit": "bar", "null": ["0", "-1"],
                          "fallback": { "from": ["thema"], "unit": "bar",
                                        "map": { "gasHogeDruk": "8", "gasLageDruk": "0.1" } } },
            "nominalDepth": { "from": ["diepte"] },
            "horizontalAccuracy": { "from": ["nauwkeurigheid"] }
          }
        }
        """#.utf8)

    static let dutchRows = """
        id,wkt,druk,thema,diepte,nauwkeurigheid
        1,"LINESTRING (637000 3140000, 637010 3140000)",0,gasHogeDruk,0.8,
        2,"LINESTRING (637000 3140010, 637010 3140010)",0,,0.6,0.3
        3,"LINESTRING (637000 3140020, 637010 3140020)",0.1,gasHogeDruk,,
        4,"LINESTRING (637000 3140030, 637010 3140030)",-1,onbekend,,
        """

    @Test func nullSentinelsFallbacksNominalDepthAndDefaultAccuracy() throws {
        let m = try FieldMapping.decode(Self.dutchMapping)
        let r = try read(Self.dutchRows, m, policy: .lenient)
        let byID = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.id, $0) })
        // 0 means unknown; the theme says high pressure: 8 bar = 0.8 MPa.
        #expect(byID[1]?.gasPressureMPa.map { abs($0 - 0.8) < 1e-12 } == true, "\(String(describing: byID[1]?.gasPressureMPa))")
        // 0 and no theme: unknown, not 0 MPa.
        #expect(byID[2]?.gasPressureMPa == nil)
        // A stated value is used as is: 0.1 bar.
        #expect(byID[3]?.gasPressureMPa.map { abs($0 - 0.01) < 1e-12 } == true)
        // -1 is a sentinel too; the theme is not in the fallback's map: unknown, reported.
        #expect(byID[4]?.gasPressureMPa == nil)
        let unknown = r.report.issues.filter { $0.check.rawValue == "unknownValue" }
        #expect(unknown.count == 3, "one warning per sentinel: \(r.report)")
        #expect(unknown.allSatisfy { $0.severity == .warning })
        // Nominal depth is not a surveyed depth.
        #expect(byID[1]?.startDepth == nil && byID[1]?.endDepth == nil)
        #expect(byID[1]?.nominalDepth == 0.8)
        #expect(byID[2]?.nominalDepth == 0.6)
        // No stated accuracy: the mapping's default, not exact.
        #expect(byID[1]?.accuracy == PositionalAccuracy(horizontalM: 1.0))
        #expect(byID[2]?.accuracy == PositionalAccuracy(horizontalM: 0.3))
    }

    /// A gas pressure of exactly 0 without a `null` sentinel is no operating pressure: refused
    /// like voltage 0 (never read as 0 MPa, "low"), and the message says how to map it.
    @Test func gasPressureZeroWithoutASentinelIsRefusedNotLow() throws {
        let rows = """
            id,wkt,druk
            G1,"LINESTRING (637000 3140000, 637010 3140000)",0
            G2,"LINESTRING (637000 3140010, 637010 3140010)",0.0
            G3,"LINESTRING (637000 3140020, 637010 3140020)",0.1
            """
        let bare = try FieldMapping.decode(Data(#"""
            {"fields": {"id": {"from": ["id"]}, "layer": {"constant": "RQ"}, "pressure": {"from": ["druk"], "unit": "bar"}}}
            """#.utf8))
        do {
            _ = try read(rows, bare)
            Issue.record("strict accepted gas pressure 0")
        } catch let e as ImportError {
            #expect("\(e)".contains("gas pressure 0 is not an operating pressure"), "\(e)")
        }
        let r = try read(rows, bare, policy: .lenient)
        let byID = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.sourceID ?? "", $0) })
        #expect(r.segments.count == 3)
        #expect(byID["G1"]?.gasPressureMPa == nil && byID["G2"]?.gasPressureMPa == nil)
        #expect(byID["G3"]?.gasPressureMPa.map { abs($0 - 0.01) < 1e-12 } == true)
        let refused = r.report.issues(.badValue).filter { $0.location.field == "druk" }
        #expect(refused.count == 2, "\(r.report)")
        // Each names its record and says how to map a 0 that means unknown.
        #expect(Set(refused.compactMap(\.location.index)) == [2, 3], "\(refused.map(\.location))")
        #expect(refused.allSatisfy { $0.message.contains(#"add "null": ["0"] to the mapping's pressure rule"#) }, "\(refused)")
        // With the sentinel the same rows import under strict, pressure unknown, with a warning.
        let mapped = try FieldMapping.decode(Data(#"""
            {"fields": {"id": {"from": ["id"]}, "layer": {"constant": "RQ"}, "pressure": {"from": ["druk"], "unit": "bar", "null": ["0"]}}}
            """#.utf8))
        let ok = try read(rows, mapped)
        #expect(ok.segments.filter { $0.gasPressureMPa == nil }.count == 2)
        #expect(ok.report.issues(.unknownValue).count == 2)
        #expect(!ok.report.hasErrors)
    }

    /// A mapping's `defaultAccuracy` is assumed, not stated: the segments say so, and the flag
    /// survives the store (an older store without the column reads it as stated).
    @Test func defaultAccuracyIsMarkedAssumedAndKeptByTheStore() throws {
        let m = try FieldMapping.decode(Self.dutchMapping)
        let r = try read(Self.dutchRows, m, policy: .lenient)
        let byID = Dictionary(uniqueKeysWithValues: r.segments.map { ($0.id, $0) })
        #expect(byID[1]?.accuracyAssumed == true && byID[3]?.accuracyAssumed == true)
        #expect(byID[2]?.accuracyAssumed == false, "0.3 m is the record's own")
        let path = storeTempDir().appendingPathComponent("assumed.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try store.apply(StoreEdit(upsertSegments: r.segments))
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        #expect(back.segments.filter(\.accuracyAssumed).map(\.id).sorted() == [1, 3, 4])
        #expect(back.segment(id: 1)?.accuracy == PositionalAccuracy(horizontalM: 1.0))
        // JSON keeps it too, and a segment without the key decodes as stated.
        let json = try JSONEncoder().encode(byID[1]!)
        #expect(String(decoding: json, as: UTF8.self).contains("\"accuracyAssumed\":true"))
        #expect(try JSONDecoder().decode(PipeSegment.self, from: json).accuracyAssumed)
        #expect(!String(decoding: try JSONEncoder().encode(byID[2]!), as: UTF8.self).contains("accuracyAssumed"))
        // An assumed flag without an accuracy is refused.
        var bad = byID[2]!
        bad.accuracy = nil
        bad.accuracyAssumed = true
        #expect(throws: ModelError.self) { try bad.validate() }
    }

    /// A CAD drawing's frame and text layers are no utility data: `ignoreLayers` skips them
    /// without counting them as dropped, so strict accepts the drawing; an unlisted unknown
    /// layer is still an error.
    @Test func ignoredLayersAreSkippedNotDropped() throws {
        let m = try FieldMapping.decode(Data(#"""
            {"ignoreLayers": ["图框", " text "],
             "fields": {"layer": {"from": ["Layer"], "map": {"燃气管线": "RQ"}}}}
            """#.utf8))
        let rows = """
            Layer,wkt
            燃气管线,"LINESTRING (637000 3140000, 637010 3140000)"
            图框,"LINESTRING (636990 3139990, 637020 3139990)"
            图框,"LINESTRING (637020 3139990, 637020 3140010)"
            TEXT,"LINESTRING (637000 3140005, 637001 3140005)"
            """
        func read(_ csv: String, _ policy: ImportPolicy, share: Double? = nil) throws -> ImportResult {
            let path = storeTempDir().appendingPathComponent("cad.csv")
            try Data(csv.utf8).write(to: path)
            var o = ImportOptions(policy: policy)
            o.maxDroppedShare = share
            return try Importer.read(
                [ImportSource(path: path.path, format: .csv(geometryColumn: "wkt"), content: .segments, mapping: m)], options: o)
        }
        let r = try read(rows, .strict, share: 0)
        #expect(r.segments.count == 1 && r.recordsRead == 4, "\(r.report)")
        #expect(r.ignoredLayers == ["图框": 2, "text": 1] && r.ignoredRecords == 3)
        #expect(r.report.issues.isEmpty, "\(r.report)")
        #expect(Importer.refusal(r, maxDroppedShare: 0) == nil)
        // A layer neither mapped nor ignored is still refused under strict.
        #expect(throws: ImportError.self) { try read(rows + "\n杂项,\"LINESTRING (637000 3140020, 637010 3140020)\"", .strict) }
        // Nothing but ignored layers: nothing to import, said so.
        let frames = "Layer,wkt\n图框,\"LINESTRING (636990 3139990, 637020 3139990)\""
        do {
            _ = try read(frames, .lenient, share: 0.05)
            Issue.record("an import of frames only was accepted")
        } catch let error as ImportError {
            #expect(error.message.contains("all 1 records are on ignored layers (图框)"), "\(error.message)")
        }
        // A list without a layer field to compare is refused when the mapping is read.
        #expect(throws: ImportError.self) {
            try FieldMapping.decode(Data(#"{"ignoreLayers": ["图框"], "fields": {"layer": {"constant": "RQ"}}}"#.utf8))
        }
    }

    @Test func unknownUnitsNameTheAcceptedOnes() throws {
        let bad = Data(#"{"fields": {"layer": {"constant": "JS"}, "startDepth": {"from": ["d"], "unit": "yd"}}}"#.utf8)
        do {
            _ = try FieldMapping.decode(bad)
            Issue.record("yd accepted")
        } catch {
            #expect(error.message.contains("accepted: mm, cm, dm, m, in, ft"), "\(error)")
        }
        let badPressure = Data(#"{"fields": {"layer": {"constant": "RQ"}, "pressure": {"from": ["p"], "unit": "atm"}}}"#.utf8)
        #expect(throws: ImportError.self) { try FieldMapping.decode(badPressure) }
        do { _ = try FieldMapping.decode(badPressure) } catch {
            #expect(error.message.contains("accepted: MPa, kPa, Pa, bar, mbar, psi"), "\(error)")
        }
    }


    @Test func nominalDepthRoundTripsThroughTheStore() throws {
        let m = try FieldMapping.decode(Self.dutchMapping)
        let r = try read(Self.dutchRows, m, policy: .lenient)
        let path = storeTempDir().appendingPathComponent("nominal.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try Importer.write(r, to: store)
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        for s in r.segments { #expect(back.segment(id: s.id)?.nominalDepth == s.nominalDepth, "segment \(s.id)") }
    }

    @Test func importsDroppingTooMuchAreRefused() throws {
        // One record of three has no layer: a third dropped, more than 5 %.
        let csv = """
            id,layer,wkt,material,owner
            1,JS,"LINESTRING (637000 3140000, 637010 3140000)",,
            2,,"LINESTRING (637000 3140010, 637010 3140010)",,
            3,JS,"LINESTRING (637000 3140020, 637010 3140020)",,
            """
        let path = storeTempDir().appendingPathComponent("drop.csv")
        try Data(csv.utf8).write(to: path)
        let source = ImportSource(path: path.path, format: .csv(geometryColumn: "wkt"), content: .segments, mapping: Self.traceMapping)
        var o = ImportOptions(policy: .lenient)
        o.maxDroppedShare = 0.05
        do {
            _ = try Importer.read([source], options: o)
            Issue.record("a third dropped was accepted")
        } catch {
            #expect(error.message.contains("1 of 3 records dropped (33.3 %)"), "\(error.message)")
            #expect(error.message.contains("more than the 5 % allowed"), "\(error.message)")
        }
        o.maxDroppedShare = 0.5
        #expect(try Importer.read([source], options: o).segments.count == 2)
    }
}

@Suite("Store: stores written before nominal depth")
struct OldStoreColumnTests {
    @Test func aStoreWithoutTheAddedColumnsOpensReadsAndGainsThemOnWrite() throws {
        let path = storeTempDir().appendingPathComponent("old.gpkg").path
        _ = try GeoPackageStore.create(at: path)
        // Make it an older store: the same schema without nominal_depth.
        do {
            let db = try Database(path: path, mode: .readWrite)
            try db.execute("ALTER TABLE subterra_segments DROP COLUMN nominal_depth")
        }
        let seg = PipeSegment(id: 7, layer: .water, startPoint: "A", endPoint: "B",
                              geometry: try LineString([Point(637000, 3140000), Point(637010, 3140000)]), nominalDepth: 0.9)
        let old = try GeoPackageStore.open(at: path)
        #expect(try old.loadAll().segments.isEmpty)
        try old.apply(StoreEdit(upsertSegments: [seg]))
        #expect(try old.loadAll().segment(id: 7)?.nominalDepth == 0.9)
        #expect(try GeoPackageStore.open(at: path, readOnly: true).loadAll().segment(id: 7)?.nominalDepth == 0.9)
    }

    @Test func aStoreWithoutTheAssumedAccuracyColumnReadsAccuraciesAsStated() throws {
        let path = storeTempDir().appendingPathComponent("old-accuracy.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        let seg = PipeSegment(id: 7, layer: .water, startPoint: "A", endPoint: "B",
                              geometry: try LineString([Point(637000, 3140000), Point(637010, 3140000)]),
                              accuracy: PositionalAccuracy(horizontalM: 0.5), accuracyAssumed: true)
        try store.apply(StoreEdit(upsertSegments: [seg]))
        do {
            let db = try Database(path: path, mode: .readWrite)
            try db.execute("ALTER TABLE subterra_segments DROP COLUMN accuracy_assumed")
        }
        let old = try GeoPackageStore.open(at: path)
        #expect(try old.loadAll().segment(id: 7)?.accuracyAssumed == false)
        try old.apply(StoreEdit(upsertSegments: [seg]))
        #expect(try GeoPackageStore.open(at: path, readOnly: true).loadAll().segment(id: 7)?.accuracyAssumed == true)
    }
}
