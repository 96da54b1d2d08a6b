import Foundation
import Testing

/// `subterra serve` as a process: a key made by `serve hash-key`, the sample served on a loopback
/// port, a query with the key, graceful shutdown on SIGTERM, and configuration errors.
struct ServeCLITests {
    @Test func hashKeyPrintsAKeyAndAnEntryThatServeAccepts() throws {
        let made = try CLI.run(["serve", "hash-key", "--name", "ana", "--role", "planner"])
        #expect(made.status == 0, "\(made.stderr)")
        let key = try #require(made.stdoutLines.first { $0.hasPrefix("key: ") }).dropFirst(5)
        let entry = try #require(made.stdoutLines.first { $0.hasPrefix("entry for \"users\": ") }).dropFirst(19)
        #expect(key.hasPrefix("stk_") && !entry.contains(key))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("serve-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Datasets/sample").path
        let port = Int.random(in: 20_000...40_000)
        let config = """
            {"listen":"127.0.0.1:\(port)","store":"\(sample)","audit":{"path":"\(dir)/audit.jsonl"},
             "roles":{"planner":{"layers":"*","fields":"*"}},"users":[\(entry)]}
            """
        try config.write(toFile: dir + "/serve.json", atomically: true, encoding: .utf8)
        let r = try CLI.runShell(
            """
            "$BIN" serve --config "\(dir)/serve.json" 2>"\(dir)/err.log" & pid=$!
            for i in $(seq 1 100); do curl -sf http://127.0.0.1:\(port)/health >/dev/null && break; sleep 0.2; done
            curl -s -o /dev/null -w '%{http_code}\\n' -d '{"geometry":"POINT (636900 3140200)"}' http://127.0.0.1:\(port)/nearest
            curl -s -H 'Authorization: Bearer \(key)' -d '{"geometry":"POINT (636900 3140200)","k":2}' http://127.0.0.1:\(port)/nearest
            echo
            kill -TERM $pid; wait $pid; echo "exit $?"
            """, timeout: 120)
        let lines = r.stdoutLines
        #expect(lines.first == "401", "\(r.stdout) \(r.stderr)")
        #expect(lines.count == 3 && lines[1].contains("\"count\":2"))
        #expect(lines.last == "exit 0", "SIGTERM stops the service gracefully")
        let audit = try String(contentsOfFile: dir + "/audit.jsonl", encoding: .utf8)
        #expect(audit.contains("\"user\":\"ana\"") && audit.contains("authentication failed"))
    }

    @Test func configurationErrorsAreOneLineNamingTheField() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("serve-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try #"{"roles":{"x":{"layers":["ZZ"]}}}"#.write(toFile: dir + "/bad.json", atomically: true, encoding: .utf8)
        let sample = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Datasets/sample").path
        let r = try CLI.run(["serve", "--config", dir + "/bad.json", "--store", sample])
        #expect(r.status == 2 && r.stderrLines.count == 1)
        #expect(r.stderr.contains("roles.x.layers: unknown layer code 'ZZ'"))
        try #"{"listen":"nowhere"}"#.write(toFile: dir + "/bad2.json", atomically: true, encoding: .utf8)
        let r2 = try CLI.run(["serve", "--config", dir + "/bad2.json"])
        #expect(r2.status == 2 && r2.stderr.contains("listen: 'nowhere' is not HOST:PORT"))
        let r3 = try CLI.run(["serve"])
        #expect(r3.status == 2 && r3.stderr.contains("--config is required"))
    }
}
