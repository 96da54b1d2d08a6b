import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// `subterra isolate` on a small water network with every valve status, sources and customers
/// (files and an imported store), and on the sample district (valves of unknown status).
@Suite struct IsolateCLITests {
    /// S(plant) -1- A(open) -2- B(tee) -3- C(closed) -4- D(10 households);
    /// B -5- E(hospital); B -6- F(inoperable) -7- G(open) -8- H(2 school).
    static func fixture(_ name: String) throws -> String {
        let dir = CLI.tempDir("isolate-" + name)
        let places: [(String, Double, Double, String, String)] = [
            ("S", 0, 0, "plant", ""), ("A", 100, 0, "valve", #","valve_status":"open""#),
            ("B", 200, 0, "tee", ""), ("C", 300, 0, "valve", #","valve_status":"closed""#),
            ("D", 400, 0, "service-connection", #","customer_category":"household","customer_count":10"#),
            ("E", 200, 100, "service-connection", #","customer_category":"hospital""#),
            ("F", 200, -100, "valve", #","valve_status":"inoperable""#), ("G", 200, -200, "valve", #","valve_status":"open""#),
            ("H", 200, -300, "service-connection", #","customer_category":"school","customer_count":2"#),
        ]
        let pipes = [("S", "A"), ("A", "B"), ("B", "C"), ("C", "D"), ("B", "E"), ("B", "F"), ("F", "G"), ("G", "H")]
        try write(dir, layer: "JS", places: places, pipes: pipes.map { ($0.0, $0.1, #","section":"DN200""#) })
        return dir
    }

    /// Writes `points.geojson` and `segments.geojson` in the sample's layout: places (number,
    /// x, y offsets, kind, extra properties) and pipes (from, to, extra properties) numbered from 1.
    static func write(
        _ dir: String, layer: String, places: [(String, Double, Double, String, String)], pipes: [(String, String, String)]
    ) throws {
        let x0 = 637000.0, y0 = 3140000.0
        var at: [String: (Double, Double)] = [:]
        var points: [String] = []
        for (n, x, y, kind, extra) in places {
            at[n] = (x0 + x, y0 + y)
            points.append(#"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(x0 + x),\#(y0 + y)]},"properties":{"number":"\#(n)","layer":"\#(layer)","kind":"\#(kind)"\#(extra)}}"#)
        }
        var segments: [String] = []
        for (i, (a, b, extra)) in pipes.enumerated() {
            let p = at[a]!, q = at[b]!
            segments.append(#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[\#(p.0),\#(p.1)],[\#(q.0),\#(q.1)]]},"properties":{"id":\#(i + 1),"layer":"\#(layer)","start_point":"\#(a)","end_point":"\#(b)"\#(extra)}}"#)
        }
        func collection(_ fs: [String]) -> String {
            #"{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":["# + "\n"
                + fs.joined(separator: ",\n") + "]}\n"
        }
        try collection(points).write(toFile: dir + "/points.geojson", atomically: true, encoding: .utf8)
        try collection(segments).write(toFile: dir + "/segments.geojson", atomically: true, encoding: .utf8)
    }

    func plan(_ args: [String]) throws -> [String: Any] {
        let r = try CLI.run(["isolate"] + args + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try CLI.object(r.stdout)
    }

    func numbers(_ o: [String: Any], _ key: String) -> [String] {
        (o[key] as? [[String: Any]] ?? []).compactMap { $0["number"] as? String }
    }

    /// What the fixture's break on pipe 5 must give, from files or from a store.
    func expectFixtureAnswer(_ o: [String: Any]) {
        #expect(numbers(o, "valvesToClose") == ["A", "G"])
        #expect(numbers(o, "closedBarriers") == ["C"])
        #expect(numbers(o, "passedValves") == ["F"])
        #expect((o["isolatedPipes"] as? [[String: Any]])?.compactMap { $0["segmentID"] as? Int } == [2, 3, 5, 6, 7])
        // Hospital first; the school behind G and the households behind closed C count too.
        #expect(numbers(o, "cutOffConnections") == ["E", "H", "D"])
        let tally = (o["customersCutOff"] as? [[String: Any]])?.map { "\($0["category"]!):\($0["customers"]!)" }
        #expect(tally == ["hospital:1", "school:2", "household:10"])
        let failures = o["failures"] as? [[String: Any]] ?? []
        #expect(failures.compactMap { $0["valve"] as? String } == ["A", "G"])
        #expect(failures.first?["extraSourcesToShut"] as? [String] == ["S"])
        #expect((failures.last?["extraPipes"] as? [[String: Any]])?.compactMap { $0["segmentID"] as? Int } == [8])
    }

    @Test func fixtureFromFilesAndFromAStore() throws {
        let dir = try Self.fixture("t1")
        expectFixtureAnswer(try plan(["5", "--layer", "JS", "--store", dir]))
        // The same break given by position (the middle of pipe 5) and through an imported store.
        expectFixtureAnswer(try plan(["637200,3140050", "--layer", "js", "--store", dir]))
        let store = CLI.tempDir("isolate-store") + "/net.gpkg"
        let imported = try CLI.run(["import", dir, "--store", store])
        #expect(imported.status == 0, "\(imported.stderr)")
        expectFixtureAnswer(try plan(["5", "--layer", "JS", "--store", store]))
    }

    @Test func tableAndMap() throws {
        let dir = try Self.fixture("t2")
        let svg = CLI.tempDir("isolate-svg") + "/plan.svg"
        let r = try CLI.run(["isolate", "5", "--layer", "JS", "--store", dir, "--svg", svg])
        #expect(r.status == 0, "\(r.stderr)")
        for needle in ["Valves to close (2):", "Already closed (no action): C (closed)", "Cannot be closed, passed: F (inoperable)",
                       "Customers cut off: 13 (10 of them already without supply", "hospital: 1 at 1 connection",
                       "A: no further valve; shut S; +1 pipes", "map written to",
                       "Network checks (JS): 1 component, 0 dangling ends, 0 valves off the pipe ends"] {
            #expect(r.stdout.contains(needle), "'\(needle)' in\n\(r.stdout)")
        }
        let doc = try XMLDocument(contentsOf: URL(fileURLWithPath: svg))
        func count(_ cls: String) throws -> Int { try doc.nodes(forXPath: "//*[local-name()='g'][@class='\(cls)']").count }
        #expect(try count("isolated") == 5 && count("valve-to-close") == 2 && count("valve-closed") == 1)
        #expect(try count("valve-inoperable") == 1 && count("connection-cut") == 3 && count("break") == 1)
    }

    @Test func breakAtAPointAndRefusals() throws {
        let dir = try Self.fixture("t3")
        let o = try plan(["C", "--layer", "JS", "--store", dir])
        #expect(o["brokenSegmentIDs"] as? [Int] == [3, 4])
        for (args, needle) in [
            (["99", "--layer", "JS"], "no JS pipe id, point number or source id '99'"),
            (["5", "--layer", "PS"], "valve isolation is for pressurised networks"),
            (["5", "--layer", "RQ"], "no pipes in layer RQ"),
            (["0,0", "--layer", "JS"], "no JS pipe within --max-distance 5.00 m"),
            (["5", "--layer", "JS", "--pressure-class", "low"], "applies to gas"),
            (["5", "--layer", "JS", "--tolerance=-1"], "must be finite, 0...100"),
        ] {
            let r = try CLI.run(["isolate"] + args + ["--store", dir])
            #expect(r.status == 2 && r.stderrLines.count == 1 && r.stdout.isEmpty, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(needle), "'\(needle)' in \(r.stderr)")
        }
    }

    /// The README's walk-through: a burst water main in the sample (pipe 273, chosen and
    /// checked against the brute-force oracle in `SampleNetworkTests`).
    @Test(.enabled(if: CLITests.sample != nil, "Datasets/sample is not generated yet"))
    func sampleDistrict() throws {
        let o = try plan(["273", "--layer", "JS", "--store", CLITests.sample!])
        let close = numbers(o, "valvesToClose")
        #expect(!close.isEmpty && close.allSatisfy { $0.hasPrefix("JS") })
        // The sample records every valve's status: nothing to check on site.
        #expect((o["unverifiedValves"] as? [String])?.isEmpty == true)
        let pipes = (o["isolatedPipes"] as? [[String: Any]])?.compactMap { $0["segmentID"] as? Int } ?? []
        #expect(pipes.contains(273) && pipes == pipes.sorted())
        #expect((o["sourcesInComponent"] as? Int ?? 0) >= 1)
        // Customers cut off, hospitals first.
        let tallies = o["customersCutOff"] as? [[String: Any]] ?? []
        #expect(tallies.first?["category"] as? String == "hospital")
        let cut = (o["cutOffConnections"] as? [[String: Any]] ?? []).compactMap { $0["category"] as? String }
        #expect(cut.first == "hospital")
        // The text form leads with the valves and lists the hospital first to notify.
        let text = try CLI.run(["isolate", "273", "--layer", "JS", "--store", CLITests.sample!])
        #expect(text.status == 0)
        #expect(text.stdout.contains("Valves to close (\(close.count)):"))
        let notify = text.stdout.components(separatedBy: "notify, in order:\n").last ?? ""
        #expect(notify.split(separator: "\n").first?.contains("hospital") == true, "\(notify)")
    }

    /// `query --batch` answers isolate, trace and valve-segments lines with what the commands
    /// print with `--json`.
    @Test(.enabled(if: CLITests.sample != nil, "Datasets/sample is not generated yet"))
    func batchNetworkLinesAnswerLikeTheCommands() throws {
        let store = CLITests.sample!
        let lines = [
            #"{"id":1,"op":"isolate","layer":"JS","target":"273"}"#,
            #"{"id":2,"op":"valve-segments","layer":"JS","top":3}"#,
            #"{"id":3,"op":"trace","direction":"downstream","from":["PS000001"]}"#,
            #"{"id":4,"op":"isolate","layer":"PS","target":"273"}"#,
        ].joined(separator: "\n") + "\n"
        let r = try CLI.run(["query", "--batch", "-", "--store", store], stdin: Data(lines.utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let answers = r.stdout.split(separator: "\n").map {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] ?? [:]
        }
        #expect(answers.count == 4)
        func command(_ args: [String]) throws -> NSDictionary {
            let c = try CLI.run(args + ["--store", store, "--json"])
            #expect(c.status == 0, "\(args): \(c.stderr)")
            return try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as! NSDictionary
        }
        for (i, args) in [
            ["isolate", "273", "--layer", "JS"], ["valve-segments", "--layer", "JS", "--top", "3"],
            ["trace", "downstream", "PS000001"],
        ].enumerated() {
            #expect(answers[i]["ok"] as? Bool == true, "\(answers[i])")
            let result = answers[i]["result"] as? NSDictionary
            #expect(result == (try command(args)), "line \(i + 1) and \(args)")
        }
        #expect(answers[3]["ok"] as? Bool == false)
        #expect((answers[3]["error"] as? String)?.contains("pressurised networks") == true)
    }
}
