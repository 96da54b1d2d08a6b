import SubterraGeometry
import SubterraModel

/// A record of a generated district, in the order a writer may stream them: every point comes
/// before the first segment that refers to it.
public enum DistrictRecord: Sendable {
    case point(FeaturePoint)
    case segment(PipeSegment)
}

/// A generated district held in memory.
public struct District: Hashable, Sendable {
    /// Segments and points, CRS `EPSG:4549`.
    public var network: UtilityNetwork
    /// The layers used: the CJJ 61 standard ones plus fibre (`GX`).
    public var catalog: LayerCatalog
    /// The area every coordinate lies in (node grid plus the widest cross-section and laterals).
    public var extent: Envelope
    public var seed: UInt64
}

/// Deterministic generator of a realistic utility district around Wenling (EPSG:4549): an
/// irregular street network with water, reclaimed water, drainage (storm and sewage), gas, heat,
/// power, street lighting, telecom and fibre laid along streets at cross-section offsets, stacked
/// at standard depths, with survey points every 20–60 m, junction fittings, service laterals to
/// buildings, sizes and gas pressure classes by role, owners and survey accuracy.
///
/// Same `segments` and `seed` ⇒ the same records in the same order, on every platform (own PRNG,
/// own `sin`, coordinates rounded to mm).
///
/// ```swift
/// let district = DistrictGenerator(segments: 3000, seed: 42).district()
/// ```
public struct DistrictGenerator: Sendable {
    public let layout: DistrictLayout
    /// Exact number of segments produced.
    public let segmentCount: Int

    public init(segments: Int, seed: UInt64) {
        self.segmentCount = max(0, segments)
        self.layout = DistrictLayout(segments: max(1, segments), seed: seed)
    }

    /// The whole district in memory (about 1 KB per segment with its points: use `generate(_:)`
    /// to stream beyond a few million). O(segments).
    public func district() -> District {
        var segments: [PipeSegment] = []
        var points: [FeaturePoint] = []
        segments.reserveCapacity(segmentCount)
        let rows = generate { r in
            switch r {
            case .point(let p): points.append(p)
            case .segment(let s): segments.append(s)
            }
        }
        // The generator's records are valid and unique by construction; tests check it.
        let network = try! UtilityNetwork(crs: "EPSG:4549", segments: segments, points: points)
        return District(
            network: network, catalog: .standardWithFibre, extent: layout.extent(rows: rows), seed: layout.seed)
    }

    /// Streams the district's records to `body`. Returns the number of node rows used (see
    /// `DistrictLayout.extent(rows:)`). O(segments) time; memory O(grid nodes) for junction numbers.
    @discardableResult
    public func generate(_ body: (DistrictRecord) throws -> Void) rethrows -> Int {
        var state = _GeneratorState(layout: layout)
        state.plan = _NetworkPlan(layout: layout, segments: segmentCount)
        return try layout.walk(maxSegments: segmentCount) { raw in
            state.enterRun(raw)
            let a = try state.pointNumber(raw.start, raw, isStart: true, body)
            let b = try state.pointNumber(raw.end, raw, isStart: false, body)
            try body(.segment(state.segment(raw, a, b)))
        }
    }
}

/// Per-layer owners, road names and the mutable numbering of a generation run.
struct _GeneratorState {
    let layout: DistrictLayout
    var nextID: Int64 = 1
    var serial: [LayerCode: Int] = [:]
    /// Junction point numbers, made when first referenced.
    var junctions: [_PointRef: _Made] = [:]
    /// Interior and lateral-end points of the current run (one line type on one edge).
    var runPoints: [_PointRef: _Made] = [:]
    var runKey: (UInt64, LineType)? = nil
    var runAttributes: _RunAttributes? = nil
    /// Valve positions (interior point indices) of planned chains, by edge key and line type;
    /// an entry is taken out when the walk enters its run.
    var plannedValves: [_RunKey: Set<Int>] = [:]
    /// Valve positions of the current run.
    var runValves: Set<Int> = []
    /// Sources, outfalls and drainage pipe tops, decided before the stream (`DistrictPlan.swift`).
    var plan = _NetworkPlan()

    struct _RunKey: Hashable {
        var edgeKey: UInt64
        var type: LineType
    }

    struct _Made {
        var number: PointNumber
        var ground: Double
        var depth: Double
    }

    init(layout: DistrictLayout) { self.layout = layout }

