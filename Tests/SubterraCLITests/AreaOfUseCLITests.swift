import Foundation
import Testing

/// Input the map CRS cannot represent is refused with exit status 2 and one line, never answered
/// "CLEAR": a dig polygon at −170° longitude used to be projected into EPSG:4549 (easting ≈ 1e7)
/// where no pipe is, and came back clear.
@Suite struct AreaOfUseCLITests {
    let fx: Fixture
    init() throws { fx = try Fixture.shared.get() }

    /// A ≈2 m square around (lon, lat), as WKT.
    func square(_ lon: Double, _ lat: Double, _ size: Double = 0.00002) -> String {
        let c = [(lon, lat), (lon + size, lat), (lon + size, lat + size), (lon, lat + size), (lon, lat)]
        return "POLYGON ((" + c.map { "\($0.0) \($0.1)" }.joined(separator: ", ") + "))"
    }

    func expectRefused(_ args: [String], _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2, "exit \(r.status): \(r.stdout) \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderrLines.count == 1, "one line, got \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("subterra: error: "), sourceLocation: sourceLocation)
        #expect(!r.stdout.contains("CLEAR") && r.stdout.isEmpty, "no answer on stdout: \(r.stdout)", sourceLocation: sourceLocation)
        for n in needles {
            #expect(r.stderr.contains(n), "'\(n)' in \(r.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func digPolygonAtMinus170IsRefusedNotClear() throws {
        let far = square(-170, 28.37)
        let needles = ["outside the area of use of EPSG:4549 (lon 118.5..121.5, lat 24.43..53.33)", "-170"]
        try expectRefused(["check-dig", far, "--crs", "EPSG:4326", "--depth", "1.5", "--store", fx.store], needles)
        try expectRefused(["check-dig", far, "--crs", "EPSG:4326", "--depth", "1.5", "--store", fx.store, "--format", "json"], needles)
        try expectRefused(["check-dig", "SRID=4326;" + far, "--depth", "1.5", "--store", fx.store, "--fail-on-conflict"], needles)
        try expectRefused(["nearest", "POINT (-170 28.37)", "--crs", "EPSG:4326", "--store", fx.store], needles)
    }

    @Test func swappedLatLonIsRefused() throws {
        // Latitude first, as EPSG:4326's official axis order writes it: longitude 30.53 is 88° off.
        try expectRefused(
            ["check-dig", square(30.531194157, 120.010420110), "--crs", "EPSG:4326", "--depth", "1.5", "--store", fx.store],
            ["outside the area of use of EPSG:4549"])
    }

    @Test func lonLatDigNearTheFixtureIsAnswered() throws {
        // The fixture's grid origin (501000, 3379000) in EPSG:4549 is lon 120.010420110, lat
        // 30.531194157 (cs2cs EPSG:4549 EPSG:4326): a 2 m dig there crosses the gas main.
        let r = try CLI.run([
            "check-dig", square(120.010415, 30.531189), "--crs", "EPSG:4326", "--depth", "1.5", "--store", fx.store,
            "--format", "json",
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let conflicts = try CLI.object(r.stdout)["conflicts"] as? [[String: Any]] ?? []
        #expect(conflicts.contains { $0["layer"] as? String == "RQ" && $0["distance"] as? Double == 0 }, "\(conflicts.count) conflicts")
    }
}
