import Foundation
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
