import SubterraGeometry
import SubterraModel

/// A contiguous run of segment rows, column by column, immutable once built.
///
/// No row is kept as a `PipeSegment`: a record is a dozen strings, an array of points and many
/// optionals, about a kilobyte of heap per pipe once its objects are counted. Here a row is a
/// few fixed-width cells in flat arrays:
/// - **ids**: `ids` (the segment id), `feature` (the feature key, ``PipeSegment/featureID``),
///   `parts` (the part number);
/// - **geometry**: every row's vertices back to back in `vertices`, row `l` ending at
///   `vertexEnd[l]` (and starting where row `l - 1` ends);
/// - **the attributes few rows differ in** (layer, sub-type, material, burial, status, owner,
///   source file, section, accuracy, counts, pressure, voltage, kind): each distinct combination
///   once in `kinds`, with a 4-byte code per row in `kindCode`, and what the queries read of it
///   (rule profile, outer width and height, accuracy) beside it, per kind;
/// - **texts that vary by row** (point numbers, road, laying date, source id): dictionary-coded,
///   each distinct text once as UTF-8 in a `_TextDictionary`, a 4-byte code per row;
/// - **numbers**: the depths the row was written with (`depth0`, `depth1`: NaN when unknown)
///   and the record's surveyed depths, elevations and nominal depth, with a presence bit each
///   in `flags` (a missing value is a bit, so every `Double`, NaN included, comes back as it was).
///
/// `record(_:)` rebuilds a row's `PipeSegment` (equal, `==`, to the one written), O(vertices):
/// for the few rows an answer shows. Hot paths read the columns (`width(_:)`, `kindOf(_:)`,
/// `verticesOf(_:)`...). Rows are local (0-based) here; `_Snapshot.locate` maps a global row
/// number to a table and local row.
final class _Table: Sendable {
    /// Segment id of each row.
    let ids: [Int64]
    /// Feature key of each row (`PipeSegment.featureID`): equal for the parts of one pipe.
    let feature: [Int64]
    /// Part number of each row (`PipeSegment.part`, when its presence bit is set); `Int32.min`:
    /// too big for 32 bits, in `wideParts`.
    let parts: [Int32]
    /// Part numbers past `Int32`, by row (a record may state any part ≥ 1; none seen so far).
    let wideParts: [Int: Int]
    /// Presence bits per row (see `_RowFlags`).
    let flags: [UInt8]
    /// Where each row's vertices end in `vertices`.
    let vertexEnd: [UInt32]
    /// Every row's plan vertices, row after row.
    let vertices: [Point]
    /// Start and end point numbers, as codes into `pointNumbers`.
    let startPoint: [UInt32]
    let endPoint: [UInt32]
    let pointNumbers: _TextDictionary
    /// Road, laying date and source id, as codes into their dictionaries (`_TextDictionary.none`: nil).
    let road: [UInt32]
    let roads: _TextDictionary
    let layingDate: [UInt32]
    let layingDates: _TextDictionary
    let sourceID: [UInt32]
    let sourceIDs: _TextDictionary
    /// Each row's attribute combination, as an index into `kinds`.
    let kindCode: [UInt32]
    /// The distinct attribute combinations, and per combination its rule profile, outer width
    /// (0 without a section), outer height (NaN without one) and horizontal accuracy (0 when
    /// not stated).
    let kinds: [_RowKind]
    let kindProfiles: [PipeProfile]
    let kindWidth: [Double]
    let kindHeight: [Double]
    let kindAccuracy: [Double]
    /// Depth of the pipe top at the start and end (NaN when not surveyed) when the row was
    /// written; a later edit of an end point's ground height goes to `_Snapshot.depthOverride`.
    let depth0: [Double]
    let depth1: [Double]
    /// The record's surveyed depths, elevations and nominal depth (each valid when its bit in
    /// `flags` is set).
    let startDepth: [Double]
    let endDepth: [Double]
    let startElevation: [Double]
    let endElevation: [Double]
    let nominalDepth: [Double]
    /// Whether any row is a part of a multi-part feature; when none is, every row is its own
    /// feature and queries skip the per-feature merging.
    let multiPart: Bool
    /// Whether any row is a cable bed, sleeve or casing (``FeatureKind/isEnclosure``); when
    /// none is, queries do no enclosure grouping at all.
    let enclosures: Bool

