import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing
@testable import SubterraModel

private func write(_ text: String, _ name: String, in dir: URL) throws -> String {
    let u = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: u)
    return u.path
}

@Suite("Import: CJJ 61 survey tables and CSV with WKT")
struct ImportSurveyTests {
    static let pointTable = """
        点号,管线类别,特征,附属物,X,Y,地面高程,埋深
        JS1,JS,,阀门,3379503.000,501548.000,5.20,1.10
        JS2,JS,弯头,,3379503.000,501578.000,5.25,1.20
        JS3,JS,三通,,3379533.000,501578.000,5.30,1.30
        JS4,JS,,消防栓,3379533.000,501608.000,5.10,
        JS5,JS,盖堵,,3379533.000,501608.000,5.10,1.0
        PS1,PS,,检查井,3379400.000,501500.000,5.0,2.5
        PS2,PS,,检查井,3379400.000,501540.000,5.0,2.6
        XX9,ZZ,,检查井,3379300.000,501500.000,5.0,2.6
        JS6,JS,弯头,,abc,501700.000,5.0,1.0
        JS1,JS,弯头,,3379000.000,501000.000,5.0,1.0
        """

    static let segmentTable = """
        起点号,终点号,管线类别,管线小类,起点埋深,终点埋深,管径,材质,压力
        JS1,JS2,JS,JP,1.10,1.20,DN300,PE,
        JS2,JS3,JS,JP,1.25,1.30,DN300,PE,
        JS3,JS2,JS,JP,1.30,1.20,DN300,PE,
        JS2,JS3,JS,JP,1.20,1.30,DN300,PE,
        JS3,JS3,JS,JP,1.30,1.30,DN300,PE,
        JS4,JS5,JS,JP,1.0,1.0,DN200,PE,
        PS1,PS2,PS,WS,2.5,-0.4,800x600,RC,
        PS1,PS9,PS,WS,2.5,2.6,DN400,RC,
        JS1,JS3,JS,JP,1.1,25,DNabc,PE,9
        """

    func importTables(policy: ImportPolicy) throws -> (ImportResult?, ImportError?, String) {
        let dir = storeTempDir()
        let pts = try write(Self.pointTable, "points.csv", in: dir)
        let segs = try write(Self.segmentTable, "segments.csv", in: dir)
        let sources = [
            ImportSource(path: segs, format: .csv(geometryColumn: nil), content: .segments,
                         mapping: try mapping("cjj61-survey-segments.json")),
            ImportSource(path: pts, format: .csv(geometryColumn: nil), content: .points,
                         mapping: try mapping("cjj61-survey-points.json")),
        ]
        do {
            return (try Importer.read(sources, options: ImportOptions(policy: policy)), nil, dir.path)
        } catch {
            return (nil, error, dir.path)
        }
    }

    @Test("X is northing, Y is easting; segments run between their points")
    func axesAndGeometry() throws {
        let (r, _, dir) = try importTables(policy: .lenient)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try #require(r)
        let js1 = try #require(result.points.first { $0.number == "JS1" })
        #expect(js1.position.x == 501548 && js1.position.y == 3379503)
        #expect(js1.kind == .valve && js1.category == .appurtenance)
        #expect(result.points.first { $0.number == "JS2" }?.kind == .bend)
        let s = try #require(result.segments.first { $0.startPoint == "JS1" && $0.endPoint == "JS2" })
        #expect(s.geometry.points.map(\.x) == [501548, 501578])
        #expect(s.section == .circular(diameterMM: 300))
        #expect(s.subtype == .distribution)
    }

