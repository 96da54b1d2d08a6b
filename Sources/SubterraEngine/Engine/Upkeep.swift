import Foundation
import SubterraIndex
import SubterraModel

extension UtilityEngine {
    /// Where an engine's upkeep runs: the overlay merges and compactions that keep its row table
    /// and lookups compact under edits (O(n), O(n log n)) and the segment index's merges (O(n)).
    public enum Upkeep: Hashable, Sendable {
        /// Inside the ``UtilityEngine/apply(_:)`` that crosses a threshold: that edit waits for it
        /// (seconds at 10^6 pipes for a compaction). Deterministic; for tests and batch tools.
        case inline
        /// On a background thread, off the writer's path: the edit that crosses a threshold
        /// publishes at once and starts the work on a snapshot of its map; edits go on meanwhile
        /// and are logged; the result, with the logged edits replayed onto it (mostly by the
        /// background thread too), is installed at the next edit after it finished. Readers see
        /// the same map either way.
        case background
    }
}

/// One background upkeep job of a `UtilityEngine` (``UtilityEngine/Upkeep/background``): an
/// overlay merge or a compaction of `source`, computed on its own thread.
///
/// A compaction renumbers rows, so the edits published after `source` are logged here and
/// replayed onto the compacted snapshot: by the background thread while more than
/// `replayOnWriter` remain, by the writer at installation for the rest. An overlay merge keeps
/// row numbers; it is installed only while the engine's base and full overlay tables are still
/// `source`'s (the same objects), which they stay until a compaction.
final class _UpkeepJob: @unchecked Sendable {
    // @unchecked: `log`, `replayed` and `outcome` are behind `condition`.
    enum Outcome {
        case compacted(_Snapshot)
        case merged(base: _Table, tables: Int)
    }

    /// At most this many logged edits are left for the writer to replay at installation.
    static let replayOnWriter = 64

    let kind: _UpkeepKind
    let source: _Snapshot
    private let condition = NSCondition()
    private var log: [StoreEdit] = []
    private var replayed = 0
    private var outcome: Result<Outcome, EngineError>?

    private init(kind: _UpkeepKind, source: _Snapshot) {
        self.kind = kind
        self.source = source
    }

    /// Starts `kind` on `source` on a new thread.
    static func start(_ kind: _UpkeepKind, of source: _Snapshot, rules: ClearanceRules, compactAt: Int?) -> _UpkeepJob {
        let job = _UpkeepJob(kind: kind, source: source)
        Thread.detachNewThread { job.run(rules: rules, compactAt: compactAt) }
        return job
    }

    /// Logs an edit published after `source` (compactions replay them). Writer-only.
    func append(_ edit: StoreEdit) {
        guard kind == .compaction else { return }
        condition.lock()
        log.append(edit)
        condition.unlock()
    }

    /// Whether the job has finished (successfully or not).
    var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return outcome != nil
    }

    /// The outcome and the logged edits the background thread did not replay; waits for the job
    /// to finish first.
    func take() -> (Result<Outcome, EngineError>, [StoreEdit]) {
        condition.lock()
        defer { condition.unlock() }
        while outcome == nil { condition.wait() }
        return (outcome!, Array(log[replayed...]))
    }

    private func finish(_ r: Result<Outcome, EngineError>) {
        condition.lock()
        outcome = r
        condition.broadcast()
        condition.unlock()
    }

    private func run(rules: ClearanceRules, compactAt: Int?) {
        switch kind {
        case .overlayMerge:
            // Every overlay table but a last partial one: full tables never change afterwards.
            let full = source.overlay.prefix { $0.count == _Snapshot.overlayChunk }
            finish(.success(.merged(base: _Table(concatenating: [source.base] + full), tables: full.count)))
        case .compaction:
            do throws(EngineError) {
                var c = try source.applying(StoreEdit(), rules: rules, compactAt: compactAt, compact: true, deferUpkeep: true)
                while true {
                    condition.lock()
                    let batch = log.count - replayed > Self.replayOnWriter ? Array(log[replayed...]) : nil
                    condition.unlock()
                    guard let batch else { break }
                    for e in batch { c = try Self.replay(e, on: c, rules: rules, compactAt: compactAt) }
                    condition.lock()
                    replayed += batch.count
                    condition.unlock()
                }
                // `finish` and the check above are not one step: edits logged in between are
                // left for the writer, which replays everything past `replayed`.
                finish(.success(.compacted(c)))
            } catch {
                finish(.failure(error))
            }
        }
    }

    /// Takes the writer's last reference to a snapshot superseded by an installed job (`slot`
    /// becomes nil) and drops it on a background thread: its tables (10^6 records at 10^6 pipes)
    /// are freed there, not on the writer's path. The reference travels in a box the thread
    /// empties, so whichever of the two threads finishes first, the release that frees the tables
    /// is the background thread's. A reader still holding the snapshot frees it when done.
    static func retire(_ slot: inout _Snapshot?) {
        final class Handoff: @unchecked Sendable {
            // @unchecked: written once here, then only by the background thread.
            var snapshot: _Snapshot?
            init(_ s: _Snapshot?) { snapshot = s }
        }
        let handoff = Handoff(slot.take())
        Thread.detachNewThread { handoff.snapshot = nil }
    }

    /// `edit` (already in the store) applied to `snapshot` without upkeep; when the segment
    /// index refuses it, rebuilt from the rows instead, as `UtilityEngine.apply` does.
    static func replay(_ edit: StoreEdit, on snapshot: _Snapshot, rules: ClearanceRules, compactAt: Int?)
        throws(EngineError) -> _Snapshot
    {
        do { return try snapshot.applying(edit, rules: rules, compactAt: compactAt, deferUpkeep: true) } catch {
            return try snapshot.applying(edit, rules: rules, compactAt: compactAt, compact: true, deferUpkeep: true)
        }
    }

    /// The snapshot to publish instead of `now` (the engine's current one, of the same map):
    /// the job's result with the remaining edits replayed, at `now`'s version; nil when the job
    /// failed or an overlay merge no longer fits `now`. Waits for the job. Writer-only.
    func installed(over now: _Snapshot, rules: ClearanceRules, compactAt: Int?) -> _Snapshot? {
        let (result, remaining) = take()
        switch result {
        case .failure:
            return nil
        case .success(.merged(let base, let tables)):
            guard now.base === source.base, now.overlay.count >= tables,
                (0..<tables).allSatisfy({ now.overlay[$0] === source.overlay[$0] })
            else { return nil }
            return now.with(base: base, overlay: Array(now.overlay.dropFirst(tables)), version: now.version, rules: rules)
        case .success(.compacted(var c)):
            do throws(EngineError) {
                for e in remaining { c = try Self.replay(e, on: c, rules: rules, compactAt: compactAt) }
            } catch {
                return nil
            }
            return c.with(base: c.base, overlay: c.overlay, version: now.version, rules: rules)
        }
    }
}

extension UtilityEngine.Upkeep {
    /// The segment index's merge policy for this upkeep.
    var indexMerges: DynamicRTree.MergePolicy { self == .inline ? .inline : .background }
}
