/// How bad a quality issue is.
public enum QualitySeverity: String, Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// Suspicious but representable; the record is kept.
    case warning
    /// A defect: rejects a `strict` import; under `lenient` the record is kept with a warning when
    /// it can be represented and dropped (and reported) when it cannot.
    case error

    public static func < (a: Self, b: Self) -> Bool { a == .warning && b == .error }
    public var description: String { rawValue }
}

/// What a quality check found wrong; one case per check, so reports can be filtered and counted.
public enum QualityCheck: String, Hashable, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// Two segments join the same two points in the same direction (or have identical geometry).
    case duplicateSegment
    /// A segment joins the same two points as another, in the opposite direction.
    case reversedSegment
    /// A segment whose geometry has zero length.
    case zeroLength
    /// A segment whose start point number equals its end point number.
    case startEqualsEnd
    /// A layer code the catalog does not know.
    case unknownLayer
    /// A depth that is negative, non-finite or beyond the plausible maximum.
    case depthOutOfRange
    /// One point carries different depths (or elevations) on the segments that meet it.
    case inconsistentPointDepth
    /// A segment end lies farther than the tolerance from the point it names.
    case endMissesPoint
    /// A segment names a point number that no point record has.
    case unknownPoint
    /// Geometry missing, unparsable, of the wrong type, or with non-finite coordinates.
    case invalidGeometry
    /// A required field is absent or empty.
    case missingField
    /// A field value cannot be read or converted (not a number, not in a value map).
    case badValue
    /// Two records share an identifier that must be unique.
    case duplicateIdentifier
    /// Two different features share a trace (same end points, either direction): a cable, its
    /// cable bed and its sleeve, a pipe and its casing. Recorded as a warning, never an error:
    /// they differ in layer, sub-type, section, material, burial, owner, pressure, voltage,
    /// counts or source id (two features the source names differently, such as two cables of one
    /// owner in one trench), so neither is a copy of the other (see ``duplicateSegment``).
    case coincidentTrace
    /// A value the mapping declares to mean "unknown" (a null sentinel such as gas pressure `0`):
    /// the field is left unknown, or taken from the rule's fallback, and counted here.
    case unknownValue

    public var description: String { rawValue }
}

/// Which record of which file: the "where" of an issue.
public struct RecordLocation: Hashable, Sendable, Codable, CustomStringConvertible {
    /// How records are counted in the source.
    public enum Unit: String, Hashable, Sendable, Codable {
        /// 1-based text line (CSV, survey tables).
        case line
        /// 0-based index in a GeoJSON `features` array.
        case feature
        /// GeoPackage feature id (`fid`).
        case fid
    }

    /// The file name or path as the caller gave it.
    public var file: String
    public var unit: Unit
    /// Line number, feature index or fid; nil for issues about the whole file.
    public var index: Int?
    /// The source field (column, property) at fault, when one is.
    public var field: String?

    public init(file: String, unit: Unit, index: Int?, field: String? = nil) {
        self.file = file
        self.unit = unit
        self.index = index
        self.field = field
    }

    /// The same record, another field.
    public func field(_ name: String?) -> RecordLocation {
        var l = self
        l.field = name
        return l
    }

    public var description: String {
        var s = file
        if let index { s += " \(unit.rawValue) \(index)" }
        if let field { s += ", field \(field)" }
        return s
    }
}

/// One finding of a quality check on one record.
public struct QualityIssue: Hashable, Sendable, Codable, CustomStringConvertible {
    /// What happened to the record.
    public enum Outcome: String, Hashable, Sendable, Codable {
        /// The record was imported as is (the issue is a warning, or an error kept under `lenient`).
        case kept
        /// The record could not be represented and was left out; never silently.
        case dropped
    }

    public var check: QualityCheck
    public var severity: QualitySeverity
    public var location: RecordLocation
    /// What is wrong, with the values involved.
    public var message: String
    public var outcome: Outcome

    public init(
        _ check: QualityCheck, _ severity: QualitySeverity, at location: RecordLocation, _ message: String,
        outcome: Outcome = .kept
    ) {
        self.check = check
        self.severity = severity
        self.location = location
        self.message = message
        self.outcome = outcome
    }

    public var description: String {
        "\(severity) [\(check)] \(location): \(message)\(outcome == .dropped ? " (record dropped)" : "")"
    }
}

/// What to do with records that fail checks.
public enum ImportPolicy: String, Hashable, Sendable, Codable {
    /// Any error rejects the whole import; the store is not touched.
    case strict
    /// Errors on representable records become warnings and the records are kept; records that
    /// cannot be represented (no usable geometry, no layer) are dropped and reported.
    case lenient
}

/// Everything the checks found in one import, in source order.
public struct QualityReport: Hashable, Sendable, Codable, CustomStringConvertible {
    public var issues: [QualityIssue]

    public init(issues: [QualityIssue] = []) { self.issues = issues }

    public mutating func append(_ issue: QualityIssue) { issues.append(issue) }
    public mutating func append(contentsOf other: QualityReport) { issues.append(contentsOf: other.issues) }

    public var errors: [QualityIssue] { issues.filter { $0.severity == .error } }
    public var warnings: [QualityIssue] { issues.filter { $0.severity == .warning } }
    public var hasErrors: Bool { issues.contains { $0.severity == .error } }
    /// Issues whose record was left out.
    public var dropped: [QualityIssue] { issues.filter { $0.outcome == .dropped } }

    /// Issue counts per check, for summaries.
    public var countsByCheck: [QualityCheck: Int] {
        issues.reduce(into: [:]) { $0[$1.check, default: 0] += 1 }
    }

    public func issues(_ check: QualityCheck) -> [QualityIssue] { issues.filter { $0.check == check } }

    /// One line per issue.
    public var description: String {
        issues.isEmpty ? "no issues" : issues.map(\.description).joined(separator: "\n")
    }
}
