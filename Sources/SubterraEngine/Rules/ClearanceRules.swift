import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// A required clearance and the rule it comes from.
public struct ClearanceRule: Hashable, Sendable, Codable, CustomStringConvertible {
    /// Required clearance in metres, outer wall to outer wall.
    public var distance: Double
    /// The table the value comes from, e.g. `"GB50289 table 4.1.9"`.
    public var table: String
    /// The row keys the value was read at, e.g. `["gas sub-high A", "power"]`.
    public var keys: [String]
    /// How the value was derived when it is not one table cell, e.g. `"largest of GB50289
    /// table 4.1.9 row: heat trench 2 m"` or `"work type \"hand dig\""`; nil for a cell read
    /// directly. Excavation rules always set it, so a reader never mistakes the row maximum of an
    /// excavation clearance for a clearance between two pipes.
    public var basis: String?

    public init(distance: Double, table: String, keys: [String], basis: String? = nil) {
        self.distance = distance
        self.table = table
        self.keys = keys
        self.basis = basis
    }

    /// A table cell: `"GB50289 table 4.1.9: gas sub-high A ↔ power, 1.5 m"`; a derived value:
    /// `"Subterra excavation clearance for gas sub-high B (largest of GB50289 table 4.1.9 row:
    /// heat trench 2 m), 2 m"`.
    public var description: String {
        if let basis {
            return "\(table) for \(keys.joined(separator: " ↔ ")) (\(basis)), \(_metres(distance)) m"
        }
        return "\(table): \(keys.joined(separator: " ↔ ")), \(_metres(distance)) m"
    }
}

/// Formats metres without a trailing `.0` run: 1.5 → "1.5", 0.15 → "0.15", 2 → "2".
func _metres(_ d: Double) -> String {
    let s = String(format: "%.3f", d)
    var t = Substring(s)
    while t.hasSuffix("0") { t.removeLast() }
    if t.hasSuffix(".") { t.removeLast() }
    return String(t)
}

/// Why a clearance rule file was refused, naming the section, row or key at fault.
public struct ClearanceRulesError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Where, e.g. `horizontal.rows["drainage"]["gas low"]`.
    public var location: String
    public var message: String
    /// The rule file's name when it was read from a file, e.g. `"city.json"`.
    public var file: String?

    public init(_ message: String, at location: String, file: String? = nil) {
        self.message = message
        self.location = location
        self.file = file
    }

    /// One line: `clearance rules city.json, top level: unknown key "excavaton"; allowed: …`.
    public var description: String { "clearance rules\(file.map { " \($0)" } ?? ""), \(location): \(message)" }
}

/// Where a pipe runs, for the minimum cover table.
public enum SurfaceKind: String, Hashable, Sendable, Codable, CaseIterable {
    case sidewalk, carriageway
}

/// The GB 50289 clearance tables as data: horizontal and vertical clearance between pipelines,
/// the gas-to-gas diameter rule, minimum cover, excavation clearance and severity thresholds.
///
/// A rule profile: GB 50289 is the default (``bundled()``); ``builtIn(_:)`` gives the others
/// (``builtInProfiles``, e.g. `uk-hsg47`). A profile may define its own pressure and voltage
/// classes, rule texts, precaution distances and the accuracy assumed for records stating none
/// (`docs/rules-profiles.md`); reports take class names and texts from the active profile only.
///
/// Loaded from `clearance-rules.json` (bundled defaults) or a city's own file, validated on load
/// so a lookup never meets a bad value. Each table maps a ``PipeProfile`` to a row key through an
/// ordered list of selectors (class, pressure classes, burial codes, diameter bounds; first match
/// wins), then reads the symmetric table at the two keys.
///
/// ```swift
/// let rules = try ClearanceRules.bundled()
/// let gas = PipeProfile(layer: "RQ", pressureClass: "subHighA", diameterMM: 200)
/// let cable = PipeProfile(layer: "DL", burial: "ZM", voltageKV: 10)
/// rules.horizontal(gas, cable)?.description  // "GB50289 table 4.1.9: gas sub-high A ↔ power, 1.5 m"
/// ```
///
/// Lookups are O(selectors + 1) dictionary reads; the value is immutable and `Sendable`.
public struct ClearanceRules: Sendable, Hashable {
    let document: _RulesDocument
    /// Symmetric closure of the horizontal and vertical rows: `table[a][b] == table[b][a]`.
    let horizontalTable: [String: [String: Double]]
    let verticalTable: [String: [String: Double]]
    /// Normalized work type name → the name as the file spells it (`excavation.workTypes`).
    let workTypeNames: [String: String]
    /// Largest horizontal or gas-to-gas clearance.
    let largestHorizontal: Double
    /// The profile's pressure classes, ascending (the file's, else GB 50028's).
    let pressureClassList: [_NamedClass]
    /// The profile's voltage classes, ascending; empty when the file defines none.
    let voltageClassList: [_NamedClass]

    /// Where the bundled rule file is, nil when the resource bundle is missing.
    static var bundledURL: URL? { Bundle.module.url(forResource: "clearance-rules", withExtension: "json") }

    /// The rules shipped with Subterra (`Resources/clearance-rules.json`): GB 50289, the default.
    public static func bundled() throws(ClearanceRulesError) -> ClearanceRules {
        guard let url = bundledURL else {
            throw ClearanceRulesError("bundled resource is missing", at: "clearance-rules.json")
        }
        return try ClearanceRules(contentsOf: url)
    }

    /// Names of the rule profiles shipped with Subterra: `gb50289` (the default, GB 50289) and
    /// `uk-hsg47` (HSE HSG47 *Avoiding danger from underground services*, Great Britain).
    public static let builtInProfiles = ["gb50289", "uk-hsg47"]

    /// A shipped profile by name (``builtInProfiles``), as a complete rule set: nothing of
    /// another profile is mixed in. O(file size).
    public static func builtIn(_ name: String) throws(ClearanceRulesError) -> ClearanceRules {
        switch name.lowercased() {
        case "gb50289": return try bundled()
        case "uk-hsg47":
            guard let url = Bundle.module.url(forResource: "clearance-rules-uk-hsg47", withExtension: "json") else {
                throw ClearanceRulesError("bundled resource is missing", at: "clearance-rules-uk-hsg47.json")
            }
            return try ClearanceRules(contentsOf: url)
        default:
            throw ClearanceRulesError(
                "no built-in profile \"\(name)\"; built-in: \(builtInProfiles.joined(separator: ", "))", at: "profile")
        }
    }