    /// Forgets the points and attributes of the previous run when `raw` starts a new one.
    mutating func enterRun(_ raw: _RawSegment) {
        if runKey.map({ $0.0 != raw.edgeKey || $0.1 != raw.type }) ?? true {
            runKey = (raw.edgeKey, raw.type)
            runPoints.removeAll(keepingCapacity: true)
            runAttributes = nil
            runValves = []
            if raw.type.isPressurised {
                let key = _RunKey(edgeKey: raw.edgeKey, type: raw.type)
                if plannedValves[key] == nil {
                    for (k, v) in layout.chainValves(raw.edge, raw.streetClass, raw.type) {
                        plannedValves[_RunKey(edgeKey: k, type: raw.type)] = v
                    }
                }
                runValves = plannedValves.removeValue(forKey: key) ?? []
            }
        }
    }

    mutating func newNumber(_ layer: LayerCode) -> PointNumber {
        let n = (serial[layer] ?? 0) + 1
        serial[layer] = n
        let digits = String(n)
        return PointNumber(layer.rawValue + String(repeating: "0", count: max(0, 6 - digits.count)) + digits)
    }

    /// The number of the point `ref`, emitting the point first when it is new.
    mutating func pointNumber(
        _ ref: _PointRef, _ raw: _RawSegment, isStart: Bool, _ body: (DistrictRecord) throws -> Void
    ) rethrows -> _Made {
        if ref.kind == .junction {
            if let m = junctions[ref] { return m }
        } else if let m = runPoints[ref] {
            return m
        }
        let x = isStart ? raw.x0 : raw.x1
        let y = isStart ? raw.y0 : raw.y1
        let t = ref.type
        let ground = _mm(_ground(x, y, layout))
        var r = Xoshiro256(seed: layout.seed, key: _mix(ref.key, UInt64(ref.index)), salt: 0x6470_0000 + UInt64(t.rawValue))
        var depth: Double
        let kind: PointKind
        switch ref.kind {
        case .junction:
            depth = _cm(r.uniform(t.depthBand.lowerBound, t.depthBand.upperBound))
            // A source of its component, or a drainage outfall (the plan), else by its pipes.
            kind = plan.kinds[ref] ?? junctionKind(ref, t)
            if let top = plan.top(ref) { depth = _mm(ground - top) }
        case .interior:
            depth = _cm(r.uniform(t.depthBand.lowerBound, t.depthBand.upperBound))
            kind = interiorKind(t, feedsLateral: !isStart && raw.endFeedsLateral, valve: runValves.contains(ref.index), &r)
            if let top = plan.top(ref) { depth = _mm(ground - top) }
        case .lateralEnd:
            let band = t.serviceDepthBand
            depth = _cm(r.uniform(band.lowerBound, band.upperBound))
            kind = t.buildingEndKind
            let dx = raw.x1 - raw.x0, dy = raw.y1 - raw.y0
            if t.isDrainage, let top = plan.lateralEndTop(ref, ground: ground, depth: depth, length: (dx * dx + dy * dy).squareRoot()) {
                depth = _mm(ground - top)
            }
        }
        let valveStatus = kind.isIsolationValve ? _valveStatus(ref, seed: layout.seed) : nil
        let connection = t.isPressurised && (ref.kind == .lateralEnd || kind == .serviceConnection)
            ? _connection(ref, seed: layout.seed) : nil
        let made = _Made(number: newNumber(t.layer), ground: ground, depth: depth)
        let p = FeaturePoint(
            number: made.number, layer: t.layer, kind: kind, position: Point(x, y), groundElevation: ground,
            depth: depth, owner: t.owner(_ownerSalt(raw, layout)), road: roadName(raw.edge, raw.streetClass),
            status: .inService, valveStatus: valveStatus, connection: connection)
        try body(.point(p))
        if ref.kind == .junction { junctions[ref] = made } else { runPoints[ref] = made }
        return made
    }

    func junctionKind(_ ref: _PointRef, _ t: LineType) -> PointKind {
        let degree: Int
        var straight = false
        if ref.key >= (1 << 62) {
            degree = 1
        } else {
            let i = Int(ref.key % UInt64(layout.columns))
            let j = Int(ref.key / UInt64(layout.columns))
            let here = layout.node(i, j)
            let carrying = layout.incidentEdges(i, j).filter { layout.carries($0.0, $0.1, t) }
            degree = carrying.count
            if degree == 2 {
                let u = (carrying[0].2.x - here.x, carrying[0].2.y - here.y)
                let v = (carrying[1].2.x - here.x, carrying[1].2.y - here.y)
                let cosine = (u.0 * v.0 + u.1 * v.1)
                    / ((u.0 * u.0 + u.1 * u.1).squareRoot() * (v.0 * v.0 + v.1 * v.1).squareRoot())
                straight = cosine < -0.985  // within ~10 degrees of a straight run
            }
        }
        switch t {
        case .storm, .sewage: return .manhole
        case .telecom, .fibre, .power: return degree == 2 && straight ? .straight : .cablePit
        case .lighting: return degree == 2 && straight ? .straight : .turningPoint
        default:
            switch degree {
            case ...1: return .cap
            case 2: return straight ? .straight : .bend
            case 3: return .tee
            default: return .cross
            }
        }
    }

