import Foundation
import SubterraGeometry
import SubterraPROJ

/// Reads one source record's mapped fields, collecting an issue for each value that is missing
/// or unreadable.
struct MappedRecord {
    let record: SourceRecord
    let mapping: FieldMapping
    var issues: [QualityIssue] = []
    /// The source field each target was read from, for issue locations.
    var sourceNames: [ImportField: String] = [:]

    init(_ record: SourceRecord, _ mapping: FieldMapping) {
        self.record = record
        self.mapping = mapping
        if let m = record["__cellCountMismatch"]?.text {
            issues.append(QualityIssue(.badValue, .error, at: record.location, "row has \(m); values may be shifted"))
        }
    }

    func at(_ f: ImportField) -> RecordLocation { record.location.field(sourceNames[f] ?? f.rawValue) }

    mutating func issue(_ check: QualityCheck, _ f: ImportField, _ message: String, outcome: QualityIssue.Outcome = .kept) {
        issues.append(QualityIssue(check, .error, at: at(f), message, outcome: outcome))
    }

    /// Whether the mapping fills `f` at all.
    func maps(_ f: ImportField) -> Bool { mapping[f] != nil }

    /// The mapped text of `f` (value map applied), nil when absent or unknown; a value outside
    /// the map is a `badValue` issue and reads as nil.
    mutating func text(_ f: ImportField) -> String? { resolved(f)?.0 }

    /// The mapped text of `f` and the rule (the field's own or one of its fallbacks) it came
    /// from, whose `unit` applies to it.
    mutating func resolved(_ f: ImportField) -> (String, FieldMapping.Rule)? {
        guard let rule = mapping[f] else { return nil }
        return resolve(f, rule)
    }

    /// `rule` applied to the record: the first `from` field present decides; a null sentinel
    /// there, or no field and no constant or default, hands over to the fallbacks. A sentinel is
    /// counted as an `unknownValue` warning whatever the fallbacks give.
    private mutating func resolve(_ f: ImportField, _ rule: FieldMapping.Rule) -> (String, FieldMapping.Rule)? {
        var raw: String?
        var sentinel: (String, String)?
        for name in rule.from ?? [] {
            if let v = record[name], !v.isBlank, let t = v.text {
                let value = _trimmed(t)
                if rule.isNull(value) {
                    sentinel = (name, value)
                } else {
                    raw = value
                    sourceNames[f] = name
                }
                break
            }
        }
        if raw == nil, sentinel == nil { raw = rule.constant ?? rule.default }
        if let value = raw { return mapped(f, value, rule).map { ($0, rule) } }
        for fb in rule.fallback ?? [] {
            guard let r = resolve(f, fb) else { continue }
            if let (name, value) = sentinel {
                let via = sourceNames[f].map { " field \($0)" } ?? ""
                issues.append(QualityIssue(
                    .unknownValue, .warning, at: record.location.field(name),
                    "\(f.rawValue) '\(value)' means unknown in this mapping; taken from the fallback\(via): '\(r.0)'"))
            }
            return r
        }
        if let (name, value) = sentinel {
            issues.append(QualityIssue(
                .unknownValue, .warning, at: record.location.field(name),
                "\(f.rawValue) '\(value)' means unknown in this mapping; left unknown"))
        }
        return nil
    }

    /// `value` through `rule`'s value map; nil (and a `badValue` issue) for a value outside it.
    /// A value mapped to `""` (in `map` or `otherwise`) means "unknown": nil, with no issue, so
    /// `"otherwise": ""` reads a theme's gas values and leaves every other theme unknown.
    private mutating func mapped(_ f: ImportField, _ value: String, _ rule: FieldMapping.Rule) -> String? {
        guard let map = rule.map else { return value }
        func known(_ v: String) -> String? { _trimmed(v).isEmpty ? nil : v }
        if let v = map[value] { return known(v) }
        let folded = value.lowercased()
        if let v = map.first(where: { $0.key.trimmingCharacters(in: .whitespaces).lowercased() == folded })?.value { return known(v) }
        if let o = rule.otherwise { return known(o) }
        issue(.badValue, f, "'\(value)' is not in the value map (\(map.keys.sorted().joined(separator: ", "))); value not imported")
        return nil
    }

    /// The mapped value of `f` as a number in the model's unit; unreadable text is a `badValue`.
    mutating func number(_ f: ImportField) -> Double? {
        guard let (t, rule) = resolved(f) else { return nil }
        // A decimal comma ("1,25") is common in survey spreadsheets.
        guard let v = Double(t) ?? (t.contains(",") ? Double(t.replacingOccurrences(of: ",", with: ".")) : nil) else {
            issue(.badValue, f, "'\(t)' is not a number; value not imported")
            return nil
        }
        guard v.isFinite else {
            issue(.badValue, f, "\(t) is not finite; value not imported")
            return nil
        }
        if let u = rule.unit, let dim = f.dimension, let k = UnitConversion.factor(from: u, dimension: dim) {
            return v * k
        }
        return v
    }

    /// The mapped value of `f` as a whole number.
    mutating func integer(_ f: ImportField) -> Int? {
        guard let v = number(f) else { return nil }
        guard v == v.rounded(), abs(v) < 9e15 else {
            issue(.badValue, f, "\(v) is not a whole number; value not imported")
            return nil
        }
        return Int(v)
    }
}

/// `s` without leading and trailing white space; returns `s` itself (no copy) when there is none,
/// the usual case, because Foundation's trimming bridges through NSString on every call.
func _trimmed(_ s: String) -> String {
    guard let f = s.unicodeScalars.first, let l = s.unicodeScalars.last else { return s }
    // Printable ASCII ends (the usual case) are not white space: no Unicode property look-up.
    if f.value > 0x20, f.value < 0x7F, l.value > 0x20, l.value < 0x7F { return s }
    if !f.properties.isWhitespace && !l.properties.isWhitespace { return s }
    let u = s.unicodeScalars
    var start = u.startIndex, end = u.endIndex
    while start < end, u[start].properties.isWhitespace { start = u.index(after: start) }
    while end > start, u[u.index(before: end)].properties.isWhitespace { end = u.index(before: end) }
    return String(u[start..<end])
}

/// A segment read from a source, before its ends are resolved against the points.
struct SegmentDraft {
    var location: RecordLocation
    var sourceNames: [ImportField: String]
    var id: Int64
    var layer: LayerCode
    var subtype: SubtypeCode?
    var startPoint: PointNumber?
    var endPoint: PointNumber?
    var geometry: LineString?
    var startDepth: Double?, endDepth: Double?, startElevation: Double?, endElevation: Double?
    var elevationReference: ElevationReference = .top
    var section: PipeSection?
    var ductHoles: Int?, ductHolesOccupied: Int?, cableCount: Int?
    var material: Material?, burial: BurialMethod?
    var gasPressureMPa: Double?, voltageKV: Double?
    var owner: String?, road: String?, layingDate: String?, status: RecordStatus?
    var accuracy: PositionalAccuracy?
    var sourceID: String?
    var feature: Int64?
    var part: Int?
    var nominalDepth: Double?
    var featureKind: FeatureKind = .utilityLine
    var accuracyAssumed = false
    /// The file the record came from (``PipeSegment/sourceFile``); shares the storage of
    /// `location.file`, so it costs no copy per record.
    var sourceFile: String?

