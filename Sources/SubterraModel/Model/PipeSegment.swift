import SubterraGeometry

/// One surveyed line segment (管线段) between two survey points: a pipe, cable, duct bank or
/// culvert, with the CJJ 61 attributes.
///
/// Depths and elevations are stored as surveyed; everything derivable from them (top, bottom and
/// ground elevation, depth anywhere along the segment, pressure class) is computed on demand, so the
/// stored values can never disagree with each other.
///
/// Units: metres for coordinates, depths and elevations; millimetres for sections (as surveyed);
/// MPa for gas pressure; kV for voltage.
public struct PipeSegment: Hashable, Sendable {
    /// Stable id, unique within a network; kept across edits so reports can cite it.
    public var id: Int64
    public var layer: LayerCode
    public var subtype: SubtypeCode?
    /// Survey point number at the start (起点号).
    public var startPoint: PointNumber
    /// Survey point number at the end (终点号).
    public var endPoint: PointNumber
    /// Plan geometry, start to end; usually two points. x = easting, y = northing.
    public var geometry: LineString
    /// Depth from ground to pipe top at the start (起点埋深), metres.
    public var startDepth: Double?
    /// Depth from ground to pipe top at the end (终点埋深), metres.
    public var endDepth: Double?
    /// Surveyed elevation at the start, of the top or bottom per `elevationReference`.
    public var startElevation: Double?
    /// Surveyed elevation at the end, of the top or bottom per `elevationReference`.
    public var endElevation: Double?
    /// Which elevation `startElevation` / `endElevation` measure.
    public var elevationReference: ElevationReference
    public var section: PipeSection?
    /// Duct holes in a duct bank (e.g. 16 for "16孔").
    public var ductHoles: Int?
    /// Occupied duct holes.
    public var ductHolesOccupied: Int?
    /// Number of cables.
    public var cableCount: Int?
    public var material: Material?
    public var burial: BurialMethod?
    /// Gas operating pressure in MPa (gas layers only).
    public var gasPressureMPa: Double?
    /// Cable voltage in kV (power layers only).
    public var voltageKV: Double?
    public var owner: String?
    public var road: String?
    /// Laying date as surveyed, ISO 8601 or a prefix of it (`"2015"`, `"2015-06"`, `"2015-06-30"`).
    public var layingDate: String?
    public var status: RecordStatus?
    public var accuracy: PositionalAccuracy?
    /// The operator's id of the feature this segment belongs to, verbatim from the source (e.g.
    /// `nl.imkl-KL1031.EKBL_0042`); nil when the source gave none or gave a whole number, which
    /// then is `id` itself. Shown beside `id` in every output so a report can be traced back.
    public var sourceID: String?
    /// The file the feature was imported from, as the path was given to the import (as typed:
    /// relative paths stay relative), e.g. `deliveries/KL1031/kabels.geojson`; nil for a feature
    /// made in code or read from a store written before source files were kept. Shown beside
    /// the ids in every output, so a report names the delivery a pipe came from.
    public var sourceFile: String?
    /// The row id of the first part of the multi-part feature (pipe or cable) this segment is a
    /// part of; nil for a single-part feature, whose feature is the segment itself. All parts of
    /// one feature share it, so queries and checks report the feature once (``featureID``).
    public var feature: Int64?
    /// 1-based position of this part in its feature's geometry (MultiLineString order); nil for
    /// a single-part feature.
    public var part: Int?
    /// The network's nominal (design or standard) laying depth to the pipe top, metres, when the
    /// source states only that. Never a surveyed depth: depth checks ignore it as a depth, and a
    /// dig check reports "reaches: possibly" on it, never "no".
    public var nominalDepth: Double?
    /// What the line is: the utility itself (the default), or a cable bed, sleeve or casing that
    /// carries it. An enclosure is reported with the line it carries (same or compatible layer,
    /// same owner when both are stated, along its trace), not as another conflict.
    public var featureKind: FeatureKind
    /// Whether ``accuracy`` is assumed rather than stated by the record: the delivery's accuracy
    /// for records that state none (a mapping's `defaultAccuracy`, e.g. an operator's "within
    /// 1 m"). Reports show such an accuracy as not stated. False when ``accuracy`` is nil.
    public var accuracyAssumed: Bool

