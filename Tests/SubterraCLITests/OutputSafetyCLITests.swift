import Foundation
import Testing

/// Issue 11, item 1: no output path may touch the store or any input of the command, outputs
/// land by rename, and a failed write exits 2 with the reason and claims nothing.
@Suite struct OutputSafetyCLITests {
    let fx: Fixture

    init() throws { fx = try Fixture.shared.get() }

    /// A 4 m pit on the grid node where every layer crosses: it conflicts, so maps have content.
    var pit: String {
        let cx = Fixture.x0 + Fixture.spacing, cy = Fixture.y0 + Fixture.spacing
        return Oracle.wkt([(cx - 2, cy - 2), (cx + 2, cy - 2), (cx + 2, cy + 2), (cx - 2, cy + 2), (cx - 2, cy - 2)])
    }

    var route: String {
        "LINESTRING (\(Fixture.x0 + 10.5) \(Fixture.y0 + 7.5), \(Fixture.x0 + 170.5) \(Fixture.y0 + 131.5))"
    }

    var cut: String { "LINESTRING (\(Fixture.x0 + 30) \(Fixture.y0 - 20), \(Fixture.x0 + 30) \(Fixture.y0 + 80))" }

    /// A private copy of the fixture store, so a defect that overwrites it cannot break other tests.
    func storeCopy(_ name: String) throws -> (dir: String, store: String) {
        let dir = CLI.tempDir("out-\(name)")
        let store = dir + "/city.gpkg"
        try FileManager.default.copyItem(atPath: fx.store, toPath: store)
        return (dir, store)
    }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    func device(_ name: String, minor: Int) -> String { CLI.device(name, minor: minor) }

