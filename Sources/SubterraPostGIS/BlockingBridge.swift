import Dispatch
import Foundation

/// Runs the jobs of the bridge's tasks on threads of its own, outside Swift's cooperative pool
/// and outside GCD's global pools.
///
/// Why: `UtilityStore` is synchronous (the importer, the engine and the follower call it from
/// plain threads, tests from the cooperative pool), so ``PostGISStore`` blocks its caller on a
/// semaphore while an async postgres-nio call runs. If that call's jobs needed a thread of a pool
/// the blocked callers may fill, the callers would wait for themselves. On Linux both the
/// cooperative pool and a `DispatchQueue`'s jobs draw on GCD's global root queues, whose
/// threads are capped near the core count: enough callers blocked there (a parallel test run,
/// a busy server) starved an earlier, GCD-queue-based executor (`BridgeTests` reproduces it).
/// These threads are the bridge's alone and its jobs never block on a caller, so the wait
/// always ends, whatever thread calls.
///
/// Layout: a FIFO of jobs under one condition lock, drained by ``threadCount`` threads that
/// sleep on the condition when it is empty. A job is a continuation slice of a postgres-nio
/// call (microseconds to a few milliseconds of row coding); it must not block on another bridge
/// job, which ``runBlocking(_:)`` enforces for itself.
final class BridgeExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = BridgeExecutor(threads: 4)

    /// How many threads drain the queue (postgres-nio's jobs are short; more than the cores
    /// lets a slow row decode not hold up another store's query).
    let threadCount: Int
    private let condition = NSCondition()
    // Guarded by condition: jobs[head...] are waiting, oldest first.
    private var jobs: [UnownedJob] = []
    private var head = 0

    /// The key marking a bridge thread in its `threadDictionary`.
    private static let marker = "subterra.postgis.bridge"

    init(threads: Int) {
        threadCount = max(1, threads)
        for i in 0..<threadCount {
            let t = Thread { [unowned self] in
                Thread.current.threadDictionary[Self.marker] = true
                drain()
            }
            t.name = "\(Self.marker).\(i)"
            t.stackSize = 1 << 20
            t.start()
        }
    }

    /// Whether the calling thread is one of a bridge's (where blocking on a bridge task could
    /// wait for itself).
    static var isBridgeThread: Bool { Thread.current.threadDictionary[marker] != nil }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        condition.lock()
        jobs.append(unowned)
        condition.signal()
        condition.unlock()
    }

    /// A thread's loop: take the oldest job, run it, repeat; sleep while there is none.
    private func drain() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while head == jobs.count { condition.wait() }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head >= 1024, head * 2 >= jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job.runSynchronously(on: executor)
        }
    }
}

/// The result slot a blocked caller reads after the semaphore; written once before the signal.
/// Locked, because a caller whose wait timed out reads it while the task may be writing it.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<T, any Error>?
    var value: Result<T, any Error>? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// The wait in ``runBlocking(timeout:_:)`` outlasted its timeout; the task was cancelled and
/// left to finish on its own.
struct BridgeTimeout: Error, CustomStringConvertible {
    var timeout: Duration
    var description: String { "no answer within \(timeout)" }
}

/// Runs `body` as a task on ``BridgeExecutor`` and blocks the calling thread until it finishes:
/// the small blocking bridge between the synchronous `UtilityStore` and postgres-nio.
///
/// With a `timeout`, the caller stops waiting when it passes: the task is cancelled (a pool lease
/// still waiting ends at once; a query already sent goes on until the server ends it, so a
/// caller that bounds a query also sets `statement_timeout`) and ``BridgeTimeout`` is thrown,
/// unless the task finished meanwhile (its result is returned then). The task keeps its own
/// result slot, so finishing later harms nothing. Meant for reads: a write whose wait timed out
/// may still commit.
///
/// Safe from any thread but the bridge's own (there it could wait on itself: a precondition
/// failure, not a hang). `body`'s task and its child tasks run on the bridge; an unstructured
/// task it starts does not inherit that (postgres-nio starts none).
func runBlocking<T: Sendable>(timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T) throws -> T {
    precondition(!BridgeExecutor.isBridgeThread, "runBlocking called from a PostGIS bridge thread: it would wait on itself")
    let slot = ResultSlot<T>()
    let done = DispatchSemaphore(value: 0)
    let task = Task(executorPreference: BridgeExecutor.shared) {
        do { slot.value = .success(try await body()) } catch { slot.value = .failure(error) }
        done.signal()
    }
    if let timeout {
        if done.wait(timeout: .now() + .nanoseconds(nanoseconds(timeout))) == .timedOut {
            if let finished = slot.value { return try finished.get() }
            task.cancel()
            throw BridgeTimeout(timeout: timeout)
        }
    } else {
        done.wait()
    }
    return try slot.value!.get()
}

/// `d` in whole nanoseconds, 0 for a negative duration, `Int.max` past it (about 292 years).
func nanoseconds(_ d: Duration) -> Int {
    let c = d.components
    guard c.seconds >= 0 else { return 0 }
    let (whole, overflow) = Int(clamping: c.seconds).multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return .max }
    let (sum, over) = whole.addingReportingOverflow(Int(c.attoseconds / 1_000_000_000))
    return over ? .max : max(0, sum)
}