    /// O(rows × vertices); one hash look-up per row for its attribute combination and one per text.
    convenience init(rows: [_Row]) {
        var b = _TableBuilder(capacity: rows.count, vertices: rows.reduce(0) { $0 + $1.segment.geometry.points.count })
        for row in rows { b.append(row) }
        self.init(b)
    }

    /// Every column of the rows of `segmentParts` (in order) but their depths, which need the
    /// point table: for a build that works them out beside this one and then makes the table
    /// with ``init(_:depth0:depth1:)``. O(rows × vertices), as `init(rows:)`.
    static func columns(of segmentParts: [[PipeSegment]]) -> _TableColumns {
        let n = segmentParts.reduce(0) { $0 + $1.count }
        let v = segmentParts.reduce(0) { total, part in part.reduce(total) { $0 + $1.geometry.points.count } }
        var b = _TableBuilder(capacity: n, vertices: v)
        for part in segmentParts {
            for s in part { b.append(s, depth0: .nan, depth1: .nan) }
        }
        return _TableColumns(builder: b)
    }

    /// The table of `columns` with these depths of each row's top at its start and end (NaN
    /// where none can be told), one per row in row order. O(1) beyond the two columns.
    convenience init(_ columns: _TableColumns, depth0: [Double], depth1: [Double]) {
        var b = columns.builder
        precondition(depth0.count == b.ids.count && depth1.count == b.ids.count, "a depth column of another length than the rows")
        b.depth0 = depth0
        b.depth1 = depth1
        self.init(b)
    }

    /// The rows of `tables` one after another, unchanged (row numbers continue across them).
    /// O(rows): numeric columns are bulk copies; the dictionaries are merged (O(distinct values))
    /// and the codes mapped to the merged ones.
    convenience init(concatenating tables: [_Table]) {
        var b = _TableBuilder(capacity: tables.reduce(0) { $0 + $1.count }, vertices: tables.reduce(0) { $0 + $1.vertices.count })
        for t in tables { b.append(table: t) }
        self.init(b)
    }

    private init(_ b: _TableBuilder) {
        ids = b.ids
        feature = b.feature
        parts = b.parts
        wideParts = b.wideParts
        flags = b.flags
        vertexEnd = b.vertexEnd
        vertices = b.vertices
        startPoint = b.startPoint
        endPoint = b.endPoint
        pointNumbers = b.pointNumbers.dictionary
        road = b.road
        roads = b.roads.dictionary
        layingDate = b.layingDate
        layingDates = b.layingDates.dictionary
        sourceID = b.sourceID
        sourceIDs = b.sourceIDs.dictionary
        kindCode = b.kindCode
        kinds = b.kinds
        kindProfiles = b.kinds.map { PipeProfile($0.sample) }
        kindWidth = b.kinds.map { $0.section?.outerWidthM ?? 0 }
        kindHeight = b.kinds.map { $0.section?.outerHeightM ?? .nan }
        kindAccuracy = b.kinds.map { $0.accuracy?.horizontalM ?? 0 }
        depth0 = b.depth0
        depth1 = b.depth1
        startDepth = b.startDepth
        endDepth = b.endDepth
        startElevation = b.startElevation
        endElevation = b.endElevation
        nominalDepth = b.nominalDepth
        multiPart = b.multiPart
        enclosures = b.kinds.contains { $0.featureKind.isEnclosure }
    }

    var count: Int { ids.count }