    @Test("every defect is reported with file, line and field")
    func defects() throws {
        let (r, _, dir) = try importTables(policy: .lenient)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let result = try #require(r)
        let rep = result.report
        func has(_ c: QualityCheck, line: Int, field: String, file: String) -> Bool {
            rep.issues.contains { $0.check == c && $0.location.index == line && $0.location.field == field && $0.location.file.hasSuffix(file) }
        }
        // Point table (line 1 is the header).
        #expect(has(.unknownLayer, line: 9, field: "管线类别", file: "points.csv"))
        #expect(has(.missingField, line: 10, field: "X", file: "points.csv"))
        #expect(has(.badValue, line: 10, field: "X", file: "points.csv"))
        #expect(has(.duplicateIdentifier, line: 11, field: "点号", file: "points.csv"))
        // Segment table.
        #expect(has(.inconsistentPointDepth, line: 3, field: "起点埋深", file: "segments.csv")) // JS2 1.25 vs 1.20
        #expect(has(.reversedSegment, line: 4, field: "起点号", file: "segments.csv"))
        #expect(has(.duplicateSegment, line: 5, field: "起点号", file: "segments.csv"))
        #expect(has(.startEqualsEnd, line: 6, field: "终点号", file: "segments.csv"))
        #expect(has(.zeroLength, line: 6, field: "起点号", file: "segments.csv"))
        #expect(has(.zeroLength, line: 7, field: "起点号", file: "segments.csv")) // JS4 and JS5 coincide
        #expect(has(.depthOutOfRange, line: 8, field: "终点埋深", file: "segments.csv"))
        #expect(has(.unknownPoint, line: 9, field: "终点号", file: "segments.csv"))
        #expect(has(.depthOutOfRange, line: 10, field: "终点埋深", file: "segments.csv")) // 25 m: implausible, kept
        #expect(has(.badValue, line: 10, field: "管径", file: "segments.csv"))
        #expect(has(.badValue, line: 10, field: "压力", file: "segments.csv"))
        // Lenient: representable errors kept as warnings; unrepresentable ones dropped as errors.
        #expect(rep.issues.allSatisfy { $0.outcome == .dropped ? $0.severity == .error : $0.severity == .warning })
        #expect(result.points.count == 8) // JS6 (bad X) and the second JS1 dropped; XX9 (layer ZZ) kept
        #expect(result.segments.count == 8) // PS1-PS9 dropped: no point to run to
        let ps = try #require(result.segments.first { $0.startPoint == "PS1" && $0.endPoint == "PS2" })
        #expect(ps.endDepth == nil && ps.startDepth == 2.5) // -0.4 m not representable: value dropped
        let deep = try #require(result.segments.first { $0.startPoint == "JS1" && $0.endPoint == "JS3" })
        #expect(deep.endDepth == 25 && deep.section == nil && deep.gasPressureMPa == nil)
    }

