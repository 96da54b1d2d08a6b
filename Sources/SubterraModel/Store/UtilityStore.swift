import SubterraGeometry

/// A failure of a store: what and where (file, table, record, field). Corrupt, foreign and
/// missing files give one of these, and never a changed file.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure, for callers that act on it.
    public enum Kind: Hashable, Sendable {
        /// A missing, foreign or invalid file, an invalid record, a refused write.
        case invalid
        /// The file's pages are damaged: SQLite's integrity check failed (the message carries
        /// its report), or SQLite found a malformed page while reading. Such a store is never
        /// written to.
        case corrupt
        /// An optimistic edit lost a race: the feature (``StoreError/record``) changed or vanished
        /// since the editor read it (its row version differs). Nothing was written; read it again.
        case conflict
    }

    public var kind: Kind
    public var message: String
    /// The store file or connection string.
    public var path: String
    public var table: String?
    /// Feature id, segment id or point number of the record at fault.
    public var record: String?
    public var field: String?

    public init(
        _ message: String, path: String, table: String? = nil, record: String? = nil, field: String? = nil,
        kind: Kind = .invalid
    ) {
        self.kind = kind
        self.message = message
        self.path = path
        self.table = table
        self.record = record
        self.field = field
    }

    public var description: String {
        var s = path
        if let table { s += ", table \(table)" }
        if let record { s += ", record \(record)" }
        if let field { s += ", field \(field)" }
        return s + ": " + message
    }
}

/// A batch of changes applied in one transaction: all land or none do.
public struct StoreEdit: Hashable, Sendable {
    /// Segments to insert, or to replace when a segment with the same id exists.
    public var upsertSegments: [PipeSegment]
    /// Points to insert, or to replace when a point with the same number exists.
    public var upsertPoints: [FeaturePoint]
    /// Segment ids to delete (absent ids are ignored).
    public var deleteSegments: [Int64]
    /// Point numbers to delete (absent numbers are ignored).
    public var deletePoints: [PointNumber]
    /// Metadata entries to set in the same transaction (nil removes the key), e.g. the record of
    /// the import that made this edit.
    public var metadata: [String: String?]
    /// Operator areas to insert, or to replace when an area with the same id exists.
    public var upsertAreas: [OperatorArea]
    /// Area ids to delete (absent ids are ignored).
    public var deleteAreas: [Int64]

    public init(
        upsertSegments: [PipeSegment] = [], upsertPoints: [FeaturePoint] = [], deleteSegments: [Int64] = [],
        deletePoints: [PointNumber] = [], metadata: [String: String?] = [:], upsertAreas: [OperatorArea] = [],
        deleteAreas: [Int64] = []
    ) {
        self.upsertSegments = upsertSegments
        self.upsertPoints = upsertPoints
        self.deleteSegments = deleteSegments
        self.deletePoints = deletePoints
        self.metadata = metadata
        self.upsertAreas = upsertAreas
        self.deleteAreas = deleteAreas
    }

    /// Whether the edit changes nothing.
    public var isEmpty: Bool {
        upsertSegments.isEmpty && upsertPoints.isEmpty && deleteSegments.isEmpty && deletePoints.isEmpty
            && metadata.isEmpty && upsertAreas.isEmpty && deleteAreas.isEmpty
    }
}

/// Where a utility map lives between runs: the seam between importers/engine and storage.
///
/// `GeoPackageStore` is the default (one office, one file). `PostGISStore` (module
/// `SubterraPostGIS`, over postgres-nio) is the city's store of record: the same columns as the
/// GeoPackage feature tables (``GeoPackageStore/segmentColumns`` and the lists after it), a
/// `geometry(LineStringZ, srid)` / `geometry(PointZ, srid)` column with a GiST index, EWKB
/// decoded by the same WKB reader, `apply` in one transaction with its rows sent by `COPY`, a
/// data version and a change log. Nothing above the store changes.
///
/// Implementations are `Sendable`: one store is shared by threads; each serializes its own
/// connection use.
public protocol UtilityStore: AnyObject, Sendable {
    /// The coordinate system of every stored coordinate.
    var spatialReference: SpatialReference { get }