    func at(_ f: ImportField) -> RecordLocation { location.field(sourceNames[f] ?? f.rawValue) }

    /// Where the draft came from, without its values: what the cross-record checks keep.
    var locator: SegmentLocator { SegmentLocator(location: location, sourceNames: sourceNames) }
}

/// Where a kept segment came from, for the cross-record checks' messages: its record and the
/// source names of its fields. About 60 bytes, against a draft's 500 or so.
struct SegmentLocator {
    var location: RecordLocation
    var sourceNames: [ImportField: String]

    func at(_ f: ImportField) -> RecordLocation { location.field(sourceNames[f] ?? f.rawValue) }
}

/// An append-only list kept in chunks of 65,536, which `drain` hands over in order and frees
/// chunk by chunk, so a consumer building another list from it never holds both whole.
struct _ChunkedList<Element> {
    private var chunks: [[Element]] = []
    private(set) var count = 0
    static var chunkSize: Int { 1 << 16 }

    mutating func append(_ e: Element) {
        if chunks.isEmpty || chunks[chunks.count - 1].count == Self.chunkSize {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Self.chunkSize)
        }
        chunks[chunks.count - 1].append(e)
        count += 1
    }

    /// Calls `body(index, element)` for every element in order, then leaves the list empty;
    /// each chunk is freed once its elements have been handed over.
    mutating func drain(_ body: (Int, Element) -> Void) {
        var i = 0
        for c in chunks.indices {
            let chunk = chunks[c]
            chunks[c] = []
            for e in chunk {
                body(i, e)
                i += 1
            }
        }
        chunks = []
        count = 0
    }
}

/// Turns mapped source records into model records and runs the per-record and cross-record
/// quality checks.
struct RecordBuilder {
    let options: ImportOptions
    var issues: [QualityIssue] = []
    /// The kept points, when they are returned (`sink == nil`); empty when they are written.
    var points: [FeaturePoint] = []
    /// Each kept point's index in the lists below, by number.
    var pointIndex: [PointNumber: Int] = [:]
    /// What the segment checks need of each kept point, whether it is kept in `points` or was
    /// written to `sink`: position, number, ground elevation (NaN: none) and record.
    var pointPositions: [Point] = []
    var pointNumbers: [PointNumber] = []
    var pointGround: [Double] = []
    var pointRecords: [_CompactLocation] = []
    /// The file names `_CompactLocation`s point into.
    var files = _FileNames()
    /// Where kept points and segments go when the import writes while it reads
    /// (`Importer.stream`): each segment is then resolved, checked against the earlier ones
    /// through compact keys (`cross`) and written as soon as it is added, and `finish` returns
    /// counts instead of records. Nil: records are kept and returned by `finish`.
    var sink: _RowSink?
    /// The streamed import's cross-record keys (`sink` set).
    var cross = _CrossRecordKeys()
    /// Issues of resolving segment ends and of the cross-record checks, in the streamed import;
    /// `finish` puts them after the per-record issues, where the kept-records path has them.
    var resolveIssues: [QualityIssue] = []
    var crossIssues: [QualityIssue] = []
    /// Segments and points written to `sink`, and the multi-part features among the segments.
    var streamedSegments = 0, streamedPoints = 0, streamedParts = 0
    var streamedFeatures = Set<Int64>()
    /// The kept points by position, built when the first segment end is resolved (every point
    /// is added before any segment).
    var pointGrid: _PointGrid?
    /// Names of unnamed segment ends that match no point.
    var nodes: _NodeNamer
    var drafts = _ChunkedList<SegmentDraft>()
    /// The distinct source-name maps of the drafts: records of one file name their fields alike,
    /// so drafts share one map instead of holding a dictionary each.
    var sourceNameMaps = Set<[ImportField: String]>()
    var lastSourceNames: [ImportField: String] = [:]
    var usedIDs = Set<Int64>()
    var nextID: Int64
    /// Ids this import made up (records without an `id` field or with a text one, and the
    /// second and later parts of multi-part lines).
    var assignedIDs = Set<Int64>()
    /// Records skipped for a layer in their mapping's `ignoreLayers`, by that layer.
    var ignoredLayers: [String: Int] = [:]
    /// The ids of the pipes shorter than the snapping tolerance (by segment, so one short part
    /// of a multi-part record does not excuse another), and how many there were: their "start
    /// equals end" is a warning, not the cross-record error.
    var shortPipes = Set<Int64>()
    var shortSegments = 0
    /// Text ids seen, with the first record that used each.
    var sourceIDs: [String: RecordLocation] = [:]
    /// Operator areas (``addArea(_:mapping:)``) and the ids this import made up for them.
    var areas: [OperatorArea] = []
    var areaIDs = Set<Int64>()
    var assignedAreaIDs = Set<Int64>()

    /// The target CRS's area of use, widened by the standard margin, in target coordinates: a
    /// point or vertex outside it is an error that drops its record, under every policy (`nil`:
    /// PROJ records no area for the target CRS).
    let area: AreaBounds?

    init(options: ImportOptions, area: AreaBounds? = nil) {
        self.options = options
        self.area = area
        self.nextID = options.firstSegmentID
        self.nodes = _NodeNamer(cell: max(options.endTolerance, 1e-9))
    }

    /// Number of kept points.
    var pointCount: Int { pointPositions.count }

    /// Keeps point `p` read at `location`: indexed for the segments, and kept in `points` or
    /// written to `sink`.
    private mutating func keepPoint(_ p: FeaturePoint, at location: RecordLocation) {
        pointIndex[p.number] = pointPositions.count
        pointPositions.append(p.position)
        pointNumbers.append(p.number)
        pointGround.append(p.groundElevation ?? .nan)
        pointRecords.append(files.compact(location))
        if let sink {
            sink.write(p)
            streamedPoints += 1
        } else {
            points.append(p)
        }
    }

    /// Why `p` cannot be imported, or nil when it lies in the target CRS's area of use.
    func outsideArea(_ what: String, _ p: Point) -> String? {
        guard let area, !area.contains(x: p.x, y: p.y) else { return nil }
        return area.refusal(what, x: p.x, y: p.y)
    }

    // MARK: Points