    /// Exit 2, exactly one stderr line naming `needle`, and no claim that anything was written.
    func expectRefused(_ r: CLI.Result, _ needle: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "status \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderrLines.count == 1, "one line: \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(needle), "names \(needle): \(r.stderr)", sourceLocation: sourceLocation)
        let claims = (r.stdout + r.stderr).contains("written")
        #expect(!claims, "claims success: \(r.stderr)", sourceLocation: sourceLocation)
    }

    // MARK: Outputs that are inputs

    @Test func mapOverTheStoreIsRefusedAndTheStoreIsUnchanged() throws {
        let (_, store) = try storeCopy("map-store")
        let before = try #require(bytes(store))
        let r = try CLI.run(["check-dig", pit, "--depth", "1.5", "--store", store, "--map", store])
        expectRefused(r, "--map")
        #expect(r.stderr.contains("--store"), "says which input: \(r.stderr)")
        #expect(bytes(store) == before, "store bytes unchanged")
        // The store still answers.
        #expect(try CLI.run(["info", "--store", store]).status == 0)
    }

    @Test func everyOutputOptionRefusesTheStore() throws {
        let (_, store) = try storeCopy("all-outputs")
        let before = try #require(bytes(store))
        let cases: [[String]] = [
            ["check-route", route, "--layer", "RQ", "--depth", "1", "--store", store, "--map", store],
            ["section", cut, "--store", store, "--svg", store],
            ["render", "dig", pit, "--depth", "1.5", "--store", store, "--out", store],
            ["render", "route", route, "--layer", "RQ", "--depth", "1", "--store", store, "--out", store],
            ["render", "section", cut, "--store", store, "--out", store],
        ]
        for args in cases {
            let r = try CLI.run(args)
            expectRefused(r, store)
            #expect(bytes(store) == before, "\(args[0]) \(args[1]): store bytes unchanged")
        }
    }

    @Test func mapOverTheGeometryFileIsRefused() throws {
        let (dir, store) = try storeCopy("map-geometry")
        let site = dir + "/site.wkt"
        try pit.write(toFile: site, atomically: true, encoding: .utf8)
        let before = try #require(bytes(site))
        let r = try CLI.run(["check-dig", "@" + site, "--depth", "1.5", "--store", store, "--map", site])
        expectRefused(r, "site.wkt")
        #expect(bytes(site) == before, "the geometry file is unchanged")
        // The same file reached through another spelling of its path.
        let dotted = dir + "/./../" + URL(fileURLWithPath: dir).lastPathComponent + "/site.wkt"
        expectRefused(try CLI.run(["render", "dig", "@" + site, "--depth", "1.5", "--store", store, "--out", dotted]), "site.wkt")
        #expect(bytes(site) == before)
    }

    @Test func linksToTheStoreAreRefused() throws {
        let (dir, store) = try storeCopy("map-links")
        let before = try #require(bytes(store))
        let soft = dir + "/soft.svg", hard = dir + "/hard.svg"
        try FileManager.default.createSymbolicLink(atPath: soft, withDestinationPath: store)
        try FileManager.default.linkItem(atPath: store, toPath: hard)
        for out in [soft, hard] {
            expectRefused(try CLI.run(["check-dig", pit, "--depth", "1.5", "--store", store, "--map", out]), out)
            expectRefused(try CLI.run(["section", cut, "--store", store, "--svg", out]), out)
            #expect(bytes(store) == before, "\(out): store unchanged")
        }
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: soft)) == store, "the link is left alone")
        // A store reached through a link is the same file too.
        let storeLink = dir + "/link.gpkg"
        try FileManager.default.createSymbolicLink(atPath: storeLink, withDestinationPath: store)
        expectRefused(try CLI.run(["check-dig", pit, "--depth", "1.5", "--store", storeLink, "--map", store]), "--map")
        #expect(bytes(store) == before)
    }

    @Test func filesOfASurveyDirectoryAndOptionFilesAreRefused() throws {
        let dir = CLI.tempDir("out-survey-dir")
        for f in ["segments.geojson", "points.geojson"] {
            try FileManager.default.copyItem(atPath: fx.dir + "/" + f, toPath: dir + "/" + f)
        }
        let rules = CLI.tempDir("out-rules") + "/rules.json"
        try "{}".write(toFile: rules, atomically: true, encoding: .utf8)
        let snapshot = { [dir] in
            ["segments.geojson", "points.geojson"].map { FileManager.default.contents(atPath: dir + "/" + $0) } + [FileManager.default.contents(atPath: rules)]
        }
        let before = snapshot()
        // The files read, a file beside them that is not read, and a new file: the directory is data.
        try "x".write(toFile: dir + "/points.csv", atomically: true, encoding: .utf8)
        for out in [dir + "/segments.geojson", dir + "/points.geojson", dir + "/points.csv", dir + "/new.svg"] {
            expectRefused(try CLI.run(["check-dig", pit, "--depth", "1.5", "--store", dir, "--map", out]), out)
        }
        #expect(bytes(dir + "/points.csv") == Data("x".utf8))
        #expect(!FileManager.default.fileExists(atPath: dir + "/new.svg"))
        // A segments file given alone reads its points file beside it: that is an input too.
        expectRefused(
            try CLI.run(["section", cut, "--store", dir + "/segments.geojson", "--svg", dir + "/points.geojson"]), "points.geojson")
        expectRefused(try CLI.run(["check-dig", pit, "--depth", "1.5", "--store", dir, "--rules", rules, "--map", rules]), "--rules")
        #expect(snapshot() == before, "no input changed")
        // A mapping file is an input even where the store (a GeoPackage) does not need it.
        let (sdir, store) = try storeCopy("mapping-out")
        let mapping = sdir + "/mapping.json"
        try "{}".write(toFile: mapping, atomically: true, encoding: .utf8)
        expectRefused(try CLI.run(["render", "section", cut, "--store", store, "--mapping", mapping, "--out", mapping]), "--mapping")
        #expect(bytes(mapping) == Data("{}".utf8))
    }

    @Test func importRefusesAStoreThatIsOneOfItsInputs() throws {
        let (dir, store) = try storeCopy("import-self")
        let before = try #require(bytes(store))
        let r = try CLI.run(["import", store, "--store", store])
        #expect(r.status == 2, "\(r.stdout) \(r.stderr)")
        #expect(r.stderrLines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("--store"))
        #expect(bytes(store) == before, "store unchanged")
        // A store path naming a file inside an input directory.
        let survey = dir + "/survey"
        try FileManager.default.createDirectory(atPath: survey, withIntermediateDirectories: true)
        for f in ["segments.geojson", "points.geojson"] {
            try FileManager.default.copyItem(atPath: fx.dir + "/" + f, toPath: survey + "/" + f)
        }
        let seg = try #require(bytes(survey + "/segments.geojson"))
        let r2 = try CLI.run(["import", survey, "--store", survey + "/segments.geojson"])
        #expect(r2.status == 2)
        #expect(r2.stderrLines.count == 1, "\(r2.stderr)")
        #expect(r2.stderr.contains("is the same file as"), "\(r2.stderr)")
        #expect(bytes(survey + "/segments.geojson") == seg)
    }

    // MARK: Failed writes

    @Test func aMissingDirectoryFailsWithTheReason() throws {
        let (_, store) = try storeCopy("missing-dir")
        let missing = "/nonexistent-\(getpid())/dir/x.svg"
        for args in [
            ["check-dig", pit, "--depth", "1.5", "--store", store, "--map", missing],
            ["section", cut, "--store", store, "--svg", missing],
            ["render", "section", cut, "--store", store, "--out", missing],
        ] {
            let r = try CLI.run(args)
            expectRefused(r, missing)
            #expect(r.stderr.contains("No such file or directory"), "\(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: "/nonexistent-\(getpid())"), "no directory was made")
    }

    @Test func aFullDeviceFailsWithTheReason() throws {
        let (_, store) = try storeCopy("dev-full")
        let full = device("full", minor: 7)
        for args in [
            ["check-dig", pit, "--depth", "1.5", "--store", store, "--map", full],
            ["render", "dig", pit, "--depth", "1.5", "--store", store, "--out", full],
        ] {
            let r = try CLI.run(args)
            expectRefused(r, full)
            #expect(r.stderr.contains("No space left on device"), "\(r.stderr)")
        }
        var st = stat()
        #expect(stat(full, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR, "the device is still a device")
    }

    @Test func aDirectoryIsNotAnOutputFile() throws {
        let (dir, store) = try storeCopy("dir-target")
        expectRefused(try CLI.run(["section", cut, "--store", store, "--svg", dir]), "directory")
    }

    // MARK: Writes that work

    @Test func outputsReplaceFilesByRenameAndLeaveNoTemporaryFile() throws {
        let (dir, store) = try storeCopy("ok")
        let map = dir + "/dig.svg"
        try "old".write(toFile: map, atomically: true, encoding: .utf8)
        let oldInode = try FileManager.default.attributesOfItem(atPath: map)[.systemFileNumber] as? Int
        let r = try CLI.run(["check-dig", pit, "--depth", "1.5", "--store", store, "--map", map])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("map written to \(map)"))
        #expect(SVGCheck.parse(map) != nil, "the map replaced the old file")
        let newInode = try FileManager.default.attributesOfItem(atPath: map)[.systemFileNumber] as? Int
        #expect(oldInode != newInode, "replaced by rename, not rewritten in place")
        // A link to a file that is no input is followed: the file it names gets the drawing.
        let real = dir + "/real.svg", link = dir + "/link.svg"
        try "old".write(toFile: real, atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: real)
        let s = try CLI.run(["section", cut, "--store", store, "--svg", link])
        #expect(s.status == 0, "\(s.stderr)")
        #expect(SVGCheck.parse(real) != nil)
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: link)) == real, "the link stays a link")
        // A new file in the current directory (a bare name) works too.
        let rel = try CLI.run(["render", "section", cut, "--store", store, "--out", "subterra-rel-\(getpid()).svg"])
        #expect(rel.status == 0, "\(rel.stderr)")
        try? FileManager.default.removeItem(atPath: "subterra-rel-\(getpid()).svg")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
        #expect(names == ["city.gpkg", "city.gpkg.subterra-snapshot", "dig.svg", "link.svg", "real.svg"], "no temporary file left: \(names)")
        // A character device that accepts writes is written directly.
        let null = device("null", minor: 3)
        let n = try CLI.run(["render", "dig", pit, "--depth", "1.5", "--store", store, "--out", null])
        #expect(n.status == 0, "\(n.stderr)")
        var st = stat()
        #expect(stat(null, &st) == 0 && st.st_mode & S_IFMT == S_IFCHR, "the device is still a device")
    }
}