    /// Row `l`'s attribute combination's index in `kinds`. O(1).
    @inline(__always) func kindIndex(_ l: Int) -> Int { Int(kindCode[l]) }
    /// Row `l`'s attribute combination (copied: read it in place through `kinds` on hot paths). O(1).
    @inline(__always) func kindOf(_ l: Int) -> _RowKind { kinds[kindIndex(l)] }
    @inline(__always) func profile(_ l: Int) -> PipeProfile { kindProfiles[kindIndex(l)] }
    /// Outer width in metres (0 when no section was surveyed). O(1).
    @inline(__always) func width(_ l: Int) -> Double { kindWidth[kindIndex(l)] }
    /// Outer height in metres (NaN when no section was surveyed). O(1).
    @inline(__always) func height(_ l: Int) -> Double { kindHeight[kindIndex(l)] }
    /// Horizontal positional accuracy in metres (0 when not stated). O(1).
    @inline(__always) func accuracy(_ l: Int) -> Double { kindAccuracy[kindIndex(l)] }
    /// The stated horizontal accuracy (nil: not stated). O(1).
    @inline(__always) func statedAccuracy(_ l: Int) -> Double? {
        kinds.withUnsafeBufferPointer { $0[kindIndex(l)].accuracy?.horizontalM }
    }
    @inline(__always) func has(_ l: Int, _ f: _RowFlags) -> Bool { flags[l] & f.rawValue != 0 }
    /// The record's nominal depth. O(1).
    @inline(__always) func nominalDepthOf(_ l: Int) -> Double? { has(l, .nominalDepth) ? nominalDepth[l] : nil }
    /// The record's `feature` (nil for a single-part feature). O(1).
    @inline(__always) func featureOf(_ l: Int) -> Int64? { has(l, .feature) ? feature[l] : nil }
    /// The record's source id. O(length).
    func sourceIDOf(_ l: Int) -> String? { sourceIDs.text(sourceID[l]) }

    /// The vertices of row `l`, in place (a slice of the table's vertex array: nothing copied). O(1).
    @inline(__always) func verticesOf(_ l: Int) -> ArraySlice<Point> {
        vertices[(l == 0 ? 0 : Int(vertexEnd[l - 1]))..<Int(vertexEnd[l])]
    }

    /// Top elevation at the start and end, as the record gives them
    /// (`PipeSegment.topElevation(atParameter:)` at 0 and 1); nil when not surveyed. O(1).
    func topElevations(_ l: Int) -> (Double, Double)? {
        guard has(l, .startElevation), has(l, .endElevation) else { return nil }
        var e0 = startElevation[l], e1 = endElevation[l]
        if kinds.withUnsafeBufferPointer({ $0[kindIndex(l)].elevationReference }) == .bottom {
            let h = height(l)
            guard !h.isNaN else { return nil }
            e0 += h
            e1 += h
        }
        // As `PipeSegment.topElevation(atParameter:)` interpolates at 0 and 1.
        return (e0 + (e1 - e0) * 0, e0 + (e1 - e0) * 1)
    }

    /// Row `l`'s record, rebuilt from the columns: equal (`==`) to the record written.
    /// O(vertices + texts).
    func record(_ l: Int) -> PipeSegment {
        let k = kindOf(l)
        let geometry: LineString
        do { geometry = try LineString(Array(verticesOf(l))) } catch {
            preconditionFailure("SubterraEngine invariant broken: row \(l)'s stored vertices: \(error)")
        }
        let part: Int? = has(l, .part) ? (parts[l] == Int32.min ? wideParts[l] : Int(parts[l])) : nil
        return PipeSegment(
            id: ids[l], layer: k.layer, subtype: k.subtype,
            startPoint: PointNumber(rawValue: pointNumbers.text(startPoint[l]) ?? ""),
            endPoint: PointNumber(rawValue: pointNumbers.text(endPoint[l]) ?? ""), geometry: geometry,
            startDepth: has(l, .startDepth) ? startDepth[l] : nil, endDepth: has(l, .endDepth) ? endDepth[l] : nil,
            startElevation: has(l, .startElevation) ? startElevation[l] : nil,
            endElevation: has(l, .endElevation) ? endElevation[l] : nil, elevationReference: k.elevationReference,
            section: k.section, ductHoles: k.ductHoles, ductHolesOccupied: k.ductHolesOccupied, cableCount: k.cableCount,
            material: k.material, burial: k.burial, gasPressureMPa: k.gasPressureMPa, voltageKV: k.voltageKV,
            owner: k.owner, road: roads.text(road[l]), layingDate: layingDates.text(layingDate[l]), status: k.status,
            accuracy: k.accuracy, sourceID: sourceIDOf(l), feature: featureOf(l), part: part,
            nominalDepth: nominalDepthOf(l), featureKind: k.featureKind, accuracyAssumed: k.accuracyAssumed,
            sourceFile: k.sourceFile)
    }

