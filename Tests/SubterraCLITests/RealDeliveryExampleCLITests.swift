import Foundation
import Testing

/// The README's worked example "Importing real deliveries", run as written.
@Suite struct RealDeliveryExampleCLITests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Datasets/examples/delivery-nl").path

    @Test func theReadmeExampleImportsAndChecksAsDocumented() throws {
        let dir = CLI.tempDir("delivery-nl")
        let store = dir + "/nl.gpkg"
        let e = Self.example
        let imported = try CLI.run([
            "import", e + "/lines.geojson", e + "/zones.geojson", "--mapping", e + "/mapping.json",
            "--store", store, "--store-crs", "EPSG:28992",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let out = imported.stdout
        #expect(out.contains("Imported 2 operator areas: 1 precaution zone, 1 interest area."), "\(out)")
        #expect(out.contains("1 multi-part line was kept as 2 segments"), "\(out)")
        #expect(out.contains("pressure '0' means unknown in this mapping; taken from the fallback field thema: '40'"), "\(out)")
        #expect(out.contains("coincidentTrace"), "\(out)")

        let info = try CLI.run(["info", "--store", store])
        #expect(info.stdout.contains("Segments    5") && info.stdout.contains("Pipes       4 (multi-part lines count once)")
                && info.stdout.contains("Areas       2"), "\(info.stdout)")

        let site = "POLYGON ((136020 456002, 136026 456002, 136026 456009, 136020 456009, 136020 456002))"
        let r = try CLI.run(["check-dig", site, "--depth", "0.5", "--rules", "uk-hsg47", "--store", store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let conflicts = try #require(obj["conflicts"] as? [[String: Any]])
        // The low-voltage cable is crossed; its source id is shown; no GB 50289 name appears.
        #expect(conflicts.contains { ($0["sourceID"] as? String) == "nl.imkl-KL1031.EKBL_0042" }, "\(conflicts)")
        #expect(!r.stdout.contains("GB50289") && !r.stdout.contains("gas sub-high"), "\(r.stdout)")
        // The gas main's operator is notified through its precaution zone, KPN through its
        // interest area although it delivered no lines.
        let owners = try #require(obj["owners"] as? [[String: Any]]).compactMap { $0["owner"] as? String }
        #expect(owners.contains("Gasunie") && owners.contains("KPN") && owners.contains("Liander"), "\(owners)")
        let areas = try #require(obj["areas"] as? [[String: Any]]).compactMap { $0["sourceID"] as? String }
        #expect(areas == ["nl.imkl-GU.VZ_01", "nl.imkl-KPN.BG_9"], "\(areas)")
    }
}
