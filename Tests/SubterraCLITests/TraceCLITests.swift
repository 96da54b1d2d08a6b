import Foundation
import Testing

/// `subterra trace` on a small drainage network: M1 -1- M2 -2- M3 -3- O(outfall) -7- X;
/// M4 -4- M2; M5 -5- M3 flat; M6 -6- M3 drawn against its flow (it runs M3 → M6).
@Suite struct TraceCLITests {
    static func fixture(_ name: String) throws -> String {
        let dir = CLI.tempDir("trace-" + name)
        let places: [(String, Double, Double, String, String)] = [
            ("M1", 0, 0, "manhole", ""), ("M2", 100, 0, "manhole", ""), ("M3", 200, 0, "manhole", ""),
            ("O", 300, 0, "outfall", ""), ("X", 400, 0, "manhole", ""), ("M4", 100, 100, "manhole", ""),
            ("M5", 200, 100, "manhole", ""), ("M6", 200, -100, "manhole", ""),
        ]
        func inverts(_ a: Double, _ b: Double) -> String {
            #","section":"DN400","elevation_ref":"bottom","start_elevation":\#(a),"end_elevation":\#(b)"#
        }
        try IsolateCLITests.write(dir, layer: "PS", places: places, pipes: [
            ("M1", "M2", inverts(5.0, 4.8)), ("M2", "M3", inverts(4.8, 4.6)), ("M3", "O", inverts(4.6, 4.4)),
            ("M4", "M2", inverts(5.2, 4.9)), ("M5", "M3", inverts(4.7, 4.7)), ("M6", "M3", inverts(4.5, 4.9)),
            ("O", "X", inverts(4.4, 4.2)),
        ])
        return dir
    }

    func trace(_ args: [String]) throws -> [String: Any] {
        let r = try CLI.run(["trace"] + args + ["--json"])
        #expect(r.status == 0, "\(r.stderr)")
        return try CLI.object(r.stdout)
    }

    func ids(_ o: [String: Any]) -> [Int] { (o["pipes"] as? [[String: Any]])?.compactMap { $0["segmentID"] as? Int } ?? [] }

    @Test func downstreamUpstreamAndSeveralStarts() throws {
        let dir = try Self.fixture("a")
        let d = try trace(["downstream", "M1", "--store", dir])
        #expect(ids(d) == [1, 2, 3, 6])
        #expect(d["terminals"] as? [String] == ["O"] && d["indeterminatePipes"] as? [Int] == [5])
        #expect(ids(try trace(["upstream", "M3", "--store", dir])) == [1, 2, 4])
        #expect(ids(try trace(["upstream", "M4", "M6", "--store", dir])) == [1, 2, 4, 6])
        #expect(ids(try trace(["downstream", "2", "--store", dir])) == [2, 3, 6])
        let text = try CLI.run(["trace", "downstream", "M1", "--store", dir])
        for needle in ["Downstream of M1, layer PS: 4 pipes, 400.00 m", "outfalls and pumping stations reached: O",
                       "flow indeterminate (inverts missing or equal), not followed: 5"] {
            #expect(text.stdout.contains(needle), "'\(needle)' in \(text.stdout)")
        }
        for (args, needle) in [(["sideways", "M1"], "say upstream or downstream"), (["upstream", "Q9"], "no PS point number or pipe id 'Q9'")] {
            let r = try CLI.run(["trace"] + args + ["--store", dir])
            #expect(r.status == 2 && r.stderrLines.count == 1 && r.stderr.contains(needle), "\(r.stderr)")
        }
    }
}
