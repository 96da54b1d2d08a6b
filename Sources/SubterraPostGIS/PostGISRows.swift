import Foundation
import PostgresNIO
import SubterraGeometry
import SubterraModel

/// One column value of a row the store writes: bound as a parameter, or written as `COPY` text.
enum Cell: Sendable {
    case null
    case text(String)
    case int(Int64)
    case double(Double)

    init(_ v: String?) { self = v.map(Cell.text) ?? .null }
    init(_ v: Double?) { self = v.map(Cell.double) ?? .null }
    init(_ v: Int?) { self = v.map { .int(Int64($0)) } ?? .null }

    /// `COPY … (FORMAT text)` form: `\N` for NULL; backslash, tab, newline and carriage return
    /// escaped. Doubles print as Swift's shortest round-trip form, which `float8in` reads back
    /// to the same bits.
    func appendCopyText(to out: inout String) {
        switch self {
        case .null: out += "\\N"
        case .int(let v): out += String(v)
        case .double(let v): out += v.isFinite ? "\(v)" : (v.isNaN ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"))
        case .text(let s):
            if !s.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) { out += s; return }
            for ch in s {
                switch ch {
                case "\\": out += "\\\\"
                case "\t": out += "\\t"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                default: out.append(ch)
                }
            }
        }
    }

    func bind(_ b: inout PostgresBindings) {
        switch self {
        case .null: b.appendNull()
        case .text(let s): b.append(s)
        case .int(let v): b.append(v)
        case .double(let v): b.append(v)
        }
    }
}

/// The attribute values of records in ``PostGISSchema``'s column order, and records from rows.
enum PostGISRows {
    /// `s`'s values for ``PostGISSchema/segmentColumns`` (the GeoPackage store's order).
    static func segmentCells(_ s: PipeSegment) -> [Cell] {
        var diameter: Double?, width: Double?, height: Double?
        switch s.section {
        case .circular(let d)?: diameter = d
        case .rectangular(let w, let h)?: width = w; height = h
        case nil: break
        }
        return [
            .text(s.layer.rawValue), Cell(s.subtype?.rawValue), .text(s.startPoint.rawValue), .text(s.endPoint.rawValue),
            Cell(s.startDepth), Cell(s.endDepth), Cell(s.startElevation), Cell(s.endElevation),
            .text(s.elevationReference.rawValue), Cell(diameter), Cell(width), Cell(height), Cell(s.ductHoles),
            Cell(s.ductHolesOccupied), Cell(s.cableCount), Cell(s.material?.rawValue), Cell(s.burial?.rawValue),
            Cell(s.gasPressureMPa), Cell(s.voltageKV), Cell(s.owner), Cell(s.road), Cell(s.layingDate),
            Cell(s.status?.rawValue), Cell(s.accuracy?.horizontalM), Cell(s.accuracy?.verticalM),
            Cell(s.accuracy?.qualityLevel?.rawValue), Cell(s.sourceID), s.feature.map(Cell.int) ?? .null, Cell(s.part),
            Cell(s.nominalDepth), Cell(s.featureKind == .utilityLine ? nil : s.featureKind.rawValue),
            s.accuracyAssumed ? .int(1) : .null, Cell(s.sourceFile),
        ]
    }

    /// `p`'s values for ``PostGISSchema/pointColumns`` (`number` first).
    static func pointCells(_ p: FeaturePoint) -> [Cell] {
        [
            .text(p.number.rawValue), .text(p.layer.rawValue), .text(p.category.rawValue), .text(p.kind.rawValue),
            Cell(p.groundElevation), Cell(p.depth), Cell(p.owner), Cell(p.road), Cell(p.status?.rawValue),
            Cell(p.valveStatus?.rawValue), Cell(p.connection?.category.rawValue), Cell(p.connection?.count),
        ]
    }

    /// `a`'s values for ``PostGISSchema/areaColumns``.
    static func areaCells(_ a: OperatorArea) -> [Cell] {
        [
            .text(a.kind.rawValue), .text(a.owner), Cell(a.layers.isEmpty ? nil : a.layers.map(\.rawValue).joined(separator: ",")),
            Cell(a.note), Cell(a.sourceID), Cell(a.sourceFile),
        ]
    }

