import Foundation
import SubterraGeometry
import SubterraModel

/// A map that answers at once from its snapshot file (``MappedMap``) while a whole engine
/// (``UtilityEngine``) loads on a background thread, and from that engine once it is loaded:
/// what a batch of many queries, or a service starting up, wants on a city-sized store.
///
/// Both answer every query and check identically (``PipeMap``), so which one answered is never
/// visible in an answer, only in its speed: the mapped map costs a store read per query
/// (milliseconds), the engine none (microseconds) but seconds and gigabytes to load at 10^6
/// pipes. A failed load leaves the mapped map answering; ``loadError`` says why.
///
/// ```swift
/// let map = WarmingMap(try MappedMap.open(store: store)) {
///     try UtilityEngine(store: store)
/// }
/// let near = try map.nearest(to: .point(p), crs: nil, k: 3, maxDistance: .infinity, perLayer: false, filter: .all)
/// ```
///
/// Thread-safe: the switch is one reference swapped under a lock. Work that wants to adapt to
/// the switch (a batch running fewer workers while the load takes a core) learns of it through
/// ``isSettled`` and ``whenSettled(_:)``.
public final class WarmingMap: ForwardingPipeMap {
    /// The snapshot file's map, answering until the engine is loaded.
    public let mapped: MappedMap
    private let loaded = _Locked<UtilityEngine?>(nil)
    private let failure = _Locked<EngineError?>(nil)
    private let done = DispatchSemaphore(value: 0)
    /// nil once the load has finished; until then, what ``whenSettled(_:)`` was handed.
    private let waiting = _Locked<[@Sendable () -> Void]?>([])

    /// Starts `load` on a background thread; answers come from `mapped` until it returns.
    public init(_ mapped: MappedMap, load: @escaping @Sendable () throws(EngineError) -> UtilityEngine) {
        self.mapped = mapped
        let loaded = self.loaded, failure = self.failure, done = self.done, waiting = self.waiting
        Thread.detachNewThread {
            do throws(EngineError) {
                let e = try load()
                loaded.withLock { $0 = e }
            } catch {
                failure.withLock { $0 = error }
            }
            let settled = waiting.withLock { (w: inout [@Sendable () -> Void]?) -> [@Sendable () -> Void] in
                defer { w = nil }
                return w ?? []
            }
            done.signal()
            for body in settled { body() }
        }
    }

    /// True once the load has finished, loaded or failed: from then on the same map answers
    /// for good (the engine, or the mapped map after a failure), and the loading thread is gone.
    public var isSettled: Bool { waiting.withLock { $0 == nil } }

    /// Calls `body` once the load has finished (loaded or failed; see ``isSettled``): on the
    /// loading thread, after the engine answers and ``waitUntilLoaded()`` returns; or at once,
    /// on the caller's thread, when it already has. Each body is called exactly once; keep it short (it delays the thread's end,
    /// not any answer).
    public func whenSettled(_ body: @escaping @Sendable () -> Void) {
        let later = waiting.withLock { (w: inout [@Sendable () -> Void]?) -> Bool in
            guard w != nil else { return false }
            w!.append(body)
            return true
        }
        if !later { body() }
    }

    /// The engine, once loaded.
    public var engine: UtilityEngine? { loaded.withLock { $0 } }
    /// Why the engine could not be loaded, if it could not.
    public var loadError: EngineError? { failure.withLock { $0 } }

    /// Waits until the load has finished (loaded or failed); true when the engine answers now.
    @discardableResult
    public func waitUntilLoaded() -> Bool {
        done.wait()
        done.signal()
        return engine != nil
    }

    /// Whichever answers now: the engine once loaded, else the snapshot file's map.
    public var forwardee: any PipeMap { engine ?? mapped }

    public var crs: String { mapped.crs }
    public var rules: ClearanceRules { mapped.rules }
    public var codes: CodeCatalogue { mapped.codes }
}

extension MappedMap {
    /// This map, answering until a whole engine over the same store version has loaded in the
    /// background, then that engine (see ``WarmingMap``). The engine reads the store through a
    /// connection of its own, so this map's store reads never wait for the load; it is used only
    /// when the store is still at ``stamp`` before and after the load (else this map keeps
    /// answering, and refuses as it always does once the store has changed). The engine's
    /// connection is read-only exactly when this map's store is: a writable store (a service
    /// with editors) gives an engine that takes edits.
    public func warming() -> WarmingMap {
        let path = store.path, stamp = self.stamp, rules = self.rules, catalog = whole.catalog
        let readOnly = store.isReadOnly
        return WarmingMap(self) { () throws(EngineError) -> UtilityEngine in
            let own: GeoPackageStore
            do { own = try GeoPackageStore.open(at: path, readOnly: readOnly) } catch {
                throw EngineError("cannot open the store again: \(error)", at: "store \(path)")
            }
            let before = try Self.stamp(of: own)
            let engine = try UtilityEngine(store: own, rules: rules, catalog: catalog, upkeep: .inline)
            let after = try Self.stamp(of: own)
            guard before == stamp, after == stamp else {
                throw EngineError("the store changed since the snapshot file was opened", at: "store \(path)")
            }
            return engine
        }
    }
}
