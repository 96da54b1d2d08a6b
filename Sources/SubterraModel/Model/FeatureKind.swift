/// What a line of a delivery is: the utility itself, or a structure that carries or protects it.
///
/// Operators deliver a cable together with its cable bed and the sleeves it runs through, often on
/// one shared trace. Only the utility line is the thing a dig must not hit on its own account;
/// the others enclose it. Reports group an enclosure with the line it carries (see
/// ``PipeSegment/featureKind``), so one cable is not reported three times.
public enum FeatureKind: String, Hashable, Sendable, Codable, CaseIterable {
    /// A pipe, cable or duct bank: the utility itself (the default).
    case utilityLine
    /// A cable bed (trench fill or cable tray in the ground) that one or more cables lie in.
    case cableBed
    /// A sleeve, duct or protective tube a line is pulled through, e.g. under a road crossing.
    case sleeve
    /// A casing pipe around a carrier pipe (a gas main under a railway).
    case casing

    /// Whether this kind carries or protects a utility line instead of being one.
    public var isEnclosure: Bool { self != .utilityLine }

    /// Words for messages and tables: `"utility line"`, `"cable bed"`, `"sleeve"`, `"casing"`.
    public var words: String {
        switch self {
        case .utilityLine: "utility line"
        case .cableBed: "cable bed"
        case .sleeve: "sleeve"
        case .casing: "casing"
        }
    }

    /// Reads a mapped value: a raw value or its words, ignoring case, spaces, `_` and `-`
    /// (`"cable bed"`, `"CABLE_BED"`, `"cableBed"`), and `"duct"` or `"protective tube"` for
    /// ``sleeve``. Source vocabularies (IMKL, Chinese survey tables) go through a mapping's value
    /// map. O(length).
    public init?(parsing text: String) {
        let key = String(text.lowercased().unicodeScalars.filter { !" _-\t".unicodeScalars.contains($0) })
        switch key {
        case "utilityline", "line": self = .utilityLine
        case "cablebed": self = .cableBed
        case "sleeve", "duct", "protectivetube": self = .sleeve
        case "casing": self = .casing
        default: return nil
        }
    }
}
