import SubterraGeometry

/// One survey point (管线点): a feature (bend, tee, ...) or an appurtenance (valve, manhole, ...),
/// never both, with its plan position and ground elevation.
public struct FeaturePoint: Hashable, Sendable {
    /// Point number, unique within a network; segments refer to points by it.
    public var number: PointNumber
    public var layer: LayerCode
    /// Feature or appurtenance; exactly one, which the type enforces.
    public var category: PointCategory
    public var kind: PointKind
    /// Plan position: x = easting, y = northing (survey files write them the other way round).
    public var position: Point
    /// Ground elevation (地面高程), metres.
    public var groundElevation: Double?
    /// Depth of the point (to the pipe top, or to the chamber floor for wells), metres.
    public var depth: Double?
    public var owner: String?
    public var road: String?
    public var status: RecordStatus?
    /// The state of an isolation valve (``PointKind/isIsolationValve``); nil when unknown, and
    /// always nil on other kinds (``validate()`` refuses it there).
    public var valveStatus: ValveStatus?
    /// The customers this point supplies (a service connection, a water meter); nil for none.
    public var connection: ServiceConnection?

    public init(
        number: PointNumber, layer: LayerCode, category: PointCategory, kind: PointKind, position: Point,
        groundElevation: Double? = nil, depth: Double? = nil, owner: String? = nil, road: String? = nil,
        status: RecordStatus? = nil, valveStatus: ValveStatus? = nil, connection: ServiceConnection? = nil
    ) {
        self.number = number
        self.layer = layer
        self.category = category
        self.kind = kind
        self.position = position
        self.groundElevation = groundElevation
        self.depth = depth
        self.owner = owner
        self.road = road
        self.status = status
        self.valveStatus = valveStatus
        self.connection = connection
    }

    /// Builds a point of a known kind with its standard category.
    public init(
        number: PointNumber, layer: LayerCode, kind: PointKind, position: Point,
        groundElevation: Double? = nil, depth: Double? = nil, owner: String? = nil, road: String? = nil,
        status: RecordStatus? = nil, valveStatus: ValveStatus? = nil, connection: ServiceConnection? = nil
    ) {
        self.init(
            number: number, layer: layer, category: kind.standardCategory ?? .feature, kind: kind,
            position: position, groundElevation: groundElevation, depth: depth, owner: owner, road: road,
            status: status, valveStatus: valveStatus, connection: connection)
    }

    /// Where errors about this point point to.
    public var location: String { "point \(number)" }

    /// Refuses an empty number, a non-finite position or elevation, a negative or over-100 m depth,
    /// a known kind filed under the wrong category (a valve recorded as a feature), a valve status
    /// on a point that is no isolation valve, and a connection of fewer than one customer. O(1).
    public func validate() throws(ModelError) {
        if number.rawValue.isEmpty { throw ModelError("point number is empty", at: location) }
        if !position.isFinite {
            throw ModelError("position (\(position.x), \(position.y)) is not finite", at: location)
        }
        if let g = groundElevation, !g.isFinite {
            throw ModelError("ground elevation \(g) is not finite", at: location)
        }
        if let d = depth, !(d.isFinite && d >= 0 && d <= 100) {
            throw ModelError("depth \(d) m must be finite, 0...100", at: location)
        }
        if let c = kind.standardCategory, c != category {
            throw ModelError("a \(kind) is a \(c), recorded as \(category)", at: location)
        }
        if let v = valveStatus, !kind.isIsolationValve {
            throw ModelError("valve status '\(v.rawValue)' on a \(kind), which is no valve", at: location)
        }
        if let c = connection, c.count < 1 {
            throw ModelError("service connection of \(c.count) customers; must be >= 1", at: location)
        }
    }
}

extension FeaturePoint: Codable {
    private enum CodingKeys: String, CodingKey {
        case number, layer, category, kind, position, groundElevation, depth, owner, road, status, valveStatus,
            connection
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        number = try c.decode(PointNumber.self, forKey: .number)
        layer = try c.decode(LayerCode.self, forKey: .layer)
        category = try c.decode(PointCategory.self, forKey: .category)
        kind = try c.decode(PointKind.self, forKey: .kind)
        let p = try c.decode([Double].self, forKey: .position)
        guard p.count == 2 || p.count == 3 else {
            throw DecodingError.dataCorruptedError(
                forKey: .position, in: c, debugDescription: "position has \(p.count) numbers; need 2 or 3")
        }
        position = Point(p[0], p[1], p.count == 3 ? p[2] : nil)
        groundElevation = try c.decodeIfPresent(Double.self, forKey: .groundElevation)
        depth = try c.decodeIfPresent(Double.self, forKey: .depth)
        owner = try c.decodeIfPresent(String.self, forKey: .owner)
        road = try c.decodeIfPresent(String.self, forKey: .road)
        status = try c.decodeIfPresent(RecordStatus.self, forKey: .status)
        valveStatus = try c.decodeIfPresent(ValveStatus.self, forKey: .valveStatus)
        connection = try c.decodeIfPresent(ServiceConnection.self, forKey: .connection)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(number, forKey: .number)
        try c.encode(layer, forKey: .layer)
        try c.encode(category, forKey: .category)
        try c.encode(kind, forKey: .kind)
        try c.encode(_encodePoint(position), forKey: .position)
        try c.encodeIfPresent(groundElevation, forKey: .groundElevation)
        try c.encodeIfPresent(depth, forKey: .depth)
        try c.encodeIfPresent(owner, forKey: .owner)
        try c.encodeIfPresent(road, forKey: .road)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(valveStatus, forKey: .valveStatus)
        try c.encodeIfPresent(connection, forKey: .connection)
    }
}
