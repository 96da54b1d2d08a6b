import Foundation
import SubterraGeometry
import SubterraModel
import Testing
import CGDAL

@testable import SubterraGDAL

/// The fixtures of scripts/make-gdal-fixtures.sh, written once per test run into a temporary
/// directory with ogr2ogr (scripts/install-deps.sh installs gdal-bin).
enum Fixtures {
    struct Missing: Error, CustomStringConvertible { var description: String }

    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    private static let made: Result<URL, Missing> = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-gdal-\(UUID().uuidString)")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = [repo.appendingPathComponent("scripts/make-gdal-fixtures.sh").path, dir.path]
        p.currentDirectoryURL = repo
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        do { try p.run() } catch { return .failure(Missing(description: "cannot run make-gdal-fixtures.sh: \(error)")) }
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            return .failure(Missing(description: "make-gdal-fixtures.sh failed (is gdal-bin installed?): \(message)"))
        }
        return .success(dir)
    }()

    static func dir() throws -> URL { try made.get() }
    static func path(_ name: String) throws -> String { try dir().appendingPathComponent(name).path }

    static let segmentMapping = FieldMapping(
        name: "fixture segments",
        fields: [
            "id": .field("id"), "layer": .field("layer"), "subtype": .field("subtype"),
            "startPoint": .field("start_pt"), "endPoint": .field("end_pt"),
            "startDepth": .field("s_depth"), "endDepth": .field("e_depth"),
            "startElevation": .field("s_elev"), "endElevation": .field("e_elev"),
            "elevationReference": FieldMapping.Rule(from: ["elev_ref"], default: "top"),
            "section": .field("section"), "material": .field("material"), "burial": .field("burial"),
            "pressure": .field("press_mpa"), "owner": .field("owner"), "road": .field("road"),
            "layingDate": .field("laid"), "status": .field("status"),
            "horizontalAccuracy": FieldMapping.Rule(from: ["acc_m"], unit: "m"),
            "verticalAccuracy": FieldMapping.Rule(from: ["acc_v_m"], unit: "m"),
            "qualityLevel": .field("q_level"),
        ])

    static let pointMapping = FieldMapping(
        name: "fixture points",
        fields: [
            "pointNumber": .field("point_no"), "layer": .field("layer"), "category": .field("category"),
            "kind": .field("kind"), "groundElevation": .field("gnd_elev"), "depth": .field("depth"),
            "owner": .field("owner"), "road": .field("road"), "status": .field("status"),
        ])

    static func mapping(_ name: String) throws -> FieldMapping {
        try FieldMapping.load(contentsOf: repo.appendingPathComponent("Datasets/mappings/\(name)"))
    }

    /// Imports `sources` into a new store in EPSG:4549 under the strict policy and loads it back.
    static func store(_ sources: [ImportSource]) throws -> UtilityNetwork {
        let path = try dir().appendingPathComponent("store-\(UUID().uuidString).gpkg").path
        let store = try GeoPackageStore.create(at: path, spatialReference: SpatialReference(crs: "EPSG:4549"))
        try Importer.run(sources, into: store, options: ImportOptions(policy: .strict))
        return try store.loadAll()
    }

    /// The store every format must reproduce: the reference GeoJSON through the native reader.
    static let reference: Result<UtilityNetwork, Missing> = {
        do {
            return .success(try store([
                ImportSource(path: try path("reference-points.geojson"), format: .geoJSON, content: .points, mapping: pointMapping),
                ImportSource(path: try path("reference-segments.geojson"), format: .geoJSON, content: .segments, mapping: segmentMapping),
            ]))
        } catch { return .failure(Missing(description: "reference import failed: \(error)")) }
    }()

    /// Points and segments of one format read through GDAL.
    static func gdalStore(points: String, segments: String, encoding: String? = nil) throws -> UtilityNetwork {
        try store([
            GDALReader.source(path: try path(points), content: .points, mapping: pointMapping, encoding: encoding),
            GDALReader.source(path: try path(segments), content: .segments, mapping: segmentMapping, encoding: encoding),
        ])
    }
}