    /// Adds the records of a Subterra store as they are (they were checked when written; the
    /// cross-record checks still run).
    mutating func adopt(_ n: UtilityNetwork, file: String, content: ImportSource.Content?) {
        for (i, p) in n.points.enumerated() {
            let at = RecordLocation(file: file, unit: .fid, index: i + 1)
            if let why = outsideArea("position", p.position) {
                issues.append(QualityIssue(.invalidGeometry, .error, at: at, why + "; record not imported", outcome: .dropped))
                continue
            }
            keepPoint(p, at: at)
        }
        for s in n.segments {
            usedIDs.insert(s.id)
            drafts.append(SegmentDraft(
                location: RecordLocation(file: file, unit: .fid, index: Int(s.id)), sourceNames: [:], id: s.id,
                layer: s.layer, subtype: s.subtype, startPoint: s.startPoint, endPoint: s.endPoint, geometry: s.geometry,
                startDepth: s.startDepth, endDepth: s.endDepth, startElevation: s.startElevation,
                endElevation: s.endElevation, elevationReference: s.elevationReference, section: s.section,
                ductHoles: s.ductHoles, ductHolesOccupied: s.ductHolesOccupied, cableCount: s.cableCount,
                material: s.material, burial: s.burial, gasPressureMPa: s.gasPressureMPa, voltageKV: s.voltageKV,
                owner: s.owner, road: s.road, layingDate: s.layingDate, status: s.status, accuracy: s.accuracy,
                sourceID: s.sourceID, feature: s.feature, part: s.part, nominalDepth: s.nominalDepth,
                featureKind: s.featureKind, accuracyAssumed: s.accuracyAssumed,
                // A store's features keep the delivery they were first imported from.
                sourceFile: s.sourceFile ?? file))
        }
    }

    /// Checks a depth value: unrepresentable values are dropped (nil), implausible ones kept.
    private func checkDepth(_ d: Double?, _ f: ImportField, _ m: inout MappedRecord) -> Double? {
        guard let d else { return nil }
        if !(d.isFinite && d >= 0 && d <= 100) {
            m.issue(.depthOutOfRange, f, "depth \(d) m must be finite and within 0…100 m; value not imported")
            return nil
        }
        if !options.plausibleDepth.contains(d) {
            m.issue(.depthOutOfRange, f,
                    "depth \(d) m is outside the plausible \(options.plausibleDepth.lowerBound)…\(options.plausibleDepth.upperBound) m")
        }
        return d
    }

    /// The segment's positional accuracy from `horizontalAccuracy`, `verticalAccuracy` and
    /// `qualityLevel`. A bad accuracy is reported and not imported rather than read as 0, because
    /// 0 would silently narrow every dig check's clearance.
    private func accuracy(_ m: inout MappedRecord) -> (accuracy: PositionalAccuracy?, assumed: Bool) {
        func metres(_ f: ImportField) -> Double? {
            guard let v = m.number(f) else { return nil }
            guard v >= 0 else {
                m.issue(.badValue, f, "accuracy \(v) m must be >= 0; value not imported")
                return nil
            }
            return v
        }
        let before = m.issues.count
        let h = metres(.horizontalAccuracy)
        // A bad horizontal accuracy is reported once, not again as "missing" beside its level.
        let badHorizontal = m.issues.count > before
        let v = metres(.verticalAccuracy)
        var level: QualityLevel?
        if let q = m.text(.qualityLevel), !q.isEmpty {
            level = QualityLevel(rawValue: q.uppercased())
            if level == nil {
                m.issue(.badValue, .qualityLevel, "'\(q)' is not an ASCE 38 quality level (A, B, C, D); value not imported")
            }
        }
        guard let h else {
            // The source's stated accuracy for records without one (not "exact").
            // Assumed, not stated: reports say so.
            if let def = m.mapping.defaultAccuracy {
                return (PositionalAccuracy(horizontalM: def.horizontalM, verticalM: v ?? def.verticalM, qualityLevel: level ?? def.qualityLevel), true)
            }
            if !badHorizontal, v != nil || level != nil {
                let f: ImportField = v != nil ? .verticalAccuracy : .qualityLevel
                m.issue(.missingField, f, "vertical accuracy or quality level without a horizontal accuracy; not imported")
            }
            return (nil, false)
        }
        return (PositionalAccuracy(horizontalM: h, verticalM: v, qualityLevel: level), false)
    }

    /// The record's layer code, and the sub-type its layer field named when it gave a sub-type's
    /// name (雨水: drainage, storm); nil (the record dropped) without one.
    private mutating func checkLayer(_ m: inout MappedRecord) -> (code: LayerCode, namedSubtype: SubtypeCode?)? {
        guard let l = m.text(.layer), !l.isEmpty else {
            if !m.issues.contains(where: { $0.check == .badValue && $0.location.field == m.at(.layer).field }) {
                m.issue(.missingField, .layer, "layer code is missing; record not imported", outcome: .dropped)
            } else {
                m.issue(.missingField, .layer, "no usable layer code; record not imported", outcome: .dropped)
            }
            return nil
        }
        let code = LayerCode(l)
        if options.catalog.contains(code) { return (code, nil) }
        // A utility named in words (给水, 雨水管线): its layer, as CJJ 61 tables write it.
        if let named = options.catalog.layer(named: l) { return (named.layer, named.subtype) }
        m.issue(.unknownLayer, .layer, "layer code '\(l)' is not in the catalog (\(options.catalog.codes.map(\.rawValue).joined(separator: ", ")); or a utility's Chinese name such as 给水, 雨水)")
        return (code, nil)
    }

    /// Adds one record of a source holding `content` (the points of every source must come
    /// before any segment, and areas last, so segments match points of any file).
    mutating func add(_ r: SourceRecord, content: ImportSource.Content, mapping: FieldMapping, xyTransform: Transformer?) {
        switch content {
        case .points: addPoint(r, mapping: mapping, xyTransform: xyTransform)
        case .segments: addSegment(r, mapping: mapping)
        case .areas: addArea(r, mapping: mapping)
        }
    }

