import Foundation
import Testing

/// Issue 13 item 2: a store imported from two files; every output names each pipe's source file
/// (tables by file name, JSON, GeoJSON and batch answers by the path as given, SVG tooltips),
/// and a pipe with only a nominal depth shows it as nominal (item 4).
@Suite struct SourceFileCLITests {
    /// The store and the two paths as given to the import, or why they could not be made.
    static let fixture: Result<(store: String, cables: String, water: String), CLITestError> = {
        let dir = CLI.tempDir("source-files")
        let cables = dir + "/kabels.geojson", water = dir + "/water.geojson", mapping = dir + "/mapping.json"
        do {
            try """
                {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
                 {"type":"Feature","properties":{"id":"KL-1","layer":"DL","start_depth":1.0,"end_depth":1.0,"owner":"Liander"},
                  "geometry":{"type":"LineString","coordinates":[[501000,3379000],[501030,3379000]]}}]}
                """.write(toFile: cables, atomically: true, encoding: .utf8)
            try """
                {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
                 {"type":"Feature","properties":{"id":"W-1","layer":"JS","nominal":0.8,"owner":"Vitens"},
                  "geometry":{"type":"LineString","coordinates":[[501000,3379040],[501030,3379040]]}}]}
                """.write(toFile: water, atomically: true, encoding: .utf8)
            try """
                {"fields":{"id":{"from":["id"]},"layer":{"from":["layer"]},"startDepth":{"from":["start_depth"]},
                 "endDepth":{"from":["end_depth"]},"nominalDepth":{"from":["nominal"]},"owner":{"from":["owner"]}}}
                """.write(toFile: mapping, atomically: true, encoding: .utf8)
            let r = try CLI.run(["import", cables, water, "--store", dir + "/s.gpkg", "--mapping", mapping, "--policy", "strict"])
            guard r.status == 0 else { return .failure(CLITestError("import failed: \(r.stdout)\(r.stderr)")) }
        } catch {
            return .failure(CLITestError("\(error)"))
        }
        return .success((dir + "/s.gpkg", cables, water))
    }()

    /// The features of a GeoJSON answer, by their `sourceFile` property.
    static func featureFiles(_ geojson: String) throws -> [String] {
        let features = try #require(try CLI.object(geojson)["features"] as? [[String: Any]])
        return features.compactMap { ($0["properties"] as? [String: Any])?["sourceFile"] as? String }
    }