    /// Row `l` back as the input it was built from.
    func row(_ l: Int) -> _Row { _Row(segment: record(l), depth0: depth0[l], depth1: depth1[l]) }
}

/// Which optional numbers a row has (`_Table.flags`).
struct _RowFlags: OptionSet, Sendable {
    let rawValue: UInt8
    static let startDepth = _RowFlags(rawValue: 1 << 0)
    static let endDepth = _RowFlags(rawValue: 1 << 1)
    static let startElevation = _RowFlags(rawValue: 1 << 2)
    static let endElevation = _RowFlags(rawValue: 1 << 3)
    static let nominalDepth = _RowFlags(rawValue: 1 << 4)
    static let feature = _RowFlags(rawValue: 1 << 5)
    static let part = _RowFlags(rawValue: 1 << 6)
}

/// The attributes of a segment that few segments differ in: a map has a few hundred distinct
/// combinations (layers × owners × materials × sections...), kept once per table.
struct _RowKind: _CodedCombination {
    var layer: LayerCode
    var subtype: SubtypeCode?
    var elevationReference: ElevationReference
    var section: PipeSection?
    var ductHoles: Int?
    var ductHolesOccupied: Int?
    var cableCount: Int?
    var material: Material?
    var burial: BurialMethod?
    var gasPressureMPa: Double?
    var voltageKV: Double?
    var owner: String?
    var status: RecordStatus?
    var accuracy: PositionalAccuracy?
    var featureKind: FeatureKind
    var accuracyAssumed: Bool
    var sourceFile: String?

    init(_ s: PipeSegment) {
        layer = s.layer
        subtype = s.subtype
        elevationReference = s.elevationReference
        section = s.section
        ductHoles = s.ductHoles
        ductHolesOccupied = s.ductHolesOccupied
        cableCount = s.cableCount
        material = s.material
        burial = s.burial
        gasPressureMPa = s.gasPressureMPa
        voltageKV = s.voltageKV
        owner = s.owner
        status = s.status
        accuracy = s.accuracy
        featureKind = s.featureKind
        accuracyAssumed = s.accuracyAssumed
        sourceFile = s.sourceFile
    }

    /// Whether `other` is this combination with every text spelt in the same bytes (`==`
    /// compares texts up to Unicode canonical equivalence).
    func isIdentical(to other: _RowKind) -> Bool {
        let same = _sameBytes(_:_:) as (String?, String?) -> Bool
        return self == other && same(layer.rawValue, other.layer.rawValue) && same(subtype?.rawValue, other.subtype?.rawValue)
            && same(material?.rawValue, other.material?.rawValue) && same(burial?.rawValue, other.burial?.rawValue)
            && same(status?.rawValue, other.status?.rawValue) && same(owner, other.owner) && same(sourceFile, other.sourceFile)
    }

