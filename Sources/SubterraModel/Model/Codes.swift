/// How a line is laid (埋设方式), CJJ 61 codes; open, so local codes pass through.
@frozen
public struct BurialMethod: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }

    /// 直埋 direct-buried.
    public static let directBuried: BurialMethod = "ZM"
    /// 管埋 in a casing pipe.
    public static let casing: BurialMethod = "GM"
    /// 管块 duct bank.
    public static let ductBank: BurialMethod = "GK"
    /// 沟道 trench (cable trench, heat trench).
    public static let trench: BurialMethod = "GG"
    /// 架空 overhead.
    public static let overhead: BurialMethod = "JK"
    /// 综合管廊 utility tunnel.
    public static let utilityTunnel: BurialMethod = "ZH"
    /// 顶管 pipe-jacked.
    public static let pipeJacked: BurialMethod = "DG"

    /// The CJJ 61 codes above, in that order: what rule files and requests are checked against
    /// (with the codes present in a map).
    public static let standard: [BurialMethod] = [
        .directBuried, .casing, .ductBank, .trench, .overhead, .utilityTunnel, .pipeJacked,
    ]
}

/// Pipe or cable material; open vocabulary with common codes.
@frozen
public struct Material: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let polyethylene: Material = "PE"
    public static let pvc: Material = "PVC"
    public static let ductileIron: Material = "DI"
    public static let castIron: Material = "CI"
    public static let steel: Material = "ST"
    public static let concrete: Material = "RC"
    public static let hdpeDoubleWall: Material = "HDPE"
    public static let copper: Material = "CU"
    public static let fibreOptic: Material = "FO"
}

/// Record status; open vocabulary.
@frozen
public struct RecordStatus: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let inService: RecordStatus = "in-service"
    public static let abandoned: RecordStatus = "abandoned"
    public static let planned: RecordStatus = "planned"
    public static let underConstruction: RecordStatus = "under-construction"
}

/// Whether a survey point is a *feature* (a change in the line itself) or an *appurtenance* (a
/// device or structure on it). CJJ 61 makes every point exactly one of the two.
public enum PointCategory: String, Hashable, Sendable, Codable, CaseIterable {
    case feature
    case appurtenance
}

/// What a survey point is (bend, valve, manhole, ...); open vocabulary.
@frozen
public struct PointKind: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }

    // Features (特征点).
    public static let bend: PointKind = "bend"
    public static let tee: PointKind = "tee"
    public static let cross: PointKind = "cross"
    public static let reducer: PointKind = "reducer"
    public static let reservedOutlet: PointKind = "reserved-outlet"
    public static let riser: PointKind = "riser"
    public static let cap: PointKind = "cap"
    public static let materialChange: PointKind = "material-change"
    public static let turningPoint: PointKind = "turning-point"
    /// A straight-line survey point with no fitting (直线点), e.g. where a service enters a building.
    public static let straight: PointKind = "straight"
    // Appurtenances (附属物).
    public static let valve: PointKind = "valve"
    public static let valveChamber: PointKind = "valve-chamber"
    public static let manhole: PointKind = "manhole"
    public static let waterMeter: PointKind = "water-meter"
    public static let hydrant: PointKind = "hydrant"
    public static let airValve: PointKind = "air-valve"
    public static let stormInlet: PointKind = "storm-inlet"
    public static let septicTank: PointKind = "septic-tank"
    public static let pumpStation: PointKind = "pump-station"
    /// A cable pit / hand hole on a power or telecom duct bank.
    public static let cablePit: PointKind = "cable-pit"
    /// A service connection (接户点): where a customer's supply leaves the main; carries a
    /// ``ServiceConnection`` (category and count).
    public static let serviceConnection: PointKind = "service-connection"
    /// A network's source: water works, gas gate station or heat plant.
    public static let plant: PointKind = "plant"
    /// A gas pressure regulator station (调压站): the source of the lower-pressure system.
    public static let regulatorStation: PointKind = "regulator-station"
    /// A drainage outfall (排放口).
    public static let outfall: PointKind = "outfall"

    /// The category of a known kind; `nil` for a kind this library does not know.
    public var standardCategory: PointCategory? {
        switch self {
        case .bend, .tee, .cross, .reducer, .reservedOutlet, .riser, .cap, .materialChange, .turningPoint,
            .straight:
            return .feature
        case .valve, .valveChamber, .manhole, .waterMeter, .hydrant, .airValve, .stormInlet, .septicTank,
            .pumpStation, .cablePit, .serviceConnection, .plant, .regulatorStation, .outfall:
            return .appurtenance
        default:
            return nil
        }
    }
}

/// Which elevation the survey recorded for a segment end: pipe top (管顶) or pipe bottom (管底,
/// usual for gravity drainage, where the invert matters).
public enum ElevationReference: String, Hashable, Sendable, Codable, CaseIterable {
    case top
    case bottom
}

