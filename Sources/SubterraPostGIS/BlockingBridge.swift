import Dispatch
import Foundation

/// Runs the jobs of the bridge's tasks on GCD threads of their own, outside Swift's cooperative
/// pool.
///
/// Why: `UtilityStore` is synchronous (the importer and the engine call it from plain threads),
/// so ``PostGISStore`` blocks its caller on a semaphore while an async postgres-nio call runs.
/// Were that call's continuations scheduled on the cooperative pool (2 threads on a 2-core
/// machine), a caller blocking a cooperative thread could starve the very task it waits for.
/// Tasks started with this executor as their preference (the store's queries and the client's
/// `run()`) never need a cooperative thread, so the block cannot deadlock, whatever thread calls.
final class BridgeExecutor: TaskExecutor {
    static let shared = BridgeExecutor()
    private let queue = DispatchQueue(label: "subterra.postgis.bridge", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }
}

/// The result slot a blocked caller reads after the semaphore; written once before the signal.
private final class ResultSlot<T: Sendable>: @unchecked Sendable {
    // Written by the task before `signal`, read by the caller after `wait`: the semaphore orders them.
    var value: Result<T, any Error>?
}

/// Runs `body` as a task on ``BridgeExecutor`` and blocks the calling thread until it finishes:
/// the small blocking bridge between the synchronous `UtilityStore` and postgres-nio. Must not
/// be called from inside `body`'s own task tree (it would wait on itself); the store never does.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let slot = ResultSlot<T>()
    let done = DispatchSemaphore(value: 0)
    Task(executorPreference: BridgeExecutor.shared) {
        do { slot.value = .success(try await body()) } catch { slot.value = .failure(error) }
        done.signal()
    }
    done.wait()
    return try slot.value!.get()
}