    mutating func addPoint(_ r: SourceRecord, mapping: FieldMapping, xyTransform: Transformer?) {
        if let layer = mapping.ignoredLayer(of: r) { return ignoredLayers[layer, default: 0] += 1 }
        var m = MappedRecord(r, mapping)
        defer { issues.append(contentsOf: m.issues) }
        func drop(_ check: QualityCheck, _ f: ImportField, _ why: String) {
            m.issue(check, f, why + "; record not imported", outcome: .dropped)
        }
        let number: PointNumber
        if m.maps(.pointNumber) {
            guard let n = m.text(.pointNumber), !n.isEmpty else { return drop(.missingField, .pointNumber, "point number is missing") }
            number = PointNumber(n)
        } else {
            // No point numbers in the source: name the point by file and record so it is stable.
            let stem = URL(fileURLWithPath: r.location.file).deletingPathExtension().lastPathComponent
            number = PointNumber("\(stem)#\(r.location.index ?? pointCount)")
        }
        guard let layer = checkLayer(&m)?.code else { return }
        var position: Point
        switch r.geometry {
        case .point(let p)?: position = p
        case .multiPoint(let ps)? where ps.count == 1: position = ps[0]
        case nil where m.maps(.x) && m.maps(.y) && r.geometryError == nil:
            guard let x = m.number(.x) else { return drop(.missingField, .x, "survey X is missing or unreadable") }
            guard let y = m.number(.y) else { return drop(.missingField, .y, "survey Y is missing or unreadable") }
            position = options.axes.point(surveyX: x, surveyY: y)
            if let t = xyTransform {
                do { position = try t.transform(position) } catch {
                    return drop(.invalidGeometry, .x, "cannot transform (\(x), \(y)): \(error)")
                }
            }
        case nil:
            return drop(.invalidGeometry, .x, r.geometryError ?? "no geometry and no x/y fields")
        case let g?:
            return drop(.invalidGeometry, .x, "geometry is a \(Self.typeName(g)), expected a Point")
        }
        guard position.isFinite else { return drop(.invalidGeometry, .x, "position (\(position.x), \(position.y)) is not finite") }
        if let why = outsideArea("position", position) { return drop(.invalidGeometry, .x, why) }
        let kind = PointKind(m.text(.kind) ?? "unknown")
        var category = kind.standardCategory ?? .feature
        if let c = m.text(.category) {
            if let pc = PointCategory(rawValue: c.lowercased()) {
                if let std = kind.standardCategory, std != pc {
                    m.issue(.badValue, .category, "a \(kind) is a \(std), recorded as \(pc); using \(std)")
                } else {
                    category = pc
                }
            } else {
                m.issue(.badValue, .category, "'\(c)' is neither feature nor appurtenance; using \(category)")
            }
        }
        let ground = m.number(.groundElevation)
        let depth = checkDepth(m.number(.depth), .depth, &m)
        let (valveStatus, connection) = networkAttributes(kind, &m)
        let p = FeaturePoint(
            number: number, layer: layer, category: category, kind: kind, position: position, groundElevation: ground,
            depth: depth, owner: m.text(.owner), road: m.text(.road), status: m.text(.status).map(RecordStatus.init),
            valveStatus: valveStatus, connection: connection)
        do { try p.validate() } catch { return drop(.badValue, .pointNumber, error.message) }
        if let first = pointIndex[number] {
            return drop(.duplicateIdentifier, .pointNumber, "point number \(number) already used by \(files.location(pointRecords[first]))")
        }
        keepPoint(p, at: r.location)
    }

    /// The valve status and service connection of a point record: a status only on an
    /// isolation valve, a category with a count (1 when not given) of at least one; anything
    /// else is a `badValue` issue and left unknown, the point itself kept.
    func networkAttributes(_ kind: PointKind, _ m: inout MappedRecord) -> (ValveStatus?, ServiceConnection?) {
        var valve: ValveStatus?
        if let v = m.text(.valveStatus) {
            if let known = ValveStatus(parsing: v) {
                if kind.isIsolationValve { valve = known } else {
                    m.issue(.badValue, .valveStatus, "valve status '\(v)' on a \(kind), which is no valve; value not imported")
                }
            } else {
                let known = ValveStatus.allCases.map(\.rawValue).joined(separator: ", ")
                m.issue(.badValue, .valveStatus, "'\(v)' is not a valve status (\(known)); value not imported")
            }
        }
        var connection: ServiceConnection?
        let count = m.integer(.customerCount)
        if let c = m.text(.customerCategory) {
            if let category = CustomerCategory(parsing: c) {
                if let n = count, n < 1 {
                    m.issue(.badValue, .customerCount, "customer count \(n) must be >= 1; connection not imported")
                } else {
                    connection = ServiceConnection(category: category, count: count ?? 1)
                }
            } else {
                let known = CustomerCategory.allCases.map(\.rawValue).joined(separator: ", ")
                m.issue(.badValue, .customerCategory, "'\(c)' is not a customer category (\(known)); connection not imported")
            }
        } else if let n = count {
            m.issue(.badValue, .customerCount, "customer count \(n) without a customer category; value not imported")
        }
        return (valve, connection)
    }

    static func typeName(_ g: Geometry) -> String {
        switch g {
        case .point: return "Point"
        case .lineString: return "LineString"
        case .polygon: return "Polygon"
        case .multiPoint: return "MultiPoint"
        case .multiLineString: return "MultiLineString"
        case .multiPolygon: return "MultiPolygon"
        case .collection: return "GeometryCollection"
        }
    }

    // MARK: Segments