    /// A segment with these attributes (and placeholder ids and geometry), for what is derived
    /// from them alone (the rule profile).
    var sample: PipeSegment {
        // Two distinct finite points: a valid line string.
        let line: LineString
        do { line = try LineString([Point(0, 0), Point(1, 0)]) } catch { preconditionFailure("\(error)") }
        return PipeSegment(
            id: 0, layer: layer, subtype: subtype, startPoint: "", endPoint: "", geometry: line,
            elevationReference: elevationReference, section: section, ductHoles: ductHoles,
            ductHolesOccupied: ductHolesOccupied, cableCount: cableCount, material: material, burial: burial,
            gasPressureMPa: gasPressureMPa, voltageKV: voltageKV, owner: owner, status: status, accuracy: accuracy,
            featureKind: featureKind, accuracyAssumed: accuracyAssumed, sourceFile: sourceFile)
    }
}

/// Distinct texts, their UTF-8 back to back in one buffer: text `i` is
/// `bytes[ends[i - 1] ..< ends[i]]` (from 0 for the first). Two arrays per dictionary, however
/// many texts: no per-text object.
struct _TextDictionary: Sendable {
    /// The code of a missing text.
    static let none = UInt32.max
    private(set) var bytes: [UInt8] = []
    private(set) var ends: [UInt32] = []

    var count: Int { ends.count }

    /// Text `code`; nil for `none`. O(length).
    func text(_ code: UInt32) -> String? {
        guard code != Self.none else { return nil }
        let i = Int(code)
        let a = i == 0 ? 0 : Int(ends[i - 1]), b = Int(ends[i])
        return bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[a..<b]), as: UTF8.self) }
    }

    /// Whether text `code` is `s` byte for byte. O(length).
    func spells(_ code: UInt32, _ s: String) -> Bool {
        let i = Int(code)
        let a = i == 0 ? 0 : Int(ends[i - 1]), b = Int(ends[i])
        var s = s
        return bytes.withUnsafeBufferPointer { all in
            s.withUTF8 { UnsafeBufferPointer(rebasing: all[a..<b]).elementsEqual($0) }
        }
    }

    /// Appends `s`, returning its code. O(length).
    mutating func append(_ s: String) -> UInt32 {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
        precondition(bytes.count < Int(UInt32.max) && ends.count < Int(UInt32.max) - 1,
                     "a row table's texts passed 4 GiB or 2^32 distinct values")
        ends.append(UInt32(bytes.count))
        return UInt32(ends.count - 1)
    }
}

/// Builds a `_TextDictionary`, coding equal texts alike. The look-up table lives only while
/// the table is built.
struct _TextCoder {
    var dictionary = _TextDictionary()
    private var codeOf: [String: UInt32] = [:]
    /// Further codes of texts equal to a key of `codeOf` but spelt in other bytes.
    private var variants: [String: [UInt32]] = [:]

    /// Room for `n` distinct texts without rehashing.
    mutating func reserveCapacity(_ n: Int) { codeOf.reserveCapacity(n) }

    /// The code of `s` (`_TextDictionary.none` for nil), adding it when new. O(length) expected.
    mutating func code(_ s: String?) -> UInt32 {
        guard let s else { return _TextDictionary.none }
        let known = codeOf[s]
        if let known, dictionary.spells(known, s) { return known }
        // Equal but spelt with other bytes (another Unicode normalisation, rare): a text of its
        // own, so every record comes back byte for byte.
        if known != nil, let v = variants[s]?.first(where: { dictionary.spells($0, s) }) { return v }
        let c = dictionary.append(s)
        if known == nil { codeOf[s] = c } else { variants[s, default: []].append(c) }
        return c
    }

    /// Codes here for every code of `other` (by index), for re-coding a column of another table.
    /// O(distinct texts of `other`).
    mutating func codes(for other: _TextDictionary) -> [UInt32] {
        (0..<other.count).map { code(other.text(UInt32($0))) }
    }
}

/// A `_Table`'s columns without their depths (`_Table.columns(of:)`).
struct _TableColumns {
    fileprivate var builder: _TableBuilder
}