    /// Reads the columns of one row by position, naming the record and field of a bad value.
    struct Reader {
        let row: PostgresRandomAccessRow
        let bad: (String, String) -> StoreError
        /// Index of the first attribute column (after id/fid, version, geom).
        let base: Int

        func cell(_ i: Int) -> PostgresCell { row[base + i] }
        func text(_ i: Int) throws(StoreError) -> String? {
            do { return try cell(i).decode(String?.self) } catch { throw bad(cell(i).columnName, "not text: \(error)") }
        }
        func double(_ i: Int) throws(StoreError) -> Double? {
            do { return try cell(i).decode(Double?.self) } catch { throw bad(cell(i).columnName, "not a number: \(error)") }
        }
        func int(_ i: Int) throws(StoreError) -> Int64? {
            do { return try cell(i).decode(Int64?.self) } catch { throw bad(cell(i).columnName, "not an integer: \(error)") }
        }
    }

    /// The geometry in column `index` (EWKB bytes), in `srid`.
    static func geometry(_ row: PostgresRandomAccessRow, _ index: Int, srid: Int32, bad: (String, String) -> StoreError)
        throws(StoreError) -> Geometry
    {
        let buffer: ByteBuffer?
        do { buffer = try row[index].decode(ByteBuffer?.self) } catch { throw bad("geom", "not EWKB: \(error)") }
        guard let buffer else { throw bad("geom", "geometry is NULL") }
        do { return try EWKB.decode(Array(buffer.readableBytesView), srid: srid) } catch { throw bad("geom", "\(error)") }
    }

    /// A segment from a row `id, version, ST_AsEWKB(geom), <segmentColumns>`.
    static func segment(_ row: PostgresRandomAccessRow, srid: Int32, path: String) throws(StoreError) -> (PipeSegment, Int64) {
        let id: Int64, version: Int64
        do { (id, version) = (try row[0].decode(Int64.self), try row[1].decode(Int64.self)) } catch {
            throw StoreError("unreadable id or version: \(error)", path: path, table: PostGISSchema.segmentTable)
        }
        let bad = { (field: String, why: String) in
            StoreError(why, path: path, table: PostGISSchema.segmentTable, record: "id \(id)", field: field)
        }
        guard case .lineString(let line) = try geometry(row, 2, srid: srid, bad: bad) else {
            throw bad("geom", "geometry is not a non-empty LINESTRING")
        }
        let r = Reader(row: row, bad: bad, base: 3)
        guard let layer = try r.text(0), let start = try r.text(2), let end = try r.text(3) else {
            throw bad("layer/start_point/end_point", "required value is NULL")
        }
        let refText = try r.text(8) ?? "top"
        let ref = ElevationReference(rawValue: refText) ?? .top
        var section: PipeSection?
        if let d = try r.double(9) {
            section = .circular(diameterMM: d)
        } else if let w = try r.double(10), let h = try r.double(11) {
            section = .rectangular(widthMM: w, heightMM: h)
        }
        var accuracy: PositionalAccuracy?
        if let h = try r.double(23) {
            accuracy = PositionalAccuracy(
                horizontalM: h, verticalM: try r.double(24), qualityLevel: try r.text(25).flatMap(QualityLevel.init))
        }
        var kind = FeatureKind.utilityLine
        if let k = try r.text(30) {
            guard let known = FeatureKind(rawValue: k) else { throw bad("feature_kind", "'\(k)' is not a feature kind") }
            kind = known
        }
        let assumed = try r.int(31) ?? 0
        let segment = PipeSegment(
            id: id, layer: LayerCode(layer), subtype: try r.text(1).map(SubtypeCode.init),
            startPoint: PointNumber(start), endPoint: PointNumber(end), geometry: line,
            startDepth: try r.double(4), endDepth: try r.double(5), startElevation: try r.double(6),
            endElevation: try r.double(7), elevationReference: ref, section: section,
            ductHoles: try r.int(12).map { Int($0) }, ductHolesOccupied: try r.int(13).map { Int($0) },
            cableCount: try r.int(14).map { Int($0) }, material: try r.text(15).map(Material.init),
            burial: try r.text(16).map(BurialMethod.init), gasPressureMPa: try r.double(17), voltageKV: try r.double(18),
            owner: try r.text(19), road: try r.text(20), layingDate: try r.text(21),
            status: try r.text(22).map(RecordStatus.init), accuracy: accuracy, sourceID: try r.text(26),
            feature: try r.int(27), part: try r.int(28).map { Int($0) }, nominalDepth: try r.double(29),
            featureKind: kind, accuracyAssumed: accuracy != nil && assumed != 0, sourceFile: try r.text(32))
        return (segment, version)
    }