    mutating func addSegment(_ r: SourceRecord, mapping: FieldMapping) {
        if let layer = mapping.ignoredLayer(of: r) { return ignoredLayers[layer, default: 0] += 1 }
        var m = MappedRecord(r, mapping)
        defer { issues.append(contentsOf: m.issues) }
        func drop(_ check: QualityCheck, _ f: ImportField, _ why: String) {
            m.issue(check, f, why + "; record not imported", outcome: .dropped)
        }
        var id: Int64
        // A whole number is the row id itself; any other text is the operator's id, kept
        // verbatim as `sourceID` beside an assigned row id (docs/import/features-and-ids.md).
        var sourceID: String?
        var explicit: Int?
        if m.maps(.id), let t = m.text(.id), !t.isEmpty {
            if Self.readsAsNumber(t) { explicit = m.integer(.id) } else { sourceID = t }
        }
        if let v = explicit {
            id = Int64(v)
            if usedIDs.contains(id) {
                return drop(.duplicateIdentifier, .id, "segment id \(id) is already used")
            }
        } else {
            if m.maps(.id), sourceID == nil, !m.issues.contains(where: { $0.location.field == m.at(.id).field }) {
                m.issues.append(QualityIssue(.missingField, .warning, at: m.at(.id), "segment id is missing; a new id is assigned"))
            }
            id = assignID()
        }
        if let sourceID {
            if let first = sourceIDs[sourceID] {
                m.issues.append(QualityIssue(.duplicateIdentifier, .warning, at: m.at(.id),
                                             "source id '\(sourceID)' is also the id of \(first); both are kept"))
            } else {
                sourceIDs[sourceID] = r.location
            }
        }
        guard let (layer, namedSubtype) = checkLayer(&m) else { return }
        var geometry: LineString?
        // The parts of a multi-part line, each stored as its own segment of one feature.
        var parts: [LineString] = []
        switch r.geometry {
        case .lineString(let l)?: geometry = l
        case .multiLineString(let ls)? where ls.isEmpty:
            return drop(.invalidGeometry, .startPoint, "MultiLineString has no parts")
        case .multiLineString(let ls)?:
            geometry = ls[0]
            parts = ls
        case nil:
            if let e = r.geometryError, !(e == "feature has no geometry" && m.maps(.startPoint)) {
                return drop(.invalidGeometry, .startPoint, e)
            }
        case let g?:
            return drop(.invalidGeometry, .startPoint, "geometry is a \(Self.typeName(g)), expected a LineString")
        }
        var start: PointNumber?, end: PointNumber?
        if m.maps(.startPoint) || m.maps(.endPoint) {
            if let s = m.text(.startPoint), !s.isEmpty { start = PointNumber(s) }
            if let e = m.text(.endPoint), !e.isEmpty { end = PointNumber(e) }
            if start == nil || end == nil {
                let f: ImportField = start == nil ? .startPoint : .endPoint
                if geometry == nil { return drop(.missingField, f, "point number is missing and there is no geometry") }
                m.issues.append(QualityIssue(.missingField, .error, at: m.at(f), "point number is missing; matched by position instead"))
            }
        } else if geometry == nil {
            return drop(.invalidGeometry, .startPoint, "no geometry and no start/end point fields")
        }
        let subtype = m.text(.subtype).map(SubtypeCode.init) ?? namedSubtype
        if let st = subtype, let def = options.catalog[layer], !def.subtypes.isEmpty, def.subtype(st) == nil {
            m.issue(.badValue, .subtype, "sub-type '\(st)' is not defined for layer \(layer)")
        }
        var d = SegmentDraft(location: r.location, sourceNames: [:], id: id, layer: layer, subtype: subtype,
                             startPoint: start, endPoint: end, geometry: geometry)
        d.startDepth = checkDepth(m.number(.startDepth), .startDepth, &m)
        d.endDepth = checkDepth(m.number(.endDepth), .endDepth, &m)
        d.startElevation = m.number(.startElevation)
        d.endElevation = m.number(.endElevation)
        if let ref = m.text(.elevationReference) {
            if let e = ElevationReference(rawValue: ref.lowercased()) { d.elevationReference = e } else {
                m.issue(.badValue, .elevationReference, "'\(ref)' is neither top nor bottom; using top")
            }
        }
        if let dia = m.number(.diameter) {
            if dia > 0 { d.section = .circular(diameterMM: dia) } else { m.issue(.badValue, .diameter, "diameter \(dia) mm must be > 0; value not imported") }
        } else if let w = m.number(.width), let h = m.number(.height) {
            if w > 0 && h > 0 { d.section = .rectangular(widthMM: w, heightMM: h) } else {
                m.issue(.badValue, .width, "section \(w)x\(h) mm must be positive; value not imported")
            }
        } else if let s = m.text(.section) {
            if let sec = PipeSection(notation: s) { d.section = sec } else {
                m.issue(.badValue, .section, "'\(s)' is not a section (DN300, 800x600); value not imported")
            }
        }
        func count(_ f: ImportField) -> Int? {
            guard let v = m.integer(f) else { return nil }
            if v < 0 { m.issue(.badValue, f, "count \(v) must be >= 0; value not imported"); return nil }
            return v
        }
        d.ductHoles = count(.ductHoles)
        d.ductHolesOccupied = count(.ductHolesOccupied)
        if let o = d.ductHolesOccupied, let h = d.ductHoles, o > h {
            m.issue(.badValue, .ductHolesOccupied, "\(o) occupied holes exceed the \(h) holes; value not imported")
            d.ductHolesOccupied = nil
        }
        d.cableCount = count(.cableCount)
        d.material = m.text(.material).map(Material.init)
        d.burial = m.text(.burial).map(BurialMethod.init)
        if let p = m.number(.pressure) {
            // No gas main runs at exactly 0: a 0 is how many deliveries write "unknown". Refused
            // like voltage 0, so it never reads as "low"; left unknown, the dig check treats the
            // pipe as critical. A mapping that knows 0 means unknown says so with `null`.
            if p == 0 {
                m.issue(.badValue, .pressure, "gas pressure 0 is not an operating pressure; value not imported, pressure left unknown (judged critical); if 0 means unknown in this delivery, add \"null\": [\"0\"] to the mapping's pressure rule")
            } else if GasPressureClass(megapascals: p) != nil { d.gasPressureMPa = p } else {
                m.issue(.badValue, .pressure, "gas pressure \(p) MPa is outside 0…4.0 MPa; value not imported")
            }
        }
        if let v = m.number(.voltage) {
            if v > 0 { d.voltageKV = v } else { m.issue(.badValue, .voltage, "voltage \(v) kV must be > 0; value not imported") }
        }
        d.owner = m.text(.owner)
        d.road = m.text(.road)
        d.layingDate = m.text(.layingDate)
        d.status = m.text(.status).map(RecordStatus.init)
        (d.accuracy, d.accuracyAssumed) = accuracy(&m)
        d.nominalDepth = checkDepth(m.number(.nominalDepth), .nominalDepth, &m)
        if let k = m.text(.featureKind) {
            if let kind = FeatureKind(parsing: k) { d.featureKind = kind } else {
                let known = FeatureKind.allCases.map(\.rawValue).joined(separator: ", ")
                m.issue(.badValue, .featureKind, "'\(k)' is not a feature kind (\(known)); taken as utilityLine")
            }
        }
        d.sourceNames = sharedSourceNames(m.sourceNames)
        d.sourceID = sourceID
        d.sourceFile = r.location.file
        usedIDs.insert(id)
        guard parts.count > 1 else { return take(d) }
        for (i, draft) in Self.split(d, into: parts).enumerated() {
            var p = draft
            if i > 0 {
                p.id = assignID()
                usedIDs.insert(p.id)
            }
            p.feature = id
            take(p)
        }
    }

    /// A finished draft: kept for `finish`, or (streamed import) resolved, checked and written
    /// now, after any drafts adopted from a store before it.
    private mutating func take(_ d: SegmentDraft) {
        guard sink != nil else { return drafts.append(d) }
        flushDrafts()
        stream(d)
    }

    /// Streams the drafts waiting in `drafts` (adopted from a store), in order.
    private mutating func flushDrafts() {
        guard drafts.count > 0 else { return }
        var pending = drafts
        drafts = _ChunkedList()
        pending.drain { _, d in stream(d) }
    }

    /// Resolves `d`, runs the cross-record checks against the segments before it on compact
    /// keys, and writes the segment to `sink`.
    private mutating func stream(_ d: SegmentDraft) {
        let (found, kept) = resolve(d)
        resolveIssues.append(contentsOf: found)
        guard let (seg, locator) = kept, let sink else { return }
        crossIssues.append(contentsOf: crossCheck(seg, locator, sink: sink))
        sink.write(seg)
        streamedSegments += 1
        if let f = seg.feature {
            streamedFeatures.insert(f)
            streamedParts += 1
        }
    }

    /// The ordinal of point number `n` in the cross-record keys: its point's index, or a number
    /// past the points for a number no point record has (unknown or synthetic).
    private mutating func ordinal(_ n: PointNumber) -> Int {
        if let i = pointIndex[n] { return i }
        if let k = cross.extra[n] { return pointCount + Int(k) }
        let k = Int32(cross.extra.count)
        cross.extra[n] = k
        return pointCount + Int(k)
    }