    /// Builds a segment; nothing is checked here (the geometry is already valid by construction).
    /// Call `validate()` on data from outside.
    public init(
        id: Int64, layer: LayerCode, subtype: SubtypeCode? = nil,
        startPoint: PointNumber, endPoint: PointNumber, geometry: LineString,
        startDepth: Double? = nil, endDepth: Double? = nil,
        startElevation: Double? = nil, endElevation: Double? = nil,
        elevationReference: ElevationReference = .top,
        section: PipeSection? = nil, ductHoles: Int? = nil, ductHolesOccupied: Int? = nil,
        cableCount: Int? = nil, material: Material? = nil, burial: BurialMethod? = nil,
        gasPressureMPa: Double? = nil, voltageKV: Double? = nil,
        owner: String? = nil, road: String? = nil, layingDate: String? = nil,
        status: RecordStatus? = nil, accuracy: PositionalAccuracy? = nil,
        sourceID: String? = nil, feature: Int64? = nil, part: Int? = nil, nominalDepth: Double? = nil,
        featureKind: FeatureKind = .utilityLine, accuracyAssumed: Bool = false, sourceFile: String? = nil
    ) {
        self.id = id
        self.layer = layer
        self.subtype = subtype
        self.startPoint = startPoint
        self.endPoint = endPoint
        self.geometry = geometry
        self.startDepth = startDepth
        self.endDepth = endDepth
        self.startElevation = startElevation
        self.endElevation = endElevation
        self.elevationReference = elevationReference
        self.section = section
        self.ductHoles = ductHoles
        self.ductHolesOccupied = ductHolesOccupied
        self.cableCount = cableCount
        self.material = material
        self.burial = burial
        self.gasPressureMPa = gasPressureMPa
        self.voltageKV = voltageKV
        self.owner = owner
        self.road = road
        self.layingDate = layingDate
        self.status = status
        self.accuracy = accuracy
        self.sourceID = sourceID
        self.feature = feature
        self.part = part
        self.nominalDepth = nominalDepth
        self.featureKind = featureKind
        self.accuracyAssumed = accuracyAssumed
        self.sourceFile = sourceFile
    }

    /// Where errors about this segment point to.
    public var location: String {
        "segment \(id)\(sourceID.map { " [\($0)]" } ?? "") (\(startPoint)-\(endPoint))"
    }

    /// The key of the feature this segment belongs to: `feature` for a part of a multi-part
    /// feature, else `id`. Two segments are parts of one pipe exactly when their keys are equal.
    public var featureID: Int64 { feature ?? id }

    /// The id to show a person: the source id when there is one, else the row id.
    public var displayID: String { sourceID ?? String(id) }

    /// The gas pressure class derived from `gasPressureMPa`; `nil` without a valid pressure.
    public var gasPressureClass: GasPressureClass? {
        gasPressureMPa.flatMap { GasPressureClass(megapascals: $0) }
    }

    /// Outer height in metres (top to bottom), from the section; `nil` without a section.
    public var outerHeightM: Double? { section?.outerHeightM }

    /// Outer width in metres, for horizontal clearance (centreline offset + half width).
    public var outerWidthM: Double? { section?.outerWidthM }

    /// Plan length in metres along the geometry. O(vertices).
    public var length: Double { geometry.points.planarLength }

    /// First plan point.
    public var start: Point { geometry.points[0] }

    /// Last plan point.
    public var end: Point { geometry.points[geometry.points.count - 1] }

