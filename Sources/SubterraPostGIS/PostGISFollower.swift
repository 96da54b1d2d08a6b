import Dispatch
import Foundation
import Logging
import PostgresNIO
import SubterraEngine
import SubterraModel

/// A read-only ``UtilityEngine`` that follows a PostGIS store: it loads a snapshot at a data
/// version V, then applies every later committed version, in order, exactly once.
///
/// How it keeps up:
/// - **Wake.** A connection of its own `LISTEN`s on ``PostGISSchema/channel`` (each commit
///   notifies with its version), and a poll every ``Options/pollInterval`` is the safety net.
///   PostgreSQL does not deliver `NOTIFY` to a streaming replica's sessions, so a follower of a
///   replica (``Options/replica``) does not listen and the poll (50 ms by default) is its wake.
/// - **Catch up.** Each wake reads the change log after the last applied version
///   (``PostGISStore/changes(after:)``: one repeatable-read snapshot holding the head version,
///   every version's row, the features they touched and those features' rows at the head) and
///   applies the whole batch as one engine transaction (``UtilityEngine/apply(_:)``): every
///   touched feature as the head has it, so the engine goes from the version it was at
///   straight to the head, a state the store had (the versions in between are not shown one
///   by one: their rows are gone). One transaction per wake rather than per version is what
///   keeps a follower of a city-sized map up with a stream of edits: an engine transaction
///   has a fixed cost (a new snapshot) that a thousand versions a second would pay a thousand
///   times. A batch of versions that touched nothing (metadata) is counted applied without an
///   engine edit.
/// - **Never skip, never twice.** Only version `applied + 1` onwards is read, in order; if any
///   version is missing (the log was trimmed, ``PostGISStore/trimChangeLog(through:)``) or the
///   follower is more than ``Options/maxCatchUp`` behind, it loads a whole snapshot instead and
///   swaps it in. A failed catch-up changes nothing, and the next one starts from the same version.
/// - **Lost connections.** The listening connection reconnects with backoff (100 ms doubling to
///   ``Options/maxBackoff``) and catches up on reconnecting (notifications sent meanwhile are
///   lost); catch-ups use the store's pool, which reconnects on its own; a failed catch-up
///   waits out the same backoff. A change-log read may take ``Options/readTimeout`` at most,
///   waiting for a pooled connection included, and after ``Options/reopenAfterFailures``
///   catch-ups in a row fail the follower opens the store again (a new pool) and closes the
///   old one: a pool that stopped handing out working connections (after a server restart, say)
///   cannot hold the follower behind.
///
/// Readers take ``engine`` and query it: the engine publishes each transaction as one snapshot
/// swap, so a query sees one version whole. ``appliedVersion`` is raised after the swap, so
/// once it is ≥ v, every query started afterwards sees v (read-your-writes by version token:
/// ``wait(forVersion:timeout:)``).
public final class PostGISFollower: @unchecked Sendable {
    /// How a follower wakes and loads.
    public struct Options: Sendable {
        /// How often to poll when no notification came: the safety net on a primary, the only
        /// wake on a replica.
        public var pollInterval: Duration
        /// Whether to `LISTEN` (useless on a replica: `NOTIFY` does not reach it).
        public var listen: Bool
        /// The longest wait between reconnection attempts.
        public var maxBackoff: Duration
        /// Versions behind beyond which a snapshot is loaded rather than the log read.
        public var maxCatchUp: Int64
        public var rules: ClearanceRules?
        public var catalog: LayerCatalog
        public var upkeep: UtilityEngine.Upkeep
        /// The longest one change-log read may take, waiting for a pooled connection included;
        /// past it the catch-up fails (and is retried after the backoff). Snapshot loads are not
        /// bounded: at a city's size they take seconds.
        public var readTimeout: Duration
        /// Failed catch-ups in a row after which the store is opened again with a new pool.
        public var reopenAfterFailures: Int