    /// A point from a row `fid, version, ST_AsEWKB(geom), <pointColumns>`.
    static func point(_ row: PostgresRandomAccessRow, srid: Int32, path: String) throws(StoreError) -> (FeaturePoint, Int64) {
        let fid: Int64, version: Int64
        do { (fid, version) = (try row[0].decode(Int64.self), try row[1].decode(Int64.self)) } catch {
            throw StoreError("unreadable fid or version: \(error)", path: path, table: PostGISSchema.pointTable)
        }
        let bad = { (field: String, why: String) in
            StoreError(why, path: path, table: PostGISSchema.pointTable, record: "fid \(fid)", field: field)
        }
        guard case .point(let position) = try geometry(row, 2, srid: srid, bad: bad) else {
            throw bad("geom", "geometry is not a non-empty POINT")
        }
        let r = Reader(row: row, bad: bad, base: 3)
        guard let number = try r.text(0), let layer = try r.text(1), let cat = try r.text(2), let kind = try r.text(3) else {
            throw bad("number/layer/category/kind", "required value is NULL")
        }
        guard let category = PointCategory(rawValue: cat) else { throw bad("category", "'\(cat)' is neither feature nor appurtenance") }
        var valve: ValveStatus?
        if let v = try r.text(9) {
            guard let known = ValveStatus(rawValue: v) else { throw bad("valve_status", "'\(v)' is not a valve status") }
            valve = known
        }
        var connection: ServiceConnection?
        if let c = try r.text(10) {
            guard let known = CustomerCategory(rawValue: c) else { throw bad("customer_category", "'\(c)' is not a customer category") }
            let count = try r.int(11) ?? 1
            connection = ServiceConnection(category: known, count: Int(count))
        } else if try r.int(11) != nil {
            throw bad("customer_count", "a customer count without a customer_category")
        }
        let p = FeaturePoint(
            number: PointNumber(number), layer: LayerCode(layer), category: category, kind: PointKind(kind),
            position: position, groundElevation: try r.double(4), depth: try r.double(5), owner: try r.text(6),
            road: try r.text(7), status: try r.text(8).map(RecordStatus.init), valveStatus: valve, connection: connection)
        return (p, version)
    }

    /// An area from a row `id, version, ST_AsEWKB(geom), <areaColumns>`.
    static func area(_ row: PostgresRandomAccessRow, srid: Int32, path: String) throws(StoreError) -> OperatorArea {
        let id: Int64
        do { id = try row[0].decode(Int64.self) } catch {
            throw StoreError("unreadable id: \(error)", path: path, table: PostGISSchema.areaTable)
        }
        let bad = { (field: String, why: String) in
            StoreError(why, path: path, table: PostGISSchema.areaTable, record: "id \(id)", field: field)
        }
        let g = try geometry(row, 2, srid: srid, bad: bad)
        let r = Reader(row: row, bad: bad, base: 3)
        guard let kindText = try r.text(0), let kind = OperatorArea.Kind(rawValue: kindText) else {
            throw bad("kind", "not an area kind (precaution, interest)")
        }
        let layers = (try r.text(2) ?? "").split(separator: ",").map { LayerCode(String($0)) }
        let (owner, note, sourceID, sourceFile) = (try r.text(1) ?? "", try r.text(3), try r.text(4), try r.text(5))
        do {
            return try OperatorArea(
                id: id, kind: kind, owner: owner, layers: layers, geometry: g, note: note, sourceID: sourceID, sourceFile: sourceFile)
        } catch { throw bad("geom", error.message) }
    }
}