    /// Checks every field a survey can get wrong and says which and why.
    ///
    /// Refuses non-finite or negative depths (and depths over 100 m), non-finite elevations, an
    /// invalid section, occupied holes above the total, negative counts, a gas pressure outside
    /// 0–4.0 MPa, a non-positive voltage, an empty layer code, a negative accuracy and a part
    /// number below 1. O(1).
    public func validate() throws(ModelError) {
        // Spelt only for an error: most records are valid, and a whole map is checked at load.
        var at: String { location }
        if layer.rawValue.isEmpty { throw ModelError("layer code is empty", at: at) }
        func depth(_ name: String, _ v: Double?) throws(ModelError) {
            if let v, !(v.isFinite && v >= 0 && v <= 100) {
                throw ModelError("\(name) is \(v) m; must be finite, 0...100", at: at)
            }
        }
        try depth("depth at start", startDepth)
        try depth("depth at end", endDepth)
        try depth("nominal depth", nominalDepth)
        func elevation(_ name: String, _ v: Double?) throws(ModelError) {
            if let v, !v.isFinite { throw ModelError("\(name) is \(v); must be finite", at: at) }
        }
        try elevation("elevation at start", startElevation)
        try elevation("elevation at end", endElevation)
        if let section, !section.isValid {
            throw ModelError("section \(section.notation) has a non-positive or non-finite size", at: at)
        }
        if let h = ductHoles, h < 0 { throw ModelError("duct hole count is \(h); must be >= 0", at: at) }
        if let o = ductHolesOccupied {
            if o < 0 { throw ModelError("occupied duct holes is \(o); must be >= 0", at: at) }
            if let h = ductHoles, o > h {
                throw ModelError("occupied duct holes \(o) exceed the \(h) holes", at: at)
            }
        }
        if let c = cableCount, c < 0 { throw ModelError("cable count is \(c); must be >= 0", at: at) }
        if let p = gasPressureMPa, GasPressureClass(megapascals: p) == nil {
            throw ModelError("gas pressure \(p) MPa is outside 0...4.0 MPa", at: at)
        }
        if let v = voltageKV, !(v.isFinite && v > 0) {
            throw ModelError("voltage \(v) kV must be finite and > 0", at: at)
        }
        if accuracyAssumed, accuracy == nil { throw ModelError("accuracy is marked assumed but none is given", at: at) }
        if let a = accuracy {
            guard a.horizontalM.isFinite, a.horizontalM >= 0 else {
                throw ModelError("horizontal accuracy \(a.horizontalM) m must be finite and >= 0", at: at)
            }
            if let v = a.verticalM, !(v.isFinite && v >= 0) {
                throw ModelError("vertical accuracy \(v) m must be finite and >= 0", at: at)
            }
        }
        if let p = part, p < 1 { throw ModelError("part \(p) must be >= 1 (parts count from 1)", at: at) }
    }
}

// MARK: - Derived heights

extension PipeSegment {
    /// Top elevation at the start: the surveyed top, or the surveyed bottom + outer height.
    /// `nil` when no elevation was surveyed, or a bottom was surveyed without a section.
    public var startTopElevation: Double? { topElevation(fromSurveyed: startElevation) }

    /// Top elevation at the end; see `startTopElevation`.
    public var endTopElevation: Double? { topElevation(fromSurveyed: endElevation) }

    private func topElevation(fromSurveyed e: Double?) -> Double? {
        guard let e else { return nil }
        switch elevationReference {
        case .top: return e
        case .bottom: return outerHeightM.map { e + $0 }
        }
    }

    /// Depth of the pipe top at parameter `t` (0 = start, 1 = end, fraction of plan length), by
    /// linear interpolation of the surveyed end depths. `t` is clamped to 0...1; `nil` for a NaN `t`
    /// or a missing end depth. O(1).
    public func depthOfTop(atParameter t: Double) -> Double? {
        guard let d0 = startDepth, let d1 = endDepth else { return nil }
        return _lerp(d0, d1, t)
    }

    /// Depth of the pipe top at `t`, falling back to ground − top elevation when the survey gave
    /// elevations but no depths. `groundAtStart` / `groundAtEnd` are the ground elevations of the
    /// end points (from their `FeaturePoint`s). O(1).
    public func depthOfTop(atParameter t: Double, groundAtStart g0: Double?, groundAtEnd g1: Double?) -> Double? {
        if let d = depthOfTop(atParameter: t) { return d }
        guard let g0, let g1, let top = topElevation(atParameter: t), let g = _lerp(g0, g1, t) else { return nil }
        return g - top
    }

    /// Top elevation at `t` by linear interpolation of the end top elevations. O(1).
    public func topElevation(atParameter t: Double) -> Double? {
        guard let e0 = startTopElevation, let e1 = endTopElevation else { return nil }
        return _lerp(e0, e1, t)
    }

    /// Bottom elevation at `t`: top − outer height. O(1).
    public func bottomElevation(atParameter t: Double) -> Double? {
        guard let top = topElevation(atParameter: t), let h = outerHeightM else { return nil }
        return top - h
    }

    /// Ground elevation at `t`: top elevation + depth. O(1).
    public func groundElevation(atParameter t: Double) -> Double? {
        guard let top = topElevation(atParameter: t), let d = depthOfTop(atParameter: t) else { return nil }
        return top + d
    }

    /// Depth of the pipe bottom at `t`: depth of top + outer height (how deep a trench must go). O(1).
    public func depthOfBottom(atParameter t: Double) -> Double? {
        guard let d = depthOfTop(atParameter: t), let h = outerHeightM else { return nil }
        return d + h
    }

