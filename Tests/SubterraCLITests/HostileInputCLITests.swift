import Foundation
import Testing

/// Issue 11, cases found by probing the fixed tool as a hostile caller: absurd planned values,
/// lost standard output, PROJ strings that name files in batch lines, absurd thread counts. Each
/// must end in one line and exit 2 (or an error answer), never a crash, a hang or a false "OK".
@Suite struct HostileInputCLITests {
    let fx: Fixture
    init() throws { fx = try Fixture.shared.get() }

    static let route = "LINESTRING (501000 3379010, 501100 3379010)"

    /// A diameter of 1e19 mm crashed the table writer (Double to Int); a 1e308 m depth passed as
    /// "OK". Planned values are held to the rule files' bounds.
    @Test func absurdPlannedValuesAreRefused() throws {
        let cases: [([String], String)] = [
            (["check-route", Self.route, "--layer", "RQ", "--depth", "1", "--diameter", "1e19"], "diameterMM is 1e+19 mm; the largest accepted is 20000 mm"),
            (["check-route", Self.route, "--layer", "RQ", "--depth", "1e308", "--fail-on-conflict"], "depthAtStart is 1e+308 m; the largest accepted is 100 m"),
            (["check-route", Self.route, "--layer", "DL", "--depth", "1", "--voltage", "1e308"], "voltageKV is 1e+308 kV; the largest accepted is 2000 kV"),
            (["check-dig", "POLYGON ((501000 3379000, 501004 3379000, 501004 3379004, 501000 3379000))", "--depth", "1e308"], "planned depth is 1e+308 m; the largest accepted is 100 m"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args + ["--store", fx.store])
            #expect(r.status == 2, "\(args): \(r.stdout.prefix(200)) \(r.stderr.prefix(300))")
            #expect(r.stderrLines.count == 1 && r.stderr.contains(message), "\(args): \(r.stderr.prefix(300))")
        }
        let svg = CLI.tempDir("hostile-route") + "/r.svg"
        let drawn = try CLI.run(["render", "route", Self.route, "--layer", "RQ", "--depth", "1", "--diameter", "1e19", "--out", svg, "--store", fx.store])
        #expect(drawn.status == 2 && drawn.stderrLines.count == 1, "\(drawn.stderr.prefix(300))")
    }

    /// A report that cannot reach standard output (a full device, a closed descriptor) exits 2
    /// with one line instead of 0.
    @Test func lostStandardOutputExits2() throws {
        let full = CLI.device("full", minor: 7)
        for script in ["exec \"$BIN\" info --store \"$STORE\" > \"$FULL\"", "exec \"$BIN\" info --store \"$STORE\" >&-"] {
            let r = try CLI.runShell(script, env: ["STORE": fx.store, "FULL": full], timeout: 60)
            #expect(r.status == 2, "\(script): \(r.stderr)")
            #expect(r.stderrLines.count == 1 && r.stderr.contains("standard output: cannot write the answer"), "\(script): \(r.stderr)")
        }
        let ok = try CLI.run(["info", "--store", fx.store])
        #expect(ok.status == 0)
    }

    /// A batch line's CRS is a name, never a PROJ string: `+init=` makes PROJ open the file it
    /// names (and a FIFO there hung the whole batch).
    @Test func projStringsInBatchLinesAreRefused() throws {
        let lines = [
            #"{"id":1,"op":"nearest","geometry":"POINT (121.40 28.37)","crs":"+proj=longlat +init=/etc/passwd:1"}"#,
            #"{"id":2,"op":"nearest","geometry":{"type":"Point","coordinates":[121.40,28.37],"crs":{"type":"name","properties":{"name":"+init=/etc/passwd:1"}}}}"#,
            #"{"id":3,"op":"nearest","geometry":"POINT (501000 3379000)","crs":"GEOGCS[\"x\"]"}"#,
            #"{"id":4,"op":"nearest","geometry":"POINT (501000 3379000)","crs":"urn:ogc:def:crs:EPSG::4549"}"#,
            #"{"id":5,"op":"nearest","geometry":"POINT (501000 3379000)","crs":"EPSG:4549"}"#,
        ]
        let r = try CLI.run(["query", "--batch", "-", "--store", fx.store], stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let answers = try r.stdoutLines.map(CLI.object)
        #expect(answers.count == 5)
        for a in answers.prefix(3) {
            #expect(a["ok"] as? Bool == false, "\(a)")
            #expect((a["error"] as? String)?.contains("names its CRS as AUTHORITY:CODE") == true, "\(a)")
        }
        for a in answers.suffix(2) { #expect(a["ok"] as? Bool == true, "\(a)") }
    }

    /// `--threads` past the pipeline's limit is refused (it overflowed, or started 10^5 threads).
    @Test func absurdThreadCountsAreRefused() throws {
        for n in ["9223372036854775807", "100000", "0"] {
            let r = try CLI.run(["query", "--batch", "-", "--threads", n, "--store", fx.store], stdin: Data("{\"op\":\"nearest\",\"geometry\":\"POINT (501000 3379000)\"}\n".utf8))
            #expect(r.status == 2 && r.stderrLines.count == 1 && r.stderr.contains("--threads \(n): must be from 1 to 256"), "\(n): \(r.stderr.prefix(300))")
        }
    }
}