    /// The kind of an interior survey point; `valve` when the chain plan puts a valve there
    /// (`DistrictNetwork.swift`).
    func interiorKind(_ t: LineType, feedsLateral: Bool, valve: Bool, _ r: inout Xoshiro256) -> PointKind {
        switch t {
        case .storm, .sewage: return .manhole
        case .telecom, .fibre, .power: return .cablePit
        case .lighting: return .straight
        case .water, .reclaimed:
            if feedsLateral { return .tee }
            if valve { return .valve }
            return t == .water && r.chance(0.5) ? .hydrant : .straight
        case .gas:
            if feedsLateral { return .tee }
            return valve ? .valve : .straight
        case .heat:
            // Heat has no laterals: a customer's substation connects at a point of the main.
            if valve { return .valveChamber }
            return r.chance(0.15) ? .serviceConnection : .straight
        }
    }

    func roadName(_ e: _Edge, _ c: StreetClass) -> String {
        switch e.kind {
        case .east: return _roadName(_eastWestNames, e.j, "Road")
        case .north: return _roadName(_northSouthNames, e.i, "Street")
        case .diagonal: return _roadName(_diagonalNames, (e.i + e.j) / 29, "Avenue")
        case .stub:
            let base = e.stubOf == .east ? _roadName(_eastWestNames, e.j, "Road") : _roadName(_northSouthNames, e.i, "Street")
            return base + " Lane " + String(e.stubOf == .east ? e.i + 1 : e.j + 1)
        }
    }

    mutating func segment(_ raw: _RawSegment, _ a: _Made, _ b: _Made) -> PipeSegment {
        let t = raw.type
        var attr: _RunAttributes
        if raw.isLateral {
            var r = Xoshiro256(seed: layout.seed, key: _mix(raw.edgeKey, UInt64(raw.start.index)), salt: 0x7376_6300 + UInt64(t.rawValue))
            attr = _RunAttributes(type: t, role: .service, &r, ownerSalt: _ownerSalt(raw, layout))
        } else if let cached = runAttributes {
            attr = cached
        } else {
            var r = Xoshiro256(seed: layout.seed, key: raw.edgeKey, salt: 0x6174_7200 + UInt64(t.rawValue))
            attr = _RunAttributes(type: t, role: raw.streetClass.role, &r, ownerSalt: _ownerSalt(raw, layout))
            runAttributes = attr
        }
        if raw.isLateral, t == .gas, let main = runAttributes?.pressure {
            // A gas service line runs at its main's pressure to the building's regulator at the
            // riser, so it belongs to the main's pressure system (and its source).
            attr.pressure = main
        }
        let h = attr.section.outerHeightM
        let drainage = t == .storm || t == .sewage
        // Drainage is written in flow direction: start = the upstream (higher) end.
        var (a, b) = (a, b)
        var (p0, p1) = (Point(raw.x0, raw.y0), Point(raw.x1, raw.y1))
        if drainage, b.ground - b.depth > a.ground - a.depth {
            swap(&a, &b)
            swap(&p0, &p1)
        }
        let geometry = try! LineString([p0, p1])
        let id = nextID
        nextID += 1
        return PipeSegment(
            id: id, layer: t.layer, subtype: attr.subtype, startPoint: a.number, endPoint: b.number,
            geometry: geometry, startDepth: a.depth, endDepth: b.depth,
            startElevation: _mm(a.ground - a.depth - (drainage ? h : 0)),
            endElevation: _mm(b.ground - b.depth - (drainage ? h : 0)),
            elevationReference: drainage ? .bottom : .top, section: attr.section, ductHoles: attr.holes,
            ductHolesOccupied: attr.occupied, cableCount: attr.cables, material: attr.material, burial: attr.burial,
            gasPressureMPa: attr.pressure, voltageKV: attr.voltage, owner: attr.owner,
            road: roadName(raw.edge, raw.streetClass), layingDate: attr.date, status: attr.status,
            accuracy: attr.accuracy)
    }
}

