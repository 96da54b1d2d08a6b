import SubterraGeometry
import SubterraModel

/// A map that answers every query and check as another map does: what a map that swaps the map
/// behind it needs (``WarmingMap``: the snapshot file, then the loaded engine; a PostGIS
/// follower: its current engine). A conformer names only ``forwardee`` and implements whatever
/// it answers otherwise (``WarmingMap`` keeps the snapshot file's CRS, rules and codes).
///
/// ``forwardee`` is read once per call, so one call sees one map; two calls of one request may
/// see two (a swap in between).
public protocol ForwardingPipeMap: PipeMap {
    /// The map that answers a call made now.
    var forwardee: any PipeMap { get }
}

extension ForwardingPipeMap {
    public var crs: String { forwardee.crs }
    public var rules: ClearanceRules { forwardee.rules }
    public var codes: CodeCatalogue { forwardee.codes }

    public func nearest(
        to geometry: Geometry, crs: String?, k: Int, maxDistance: Double, perLayer: Bool, filter: PipeFilter,
        enclosures: EnclosureHits
    ) throws(EngineError) -> [PipeHit] {
        try forwardee.nearest(
            to: geometry, crs: crs, k: k, maxDistance: maxDistance, perLayer: perLayer, filter: filter, enclosures: enclosures)
    }

    public func within(
        distance: Double, of geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool, enclosures: EnclosureHits
    ) throws(EngineError) -> [PipeHit] {
        try forwardee.within(distance: distance, of: geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    public func intersecting(_ geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool, enclosures: EnclosureHits)
        throws(EngineError) -> [PipeHit]
    {
        try forwardee.intersecting(geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    public func digCheck(_ request: DigRequest, filter: PipeFilter) throws(EngineError) -> DigReport {
        try forwardee.digCheck(request, filter: filter)
    }

    public func routeCheck(_ planned: PlannedPipe, nearMargin: Double, filter: PipeFilter, enclosures: EnclosureHits)
        throws(EngineError) -> RouteReport
    {
        try forwardee.routeCheck(planned, nearMargin: nearMargin, filter: filter, enclosures: enclosures)
    }

    public func crossSection(along cut: LineString, crs: String?, filter: PipeFilter) throws(EngineError) -> CrossSection {
        try forwardee.crossSection(along: cut, crs: crs, filter: filter)
    }

    public func bufferZone(of geometry: Geometry, crs: String?, distance: Double) throws(EngineError) -> Geometry {
        try forwardee.bufferZone(of: geometry, crs: crs, distance: distance)
    }

    public func segment(id: Int64) throws(EngineError) -> PipeSegment? { try forwardee.segment(id: id) }

    public func parts(ofFeature feature: Int64) throws(EngineError) -> [PipeSegment] { try forwardee.parts(ofFeature: feature) }

    public func area(id: Int64) throws(EngineError) -> OperatorArea? { try forwardee.area(id: id) }

    public func segmentIDs(within distance: Double, of geometry: Geometry?, crs: String?, filter: PipeFilter)
        throws(EngineError) -> [Int64]
    {
        try forwardee.segmentIDs(within: distance, of: geometry, crs: crs, filter: filter)
    }

    public func layerExtents() throws(EngineError) -> [LayerCode: Envelope] { try forwardee.layerExtents() }
}
