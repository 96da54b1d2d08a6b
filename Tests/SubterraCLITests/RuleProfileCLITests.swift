import Foundation
import Testing

/// Issue 13 item 5: `--rules` selects a built-in profile by name; its reports show only its names.
@Suite struct RuleProfileCLITests {
    static let site = "POLYGON ((637850 3140128, 637854 3140128, 637854 3140132, 637850 3140132, 637850 3140128))"

    @Test(.enabled(if: CLITests.sample != nil, "Datasets/sample is not generated yet"))
    func checkDigTakesABuiltInProfileByName() throws {
        // The UK profile on the British worked example.
        let e = RealDeliveryExampleCLITests.example
        let store = CLI.tempDir("uk-profile") + "/uk.gpkg"
        let imported = try CLI.run([
            "import", e + "/lines.geojson", e + "/zones.geojson", "--mapping", e + "/mapping.json", "--store", store,
            "--store-crs", "EPSG:27700",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let ukSite = "POLYGON ((530020 180002, 530026 180002, 530026 180009, 530020 180009, 530020 180002))"
        let uk = try CLI.run(["check-dig", ukSite, "--depth", "1.5", "--store", store, "--rules", "uk-hsg47"])
        #expect(uk.status == 0, "\(uk.stderr)")
        #expect(uk.stdout.contains("rules       UK HSG47 profile"), "\(uk.stdout)")
        for gb in ["GB50289", "GB 50289", "sub-high", "medium B"] { #expect(!uk.stdout.contains(gb), "\(gb) in \(uk.stdout)") }
        // GB 50289 on the Chinese sample; the UK profile there is refused, naming its jurisdiction.
        let gb = try CLI.run(["check-dig", Self.site, "--depth", "1.5", "--store", CLITests.sample!])
        #expect(gb.stdout.contains("rules       GB 50289 defaults"), "\(gb.stdout)")
        let ukOnChina = try CLI.run(["check-dig", Self.site, "--depth", "1.5", "--store", CLITests.sample!, "--rules", "uk-hsg47"])
        #expect(ukOnChina.status == 2 && ukOnChina.stderr.contains("the rules are for United Kingdom"), "\(ukOnChina.stderr)")
        let bad = try CLI.run(["check-dig", Self.site, "--depth", "1.5", "--store", CLITests.sample!, "--rules", "nl-crow500"])
        #expect(bad.status != 0 && bad.stderr.contains("uk-hsg47"), "names the built-in profiles: \(bad.stderr)")
    }
}
