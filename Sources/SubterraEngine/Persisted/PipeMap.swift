import SubterraGeometry
import SubterraModel

/// The queries and checks a map answers, whether held whole in memory (``UtilityEngine``) or
/// opened from its persisted snapshot (``MappedMap``): both answer every call identically, so
/// a tool can take either.
///
/// ```swift
/// func gasNear(_ map: any PipeMap, _ p: Point) throws -> [PipeHit] {
///     try map.within(distance: 5, of: .point(p), crs: nil, filter: PipeFilter(layers: [.gas]), allParts: false)
/// }
/// ```
public protocol PipeMap: AnyObject, Sendable {
    /// The map CRS.
    var crs: String { get }
    /// The rules every check uses.
    var rules: ClearanceRules { get }
    /// The codes requests may name.
    var codes: CodeCatalogue { get }
    /// See ``UtilityEngine/nearest(to:crs:k:maxDistance:perLayer:filter:enclosures:)``.
    func nearest(
        to geometry: Geometry, crs: String?, k: Int, maxDistance: Double, perLayer: Bool, filter: PipeFilter,
        enclosures: EnclosureHits
    ) throws(EngineError) -> [PipeHit]
    /// See ``UtilityEngine/within(distance:of:crs:filter:allParts:enclosures:)``.
    func within(
        distance: Double, of geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool, enclosures: EnclosureHits
    ) throws(EngineError) -> [PipeHit]
    /// See ``UtilityEngine/intersecting(_:crs:filter:allParts:enclosures:)``.
    func intersecting(_ geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool, enclosures: EnclosureHits)
        throws(EngineError) -> [PipeHit]
    /// See ``UtilityEngine/digCheck(_:filter:)``.
    func digCheck(_ request: DigRequest, filter: PipeFilter) throws(EngineError) -> DigReport
    /// See ``UtilityEngine/routeCheck(_:nearMargin:filter:enclosures:)``.
    func routeCheck(_ planned: PlannedPipe, nearMargin: Double, filter: PipeFilter, enclosures: EnclosureHits)
        throws(EngineError) -> RouteReport
    /// See ``UtilityEngine/crossSection(along:crs:filter:)``.
    func crossSection(along cut: LineString, crs: String?, filter: PipeFilter) throws(EngineError) -> CrossSection
    /// See ``UtilityEngine/bufferZone(of:crs:distance:)``.
    func bufferZone(of geometry: Geometry, crs: String?, distance: Double) throws(EngineError) -> Geometry
    /// The segment with `id`, nil when the map has none.
    func segment(id: Int64) throws(EngineError) -> PipeSegment?
    /// Every part of the feature keyed `feature` (``PipeSegment/featureID``), by part then id.
    func parts(ofFeature feature: Int64) throws(EngineError) -> [PipeSegment]
    /// The operator area with `id`, nil when the map has none.
    func area(id: Int64) throws(EngineError) -> OperatorArea?
    /// The ids of the segments `filter` accepts, ascending; with a `geometry` (in `crs`, nil:
    /// the map CRS), only those whose exact plan distance to it is at most `distance` metres
    /// (0: crossing, touching or inside it, never decided by bounding box). Every part of a
    /// multi-part pipe is a segment of its own here. What a paged listing (OGC API items)
    /// needs: ids only, so a page reads just its own records with ``segment(id:)``.
    ///
    /// - Complexity: with a geometry, O(log n + c log c) for c candidates from the segment index
    ///   (plus the filter's predicate on each); without, O(n) over the layer column (a scan:
    ///   no index orders by id), plus the predicate on each segment of the filter's layers.
    func segmentIDs(within distance: Double, of geometry: Geometry?, crs: String?, filter: PipeFilter)
        throws(EngineError) -> [Int64]
    /// The plan bounds (map CRS) of each layer's segments; a layer with none is absent.
    ///
    /// - Complexity: O(total vertices) for an engine; a ``MappedMap`` reads its store once and
    ///   keeps the answer (its map never changes).
    func layerExtents() throws(EngineError) -> [LayerCode: Envelope]
}

extension PipeMap {
    /// The queries with enclosures grouped (``EnclosureHits/grouped``, the default).
    public func nearest(to geometry: Geometry, crs: String?, k: Int, maxDistance: Double, perLayer: Bool, filter: PipeFilter)
        throws(EngineError) -> [PipeHit]
    {
        try nearest(to: geometry, crs: crs, k: k, maxDistance: maxDistance, perLayer: perLayer, filter: filter, enclosures: .grouped)
    }

    /// See ``within(distance:of:crs:filter:allParts:enclosures:)``, grouped.
    public func within(distance: Double, of geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool)
        throws(EngineError) -> [PipeHit]
    {
        try within(distance: distance, of: geometry, crs: crs, filter: filter, allParts: allParts, enclosures: .grouped)
    }

    /// See ``intersecting(_:crs:filter:allParts:enclosures:)``, grouped.
    public func intersecting(_ geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool) throws(EngineError) -> [PipeHit] {
        try intersecting(geometry, crs: crs, filter: filter, allParts: allParts, enclosures: .grouped)
    }

    /// Every segment `filter` accepts, ids ascending (see ``segmentIDs(within:of:crs:filter:)``).
    public func segmentIDs(filter: PipeFilter) throws(EngineError) -> [Int64] {
        try segmentIDs(within: 0, of: nil, crs: nil, filter: filter)
    }

    /// See ``routeCheck(_:nearMargin:filter:enclosures:)``, grouped.
    public func routeCheck(_ planned: PlannedPipe, nearMargin: Double, filter: PipeFilter) throws(EngineError) -> RouteReport {
        try routeCheck(planned, nearMargin: nearMargin, filter: filter, enclosures: .grouped)
    }
}

extension UtilityEngine: PipeMap {
    /// Every live part of the feature keyed `feature`, by part then id. O(n) over the rows, without
    /// building the map value.
    public func parts(ofFeature feature: Int64) -> [PipeSegment] {
        let snap = snapshot
        var out: [PipeSegment] = []
        for r in 0..<snap.rowCount where snap.feature(r) == feature {
            if snap.rowOfID[snap.id(r)] == r { out.append(snap.record(r)) }
        }
        return out.sorted { ($0.part ?? 0, $0.id) < ($1.part ?? 0, $1.id) }
    }

    /// The operator area with `id` in the current map. O(areas).
    public func area(id: Int64) -> OperatorArea? { snapshot.areaSet.areas.first { $0.id == id } }
}

extension MappedMap: PipeMap {
    /// The operator area with `id`, read from the store (once per map). O(areas).
    public func area(id: Int64) throws(EngineError) -> OperatorArea? {
        do { return try operatorAreas().first { $0.id == id } } catch {
            throw EngineError("cannot read the operator areas: \(error)", at: "store \(store.path)")
        }
    }
}