        public init(
            pollInterval: Duration = .milliseconds(500), listen: Bool = true, maxBackoff: Duration = .seconds(5),
            maxCatchUp: Int64 = 100_000, rules: ClearanceRules? = nil, catalog: LayerCatalog = .standardWithFibre,
            upkeep: UtilityEngine.Upkeep = .background, readTimeout: Duration = .seconds(30), reopenAfterFailures: Int = 3
        ) {
            self.pollInterval = pollInterval
            self.listen = listen
            self.maxBackoff = maxBackoff
            self.maxCatchUp = maxCatchUp
            self.readTimeout = readTimeout
            self.reopenAfterFailures = max(1, reopenAfterFailures)
            self.rules = rules
            self.catalog = catalog
            self.upkeep = upkeep
        }

        /// Following a primary: woken by `NOTIFY`, polling every 500 ms as the safety net.
        public static var primary: Options { Options() }
        /// Following a streaming replica: no `LISTEN`, a poll every `interval` (50 ms).
        public static func replica(poll interval: Duration = .milliseconds(50)) -> Options {
            Options(pollInterval: interval, listen: false)
        }
    }

    /// How far behind the store the follower is.
    public struct Lag: Hashable, Sendable {
        /// The version the engine answers at.
        public var applied: Int64
        /// The newest version the follower knows the store has (from its last read or notification).
        public var head: Int64
        /// `head - applied`.
        public var versions: Int64 { max(0, head - applied) }
        /// Seconds since the oldest version not yet applied was committed (or, when its commit
        /// time is not known yet, since the follower learned of it); 0 when caught up.
        public var seconds: Double
    }

    /// One engine transaction the follower published, for tests and measurements.
    public struct Applied: Sendable {
        /// The store versions it covers, in order (one, or several merged; a snapshot load: the
        /// snapshot's version only).
        public var versions: [Int64]
        /// Each version's `subterra_versions.at` (empty for a snapshot load).
        public var committedAt: [Date]
        /// When the engine published it.
        public var appliedAt: Date
        /// Whether it was a whole snapshot (initial load or reload after a gap).
        public var isSnapshot: Bool
    }

    /// The store the follower reads (snapshot and change log); may be a replica. Replaced by a
    /// new open after ``Options/reopenAfterFailures`` failed catch-ups in a row, and the old one
    /// closed then: take it per use, do not keep it.
    public var store: PostGISStore { cond.withLock { _store } }
    /// The store's identity (``PostGISStore/storeID()``): the same on its primary and replicas,
    /// new when the database is made again; nil for a store written before it was kept.
    public let storeIdentity: String?
    public let options: Options
    /// The URL the store was opened from (password included), for reopening it.
    private let url: String
    private let cond = NSCondition()
    // Guarded by cond.
    private var _store: PostGISStore
    /// How many times the store was opened again (tests).
    private var _reopens = 0
    private var _engine: UtilityEngine
    private var _applied: Int64
    private var _head: Int64
    private var _behindSince: Date?
    /// The head of the batch being applied, and when the store was first seen past it (a
    /// notification during the apply): where the lag starts once the batch is published.
    private var _applyingTo: Int64
    private var _pastBatchSince: Date?
    /// The last catch-up failure (cleared by a catch-up that succeeds) and the listening
    /// connection's (cleared when it listens again).
    private var _lastError: String?
    private var _listenError: String?
    private var _onApply: (@Sendable (Applied) -> Void)?
    /// Async waiters (``waitForStoreVersion(_:timeout:)``) by ticket, each with the version it
    /// waits for and its timeout's task (cancelled when it is woken first).
    private var waiters: [Int: Waiter] = [:]
    /// The lowest version in ``waiters`` (`.max` when none): a publish below it scans nothing.
    private var lowestWaited = Int64.max
    private var nextTicket = 0
    private var stopped = false
    private var listenTask: Task<Void, Never>?
    private var thread: Thread?
    /// Serializes catch-ups (the follower's thread and ``catchUp()`` callers).
    private let catchUpLock = NSLock()
    private let wake = DispatchSemaphore(value: 0)

