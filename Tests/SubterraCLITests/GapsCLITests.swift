import Foundation
import Testing

/// The sample's survey accuracy reaching the dig check, stores in any CRS PROJ knows, and the
/// import's percentage bar.
@Suite struct GapsCLITests {
    static let ogrinfo = ["/usr/bin/ogrinfo", "/usr/local/bin/ogrinfo"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let vermont: String? = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let f = root.deletingLastPathComponent().appendingPathComponent("shared/datasets/vermont-sewer/BarreL.geojson").path
        return FileManager.default.fileExists(atPath: f) ? f : nil
    }()

    /// A `size` m square centred on (x, y), as WKT.
    func square(_ x: Double, _ y: Double, _ size: Double = 0.01) -> String {
        let h = size / 2
        let c = [(x - h, y - h), (x + h, y - h), (x + h, y + h), (x - h, y + h), (x - h, y - h)]
        return "POLYGON ((" + c.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "))"
    }

    func conflict(_ pipe: Int, _ wkt: String, store: String) throws -> [String: Any]? {
        let r = try CLI.run(["check-dig", wkt, "--depth", "1", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let cs = try CLI.object(r.stdout)["conflicts"] as? [[String: Any]] ?? []
        return cs.first { $0["pipeID"] as? Int == pipe }
    }

    /// Sample segment 289 (JS, DN32, accuracy_m 0.3) runs from (637160.019, 3140025.036) to
    /// (637171.094, 3140025.278). Checked on the files directly and on a store imported from them.
    @Test(.enabled(if: CLITests.sample != nil, "Datasets/sample is not generated yet"))
    func sampleAccuracyWidensTheDigClearance() throws {
        let dir = CLI.tempDir("accuracy")
        let store = dir + "/sample.gpkg"
        let imp = try CLI.run(["import", CLITests.sample!, "--store", store])
        #expect(imp.status == 0, "\(imp.stderr)")
        let (ax, ay, bx, by) = (637160.019, 3140025.036, 637171.094, 3140025.278)
        let (mx, my) = ((ax + bx) / 2, (ay + by) / 2)
        let len = ((bx - ax) * (bx - ax) + (by - ay) * (by - ay)).squareRoot()
        let (nx, ny) = (-(by - ay) / len, (bx - ax) / len)
        for source in [store, CLITests.sample!] {
            let crossing = try #require(try conflict(289, square(mx, my, 1), store: source), "\(source)")
            let rule = try #require(crossing["ruleClearance"] as? Double)
            #expect(crossing["accuracy"] as? Double == 0.3, "\(source)")
            #expect(abs((crossing["requiredClearance"] as? Double ?? 0) - (rule + 0.3)) < 1e-12)
            // Between rule and rule + accuracy: flagged only because of the accuracy.
            let d = rule + 0.15
            let near = try #require(try conflict(289, square(mx + nx * d, my + ny * d), store: source), "\(source)")
            let dist = try #require(near["distance"] as? Double)
            #expect(dist > rule && dist < rule + 0.3, "distance \(dist)")
            let far = rule + 0.4
            #expect(try conflict(289, square(mx + nx * far, my + ny * far), store: source) == nil, "beyond rule + accuracy")
        }
    }

    @Test(.enabled(if: GapsCLITests.ogrinfo != nil, "needs GDAL's ogrinfo"))
    func newStoresTakeAnyCRSAndOGRReadsIt() throws {
        let dir = CLI.tempDir("crs")
        var cases: [(args: [String], code: Int)] = []
        if let s = CLITests.sample { cases.append(([s], 4528)) }
        if let vt = Self.vermont { cases.append(([vt, "--mapping", "../Datasets/mappings/vermont-sewer-lines.json"], 32145)) }
        #expect(!cases.isEmpty)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        for (args, code) in cases {
            let store = "\(dir)/s\(code).gpkg"
            let a = args.map { $0.hasPrefix("../") ? root + "/" + $0.dropFirst(3) : $0 }
            let r = try CLI.run(["import"] + a + ["--store", store, "--store-crs", "EPSG:\(code)"])
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("(EPSG:\(code))"))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: Self.ogrinfo!)
            p.arguments = ["-so", store, "subterra_segments"]
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0)
            #expect(text.contains("ID[\"EPSG\",\(code)]]"), "ogrinfo reports EPSG:\(code): \(text.suffix(300))")
            let info = try CLI.object(try CLI.run(["info", "--store", store, "--format", "json"]).stdout)
            #expect(info["crs"] as? String == "EPSG:\(code)")
        }
        let bad = try CLI.run(["import", CLITests.sample ?? "x", "--store", dir + "/bad.gpkg", "--store-crs", "+proj=utm +zone=51"])
        #expect(bad.status == 2 && bad.stderrLines.count == 1)
        #expect(bad.stderr.contains("--store-crs") && bad.stderr.contains("authority code"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/bad.gpkg"))
    }

    /// Under a pseudo-terminal the import draws a percentage bar; piped, stderr stays clean.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script") && CLITests.sample != nil))
    func importDrawsAPercentageOnlyOnATerminal() throws {
        let dir = CLI.tempDir("pct")
        let (status, text) = try CLI.runOnTerminal(["import", CLITests.sample!, "--store", dir + "/t.gpkg"], log: dir + "/tty.log")
        #expect(status == 0)
        #expect(text.range(of: #"\] +100% (reading|checking|writing)"#, options: .regularExpression) != nil,
                "a percentage bar reaches 100%: \(text.prefix(400))")
        let piped = try CLI.run(["import", CLITests.sample!, "--store", dir + "/p.gpkg"])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("\u{1B}") && !piped.stderr.contains("%"))
    }
}