    /// Depth of the pipe top below the plan point nearest to `p` on the segment. O(vertices).
    public func depthOfTop(at p: Point) -> Double? { depthOfTop(atParameter: parameter(nearestTo: p)) }

    /// The parameter (fraction of plan length, 0...1) of the point of the geometry nearest to `p`.
    /// A zero-length geometry gives 0. O(vertices).
    public func parameter(nearestTo p: Point) -> Double {
        let pts = geometry.points
        var best = Double.infinity
        var bestAlong = 0.0
        var walked = 0.0
        for i in 1..<pts.count {
            let a = pts[i - 1]
            let b = pts[i]
            let dx = b.x - a.x
            let dy = b.y - a.y
            let len2 = dx * dx + dy * dy
            var u = len2 > 0 ? ((p.x - a.x) * dx + (p.y - a.y) * dy) / len2 : 0
            u = min(max(u, 0), 1)
            let qx = a.x + u * dx - p.x
            let qy = a.y + u * dy - p.y
            let d2 = qx * qx + qy * qy
            let len = len2.squareRoot()
            if d2 < best {
                best = d2
                bestAlong = walked + u * len
            }
            walked += len
        }
        return walked > 0 ? bestAlong / walked : 0
    }

    /// The plan point at parameter `t` (clamped to 0...1). O(vertices).
    public func point(atParameter t: Double) -> Point {
        let pts = geometry.points
        let total = pts.planarLength
        guard total > 0, !t.isNaN else { return pts[0] }
        var target = min(max(t, 0), 1) * total
        for i in 1..<pts.count {
            let a = pts[i - 1]
            let b = pts[i]
            let len = ((b.x - a.x) * (b.x - a.x) + (b.y - a.y) * (b.y - a.y)).squareRoot()
            if target <= len || i == pts.count - 1 {
                let u = len > 0 ? min(target / len, 1) : 0
                return Point(a.x + u * (b.x - a.x), a.y + u * (b.y - a.y))
            }
            target -= len
        }
        return pts[pts.count - 1]
    }
}

/// Linear interpolation at clamped `t`; `nil` for NaN `t`.
@usableFromInline
func _lerp(_ a: Double, _ b: Double, _ t: Double) -> Double? {
    guard !t.isNaN else { return nil }
    let u = min(max(t, 0), 1)
    return a + (b - a) * u
}

extension Array where Element == Point {
    /// Sum of the planar lengths of consecutive pairs.
    @usableFromInline
    var planarLength: Double {
        var total = 0.0
        for i in indices.dropFirst() {
            let dx = self[i].x - self[i - 1].x
            let dy = self[i].y - self[i - 1].y
            total += (dx * dx + dy * dy).squareRoot()
        }
        return total
    }
}

// MARK: - Codable