    /// Opens the store at `url` read-only (connections named `subterra-follower`), loads the
    /// snapshot and builds the engine; call ``start()`` to follow.
    ///
    /// - Throws: `StoreError` when the store cannot be read, `EngineError` when the map cannot be built.
    /// On a streaming replica (`pg_is_in_recovery()`) the follower does not listen and polls
    /// at least every 50 ms, whatever `options` say.
    public init(url: String, options: Options = .primary) throws {
        let store = try PostGISStore.open(url, readOnly: true, applicationName: "subterra-follower")
        var options = options
        if try store.isInRecovery() {
            options.listen = false
            options.pollInterval = min(options.pollInterval, .milliseconds(50))
        }
        let clock = ContinuousClock()
        let t0 = clock.now
        var snap: VersionedRecords? = try store.records()
        let t1 = clock.now
        _engine = try Self.engine(snap!, options)
        firstLoad = LoadTimes(read: t1 - t0, build: clock.now - t1)
        let version = snap!.version
        Self.free(&snap)
        _store = store
        storeIdentity = try store.storeID()
        self.url = url
        self.options = options
        _applied = version
        _head = version
        _applyingTo = version
    }

    /// Takes the last reference to records an engine was built from (`records` becomes nil)
    /// and frees them on a thread of their own: a city's records (10^6 segments, each with its
    /// texts) take a while to free, and the engine keeps none of them. The box the thread
    /// empties makes its release the last one, whichever thread runs first.
    private static func free(_ records: inout VersionedRecords?) {
        final class Handoff: @unchecked Sendable {
            // @unchecked: written here, then only by the freeing thread.
            var records: VersionedRecords?
            init(_ r: VersionedRecords?) { records = r }
        }
        let handoff = Handoff(records.take())
        Thread.detachNewThread { handoff.records = nil }
    }

    deinit { stop() }

    /// An engine over a snapshot's records (checked as it is built, no map value in between).
    private static func engine(_ snap: VersionedRecords, _ options: Options) throws(EngineError) -> UtilityEngine {
        try UtilityEngine(
            crs: snap.crs, segmentParts: snap.segmentParts, pointParts: snap.pointParts, areas: snap.areas, rules: options.rules,
            catalog: options.catalog, upkeep: options.upkeep)
    }

    /// How long the first snapshot took: ``read`` the rows (``PostGISStore/records(connections:)``),
    /// then ``build`` the engine (checking the records as a map, its tables and index).
    public struct LoadTimes: Sendable {
        /// Reading the records at one version.
        public var read: Duration
        /// Checking them as a map and building the engine.
        public var build: Duration
    }

    /// How long the snapshot loaded at start took (``LoadTimes``).
    public let firstLoad: LoadTimes

    /// The engine to query now (a reload after a gap replaces it; take it per request).
    public var engine: UtilityEngine { cond.withLock { _engine } }
    /// The store version the engine answers at.
    public var appliedVersion: Int64 { cond.withLock { _applied } }
    /// The lag now.
    public var lag: Lag {
        cond.withLock {
            let behind = _head > _applied
            return Lag(applied: _applied, head: _head, seconds: behind ? max(0, Date().timeIntervalSince(_behindSince ?? Date())) : 0)
        }
    }
    /// The last catch-up failure (nil once a catch-up succeeds), else the listening
    /// connection's last failure (nil once it listens again).
    public var lastError: String? { cond.withLock { _lastError ?? _listenError } }
    /// How many times the follower opened its store again after failures.
    public var storeReopens: Int { cond.withLock { _reopens } }
    /// Called (on the catching-up thread) for each transaction, just before ``appliedVersion``
    /// is raised to its last version.
    public var onApply: (@Sendable (Applied) -> Void)? {
        get { cond.withLock { _onApply } }
        set { cond.withLock { _onApply = newValue } }
    }

