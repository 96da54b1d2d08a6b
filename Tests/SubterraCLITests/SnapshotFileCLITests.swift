import Foundation
import Testing

/// One-shot commands on a store answer from its persisted snapshot file
/// (`<store>.subterra-snapshot`): written by the first command after a change, used by the
/// next, rebuilt when the store changes or the file is damaged; and every answer equals the one
/// given from the same map read from its files into memory.
@Suite struct SnapshotFileCLITests {
    let fx: Fixture

    init() throws { fx = try Fixture.shared.get() }

    /// `args` on the store and on the fixture's files: outputs equal but for the source line.
    func sameAnswer(_ args: [String], store: String, sourceLine: Bool = false) throws {
        let a = try CLI.run(args + ["--store", store])
        let b = try CLI.run(args + ["--store", fx.dir])
        #expect(a.status == 0, "\(args): \(a.stderr)")
        #expect(a.status == b.status)
        let strip = { (s: String) in s.split(separator: "\n").filter { !$0.contains("\"source\"") && !$0.hasPrefix("Store ") }.joined(separator: "\n") }
        #expect(strip(a.stdout) == strip(b.stdout), "\(args)")
    }

    /// `info --format json` on the store and on the files: equal but for what only a store has
    /// (its metadata, the last import's summary) and the source.
    func sameInfo(store: String) throws {
        func info(_ s: String) throws -> NSDictionary {
            let r = try CLI.run(["info", "--format", "json", "--store", s])
            #expect(r.status == 0, "\(r.stderr)")
            var o = try CLI.object(r.stdout)
            for k in ["source", "metadata", "warnings"] { o[k] = nil }
            return o as NSDictionary
        }
        #expect(try info(store) == info(fx.dir))
    }

    @Test func commandsAnswerFromTheSnapshotAsFromTheFiles() throws {
        let dir = CLI.tempDir("snapshot-cli")
        let store = dir + "/s.gpkg"
        #expect(try CLI.run(["import", fx.dir, "--store", store]).status == 0)
        let file = store + ".subterra-snapshot"
        let x = Fixture.x0 + 2.5 * Fixture.spacing, y = Fixture.y0 + 1.7 * Fixture.spacing
        let point = "POINT (\(x) \(y))"
        let square = "POLYGON ((\(x - 5) \(y - 5), \(x + 5) \(y - 5), \(x + 5) \(y + 5), \(x - 5) \(y + 5), \(x - 5) \(y - 5)))"
        let cut = "LINESTRING (\(x - 40) \(y), \(x + 40) \(y + 3))"
        for format in ["json", "geojson", "table"] {
            try sameAnswer(["nearest", point, "-k", "4", "--format", format], store: store)
            try sameAnswer(["within", point, "--distance", "12", "--format", format], store: store)
            try sameAnswer(["intersects", square, "--format", format], store: store)
            try sameAnswer(["check-dig", square, "--depth", "1.1", "--format", format], store: store)
            try sameAnswer(["section", cut, "--format", format], store: store)
        }
        try sameAnswer(["nearest", point, "-k", "2", "--layer", "RQ,DL", "--per-layer", "--format", "json"], store: store)
        try sameInfo(store: store)
        #expect(FileManager.default.fileExists(atPath: file))

        // A damaged file is rebuilt, and the answer stays the same.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: file))
        try sameAnswer(["nearest", point, "-k", "4", "--format", "json"], store: store)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) != bytes)

        // Re-importing changes the store: the next command rebuilds from it.
        let before = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(try CLI.run(["import", fx.dir, "--store", store]).status == 0)
        try sameInfo(store: store)
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) != before)
    }
}