extension PipeSegment: Codable {
    private enum CodingKeys: String, CodingKey {
        case id, layer, subtype, startPoint, endPoint, geometry, startDepth, endDepth, startElevation,
            endElevation, elevationReference, section, ductHoles, ductHolesOccupied, cableCount, material,
            burial, gasPressureMPa, voltageKV, owner, road, layingDate, status, accuracy, sourceID, feature, part,
            featureKind, nominalDepth, accuracyAssumed, sourceFile
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(Int64.self, forKey: .id)
        layer = try c.decode(LayerCode.self, forKey: .layer)
        subtype = try c.decodeIfPresent(SubtypeCode.self, forKey: .subtype)
        startPoint = try c.decode(PointNumber.self, forKey: .startPoint)
        endPoint = try c.decode(PointNumber.self, forKey: .endPoint)
        let coords = try c.decode([[Double]].self, forKey: .geometry)
        geometry = try _decodeLineString(coords, codingPath: c.codingPath + [CodingKeys.geometry])
        startDepth = try c.decodeIfPresent(Double.self, forKey: .startDepth)
        endDepth = try c.decodeIfPresent(Double.self, forKey: .endDepth)
        startElevation = try c.decodeIfPresent(Double.self, forKey: .startElevation)
        endElevation = try c.decodeIfPresent(Double.self, forKey: .endElevation)
        elevationReference = try c.decodeIfPresent(ElevationReference.self, forKey: .elevationReference) ?? .top
        section = try c.decodeIfPresent(PipeSection.self, forKey: .section)
        ductHoles = try c.decodeIfPresent(Int.self, forKey: .ductHoles)
        ductHolesOccupied = try c.decodeIfPresent(Int.self, forKey: .ductHolesOccupied)
        cableCount = try c.decodeIfPresent(Int.self, forKey: .cableCount)
        material = try c.decodeIfPresent(Material.self, forKey: .material)
        burial = try c.decodeIfPresent(BurialMethod.self, forKey: .burial)
        gasPressureMPa = try c.decodeIfPresent(Double.self, forKey: .gasPressureMPa)
        voltageKV = try c.decodeIfPresent(Double.self, forKey: .voltageKV)
        owner = try c.decodeIfPresent(String.self, forKey: .owner)
        road = try c.decodeIfPresent(String.self, forKey: .road)
        layingDate = try c.decodeIfPresent(String.self, forKey: .layingDate)
        status = try c.decodeIfPresent(RecordStatus.self, forKey: .status)
        accuracy = try c.decodeIfPresent(PositionalAccuracy.self, forKey: .accuracy)
        sourceID = try c.decodeIfPresent(String.self, forKey: .sourceID)
        feature = try c.decodeIfPresent(Int64.self, forKey: .feature)
        part = try c.decodeIfPresent(Int.self, forKey: .part)
        featureKind = try c.decodeIfPresent(FeatureKind.self, forKey: .featureKind) ?? .utilityLine
        nominalDepth = try c.decodeIfPresent(Double.self, forKey: .nominalDepth)
        accuracyAssumed = try c.decodeIfPresent(Bool.self, forKey: .accuracyAssumed) ?? false
        sourceFile = try c.decodeIfPresent(String.self, forKey: .sourceFile)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(layer, forKey: .layer)
        try c.encodeIfPresent(subtype, forKey: .subtype)
        try c.encode(startPoint, forKey: .startPoint)
        try c.encode(endPoint, forKey: .endPoint)
        try c.encode(geometry.points.map(_encodePoint), forKey: .geometry)
        try c.encodeIfPresent(startDepth, forKey: .startDepth)
        try c.encodeIfPresent(endDepth, forKey: .endDepth)
        try c.encodeIfPresent(startElevation, forKey: .startElevation)
        try c.encodeIfPresent(endElevation, forKey: .endElevation)
        try c.encode(elevationReference, forKey: .elevationReference)
        try c.encodeIfPresent(section, forKey: .section)
        try c.encodeIfPresent(ductHoles, forKey: .ductHoles)
        try c.encodeIfPresent(ductHolesOccupied, forKey: .ductHolesOccupied)
        try c.encodeIfPresent(cableCount, forKey: .cableCount)
        try c.encodeIfPresent(material, forKey: .material)
        try c.encodeIfPresent(burial, forKey: .burial)
        try c.encodeIfPresent(gasPressureMPa, forKey: .gasPressureMPa)
        try c.encodeIfPresent(voltageKV, forKey: .voltageKV)
        try c.encodeIfPresent(owner, forKey: .owner)
        try c.encodeIfPresent(road, forKey: .road)
        try c.encodeIfPresent(layingDate, forKey: .layingDate)
        try c.encodeIfPresent(status, forKey: .status)
        try c.encodeIfPresent(accuracy, forKey: .accuracy)
        try c.encodeIfPresent(sourceID, forKey: .sourceID)
        try c.encodeIfPresent(feature, forKey: .feature)
        try c.encodeIfPresent(part, forKey: .part)
        if featureKind != .utilityLine { try c.encode(featureKind, forKey: .featureKind) }
        try c.encodeIfPresent(nominalDepth, forKey: .nominalDepth)
        if accuracyAssumed { try c.encode(true, forKey: .accuracyAssumed) }
        try c.encodeIfPresent(sourceFile, forKey: .sourceFile)
    }
}

/// `[x, y]` or `[x, y, z]`.
func _encodePoint(_ p: Point) -> [Double] { p.z.map { [p.x, p.y, $0] } ?? [p.x, p.y] }

/// Decodes `[[x, y(, z)], ...]`, turning a bad position or a refused line string into a
/// `DecodingError` that names the path.
func _decodeLineString(_ coords: [[Double]], codingPath: [any CodingKey]) throws -> LineString {
    var pts: [Point] = []
    pts.reserveCapacity(coords.count)
    for (i, c) in coords.enumerated() {
        guard c.count == 2 || c.count == 3 else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath, debugDescription: "position \(i) has \(c.count) numbers; need 2 or 3"))
        }
        pts.append(Point(c[0], c[1], c.count == 3 ? c[2] : nil))
    }
    do {
        return try LineString(pts)
    } catch {
        throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: error.message))
    }
}
