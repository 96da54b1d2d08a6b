import Foundation
import SubterraGeometry

/// A declarative map from a source file's fields to the model's fields, kept as a small JSON file
/// because every city names its fields differently.
///
/// ```json
/// {
///   "name": "Vermont sewer lines",
///   "fields": {
///     "layer":   { "constant": "PS" },
///     "subtype": { "from": ["System_Type", "SystemType"],
///                  "map": { "Wastewater": "WS", "Combined": "HS", "Stormwater": "YS" } },
///     "diameter": { "from": ["DIAM_IN"], "unit": "in" },
///     "status":  { "from": ["Status"], "default": "Existing" }
///   }
/// }
/// ```
///
/// Each target field takes the first of its `from` names present and non-empty in the record
/// (so one mapping can serve sources that disagree on a name), else `constant`, else `default`.
/// `map` translates values (matched exactly first, then trimmed and case-insensitively);
/// a value not in the map takes `otherwise` when given and is reported as `badValue` when not.
/// `unit` names the source unit; the value is converted to the target field's unit (metres for
/// depths, elevations and lengths, millimetres for diameters and sections, MPa for pressure,
/// kV for voltage); ``UnitConversion/acceptedUnits(_:)`` lists the units each quantity accepts.
///
/// `null` lists source values that mean "unknown" (`"null": ["0", "-1"]`, compared as text and,
/// when both parse, as numbers): such a value is left unknown and counted as an `unknownValue`
/// warning, never read as a number. `fallback` is another rule (or a list of them, tried in
/// order) used when the field is absent or a null sentinel, e.g. a pressure taken from the
/// network theme: `"fallback": {"from": ["thema"], "map": {"gasHogeDruk": "8"}, "unit": "bar"}`;
/// its own `unit` applies to what it gives. A value outside `map` is a `badValue`, not a reason
/// to fall back.
///
/// `defaultAccuracy` is the source's positional accuracy for records that state none (an
/// operator's "within 1 m"), so such records are not taken as exact.
public struct FieldMapping: Hashable, Sendable, Codable {
    /// How one target field gets its value.
    public struct Rule: Hashable, Sendable, Codable {
        /// Source field names, tried in order.
        public var from: [String]?
        /// A fixed value, used when no `from` field is present.
        public var constant: String?
        /// Value used when no source field is present and there is no constant.
        public var `default`: String?
        /// Value translations, source → target.
        public var map: [String: String]?
        /// Target for values absent from `map`; when nil such a value is a `badValue` issue.
        public var otherwise: String?
        /// The unit of the source value: see ``UnitConversion/acceptedUnits(_:)``.
        public var unit: String?
        /// Source values that mean "unknown" (null sentinels), e.g. `["0", "-1"]`.
        public var null: [String]?
        /// Rules tried in order when the field is absent or a null sentinel. In JSON one rule
        /// object or an array of them.
        public var fallback: [Rule]?

        public init(
            from: [String]? = nil, constant: String? = nil, default: String? = nil, map: [String: String]? = nil,
            otherwise: String? = nil, unit: String? = nil, null: [String]? = nil, fallback: [Rule]? = nil
        ) {
            self.from = from
            self.constant = constant
            self.default = `default`
            self.map = map
            self.otherwise = otherwise
            self.unit = unit
            self.null = null
            self.fallback = fallback
        }

        enum CodingKeys: String, CodingKey {
            case from, constant, `default`, map, otherwise, unit, null, fallback
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            from = try c.decodeIfPresent([String].self, forKey: .from)
            constant = try c.decodeIfPresent(String.self, forKey: .constant)
            self.default = try c.decodeIfPresent(String.self, forKey: .default)
            map = try c.decodeIfPresent([String: String].self, forKey: .map)
            otherwise = try c.decodeIfPresent(String.self, forKey: .otherwise)
            unit = try c.decodeIfPresent(String.self, forKey: .unit)
            null = try c.decodeIfPresent([String].self, forKey: .null)
            if let one = try? c.decodeIfPresent(Rule.self, forKey: .fallback) {
                fallback = [one]
            } else {
                fallback = try c.decodeIfPresent([Rule].self, forKey: .fallback)
            }
        }