    /// Everything stored, as a validated map.
    func loadAll() throws(StoreError) -> UtilityNetwork

    /// Segments whose bounding box intersects `envelope` and points inside it. Candidates by
    /// box, as stored; exact geometry tests are the engine's.
    func load(in envelope: Envelope) throws(StoreError) -> UtilityNetwork

    /// Applies `edit` in one transaction. On any failure nothing changes and the error says which
    /// record and why.
    func apply(_ edit: StoreEdit) throws(StoreError)

    /// Store-level key/value metadata (source, import date, mapping used, …).
    func metadata() throws(StoreError) -> [String: String]

    /// Sets metadata entries in one transaction; a nil value removes the key.
    func setMetadata(_ entries: [String: String?]) throws(StoreError)

    /// Segment and point counts, without loading records.
    func counts() throws(StoreError) -> (segments: Int, points: Int)

    /// One more than the largest stored segment id (1 for an empty store): where an import that
    /// assigns ids starts, so it never overwrites stored segments.
    func nextSegmentID() throws(StoreError) -> Int64

    /// The stored segments that are parts of the multi-part features `keys`
    /// (``PipeSegment/feature`` in `keys`), in no particular order: what an import delivering
    /// those features again replaces.
    func storedParts(ofFeatures keys: Set<Int64>) throws(StoreError) -> [StoredPart]

    /// The stored segments whose ``PipeSegment/sourceID`` is in `ids`, in no particular order:
    /// how an import finds the features it delivers again.
    func segments(withSourceIDs ids: Set<String>) throws(StoreError) -> [StoredPart]

    /// Every stored operator area (``OperatorArea``); areas are few, so this is one read.
    func storedAreas() throws(StoreError) -> [OperatorArea]

    /// The store's data version: how many write transactions Subterra has committed to it. It
    /// only grows, across processes and restarts. 0 for a store that keeps no such count (the
    /// default implementation).
    func dataVersion() throws(StoreError) -> Int64
}

extension UtilityStore {
    public func dataVersion() throws(StoreError) -> Int64 { 0 }
}

/// Where a stored segment sits in its feature: what re-importing a feature by its source id needs.
public struct StoredPart: Hashable, Sendable {
    public var id: Int64
    /// ``PipeSegment/featureID``.
    public var featureID: Int64
    public var part: Int?
    public var sourceID: String?

    public init(id: Int64, featureID: Int64, part: Int?, sourceID: String?) {
        self.id = id
        self.featureID = featureID
        self.part = part
        self.sourceID = sourceID
    }

    /// Where `s` sits.
    public init(_ s: PipeSegment) { self.init(id: s.id, featureID: s.featureID, part: s.part, sourceID: s.sourceID) }
}

extension UtilityStore {
    /// Through `loadAll`, O(n); a store should answer from its own tables.
    public func storedParts(ofFeatures keys: Set<Int64>) throws(StoreError) -> [StoredPart] {
        guard !keys.isEmpty else { return [] }
        return try loadAll().segments.filter { $0.feature.map(keys.contains) ?? false }.map(StoredPart.init)
    }

    /// Through `loadAll`, O(n); a store should answer from its own tables.
    public func segments(withSourceIDs ids: Set<String>) throws(StoreError) -> [StoredPart] {
        guard !ids.isEmpty else { return [] }
        return try loadAll().segments.filter { $0.sourceID.map(ids.contains) ?? false }.map(StoredPart.init)
    }
}

extension UtilityStore {
    /// Default: the areas of ``loadAll()`` (O(n); stores override it with a read of the areas alone).
    public func storedAreas() throws(StoreError) -> [OperatorArea] { try loadAll().areas }
}