    /// `QualityChecks.crossRecord` for one segment against the ones kept before it, on compact
    /// keys: end-point ordinal pairs, first depths by ordinal, ids and records by kept index. The
    /// earlier segment of a duplicate or reversed pair is read back from the rows written. Same
    /// issues, same order, as the whole-list check.
    private mutating func crossCheck(_ s: PipeSegment, _ d: SegmentLocator, sink: _RowSink) -> [QualityIssue] {
        var out: [QualityIssue] = []
        let i = cross.ids.count
        cross.ids.append(s.id)
        cross.records.append(files.compact(d.location))
        let a = ordinal(s.startPoint), b = ordinal(s.endPoint)
        if s.startPoint == s.endPoint {
            // A pipe shorter than the tolerance got `resolve`'s warning instead.
            if !shortPipes.contains(s.id) {
                out.append(QualityIssue(.startEqualsEnd, .error, at: d.at(.endPoint), QualityChecks.endsMessage(s, options)))
            }
        } else {
            let key = _CrossRecordKeys.pair(a, b)
            for (reversed, j) in [(false, cross.firstByEnds[key]), (true, cross.firstByEnds[_CrossRecordKeys.pair(b, a)])] {
                guard let j else { continue }
                if let other = sink.segment(id: cross.ids[Int(j)]) {
                    out.append(QualityChecks.pairIssue(
                        s, at: d, other: other, otherAt: files.location(cross.records[Int(j)]), reversed: reversed))
                }
                break
            }
            if cross.firstByEnds[key] == nil { cross.firstByEnds[key] = Int32(i) }
        }
        if let z = QualityChecks.zeroLengthIssue(s, at: d) { out.append(z) }
        for (o, depth, top, f) in [(a, s.startDepth, s.startTopElevation, ImportField.startDepth),
                                     (b, s.endDepth, s.endTopElevation, .endDepth)] {
            guard let depth else { continue }
            let p = f == .startDepth ? s.startPoint : s.endPoint
            let g = o < pointCount ? pointGround[o] : .nan
            if let top, !g.isNaN, let issue = QualityChecks.groundIssue(p, top: top, depth: depth, ground: g, at: d.at(f), options) {
                out.append(issue)
            }
            cross.growDepths(to: o + 1)
            if cross.depthSegment[o] >= 0 {
                let j = Int(cross.depthSegment[o])
                if let issue = QualityChecks.depthIssue(
                    p, depth: depth, first: cross.depthFirst[o], on: cross.ids[j], at: files.location(cross.records[j]),
                    end: cross.depthAtEnd[o] ? .endDepth : .startDepth, here: d.at(f), options)
                {
                    out.append(issue)
                }
            } else {
                cross.depthFirst[o] = depth
                cross.depthSegment[o] = Int32(i)
                cross.depthAtEnd[o] = f == .endDepth
            }
        }
        return out
    }

    /// `names`, as the one stored copy of an equal map (see `sourceNameMaps`).
    private mutating func sharedSourceNames(_ names: [ImportField: String]) -> [ImportField: String] {
        if names == lastSourceNames { return lastSourceNames }
        if let known = sourceNameMaps.firstIndex(of: names) {
            lastSourceNames = sourceNameMaps[known]
        } else {
            sourceNameMaps.insert(names)
            lastSourceNames = names
        }
        return lastSourceNames
    }

    /// The next free row id, counted up from `options.firstSegmentID` past every id in use.
    private mutating func assignID() -> Int64 {
        while usedIDs.contains(nextID) { nextID += 1 }
        let id = nextID
        assignedIDs.insert(id)
        nextID += 1
        return id
    }

    /// Whether an id value is a number (then it must be a whole one, the row id); anything else
    /// is a text id. "inf" and "nan" are text.
    static func readsAsNumber(_ t: String) -> Bool {
        let v = Double(t) ?? (t.contains(",") ? Double(t.replacingOccurrences(of: ",", with: ".")) : nil)
        return v?.isFinite ?? false
    }

    /// One draft per part of a multi-part line, numbered 1…n in `part`: each keeps the record's
    /// attributes; the named start point goes to the first part and the named end point to the
    /// last (the inner ends are matched by position); the end depths and elevations, surveyed
    /// for the feature's two ends, are interpolated along the feature's plan length (parts in
    /// order), as for one polyline through all parts, and an end surveyed alone stays at its end.
    static func split(_ d: SegmentDraft, into parts: [LineString]) -> [SegmentDraft] {
        let lengths = parts.map(\.points.planarLength)
        let total = lengths.reduce(0, +)
        var walked = 0.0
        var out: [SegmentDraft] = []
        for (i, line) in parts.enumerated() {
            let t0 = total > 0 ? walked / total : 0
            walked += lengths[i]
            let t1 = total > 0 ? walked / total : 1
            let first = i == 0, last = i == parts.count - 1
            func along(_ a: Double?, _ b: Double?, _ t: Double, end: Bool) -> Double? {
                if let a, let b { return _lerp(a, b, t) }
                return end ? (t == 0 ? a : t == 1 ? b : nil) : nil
            }
            var p = d
            p.geometry = line
            p.part = i + 1
            p.startPoint = first ? d.startPoint : nil
            p.endPoint = last ? d.endPoint : nil
            p.startDepth = along(d.startDepth, d.endDepth, first ? 0 : t0, end: first)
            p.endDepth = along(d.startDepth, d.endDepth, last ? 1 : t1, end: last)
            p.startElevation = along(d.startElevation, d.endElevation, first ? 0 : t0, end: first)
            p.endElevation = along(d.startElevation, d.endElevation, last ? 1 : t1, end: last)
            out.append(p)
        }
        return out
    }

    // MARK: Finish: resolve ends, cross-record checks, policy

