import Foundation
import Testing

/// Coordinates no map can hold are refused with exit 2 and one line naming the point and the
/// CRS's area (they used to be answered: `nearest 'POINT (1e155 …)'` said "0 pipes"); huge
/// distances are answered; an import under `--policy strict` refuses a vertex at 1e300.
@Suite struct MagnitudeCLITests {
    let fx: Fixture
    init() throws { fx = try Fixture.shared.get() }

    func expectRefused(_ args: [String], _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2, "exit \(r.status): \(r.stdout) \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("subterra: error: "), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stdout.isEmpty, "no answer: \(r.stdout)", sourceLocation: sourceLocation)
        for n in needles { #expect(r.stderr.contains(n), "'\(n)' in \(r.stderr)", sourceLocation: sourceLocation) }
    }

    @Test func queryPointsOutsideTheAreaOfUseExit2() throws {
        let area = "is outside the area of use of EPSG:4549: x 192175..807825, y 2536785..6082433 (lon 118.5..121.5, lat 24.43..53.33, widened by 1.5°)"
        try expectRefused(["nearest", "POINT (1e155 3379000)", "--store", fx.store], ["point (1e+155, 3379000) " + area])
        try expectRefused(["nearest", "POINT (501000 -1e308)", "--store", fx.store, "--format", "json"], ["(501000, -1e+308) " + area])
        try expectRefused(["within", "POINT (1e155 3379000)", "--distance", "1e308", "--store", fx.store], [area])
        try expectRefused(["intersects", "LINESTRING (501000 3379000, 1e300 3379000)", "--store", fx.store], ["line point 1 (1e+300, 3379000) " + area])
        try expectRefused(
            ["check-dig", "POLYGON ((501000 3379000, 1e300 3379000, 501000 3379004, 501000 3379000))", "--depth", "1.5", "--store", fx.store],
            ["exterior ring point 1 (1e+300, 3379000) " + area])
        try expectRefused(["check-route", "LINESTRING (501000 3379000, 501000 1e300)", "--layer", "RQ", "--depth", "1", "--store", fx.store], [area])
    }

    @Test func hugeDistancesCoverTheWholeMap() throws {
        func ids(_ distance: String) throws -> Set<String> {
            let r = try CLI.run(["within", "POINT (501000 3379000)", "--distance", distance, "--store", fx.store, "--format", "json"])
            #expect(r.status == 0, "\(distance): \(r.stderr)")
            let o = try CLI.object(r.stdout)
            let hits = o["pipes"] as? [[String: Any]] ?? o["hits"] as? [[String: Any]] ?? []
            return Set(hits.compactMap { ($0["id"]).map { "\($0)" } })
        }
        let all = try ids("1e7")
        #expect(!all.isEmpty)
        #expect(try ids("1e308") == all)
        #expect(try ids("1.7976931348623157e308") == all)
        // The table's header states a huge distance readably, not as a 309-digit integer.
        let table = try CLI.run(["within", "POINT (501000 3379000)", "--distance", "1e308", "--store", fx.store])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.hasPrefix("within 1e+308 m"), "\(table.stdout.prefix(80))")
        let r = try CLI.run(["nearest", "POINT (501000 3379000)", "-k", "100000", "--store", fx.store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
    }

    @Test func strictImportRefusesAVertexAt1e300AndLenientDropsIt() throws {
        let dir = CLI.tempDir("magnitude-import")
        for f in ["segments.geojson", "points.geojson"] {
            try FileManager.default.copyItem(atPath: fx.dir + "/" + f, toPath: dir + "/" + f)
        }
        // The first segment's last vertex goes to easting 1e300.
        let path = dir + "/segments.geojson"
        var text = try String(contentsOfFile: path, encoding: .utf8)
        let marker = "\"coordinates\":[["
        let start = try #require(text.range(of: marker) ?? text.range(of: "\"coordinates\": [["))
        let close = try #require(text.range(of: "]]", range: start.upperBound..<text.endIndex))
        let coords = text[start.upperBound..<close.lowerBound]
        let lastComma = try #require(coords.range(of: "[", options: .backwards))
        text.replaceSubrange(lastComma.upperBound..<close.lowerBound, with: "1e300, 3379000")
        try text.write(toFile: path, atomically: true, encoding: .utf8)

        let store = dir + "/out.gpkg"
        let strict = try CLI.run(["import", dir, "--store", store])
        #expect(strict.status == 2, "\(strict.stdout) \(strict.stderr)")
        #expect(strict.stderrLines.count == 1, "\(strict.stderr)")
        #expect(strict.stderr.contains("import rejected under the strict policy")
                && strict.stderr.contains("segments.geojson feature 0")
                && strict.stderr.contains("(1e+300, 3379000) is outside the area of use of EPSG:4549: x "), "\(strict.stderr)")
        #expect(!FileManager.default.fileExists(atPath: store), "a rejected import creates no store")

        let lenient = try CLI.run(["import", dir, "--store", store, "--policy", "lenient"])
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect(lenient.stdout.contains("(1e+300, 3379000) is outside the area of use of EPSG:4549") && lenient.stdout.contains("record dropped"),
                "\(lenient.stdout)")
        let far = try CLI.run(["nearest", "POINT (807000 3379000)", "--store", store, "--format", "json"])
        #expect(far.status == 0 && !far.stdout.contains("1e+300"), "\(far.stdout) \(far.stderr)")
    }
}
