import Foundation
import Logging
import SubterraGeometry
import SubterraRequests
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

    @Test("a lone caller's lines are synced one group each (the commit delay waits only for concurrent callers)")
    func loneCallerSyncsEachLine() async throws {
        let path = Self.tempPath("lone.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try DurableAppender(path: path, policy: .always)
        for i in 0..<20 {
            let offset = await file.append(Array("{\"i\":\(i)}".utf8))
            #expect(offset != nil)
            #expect(file.groupCount == i + 1, "line \(i) had a group of its own")
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 20)
    }

    @Test("the commit delay is taken only by concurrent callers on a busy, open stream with room in the group")
    func commitDelayDecision() {
        let busy = DurableAppender.busyWindowNs - 1, idle = DurableAppender.busyWindowNs
        let full = DurableAppender.gatherLines
        // Concurrent now, or in the last group, on a busy stream: wait for more.
        #expect(DurableAppender.shouldGather(waiting: 2, lastGroupLines: 1, sinceLastSyncNs: busy, closing: false))
        #expect(DurableAppender.shouldGather(waiting: 1, lastGroupLines: 2, sinceLastSyncNs: 0, closing: false))
        #expect(DurableAppender.shouldGather(waiting: full - 1, lastGroupLines: 0, sinceLastSyncNs: busy, closing: false))
        // A lone caller, an idle stream, a full group or closing: sync at once.
        #expect(!DurableAppender.shouldGather(waiting: 1, lastGroupLines: 1, sinceLastSyncNs: 0, closing: false))
        #expect(!DurableAppender.shouldGather(waiting: 5, lastGroupLines: 5, sinceLastSyncNs: idle, closing: false))
        #expect(!DurableAppender.shouldGather(waiting: full, lastGroupLines: 5, sinceLastSyncNs: 0, closing: false))
        #expect(!DurableAppender.shouldGather(waiting: 5, lastGroupLines: 5, sinceLastSyncNs: 0, closing: true))
    }

    @Test("callers arriving while a group is written share the next sync")
    func concurrentCallersShareSyncs() async throws {
        let path = Self.tempPath("gather.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        // Each write takes 20 ms, so every caller arriving meanwhile queues for the next group.
        let file = try DurableAppender(path: path, policy: .always) { fd, b in
            usleep(20_000)
            return Foundation.write(fd, b.baseAddress, b.count)
        }
        let n = 256
        await withTaskGroup(of: Int64?.self) { g in
            for i in 0..<n { g.addTask { await file.append(Array("{\"i\":\(i)}".utf8)) } }
            for await offset in g { #expect(offset != nil) }
        }
        #expect(file.groupCount <= n / 4, "\(file.groupCount) syncs for \(n) concurrent lines")
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == n)
    }

    /// A `write(2)` that, while `failing`, writes at most 5 bytes of a call and fails the next
    /// call with EIO: a group torn partway.
    final class FailingWriter: @unchecked Sendable {
        private let lock = NSLock()
        private var failing = false
        private var wroteSome = false
        func fail(_ on: Bool) { lock.withLock { failing = on; wroteSome = false } }
        func write(_ fd: Int32, _ b: UnsafeRawBufferPointer) -> Int {
            let cut: Int? = lock.withLock {
                guard failing else { return nil }
                if wroteSome { return -1 }
                wroteSome = true
                return min(5, b.count)
            }
            guard let cut else { return Foundation.write(fd, b.baseAddress, b.count) }
            if cut < 0 {
                errno = EIO
                return -1
            }
            return Foundation.write(fd, b.baseAddress, cut)
        }
    }

    @Test("a group whose write fails is cut off the file: its callers get nil, later lines true offsets", arguments: [FsyncPolicy.always, .never])
    func failedGroupIsCutOff(policy: FsyncPolicy) async throws {
        let path = Self.tempPath("fail.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data("{\"old\":1}\n".utf8).write(to: URL(fileURLWithPath: path))
        let writer = FailingWriter()
        let file = try DurableAppender(path: path, policy: policy, write: writer.write)
        #expect(await file.append(Array("{\"a\":1}".utf8)) == 10)
        writer.fail(true)
        #expect(await file.append(Array("{\"b\":\"a line long enough to be torn\"}".utf8)) == nil)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"old\":1}\n{\"a\":1}\n", "the torn group is cut off")
        writer.fail(false)
        #expect(await file.append(Array("{\"c\":1}".utf8)) == 18)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"old\":1}\n{\"a\":1}\n{\"c\":1}\n")
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
        let folder = (path as NSString).deletingLastPathComponent
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter {
            $0.hasPrefix("." + (path as NSString).lastPathComponent + ".subterra-")
        }
        #expect(mode == 0o600 && leftovers.isEmpty, "no temporary file of the compaction is left")
    }

    @Test("a JSON answer is embedded as it is; a string answer and lines of the older form read back too")
    func storedLineForms() async throws {
        let path = Self.tempPath("forms.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let json = StoredDigCheck(id: "dc-json", user: "ana", idempotencyKey: nil, fingerprint: "f1",
                                  answer: #"{"a":[1,2,{"b":"x\"y,\"answerJSON\":"}],"c":null}"#, features: 2)
        let text = StoredDigCheck(id: "dc-text", user: "bo", idempotencyKey: "k", fingerprint: "f2",
                                  answer: "not JSON,\"answerJSON\":{}", features: 0)
        let older = StoredDigCheck(id: "dc-old", user: "ana", idempotencyKey: "k0", fingerprint: "f0",
                                   answer: #"{"n":0}"#, features: 1)
        // A line as stores before the embedded form wrote it.
        let oldLine = try #require(AnswerJSON.line(older))
        try Data(oldLine + [10]).write(to: URL(fileURLWithPath: path))
        let store = try DigCheckStore(path: path, limit: 10)
        #expect(store.check(id: "dc-old") == older)
        _ = await store.store(json)
        _ = await store.store(text)
        for c in [older, json, text] { #expect(store.check(id: c.id) == c, "\(c.id) in the running store") }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].hasSuffix(#","answerJSON":"# + json.answer + "}"), "the JSON answer is embedded unescaped")
        #expect(!lines[2].contains(#","answerJSON":{"#) && lines[2].contains(#""answer":"#), "a non-JSON answer stays a string")
        for l in lines { #expect((try? JSONValue.parse(l)) != nil, "every line is JSON: \(l)") }
        let reopened = try DigCheckStore(path: path, limit: 10)
        for c in [older, json, text] { #expect(reopened.check(id: c.id) == c, "\(c.id) after a restart") }
        #expect(reopened.check(user: "bo", idempotencyKey: "k") == text)
        // An unfinished last line (a crash mid-append: no newline) is cut off at start; the
        // lines before it stay.
        let torn = lines[0] + "\n" + lines[1] + "\n" + String(lines[2].dropLast(7))
        try torn.write(toFile: path, atomically: true, encoding: .utf8)
        let afterCrash = try DigCheckStore(path: path, limit: 10)
        #expect(afterCrash.check(id: "dc-old") == older && afterCrash.check(id: "dc-json") == json)
        #expect(afterCrash.check(id: "dc-text") == nil)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == lines[0] + "\n" + lines[1] + "\n", "the file is cut to its whole lines")
        // A whole check that lacks only its newline (a file copied by hand) is kept, and ended.
        try (lines[0] + "\n" + lines[1]).write(toFile: path, atomically: true, encoding: .utf8)
        let copied = try DigCheckStore(path: path, limit: 10)
        #expect(copied.check(id: "dc-json") == json)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == lines[0] + "\n" + lines[1] + "\n")
        // A whole line whose embedded answer is damaged (still ending in a brace) is refused.
        let damaged = lines[0] + "\n" + lines[1].replacingOccurrences(of: #"[1,2,"#, with: #"[1,,2"#) + "\n"
        try damaged.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try DigCheckStore(path: path, limit: 10) }
    }

    @Test("a replay whose line moved gives nothing, never another check's answer")
    func replayChecksTheLineItReads() async throws {
        let path = Self.tempPath("moved.jsonl")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try DigCheckStore(path: path, limit: 10)
        let a = StoredDigCheck(id: "dc-a", user: "ana", idempotencyKey: nil, fingerprint: "f", answer: #"{"secret":"ana's pipes"}"#, features: 1)
        let b = StoredDigCheck(id: "dc-b", user: "bob", idempotencyKey: nil, fingerprint: "f", answer: #"{"secret":"bob's pipes"}"#, features: 1)
        _ = await store.store(a)
        _ = await store.store(b)
        #expect(store.check(id: "dc-a") == a && store.check(id: "dc-b") == b)
        // The two lines are the same length: swapped, each entry's offset now holds the other's.
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2 && lines[0].utf8.count == lines[1].utf8.count)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.write(contentsOf: Data((lines[1] + "\n" + lines[0] + "\n").utf8))
        try handle.close()
        #expect(store.check(id: "dc-a") == nil, "ana's entry must not read bob's line")
        #expect(store.check(id: "dc-b") == nil)
    }

    @Test("audit entries and stored-check heads are written as the Codable encoding; ids are 128 random bits")
    func handWrittenLinesEqualTheCodableOnes() throws {
        let full = AuditEntry(time: "2026-12-07T10:00:00.000Z", user: "ana", auth: "api-key", method: "POST", route: "/dig-checks",
                              status: 201, area: [1.5, -2, .infinity, .nan], layers: ["JS", "RQ"], features: 3, detail: "dig check dc-1")
        let bare = AuditEntry(time: "t", user: nil, auth: nil, method: "GET", route: "/x", status: 401,
                              area: nil, layers: nil, features: nil, detail: nil)
        for e in [full, bare] { #expect(e.jsonValue == (try JSONValueEncoder().encode(e))) }
        let labels = Set(Mirror(reflecting: full).children.compactMap(\.label))
        #expect(Set(full.jsonValue.objectValue?.keys ?? []) == labels, "every member of a full entry is written")
        for h in [DigCheckStore.Head(id: "dc-1", user: "bo", idempotencyKey: "k", fingerprint: "f", features: 2),
                  DigCheckStore.Head(id: "dc-2", user: "bo", idempotencyKey: nil, fingerprint: "f", features: 0)] {
            #expect(h.jsonValue == (try JSONValueEncoder().encode(h)))
        }
        var ids = Set<String>()
        for _ in 0..<1000 {
            let id = DigCheckStore.newID()
            #expect(id.wholeMatch(of: #/dc-[0-9a-f]{32}/#) != nil, "\(id)")
            ids.insert(id)
        }
        #expect(ids.count == 1000)
    }

    @Test("an unopenable path is a configuration error naming the member")
    func unopenable() {
        #expect(throws: ConfigError.self) { try AuditLog(path: "/nonexistent-dir/a.jsonl", fsync: .always, logger: Logger(label: "t")) }
        #expect(throws: ConfigError.self) { try DigCheckStore(path: "/nonexistent-dir/d.jsonl", limit: 10) }
    }
}