    /// Starts following: a thread that catches up on every wake, and (with ``Options/listen``)
    /// the listening connection, until ``stop()``. Idempotent.
    public func start() {
        cond.lock()
        defer { cond.unlock() }
        guard thread == nil, !stopped else { return }
        let t = Thread { [weak self] in self?.run() }
        t.name = "subterra.follower"
        thread = t
        t.start()
        if options.listen { listenTask = Task(executorPreference: BridgeExecutor.shared) { [weak self] in await self?.listen() } }
    }

    /// Stops following (the engine stays as it is) and closes the store. A started follower
    /// runs until this is called (its thread holds it).
    public func stop() {
        let (task, running): (Task<Void, Never>?, Bool) = cond.withLock {
            stopped = true
            cond.broadcast()
            return (listenTask, thread != nil)
        }
        task?.cancel()
        wake.signal()
        wakeWaiters()
        if !running { store.close() }
    }

    /// Waits until the engine answers at `version` or later; false when `timeout` passed first.
    public func wait(forVersion version: Int64, timeout: Duration) -> Bool {
        let c = timeout.components
        let deadline = Date().addingTimeInterval(Double(c.seconds) + Double(c.attoseconds) / 1e18)
        cond.lock()
        defer { cond.unlock() }
        while _applied < version {
            if stopped || !cond.wait(until: deadline) { return _applied >= version }
        }
        return true
    }

    /// One parked ``waitForStoreVersion(_:timeout:)``.
    private struct Waiter {
        var version: Int64
        var continuation: CheckedContinuation<Bool, Never>
        var timer: Task<Void, Never>?
    }

    /// Most waits parked at once; past it a wait answers false at once (a server answers 503),
    /// so callers naming versions far ahead cannot pile up memory and timers.
    public static let maxWaiters = 4096

