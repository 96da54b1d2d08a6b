import SubterraModel

/// The attributes of a pipe that the clearance rules look at, as plain codes.
///
/// Kept apart from the survey model so a planned pipe (which has no survey record yet) and an
/// existing one are looked up the same way, and so a city rule file can name codes this library
/// does not know.
public struct PipeProfile: Hashable, Sendable, Codable {
    /// Survey layer code (CJJ 61 appendix B), e.g. `"RQ"` gas.
    public var layer: LayerCode
    /// Sub-type code within the layer, e.g. `"TR"` natural gas; informative, not used by the tables.
    public var subtype: SubtypeCode?
    /// Gas pressure class; `nil` when not surveyed, which the default rules treat as the strictest
    /// class the tables cover.
    public var pressureClass: GasPressureClass?
    /// Burial method code, e.g. `"ZM"` direct-buried, `"GK"` duct bank, `"GG"` trench.
    public var burial: BurialMethod?
    /// Nominal diameter DN in millimetres, or the larger side of a W×H section; `nil` when unknown.
    public var diameterMM: Double?
    /// Cable voltage in kilovolts, for power; `nil` when not surveyed, which counts as critical
    /// when the rule file's severity has a voltage threshold for the pipe's class (as unknown
    /// pressure does for a pressure threshold): see ``ClearanceRules/criticalReason(_:)``.
    public var voltageKV: Double?
    /// Gas pressure in MPa when known: a rule profile with its own pressure classes classifies
    /// it by its bounds. Without it the profile classifies ``pressureClass`` by that class's
    /// upper bound (the highest pressure it may stand for).
    public var pressureMPa: Double?

    public init(
        layer: LayerCode, subtype: SubtypeCode? = nil, pressureClass: GasPressureClass? = nil,
        burial: BurialMethod? = nil,
        diameterMM: Double? = nil, voltageKV: Double? = nil, pressureMPa: Double? = nil
    ) {
        self.layer = layer
        self.subtype = subtype
        self.pressureClass = pressureClass
        self.burial = burial
        self.diameterMM = diameterMM
        self.voltageKV = voltageKV
        self.pressureMPa = pressureMPa
    }

    /// The pressure a rule profile classifies: the surveyed MPa, else the upper bound of the
    /// GB 50028 class given, else nil (unknown).
    public var pressureForRules: Double? { pressureMPa ?? pressureClass?.upperBoundMPa }

    /// The profile of a surveyed segment: DN, or the larger side of a W×H section, as diameter.
    public init(_ s: PipeSegment) {
        let dn: Double?
        switch s.section {
        case .circular(let d): dn = d
        case .rectangular(let w, let h): dn = max(w, h)
        case nil: dn = nil
        }
        self.init(
            layer: s.layer, subtype: s.subtype, pressureClass: s.gasPressureClass, burial: s.burial,
            diameterMM: dn, voltageKV: s.voltageKV, pressureMPa: s.gasPressureMPa)
    }
}