/// The columns of a `_Table` being built.
private struct _TableBuilder {
    var ids: [Int64] = [], feature: [Int64] = [], parts: [Int32] = [], wideParts: [Int: Int] = [:]
    var flags: [UInt8] = [], vertexEnd: [UInt32] = [], vertices: [Point] = []
    var startPoint: [UInt32] = [], endPoint: [UInt32] = [], pointNumbers = _TextCoder()
    var road: [UInt32] = [], roads = _TextCoder()
    var layingDate: [UInt32] = [], layingDates = _TextCoder()
    var sourceID: [UInt32] = [], sourceIDs = _TextCoder()
    var kindCode: [UInt32] = [], kindCoder = _CombinationCoder<_RowKind>()
    var kinds: [_RowKind] { kindCoder.combinations }
    var depth0: [Double] = [], depth1: [Double] = []
    var startDepth: [Double] = [], endDepth: [Double] = [], startElevation: [Double] = [], endElevation: [Double] = []
    var nominalDepth: [Double] = []
    var multiPart = false

    /// Columns with room for `n` rows of `v` vertices in all, and a point-number dictionary
    /// for about `n` numbers (few rows share no end with another).
    init(capacity n: Int, vertices v: Int) {
        ids.reserveCapacity(n); feature.reserveCapacity(n); parts.reserveCapacity(n); flags.reserveCapacity(n)
        vertexEnd.reserveCapacity(n); vertices.reserveCapacity(v)
        pointNumbers.reserveCapacity(n)
        startPoint.reserveCapacity(n); endPoint.reserveCapacity(n)
        road.reserveCapacity(n); layingDate.reserveCapacity(n); sourceID.reserveCapacity(n); kindCode.reserveCapacity(n)
        depth0.reserveCapacity(n); depth1.reserveCapacity(n); startDepth.reserveCapacity(n); endDepth.reserveCapacity(n)
        startElevation.reserveCapacity(n); endElevation.reserveCapacity(n); nominalDepth.reserveCapacity(n)
    }

    mutating func kind(_ k: _RowKind) -> UInt32 { kindCoder.code(k, last: kindCode.last) }

    mutating func append(_ row: _Row) { append(row.segment, depth0: row.depth0, depth1: row.depth1) }

    mutating func append(_ s: PipeSegment, depth0 d0: Double, depth1 d1: Double) {
        var f: _RowFlags = []
        func value(_ v: Double?, _ bit: _RowFlags) -> Double {
            guard let v else { return .nan }
            f.insert(bit)
            return v
        }
        ids.append(s.id)
        feature.append(s.featureID)
        if s.feature != nil { f.insert(.feature); multiPart = true }
        if let p = s.part {
            f.insert(.part)
            if let small = Int32(exactly: p), small != Int32.min {
                parts.append(small)
            } else {
                parts.append(Int32.min)
                wideParts[ids.count - 1] = p
            }
        } else {
            parts.append(0)
        }
        vertices += s.geometry.points
        precondition(vertices.count < Int(UInt32.max), "a row table passed 2^32 vertices")
        vertexEnd.append(UInt32(vertices.count))
        startPoint.append(pointNumbers.code(s.startPoint.rawValue))
        endPoint.append(pointNumbers.code(s.endPoint.rawValue))
        road.append(roads.code(s.road))
        layingDate.append(layingDates.code(s.layingDate))
        sourceID.append(sourceIDs.code(s.sourceID))
        kindCode.append(kind(_RowKind(s)))
        depth0.append(d0)
        depth1.append(d1)
        startDepth.append(value(s.startDepth, .startDepth))
        endDepth.append(value(s.endDepth, .endDepth))
        startElevation.append(value(s.startElevation, .startElevation))
        endElevation.append(value(s.endElevation, .endElevation))
        nominalDepth.append(value(s.nominalDepth, .nominalDepth))
        flags.append(f.rawValue)
    }

