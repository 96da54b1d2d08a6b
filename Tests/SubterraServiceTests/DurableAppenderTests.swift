import Foundation
import Logging
import Testing
@testable import SubterraService

/// Group commit: every line of many concurrent callers lands whole, exactly once, and no caller
/// resumes before its line is in the file.
@Suite("durable appender (group commit)")
struct DurableAppenderTests {
    static func tempPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("subterra-append-\(UUID().uuidString)-\(name)").path
    }

    @Test("concurrent lines land whole and once, each before its caller resumes", arguments: [FsyncPolicy.always, .never])
    func concurrentLines(policy: FsyncPolicy) async throws {
        let path = Self.tempPath("lines.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let n = 400
        var groups = 0
        do {
            let file = try DurableAppender(path: path, policy: policy)
            try await withThrowingTaskGroup(of: Void.self) { g in
                for i in 0..<n {
                    g.addTask {
                        // Long enough lines that a torn write would show.
                        let line = "{\"i\":\(i),\"pad\":\"" + String(repeating: "x", count: 200 + i % 37) + "\"}"
                        #expect(await file.append(Array(line.utf8)))
                        let text = try String(contentsOfFile: path, encoding: .utf8)
                        #expect(text.contains(line + "\n"), "line \(i) is in the file when append returns")
                    }
                }
                try await g.waitForAll()
            }
            groups = file.groupCount
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.last == "", "the file ends with a newline")
        var seen = Set<Int>()
        for l in lines.dropLast() {
            let o = try JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any]
            let i = try #require(o?["i"] as? Int, "a whole JSON line: \(l.prefix(80))")
            #expect((o?["pad"] as? String)?.count == 200 + i % 37)
            #expect(seen.insert(i).inserted, "line \(i) once")
        }
        #expect(seen.count == n)
        if policy == .always {
            #expect(groups >= 1 && groups <= n, "\(groups) sync groups for \(n) lines")
        } else {
            #expect(groups == 0)
        }
    }

    @Test("the audit log answers entries written through group commit")
    func auditLogReadsBack() async throws {
        let path = Self.tempPath("audit.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AuditLog(path: path, fsync: .always, logger: Logger(label: "test"))
        for u in ["ana", "bo", "ana"] {
            await log.record(AuditEntry(time: AuditLog.now(), user: u, auth: "key", method: "GET", route: "/x", status: 200,
                                        area: nil, layers: nil, features: 1, detail: nil))
        }
        #expect(log.entries(user: "ana", since: nil, until: nil, limit: 10).count == 2)
        #expect(log.syncGroups >= 1 && log.syncGroups <= 3)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test("an unopenable path is a configuration error naming the member")
    func unopenable() {
        #expect(throws: ConfigError.self) { try AuditLog(path: "/nonexistent-dir/a.jsonl", fsync: .always, logger: Logger(label: "t")) }
        #expect(throws: ConfigError.self) { try DigCheckStore(path: "/nonexistent-dir/d.jsonl", limit: 10) }
    }
}
