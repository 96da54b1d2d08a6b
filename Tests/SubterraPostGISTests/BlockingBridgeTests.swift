import Dispatch
import Foundation
import Testing
@testable import SubterraPostGIS

/// The synchronous store blocks its callers while the bridge runs their async work: the wait must
/// end however many callers block, and on whichever threads (no database needed).
@Suite("PostGIS blocking bridge")
struct BlockingBridgeTests {
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        func add() { lock.withLock { n += 1 } }
        var count: Int { lock.withLock { n } }
    }

    /// A body that suspends several times, as a query does (each resumption is a bridge job).
    @Sendable static func suspending(_ i: Int) async throws -> Int {
        for _ in 0..<20 { await Task.yield() }
        async let a = Task.yield()
        await a
        return i
    }

    /// 96 callers blocked at once on GCD's global queue: more than its thread cap here, so a bridge
    /// whose jobs needed those threads never finished (the hang seen in a parallel test run).
    @Test func callersFillingGCDsThreadsDoNotStarveIt() {
        let callers = 96
        let group = DispatchGroup()
        let right = Tally()
        for i in 0..<callers {
            DispatchQueue.global().async(group: group) {
                if (try? runBlocking { try await Self.suspending(i) }) == i { right.add() }
            }
        }
        #expect(group.wait(timeout: .now() + 60) == .success, "callers still blocked after 60 s: the bridge is starved")
        #expect(right.count == callers)
    }

    /// The same from the cooperative pool (sync callers on Swift's threads, as a server's handler
    /// or a sync test is): tasks that each block their thread until the bridge answers.
    @Test(.timeLimit(.minutes(1))) func callersBlockingTheCooperativePoolDoNotStarveIt() async {
        let callers = 48
        let right = Tally()
        await withTaskGroup(of: Void.self) { g in
            for i in 0..<callers {
                g.addTask { if (try? runBlocking { try await Self.suspending(i) }) == i { right.add() } }
            }
        }
        #expect(right.count == callers)
    }

    @Test func errorsReachTheCaller() {
        struct Refused: Error, Equatable {}
        #expect(throws: Refused.self) { try runBlocking { () async throws -> Int in await Task.yield(); throw Refused() } }
    }

    /// A timeout ends the caller's wait and cancels the task; without one, a slow body is waited for.
    @Test func aTimeoutEndsTheWaitAndCancelsTheTask() throws {
        let cancelled = DispatchSemaphore(value: 0)
        let start = Date()
        #expect(throws: BridgeTimeout.self) {
            try runBlocking(timeout: .milliseconds(100)) { () async throws -> Int in
                do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.signal() }
                return 1
            }
        }
        #expect(Date().timeIntervalSince(start) < 20, "the wait outlasted its timeout")
        #expect(cancelled.wait(timeout: .now() + 20) == .success, "the timed-out task was not cancelled")
        #expect(try runBlocking(timeout: .seconds(30)) { () async throws -> Int in
            try await Task.sleep(for: .milliseconds(50))
            return 7
        } == 7)
    }

    @Test func itsThreadsAreMarkedAndOthersAreNot() throws {
        #expect(!BridgeExecutor.isBridgeThread)
        #expect(try runBlocking { BridgeExecutor.isBridgeThread })
    }
}
