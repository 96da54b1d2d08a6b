import Dispatch
import Foundation

/// Runs work items on worker threads and hands the results on in input order, each as soon as
/// it and every earlier result are done.
///
/// Layout: the caller's thread produces items (``submit(_:cost:)``, typically while reading
/// input); `threads` workers compute them. The worker that completes the oldest unemitted item
/// calls `emit` with it and every consecutive result already done, so an answer leaves without
/// waiting for a thread switch; one worker emits at a time, so `emit` is never re-entered.
/// Workers compute ahead of the output by at most `window` items and `costBudget` cost units
/// (bytes of input held), so a slow item holds back at most that much, and memory stays bounded
/// whatever the input. A full window lets the reader go on only once it is half drained, so a
/// fast input does not cost a wake-up per item. Output order never depends on the thread count:
/// `threads: 1` and `threads: 8` emit the same sequence.
///
/// Workers run on threads with an 8 MiB stack, like a main thread's, so deep but legal input
/// does not need more stack on a worker than on the command line.
///
/// Some workers can be held back at the start (`holdBack`) and started later
/// (``startHeldBackWorkers()``): when something else needs a core for a while, e.g. a map
/// loading its fast form in the background (``WarmingMap/whenSettled(_:)``), so the workers do
/// not slow that down. Which workers compute an item never shows in the output.
public final class OrderedPipeline<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    // Every stored `var` below is read and written only with `lock` held.
    private let lock = NSCondition()
    private var queue: [(seq: Int, item: Input, cost: Int)] = []
    private var queueHead = 0
    private var done: [Int: (output: Output, cost: Int)] = [:]
    private var submitted = 0
    private var emitted = 0
    private var inFlightCost = 0
    private var emitting = false
    private var readerWaiting = false
    private var closed = false
    private var emitError: (any Error)?

    private let jobReady = DispatchSemaphore(value: 0)
    private let finished = DispatchGroup()
    /// Worker threads running (0: items are done on the caller's thread in `submit`).
    private var workers = 0
    /// Workers not started yet, waiting for ``startHeldBackWorkers()``.
    private var heldBack = 0
    private let window: Int
    private let costBudget: Int
    private let work: @Sendable (Input) -> Output
    private let emit: @Sendable ([Output]) throws -> Void

    /// The most worker threads a pipeline starts, whatever it is asked for.
    public static var maxThreads: Int { 256 }

    /// Starts the workers.
    /// - Parameters:
    ///   - threads: worker count, clamped to `1...maxThreads`. Workers that the system cannot
    ///     start (a thread limit reached) are done without; with none at all, ``submit(_:cost:)``
    ///     computes and emits each item on the caller's thread, so the run still completes.
    ///   - holdBack: how many of those workers wait for ``startHeldBackWorkers()`` instead of
    ///     starting now; clamped to `0...threads - 1`, so at least one starts (`threads: 1`
    ///     never holds one back).
    ///   - window: most items submitted but not yet emitted (default 16 per worker, at least 64;
    ///     held-back workers count).
    ///   - costBudget: most cost submitted but not yet emitted; one item may exceed it alone.
    ///   - work: computes one result; must not throw (turn failures into results).
    ///   - emit: writes consecutive results, in input order, on a worker thread, one call at a
    ///     time. If it throws, nothing more is emitted and ``submit(_:cost:)`` and ``finish()``
    ///     rethrow the error.
    public convenience init(
        threads: Int, holdBack: Int = 0, window: Int? = nil, costBudget: Int = 64 << 20,
        work: @escaping @Sendable (Input) -> Output, emit: @escaping @Sendable ([Output]) throws -> Void
    ) {
        self.init(
            threads: threads, holdBack: holdBack, window: window, costBudget: costBudget, startWorkers: true, work: work,
            emit: emit)
    }

    /// `startWorkers: false` starts no thread (the path taken when the system refuses them all),
    /// so tests can check that path.
    init(
        threads: Int, holdBack: Int = 0, window: Int?, costBudget: Int, startWorkers: Bool,
        work: @escaping @Sendable (Input) -> Output, emit: @escaping @Sendable ([Output]) throws -> Void
    ) {
        let wanted = min(max(1, threads), Self.maxThreads)
        self.window = max(1, window ?? max(64, 16 * wanted))
        self.costBudget = costBudget
        self.work = work
        self.emit = emit
        let later = min(max(0, holdBack), wanted - 1)
        lock.lock()
        if startWorkers {
            startWorkerThreads(wanted - later)
            heldBack = later
        }
        lock.unlock()
    }

    /// Starts the workers held back at init (see `holdBack`); does nothing when none are, when
    /// called again, or once ``finish()`` has begun. Any thread may call it, at any time.
    public func startHeldBackWorkers() {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, heldBack > 0 else { return }
        let n = heldBack
        heldBack = 0
        startWorkerThreads(n)
    }

    /// With `lock` held: starts up to `n` workers (fewer when the system refuses a thread) and
    /// counts them in `workers`, so ``finish()`` wakes each. A new worker first waits for an
    /// item, so holding the lock meanwhile blocks nothing.
    private func startWorkerThreads(_ n: Int) {
        for _ in 0..<n {
            finished.enter()
            guard Self.startThread({ [self] in
                workerLoop()
                finished.leave()
            }) else {
                finished.leave()
                return
            }
            workers += 1
        }
    }

    /// Starts a detached thread with an 8 MiB stack running `body`; false when the system
    /// refuses (pthread_create fails, e.g. at a thread limit), where Foundation's `Thread` would
    /// fail silently and leave the pipeline waiting for workers that never ran.
    private static func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        defer { pthread_attr_destroy(&attr) }
        pthread_attr_setstacksize(&attr, 8 << 20)
        pthread_attr_setdetachstate(&attr, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(_ThreadStart(body))
        var thread = pthread_t()
        let rc = pthread_create(&thread, &attr, { raw in
            guard let raw else { return nil }
            Unmanaged<_ThreadStart>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, context.toOpaque())
        if rc != 0 { context.release() }
        return rc == 0
    }

    /// Queues `item`, waiting while the window or the cost budget is full.
    /// - Throws: the error `emit` threw, once it has (the run should stop reading).
    public func submit(_ item: Input, cost: Int = 0) throws {
        lock.lock()
        if full(adding: cost) {
            // Resume at half the window (or budget), not at the first free slot.
            while emitError == nil, submitted > emitted,
                submitted - emitted > window / 2 || inFlightCost + cost > costBudget / 2
            {
                readerWaiting = true
                lock.wait()
            }
        }
        if let e = emitError {
            lock.unlock()
            throw e
        }
        if workers == 0 {
            // No worker could be started: do the item here, in order, and emit it at once.
            let seq = submitted
            submitted += 1
            inFlightCost += cost
            lock.unlock()
            let out = work(item)
            lock.lock()
            done[seq] = (out, cost)
            emitReady()
            let e = emitError
            lock.unlock()
            if let e { throw e }
            return
        }
        queue.append((submitted, item, cost))
        submitted += 1
        inFlightCost += cost
        lock.unlock()
        jobReady.signal()
    }

    private func full(adding cost: Int) -> Bool {
        submitted - emitted >= window || (submitted > emitted && inFlightCost + cost > costBudget)
    }

    /// Ends input, waits until every submitted item is emitted (or `emit` failed), and stops
    /// the threads. Call it exactly once, also when reading failed, so earlier results are not
    /// lost.
    /// - Throws: the error `emit` threw, if it did.
    public func finish() throws {
        lock.lock()
        closed = true
        let running = workers
        lock.unlock()
        for _ in 0..<running { jobReady.signal() }
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
            done[job.seq] = (out, job.cost)
            emitReady()
            lock.unlock()
        }
    }

    /// With `lock` held: unless another worker is emitting, emits every consecutive done result
    /// from the oldest unemitted one, releasing the lock around each `emit` call.
    private func emitReady() {
        guard !emitting else { return }
        emitting = true
        while done[emitted] != nil {
            var batch: [Output] = []
            var cost = 0
            var next = emitted
            while let d = done.removeValue(forKey: next) {
                batch.append(d.output)
                cost += d.cost
                next += 1
            }
            let failed = emitError != nil
            lock.unlock()
            var failure: (any Error)?
            if !failed {
                do { try emit(batch) } catch { failure = error }
            }
            lock.lock()
            if let failure, emitError == nil { emitError = failure }
            emitted = next
            inFlightCost -= cost
            if readerWaiting, failure != nil || (submitted - emitted <= window / 2 && inFlightCost <= costBudget / 2) {
                readerWaiting = false
                lock.broadcast()
            }
        }
        emitting = false
    }
}

/// The body a pipeline worker thread runs, passed through `pthread_create`'s context pointer.
private final class _ThreadStart {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
