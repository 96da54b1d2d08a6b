import Foundation
import SubterraGeometry
import SubterraModel

/// A dig checker for services that check many sites: ``UtilityEngine/digCheck(_:filter:)``'s
/// exact answers, from working buffers kept between checks.
///
/// Layout: the checker owns one `_DigScratch` (the query shape's parts, the candidate rows, the
/// conflict, precaution and not-checked lists, and the rule judgement of each pipe profile met
/// so far for the current work type and planned utility). Every check clears and refills them
/// in place, so after the first few sites a check allocates only for what its report keeps.
/// The report's own arrays are taken back too: when the caller no longer holds the previous
/// report (it was written out and dropped), its buffers are uniquely the checker's and are
/// refilled in place; a report the caller keeps is never touched (copy on write).
///
/// Invariant: a report is exactly the one `digCheck` gives for the same request, filter and
/// snapshot (the same code computes both; the tests compare them on random sites).
///
/// Not `Sendable`: one checker per thread (``UtilityEngine/digChecks(_:filter:threads:)``
/// makes one per worker). Each check reads the engine's current snapshot, as `digCheck` does.
///
/// ```swift
/// let checker = DigChecker(engine)
/// for request in requests { try write(checker.check(request)) }
/// ```
/// - Complexity: per check as ``UtilityEngine/digCheck(_:filter:)``; memory: the largest
///   answer met so far, plus one entry per distinct pipe profile of the map.
public final class DigChecker {
    /// The engine checked against.
    public let engine: UtilityEngine
    var scratch = _DigScratch()

    /// A checker over `engine` with empty buffers. O(1).
    public init(_ engine: UtilityEngine) { self.engine = engine }

    /// ``UtilityEngine/digCheck(_:filter:)`` of `request`, reusing this checker's buffers; the
    /// same report, and the same errors.
    public func check(_ request: DigRequest, filter: PipeFilter = .all) throws(EngineError) -> DigReport {
        try engine.digCheck(request, filter: filter, snapshot: engine.snapshot, scratch: &scratch)
    }

    /// `check` on the given snapshot (the batch form pins one for all its requests).
    func check(_ request: DigRequest, filter: PipeFilter, snapshot: _Snapshot) throws(EngineError) -> DigReport {
        try engine.digCheck(request, filter: filter, snapshot: snapshot, scratch: &scratch)
    }
}

extension UtilityEngine {
    /// ``digCheck(_:filter:)`` of every request, on up to `threads` threads (default: the active
    /// processor count), each with its own ``DigChecker``; answers in input order, a refused
    /// request as its error (the others still answered). All requests see the snapshot current
    /// when the call starts, so the answers hold together even while edits are published.
    ///
    /// Work is handed out in chunks of 32 requests from a shared counter, so a thread that met
    /// big answers does not hold the others back.
    /// - Complexity: as `digCheck` per request, spread over the threads.
    public func digChecks(_ requests: [DigRequest], filter: PipeFilter = .all, threads: Int? = nil)
        -> [Result<DigReport, EngineError>]
    {
        let n = requests.count
        guard n > 0 else { return [] }
        let chunk = 32
        let chunks = (n + chunk - 1) / chunk
        let workers = max(1, min(threads ?? ProcessInfo.processInfo.activeProcessorCount, chunks))
        let snap = snapshot
        let out = _ResultSlots<Result<DigReport, EngineError>>(count: n)
        let next = _Locked(0)
        let work: @Sendable (Int) -> Void = { _ in
            let checker = DigChecker(self)
            // Every report is kept: refilling the last one would only copy it.
            checker.scratch.reuseReports = false
            while true {
                let c = next.withLock { v -> Int in
                    defer { v += 1 }
                    return v
                }
                guard c < chunks else { return }
                for i in (c * chunk)..<min(n, (c + 1) * chunk) {
                    do throws(EngineError) {
                        out.set(i, .success(try checker.check(requests[i], filter: filter, snapshot: snap)))
                    } catch {
                        out.set(i, .failure(error))
                    }
                }
            }
        }
        if workers == 1 { work(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: work) }
        return out.values()
    }
}

/// Slots written once each, by index, from several threads (each index by one thread only),
/// read after every writer has finished.
final class _ResultSlots<T>: @unchecked Sendable {
    private let slots: UnsafeMutableBufferPointer<T?>

    init(count: Int) {
        slots = .allocate(capacity: count)
        slots.initialize(repeating: nil)
    }

    deinit {
        slots.deinitialize()
        slots.deallocate()
    }

    /// Writes slot `i`. Safe from several threads as long as no two write one index (the
    /// buffer is fixed; each slot is its own memory).
    func set(_ i: Int, _ v: T) { slots[i] = v }

    /// Every slot, once all are written.
    func values() -> [T] { slots.map { $0! } }
}
