import SubterraEngine
import SubterraGeometry
import SubterraModel

/// A follower answers as its current engine (``PostGISFollower/engine``), so `subterra serve`
/// can serve it where it serves any map. Each call takes the engine once: one call sees one
/// version; two calls of one request (ids, then records) may see two consecutive versions.
extension PostGISFollower: FollowingMap {
    /// ``appliedVersion``.
    public var storeVersion: Int64 { appliedVersion }

    public var crs: String { engine.crs }
    public var rules: ClearanceRules { engine.rules }
    public var codes: CodeCatalogue { engine.codes }

    public func nearest(
        to geometry: Geometry, crs: String?, k: Int, maxDistance: Double, perLayer: Bool, filter: PipeFilter,
        enclosures: EnclosureHits
    ) throws(EngineError) -> [PipeHit] {
        try engine.nearest(to: geometry, crs: crs, k: k, maxDistance: maxDistance, perLayer: perLayer, filter: filter, enclosures: enclosures)
    }

    public func within(
        distance: Double, of geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool, enclosures: EnclosureHits
    ) throws(EngineError) -> [PipeHit] {
        try engine.within(distance: distance, of: geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    public func intersecting(_ geometry: Geometry, crs: String?, filter: PipeFilter, allParts: Bool, enclosures: EnclosureHits)
        throws(EngineError) -> [PipeHit]
    {
        try engine.intersecting(geometry, crs: crs, filter: filter, allParts: allParts, enclosures: enclosures)
    }

    public func digCheck(_ request: DigRequest, filter: PipeFilter) throws(EngineError) -> DigReport {
        try engine.digCheck(request, filter: filter)
    }

    public func routeCheck(_ planned: PlannedPipe, nearMargin: Double, filter: PipeFilter, enclosures: EnclosureHits)
        throws(EngineError) -> RouteReport
    {
        try engine.routeCheck(planned, nearMargin: nearMargin, filter: filter, enclosures: enclosures)
    }

    public func crossSection(along cut: LineString, crs: String?, filter: PipeFilter) throws(EngineError) -> CrossSection {
        try engine.crossSection(along: cut, crs: crs, filter: filter)
    }

    public func bufferZone(of geometry: Geometry, crs: String?, distance: Double) throws(EngineError) -> Geometry {
        try engine.bufferZone(of: geometry, crs: crs, distance: distance)
    }

    public func segment(id: Int64) throws(EngineError) -> PipeSegment? { engine.segment(id: id) }
    public func parts(ofFeature feature: Int64) throws(EngineError) -> [PipeSegment] { engine.parts(ofFeature: feature) }
    public func area(id: Int64) throws(EngineError) -> OperatorArea? { engine.area(id: id) }

    public func segmentIDs(within distance: Double, of geometry: Geometry?, crs: String?, filter: PipeFilter)
        throws(EngineError) -> [Int64]
    {
        try engine.segmentIDs(within: distance, of: geometry, crs: crs, filter: filter)
    }

    public func layerExtents() throws(EngineError) -> [LayerCode: Envelope] { engine.layerExtents() }
}