        /// Whether `value` is one of the null sentinels: equal as text, or as numbers when both
        /// parse (`"0.0"` matches `"0"`). O(sentinels).
        public func isNull(_ value: String) -> Bool {
            guard let null, !null.isEmpty else { return false }
            if null.contains(value) { return true }
            guard let v = Double(value) else { return false }
            return null.contains { Double(_trimmed($0)) == v }
        }

        /// Shorthand: take the value from one field.
        public static func field(_ names: String...) -> Rule { Rule(from: names) }
        /// Shorthand: a fixed value.
        public static func constant(_ v: String) -> Rule { Rule(constant: v) }
    }

    /// A label for messages.
    public var name: String?
    /// Target field name → rule. Target names are `ImportField` raw values.
    public var fields: [String: Rule]
    /// Coordinate system of the source when the file does not declare one (`EPSG:4326`, …).
    public var sourceCRS: String?
    /// Positional accuracy of records that state none; nil leaves them without one (the dig
    /// check then applies its rule profile's conservative default, never 0).
    public var defaultAccuracy: PositionalAccuracy?
    /// Source values of the layer field (as delivered, before its value map; compared after
    /// trimming, ignoring case) whose records are not utility data at all — a CAD drawing's
    /// frame, legend and text layers. Such records are skipped: not imported, not reported one by
    /// one and not counted as dropped (``ImportResult/ignoredRecords`` counts them).
    public var ignoreLayers: [String]?

    public init(
        name: String? = nil, fields: [String: Rule], sourceCRS: String? = nil, defaultAccuracy: PositionalAccuracy? = nil,
        ignoreLayers: [String]? = nil
    ) {
        self.name = name
        self.fields = fields
        self.sourceCRS = sourceCRS
        self.defaultAccuracy = defaultAccuracy
        self.ignoreLayers = ignoreLayers
    }

    /// The layer value of `record` when it is one of ``ignoreLayers`` (as listed, trimmed), else nil:
    /// the first `from` field of the layer rule that the record has, as in ``Rule``. O(ignored).
    public func ignoredLayer(of record: SourceRecord) -> String? {
        guard let ignored = ignoreLayers, !ignored.isEmpty, let rule = self[.layer] else { return nil }
        for name in rule.from ?? [] {
            guard let v = record[name], !v.isBlank, let t = v.text else { continue }
            let value = _trimmed(t).lowercased()
            return ignored.first { _trimmed($0).lowercased() == value }.map(_trimmed)
        }
        return nil
    }