/// Gas pressure classes (GB 50028): boundaries in MPa, upper bound inclusive.
public enum GasPressureClass: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    /// ≤ 0.01 MPa.
    case low
    /// 0.01 – 0.2 MPa.
    case mediumB
    /// 0.2 – 0.4 MPa.
    case mediumA
    /// 0.4 – 0.8 MPa.
    case subHighB
    /// 0.8 – 1.6 MPa.
    case subHighA
    /// 1.6 – 2.5 MPa.
    case highB
    /// 2.5 – 4.0 MPa.
    case highA

    /// The class of a pressure in MPa; `nil` for a negative, non-finite or above-4.0 MPa value.
    /// A boundary value belongs to the lower class (0.2 MPa is medium B). O(1).
    public init?(megapascals p: Double) {
        guard p.isFinite, p >= 0 else { return nil }
        for c in GasPressureClass.allCases where p <= c.upperBoundMPa {
            self = c
            return
        }
        return nil
    }

    /// Exclusive lower bound (0 for low, which includes 0).
    public var lowerBoundMPa: Double {
        switch self {
        case .low: return 0
        case .mediumB: return 0.01
        case .mediumA: return 0.2
        case .subHighB: return 0.4
        case .subHighA: return 0.8
        case .highB: return 1.6
        case .highA: return 2.5
        }
    }

    /// Inclusive upper bound.
    public var upperBoundMPa: Double {
        switch self {
        case .low: return 0.01
        case .mediumB: return 0.2
        case .mediumA: return 0.4
        case .subHighB: return 0.8
        case .subHighA: return 1.6
        case .highB: return 2.5
        case .highA: return 4.0
        }
    }

    /// Whether `p` MPa lies in this class.
    public func contains(megapascals p: Double) -> Bool { GasPressureClass(megapascals: p) == self }

    public static func < (a: GasPressureClass, b: GasPressureClass) -> Bool { a.upperBoundMPa < b.upperBoundMPa }
}

/// ASCE 38 subsurface utility quality level: D (records only) to A (exposed and measured in 3D).
public enum QualityLevel: String, Hashable, Sendable, Codable, CaseIterable {
    case a = "A"
    case b = "B"
    case c = "C"
    case d = "D"
}

/// How well a record's position is known; a conflict check widens its search by these.
public struct PositionalAccuracy: Hashable, Sendable, Codable {
    /// Horizontal uncertainty in metres (1:500 surveys of detected lines: about 0.05–0.5 m).
    public var horizontalM: Double
    /// Vertical (depth) uncertainty in metres, when stated.
    public var verticalM: Double?
    /// ASCE 38 quality level, when stated.
    public var qualityLevel: QualityLevel?

    public init(horizontalM: Double, verticalM: Double? = nil, qualityLevel: QualityLevel? = nil) {
        self.horizontalM = horizontalM
        self.verticalM = verticalM
        self.qualityLevel = qualityLevel
    }
}

/// A cross-section: circular with a nominal diameter DN, or rectangular W×H (culverts, duct banks,
/// trenches). Sizes are in millimetres as surveyed; the outer size in metres feeds clearance math.
public enum PipeSection: Hashable, Sendable, Codable {
    case circular(diameterMM: Double)
    case rectangular(widthMM: Double, heightMM: Double)

    /// Outer width across the line, in metres. The survey records DN, not the wall, so DN is taken
    /// as the outer diameter: a few centimetres small for large pipes, and documented as such.
    @inlinable
    public var outerWidthM: Double {
        switch self {
        case .circular(let d): return d / 1000
        case .rectangular(let w, _): return w / 1000
        }
    }

    /// Outer height in metres: bottom elevation = top elevation − `outerHeightM`.
    @inlinable
    public var outerHeightM: Double {
        switch self {
        case .circular(let d): return d / 1000
        case .rectangular(_, let h): return h / 1000
        }
    }

    /// Survey notation: `"DN300"` or `"800x600"`.
    public var notation: String {
        func mm(_ v: Double) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : String(v) }
        switch self {
        case .circular(let d): return "DN" + mm(d)
        case .rectangular(let w, let h): return mm(w) + "x" + mm(h)
        }
    }

    /// Parses `"DN300"`, `"300"`, `"Φ300"`, `"800x600"` / `"800X600"` / `"800×600"`; `nil` when
    /// the text is none of these or a size is not a positive finite number.
    public init?(notation text: String) {
        var t = Substring(text.filter { !$0.isWhitespace })
        for prefix in ["DN", "dn", "Φ", "φ", "D", "d"] where t.hasPrefix(prefix) {
            t = t.dropFirst(prefix.count)
            break
        }
        let parts = t.split(whereSeparator: { $0 == "x" || $0 == "X" || $0 == "×" || $0 == "*" })
        func size(_ s: Substring) -> Double? {
            guard let v = Double(s), v.isFinite, v > 0 else { return nil }
            return v
        }
        if parts.count == 1, let d = size(parts[0]) {
            self = .circular(diameterMM: d)
        } else if parts.count == 2, let w = size(parts[0]), let h = size(parts[1]) {
            self = .rectangular(widthMM: w, heightMM: h)
        } else {
            return nil
        }
    }

    /// Whether all sizes are positive and finite.
    public var isValid: Bool {
        switch self {
        case .circular(let d): return d.isFinite && d > 0
        case .rectangular(let w, let h): return w.isFinite && w > 0 && h.isFinite && h > 0
        }
    }
}