    @Test("ground elevation = top elevation + depth is checked at each end")
    func groundElevation() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pts = try write("""
            点号,管线类别,特征,X,Y,地面高程
            A,JS,弯头,3379000,501000,5.00
            B,JS,弯头,3379000,501010,5.00
            """, "p.csv", in: dir)
        let segs = try write("""
            起点号,终点号,管线类别,起点埋深,终点埋深,起点管顶高程,终点管顶高程,高程类型,管径
            A,B,JS,1.00,1.00,4.00,3.80,管顶,DN200
            A,B,JS,1.00,1.00,3.70,3.80,管底,DN300
            """, "s.csv", in: dir)
        let r = try Importer.read([
            ImportSource(path: pts, format: .csv(geometryColumn: nil), content: .points, mapping: try mapping("cjj61-survey-points.json")),
            ImportSource(path: segs, format: .csv(geometryColumn: nil), content: .segments, mapping: try mapping("cjj61-survey-segments.json")),
        ], options: ImportOptions(policy: .lenient))
        let found = r.report.issues(.inconsistentPointDepth).filter { $0.message.contains("ground elevation") }
            .map { "\($0.location.index!):\($0.location.field!)" }
        // Line 2: start 4.00 + 1.00 = 5.00 (ok), end 3.80 + 1.00 = 4.80 (off by 0.2).
        // Line 3: bottom 3.70 + DN300 = top 4.00, + 1.00 = 5.00 (ok); end 3.80 + 0.3 + 1.00 = 5.10 (off).
        #expect(found == ["2:终点埋深", "3:终点埋深"])
    }

    @Test("survey X/Y in another CRS are transformed: EPSG:4549 → EPSG:4528 adds the zone prefix 40")
    func surveyXYTransform() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let pts = try write("点号,管线类别,特征,X,Y\nA,JS,弯头,3379503.000,501548.000\n", "p.csv", in: dir)
        let r = try Importer.read(
            [ImportSource(path: pts, format: .csv(geometryColumn: nil), content: .points, mapping: try mapping("cjj61-survey-points.json"))],
            options: ImportOptions(targetCRS: "EPSG:4528", sourceCRS: "EPSG:4549"))
        let p = try #require(r.points.first).position
        #expect(abs(p.x - 40_501_548) < 1e-6 && abs(p.y - 3_379_503) < 1e-6)
    }

    @Test("strict rejects the whole import and says why")
    func strict() throws {
        let (r, e, dir) = try importTables(policy: .strict)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(r == nil)
        let err = try #require(e)
        #expect(err.report?.hasErrors == true)
        #expect(err.description.contains("segments.csv line"))
    }

    @Test("CSV with a WKT column: quoted cells, Z, bad WKT, NaN, missing layer, unit conversion")
    func csvWKT() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = """
            id,layer,geom,dia_cm,depth_a,depth_b,note
            1,RQ,"LINESTRING (501000 3379000, 501010 3379000)",20,0.9,1.0,"a ""quoted"", multi
            line note"
            2,RQ,"LINESTRING Z (501010 3379000 4, 501020 3379000 4)",20,1.0,1.1,
            3,RQ,"LINESTRING (501020 3379000, 501030",20,1.1,1.2,
            4,,"LINESTRING (501030 3379000, 501040 3379000)",20,1.2,1.3,
            5,RQ,"POINT (1 2)",20,1,1,
            6,RQ,"LINESTRING (501040 3379000, nan 3379000)",20,1,1,
            1,RQ,"LINESTRING (501050 3379000, 501060 3379000)",20,1,1,
            """
        let path = try write(csv, "gas.csv", in: dir)
        let m = FieldMapping(fields: [
            "id": .field("id"), "layer": .field("layer"), "diameter": FieldMapping.Rule(from: ["dia_cm"], unit: "cm"),
            "startDepth": .field("depth_a"), "endDepth": .field("depth_b"),
        ])
        let r = try Importer.read([ImportSource(path: path, format: .csv(geometryColumn: "geom"), content: .segments, mapping: m)],
                                  options: ImportOptions(policy: .lenient))
        #expect(r.segments.map(\.id) == [1, 2])
        #expect(r.segments[0].section == .circular(diameterMM: 200))
        #expect(r.segments[1].geometry.points[0].z == 4)
        let lines = Dictionary(grouping: r.report.dropped, by: { $0.location.index! })
        // Record 1's note spans lines 2–3, so record 2 starts on line 4.
        #expect(lines[5]?.first?.check == .invalidGeometry) // truncated WKT
        #expect(lines[6]?.first?.check == .missingField)
        #expect(lines[7]?.first?.check == .invalidGeometry) // a point is not a segment
        #expect(lines[8]?.first?.check == .invalidGeometry) // NaN coordinate
        #expect(lines[9]?.first?.check == .duplicateIdentifier)
        #expect(r.report.dropped.count == 5)

        // EWKT SRIDs are honoured per record.
        let ewkt = """
            id,layer,geom
            1,DL,"SRID=4490;LINESTRING (121.37 28.37, 121.371 28.37)"
            2,DL,"LINESTRING (634299.74 3140209.08, 634397.78 3140210.19)"
            3,DL,"SRID=999999;LINESTRING (1 2, 3 4)"
            """
        let ep = try write(ewkt, "ewkt.csv", in: dir)
        let r2 = try Importer.read([ImportSource(path: ep, format: .csv(geometryColumn: "geom"), content: .segments,
                                                 mapping: FieldMapping(fields: ["id": .field("id"), "layer": .field("layer")]))],
                                   options: ImportOptions(policy: .lenient))
        #expect(r2.segments.count == 2)
        if r2.segments.count == 2 {
            let a = r2.segments[0].geometry.points[0], b = r2.segments[1].geometry.points[0]
            #expect(abs(a.x - b.x) < 0.01 && abs(a.y - b.y) < 0.01)
        }
        #expect(r2.report.dropped.first?.location.index == 4)
    }

    @Test("a missing or unreadable file, and a broken mapping, give clear errors")
    func badInputs() throws {
        let e1 = #expect(throws: ImportError.self) {
            try Importer.read([ImportSource(path: "/nonexistent/x.geojson", format: .geoJSON, content: .segments,
                                            mapping: FieldMapping(fields: ["layer": .constant("PS")]))], options: ImportOptions())
        }
        #expect(e1?.description.contains("/nonexistent/x.geojson") == true)
        let e2 = #expect(throws: ImportError.self) {
            try FieldMapping.decode(Data(#"{"fields": {"diameterr": {"from": ["D"]}}}"#.utf8), file: "m.json")
        }
        #expect(e2?.field == "diameterr")
        let e3 = #expect(throws: ImportError.self) {
            try FieldMapping.decode(Data(#"{"fields": {"diameter": {"from": ["D"], "unit": "furlong"}}}"#.utf8), file: "m.json")
        }
        #expect(e3?.message.contains("furlong") == true)
        let e4 = #expect(throws: ImportError.self) { try FieldMapping.decode(Data("{".utf8), file: "m.json") }
        #expect(e4?.file == "m.json")
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let bad = try write(#"{"type": "FeatureCollection", "features": [ {"type": "Feature", "geometry": "#, "bad.geojson", in: dir)
        let e5 = #expect(throws: ImportError.self) {
            try Importer.read([ImportSource(path: bad, format: .geoJSON, content: .segments,
                                            mapping: FieldMapping(fields: ["layer": .constant("PS")]))], options: ImportOptions())
        }
        #expect(e5?.description.contains("bad.geojson") == true)
        let unterminated = try write("a,b\n1,\"open", "q.csv", in: dir)
        let e6 = #expect(throws: ImportError.self) {
            try Importer.read([ImportSource(path: unterminated, format: .csv(geometryColumn: nil), content: .points,
                                            mapping: FieldMapping(fields: ["layer": .constant("PS")]))], options: ImportOptions())
        }
        #expect(e6?.record == 2)
    }

    @Test("GeoJSON with a crs member is transformed from it; the caller can override")
    func geoJSONCRS() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        // EPSG:4490 (CGCS2000 geographic) near Wenling, declared in the file.
        let gj = """
            {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4490"}},
             "features":[{"type":"Feature","properties":{"L":"DL"},"geometry":{"type":"LineString","coordinates":[[121.37,28.37],[121.371,28.37]]}}]}
            """
        let path = try write(gj, "power.geojson", in: dir)
        let m = FieldMapping(fields: ["layer": .field("L")])
        let r = try Importer.read([ImportSource(path: path, format: .geoJSON, content: .segments, mapping: m)], options: ImportOptions(policy: .lenient))
        let p = r.segments[0].geometry.points[0]
        // Oracle: PROJ through SubterraPROJ's transformer directly.
        let want = try Transformer(from: "EPSG:4490", to: "EPSG:4549").transform(Point(121.37, 28.37))
        #expect(abs(p.x - want.x) < 1e-6 && abs(p.y - want.y) < 1e-6)
        #expect(p.x > 630_000 && p.y > 3_130_000) // easting, northing
        // Without the member and without a caller CRS, RFC 7946 lon/lat applies; with one, it wins.
        let r2 = try Importer.read([ImportSource(path: path, format: .geoJSON, content: .segments, mapping: m)],
                                   options: ImportOptions(policy: .lenient, sourceCRS: "EPSG:4549"))
        // The caller's CRS is taken as given: (121.37, 28.37) m in EPSG:4549 lies outside its area
        // of use (degrees read as metres), so the record is dropped, never imported.
        #expect(r2.segments.isEmpty)
        #expect(r2.report.dropped.contains { $0.message.contains("vertex 0 (121.37, 28.37) is outside the area of use of EPSG:4549") })
    }
}