    /// Reads a mapping file.
    ///
    /// - Throws: `ImportError` naming the file and, for unknown target fields or units, the field.
    public static func load(contentsOf url: URL) throws(ImportError) -> FieldMapping {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ImportError("cannot read mapping file: \(error.localizedDescription)", file: url.path)
        }
        return try decode(data, file: url.path)
    }

    /// Parses mapping JSON and validates target names and units.
    public static func decode(_ data: Data, file: String = "mapping") throws(ImportError) -> FieldMapping {
        // Duplicate keys, nesting and size first: see `JSONPrecheck`.
        if let problem = JSONPrecheck.check(Array(data)) {
            throw ImportError("mapping, \(problem.path): \(problem.message)", file: file)
        }
        let m: FieldMapping
        do { m = try JSONDecoder().decode(FieldMapping.self, from: data) } catch {
            throw ImportError("mapping is not valid JSON of the expected shape: \(error)", file: file)
        }
        try m.validate(file: file)
        return m
    }

    /// Refuses unknown target fields, unknown units, units on a field without a unit, rules
    /// with neither a source nor a value, and `featureKind` rules that can give a value that is
    /// no feature kind.
    public func validate(file: String = "mapping") throws(ImportError) {
        for (target, rule) in fields.sorted(by: { $0.key < $1.key }) {
            guard let f = ImportField(rawValue: target) else {
                let known = ImportField.allCases.map(\.rawValue).joined(separator: ", ")
                throw ImportError("unknown target field '\(target)'; known: \(known)", file: file, field: target)
            }
            try Self.validate(rule, f, file: file, field: target)
        }
        if let ignored = ignoreLayers {
            if ignored.contains(where: { _trimmed($0).isEmpty }) {
                throw ImportError("'ignoreLayers' lists an empty name", file: file, field: "ignoreLayers")
            }
            if !ignored.isEmpty, self[.layer]?.from == nil {
                throw ImportError("'ignoreLayers' needs a layer rule reading a field ('from')", file: file, field: "ignoreLayers")
            }
        }
        if let a = defaultAccuracy {
            guard a.horizontalM.isFinite, a.horizontalM >= 0, a.verticalM.map({ $0.isFinite && $0 >= 0 }) ?? true else {
                throw ImportError("defaultAccuracy must be finite and >= 0 metres", file: file, field: "defaultAccuracy")
            }
        }
    }

    private static func validate(_ rule: Rule, _ f: ImportField, file: String, field target: String) throws(ImportError) {
        if rule.from == nil && rule.constant == nil && rule.default == nil {
            throw ImportError("rule has none of 'from', 'constant', 'default'", file: file, field: target)
        }
        if let u = rule.unit {
            guard let dim = f.dimension else {
                throw ImportError("field takes no unit, got '\(u)'", file: file, field: target)
            }
            guard UnitConversion.factor(from: u, dimension: dim) != nil else {
                let accepted = UnitConversion.acceptedUnits(dim).joined(separator: ", ")
                throw ImportError("unknown \(dim) unit '\(u)'; accepted: \(accepted)", file: file, field: target)
            }
        }
        if let n = rule.null, n.isEmpty || n.contains(where: { _trimmed($0).isEmpty }) {
            throw ImportError("'null' lists no value or an empty one (blank values are unknown anyway)", file: file, field: target)
        }
        for fb in rule.fallback ?? [] { try validate(fb, f, file: file, field: target + ".fallback") }
        if f == .featureKind {
            // Every value the rule can give must be a kind: a typo in a value map would
            // otherwise turn each cable bed into a utility line, one record at a time.
            let given = [rule.constant, rule.default, rule.otherwise].compactMap { $0 } + (rule.map?.values.sorted() ?? [])
            if let bad = given.first(where: { FeatureKind(parsing: $0) == nil }) {
                let known = FeatureKind.allCases.map(\.rawValue).joined(separator: ", ")
                throw ImportError("'\(bad)' is not a feature kind; known: \(known)", file: file, field: target)
            }
        }
    }

    /// The rule for `field`, if mapped.
    public subscript(field: ImportField) -> Rule? { fields[field.rawValue] }
}

/// The target fields a mapping can fill; the importers turn them into model records.
public enum ImportField: String, Hashable, Sendable, Codable, CaseIterable {
    // Both kinds.
    /// Segment id (integer) or, for points, nothing (points are keyed by `pointNumber`).
    case id, layer, subtype, owner, road, status
    // Segment fields.
    case startPoint, endPoint, startDepth, endDepth, startElevation, endElevation
    /// `top` or `bottom`: which elevation `startElevation`/`endElevation` measure.
    case elevationReference
    /// Section in survey notation (`DN300`, `800x600`), when there is no `diameter`/`width`+`height`.
    case section
    case diameter, width, height, material, burial, pressure, voltage, cableCount, ductHoles, ductHolesOccupied
    case layingDate
    /// Horizontal positional accuracy of the surveyed line (metres by default; `unit` converts).
    /// Dig checks widen every clearance by it, so leaving it unmapped means "exactly known".
    case horizontalAccuracy
    /// Vertical (depth) positional accuracy, metres by default.
    case verticalAccuracy
    /// ASCE 38 quality level `A`–`D` (case-insensitive). Needs `horizontalAccuracy`: a level
    /// alone states no distance, so it is kept only beside an accuracy.
    case qualityLevel
    // Point fields.
    /// Point number (点号); segments name their ends by it.
    case pointNumber
    /// Point kind (bend, valve, manhole, …; `PointKind` raw values).
    case kind
    /// `feature` or `appurtenance`; defaults to the kind's standard category.
    case category
    /// Survey X and Y; axis order per `ImportOptions.axes` (X = northing in CJJ 61 tables).
    case x, y
    case groundElevation, depth
    /// A network's nominal (design or standard) laying depth, metres: kept apart from the
    /// surveyed `startDepth`/`endDepth`, so a dig is never called clear in depth on it.
    case nominalDepth
    /// Operator areas: the operator's remark or instruction (`presence required`), shown with
    /// the area in dig reports.
    case note
    /// What the line is: `utilityLine` (default), `cableBed`, `sleeve` (also `duct`), `casing`
    /// (``FeatureKind/init(parsing:)``); source words such as IMKL `kabelbed` go through `map`.
    case featureKind
    /// An isolation valve's state: `open`, `closed`, `inoperable`, `inaccessible`
    /// (``ValveStatus/init(parsing:)``); on other kinds of point it is reported and ignored.
    case valveStatus
    /// A service connection's customers: `hospital`, `school`, `household`, `industry`
    /// (``CustomerCategory/init(parsing:)``).
    case customerCategory
    /// How many customers the connection supplies (whole number >= 1; 1 when only the
    /// category is given).
    case customerCount

