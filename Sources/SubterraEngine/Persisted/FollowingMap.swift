import SubterraModel

/// A map that follows a store of record (a PostGIS follower): it answers at a store version
/// that only grows, and can wait for a given one, which is read-your-writes by version token
/// across machines. A writer learns the version its commit made (the store reports it); a reader
/// of another engine waits until that engine answers at it.
///
/// ```swift
/// func readAfterWrite(_ map: any FollowingMap, version: Int64) async throws -> [PipeHit] {
///     guard await map.waitForStoreVersion(version, timeout: .seconds(2)) else { throw Timeout() }
///     return try map.within(distance: 5, of: .point(site), crs: nil, filter: PipeFilter(), allParts: false)
/// }
/// ```
public protocol FollowingMap: PipeMap {
    /// The store version the map answers at now. Raised only after the map shows it whole, so a
    /// query started after reading `v` here answers at `v` or later.
    var storeVersion: Int64 { get }
    /// Waits, without blocking a thread, until ``storeVersion`` is at least `version`; false
    /// when `timeout` passed first (the version may not exist yet, or the map lags).
    func waitForStoreVersion(_ version: Int64, timeout: Duration) async -> Bool
    /// What tells this store of record from another one (or one made again at the same
    /// address), the same on every map following it: with ``storeVersion`` it names a state
    /// of the data across machines (a service's ETags). Nil (the default) when unknown.
    var storeIdentity: String? { get }
}

extension FollowingMap {
    public var storeIdentity: String? { nil }
}

/// A following map that also takes edits: it commits them to the store of record, checked
/// optimistically against the rows the editor read, and shows them once it follows the commit.
/// Several such maps (one per machine) edit one store without losing each other's edits: a
/// feature changed in the store since the editor read it is a conflict, never overwritten.
///
/// ```swift
/// let pipe = map.engine.segment(id: 42)!        // what the editor read
/// var edited = pipe
/// edited.owner = "Water Co."
/// let v = try map.commit(StoreEdit(upsertSegments: [edited]), basedOn: EditBase(segments: [pipe]))
/// _ = await map.waitForStoreVersion(v, timeout: .seconds(5))  // this map shows it now
/// // any other map following the store shows it once its storeVersion >= v
/// ```
public protocol EditableFollowingMap: FollowingMap {
    /// The engine answering now: what an editor reads before changing a feature.
    var engine: UtilityEngine { get }
    /// An id no segment of the store has yet (two maps may hand out the same one at once: the
    /// second insert is then a conflict).
    func nextSegmentID() throws(EngineError) -> Int64
    /// Commits `edit` to the store of record in one transaction, each feature it changes
    /// required to be in the store exactly as `base` has it, or absent when `base` does not
    /// have it, and returns the store version it made as soon as it is committed: the map
    /// shows it once ``FollowingMap/storeVersion`` reaches it (``FollowingMap/waitForStoreVersion(_:timeout:)``).
    ///
    /// - Throws: `EngineError` with ``EngineError/storeFailure`` `.conflict` when a feature
    ///   is not as `base` has it (another editor changed it: read again and redo), another kind
    ///   when the store cannot write, none for the engine's own refusals (``UtilityEngine/validate(_:)``).
    func commit(_ edit: StoreEdit, basedOn base: EditBase) throws(EngineError) -> Int64
}

/// The records an edit was made from, as the editor read them: what
/// ``EditableFollowingMap/commit(_:basedOn:)`` requires the store still to hold. A feature the
/// edit changes that is not here must be absent from the store (an insert).
public struct EditBase: Hashable, Sendable {
    public var segments: [Int64: PipeSegment]
    public var points: [PointNumber: FeaturePoint]

    public init(segments: [PipeSegment] = [], points: [FeaturePoint] = []) {
        self.segments = Dictionary(segments.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.points = Dictionary(points.map { ($0.number, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