    /// Resolves a draft's ends against the points: a survey-table draft gets its straight line,
    /// a vertex outside the area of use drops it, a named end is checked against its point, an
    /// unnamed one takes the nearest point within tolerance or a shared node name; the segment
    /// is validated. Returns the issues found and the segment with where it came from, nil when
    /// it is not imported.
    mutating func resolve(_ draft: SegmentDraft) -> (issues: [QualityIssue], kept: (PipeSegment, SegmentLocator)?) {
        var d = draft
        var found: [QualityIssue] = []
        func report(_ check: QualityCheck, _ f: ImportField, _ msg: String, _ sev: QualitySeverity = .error,
                    _ outcome: QualityIssue.Outcome = .kept) {
            found.append(QualityIssue(check, sev, at: d.at(f), msg, outcome: outcome))
        }
        let tol = options.endTolerance
        let line: LineString
        if let g = d.geometry {
            line = g
        } else {
            // Survey-table segment: straight from its start point to its end point.
            guard let s = d.startPoint, let e = d.endPoint else { return (found, nil) }
            guard let ps = pointIndex[s].map({ pointPositions[$0] }) else {
                report(.unknownPoint, .startPoint, "start point \(s) is in no point record; record not imported", .error, .dropped)
                return (found, nil)
            }
            guard let pe = pointIndex[e].map({ pointPositions[$0] }) else {
                report(.unknownPoint, .endPoint, "end point \(e) is in no point record; record not imported", .error, .dropped)
                return (found, nil)
            }
            do { line = try LineString([ps, pe]) } catch {
                report(.invalidGeometry, .startPoint, "\(error); record not imported", .error, .dropped)
                return (found, nil)
            }
            d.geometry = line
        }
        // Every segment passes here (mapped, built from its points, or adopted from a store).
        if let area, let v = line.points.firstIndex(where: { !area.contains(x: $0.x, y: $0.y) }) {
            let why = area.refusal("vertex \(v)", x: line.points[v].x, y: line.points[v].y)
            report(.invalidGeometry, .startPoint, why + "; record not imported", .error, .dropped)
            return (found, nil)
        }
        /// The number of the point at end `f` (at `pos`): the named one, checked against the
        /// line, or the nearest point within tolerance, else a shared node name.
        func resolveEnd(_ pos: Point, _ f: ImportField) -> PointNumber {
            let named = f == .startPoint ? d.startPoint : d.endPoint
            guard let named else {
                if pointGrid == nil { pointGrid = _PointGrid(cell: max(tol, 1e-9), positions: pointPositions) }
                return pointGrid?.nearest(to: pos, within: tol).map { pointNumbers[$0] } ?? nodes.name(pos)
            }
            if let pi = pointIndex[named] {
                let dist = Self.planarDistance(pointPositions[pi], pos)
                if dist > tol {
                    report(.endMissesPoint, f, "\(f == .startPoint ? "start" : "end") of the line lies \(Self.metres(dist)) from point \(named) (tolerance \(tol) m)")
                }
            } else {
                report(.unknownPoint, f, "point \(named) is in no point record", .warning)
            }
            return named
        }
        let startPoint = resolveEnd(line.points[0], .startPoint)
        d.startPoint = startPoint
        let endPoint = resolveEnd(line.points[line.points.count - 1], .endPoint)
        d.endPoint = endPoint
        let seg = PipeSegment(
            id: d.id, layer: d.layer, subtype: d.subtype, startPoint: startPoint, endPoint: endPoint,
            geometry: line, startDepth: d.startDepth, endDepth: d.endDepth, startElevation: d.startElevation,
            endElevation: d.endElevation, elevationReference: d.elevationReference, section: d.section,
            ductHoles: d.ductHoles, ductHolesOccupied: d.ductHolesOccupied, cableCount: d.cableCount,
            material: d.material, burial: d.burial, gasPressureMPa: d.gasPressureMPa, voltageKV: d.voltageKV,
            owner: d.owner, road: d.road, layingDate: d.layingDate, status: d.status, accuracy: d.accuracy,
            sourceID: d.sourceID, feature: d.feature, part: d.part, nominalDepth: d.nominalDepth,
            featureKind: d.featureKind, accuracyAssumed: d.accuracyAssumed, sourceFile: d.sourceFile)
        do throws(ModelError) { try seg.validate() } catch {
            report(.badValue, .id, "\(error.message); record not imported", .error, .dropped)
            return (found, nil)
        }
        // A pipe shorter than the snapping tolerance has both ends on one point. Real deliveries
        // hold such stubs (a few millimetres to centimetres): a warning, kept, with what was
        // measured. A longer line whose ends meet (a closed loop, or two ends naming one point far
        // apart) stays a `startEqualsEnd` error of the cross-record checks.
        if startPoint == endPoint, seg.length > 0, seg.length <= tol {
            shortPipes.insert(seg.id)
            report(.startEqualsEnd, .endPoint, Self.shortPipeMessage(seg, tolerance: tol), .warning)
            shortSegments += 1
        }
        return (found, (seg, d.locator))
    }

    mutating func finish() -> ImportResult {
        var segments: [PipeSegment] = []
        if sink != nil {
            flushDrafts()
            issues.append(contentsOf: resolveIssues)
            issues.append(contentsOf: crossIssues)
            resolveIssues = []
            crossIssues = []
        } else {
            segments.reserveCapacity(drafts.count)
            // Where each kept segment came from; the drafts themselves are freed as they are used.
            var kept: [SegmentLocator] = []
            kept.reserveCapacity(drafts.count)
            var drafts = self.drafts
            self.drafts = _ChunkedList()
            drafts.drain { _, draft in
                let (found, done) = resolve(draft)
                issues.append(contentsOf: found)
                guard let (seg, locator) = done else { return }
                kept.append(locator)
                segments.append(seg)
            }
            var ground: [PointNumber: Double] = [:]
            for p in points { if let g = p.groundElevation { ground[p.number] = g } }
            // The cross-record checks' "start equals end" for the short pipes is `resolve`'s warning.
            issues.append(contentsOf: QualityChecks.crossRecord(
                segments: segments, sources: kept, ground: ground, options: options, shortPipes: shortPipes))
        }
        // Issues in source order: file, then record index.
        var ordered = issues.enumerated().sorted { a, b in
            let la = a.element.location, lb = b.element.location
            if la.file != lb.file { return a.offset < b.offset }
            if (la.index ?? -1) != (lb.index ?? -1) { return (la.index ?? -1) < (lb.index ?? -1) }
            return a.offset < b.offset
        }.map(\.element)
        if options.policy == .lenient {
            for i in ordered.indices where ordered[i].severity == .error && ordered[i].outcome == .kept {
                ordered[i].severity = .warning
            }
        }
        var result = ImportResult(
            segments: segments, points: points, report: QualityReport(issues: ordered), recordsRead: 0,
            syntheticNodes: nodes.count, assignedIDs: assignedIDs, areas: areas, assignedAreaIDs: assignedAreaIDs,
            shortSegments: shortSegments, ignoredLayers: ignoredLayers)
        result.streamedSegments = streamedSegments
        result.streamedPoints = streamedPoints
        result.streamedFeatures = streamedFeatures.count
        result.streamedParts = streamedParts
        return result
    }

    /// `segment 7 is 9 mm long, shorter than the 50 mm snapping tolerance: start and end both
    /// resolve to point ~N4 (ends 9 mm apart, within the 50 mm snapping tolerance); kept`.
    static func shortPipeMessage(_ s: PipeSegment, tolerance: Double) -> String {
        let gap = planarDistance(s.start, s.end)
        return "segment \(s.id) is \(QualityChecks.lengthText(s.length)) long, shorter than the \(QualityChecks.lengthText(tolerance)) snapping tolerance: "
            + "start and end both resolve to point \(s.startPoint) (ends \(QualityChecks.lengthText(gap)) apart, within the "
            + "\(QualityChecks.lengthText(tolerance)) snapping tolerance); kept"
    }

    static func planarDistance(_ a: Point, _ b: Point) -> Double {
        let dx = a.x - b.x, dy = a.y - b.y
        return (dx * dx + dy * dy).squareRoot()
    }

    static func metres(_ d: Double) -> String { String(format: "%.3f m", d) }
}

/// Uniform grid over point positions for "nearest within tolerance" look-ups: the points'
/// indexes sorted by cell (a flat sorted list, about 20 bytes a point, rather than a dictionary
/// of arrays). O(log n) per query for tolerance-sized cells.
struct _PointGrid {
    let cell: Double
    let positions: [Point]
    /// Cell of each entry of `order`, ascending.
    private let keys: [SIMD2<Int64>]
    /// Point indexes, by cell then index.
    private let order: [Int32]

    init(cell: Double, positions: [Point]) {
        self.cell = cell
        self.positions = positions
        let cellOf = positions.map { Self.key($0, cell: cell) }
        var order = Array(0..<Int32(positions.count))
        order.sort { a, b in
            let ka = cellOf[Int(a)], kb = cellOf[Int(b)]
            return ka.x != kb.x ? ka.x < kb.x : ka.y != kb.y ? ka.y < kb.y : a < b
        }
        self.order = order
        self.keys = order.map { cellOf[Int($0)] }
    }

