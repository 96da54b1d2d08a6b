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
                        let offset = try #require(await file.append(Array(line.utf8)))
                        let text = try String(contentsOfFile: path, encoding: .utf8)
                        #expect(text.contains(line + "\n"), "line \(i) is in the file when append returns")
                        let bytes = Array(text.utf8)
                        let at = Int(offset)
                        #expect(at + line.utf8.count < bytes.count && Array(bytes[at..<at + line.utf8.count + 1]) == Array((line + "\n").utf8),
                                "line \(i) starts at the offset append gave")
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

    @Test("stored dig checks keep the newest `limit`, and a restart reads back every line")
    func storedChecksEvictOldestFirst() async throws {
        let path = Self.tempPath("checks.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let limit = 7
        let store = try DigCheckStore(path: path, limit: limit)
        func check(_ i: Int) -> StoredDigCheck {
            StoredDigCheck(id: "dc-\(i)", user: i % 2 == 0 ? "ana" : "bo", idempotencyKey: "k\(i)", fingerprint: "f\(i)",
                           answer: "{\"n\":\(i),\"s\":\"\\\"é\u{0301}\"}", features: i)
        }
        let n = 40
        for i in 0..<n {
            #expect(await store.store(check(i)) == check(i))
            // After each store, exactly the newest `limit` are kept, by id and by key.
            for j in 0...i {
                let kept = j > i - limit
                #expect((store.check(id: "dc-\(j)") != nil) == kept, "check \(j) after \(i)")
                #expect((store.check(user: j % 2 == 0 ? "ana" : "bo", idempotencyKey: "k\(j)") != nil) == kept)
            }
        }
        // A repeated key returns the first check stored under it.
        var again = check(n - 1)
        again.id = "dc-other"
        #expect(await store.store(again).id == "dc-\(n - 1)")
        let reopened = try DigCheckStore(path: path, limit: limit)
        for j in 0..<n { #expect((reopened.check(id: "dc-\(j)") != nil) == (j >= n - limit)) }
        #expect(reopened.check(id: "dc-\(n - 1)") == check(n - 1), "the answer reads back byte for byte")
        // Lines appended after a reopen are found where the appender says (after the old ones).
        for i in n..<(n + 3) { _ = await reopened.store(check(i)) }
        for i in n..<(n + 3) { #expect(reopened.check(id: "dc-\(i)") == check(i)) }
        #expect(reopened.check(user: "ana", idempotencyKey: "k\(n + 2)") == check(n + 2))
        // The reopen compacted the file to the newest `limit` lines; the next one compacts again.
        func lines() throws -> [String] { try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init) }
        #expect(try lines().count == limit + 3)
        let third = try DigCheckStore(path: path, limit: limit)
        #expect(try lines().count == limit)
        for j in 0..<(n + 3) { #expect((third.check(id: "dc-\(j)") != nil) == (j >= n + 3 - limit), "check \(j) after compaction") }
        #expect(third.check(id: "dc-\(n + 2)") == check(n + 2) && third.check(user: "bo", idempotencyKey: "k\(n + 1)") == check(n + 1))
        _ = await third.store(check(n + 3))
        #expect(third.check(id: "dc-\(n + 3)") == check(n + 3), "appended after the compacted lines")
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600 && !FileManager.default.fileExists(atPath: path + ".compacting"))
    }

    @Test("an unopenable path is a configuration error naming the member")
    func unopenable() {
        #expect(throws: ConfigError.self) { try AuditLog(path: "/nonexistent-dir/a.jsonl", fsync: .always, logger: Logger(label: "t")) }
        #expect(throws: ConfigError.self) { try DigCheckStore(path: "/nonexistent-dir/d.jsonl", limit: 10) }
    }
}
