import Foundation
import SubterraModel
import Testing

/// Gaps an audit of issue 13 found in real deliveries, each through the command line as a user
/// meets it.
@Suite struct DeliveryGapsCLITests {
    /// Two Dutch gas mains with pressure 0 (meaning "unknown" in that data) and no `null`
    /// sentinel in the mapping.
    static let gasZero = """
        {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:4549"}}, "features": [
        {"type": "Feature", "properties": {"id": "NL-GAS-1", "owner": "Liander", "p": 0},
         "geometry": {"type": "LineString", "coordinates": [[636600, 3140200], [636700, 3140200]]}},
        {"type": "Feature", "properties": {"id": "NL-GAS-2", "owner": "Liander", "p": "0"},
         "geometry": {"type": "LineString", "coordinates": [[636600, 3140210], [636700, 3140210]]}}]}
        """

    /// The README's dig site on the UK example.
    static let ukSite = "POLYGON ((530020 180002, 530026 180002, 530026 180009, 530020 180009, 530020 180002))"

    /// The README's UK example imported as the README does, into a new directory `name`.
    func ukExample(_ name: String) throws -> (dir: String, store: String) {
        let e = RealDeliveryExampleCLITests.example
        let dir = CLI.tempDir(name)
        let store = dir + "/uk.gpkg"
        let imported = try CLI.run([
            "import", e + "/lines.geojson", e + "/zones.geojson", "--mapping", e + "/mapping.json",
            "--store", store, "--store-crs", "EPSG:27700",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        return (dir, store)
    }

    func write(_ text: String, _ path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func gasPressureZeroWithoutASentinelIsNotReadAsLow() throws {
        let dir = CLI.tempDir("gas-zero")
        try write(Self.gasZero, dir + "/gas.geojson")
        let rule = #"{"from": ["p"], "unit": "bar"}"#
        let mapping = #"{"fields": {"id": {"from": ["id"]}, "layer": {"constant": "RQ"}, "owner": {"from": ["owner"]}, "pressure": RULE}}"#
        try write(mapping.replacingOccurrences(of: "RULE", with: rule), dir + "/bare.json")
        try write(mapping.replacingOccurrences(of: "RULE", with: #"{"from": ["p"], "unit": "bar", "null": ["0"]}"#), dir + "/null.json")

        // Strict: refused, naming each record and the fix.
        let strict = try CLI.run(["import", dir + "/gas.geojson", "--mapping", dir + "/bare.json", "--store", dir + "/s.gpkg"])
        #expect(strict.status == 2, "\(strict.stdout) \(strict.stderr)")
        let all = strict.stdout + strict.stderr
        #expect(all.contains("gas.geojson feature 0") && all.contains("gas.geojson feature 1"), "\(all)")
        #expect(all.contains(#"gas pressure 0 is not an operating pressure"#) && all.contains(#"add "null": ["0"]"#), "\(all)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/s.gpkg"))

        // Lenient: kept with the pressure unknown, so a dig next to them is critical, never "gas low".
        let lenient = try CLI.run(["import", dir + "/gas.geojson", "--mapping", dir + "/bare.json", "--store", dir + "/l.gpkg",
                                   "--policy", "lenient"])
        #expect(lenient.status == 0, "\(lenient.stderr)")
        let site = "POLYGON ((636640 3140203, 636650 3140203, 636650 3140207, 636640 3140207, 636640 3140203))"
        let dig = try CLI.run(["check-dig", site, "--depth", "1", "--store", dir + "/l.gpkg", "--format", "json"])
        let conflicts = try CLI.object(dig.stdout)["conflicts"] as? [[String: Any]] ?? []
        #expect(conflicts.count == 2 && conflicts.allSatisfy { $0["severity"] as? String == "critical" }, "\(dig.stdout)")
        #expect(!dig.stdout.contains("gas low"), "\(dig.stdout)")

        // With the sentinel, strict imports them: unknown pressure, a warning each.
        let mapped = try CLI.run(["import", dir + "/gas.geojson", "--mapping", dir + "/null.json", "--store", dir + "/n.gpkg"])
        #expect(mapped.status == 0, "\(mapped.stderr)")
        #expect(mapped.stdout.contains("means unknown in this mapping"), "\(mapped.stdout)")
    }
}

extension DeliveryGapsCLITests {
    /// The README's worked example: the dig touches Cadent's precaution zone and Openreach's
    /// interest area and comes within the precaution distance of Cadent's IP main.
    @Test func digMapsAndGeoJSONShowZonesAreasAndPrecautionPipes() throws {
        let (dir, store) = try ukExample("dig-map-areas")
        let common = [Self.ukSite, "--depth", "0.5", "--rules", "uk-hsg47", "--store", store]

        let checked = try CLI.run(["check-dig"] + common + ["--map", dir + "/check.svg"])
        #expect(checked.status == 0, "\(checked.stderr)")
        let rendered = try CLI.run(["render", "dig"] + common + ["--out", dir + "/render.svg"])
        #expect(rendered.status == 0, "\(rendered.stderr)")
        for file in ["check.svg", "render.svg"] {
            let svg = try String(contentsOfFile: dir + "/" + file, encoding: .utf8)
            #expect(SVGCheck.parse(dir + "/" + file) != nil, "\(file) is not well-formed SVG")
            // Both areas drawn, each named by its operator on the map and in the legend.
            #expect(svg.contains(#"class="precaution-zone""#) && svg.contains(#"class="interest-area""#), "\(file)")
            #expect(svg.contains("precaution zone · Cadent Gas") && svg.contains("interest area · Openreach"), "\(file)")
            #expect(svg.contains("precaution zone (operator present): Cadent Gas (CAD-PZ-01)"), "\(file)")
            #expect(svg.contains("interest area (notify operator): Openreach (OR-AOI-9)"), "\(file)")
            // The IP main within Cadent's precaution distance: haloed, numbered, in the legend.
            #expect(svg.contains(#"class="precaution-pipe""#), "\(file)")
            #expect(svg.contains("precaution: RQ #") && svg.contains("(CAD-GM-000123) Cadent Gas"), "\(file)")
            #expect(svg.contains("pipe within operator precaution distance"), "\(file)")
        }

        let geo = try CLI.run(["check-dig"] + common + ["--format", "geojson"])
        #expect(geo.status == 0, "\(geo.stderr)")
        let features = try CLI.object(geo.stdout)["features"] as? [[String: Any]] ?? []
        let precautions = features.filter { ($0["properties"] as? [String: Any])?["kind"] as? String == "precaution" }
        #expect(precautions.count == 1, "\(geo.stdout)")
        let props = precautions.first?["properties"] as? [String: Any] ?? [:]
        #expect(props["sourceID"] as? String == "CAD-GM-000123" && props["owner"] as? String == "Cadent Gas", "\(props)")
        #expect(props["conflict"] as? Bool == false && (props["requiredDistance"] as? Double ?? 0) > 3, "\(props)")
        // The whole two-part main, as the conflicts show their pipes.
        let geometry = precautions.first?["geometry"] as? [String: Any]
        #expect(geometry?["type"] as? String == "MultiLineString", "\(String(describing: geometry))")
    }
}

extension DeliveryGapsCLITests {
    /// Dutch lines in lon/lat, stored in EPSG:3857 (a worldwide CRS): GB 50289 must not judge
    /// them, as it does not in EPSG:28992.
    @Test func rulesOfAnotherCountryDoNotJudgeDataInAWorldwideCRS() throws {
        let dir = CLI.tempDir("nl-3857")
        try write("""
            {"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"id": "nl.imkl-KL1031.EKBL_0001", "layer": "DL", "owner": "Liander", "v": 10},
             "geometry": {"type": "LineString", "coordinates": [[5.12, 52.09], [5.121, 52.09]]}},
            {"type": "Feature", "properties": {"id": "nl.imkl-KL1031.GAS_0002", "layer": "RQ", "owner": "Stedin", "p": 100},
             "geometry": {"type": "LineString", "coordinates": [[5.12, 52.09003], [5.121, 52.09003]]}}]}
            """, dir + "/nl.geojson")
        try write(#"""
            {"fields": {"id": {"from": ["id"]}, "layer": {"from": ["layer"]}, "owner": {"from": ["owner"]},
             "pressure": {"from": ["p"], "unit": "mbar"}, "voltage": {"from": ["v"], "unit": "kV"}}}
            """#, dir + "/m.json")
        for crs in ["EPSG:3857", "EPSG:28992"] {
            let store = dir + "/\(crs.replacingOccurrences(of: ":", with: "")).gpkg"
            let imported = try CLI.run(["import", dir + "/nl.geojson", "--mapping", dir + "/m.json", "--store", store, "--store-crs", crs])
            #expect(imported.status == 0, "\(crs): \(imported.stderr)")
            let site = try CLI.run(["nearest", "POINT (5.1205 52.09001)", "--crs", "OGC:CRS84", "--store", store, "--format", "json"])
            #expect(site.status == 0, "\(crs): queries that apply no rules still answer: \(site.stderr)")
            for args in [["check-dig", "POLYGON ((5.1204 52.09, 5.1206 52.09, 5.1206 52.09002, 5.1204 52.09002, 5.1204 52.09))",
                          "--crs", "OGC:CRS84", "--depth", "1"],
                         ["check-route", "LINESTRING (5.1200 52.09001, 5.1210 52.09001)", "--crs", "OGC:CRS84", "--layer", "JS", "--depth", "1"]] {
                // Twice: the first run builds the snapshot file, the second reads it.
                for _ in 0..<2 {
                    let r = try CLI.run(args + ["--store", store])
                    #expect(r.status == 2 && r.stderrLines.count == 1, "\(crs) \(args[0]): \(r.stdout) \(r.stderr)")
                    #expect(r.stderr.contains("the rules are for China"), "\(crs) \(args[0]): \(r.stderr)")
                    #expect(!r.stdout.contains("GB50289"), "\(crs) \(args[0]): \(r.stdout)")
                }
            }
        }
    }
}

extension DeliveryGapsCLITests {
    /// A 9 mm water pipe in a British delivery: kept under the strict default, counted, and the
    /// message states its length and the tolerance.
    @Test func pipesShorterThanTheToleranceDoNotRejectTheDelivery() throws {
        let dir = CLI.tempDir("short-pipe")
        try write("""
            {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}, "features": [
            {"type": "Feature", "properties": {"asset_id": "X-1", "asset_type": "Water main", "operator": "Thames Water"},
             "geometry": {"type": "LineString", "coordinates": [[530000.0, 180006.0], [530040.0, 180006.0]]}},
            {"type": "Feature", "properties": {"asset_id": "X-2", "asset_type": "Water main", "operator": "Thames Water"},
             "geometry": {"type": "LineString", "coordinates": [[530000.0, 180000.0], [530000.009, 180000.0]]}}]}
            """, dir + "/short.geojson")
        let r = try CLI.run([
            "import", dir + "/short.geojson", "--mapping", RealDeliveryExampleCLITests.example + "/mapping.json",
            "--store", dir + "/s.gpkg", "--store-crs", "EPSG:27700",
        ])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("Imported 2 segments"), "\(r.stdout)")
        #expect(r.stdout.contains("1 segment shorter than the 0.05 m snapping tolerance (both ends on one point) was kept"), "\(r.stdout)")
        #expect(r.stdout.contains("warning [startEqualsEnd]") && r.stdout.contains("is 9 mm long, shorter than the 50 mm snapping tolerance"),
                "\(r.stdout)")
    }
}

extension DeliveryGapsCLITests {
    /// The README's UK example: the LV cable states no accuracy, so the mapping's
    /// `defaultAccuracy` (1 m) applies; the report must call it assumed, not stated.
    @Test func aMappingsDefaultAccuracyIsReportedAsAssumed() throws {
        let (_, store) = try ukExample("assumed-accuracy")
        let common = ["check-dig", Self.ukSite, "--depth", "0.5", "--rules", "uk-hsg47", "--store", store]
        let json = try CLI.run(common + ["--format", "json"])
        let conflicts = try CLI.object(json.stdout)["conflicts"] as? [[String: Any]] ?? []
        let cable = try #require(conflicts.first { $0["sourceID"] as? String == "UKPN-LV-0042" }, "\(json.stdout)")
        #expect(cable["accuracyStated"] as? Bool == false && cable["accuracyBasis"] as? String == "sourceDefault", "\(cable)")
        #expect((cable["reason"] as? String)?.contains("position accuracy not stated, the delivery's default of 1 m assumed") == true,
                "\(cable)")
        let table = try CLI.run(common)
        #expect(table.stdout.contains("Position accuracy assumed, not stated (added to the clearance):"), "\(table.stdout)")
        #expect(table.stdout.contains("1.00 m, the delivery's default accuracy (mapping defaultAccuracy): 3 (UKPN-LV-0042)"),
                "\(table.stdout)")
    }
}

extension DeliveryGapsCLITests {
    static let ogr2ogr = ["/usr/bin/ogr2ogr", "/usr/local/bin/ogr2ogr"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// A CAD drawing of ten gas lines inside a drawing frame: the shipped DXF mapping ignores the
    /// frame layer, so the strict default imports it with no --max-dropped or --policy.
    @Test(.enabled(if: DeliveryGapsCLITests.ogr2ogr != nil, "needs GDAL's ogr2ogr"))
    func aCADDrawingsFrameLayersAreIgnoredNotDropped() throws {
        let dir = CLI.tempDir("cad-frame")
        var features: [String] = []
        for i in 0..<10 {
            let x = 636600 + i * 10
            features.append(#"{"type":"Feature","properties":{"Layer":"燃气管线"},"geometry":{"type":"LineString","coordinates":[[\#(x),3140200],[\#(x + 8),3140200]]}}"#)
        }
        for (a, b) in [((636590, 3140190), (636710, 3140190)), ((636710, 3140190), (636710, 3140210)),
                       ((636710, 3140210), (636590, 3140210)), ((636590, 3140210), (636590, 3140190))] {
            features.append(#"{"type":"Feature","properties":{"Layer":"图框"},"geometry":{"type":"LineString","coordinates":[[\#(a.0),\#(a.1)],[\#(b.0),\#(b.1)]]}}"#)
        }
        try write(#"{"type":"FeatureCollection","features":["# + features.joined(separator: ",") + "]}", dir + "/cad.geojson")
        let made = try CLI.runShell("'\(Self.ogr2ogr!)' -f DXF '\(dir)/cad.dxf' '\(dir)/cad.geojson'", timeout: 60)
        #expect(made.status == 0, "\(made.stderr)")
        let mapping = RealDeliveryExampleCLITests.example + "/../../mappings/dxf-cad-layers.json"
        // GDAL writes the names as UTF-8 under an AC1018 header saying ANSI_1252: --encoding says so.
        let r = try CLI.run(["import", dir + "/cad.dxf", "--mapping", mapping, "--store", dir + "/s.gpkg", "--max-dropped", "0%",
                             "--encoding", "UTF-8"])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        #expect(r.stdout.contains("Imported 10 segments"), "\(r.stdout)")
        #expect(r.stdout.contains("Skipped 4 records on layers the mapping ignores (图框 4); not counted as dropped."), "\(r.stdout)")
        #expect(r.stdout.contains("0 records dropped") || r.stdout.contains("Quality: no issues"), "\(r.stdout)")
    }
}

extension DeliveryGapsCLITests {
    /// The Chinese point + line deliverable in the shapes cities hand over: utility names in
    /// 管线类别, per-utility tables without that column (the layer given on the command line),
    /// and casings named in 管线性质.
    @Test func chineseSurveyTablesWithUtilityNamesAndPerUtilityTables() throws {
        let dir = CLI.tempDir("cn-survey")
        let mappings = RealDeliveryExampleCLITests.example + "/../../mappings"
        let maps = ["--point-mapping", mappings + "/cjj61-survey-points.json", "--mapping", mappings + "/cjj61-survey-segments.json"]
        try write("""
            点号,X,Y,地面高程,特征,埋深,管线类别,权属单位
            JS1,3140200.000,636600.000,3.5,阀门,1.2,给水,温岭市自来水有限公司
            JS2,3140200.000,636650.000,3.5,直线点,1.3,给水,温岭市自来水有限公司
            YS1,3140220.000,636600.000,3.5,检查井,1.5,雨水,温岭市排水公司
            YS2,3140220.000,636650.000,3.5,检查井,1.6,雨水,温岭市排水公司
            """, dir + "/给水点.csv")
        try write("""
            起点号,终点号,起点埋深,终点埋深,管径,材质,管线类别,管线性质,权属单位
            JS1,JS2,1.2,1.3,DN300,球墨铸铁,给水,管道,温岭市自来水有限公司
            JS2,JS1,1.3,1.2,DN500,钢,给水,套管,温岭市自来水有限公司
            YS1,YS2,1.5,1.6,DN600,混凝土,雨水,,温岭市排水公司
            """, dir + "/给水线.csv")
        let water = try CLI.run(["import", dir + "/给水点.csv", dir + "/给水线.csv", "--store", dir + "/w.gpkg"] + maps)
        #expect(water.status == 0, "\(water.stdout) \(water.stderr)")
        let n = try GeoPackageStore.open(at: dir + "/w.gpkg", readOnly: true).loadAll()
        #expect(n.segments.map(\.layer.rawValue).sorted() == ["JS", "JS", "PS"], "\(n.segments)")
        #expect(n.segments.first { $0.layer.rawValue == "PS" }?.subtype?.rawValue == "YS")
        #expect(n.segments.first { $0.section == .circular(diameterMM: 500) }?.featureKind == .casing)
        #expect(n.segments.first { $0.section == .circular(diameterMM: 300) }?.featureKind == .utilityLine)
        #expect(Set(n.points.map(\.layer.rawValue)) == ["JS", "PS"])

        // A gas table pair without 管线类别: refused without the layer, imported with it.
        try write("""
            点号,X,Y,地面高程,特征,埋深
            RQ1,3140210.000,636600.000,3.5,阀门,1.2
            RQ2,3140210.000,636650.000,3.5,直线点,1.3
            """, dir + "/燃气点.csv")
        try write("""
            起点号,终点号,起点埋深,终点埋深,管径,材质,压力
            RQ1,RQ2,1.2,1.3,DN200,PE,0.4
            """, dir + "/燃气线.csv")
        let gasFiles = [dir + "/燃气点.csv", dir + "/燃气线.csv"]
        let bare = try CLI.run(["import"] + gasFiles + ["--store", dir + "/g0.gpkg"] + maps)
        #expect(bare.status == 2 && bare.stdout.contains("layer code is missing"), "\(bare.stdout) \(bare.stderr)")
        for layer in ["燃气", "RQ"] {
            let gas = try CLI.run(["import"] + gasFiles + ["--store", dir + "/g-\(layer).gpkg", "--default-layer", layer] + maps)
            #expect(gas.status == 0, "\(layer): \(gas.stdout) \(gas.stderr)")
            let g = try GeoPackageStore.open(at: dir + "/g-\(layer).gpkg", readOnly: true).loadAll()
            #expect(g.segments.map(\.layer.rawValue) == ["RQ"] && g.points.allSatisfy { $0.layer.rawValue == "RQ" }, "\(layer)")
            #expect(g.segments.first?.gasPressureMPa == 0.4)
        }
        // A name that is no utility's is a clear error, not a silent guess.
        let unknown = try CLI.run(["import"] + gasFiles + ["--store", dir + "/g1.gpkg", "--default-layer", "沼气"] + maps)
        #expect(unknown.status == 2 && unknown.stdout.contains("layer code '沼气' is not in the catalog"), "\(unknown.stdout) \(unknown.stderr)")
    }
}
