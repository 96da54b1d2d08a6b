import Foundation
import SubterraModel
import Testing

/// `subterra import` picks the GDAL reader by extension or `--format` and imports every layer of
/// a FileGDB; the stores equal the one imported from the reference GeoJSON.
@Suite struct GDALImportCLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The fixtures of scripts/make-gdal-fixtures.sh and the mappings of their short field names.
    static func fixtures(_ name: String) throws -> (dir: String, segments: String, points: String) {
        let dir = CLI.tempDir("gdal-fixtures-\(name)")
        let r = try CLI.runShell("bash '\(repo.path)/scripts/make-gdal-fixtures.sh' '\(dir)/fx'", timeout: 120)
        guard r.status == 0 else { throw CLITestError("make-gdal-fixtures.sh failed (is gdal-bin installed?): \(r.stderr)") }
        let segments = """
            {"fields": {"id": {"from": ["id"]}, "layer": {"from": ["layer"]}, "startPoint": {"from": ["start_pt"]},
             "endPoint": {"from": ["end_pt"]}, "startDepth": {"from": ["s_depth"], "unit": "m"}, "section": {"from": ["section"]},
             "owner": {"from": ["owner"]}, "road": {"from": ["road"]}}}
            """
        let points = """
            {"fields": {"pointNumber": {"from": ["point_no"]}, "layer": {"from": ["layer"]}, "depth": {"from": ["depth"], "unit": "m"},
             "owner": {"from": ["owner"]}}}
            """
        try Data(segments.utf8).write(to: URL(fileURLWithPath: dir + "/segments.json"))
        try Data(points.utf8).write(to: URL(fileURLWithPath: dir + "/points.json"))
        return (dir + "/fx", dir + "/segments.json", dir + "/points.json")
    }

    func importStore(_ files: [String], _ extra: [String], fx: (dir: String, segments: String, points: String), name: String)
        throws -> UtilityNetwork
    {
        let store = CLI.tempDir("gdal-store-\(name)") + "/s.gpkg"
        let r = try CLI.run(["import"] + files.map { fx.dir + "/" + $0 } + extra
            + ["--mapping", fx.segments, "--point-mapping", fx.points, "--store", store])
        #expect(r.status == 0, "\(name): \(r.stderr)")
        return try GeoPackageStore.open(at: store, readOnly: true).loadAll()
    }

    /// GDAL (and the seventy shared objects it needs) is loaded by the first GDAL import, not
    /// by every `subterra` process: the binary does not link it, and a GDAL import still works
    /// (the tests below).
    @Test func theBinaryLoadsGDALOnlyWhenAnImportNeedsIt() throws {
        let r = try CLI.runShell("ldd '\(CLI.binary.path)'", timeout: 30)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("libgdal"), "subterra links GDAL: \(r.stdout)")
        #expect(r.stdout.contains("libproj") && r.stdout.contains("libgeos_c"), "\(r.stdout)")
    }

    @Test func shapefileFileGDBAndForcedGeoPackageImportTheGeoJSONStore() throws {
        let fx = try Self.fixtures("roundtrip")
        let ref = try importStore(["reference-points.geojson", "reference-segments.geojson"], [], fx: fx, name: "ref")
        #expect(ref.segments.count > 400 && ref.points.count > 400)
        #expect(ref.segments.contains { $0.owner == "温岭市天然气有限公司" })
        for (files, extra) in [
            (["cp936-bare/points.shp", "cp936-bare/segments.shp"], []),
            (["network.gdb"], []),
            (["network.gpkg"], ["--format", "gdal"]),
            // Another tool's GeoPackage through the default (native) reader: both tables.
            (["network.gpkg"], []),
            (["points.kml", "segments.kml"], []),
        ] as [([String], [String])] {
            let got = try importStore(files, extra, fx: fx, name: files[0].replacingOccurrences(of: "/", with: "-"))
            #expect(got.segments.count == ref.segments.count && got.points.count == ref.points.count, "\(files)")
            let want = Dictionary(uniqueKeysWithValues: ref.segments.map { ($0.id, $0) })
            let tolerance = files[0].hasSuffix(".kml") ? 0.001 : 0
            for s in got.segments {
                let w = try #require(want[s.id], "\(files): segment \(s.id)")
                #expect(s.owner == w.owner && s.road == w.road && s.section == w.section && s.startDepth == w.startDepth,
                        "\(files): segment \(s.id)")
                let far = zip(s.geometry.points, w.geometry.points).contains { abs($0.x - $1.x) > tolerance || abs($0.y - $1.y) > tolerance }
                #expect(!far && s.geometry.points.count == w.geometry.points.count, "\(files): segment \(s.id) geometry")
            }
        }
    }

    @Test func chinesePointAndLineDBFTablesAreToldApartAndJoined() throws {
        let fx = try Self.fixtures("survey")
        let mappings = Self.repo.appendingPathComponent("Datasets/mappings").path
        let store = CLI.tempDir("gdal-survey") + "/s.gpkg"
        // Lines first: which table holds what is read from the GBK header, not the argument order.
        let r = try CLI.run(["import", fx.dir + "/survey/lines.dbf", fx.dir + "/survey/points.dbf",
                             "--mapping", mappings + "/cjj61-survey-segments.json",
                             "--point-mapping", mappings + "/cjj61-survey-points.json", "--store", store])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Quality: no issues."), "\(r.stdout)")
        let n = try GeoPackageStore.open(at: store, readOnly: true).loadAll()
        let lines = try String(contentsOfFile: fx.dir + "/survey/lines.csv", encoding: .utf8).split(separator: "\n").count - 1
        let points = try String(contentsOfFile: fx.dir + "/survey/points.csv", encoding: .utf8).split(separator: "\n").count - 1
        #expect(n.segments.count == lines && n.points.count == points)
        #expect(Set(n.segments.compactMap(\.owner)) == ["温岭市天然气有限公司", "温岭东部工业蒸汽供热有限公司"])
    }

    @Test func unknownLayerIsRefusedNamingTheLayers() throws {
        let fx = try Self.fixtures("layer")
        let r = try CLI.run(["import", fx.dir + "/network.gdb", "--layer", "pipes", "--store", CLI.tempDir("gdal-bad") + "/s.gpkg"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("no layer 'pipes'") && r.stderr.contains("segments") && r.stderr.contains("points"), "\(r.stderr)")
    }
}