    /// The quantity a unit converts, for numeric fields.
    public var dimension: UnitConversion.Dimension? {
        switch self {
        case .startDepth, .endDepth, .startElevation, .endElevation, .groundElevation, .depth, .x, .y,
            .horizontalAccuracy, .verticalAccuracy, .nominalDepth:
            return .length(target: .metre)
        case .diameter, .width, .height: return .length(target: .millimetre)
        case .pressure: return .pressure
        case .voltage: return .voltage
        default: return nil
        }
    }
}

/// Unit factors to the model's units.
public enum UnitConversion {
    public enum LengthUnit: Hashable, Sendable { case metre, millimetre }
    public enum Dimension: Hashable, Sendable, CustomStringConvertible {
        case length(target: LengthUnit)
        /// Target MPa.
        case pressure
        /// Target kV.
        case voltage
        public var description: String {
            switch self {
            case .length: return "length"
            case .pressure: return "pressure"
            case .voltage: return "voltage"
            }
        }
    }

    /// The units `factor(from:dimension:)` accepts for a quantity, as documented and named in
    /// errors (matched case-insensitively; `inch`, `foot`, `feet` are also read).
    public static func acceptedUnits(_ dimension: Dimension) -> [String] {
        switch dimension {
        case .length: return ["mm", "cm", "dm", "m", "in", "ft"]
        case .pressure: return ["MPa", "kPa", "Pa", "bar", "mbar", "psi"]
        case .voltage: return ["V", "kV"]
        }
    }

    /// The factor that turns a value in `unit` into the target unit of `dimension`, or nil for an
    /// unknown unit.
    public static func factor(from unit: String, dimension: Dimension) -> Double? {
        // Mapping units are usually already lower-case ASCII; skip the Foundation round trip then.
        let u = unit.utf8.allSatisfy({ $0 >= 0x61 && $0 <= 0x7A }) ? unit : unit.trimmingCharacters(in: .whitespaces).lowercased()
        switch dimension {
        case .length(let target):
            let metres: Double
            switch u {
            case "mm": metres = 0.001
            case "cm": metres = 0.01
            case "dm": metres = 0.1
            case "m": metres = 1
            case "in", "inch": metres = 0.0254
            case "ft", "foot", "feet": metres = 0.3048
            default: return nil
            }
            return target == .metre ? metres : metres * 1000
        case .pressure:
            switch u {
            case "mpa": return 1
            case "kpa": return 0.001
            case "pa": return 1e-6
            case "bar": return 0.1
            case "mbar": return 0.0001
            case "psi": return 0.006894757293168361
            default: return nil
            }
        case .voltage:
            switch u {
            case "kv": return 1
            case "v": return 0.001
            default: return nil
            }
        }
    }
}

/// An import failure that stops the whole import: what went wrong and where.
public struct ImportError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var file: String
    /// Line or feature index, when the failure is tied to one record.
    public var record: Int?
    public var field: String?
    /// Issues found before the failure (for a `strict` rejection, all of them).
    public var report: QualityReport?

    public init(_ message: String, file: String, record: Int? = nil, field: String? = nil, report: QualityReport? = nil) {
        self.message = message
        self.file = file
        self.record = record
        self.field = field
        self.report = report
    }

    public var description: String {
        var s = file
        if let record { s += " record \(record)" }
        if let field { s += ", field \(field)" }
        s += ": \(message)"
        if let report, !report.issues.isEmpty {
            let shown = report.errors.prefix(10).map { "  \($0)" }.joined(separator: "\n")
            s += "\n\(shown)"
            if report.errors.count > 10 { s += "\n  … and \(report.errors.count - 10) more errors" }
        }
        return s
    }
}