    @Test func nearestNamesEachPipesFileAndShowsANominalDepthAsNominal() throws {
        let fx = try Self.fixture.get()
        let table = try CLI.run(["nearest", "POINT (501005 3379020)", "-k", "2", "--store", fx.store])
        #expect(table.status == 0, "\(table.stderr)")
        let header = try #require(table.stdout.split(separator: "\n").dropFirst().first)
        #expect(header.split(separator: " ").prefix(3) == ["id", "source_id", "source"], "\(table.stdout)")
        #expect(table.stdout.contains("kabels.geojson") && table.stdout.contains("water.geojson"), "\(table.stdout)")
        #expect(!table.stdout.contains(fx.cables), "tables show the file name, not the path: \(table.stdout)")
        #expect(table.stdout.contains("~0.80 nominal"), "\(table.stdout)")

        let json = try CLI.object(try CLI.run(["nearest", "POINT (501005 3379020)", "-k", "2", "--store", fx.store, "--format", "json"]).stdout)
        let hits = try #require(json["hits"] as? [[String: Any]])
        #expect(Set(hits.compactMap { $0["sourceFile"] as? String }) == [fx.cables, fx.water])
        let main = try #require(hits.first { $0["sourceFile"] as? String == fx.water })
        #expect(main["nominalDepth"] as? Double == 0.8 && main["depth"] == nil, "\(main)")
        #expect(hits.first { $0["sourceFile"] as? String == fx.cables }?["nominalDepth"] == nil)

        let geo = try CLI.run(["nearest", "POINT (501005 3379020)", "-k", "2", "--store", fx.store, "--format", "geojson"])
        #expect(Set(try Self.featureFiles(geo.stdout)) == [fx.cables, fx.water])

        let batch = try CLI.run(
            ["query", "--batch", "-", "--store", fx.store],
            stdin: Data("{\"id\":1,\"op\":\"within\",\"geometry\":\"POINT (501005 3379020)\",\"distance\":50}\n".utf8))
        #expect(batch.status == 0, "\(batch.stderr)")
        let answer = try CLI.object(try #require(batch.stdout.split(separator: "\n").first.map(String.init)))
        let rows = try #require((answer["result"] as? [String: Any])?["hits"] as? [[String: Any]])
        #expect(Set(rows.compactMap { $0["sourceFile"] as? String }) == [fx.cables, fx.water], "\(batch.stdout)")
    }

    @Test func digCheckNamesTheFileInTableJSONGeoJSONAndMapTooltips() throws {
        let fx = try Self.fixture.get()
        let dig = "POLYGON ((501010 3379035, 501020 3379035, 501020 3379045, 501010 3379045, 501010 3379035))"
        let svg = CLI.tempDir("source-files-map") + "/dig.svg"
        let table = try CLI.run(["check-dig", dig, "--depth", "0.5", "--store", fx.store, "--map", svg])
        #expect(table.stdout.contains(" source "), "\(table.stdout)")
        #expect(table.stdout.contains("water.geojson"), "\(table.stdout)")
        // Only a nominal depth: shown as such, and it never makes the dig clear in depth.
        #expect(table.stdout.contains("~0.80 nominal") && table.stdout.contains("possibly"), "\(table.stdout)")
        let map = try String(contentsOfFile: svg, encoding: .utf8)
        #expect(map.contains("<title>") && map.contains("source: \(fx.water)"), "\(map.prefix(400))")

        let json = try CLI.object(try CLI.run(["check-dig", dig, "--depth", "0.5", "--store", fx.store, "--format", "json"]).stdout)
        let conflicts = try #require(json["conflicts"] as? [[String: Any]])
        #expect(conflicts.count == 1 && conflicts.first?["sourceFile"] as? String == fx.water, "\(conflicts)")
        #expect(conflicts.first?["reaches"] as? String == "possibly")
        let geo = try CLI.run(["check-dig", dig, "--depth", "0.5", "--store", fx.store, "--format", "geojson"])
        #expect(try Self.featureFiles(geo.stdout) == [fx.water])
    }

    @Test func checkRouteNamesTheFileAndTheNominalDepthOfACrossing() throws {
        let fx = try Self.fixture.get()
        let route = "LINESTRING (501020 3378990, 501020 3379050)"
        let table = try CLI.run(["check-route", route, "--layer", "JS", "--depth", "1", "--store", fx.store])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains(" source ") && table.stdout.contains("water.geojson"), "\(table.stdout)")
        #expect(table.stdout.contains("~0.80 nominal"), "\(table.stdout)")
        let json = try CLI.object(try CLI.run(["check-route", route, "--layer", "JS", "--depth", "1", "--store", fx.store, "--format", "json"]).stdout)
        let findings = try #require(json["findings"] as? [[String: Any]])
        let crossing = try #require(findings.first { $0["sourceFile"] as? String == fx.water && $0["kind"] as? String == "vertical" })
        #expect(crossing["status"] as? String == "unknownDepth" && crossing["nominalDepth"] as? Double == 0.8, "\(crossing)")
        // QT has no rules: each unchecked pair names the pipe's file.
        let unchecked = try CLI.run(["check-route", route, "--layer", "QT", "--depth", "1", "--store", fx.store])
        #expect(unchecked.stdout.contains("(KL-1, from kabels.geojson) DL Liander: not checked"), "\(unchecked.stdout)")
    }

    @Test func sectionTableHasASourceColumn() throws {
        let fx = try Self.fixture.get()
        let cut = try CLI.run(["section", "LINESTRING (501025 3378990, 501025 3379050)", "--store", fx.store])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(cut.stdout.contains(" source ") && cut.stdout.contains("kabels.geojson") && cut.stdout.contains("water.geojson"), "\(cut.stdout)")
    }

    @Test func infoListsTheFilesTheStoreWasImportedFrom() throws {
        let fx = try Self.fixture.get()
        let table = try CLI.run(["info", "--store", fx.store])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        let at = try #require(lines.firstIndex { $0.hasPrefix("Imported from 2 files") }, "\(table.stdout)")
        #expect(Set(lines[(at + 1)...].prefix(2).map { $0.trimmingCharacters(in: .whitespaces) }) == [fx.cables, fx.water],
                "\(table.stdout)")
        let json = try CLI.object(try CLI.run(["info", "--store", fx.store, "--format", "json"]).stdout)
        #expect(json["sourceFiles"] as? [String] == [fx.cables, fx.water].sorted(), "\(json)")
    }
}
