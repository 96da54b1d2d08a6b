import Foundation
import Testing

/// Issue 13 item 5: `--rules` selects a built-in profile by name; its reports show only its names.
@Suite struct RuleProfileCLITests {
    static let site = "POLYGON ((637850 3140128, 637854 3140128, 637854 3140132, 637850 3140132, 637850 3140128))"

    @Test(.enabled(if: CLITests.sample != nil, "Datasets/sample is not generated yet"))
    func checkDigTakesABuiltInProfileByName() throws {
        let uk = try CLI.run(["check-dig", Self.site, "--depth", "1.5", "--store", CLITests.sample!, "--rules", "uk-hsg47"])
        #expect(uk.status == 0, "\(uk.stderr)")
        #expect(uk.stdout.contains("rules       UK HSG47 profile"), "\(uk.stdout)")
        for gb in ["GB50289", "GB 50289", "sub-high", "medium B"] { #expect(!uk.stdout.contains(gb), "\(gb) in \(uk.stdout)") }
        let gb = try CLI.run(["check-dig", Self.site, "--depth", "1.5", "--store", CLITests.sample!])
        #expect(gb.stdout.contains("rules       GB 50289 defaults"), "\(gb.stdout)")
        let bad = try CLI.run(["check-dig", Self.site, "--depth", "1.5", "--store", CLITests.sample!, "--rules", "nl-crow500"])
        #expect(bad.status != 0 && bad.stderr.contains("uk-hsg47"), "names the built-in profiles: \(bad.stderr)")
    }
}
