import Foundation
import Testing

/// The README's worked example "Importing real deliveries", run as written.
@Suite struct RealDeliveryExampleCLITests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Datasets/examples/delivery-uk").path

    @Test func theReadmeExampleImportsAndChecksAsDocumented() throws {
        let dir = CLI.tempDir("delivery-uk")
        let store = dir + "/nl.gpkg"
        let e = Self.example
        let imported = try CLI.run([
            "import", e + "/lines.geojson", e + "/zones.geojson", "--mapping", e + "/mapping.json",
            "--store", store, "--store-crs", "EPSG:27700",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let out = imported.stdout
        #expect(out.contains("Imported 2 operator areas: 1 precaution zone, 1 interest area."), "\(out)")
        #expect(out.contains("1 multi-part line was kept as 2 segments"), "\(out)")
        #expect(out.contains("pressure '0' means unknown in this mapping; taken from the fallback field asset_type: '7'"), "\(out)")
        #expect(out.contains("coincidentTrace"), "\(out)")

        let info = try CLI.run(["info", "--store", store])
        #expect(info.stdout.contains("Segments    5") && info.stdout.contains("Pipes       4 (multi-part lines count once)")
                && info.stdout.contains("Areas       2"), "\(info.stdout)")

        let site = "POLYGON ((530020 180002, 530026 180002, 530026 180009, 530020 180009, 530020 180002))"
        let r = try CLI.run(["check-dig", site, "--depth", "0.5", "--rules", "uk-hsg47", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let conflicts = try #require(obj["conflicts"] as? [[String: Any]])
        // The low-voltage cable is crossed, reported once with its duct as an enclosure; its
        // source id is shown; no GB 50289 name appears.
        #expect(conflicts.count == 1 && (conflicts.first?["sourceID"] as? String) == "UKPN-LV-0042", "\(conflicts)")
        let enclosures = try #require(conflicts.first?["enclosures"] as? [[String: Any]])
        #expect(enclosures.compactMap { $0["sourceID"] as? String } == ["UKPN-DUCT-0043"], "\(enclosures)")
        #expect(!r.stdout.contains("GB50289") && !r.stdout.contains("gas sub-high"), "\(r.stdout)")
        // The gas main's operator is notified through its precaution zone, Openreach through its
        // interest area although it delivered no lines.
        let owners = try #require(obj["owners"] as? [[String: Any]]).compactMap { $0["owner"] as? String }
        #expect(owners.contains("Cadent Gas") && owners.contains("Openreach") && owners.contains("UK Power Networks"), "\(owners)")
        let areas = try #require(obj["areas"] as? [[String: Any]]).compactMap { $0["sourceID"] as? String }
        #expect(areas == ["CAD-PZ-01", "OR-AOI-9"], "\(areas)")

        // The default GB 50289 profile does not judge a British map: one line naming both areas.
        let gb = try CLI.run(["check-dig", site, "--depth", "0.5", "--store", store])
        #expect(gb.status == 2 && gb.stderrLines.count == 1, "\(gb.stdout) \(gb.stderr)")
        #expect(gb.stderr.contains("the rules are for China (lon 73.4..135.1, lat 18.1..53.6), but the map's CRS EPSG:27700 is used in United Kingdom"), "\(gb.stderr)")
        let route = try CLI.run(["check-route", "LINESTRING (530000 180020, 530090 180020)", "--layer", "JS", "--depth", "1", "--store", store])
        #expect(route.status == 2 && route.stderr.contains("the rules are for China"), "\(route.stderr)")
    }
}