    /// A rule file as the CLI's `--rules` reads it: the sections it has laid over the built-in
    /// profile its `base` names (default `gb50289`), so a file never inherits another
    /// country's sections without saying so.
    public static func loading(ruleFile data: Data) throws(ClearanceRulesError) -> ClearanceRules {
        let o = try decode(_RulesOverride.self, from: data)
        return try builtIn(o.base ?? "gb50289").overridden(by: data)
    }

    /// Loads and validates a complete rule file.
    public init(contentsOf url: URL) throws(ClearanceRulesError) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ClearanceRulesError("cannot read file: \(error.localizedDescription)", at: url.path)
        }
        do { try self.init(data: data) } catch { throw error.naming(url) }
    }

    /// Decodes and validates a complete rule file.
    public init(data: Data) throws(ClearanceRulesError) {
        try self.init(document: Self.decode(_RulesDocument.self, from: data))
    }

    /// These rules with a city's sections laid over them: every top-level section the city file
    /// has (`layerClasses`, `horizontal`, `gasToGas`, `vertical`, `minimumCover`, `excavation`,
    /// `severity`) replaces the default one whole; the result is validated as a whole.
    ///
    /// ```swift
    /// let city = try ClearanceRules.bundled().overridden(by: Data(contentsOf: wenlingRules))
    /// ```
    public func overridden(by cityFile: Data) throws(ClearanceRulesError) -> ClearanceRules {
        let o = try Self.decode(_RulesOverride.self, from: cityFile)
        if let v = o.format { try Self.checkFormat(v) }
        if let v = o.version { try Self.checkVersion(v) }
        var d = document
        if let v = o.name { d.name = v }
        if let v = o.source { d.source = v }
        if let v = o.layerClasses { d.layerClasses = v }
        if let v = o.horizontal { d.horizontal = v }
        if let v = o.gasToGas { d.gasToGas = v }
        if let v = o.vertical { d.vertical = v }
        if let v = o.minimumCover { d.minimumCover = v }
        if let v = o.excavation { d.excavation = v }
        if let v = o.severity { d.severity = v }
        if let v = o.pressureClasses { d.pressureClasses = v }
        if let v = o.voltageClasses { d.voltageClasses = v }
        if let v = o.precaution { d.precaution = v }
        if let v = o.positionalAccuracy { d.positionalAccuracy = v }
        if let v = o.jurisdiction { d.jurisdiction = v }
        return try ClearanceRules(document: d)
    }

    /// ``overridden(by:)`` with the city file read from `url`; a read failure names the path.
    public func overridden(byContentsOf url: URL) throws(ClearanceRulesError) -> ClearanceRules {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ClearanceRulesError("cannot read file: \(error.localizedDescription)", at: url.path)
        }
        do { return try overridden(by: data) } catch { throw error.naming(url) }
    }

    static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(ClearanceRulesError) -> T {
        // Duplicate keys, nesting and size first: see `JSONPrecheck`.
        if let problem = JSONPrecheck.check(Array(data)) {
            throw ClearanceRulesError(problem.message, at: problem.path)
        }
        // Unknown structural keys next, before a misspelling shows up as a missing key (or,
        // in an override, is silently dropped). Unparseable bytes are left to the decoder.
        if let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) {
            try _KeyShape.document.check(root, at: [])
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, ctx) {
            throw ClearanceRulesError("missing key \"\(key.stringValue)\"", at: _codingPath(ctx.codingPath))
        } catch let DecodingError.typeMismatch(type, ctx) {
            throw ClearanceRulesError("expected \(type): \(ctx.debugDescription)", at: _codingPath(ctx.codingPath))
        } catch let DecodingError.valueNotFound(type, ctx) {
            throw ClearanceRulesError("expected \(type), found null", at: _codingPath(ctx.codingPath))
        } catch let DecodingError.dataCorrupted(ctx) {
            throw ClearanceRulesError("not valid JSON: \(ctx.debugDescription)", at: _codingPath(ctx.codingPath))
        } catch {
            throw ClearanceRulesError("\(error)", at: "file")
        }
    }

    init(document d: _RulesDocument) throws(ClearanceRulesError) {
        try Self.checkFormat(d.format)
        try Self.checkVersion(d.version)
        if let j = d.jurisdiction {
            let b = j.lonLat
            guard b.count == 4, b.allSatisfy(\.isFinite), (-180...180).contains(b[0]), (-180...180).contains(b[2]),
                (-90...90).contains(b[1]), (-90...90).contains(b[3]), b[1] <= b[3]
            else {
                throw ClearanceRulesError(
                    "must be [west, south, east, north] in degrees (longitudes -180...180, latitudes -90...90, south <= north)",
                    at: "jurisdiction.lonLat")
            }
        }
        let classes = Set(d.layerClasses.map.values)
        for (layer, cls) in d.layerClasses.map where cls.isEmpty || layer.isEmpty {
            throw ClearanceRulesError("empty layer code or class", at: "layerClasses.map[\"\(layer)\"]")
        }
        let pressures = try Self.validate(
            classList: d.pressureClasses, bound: \.upToMPa, unit: "MPa", max: 1000, at: "pressureClasses")
            ?? GasPressureClass.allCases.map { _NamedClass(name: $0.rawValue, upToMPa: $0.upperBoundMPa) }
        let voltages = try Self.validate(
            classList: d.voltageClasses, bound: \.upToKV, unit: "kV", max: Limits.voltageKV, at: "voltageClasses") ?? []
        let names = (Set(pressures.map(\.name)), Set(voltages.map(\.name)))
        try Self.validate(selectors: d.horizontal.keys, classes: classes, names: names, at: "horizontal.keys")
        try Self.validate(selectors: d.vertical.keys, classes: classes, names: names, at: "vertical.keys")
        try Self.validate(selectors: d.minimumCover.keys, classes: classes, names: names, at: "minimumCover.keys")
        horizontalTable = try Self.symmetric(d.horizontal, at: "horizontal")
        verticalTable = try Self.symmetric(d.vertical, at: "vertical")
        if let g = d.gasToGas {
            guard classes.contains(g.class) else {
                throw ClearanceRulesError("class \"\(g.class)\" is not a class of layerClasses.map", at: "gasToGas.class")
            }
            try Self.checkValue(g.maxDiameterMM, max: Limits.diameterMM, unit: "mm", at: "gasToGas.maxDiameterMM")
            for (name, v) in [("atOrBelow", g.atOrBelow), ("above", g.above)] {
                try Self.checkDistance(v, at: "gasToGas.\(name)")
            }
        }
        let coverKeys = Set(d.minimumCover.keys.map(\.key))
        for (key, row) in d.minimumCover.rows {
            guard coverKeys.contains(key) else {
                throw ClearanceRulesError("row key is not among minimumCover.keys", at: "minimumCover.rows[\"\(key)\"]")
            }
            try Self.checkDistance(row.sidewalk, at: "minimumCover.rows[\"\(key)\"].sidewalk")
            try Self.checkDistance(row.carriageway, at: "minimumCover.rows[\"\(key)\"].carriageway")
        }
        let horizontalKeys = Set(d.horizontal.keys.map(\.key))
        for (key, v) in d.excavation.rows {
            guard horizontalKeys.contains(key) else {
                throw ClearanceRulesError("row key is not among horizontal.keys", at: "excavation.rows[\"\(key)\"]")
            }
            try Self.checkDistance(v, at: "excavation.rows[\"\(key)\"]")
        }
        var workTypes: [String: String] = [:]
        for (name, rows) in (d.excavation.workTypes ?? [:]).sorted(by: { $0.key < $1.key }) {
            let here = "excavation.workTypes[\"\(name)\"]"
            let norm = Self.normalizedWorkType(name)
            guard !norm.isEmpty else { throw ClearanceRulesError("empty work type name", at: here) }
            if let other = workTypes[norm] {
                throw ClearanceRulesError(
                    "same work type as \"\(other)\" (names match ignoring case and spacing)", at: here)
            }
            workTypes[norm] = name
            guard !rows.isEmpty else {
                throw ClearanceRulesError("no rows; give horizontal keys or \"*\" (any covered pipe)", at: here)
            }
            for (key, v) in rows {
                guard key == "*" || horizontalKeys.contains(key) else {
                    throw ClearanceRulesError(
                        "row key is neither \"*\" nor among horizontal.keys", at: "\(here)[\"\(key)\"]")
                }
                try Self.checkDistance(v, at: "\(here)[\"\(key)\"]")
            }
        }
        workTypeNames = workTypes
        largestHorizontal = max(
            horizontalTable.values.flatMap(\.values).max() ?? 0, d.gasToGas.map { max($0.atOrBelow, $0.above) } ?? 0)
        try Self.validate(severity: d.severity, classes: classes, names: names)
        if let pr = d.precaution {
            for (i, r) in pr.rules.enumerated() {
                let here = "precaution.rules[\(i)]"
                guard classes.contains(r.class) else {
                    throw ClearanceRulesError("class \"\(r.class)\" is not a class of layerClasses.map (\(classes.sorted()))", at: here)
                }
                try Self.checkNames(r.pressureAtOrAbove, r.voltageAtOrAbove, names, at: here)
                if let v = r.voltageKVAtOrAbove { try Self.checkValue(v, max: Limits.voltageKV, unit: "kV", at: "\(here).voltageKVAtOrAbove") }
                try Self.checkDistance(r.distance, at: "\(here).distance")
                guard !r.text.isEmpty else { throw ClearanceRulesError("empty text", at: "\(here).text") }
            }
        }
        if let a = d.positionalAccuracy {
            try Self.checkDistance(a.unknownHorizontalM, at: "positionalAccuracy.unknownHorizontalM")
        }
        pressureClassList = pressures
        voltageClassList = voltages
        document = d
    }

    /// Checks a class list (names unique and non-empty, bounds finite, >= 0, <= `max`, strictly
    /// ascending, only the last without a bound) and returns it; nil when the file has none.
    private static func validate(
        classList: _ClassList?, bound: KeyPath<_NamedClass, Double?>, unit: String, max: Double, at path: String
    ) throws(ClearanceRulesError) -> [_NamedClass]? {
        guard let list = classList?.classes else { return nil }
        guard !list.isEmpty else { throw ClearanceRulesError("no classes", at: "\(path).classes") }
        var previous = -1.0
        for (i, c) in list.enumerated() {
            let here = "\(path).classes[\(i)] (\"\(c.name)\")"
            guard !c.name.isEmpty, c.name != "unknown" else {
                throw ClearanceRulesError("a class needs a name other than \"unknown\"", at: here)
            }
            if list[..<i].contains(where: { $0.name == c.name }) { throw ClearanceRulesError("name repeats", at: here) }
            guard let b = c[keyPath: bound] else {
                if i == list.count - 1 { continue }
                throw ClearanceRulesError("only the last class may have no upper bound", at: here)
            }
            try checkValue(b, max: max, unit: unit, at: here)
            guard b > previous else { throw ClearanceRulesError("bounds must ascend; \(b) \(unit) after \(previous) \(unit)", at: here) }
            previous = b
        }
        return list
    }

    /// A pressure and a voltage class name, when given, must be classes of the profile.
    private static func checkNames(
        _ pressure: String?, _ voltage: String?, _ names: (Set<String>, Set<String>), at here: String
    ) throws(ClearanceRulesError) {
        if let p = pressure, !names.0.contains(p) {
            throw ClearanceRulesError("unknown pressure class \"\(p)\"; expected one of \(names.0.sorted())", at: "\(here).pressureAtOrAbove")
        }
        if let v = voltage, !names.1.contains(v) {
            throw ClearanceRulesError("unknown voltage class \"\(v)\"; expected one of \(names.1.sorted())", at: "\(here).voltageAtOrAbove")
        }
    }

    /// The only `format` a rule file may declare.
    static let format = "subterra-clearance-rules"
    /// The only `version` of that format this library reads.
    static let version = 1

    private static func checkFormat(_ f: String) throws(ClearanceRulesError) {
        guard f == format else {
            throw ClearanceRulesError("format is \"\(f)\", expected \"\(format)\"", at: "format")
        }
    }

    private static func checkVersion(_ v: Int) throws(ClearanceRulesError) {
        guard v == version else {
            throw ClearanceRulesError("version \(v) is not supported (this library reads \(version))", at: "version")
        }
    }

    /// A clearance, cover or excavation distance in metres: finite, >= 0, <= ``Limits/distanceM``.
    private static func checkDistance(_ v: Double, at location: String) throws(ClearanceRulesError) {
        try checkValue(v, max: Limits.distanceM, unit: "m", at: location)
    }

    static func checkValue(_ v: Double, max: Double, unit: String, at location: String) throws(ClearanceRulesError) {
        guard v.isFinite, v >= 0 else {
            throw ClearanceRulesError("value \(v) must be finite and >= 0", at: location)
        }
        guard v <= max else {
            throw ClearanceRulesError(
                "value \(v) \(unit) is out of range; must be <= \(_metres(max)) \(unit)", at: location)
        }
    }

    private static func validate(
        selectors: [_Selector], classes: Set<String>, names: (Set<String>, Set<String>), at path: String
    ) throws(ClearanceRulesError) {
        for (i, s) in selectors.enumerated() {
            let here = "\(path)[\(i)] (\"\(s.key)\")"
            guard !s.key.isEmpty else { throw ClearanceRulesError("empty key", at: here) }
            guard classes.contains(s.class) else {
                throw ClearanceRulesError(
                    "class \"\(s.class)\" is not a class of layerClasses.map (\(classes.sorted()))", at: here)
            }
            for p in s.pressure ?? [] where p != "unknown" && !names.0.contains(p) {
                throw ClearanceRulesError(
                    "unknown pressure class \"\(p)\"; expected \"unknown\" or one of \(names.0.sorted())",
                    at: here)
            }
            for v in s.voltage ?? [] where v != "unknown" && !names.1.contains(v) {
                throw ClearanceRulesError(
                    "unknown voltage class \"\(v)\"; expected \"unknown\" or one of \(names.1.sorted()) (voltageClasses)",
                    at: here)
            }
            for b in s.burial ?? [] where !BurialMethod.standard.contains(BurialMethod(rawValue: b)) {
                throw ClearanceRulesError(
                    "unknown burial code \"\(b)\"; valid codes: \(BurialMethod.standard.map(\.rawValue).joined(separator: ", "))",
                    at: here)
            }
            if let v = s.maxDiameterMM { try checkValue(v, max: Limits.diameterMM, unit: "mm", at: "\(here).maxDiameterMM") }
            if let v = s.minDiameterMM { try checkValue(v, max: Limits.diameterMM, unit: "mm", at: "\(here).minDiameterMM") }
            // The same key may be reached by several selectors (e.g. two burial variants of one
            // row) but the exact same conditions twice is a copy-paste slip.
            if selectors[..<i].contains(s) {
                throw ClearanceRulesError("selector repeats an earlier one", at: here)
            }
        }
    }

    /// Checks row and column keys, values and symmetry, and returns the table closed under symmetry.
    private static func symmetric(_ t: _PairTable, at path: String) throws(ClearanceRulesError) -> [String: [String: Double]] {
        let keys = Set(t.keys.map(\.key))
        var out: [String: [String: Double]] = [:]
        for (a, row) in t.rows.sorted(by: { $0.key < $1.key }) {
            guard keys.contains(a) else {
                throw ClearanceRulesError("row key \"\(a)\" is not among \(path).keys", at: "\(path).rows[\"\(a)\"]")
            }
            for (b, v) in row.sorted(by: { $0.key < $1.key }) {
                let here = "\(path).rows[\"\(a)\"][\"\(b)\"]"
                guard keys.contains(b) else {
                    throw ClearanceRulesError("column key \"\(b)\" is not among \(path).keys", at: here)
                }
                try checkDistance(v, at: here)
                if let mirror = t.rows[b]?[a], mirror != v {
                    throw ClearanceRulesError(
                        "\(v) but \(path).rows[\"\(b)\"][\"\(a)\"] is \(mirror); the table must be symmetric",
                        at: here)
                }
                out[a, default: [:]][b] = v
                out[b, default: [:]][a] = v
            }
        }
        for (i, pair) in (t.unconstrained ?? []).enumerated() {
            let here = "\(path).unconstrained[\(i)]"
            guard pair.count == 2 else { throw ClearanceRulesError("give two keys, got \(pair.count)", at: here) }
            for k in pair where !keys.contains(k) {
                throw ClearanceRulesError("key \"\(k)\" is not among \(path).keys", at: here)
            }
            if out[pair[0]]?[pair[1]] != nil {
                throw ClearanceRulesError(
                    "\(pair[0]) ↔ \(pair[1]) has a clearance in \(path).rows; a pair is either constrained or not", at: here)
            }
        }
        return out
    }

    // MARK: Lookups

    /// Name of this rule set (`"GB 50289 defaults"` or the city's).
    public var name: String { document.name }

    /// Where the profile's rules hold (its `jurisdiction`: a name and a lon/lat box), nil when
    /// the file does not say. A dig or route check refuses a map whose CRS is used only outside
    /// it (``UtilityEngine``), so one country's rule names never judge another's data.
    public var jurisdiction: AreaOfUse? {
        guard let j = document.jurisdiction, j.lonLat.count == 4 else { return nil }
        return AreaOfUse(west: j.lonLat[0], south: j.lonLat[1], east: j.lonLat[2], north: j.lonLat[3], name: j.name)
    }

    /// The rule class of a layer code (`"RQ"` → `"gas"`), `nil` for a layer with no rules.
    public func ruleClass(ofLayer layer: LayerCode) -> String? { document.layerClasses.map[layer.rawValue] }

    /// Whether the file declares the pair unconstrained (its table's `unconstrained` list, e.g.
    /// water–water in GB 50289 table 4.1.9): a missing cell there is a judgement, not a gap, so
    /// checks do not report the pair as unchecked. O(selectors + list length).
    public func isUnconstrained(_ a: PipeProfile, _ b: PipeProfile, vertical: Bool) -> Bool {
        let t = vertical ? document.vertical : document.horizontal
        guard let ka = select(t.keys, a), let kb = select(t.keys, b) else { return false }
        return (t.unconstrained ?? []).contains { $0 == [ka, kb] || $0 == [kb, ka] }
    }

    /// The largest clearance the horizontal table (and the gas-to-gas rule) gives any pair: how
    /// near a pipe with no rule must be for a route check to report it as unchecked. O(1).
    public var largestHorizontalClearance: Double { largestHorizontal }

    /// The largest excavation clearance the file can give any pipe (the horizontal table's
    /// largest value, which bounds every row maximum, or a larger `excavation.rows` or work type
    /// value): how near a pipe with no rule must be for a dig check to report it as unchecked. O(1).
    public var largestExcavationClearance: Double {
        let rows = document.excavation.rows.values.max() ?? 0
        let work = (document.excavation.workTypes ?? [:]).values.flatMap(\.values).max() ?? 0
        return max(largestHorizontal, rows, work)
    }

    /// The ids of the tables, for messages (`"GB50289 table 4.1.9"`).
    public var horizontalTableID: String { document.horizontal.id }
    public var verticalTableID: String { document.vertical.id }
    public var minimumCoverTableID: String { document.minimumCover.id }
    public var excavationTableID: String { document.excavation.id }

    /// The layer codes `layerClasses.map` gives a rule class to, sorted.
    public var mappedLayers: [LayerCode] { document.layerClasses.map.keys.sorted().map(LayerCode.init(rawValue:)) }

    /// The horizontal-table row key of a pipe (`"gas sub-high A"`), `nil` when the table does not
    /// cover it (an unmapped layer, gas above 1.6 MPa).
    public func horizontalKey(_ p: PipeProfile) -> String? { select(document.horizontal.keys, p) }

    /// The vertical-table row key of a pipe, `nil` when not covered.
    public func verticalKey(_ p: PipeProfile) -> String? { select(document.vertical.keys, p) }

    private func select(_ selectors: [_Selector], _ p: PipeProfile) -> String? {
        guard let cls = ruleClass(ofLayer: p.layer) else { return nil }
        let pc = pressureClass(ofMPa: p.pressureForRules), vc = voltageClass(ofKV: p.voltageKV)
        return selectors.first { $0.matches(class: cls, pressureClass: pc, voltageClass: vc, p) }?.key
    }

    /// The profile's pressure class of `mpa` (its `name`), nil for nil or a value above every
    /// bounded class when the last is bounded. Upper bounds are inclusive. O(classes).
    public func pressureClass(ofMPa mpa: Double?) -> String? { Self.classify(mpa, pressureClassList, \.upToMPa) }

    /// The profile's voltage class of `kv`, nil for nil, a profile without voltage classes or a
    /// value above every bounded class. O(classes).
    public func voltageClass(ofKV kv: Double?) -> String? { Self.classify(kv, voltageClassList, \.upToKV) }

    /// The label the profile shows for a pressure or voltage class name (its `label`, else the
    /// name itself).
    public func classLabel(_ name: String) -> String {
        (pressureClassList + voltageClassList).first { $0.name == name }?.label ?? name
    }

    /// The profile's pressure classes as (name, label, upper bound in MPa; nil = unbounded), ascending.
    public var pressureClasses: [(name: String, label: String, upToMPa: Double?)] {
        pressureClassList.map { ($0.name, $0.label ?? $0.name, $0.upToMPa) }
    }

    /// The profile's voltage classes as (name, label, upper bound in kV; nil = unbounded), ascending.
    public var voltageClasses: [(name: String, label: String, upToKV: Double?)] {
        voltageClassList.map { ($0.name, $0.label ?? $0.name, $0.upToKV) }
    }

    private static func classify(_ v: Double?, _ list: [_NamedClass], _ bound: KeyPath<_NamedClass, Double?>) -> String? {
        guard let v, v.isFinite else { return nil }
        return list.first { c in c[keyPath: bound].map { v <= $0 } ?? true }?.name
    }

    /// The position of a class name in its list, for "at or above" comparisons.
    private func rank(_ name: String, _ list: [_NamedClass]) -> Int? { list.firstIndex { $0.name == name } }

    /// Whether `value` (a class name, nil = unknown) is at or above `limit`; unknown counts as
    /// at or above (the safe reading).
    private func atOrAbove(_ value: String?, _ limit: String, _ list: [_NamedClass]) -> Bool {
        guard let value else { return true }
        guard let a = rank(value, list), let b = rank(limit, list) else { return true }
        return a >= b
    }

    /// What a dig check assumes for a record that states no horizontal positional accuracy:
    /// the profile's `positionalAccuracy.unknownHorizontalM`, else
    /// ``defaultUnknownHorizontalAccuracy``. Never 0 by default: unknown is not exact.
    public var unknownHorizontalAccuracy: Double {
        document.positionalAccuracy?.unknownHorizontalM ?? Self.defaultUnknownHorizontalAccuracy
    }

    /// 1 m: the conservative default for records of unknown accuracy when a profile states none
    /// (a records-only line, ASCE 38 quality level D, is commonly taken as within a metre or
    /// more; the shipped profiles say why they chose their own value).
    public static let defaultUnknownHorizontalAccuracy = 1.0

    /// The operator precaution for a pipe: the largest `precaution.rules` distance whose class
    /// and thresholds match (a threshold on an unknown value matches, the safe reading), with
    /// its text as the rule's basis; nil when none matches. O(rules).
    public func precaution(_ p: PipeProfile) -> ClearanceRule? {
        guard let pr = document.precaution, let cls = ruleClass(ofLayer: p.layer) else { return nil }
        let pc = pressureClass(ofMPa: p.pressureForRules), vc = voltageClass(ofKV: p.voltageKV)
        var best: _PrecautionRule?
        for r in pr.rules where r.class == cls {
            if let limit = r.pressureAtOrAbove, !atOrAbove(pc, limit, pressureClassList) { continue }
            if let limit = r.voltageAtOrAbove, !atOrAbove(vc, limit, voltageClassList) { continue }
            if let limit = r.voltageKVAtOrAbove, let v = p.voltageKV, v < limit { continue }
            if best.map({ r.distance > $0.distance }) ?? true { best = r }
        }
        return best.map { ClearanceRule(distance: $0.distance, table: pr.id, keys: [cls], basis: $0.text) }
    }

    /// The largest precaution distance of the profile (0 without any). O(rules).
    public var largestPrecautionDistance: Double { document.precaution?.rules.map(\.distance).max() ?? 0 }

    /// Minimum horizontal clearance between two pipes, or `nil` when no rule constrains the pair.
    ///
    /// Two gas pipes the table covers use the gas-to-gas rule: the larger DN decides (≤ limit →
    /// `atOrBelow`, above or unknown → `above`). O(selectors).
    public func horizontal(_ a: PipeProfile, _ b: PipeProfile) -> ClearanceRule? {
        guard let ka = horizontalKey(a), let kb = horizontalKey(b) else { return nil }
        if let g = document.gasToGas, ruleClass(ofLayer: a.layer) == g.class, ruleClass(ofLayer: b.layer) == g.class {
            let small = (a.diameterMM.map { $0 <= g.maxDiameterMM } ?? false)
                && (b.diameterMM.map { $0 <= g.maxDiameterMM } ?? false)
            let dn = "DN \(small ? "≤" : ">") \(_metres(g.maxDiameterMM))"
            return ClearanceRule(distance: small ? g.atOrBelow : g.above, table: g.id, keys: [ka, kb, dn])
        }
        guard let v = horizontalTable[ka]?[kb] else { return nil }
        return ClearanceRule(distance: v, table: document.horizontal.id, keys: [ka, kb])
    }

    /// Minimum vertical clearance where two pipes cross, or `nil` when the table gives none.
    public func vertical(_ a: PipeProfile, _ b: PipeProfile) -> ClearanceRule? {
        guard let ka = verticalKey(a), let kb = verticalKey(b), let v = verticalTable[ka]?[kb] else { return nil }
        return ClearanceRule(distance: v, table: document.vertical.id, keys: [ka, kb])
    }

    /// Minimum cover (ground to pipe top) for a pipe under `surface`, or `nil` when not covered.
    public func minimumCover(_ p: PipeProfile, under surface: SurfaceKind) -> ClearanceRule? {
        guard let k = select(document.minimumCover.keys, p), let row = document.minimumCover.rows[k] else {
            return nil
        }
        let v = surface == .sidewalk ? row.sidewalk : row.carriageway
        return ClearanceRule(distance: v, table: document.minimumCover.id, keys: [k, surface.rawValue])
    }

    /// Work types the rule file gives excavation clearances for (`excavation.workTypes`), as the
    /// file spells them, sorted.
    public var excavationWorkTypes: [String] { workTypeNames.values.sorted() }

    /// The rule file's spelling of `workType` when the file has excavation clearances for it:
    /// names match ignoring case, surrounding spaces and runs of inner spaces; nil otherwise
    /// (free text such as `"trench for fibre duct"` then gets the default rule).
    public func excavationWorkType(matching workType: String?) -> String? {
        workType.flatMap { workTypeNames[Self.normalizedWorkType($0)] }
    }

    static func normalizedWorkType(_ s: String) -> String {
        s.lowercased().split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// How far an excavation must keep from a pipe's outer wall (a clear distance, as GB 50289's
    /// clearances are; ``UtilityEngine/digCheck(_:filter:)`` measures to the wall), first match wins:
    /// 1. when `workType` names one of ``excavationWorkTypes``, its entry for the pipe's
    ///    horizontal key, else its `"*"` entry;
    /// 2. the file's `excavation.rows` entry for the pipe's horizontal key;
    /// 3. the largest value in that key's horizontal row (the most any planned utility would need,
    ///    since an excavation may be for any of them).
    ///
    /// `nil` when the pipe has no horizontal key or (case 3) an empty row. The rule's ``ClearanceRule/basis``
    /// says which case applied, e.g. `"largest of GB50289 table 4.1.9 row: heat trench 2 m"`.
    /// O(selectors + row length).
    public func excavation(_ p: PipeProfile, workType: String? = nil) -> ClearanceRule? {
        guard let k = horizontalKey(p) else { return nil }
        if let name = excavationWorkType(matching: workType), let rows = document.excavation.workTypes?[name] {
            if let v = rows[k] {
                return ClearanceRule(distance: v, table: document.excavation.id, keys: [k], basis: "work type \"\(name)\"")
            }
            if let v = rows["*"] {
                return ClearanceRule(
                    distance: v, table: document.excavation.id, keys: [k], basis: "work type \"\(name)\", any pipe")
            }
        }
        if let v = document.excavation.rows[k] {
            return ClearanceRule(
                distance: v, table: document.excavation.id, keys: [k], basis: document.excavation.text ?? "rule file excavation row")
        }
        var best: (String, Double)?
        for (other, v) in horizontalTable[k] ?? [:] where best.map({ v > $0.1 || (v == $0.1 && other < $0.0) }) ?? true {
            best = (other, v)
        }
        if let gg = document.gasToGas, ruleClass(ofLayer: p.layer) == gg.class {
            let g = max(gg.above, gg.atOrBelow)
            if g > (best?.1 ?? -1) { best = ("gas (\(gg.id))", g) }
        }
        guard let (other, v) = best else { return nil }
        return ClearanceRule(
            distance: v, table: document.excavation.id, keys: [k],
            basis: "largest of \(document.horizontal.id) row: \(other) \(_metres(v)) m")
    }

    /// Whether a pipe is critical: see ``criticalReason(_:)``.
    public func isCritical(_ p: PipeProfile) -> Bool { criticalReason(p) != nil }

    /// Why a pipe is critical, or nil when it is not. The rule file's `severity.critical` list
    /// names the classes its entries apply to (no class name is written in code); an entry
    /// makes a pipe of its class critical when
    /// - it has no threshold (every pipe of the class), or
    /// - the pipe's pressure class is at or above `pressureAtOrAbove`, or its voltage at or above
    ///   `voltageKVAtOrAbove` (either threshold met suffices), or
    /// - a threshold is given and the pipe's value for it is **unknown**: the safe reading, the
    ///   same for pressure and voltage (an unsurveyed cable may be high-voltage as an unsurveyed
    ///   gas main may be high-pressure).
    ///
    /// The reason reads e.g. `"critical: power at or above 10 kV (voltage unknown)"`. O(entries).
    public func criticalReason(_ p: PipeProfile) -> String? {
        guard let cls = ruleClass(ofLayer: p.layer) else { return nil }
        let pc = pressureClass(ofMPa: p.pressureForRules), vc = voltageClass(ofKV: p.voltageKV)
        for c in document.severity.critical ?? [] where c.class == cls {
            func reason(_ generated: String, _ detail: String) -> String {
                "critical: \(c.text ?? generated) (\(detail))"
            }
            if c.pressureAtOrAbove == nil && c.voltageKVAtOrAbove == nil && c.voltageAtOrAbove == nil {
                return c.text.map { "critical: \($0)" } ?? "critical: every \(cls) line"
            }
            if let limit = c.pressureAtOrAbove {
                let at = "\(cls) at or above \(classLabel(limit))"
                guard let pc else { return reason(at, "pressure unknown") }
                if atOrAbove(pc, limit, pressureClassList) { return reason(at, classLabel(pc)) }
            }
            if let limit = c.voltageAtOrAbove {
                let at = "\(cls) at or above \(classLabel(limit))"
                guard let vc else { return reason(at, "voltage unknown") }
                if atOrAbove(vc, limit, voltageClassList) { return reason(at, "\(classLabel(vc)), \(_metres(p.voltageKV ?? 0)) kV") }
            }
            if let limit = c.voltageKVAtOrAbove {
                let at = "\(cls) at or above \(_metres(limit)) kV"
                guard let v = p.voltageKV else { return reason(at, "voltage unknown") }
                if v >= limit { return reason(at, "\(_metres(v)) kV") }
            }
        }
        return nil
    }

    /// The upper bounds rule values are held to: generous for any city (GB 50289's largest
    /// clearance is 6 m, UHV lines run at 1,100 kV) yet small enough that a slip such as a
    /// value in millimetres or `1e9` is refused instead of making every pipe a conflict.
    public enum Limits {
        /// Clearances, covers and excavation distances, metres.
        public static let distanceM = 100.0
        /// Diameter bounds in selectors, millimetres.
        public static let diameterMM = 20_000.0
        /// Voltage thresholds, kilovolts.
        public static let voltageKV = 2_000.0
    }

    static func validate(
        severity s: _Severity, classes: Set<String>, names: (Set<String>, Set<String>)
    ) throws(ClearanceRulesError) {
        // Files written for the old format named no class for these thresholds (the code
        // assumed the gas-to-gas class and "power"); they are refused with how to migrate.
        if s.criticalGasPressureAtOrAbove != nil || s.criticalVoltageKVAtOrAbove != nil {
            let key = s.criticalGasPressureAtOrAbove != nil ? "criticalGasPressureAtOrAbove" : "criticalVoltageKVAtOrAbove"
            throw ClearanceRulesError(
                "no longer read: list the classes severity applies to in severity.critical, e.g. "
                    + #"[{"class": "gas", "pressureAtOrAbove": "subHighB"}, {"class": "power", "voltageKVAtOrAbove": 10}]"#,
                at: "severity.\(key)")
        }
        guard let critical = s.critical else {
            throw ClearanceRulesError(
                #"missing key "critical" (the classes severity applies to; [] for none)"#, at: "severity")
        }
        for (i, c) in critical.enumerated() {
            let here = "severity.critical[\(i)]"
            guard classes.contains(c.class) else {
                throw ClearanceRulesError(
                    "class \"\(c.class)\" is not a class of layerClasses.map (\(classes.sorted()))", at: here)
            }
            try checkNames(c.pressureAtOrAbove, c.voltageAtOrAbove, names, at: here)
            if let v = c.voltageKVAtOrAbove { try checkValue(v, max: Limits.voltageKV, unit: "kV", at: "\(here).voltageKVAtOrAbove") }
            if critical[..<i].contains(where: { $0.class == c.class }) {
                throw ClearanceRulesError("class \"\(c.class)\" is listed twice; give both thresholds in one entry", at: here)
            }
        }
    }
}

func _codingPath(_ path: [any CodingKey]) -> String {
    path.isEmpty ? "file" : path.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().drop { $0 == "." }.description
}

// MARK: File format

struct _Selector: Codable, Hashable, Sendable {
    var key: String
    var `class`: String
    var pressure: [String]?
    var burial: [String]?
    var maxDiameterMM: Double?
    var minDiameterMM: Double?
    var note: String?
    /// Voltage class names of the profile's `voltageClasses` (or `"unknown"`).
    var voltage: [String]?

    static func == (a: _Selector, b: _Selector) -> Bool {
        a.key == b.key && a.class == b.class && a.pressure == b.pressure && a.burial == b.burial
            && a.maxDiameterMM == b.maxDiameterMM && a.minDiameterMM == b.minDiameterMM && a.voltage == b.voltage
    }

    func hash(into h: inout Hasher) { h.combine(key); h.combine(self.class) }

    /// A missing attribute fails a condition on it, except pressure and voltage, where
    /// `"unknown"` matches nil; so a pipe of unknown size falls through to the later, usually
    /// stricter, row. `pressureClass` and `voltageClass` are the pipe's class names under the
    /// active profile.
    func matches(class cls: String, pressureClass: String?, voltageClass: String?, _ p: PipeProfile) -> Bool {
        guard cls == self.class else { return false }
        if let ps = pressure, !ps.contains(pressureClass ?? "unknown") { return false }
        if let vs = voltage, !vs.contains(voltageClass ?? "unknown") { return false }
        if let bs = burial, !(p.burial.map { bs.contains($0.rawValue) } ?? false) { return false }
        if let m = maxDiameterMM, !(p.diameterMM.map { $0 <= m } ?? false) { return false }
        if let m = minDiameterMM, !(p.diameterMM.map { $0 > m } ?? false) { return false }
        return true
    }
}

struct _PairTable: Codable, Hashable, Sendable {
    var id: String
    var source: String
    var note: String?
    var keys: [_Selector]
    var rows: [String: [String: Double]]
    /// Key pairs the source leaves unconstrained on purpose (symmetric; no cell in `rows`).
    var unconstrained: [[String]]?
}

struct _GasToGas: Codable, Hashable, Sendable {
    var id: String
    var source: String
    var note: String?
    var `class`: String
    var maxDiameterMM: Double
    var atOrBelow: Double
    var above: Double
}

struct _CoverRow: Codable, Hashable, Sendable {
    var sidewalk: Double
    var carriageway: Double
}

struct _CoverTable: Codable, Hashable, Sendable {
    var id: String
    var source: String
    var note: String?
    var keys: [_Selector]
    var rows: [String: _CoverRow]
}

struct _Excavation: Codable, Hashable, Sendable {
    var id: String
    var source: String
    var note: String?
    /// The rule text shown for a `rows` value (default: "rule file excavation row").
    var text: String?
    var rows: [String: Double]
    /// Work type name → horizontal key (or `"*"`, any covered pipe) → clearance, metres.
    var workTypes: [String: [String: Double]]?
}

struct _Severity: Codable, Hashable, Sendable {
    var note: String?
    /// The classes whose lines are critical, with their thresholds.
    var critical: [_CriticalRule]?
    /// The old format's keys, read only to refuse them with a migration message.
    var criticalGasPressureAtOrAbove: String?
    var criticalVoltageKVAtOrAbove: Double?
}

/// One `severity.critical` entry: lines of `class` are critical at or above the thresholds
/// given (or when the value is unknown), or all of them when none is given.
struct _CriticalRule: Codable, Hashable, Sendable {
    var `class`: String
    var pressureAtOrAbove: String?
    var voltageKVAtOrAbove: Double?
    var note: String?
    /// A voltage class name of the profile's `voltageClasses`: critical at or above it.
    var voltageAtOrAbove: String?
    /// The reason shown for pipes this entry makes critical, instead of the generated one.
    var text: String?
}

/// One named class of a profile's `pressureClasses` or `voltageClasses`: values up to and
/// including `upTo` (MPa or kV) and above the previous class's bound; the last may be unbounded.
struct _NamedClass: Codable, Hashable, Sendable {
    var name: String
    /// Shown in reasons and rule texts (default: `name`).
    var label: String?
    var upToMPa: Double?
    var upToKV: Double?
    var note: String?
}

struct _ClassList: Codable, Hashable, Sendable {
    var note: String?
    var source: String?
    var classes: [_NamedClass]
}

/// A profile's operator precaution distances: within `distance` of a matching pipe the operator
/// must be consulted or present (e.g. high-pressure gas mains).
struct _Precaution: Codable, Hashable, Sendable {
    var id: String
    var source: String
    var note: String?
    var rules: [_PrecautionRule]
}

struct _PrecautionRule: Codable, Hashable, Sendable {
    var `class`: String
    var pressureAtOrAbove: String?
    var voltageAtOrAbove: String?
    var voltageKVAtOrAbove: Double?
    var distance: Double
    var text: String
    var note: String?
}

/// What a dig check assumes for a record that states no positional accuracy.
struct _AccuracyDefaults: Codable, Hashable, Sendable {
    var note: String?
    var unknownHorizontalM: Double
}

struct _LayerClasses: Codable, Hashable, Sendable {
    var note: String?
    var map: [String: String]
}

struct _RulesDocument: Codable, Hashable, Sendable {
    var format: String
    var version: Int
    var name: String
    var source: String
    var layerClasses: _LayerClasses
    var horizontal: _PairTable
    /// Nil in a profile with no gas-to-gas rule: two gas pipes then use the horizontal table.
    var gasToGas: _GasToGas?
    var vertical: _PairTable
    var minimumCover: _CoverTable
    var excavation: _Excavation
    var severity: _Severity
    var pressureClasses: _ClassList?
    var voltageClasses: _ClassList?
    var precaution: _Precaution?
    var positionalAccuracy: _AccuracyDefaults?
    var jurisdiction: _Jurisdiction?
}

/// Where a profile's rules hold: a name and a lon/lat box (west, south, east, north).
struct _Jurisdiction: Codable, Hashable, Sendable {
    var name: String
    var lonLat: [Double]
    var note: String?
}

struct _RulesOverride: Codable, Sendable {
    /// When given, must equal the bundled format and version.
    var format: String?
    var version: Int?
    var name: String?
    var source: String?
    var layerClasses: _LayerClasses?
    var horizontal: _PairTable?
    var gasToGas: _GasToGas?
    var vertical: _PairTable?
    var minimumCover: _CoverTable?
    var excavation: _Excavation?
    var severity: _Severity?
    var pressureClasses: _ClassList?
    var voltageClasses: _ClassList?
    var precaution: _Precaution?
    var positionalAccuracy: _AccuracyDefaults?
    var jurisdiction: _Jurisdiction?
    /// The built-in profile this file overrides (``ClearanceRules/builtInProfiles``); default
    /// `gb50289`.
    var base: String?
}

extension ClearanceRulesError {
    /// This error with the file's last path component as ``file`` (kept when already set).
    func naming(_ url: URL) -> ClearanceRulesError {
        var e = self
        if e.file == nil { e.file = url.lastPathComponent }
        return e
    }
}

/// The structural keys of a rule file, checked against the parsed JSON before decoding so an
/// unknown or misspelled key (`"excavaton"`, `"workTypez"`) is refused instead of ignored.
///
/// `object` lists the only keys an object may have, in the order the error names them; `map`
/// is an object whose keys are data (row, column, layer or work type names) with values of one
/// shape; `array` applies its shape to every element; `value` is not looked into. A value of
/// the wrong JSON type is passed over here and refused by the decoder. O(size of the file).
indirect enum _KeyShape: Sendable {
    case object([(String, _KeyShape)])
    case map(_KeyShape)
    case array(_KeyShape)
    case value

    /// Throws at the first key `object` does not list, naming its JSON path and the allowed keys.
    func check(_ json: Any, at path: [String]) throws(ClearanceRulesError) {
        switch self {
        case .value: return
        case .array(let element):
            guard let a = json as? [Any] else { return }
            for (i, e) in a.enumerated() { try element.check(e, at: path + ["[\(i)]"]) }
        case .map(let element):
            guard let o = json as? [String: Any] else { return }
            for (k, v) in o.sorted(by: { $0.key < $1.key }) { try element.check(v, at: path + ["[\"\(k)\"]"]) }
        case .object(let fields):
            guard let o = json as? [String: Any] else { return }
            for k in o.keys.sorted() where !fields.contains(where: { $0.0 == k }) {
                let here = path.isEmpty ? "top level" : Self.joined(path)
                throw ClearanceRulesError(
                    "unknown key \"\(k)\"; allowed: \(fields.map(\.0).joined(separator: ", "))", at: here)
            }
            for (k, shape) in fields { if let v = o[k] { try shape.check(v, at: path + [k]) } }
        }
    }

    /// `["severity", "critical", "[0]"]` → `severity.critical[0]`.
    private static func joined(_ path: [String]) -> String {
        path.enumerated().map { i, p in i == 0 || p.hasPrefix("[") ? p : ".\(p)" }.joined()
    }

    static let selector = object(["key", "class", "pressure", "burial", "maxDiameterMM", "minDiameterMM", "note", "voltage"].map { ($0, .value) })
    static let classList = object([
        ("note", .value), ("source", .value),
        ("classes", .array(.object(["name", "label", "upToMPa", "upToKV", "note"].map { ($0, .value) }))),
    ])
    static let pairTable = object([
        ("id", .value), ("source", .value), ("note", .value), ("keys", .array(selector)),
        ("rows", .value), ("unconstrained", .value),
    ])
    private static let sections: [(String, _KeyShape)] = [
        ("name", .value), ("source", .value),
        ("layerClasses", .object([("note", .value), ("map", .value)])),
        ("horizontal", pairTable),
        ("gasToGas", .object(["id", "source", "note", "class", "maxDiameterMM", "atOrBelow", "above"].map { ($0, .value) })),
        ("vertical", pairTable),
        ("minimumCover", .object([
            ("id", .value), ("source", .value), ("note", .value), ("keys", .array(selector)),
            ("rows", .map(.object([("sidewalk", .value), ("carriageway", .value)]))),
        ])),
        ("excavation", .object([("id", .value), ("source", .value), ("note", .value), ("text", .value), ("rows", .value), ("workTypes", .value)])),
        ("severity", .object([
            ("note", .value),
            ("critical", .array(.object(["class", "pressureAtOrAbove", "voltageKVAtOrAbove", "note", "voltageAtOrAbove", "text"].map { ($0, .value) }))),
            ("criticalGasPressureAtOrAbove", .value), ("criticalVoltageKVAtOrAbove", .value),
        ])),
        ("pressureClasses", classList),
        ("voltageClasses", classList),
        ("precaution", .object([
            ("id", .value), ("source", .value), ("note", .value),
            ("rules", .array(.object(["class", "pressureAtOrAbove", "voltageAtOrAbove", "voltageKVAtOrAbove", "distance", "text", "note"].map { ($0, .value) }))),
        ])),
        ("positionalAccuracy", .object([("note", .value), ("unknownHorizontalM", .value)])),
        ("jurisdiction", .object([("name", .value), ("lonLat", .value), ("note", .value)])),
    ]
    /// A complete rule file; a city override has the same keys (it may omit any) and `base`.
    static let document = object([("format", .value), ("version", .value), ("base", .value)] + sections)
}
