import Foundation
import Testing

/// Issue 13 item 3: an import that writes nothing, or drops more than `--max-dropped`, fails
/// with one line and leaves no store behind.
@Suite struct ImportPolicyCLITests {
    /// `n` two-vertex water lines in Dutch RD New (EPSG:28992) coordinates, declared as such.
    func rdFile(_ dir: String, _ n: Int, badLayers: Int = 0) throws -> String {
        var features: [String] = []
        for i in 0..<n {
            let y = 463_000 + Double(i) * 5
            let layer = i < badLayers ? "" : "JS"
            features.append(#"{"type":"Feature","properties":{"id":\#(i + 1),"layer":"\#(layer)"},"geometry":{"type":"LineString","coordinates":[[155000,\#(y)],[155010,\#(y)]]}}"#)
        }
        let text = #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:28992"}},"features":["#
            + features.joined(separator: ",") + "]}"
        let path = dir + "/segments.geojson"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static let mapping = #"{"fields": {"id": {"from": ["id"]}, "layer": {"from": ["layer"]}}}"#

    func mappingFile(_ dir: String) throws -> String {
        let p = dir + "/m.json"
        try Self.mapping.write(toFile: p, atomically: true, encoding: .utf8)
        return p
    }

    @Test func aLenientImportThatKeepsNothingFailsAndCreatesNoStore() throws {
        let dir = CLI.tempDir("import-nothing")
        let file = try rdFile(dir, 36)
        // The store CRS was forgotten: the default EPSG:4549 (China) cannot hold Dutch coordinates.
        let store = dir + "/nl.gpkg"
        let r = try CLI.run(["import", file, "--mapping", try mappingFile(dir), "--store", store, "--policy", "lenient"])
        #expect(r.status != 0, "\(r.stdout)")
        #expect(!FileManager.default.fileExists(atPath: store), "an empty store was left behind")
        let last = r.stderrLines.last ?? ""
        #expect(last.contains("0 of 36 records"), "\(r.stderr)")
        #expect(r.stderrLines.count == 1, "one clear line: \(r.stderr)")
        // With the right CRS, all 36 are imported.
        let ok = try CLI.run(["import", file, "--mapping", try mappingFile(dir), "--store", store, "--policy", "lenient", "--store-crs", "EPSG:28992"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains("Imported 36 segments"), "\(ok.stdout)")
    }

    @Test func dropsBeyondTheShareFailUnlessAllowed() throws {
        let dir = CLI.tempDir("import-share")
        // 2 of 20 lines have no layer: 10 % dropped, above the 5 % default.
        let file = try rdFile(dir, 20, badLayers: 2)
        let store = dir + "/nl.gpkg"
        let args = ["import", file, "--mapping", try mappingFile(dir), "--store", store, "--policy", "lenient", "--store-crs", "EPSG:28992"]
        let refused = try CLI.run(args)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("2 of 20 records dropped (10.0 %)"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--max-dropped"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store))
        let allowed = try CLI.run(args + ["--max-dropped", "10%"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdout.contains("Imported 18 segments"), "\(allowed.stdout)")
    }
}