    static func key(_ p: Point, cell: Double) -> SIMD2<Int64> {
        // Clamp so absurd coordinates cannot trap on conversion.
        let x = max(-9e15, min(9e15, (p.x / cell).rounded(.down)))
        let y = max(-9e15, min(9e15, (p.y / cell).rounded(.down)))
        return SIMD2(Int64(x), Int64(y))
    }

    /// The first entry of `order` whose cell is not before `k`.
    private func lowerBound(_ k: SIMD2<Int64>) -> Int {
        var lo = 0, hi = keys.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let m = keys[mid]
            if m.x < k.x || (m.x == k.x && m.y < k.y) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The index of the nearest position within `d` of `p` (ties: lowest index).
    func nearest(to p: Point, within d: Double) -> Int? {
        let k = Self.key(p, cell: cell)
        var best: (Int, Double)?
        for dx in -1...1 {
            for dy in -1...1 {
                let c = k &+ SIMD2(Int64(dx), Int64(dy))
                var e = lowerBound(c)
                while e < keys.count, keys[e] == c {
                    let i = Int(order[e])
                    e += 1
                    let dist = RecordBuilder.planarDistance(positions[i], p)
                    if dist <= d, best.map({ dist < $0.1 || (dist == $0.1 && i < $0.0) }) ?? true { best = (i, dist) }
                }
            }
        }
        return best?.0
    }
}

/// Names unnamed line ends: ends within the tolerance of an earlier one share its name `~N<k>`.
struct _NodeNamer {
    let cell: Double
    var cells: [SIMD2<Int64>: [Int]] = [:]
    var names: [PointNumber] = []
    var positions: [Point] = []

    init(cell: Double) {
        self.cell = cell
    }

    var count: Int { names.count }

    mutating func name(_ p: Point) -> PointNumber {
        let k = _PointGrid.key(p, cell: cell)
        var best: (Int, Double)?
        for dx in -1...1 {
            for dy in -1...1 {
                for i in cells[k &+ SIMD2(Int64(dx), Int64(dy))] ?? [] {
                    let d = RecordBuilder.planarDistance(positions[i], p)
                    if d <= cell, best.map({ d < $0.1 }) ?? true { best = (i, d) }
                }
            }
        }
        if let best { return names[best.0] }
        let n = PointNumber("~N\(names.count + 1)")
        cells[k, default: []].append(positions.count)
        positions.append(p)
        names.append(n)
        return n
    }
}

/// A record location in 8 bytes, without its field: file and unit packed in one word (see
/// `_FileNames`), the record index in 32 bits.
struct _CompactLocation {
    /// File number × 4 + unit.
    var fileAndUnit: UInt32
    /// The record index when it is in 0…Int32.max; -1 for none; -2 - k for entry k of the
    /// `_FileNames` side list (an index outside that range, e.g. a large GeoPackage fid).
    var index: Int32
}

/// The file names (and the rare large record indexes) of `_CompactLocation`s: an import reads
/// a handful of files.
struct _FileNames {
    private var names: [String] = []
    private var largeIndexes: [Int] = []
    private static let units: [RecordLocation.Unit] = [.line, .feature, .fid]

    /// `location` without its field, compacted.
    mutating func compact(_ location: RecordLocation) -> _CompactLocation {
        let f: Int
        if let last = names.indices.last, names[last] == location.file { f = last } else if let k = names.firstIndex(of: location.file) {
            f = k
        } else {
            names.append(location.file)
            f = names.count - 1
        }
        let unit = UInt32(Self.units.firstIndex(of: location.unit)!)
        let index: Int32
        switch location.index {
        case nil: index = -1
        case let i? where i >= 0 && i <= Int(Int32.max): index = Int32(i)
        case let i?:
            largeIndexes.append(i)
            index = -1 - Int32(largeIndexes.count)
        }
        return _CompactLocation(fileAndUnit: UInt32(f) << 2 | unit, index: index)
    }

    func location(_ c: _CompactLocation) -> RecordLocation {
        let index: Int? = c.index >= 0 ? Int(c.index) : c.index == -1 ? nil : largeIndexes[Int(-2 - c.index)]
        return RecordLocation(file: names[Int(c.fileAndUnit >> 2)], unit: Self.units[Int(c.fileAndUnit & 3)], index: index)
    }
}

/// The streamed import's cross-record state, on compact keys (see `RecordBuilder.crossCheck`):
/// about 30 bytes per kept segment and 13 per point number, against the whole records the
/// kept-records check holds.
struct _CrossRecordKeys {
    /// Ordinals (past the points) of the point numbers that no point record has.
    var extra: [PointNumber: Int32] = [:]
    /// The first kept segment joining each (start, end) ordinal pair.
    var firstByEnds: [UInt64: Int32] = [:]
    /// By point ordinal: the first depth seen there, on which kept segment (-1: none yet) and
    /// at which of its ends.
    var depthFirst: [Double] = []
    var depthSegment: [Int32] = []
    var depthAtEnd: [Bool] = []
    /// Each kept segment's id and record, by kept index.
    var ids: [Int64] = []
    var records: [_CompactLocation] = []

    static func pair(_ a: Int, _ b: Int) -> UInt64 { UInt64(UInt32(truncatingIfNeeded: a)) << 32 | UInt64(UInt32(truncatingIfNeeded: b)) }

    mutating func growDepths(to n: Int) {
        guard depthSegment.count < n else { return }
        let more = max(n - depthSegment.count, depthSegment.count / 2)
        depthFirst.append(contentsOf: repeatElement(.nan, count: more))
        depthSegment.append(contentsOf: repeatElement(-1, count: more))
        depthAtEnd.append(contentsOf: repeatElement(false, count: more))
    }
}

/// Where a streamed import's rows go (a store's write transaction). Writes never throw here:
/// the first failure is kept in `failure`, later writes are skipped, and the import throws it
/// when the builder is done.
final class _RowSink {
    private let writer: GeoPackageStore.RowWriter
    private(set) var failure: (any Error)?

    init(_ writer: GeoPackageStore.RowWriter) { self.writer = writer }

    func write(_ p: FeaturePoint) {
        guard failure == nil else { return }
        do { try writer.write(p) } catch { failure = error }
    }

    func write(_ s: PipeSegment) {
        guard failure == nil else { return }
        do { try writer.write(s) } catch { failure = error }
    }

    /// The written segment `id`, read back (nil after a failure).
    func segment(id: Int64) -> PipeSegment? {
        guard failure == nil else { return nil }
        do { return try writer.segment(id: id) } catch {
            failure = error
            return nil
        }
    }

    func mark() { guard failure == nil else { return }; do { try writer.mark() } catch { failure = error } }
    func rollBackToMark() { guard failure == nil else { return }; do { try writer.rollBackToMark() } catch { failure = error } }
    func releaseMark() { guard failure == nil else { return }; do { try writer.releaseMark() } catch { failure = error } }
}