    /// Appends every row of `t`, re-coding its texts and attribute combinations here.
    mutating func append(table t: _Table) {
        let base = ids.count
        ids += t.ids
        feature += t.feature
        parts += t.parts
        for (l, p) in t.wideParts { wideParts[base + l] = p }
        flags += t.flags
        let shift = UInt32(vertices.count)
        vertices += t.vertices
        precondition(vertices.count < Int(UInt32.max), "a row table passed 2^32 vertices")
        vertexEnd += t.vertexEnd.lazy.map { $0 + shift }
        func recode(_ codes: [UInt32], _ map: [UInt32], into out: inout [UInt32]) {
            out += codes.lazy.map { $0 == _TextDictionary.none ? $0 : map[Int($0)] }
        }
        let points = pointNumbers.codes(for: t.pointNumbers)
        recode(t.startPoint, points, into: &startPoint)
        recode(t.endPoint, points, into: &endPoint)
        let roadMap = roads.codes(for: t.roads)
        recode(t.road, roadMap, into: &road)
        let dateMap = layingDates.codes(for: t.layingDates)
        recode(t.layingDate, dateMap, into: &layingDate)
        let sourceMap = sourceIDs.codes(for: t.sourceIDs)
        recode(t.sourceID, sourceMap, into: &sourceID)
        var kindMap: [UInt32] = []
        for k in t.kinds { kindMap.append(kind(k)) }
        recode(t.kindCode, kindMap, into: &kindCode)
        depth0 += t.depth0
        depth1 += t.depth1
        startDepth += t.startDepth
        endDepth += t.endDepth
        startElevation += t.startElevation
        endElevation += t.endElevation
        nominalDepth += t.nominalDepth
        multiPart = multiPart || t.multiPart
    }
}

/// Attributes kept once per distinct combination (`_RowKind`, `_PointKind`).
protocol _CodedCombination: Hashable, Sendable {
    /// Whether `other` is this combination with every text spelt in the same bytes (`==`
    /// compares texts up to Unicode canonical equivalence).
    func isIdentical(to other: Self) -> Bool
}

/// Codes distinct attribute combinations 0, 1, 2... as a table is built, byte for byte: a
/// combination equal to a known one but spelt in other bytes (another Unicode normalisation,
/// rare) gets a code of its own, so every record comes back as written. The look-up tables
/// live only while the table is built.
struct _CombinationCoder<K: _CodedCombination> {
    private(set) var combinations: [K] = []
    private var codeOf: [K: UInt32] = [:]
    private var variants: [K: [UInt32]] = [:]

    /// The code of `k`, adding it when new; `last` (the previous record's code) is compared
    /// first, not hashed: neighbouring records mostly share their combination. O(1) expected.
    mutating func code(_ k: K, last: UInt32?) -> UInt32 {
        if let last, combinations[Int(last)].isIdentical(to: k) { return last }
        let known = codeOf[k]
        if let known, combinations[Int(known)].isIdentical(to: k) { return known }
        if known != nil, let v = variants[k]?.first(where: { combinations[Int($0)].isIdentical(to: k) }) { return v }
        precondition(combinations.count < Int(UInt32.max), "a table passed 2^32 attribute combinations")
        let c = UInt32(combinations.count)
        combinations.append(k)
        if known == nil { codeOf[k] = c } else { variants[k, default: []].append(c) }
        return c
    }
}

/// Whether `a` and `b` are both nil or spelt in the same UTF-8 bytes. O(length).
@inline(__always)
func _sameBytes(_ a: String?, _ b: String?) -> Bool {
    guard let a, let b else { return a == nil && b == nil }
    return _sameBytes(a, b)
}

/// Whether `a` and `b` are spelt in the same UTF-8 bytes (`==` on `String` is canonical
/// equivalence). O(length), O(1) for texts of different lengths.
@inline(__always)
func _sameBytes(_ a: String, _ b: String) -> Bool {
    var a = a, b = b
    return a.withUTF8 { x in b.withUTF8 { y in x.count == y.count && x.elementsEqual(y) } }
}