/// The fields (by label) where `a` and `b` differ, as `label: a ≠ b`.
func fieldDifferences<T>(_ a: T, _ b: T, skip: Set<String> = []) -> [String] {
    zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children).compactMap { x, y in
        let label = x.label ?? "?"
        if skip.contains(label) { return nil }
        let (sx, sy) = (String(describing: x.value), String(describing: y.value))
        return sx == sy ? nil : "\(label): \(sx) ≠ \(sy)"
    }
}

/// Largest vertex distance between two lines of the same vertex count (infinity otherwise).
func vertexDistance(_ a: LineString, _ b: LineString) -> Double {
    guard a.points.count == b.points.count else { return .infinity }
    return zip(a.points, b.points).map { (($0.x - $1.x) * ($0.x - $1.x) + ($0.y - $1.y) * ($0.y - $1.y)).squareRoot() }.max() ?? 0
}

/// Asserts `got` equals `want` segment by segment and point by point, field by field; geometry
/// within `tolerance` metres per vertex when `tolerance` > 0 (KML stores WGS84 degrees).
func expectSameStore(_ got: UtilityNetwork, _ want: UtilityNetwork, _ label: String, tolerance: Double = 0) {
    expectSameRecords(got.segments, want.segments, "\(label): segment", key: \.id, geometry: "geometry", tolerance: tolerance) {
        vertexDistance($0.geometry, $1.geometry)
    }
    expectSameRecords(got.points, want.points, "\(label): point", key: \.number, geometry: "position", tolerance: tolerance) {
        let (dx, dy) = ($0.position.x - $1.position.x, $0.position.y - $1.position.y)
        return (dx * dx + dy * dy).squareRoot()
    }
}

/// Pairs `got` with `want` by `key` and reports the first differing records field by field; the
/// `geometry` field is compared by `distance` within `tolerance` when `tolerance` > 0.
func expectSameRecords<T, K: Hashable & CustomStringConvertible>(
    _ got: [T], _ want: [T], _ label: String, key: KeyPath<T, K>, geometry: String, tolerance: Double,
    distance: (T, T) -> Double
) {
    #expect(got.count == want.count, "\(label) count")
    let wanted = Dictionary(uniqueKeysWithValues: want.map { ($0[keyPath: key], $0) })
    var reported = 0
    for g in got {
        let k = g[keyPath: key]
        guard let w = wanted[k] else {
            Issue.record("\(label) \(k) is not in the reference")
            continue
        }
        // Each format's features name their own file: the one field that must differ.
        var skip: Set<String> = ["sourceFile"]
        if tolerance > 0 {
            skip.insert(geometry)
            #expect(distance(g, w) <= tolerance, "\(label) \(k) \(geometry)")
        }
        let d = fieldDifferences(g, w, skip: skip)
        if !d.isEmpty, reported < 5 {
            reported += 1
            Issue.record("\(label) \(k) differs: \(d.joined(separator: "; "))")
        }
    }
}

@Suite("GDAL: every contractor format imports the same store as GeoJSON")
struct GDALRoundTripTests {
    @Test("the reference store holds the heat and gas networks with Chinese owner names")
    func reference() throws {
        let ref = try Fixtures.reference.get()
        #expect(ref.segments.count > 400)
        #expect(ref.points.count > 400)
        #expect(Set(ref.segments.compactMap(\.owner)) == ["温岭市天然气有限公司", "温岭东部工业蒸汽供热有限公司"])
        #expect(ref.segments.contains { $0.road == "万昌路" })
    }

    /// One delivery format: its point and segment files, and how close its coordinates must be.
    struct Format: Sendable, CustomTestStringConvertible {
        var label: String
        var points: String
        var segments: String
        /// Metres per vertex; 0 = exact (all but KML, which stores WGS84 degrees).
        var tolerance: Double = 0
        var testDescription: String { label }
    }

