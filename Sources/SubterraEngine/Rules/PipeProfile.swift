/// The attributes of a pipe that the clearance rules look at, as plain codes.
///
/// Kept apart from the survey model so a planned pipe (which has no survey record yet) and an
/// existing one are looked up the same way, and so a city rule file can name codes this library
/// does not know.
public struct PipeProfile: Hashable, Sendable, Codable {
    /// Survey layer code (CJJ 61 appendix B), e.g. `"RQ"` gas.
    public var layer: String
    /// Sub-type code within the layer, e.g. `"TR"` natural gas; informative, not used by the tables.
    public var subtype: String?
    /// Gas pressure class, one of ``PipeProfile/pressureClasses`` (`"subHighA"`); `nil` when not
    /// surveyed, which the default rules treat as the strictest class the tables cover.
    public var pressureClass: String?
    /// Burial method code, e.g. `"ZM"` direct-buried, `"GK"` duct bank, `"GG"` trench.
    public var burial: String?
    /// Nominal diameter DN in millimetres, or the larger side of a W×H section; `nil` when unknown.
    public var diameterMM: Double?
    /// Cable voltage in kilovolts, for power.
    public var voltageKV: Double?

    public init(
        layer: String, subtype: String? = nil, pressureClass: String? = nil, burial: String? = nil,
        diameterMM: Double? = nil, voltageKV: Double? = nil
    ) {
        self.layer = layer
        self.subtype = subtype
        self.pressureClass = pressureClass
        self.burial = burial
        self.diameterMM = diameterMM
        self.voltageKV = voltageKV
    }

    /// Gas pressure classes from lowest to highest, as the rule files name them.
    ///
    /// low ≤ 0.01 MPa; medium B ≤ 0.2; medium A ≤ 0.4; sub-high B ≤ 0.8; sub-high A ≤ 1.6;
    /// high B ≤ 2.5; high A ≤ 4.0.
    public static let pressureClasses = ["low", "mediumB", "mediumA", "subHighB", "subHighA", "highB", "highA"]

    /// The pressure class of a gauge pressure in MPa, upper bounds inclusive; `nil` for a negative,
    /// non-finite or above-4.0 MPa value.
    public static func pressureClass(megapascals p: Double) -> String? {
        guard p.isFinite, p >= 0 else { return nil }
        let bounds = [0.01, 0.2, 0.4, 0.8, 1.6, 2.5, 4.0]
        guard let i = bounds.firstIndex(where: { p <= $0 }) else { return nil }
        return pressureClasses[i]
    }

    /// Rank of a pressure class in ``pressureClasses``, `nil` for an unknown code.
    public static func pressureRank(_ code: String) -> Int? { pressureClasses.firstIndex(of: code) }
}
