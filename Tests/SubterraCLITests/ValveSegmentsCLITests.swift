import Foundation
import Testing

/// `subterra valve-segments` on the isolation fixture (every valve status, a source, customers).
@Suite struct ValveSegmentsCLITests {
    @Test func fixtureSegmentsAndValves() throws {
        // S -1- A(open) -2- B -3- C(closed) -4- D(10 households); B -5- E(hospital);
        // B -6- F(inoperable) -7- G(open) -8- H(2 school).
        let dir = try IsolateCLITests.fixture("segments")
        let r = try CLI.run(["valve-segments", "--layer", "JS", "--store", dir, "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let o = try CLI.object(r.stdout)
        #expect(o["segmentCount"] as? Int == 4 && o["pipes"] as? Int == 8)
        let segments = o["segments"] as? [[String: Any]] ?? []
        // Most customers first: C–D households, G–H school, the middle with the hospital (F is
        // inoperable, so it bounds nothing), then the plant's pipe.
        #expect(segments.map { $0["pipeIDs"] as? [Int] ?? [] } == [[4], [8], [2, 3, 5, 6, 7], [1]])
        #expect(segments.map { $0["customersTotal"] as? Int ?? -1 } == [10, 2, 1, 0])
        #expect(segments[2]["valvesToClose"] as? [String] == ["A", "G"] && segments[2]["closedValves"] as? [String] == ["C"])
        #expect(segments[2]["passedValves"] as? [String] == ["F"] && segments[3]["sourcesToShut"] as? [String] == ["S"])
        let valves = o["valves"] as? [[String: Any]] ?? []
        // G failing joins the school's pipe to the middle: worst case 2 more customers, 5 more pipes.
        #expect(valves.compactMap { $0["valve"] as? String } == ["G", "A"])
        #expect(valves.first?["extraCustomers"] as? Int == 2 && valves.first?["extraPipes"] as? Int == 5)
        #expect(valves.last?["extraCustomers"] as? Int == 1 && valves.last?["mergedPipes"] as? Int == 6)

        let text = try CLI.run(["valve-segments", "--layer", "js", "--store", dir, "--top", "2"])
        #expect(text.status == 0, "\(text.stderr)")
        for needle in ["4 segments over 8 pipes", "Segments, most customers first (top 2 of 4):", "10 household",
                       "If a valve will not close, most extra customers first:"] {
            #expect(text.stdout.contains(needle), "'\(needle)' in\n\(text.stdout)")
        }
    }

    @Test func refusals() throws {
        let dir = try IsolateCLITests.fixture("segments-refusals")
        for (args, needle) in [
            (["--layer", "PS"], "valve isolation is for pressurised networks"),
            (["--layer", "RQ"], "no pipes in layer RQ"),
            (["--layer", "JS", "--top", "0"], "--top 0: must be at least 1"),
        ] {
            let r = try CLI.run(["valve-segments"] + args + ["--store", dir])
            #expect(r.status == 2 && r.stderrLines.count == 1 && r.stdout.isEmpty, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(needle), "'\(needle)' in \(r.stderr)")
        }
    }
}
