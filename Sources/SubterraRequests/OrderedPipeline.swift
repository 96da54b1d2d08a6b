import Dispatch
import Foundation

/// Runs work items on worker threads and hands the results on in input order, each as soon as
/// it and every earlier result are done.
///
/// Layout: the caller's thread produces items (``submit(_:cost:)``, typically while reading
/// input); `threads` workers compute them; one writer thread calls `emit` with every run of
/// consecutive finished results. Workers compute ahead of the writer by at most `window` items
/// and `costBudget` cost units (bytes of input held), so a slow item holds back at most that
/// much, and memory stays bounded whatever the input. Output order never depends on the thread
/// count: `threads: 1` and `threads: 8` emit the same sequence.
///
/// Workers run on threads with an 8 MiB stack, like a main thread's, so deep but legal input
/// does not need more stack on a worker than on the command line.
public final class OrderedPipeline<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    // Every stored `var` below is read and written only with `lock` held.
    private let lock = NSCondition()
    private var queue: [(seq: Int, item: Input)] = []
    private var queueHead = 0
    private var done: [Int: (output: Output, cost: Int)] = [:]
    private var costs: [Int: Int] = [:]
    private var submitted = 0
    private var emitted = 0
    private var inFlightCost = 0
    private var closed = false
    private var emitError: (any Error)?

    private let jobReady = DispatchSemaphore(value: 0)
    private let resultReady = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    private let threads: Int
    private let window: Int
    private let costBudget: Int
    private let work: @Sendable (Input) -> Output
    private let emit: @Sendable ([Output]) throws -> Void

    /// Starts the workers and the writer.
    /// - Parameters:
    ///   - threads: worker count (at least 1).
    ///   - window: most items submitted but not yet emitted (default 16 per worker, at least 64).
    ///   - costBudget: most cost submitted but not yet emitted; one item may exceed it alone.
    ///   - work: computes one result; must not throw (turn failures into results).
    ///   - emit: writes consecutive results, in input order, on the writer thread. If it throws,
    ///     nothing more is emitted and ``submit(_:cost:)`` and ``finish()`` rethrow the error.
    public init(
        threads: Int, window: Int? = nil, costBudget: Int = 64 << 20,
        work: @escaping @Sendable (Input) -> Output, emit: @escaping @Sendable ([Output]) throws -> Void
    ) {
        self.threads = max(1, threads)
        self.window = max(1, window ?? max(64, 16 * self.threads))
        self.costBudget = costBudget
        self.work = work
        self.emit = emit
        for _ in 0..<self.threads { start { [self] in workerLoop() } }
        start { [self] in writerLoop() }
    }

    private func start(_ body: @escaping @Sendable () -> Void) {
        finished.enter()
        let t = Thread { [finished] in
            body()
            finished.leave()
        }
        t.stackSize = 8 << 20
        t.start()
    }

    /// Queues `item`, waiting while the window or the cost budget is full.
    /// - Throws: the error `emit` threw, once it has (the run should stop reading).
    public func submit(_ item: Input, cost: Int = 0) throws {
        lock.lock()
        while emitError == nil,
            submitted - emitted >= window || (submitted > emitted && inFlightCost + cost > costBudget)
        {
            lock.wait()
        }
        if let e = emitError {
            lock.unlock()
            throw e
        }
        queue.append((submitted, item))
        costs[submitted] = cost
        submitted += 1
        inFlightCost += cost
        lock.unlock()
        jobReady.signal()
    }

    /// Ends input, waits until every submitted item is emitted (or `emit` failed), and stops
    /// the threads. Call it exactly once, also when reading failed, so earlier results are not
    /// lost.
    /// - Throws: the error `emit` threw, if it did.
    public func finish() throws {
        lock.lock()
        closed = true
        lock.unlock()
        for _ in 0..<threads { jobReady.signal() }
        resultReady.signal()
        finished.wait()
        lock.lock()
        let e = emitError
        lock.unlock()
        if let e { throw e }
    }

    private func workerLoop() {
        while true {
            jobReady.wait()
            lock.lock()
            guard queueHead < queue.count else {
                let exit = closed
                lock.unlock()
                if exit { return }
                continue
            }
            let job = queue[queueHead]
            queueHead += 1
            if queueHead >= 1024, queueHead * 2 >= queue.count {
                // Drop the taken prefix now and then, so the queue's storage stays O(window).
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            lock.unlock()
            let out = work(job.item)
            lock.lock()
            done[job.seq] = (out, costs.removeValue(forKey: job.seq) ?? 0)
            lock.unlock()
            resultReady.signal()
        }
    }

    private func writerLoop() {
        while true {
            resultReady.wait()
            while true {
                lock.lock()
                var batch: [Output] = []
                var cost = 0
                var next = emitted
                while let d = done.removeValue(forKey: next) {
                    batch.append(d.output)
                    cost += d.cost
                    next += 1
                }
                let failed = emitError != nil
                let allDone = closed && next == submitted
                lock.unlock()
                if batch.isEmpty {
                    if allDone || (failed && closed) { return }
                    break
                }
                if !failed {
                    do { try emit(batch) } catch { record(error) }
                }
                lock.lock()
                emitted = next
                inFlightCost -= cost
                lock.broadcast()
                lock.unlock()
            }
        }
    }

    private func record(_ error: any Error) {
        lock.lock()
        if emitError == nil { emitError = error }
        lock.broadcast()
        lock.unlock()
    }
}