    static let formats: [Format] = [
        Format(label: "Shapefile, UTF-8 DBF with .cpg", points: "utf8/points.shp", segments: "utf8/segments.shp"),
        Format(label: "Shapefile, UTF-8 DBF without .cpg, LDID 0 (detected as UTF-8)",
               points: "utf8-bare/points.shp", segments: "utf8-bare/segments.shp"),
        Format(label: "Shapefile, CP936 DBF with .cpg", points: "cp936/points.shp", segments: "cp936/segments.shp"),
        Format(label: "Shapefile, CP936 DBF without .cpg, LDID 0 (detected as GBK)",
               points: "cp936-bare/points.shp", segments: "cp936-bare/segments.shp"),
        Format(label: "GML 3.2", points: "points.gml", segments: "segments.gml"),
        Format(label: "KML, through WGS84 and back, within 1 mm", points: "points.kml", segments: "segments.kml", tolerance: 0.001),
        Format(label: "FileGDB (OpenFileGDB), layer picked by geometry type", points: "network.gdb", segments: "network.gdb"),
        Format(label: "GeoPackage written by GDAL, read through GDAL", points: "network.gpkg", segments: "network.gpkg"),
    ]

    @Test("imports the same pipes and points as the GeoJSON, field by field", arguments: formats)
    func sameStore(_ f: Format) throws {
        expectSameStore(try Fixtures.gdalStore(points: f.points, segments: f.segments), try Fixtures.reference.get(),
                        f.label, tolerance: f.tolerance)
    }

    @Test("GeoPackage written by GDAL, read natively")
    func geoPackage() throws {
        let ref = try Fixtures.reference.get()
        let native = try Fixtures.store([
            ImportSource(path: try Fixtures.path("network.gpkg"), format: .geoPackage(table: nil), content: .points,
                         mapping: Fixtures.pointMapping),
            ImportSource(path: try Fixtures.path("network.gpkg"), format: .geoPackage(table: nil), content: .segments,
                         mapping: Fixtures.segmentMapping),
        ])
        expectSameStore(native, ref, "gpkg native")
    }

    @Test("DXF: CAD layers map to utility layers; lines meet the reference points; geometry exact")
    func dxf() throws {
        let ref = try Fixtures.reference.get()
        let got = try Fixtures.store([
            ImportSource(path: try Fixtures.path("reference-points.geojson"), format: .geoJSON, content: .points,
                         mapping: Fixtures.pointMapping),
            GDALReader.source(path: try Fixtures.path("segments.dxf"), content: .segments,
                              mapping: try Fixtures.mapping("dxf-cad-layers.json")),
        ])
        // DXF carries geometry and layer only: ids are assigned in entity order, ends take the
        // reference point they touch.
        #expect(got.segments.count == ref.segments.count)
        for (g, w) in zip(got.segments.sorted { $0.id < $1.id }, ref.segments.sorted { $0.id < $1.id }) {
            #expect(g.geometry == w.geometry, "segment \(w.id) geometry")
            #expect(g.layer == w.layer, "segment \(w.id) layer")
            #expect(g.startPoint == w.startPoint && g.endPoint == w.endPoint, "segment \(w.id) ends")
        }
    }
}

