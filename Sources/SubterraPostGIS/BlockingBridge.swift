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
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    // Written by the task before `signal`, read by the caller after `wait`: the semaphore orders them.
    var value: Result<T, any Error>?
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
/// still waiting ends at once; a query in flight ends when its connection does) and
/// ``BridgeTimeout`` is thrown. The task keeps its own result slot, so finishing late harms
/// nothing.
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
        let c = timeout.components
        let nanos = max(0, Int(clamping: c.seconds) &* 1_000_000_000 &+ Int(c.attoseconds / 1_000_000_000))
        if done.wait(timeout: .now() + .nanoseconds(nanos)) == .timedOut {
            task.cancel()
            throw BridgeTimeout(timeout: timeout)
        }
    } else {
        done.wait()
    }
    return try slot.value!.get()
}