    /// Waits, without blocking a thread, until the engine answers at `version` or later; false
    /// when `timeout` passed first, the task was cancelled, the follower stopped, or
    /// ``maxWaiters`` waits are parked already. The async form of ``wait(forVersion:timeout:)``,
    /// for servers (`X-Min-Data-Version`).
    ///
    /// - Complexity: O(1) to park; a publish that reaches no waiter's version costs O(1), one that
    ///   wakes some costs O(waiters).
    public func waitForStoreVersion(_ version: Int64, timeout: Duration) async -> Bool {
        if appliedVersion >= version { return true }
        let ticket = cond.withLock {
            nextTicket += 1
            return nextTicket
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let parked: Bool = cond.withLock {
                    // Checked under the lock that the cancellation handler's endWait takes: a
                    // cancel either finds the waiter or is seen here.
                    guard _applied < version, !stopped, !Task.isCancelled, waiters.count < Self.maxWaiters else { return false }
                    waiters[ticket] = Waiter(version: version, continuation: c, timer: nil)
                    lowestWaited = min(lowestWaited, version)
                    return true
                }
                guard parked else { return c.resume(returning: appliedVersion >= version) }
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled { self?.endWait(ticket) }
                }
                let stillParked = cond.withLock {
                    guard waiters[ticket] != nil else { return false }
                    waiters[ticket]!.timer = timer
                    return true
                }
                if !stillParked { timer.cancel() }
            }
        } onCancel: {
            endWait(ticket)
        }
    }

    /// The number of parked waits (tests check a wait is parked before acting).
    var parkedWaits: Int { cond.withLock { waiters.count } }

    /// Resumes waiter `ticket` (its timeout passed, or its task was cancelled) with whether its
    /// version was reached; nothing when it was woken already.
    private func endWait(_ ticket: Int) {
        let w: (Bool, Waiter)? = cond.withLock {
            guard let w = waiters.removeValue(forKey: ticket) else { return nil }
            if w.version == lowestWaited { lowestWaited = waiters.values.lazy.map(\.version).min() ?? .max }
            return (_applied >= w.version, w)
        }
        if let (reached, w) = w {
            w.timer?.cancel()
            w.continuation.resume(returning: reached)
        }
    }

    /// Removes and resumes the waiters whose version is applied (all of them, with their
    /// outcome, once stopped). Called without the lock held.
    private func wakeWaiters() {
        let ready: [(Bool, Waiter)] = cond.withLock {
            guard stopped || lowestWaited <= _applied else { return [] }
            let keys = waiters.filter { stopped || $0.value.version <= _applied }.map(\.key)
            let out = keys.compactMap { k in waiters.removeValue(forKey: k).map { (_applied >= $0.version, $0) } }
            lowestWaited = waiters.values.lazy.map(\.version).min() ?? .max
            return out
        }
        for (reached, w) in ready {
            w.timer?.cancel()
            w.continuation.resume(returning: reached)
        }
    }

    /// Catches up once, now, on the calling thread: reads the log after ``appliedVersion`` and
    /// applies it (or reloads a snapshot on a gap). Returns the version applied.
    @discardableResult
    public func catchUp() throws -> Int64 {
        try catchUpLock.withLock {
            let from = appliedVersion
            let batch = try store.changes(after: from, limit: options.maxCatchUp, timeout: options.readTimeout)
            noteHead(batch.head, at: nil)
            guard let versions = batch.versions else {
                try reload()
                return appliedVersion
            }
            guard !versions.isEmpty else { return from }
            cond.withLock {
                if _behindSince == nil || versions[0].at < _behindSince! { _behindSince = versions[0].at }
                _applyingTo = batch.head
                _pastBatchSince = _head > batch.head ? Date() : nil
            }
            let edit = Self.edit(for: versions[...], batch)
            if !edit.isEmpty {
                do { try engine.apply(edit) } catch {
                    // The engine refused what the store holds (it should not): start over
                    // from a snapshot rather than answer from a map that differs.
                    try reload()
                    return appliedVersion
                }
            }
            publish(Applied(versions: versions.map(\.version), committedAt: versions.map(\.at), appliedAt: Date(), isSnapshot: false), engine: nil, nextCommit: nil)
            return appliedVersion
        }
    }

    /// Loads a whole snapshot and swaps it in.
    private func reload() throws {
        var snap: VersionedRecords? = try store.records()
        let e = try Self.engine(snap!, options)
        let version = snap!.version
        Self.free(&snap)
        noteHead(version, at: nil)
        publish(Applied(versions: [version], committedAt: [], appliedAt: Date(), isSnapshot: true), engine: e, nextCommit: nil)
    }

    /// Swaps in `e` (a snapshot) and raises the applied version; `nextCommit`: the commit time
    /// of the first version still to apply, when known (else when the store was first seen
    /// past the batch, else now).
    private func publish(_ applied: Applied, engine e: UtilityEngine?, nextCommit: Date?) {
        // The hook first: whoever saw ``appliedVersion`` reach a version finds it recorded.
        cond.withLock { _onApply }?(applied)
        cond.withLock {
            if let e { _engine = e }
            _applied = applied.versions.last ?? _applied
            if _head <= _applied {
                _head = _applied
                _behindSince = nil
            } else {
                _behindSince = nextCommit ?? _pastBatchSince ?? Date()
            }
            _pastBatchSince = nil
            _applyingTo = _applied
            _lastError = nil
            cond.broadcast()
        }
        wakeWaiters()
    }

    /// Records that the store has reached `head` (from a read or a notification).
    private func noteHead(_ head: Int64, at: Date?) {
        cond.withLock {
            if head > _head {
                _head = head
                if head > _applyingTo, _pastBatchSince == nil { _pastBatchSince = at ?? Date() }
            }
            if _head > _applied, _behindSince == nil { _behindSince = at ?? Date() }
        }
    }

    /// The follower thread: catch up on every wake or poll; back off after a failure.
    private func run() {
        var backoff = 0.1
        let maxBackoff = Double(options.maxBackoff.components.seconds) + Double(options.maxBackoff.components.attoseconds) / 1e18
        let pollNanos = nanoseconds(options.pollInterval)
        var failures = 0
        while !cond.withLock({ stopped }) {
            do {
                try catchUp()
                backoff = 0.1
                failures = 0
                cond.withLock { _lastError = nil }
            } catch {
                cond.withLock { _lastError = "\(error)" }
                failures += 1
                if failures % options.reopenAfterFailures == 0 { reopenStore() }
                Thread.sleep(forTimeInterval: backoff)
                backoff = min(backoff * 2, maxBackoff)
                continue
            }
            _ = wake.wait(timeout: .now() + .nanoseconds(pollNanos))
            while wake.wait(timeout: .now()) == .success {}
        }
        store.close()
    }

    /// Opens the store again (a new pool) and closes the old one; on failure keeps the old one
    /// and records why. The swap waits for a running ``catchUp()`` (another thread's) to end, so
    /// none is using the old store when it closes.
    private func reopenStore() {
        do {
            let fresh = try PostGISStore.open(url, readOnly: true, applicationName: "subterra-follower", timeout: options.readTimeout)
            let old: PostGISStore? = catchUpLock.withLock {
                cond.withLock {
                    guard !stopped else { return nil }
                    defer { _store = fresh; _reopens += 1 }
                    return _store
                }
            }
            guard let old else { return fresh.close() }
            old.close()
        } catch {
            cond.withLock { _lastError = "reopening the store: \(error)" }
        }
    }

    /// The listening connection: wakes the thread on every notification; reconnects with backoff.
    private func listen() async {
        let loc = store.location
        var backoff = 0.1
        let maxBackoff = Double(options.maxBackoff.components.seconds)
        var logger = Logger(label: "subterra.follower")
        logger.logLevel = .critical
        while !Task.isCancelled {
            do {
                let config = try loc.connectionConfiguration(applicationName: "subterra-follower")
                let conn = try await PostgresConnection.connect(configuration: config, id: 1, logger: logger)
                do {
                    try await conn.listen(on: PostGISSchema.channel) { notifications in
                        backoff = 0.1
                        cond.withLock { _listenError = nil }
                        wake.signal()  // catch up on what was missed while not listening
                        for try await n in notifications {
                            if let v = Int64(n.payload) { noteHead(v, at: nil) }
                            wake.signal()
                        }
                    }
                } catch {
                    try? await conn.close()
                    throw error
                }
                try? await conn.close()
            } catch {
                if Task.isCancelled { return }
                cond.withLock { _listenError = "listening: \(error)" }
            }
            try? await Task.sleep(for: .seconds(backoff))
            backoff = min(backoff * 2, max(maxBackoff, 0.1))
        }
    }

    /// The engine edit of `versions`: each feature they touched upserted as the batch has it, or
    /// deleted when the batch has no row for it.
    static func edit(for versions: ArraySlice<ChangeBatch.Version>, _ batch: ChangeBatch) -> StoreEdit {
        var edit = StoreEdit()
        var seen = Set<ChangeBatch.FeatureKey>()
        for v in versions {
            for k in v.touched where seen.insert(k).inserted {
                switch k.kind {
                case "segment":
                    guard let id = Int64(k.key) else { continue }
                    if let s = batch.segments[id] { edit.upsertSegments.append(s) } else { edit.deleteSegments.append(id) }
                case "point":
                    let n = PointNumber(rawValue: k.key)
                    if let p = batch.points[n] { edit.upsertPoints.append(p) } else { edit.deletePoints.append(n) }
                default:
                    guard let id = Int64(k.key) else { continue }
                    if let a = batch.areas[id] { edit.upsertAreas.append(a) } else { edit.deleteAreas.append(id) }
                }
            }
        }
        return edit
    }
}