@Suite("GDAL: DBF encodings and DXF code pages")
struct GDALEncodingTests {
    @Test("the rule: .cpg, then LDID, then strict UTF-8, else CP936")
    func decisions() throws {
        #expect(try DBFEncoding.decide(dbfPath: Fixtures.path("utf8/segments.dbf")).encoding == nil)
        #expect(try DBFEncoding.decide(dbfPath: Fixtures.path("cp936/segments.dbf")).encoding == nil)
        #expect(try DBFEncoding.decide(dbfPath: Fixtures.path("utf8-bare/segments.dbf")).encoding == "UTF-8")
        #expect(try DBFEncoding.decide(dbfPath: Fixtures.path("cp936-bare/segments.dbf")).encoding == "CP936")
        #expect(try DBFEncoding.decide(dbfPath: Fixtures.path("survey/points.dbf")).encoding == "CP936")
        // A language-driver byte decides when there is no .cpg (0x4D: CP936).
        let dir = try Fixtures.dir().appendingPathComponent("ldid-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("cp936-bare/points.dbf")))
        bytes[29] = 0x4D
        let ldid = dir.appendingPathComponent("points.dbf")
        try bytes.write(to: ldid)
        let decision = try DBFEncoding.decide(dbfPath: ldid.path)
        #expect(decision.encoding == nil && decision.reason.contains("0x4D"))
        let read = try GDALReader.records(path: ldid.path, content: .points)
        #expect(read.records.contains { $0["owner"]?.text == "温岭市天然气有限公司" })
    }

    @Test("UTF-8 text cut off by the field width still counts as UTF-8; GBK does not")
    func cutOffUTF8() {
        let text = Array("温岭市".utf8)
        #expect(DBFEncoding.isUTF8(text[...]))
        #expect(DBFEncoding.isUTF8(text.dropLast()))
        #expect(!DBFEncoding.isUTF8([0xCE, 0xC2, 0xC1, 0xEB][...]))  // 温岭 in GBK
        #expect(!DBFEncoding.isUTF8([0xB8, 0xF8][...]))  // 给 in GBK
    }

    @Test("damaged DBF headers and truncated files are scanned without a crash, never past the end")
    func damagedTables() throws {
        let dbf = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("cp936-bare/points.dbf"))))
        let whole = DBFEncoding.undecodableTexts(dbf)
        #expect(whole > 0)
        // Truncation can only lose values, never add: the count is monotone in the length.
        var previous = 0
        for n in stride(from: 32, through: dbf.count, by: dbf.count / 16 + 1) + [dbf.count] {
            let k = DBFEncoding.undecodableTexts(Array(dbf.prefix(n)))
            #expect(k >= previous && k <= whole, "prefix \(n)")
            previous = k
        }
        // Random header bytes (counts, lengths, descriptors) over a deterministic generator.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<200 {
            var damaged = Array(dbf.prefix(8192))
            for _ in 0..<4 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                damaged[Int(state >> 33) % 400] = UInt8(truncatingIfNeeded: state >> 17)
            }
            _ = DBFEncoding.undecodableTexts(damaged)
        }
    }

    @Test("reading a CP936 table as UTF-8 garbles it: the detection is what fixes it")
    func forcedWrongEncodingGarbles() throws {
        let wrong = try GDALReader.records(path: Fixtures.path("cp936-bare/segments.shp"), content: .segments, encoding: "UTF-8")
        #expect(!wrong.records.contains { $0["owner"]?.text == "温岭市天然气有限公司" })
        let right = try GDALReader.records(path: Fixtures.path("cp936-bare/segments.shp"), content: .segments)
        #expect(right.encoding?.encoding == "CP936")
        #expect(right.records.contains { $0["owner"]?.text == "温岭市天然气有限公司" })
        #expect(right.crs == "EPSG:4549")
    }

    @Test("DXF: $DWGCODEPAGE ANSI_936 decodes GBK layer names")
    func dxfCodePage() throws {
        let path = try Fixtures.path("segments.dxf")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let gbk: [UInt8] = [0xC8, 0xC8, 0xC1, 0xA6, 0xB9, 0xDC, 0xCF, 0xDF]  // 热力管线 in GBK
        func contains(_ needle: [UInt8]) -> Bool {
            bytes.indices.dropLast(needle.count).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
        }
        #expect(contains(gbk), "the fixture holds GBK bytes")
        #expect(!contains(Array("热力管线".utf8)), "and no UTF-8")
        let read = try GDALReader.records(path: path, content: .segments)
        #expect(read.driver == "DXF")
        #expect(Set(read.records.compactMap { $0["Layer"]?.text }) == ["热力管线", "燃气管线"])
        #expect(GDALReader.dxfEncoding(path: path) == nil, "AC1018: the code page decides")
    }

    @Test("DXF: AutoCAD 2007+ (AC1021 or later) is UTF-8 whatever $DWGCODEPAGE says; --encoding applies to DXF")
    func dxfUTF8FromAutoCAD2007() throws {
        // AC1027 with UTF-8 layer names under ANSI_936: GDAL alone decodes them as GBK.
        let modern = try Fixtures.path("segments-2013.dxf")
        #expect(GDALReader.dxfEncoding(path: modern) == "UTF-8")
        let read = try GDALReader.records(path: modern, content: .segments)
        #expect(Set(read.records.compactMap { $0["Layer"]?.text }) == ["热力管线", "燃气管线"])
        #expect(read.encoding?.encoding == "UTF-8" && read.encoding?.reason.contains("AC1021") == true)
        #expect(Set(try GDALReader.layers(path: modern).map(\.name)) == ["entities"])
        // A GBK drawing whose header says ANSI_1252 is garbled unless the encoding is given.
        let mislabelled = try Fixtures.path("segments-gbk-as-1252.dxf")
        let wrong = try GDALReader.records(path: mislabelled, content: .segments)
        #expect(!wrong.records.contains { $0["Layer"]?.text == "热力管线" })
        let given = try GDALReader.records(path: mislabelled, content: .segments, encoding: "CP936")
        #expect(Set(given.records.compactMap { $0["Layer"]?.text }) == ["热力管线", "燃气管线"])
        // The option is set for the opening thread only and put back.
        #expect(sbt_CPLGetThreadLocalConfigOption("DXF_ENCODING", nil) == nil)
        // The modern drawing imports the same pipes as the GBK one.
        let ref = try Fixtures.reference.get()
        let got = try Fixtures.store([
            ImportSource(path: try Fixtures.path("reference-points.geojson"), format: .geoJSON, content: .points,
                         mapping: Fixtures.pointMapping),
            GDALReader.source(path: modern, content: .segments, mapping: try Fixtures.mapping("dxf-cad-layers.json")),
        ])
        #expect(got.segments.sorted { $0.id < $1.id }.map(\.layer) == ref.segments.sorted { $0.id < $1.id }.map(\.layer))
    }
}