/// Salt choosing among several owners of one layer (telecom operators): per street run.
func _ownerSalt(_ raw: _RawSegment, _ layout: DistrictLayout) -> UInt64 {
    _mix(layout.seed, UInt64(raw.edge.kind == .north ? raw.edge.i : raw.edge.j + 7919))
}

/// Ground elevation (1985 height datum), metres: Wenling's coastal plain, 2.5–6 m, smooth.
func _ground(_ x: Double, _ y: Double, _ layout: DistrictLayout) -> Double {
    let cx = DistrictLayout.wenlingCentre.x
    let cy = DistrictLayout.wenlingCentre.y
    return 4.2 + 1.1 * _sin((x - cx) / 610) * _sin((y - cy) / 770 + 1.0) + 0.35 * _sin((x + y) / 230)
}

enum _Role { case trunk, main, distribution, service }

extension StreetClass {
    var role: _Role {
        switch self {
        case .arterial: return .trunk
        case .secondary: return .main
        case .local: return .distribution
        }
    }
}

extension LineType {
    /// Depth band at a building connection.
    var serviceDepthBand: ClosedRange<Double> {
        switch self {
        case .sewage, .storm: return 1.2...1.6
        case .water, .reclaimed, .gas, .heat: return 0.8...1.0
        default: return 0.7...0.8
        }
    }

    var buildingEndKind: PointKind {
        switch self {
        case .water, .reclaimed: return .waterMeter
        case .gas: return .riser
        case .sewage, .storm: return .manhole
        default: return .straight
        }
    }

    func owner(_ salt: UInt64) -> String {
        switch self {
        case .water, .reclaimed: return "Wenling Water Supply Co."
        case .storm, .sewage: return "Wenling Municipal Drainage Management Office"
        case .gas: return "Wenling Natural Gas Co."
        case .heat: return "Wenling Eastern Industrial Steam & Heat Co."
        case .power: return "State Grid Wenling Power Supply Co."
        case .lighting: return "Wenling Municipal Street Lighting Office"
        case .telecom:
            return ["China Telecom Wenling Branch", "China Mobile Wenling Branch", "China Unicom Wenling Branch"][
                Int(salt % 3)]
        case .fibre: return "Wenling Radio & TV Network Co."
        }
    }
}

/// Attributes shared by the pieces of one line along one street (laid in one job), or of one lateral.
struct _RunAttributes {
    var subtype: SubtypeCode
    var section: PipeSection
    var material: Material
    var burial: BurialMethod
    var holes: Int? = nil
    var occupied: Int? = nil
    var cables: Int? = nil
    var pressure: Double? = nil
    var voltage: Double? = nil
    var owner: String
    var date: String
    var status: RecordStatus
    var accuracy: PositionalAccuracy

