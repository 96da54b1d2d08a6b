import Foundation
import SubterraEngine
import SubterraModel

/// A following map that takes edits: a ``PostGISFollower`` to answer from, and a writable
/// ``PostGISStore`` on the primary to commit to. What `subterra serve` runs on a `postgresql://`
/// store when some role may edit, so that any number of servers edit one store of record.
///
/// How an edit goes (``commit(_:basedOn:)``):
/// 1. The engine answering now checks it as its own edits are checked
///    (``UtilityEngine/validate(_:)``).
/// 2. Each feature it changes is read from the primary with its row version, and must be there
///    exactly as the editor read it (``EditBase``; absent, for an insert): else another
///    editor changed it since, a `.conflict`. The rows read, not the engine: the engine moves
///    on as it follows, so comparing with it could let a stale edit through.
/// 3. The changes are committed in one transaction with those row versions
///    (``PostGISStore/commit(_:)``): a writer that slipped in between steps 2 and 3 makes it a
///    `.conflict` too. The store's data version comes back.
/// 4. The store's new version comes back at once: a read-your-writes token for this map
///    (``waitForStoreVersion(_:timeout:)``, without blocking a thread) and any other follower
///    of the store.
///
/// The engine is never edited directly: every change, this map's own included, reaches it
/// through the change log, in store order, so every follower of the store shows the same
/// sequence of versions.
public final class PostGISEditor: EditableFollowingMap, ForwardingPipeMap, @unchecked Sendable {
    /// Where reads come from (the primary, or a streaming replica).
    public let follower: PostGISFollower
    /// Where edits go: a writable open of the primary.
    public let writer: PostGISStore

    /// Opens the primary at `url` for writing (creating or migrating the schema as any writable
    /// open does) and a follower on `followURL` (a streaming replica of it), or on `url` itself.
    /// Call ``start()`` to follow.
    ///
    /// - Throws: `StoreError` when either cannot be opened (a replica URL as `url`: it cannot
    ///   be written), `EngineError` when the snapshot cannot be built.
    public init(url: String, followURL: String? = nil, options: PostGISFollower.Options = .primary) throws {
        writer = try PostGISStore.open(url, applicationName: "subterra-editor")
        do {
            follower = try PostGISFollower(url: followURL ?? url, options: options)
        } catch {
            writer.close()
            throw error
        }
    }

    /// Starts following (``PostGISFollower/start()``).
    public func start() { follower.start() }

    /// Stops following and closes both stores.
    public func stop() {
        follower.stop()
        writer.close()
    }

    public var engine: UtilityEngine { follower.engine }
    public var forwardee: any PipeMap { follower.engine }
    public var storeVersion: Int64 { follower.appliedVersion }
    public var storeIdentity: String? { follower.storeIdentity }

    public func waitForStoreVersion(_ version: Int64, timeout: Duration) async -> Bool {
        await follower.waitForStoreVersion(version, timeout: timeout)
    }

    public func nextSegmentID() throws(EngineError) -> Int64 {
        do { return try writer.nextSegmentID() } catch {
            throw EngineError("cannot read the store's largest segment id: \(error)", at: "store", storeFailure: error.kind)
        }
    }

    public func commit(_ edit: StoreEdit, basedOn base: EditBase) throws(EngineError) -> Int64 {
        guard !edit.isEmpty else { return storeVersion }
        guard edit.upsertAreas.isEmpty, edit.deleteAreas.isEmpty, edit.metadata.isEmpty else {
            throw EngineError("operator areas and metadata are changed by import, not by feature edits", at: "edit")
        }
        try engine.validate(edit)
        let changes = try Self.changes(edit, basedOn: base, store: writer)
        guard !changes.isEmpty else { return storeVersion }
        let version: Int64
        do { version = try writer.commit(changes) } catch {
            throw EngineError("the store refused the edit: \(error)", at: "store", storeFailure: error.kind)
        }
        return version
    }

    /// The optimistic changes of `edit`: each feature as the store holds it now must be as
    /// `base` has it, and its row version is what the commit expects.
    static func changes(_ edit: StoreEdit, basedOn base: EditBase, store: PostGISStore) throws(EngineError) -> [FeatureChange] {
        var out: [FeatureChange] = []
        for s in edit.upsertSegments {
            let v = try expected("segment \(s.id)", base: base.segments[s.id]) { () throws(StoreError) in try store.segment(id: s.id) }
            out.append(v.map { .updateSegment(s, expectedVersion: $0) } ?? .insertSegment(s))
        }
        for id in edit.deleteSegments {
            // An id absent from both is ignored, as StoreEdit says.
            if let v = try expected("segment \(id)", base: base.segments[id], { () throws(StoreError) in try store.segment(id: id) }) {
                out.append(.deleteSegment(id: id, expectedVersion: v))
            }
        }
        for p in edit.upsertPoints {
            let v = try expected("point \(p.number)", base: base.points[p.number]) { () throws(StoreError) in try store.point(number: p.number) }
            out.append(v.map { .updatePoint(p, expectedVersion: $0) } ?? .insertPoint(p))
        }
        for n in edit.deletePoints {
            if let v = try expected("point \(n)", base: base.points[n], { () throws(StoreError) in try store.point(number: n) }) {
                out.append(.deletePoint(n, expectedVersion: v))
            }
        }
        return out
    }

    /// The row version a change of feature `what` must find: nil when the editor read no such
    /// feature and the store has none (an insert), the row's version when the store holds it
    /// exactly as `base`; a `.conflict` otherwise.
    static func expected<R: Equatable>(
        _ what: String, base: R?, _ read: () throws(StoreError) -> Versioned<R>?
    ) throws(EngineError) -> Int64? {
        let now: Versioned<R>?
        do { now = try read() } catch {
            throw EngineError("cannot read \(what) from the store: \(error)", at: "store", storeFailure: error.kind)
        }
        switch (base, now) {
        case (nil, nil): return nil
        case (let b?, let row?) where row.record == b: return row.version
        default:
            throw EngineError(
                "\(what) changed in the store since it was read (another editor's commit); read it again and redo the edit",
                at: what, storeFailure: .conflict)
        }
    }
}