@Suite("GDAL: the Chinese point table + line table deliverable")
struct SurveyTableTests {
    @Test("layers say what they hold: by geometry, a GBK table by its decoded 起点 column, KML by its first feature")
    func layerContents() throws {
        func contents(_ name: String) throws -> [String] {
            try GDALReader.layers(path: Fixtures.path(name)).map { "\($0.name):\($0.content.map(\.rawValue) ?? "-")" }.sorted()
        }
        #expect(try contents("survey/lines.dbf") == ["lines:segments"])
        #expect(try contents("survey/points.dbf") == ["points:points"])
        #expect(try contents("network.gdb") == ["points:points", "segments:segments"])
        #expect(try contents("points.kml") == ["points:points"])
        #expect(try contents("segments.dxf") == ["entities:-"])
    }

    @Test("CSV and CP936 DBF tables join by point number into the reference topology")
    func pointAndLineTables() throws {
        let points = try Fixtures.mapping("cjj61-survey-points.json")
        let lines = try Fixtures.mapping("cjj61-survey-segments.json")
        let csv = try Fixtures.store([
            ImportSource(path: try Fixtures.path("survey/points.csv"), format: .csv(geometryColumn: nil), content: .points, mapping: points),
            ImportSource(path: try Fixtures.path("survey/lines.csv"), format: .csv(geometryColumn: nil), content: .segments, mapping: lines),
        ])
        let dbf = try Fixtures.store([
            GDALReader.source(path: try Fixtures.path("survey/points.dbf"), content: .points, mapping: points),
            GDALReader.source(path: try Fixtures.path("survey/lines.dbf"), content: .segments, mapping: lines),
        ])
        expectSameStore(dbf, csv, "DBF against CSV")
        let ref = try Fixtures.reference.get()
        #expect(csv.segments.count == ref.segments.count)
        let refPoints = Dictionary(uniqueKeysWithValues: ref.points.map { ($0.number, $0) })
        for p in csv.points {
            let w = try #require(refPoints[p.number])
            #expect(p.position == w.position && p.depth == w.depth && p.groundElevation == w.groundElevation, "point \(p.number)")
            #expect(p.owner == w.owner && p.layer == w.layer, "point \(p.number)")
        }
        let refByEnds = Dictionary(ref.segments.map { ("\($0.startPoint)-\($0.endPoint)", [$0]) }, uniquingKeysWith: +)
        for s in csv.segments {
            let w = try #require(refByEnds["\(s.startPoint)-\(s.endPoint)"]?.first)
            #expect(s.startDepth == w.startDepth && s.endDepth == w.endDepth, "segment \(s.startPoint)-\(s.endPoint) depths")
            #expect(s.section == w.section && s.material == w.material && s.owner == w.owner && s.layer == w.layer,
                    "segment \(s.startPoint)-\(s.endPoint)")
            #expect(s.geometry.points.first == w.geometry.points.first && s.geometry.points.last == w.geometry.points.last)
        }
    }
}