    init(type t: LineType, role: _Role, _ r: inout Xoshiro256, ownerSalt: UInt64) {
        subtype = t.subtype
        owner = t.owner(ownerSalt)
        let year = r.integer(in: 1995...2024)
        let month = r.integer(in: 1...12)
        date = String(year) + (month < 10 ? "-0" : "-") + String(month)
        let s = r.unit()
        status = s < 0.02 ? .abandoned : (s < 0.03 ? .underConstruction : .inService)
        accuracy = role == .service
            ? PositionalAccuracy(horizontalM: _cm(r.uniform(0.3, 0.5)), verticalM: 0.3, qualityLevel: .c)
            : PositionalAccuracy(horizontalM: _cm(r.uniform(0.05, 0.15)), verticalM: 0.1, qualityLevel: .b)
        func dn(_ sizes: [Double]) -> PipeSection { .circular(diameterMM: r.pick(sizes)) }
        switch t {
        case .water:
            switch role {
            case .trunk:
                if r.chance(0.5) { subtype = .transmission; section = dn([600, 800, 1000]) } else { section = dn([300, 400, 500]) }
            case .main: section = dn([200, 300])
            case .distribution: section = dn([100, 150, 200])
            case .service: section = dn([25, 32, 50])
            }
            let d = section.outerWidthM
            material = d >= 0.8 ? .steel : (d >= 0.2 ? .ductileIron : .polyethylene)
            burial = .directBuried
        case .reclaimed:
            section = dn(role == .service ? [50] : [200, 300, 400])
            material = role == .service ? .polyethylene : .ductileIron
            burial = .directBuried
        case .gas:
            switch role {
            case .trunk:
                if r.chance(0.35) {
                    pressure = 0.6; section = dn([300, 400]); material = .steel
                } else {
                    pressure = _cm(r.uniform(0.25, 0.4)); section = dn([200, 300]); material = .steel
                }
            case .main: pressure = r.pick([0.1, 0.2]); section = dn([160, 200]); material = .polyethylene
            case .distribution:
                if r.chance(0.7) { pressure = r.pick([0.05, 0.1]) } else { pressure = 0.0035 }
                section = dn([110, 160]); material = .polyethylene
            case .service: pressure = 0.0035; section = dn([32, 40]); material = .polyethylene
            }
            burial = .directBuried
        case .heat:
            if r.chance(0.4) {
                section = .rectangular(widthMM: r.pick([1200, 1600]), heightMM: r.pick([800, 1000]))
                burial = .trench; material = .concrete
            } else {
                section = dn([300, 400, 500]); burial = .directBuried; material = .steel
            }
        case .storm:
            switch role {
            case .trunk:
                if r.chance(0.3) {
                    section = .rectangular(widthMM: r.pick([1500, 2000]), heightMM: r.pick([1000, 1200]))
                } else { section = dn([800, 1000, 1200]) }
                material = .concrete
            case .main: section = dn([600, 800]); material = .concrete
            case .distribution: section = dn([400, 500, 600]); material = r.chance(0.5) ? .concrete : .hdpeDoubleWall
            case .service: section = dn([200, 300]); material = .pvc
            }
            burial = .directBuried
        case .sewage:
            switch role {
            case .trunk: section = dn([500, 600, 800]); material = .concrete
            case .main: section = dn([400, 500]); material = .concrete
            case .distribution: section = dn([300, 400]); material = .hdpeDoubleWall
            case .service: section = dn([150, 200]); material = .pvc
            }
            burial = .directBuried
        case .power:
            switch role {
            case .trunk:
                holes = r.pick([16, 20, 24]); section = .rectangular(widthMM: 1200, heightMM: 600)
                burial = .ductBank; voltage = r.chance(0.2) ? 110 : 10
            case .main:
                holes = r.pick([9, 12]); section = .rectangular(widthMM: 800, heightMM: 500)
                burial = .ductBank; voltage = 10
            case .distribution:
                holes = 4; section = dn([150, 200]); burial = .casing; voltage = r.chance(0.5) ? 10 : 0.4
            case .service:
                holes = nil; section = dn([50]); burial = .directBuried; voltage = 0.4
            }
            if let h = holes {
                let o = max(1, Int((Double(h) * r.uniform(0.3, 0.8)).rounded()))
                occupied = o
                cables = o * r.integer(in: 1...3)
            } else {
                cables = 1
            }
            material = .copper
        case .lighting:
            section = dn([50]); burial = .casing; voltage = 0.4; cables = 1; material = .pvc
        case .telecom, .fibre:
            switch role {
            case .trunk:
                holes = 24; section = .rectangular(widthMM: 600, heightMM: 400); burial = .ductBank
            case .main:
                holes = 12; section = .rectangular(widthMM: 400, heightMM: 300); burial = .ductBank
            case .distribution:
                holes = r.pick([4, 6]); section = dn([110]); burial = .casing
            case .service:
                holes = nil; section = dn([50]); burial = .directBuried
            }
            if let h = holes {
                let o = max(1, Int((Double(h) * r.uniform(0.2, 0.9)).rounded()))
                occupied = o
                cables = o
            } else {
                cables = 1
            }
            material = t == .fibre ? .fibreOptic : .pvc
        }
    }
}

/// Street names (pinyin of plausible Wenling names), cycled with a number when exhausted.
let _eastWestNames = [
    "Wanchang", "Taiping", "Dongfu", "Xihu", "Jiulong", "Chengbei", "Renmin", "Jinxiu", "Xinhe", "Shiqu",
    "Zeguo", "Daxi", "Songmen", "Wenqiao", "Hengfeng", "Qianyang", "Binhai", "Chengdong",
]
let _northSouthNames = [
    "Huangyan", "Yongning", "Kaiyuan", "Minghua", "Wenxing", "Shuguang", "Changchun", "Tianhe", "Boai",
    "Xiangyang", "Fuxing", "Heping", "Yingbin", "Jinping",
]
let _diagonalNames = ["Donghai", "Fangshan", "Changyu"]

func _roadName(_ names: [String], _ index: Int, _ suffix: String) -> String {
    let n = names.count
    let base = names[index % n] + " " + suffix
    return index < n ? base : base + " " + String(index / n + 1)
}
