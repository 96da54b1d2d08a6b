import Foundation
import SubterraGeometry

/// Operators' precaution zones and interest areas (``OperatorArea``) in the store.
///
/// Table `subterra_operator_areas` (MULTIPOLYGON, `fid` = area id, columns `kind`, `owner`,
/// `layers` as comma-separated codes, `note`, `source_id`, `source_file`: an id in
/// `subterra_source_files`, see `GeoPackageStore+SourceFiles`), registered in `gpkg_contents` so
/// GDAL and QGIS show it as a third layer. Stores written before areas existed have no such
/// table: they open as before and hold no areas; the table is created by the first edit that
/// writes one; an area table from before `source_file` reads it as NULL and gains it on the
/// first area write. Areas are few (one or a handful per operator and district), so they are read
/// whole with every load, without a spatial index.
extension GeoPackageStore {
    public static let areaTable = "subterra_operator_areas"

    /// The operator-area attribute columns (name, SQLite type), after `fid` and `geom`.
    public static let areaColumns: [(String, String)] = [
        ("kind", "TEXT NOT NULL"), ("owner", "TEXT NOT NULL"), ("layers", "TEXT"), ("note", "TEXT"),
        ("source_id", "TEXT"), ("source_file", "INTEGER"),
    ]

    /// Creates the area table in a store that has none (inside the caller's transaction).
    static func createAreaTable(srsID: Int32, in db: Database) throws(SQLiteError) {
        try GeoPackage.createFeatureTable(
            areaTable, geometryType: "MULTIPOLYGON", srsID: srsID, hasZ: false, columns: areaColumns,
            description: "Subterra operators' precaution zones and interest areas", in: db)
    }

    /// Every stored area, by id; none when the store predates areas. Caller holds the lock.
    ///
    /// - Throws: `StoreError` naming the area's fid and field when a row is unreadable.
    func readAreas() throws -> [OperatorArea] {
        guard try db.tableExists(Self.areaTable) else { return [] }
        let file = try Self.columnNames(Self.areaTable, db).contains("source_file") ? Self.sourceFilePath("source_file") : "NULL"
        let s = try db.prepare(
            "SELECT fid, geom, kind, owner, layers, note, source_id, \(file) FROM \(Self.areaTable) ORDER BY fid")
        var out: [OperatorArea] = []
        while try s.step() {
            let fid = s.int64(0)
            func bad(_ field: String, _ why: String) -> StoreError {
                StoreError(why, path: path, table: Self.areaTable, record: "fid \(fid)", field: field)
            }
            let geometry: Geometry?
            do {
                geometry = try s.withBlob(1) { raw throws(GeoPackageGeometryError) in try GeoPackageGeometry.decode(raw) }.geometry
            } catch { throw bad("geom", "\(error)") }
            guard let geometry else { throw bad("geom", "area has no geometry") }
            guard let kindText = s.text(2), let kind = OperatorArea.Kind(rawValue: kindText) else {
                throw bad("kind", "\(s.text(2).map { "\"\($0)\"" } ?? "null") is not an area kind (precaution, interest)")
            }
            let layers = (s.text(4) ?? "").split(separator: ",").map { LayerCode(String($0)) }
            do {
                out.append(try OperatorArea(
                    id: fid, kind: kind, owner: s.text(3) ?? "", layers: layers, geometry: geometry, note: s.text(5),
                    sourceID: s.text(6), sourceFile: s.text(7)))
            } catch { throw bad("geom", error.message) }
        }
        return out
    }

    /// Deletes and upserts the edit's areas (caller holds the lock, inside the edit's transaction).
    func writeAreas(_ edit: StoreEdit) throws {
        guard !edit.upsertAreas.isEmpty || !edit.deleteAreas.isEmpty else { return }
        if try !db.tableExists(Self.areaTable) {
            if edit.upsertAreas.isEmpty { return }
            try Self.createAreaTable(srsID: spatialReference.srsID, in: db)
        }
        if try !Self.columnNames(Self.areaTable, db).contains("source_file") {
            try db.execute("ALTER TABLE \(Self.areaTable) ADD COLUMN source_file INTEGER")
        }
        if try !db.tableExists(Self.sourceFileTable) { try Self.createSourceFileTable(in: db) }
        let del = try db.prepare("DELETE FROM \(Self.areaTable) WHERE fid = ?")
        for id in edit.deleteAreas { try del.run([.integer(id)]) }
        let cols = ["fid", "geom"] + Self.areaColumns.map(\.0)
        let ins = try db.prepare(
            "INSERT OR REPLACE INTO \(Self.areaTable) (\(cols.joined(separator: ","))) VALUES ("
                + Array(repeating: "?", count: cols.count).joined(separator: ",") + ")")
        for a in edit.upsertAreas {
            do { try a.validate() } catch {
                throw StoreError(error.message, path: path, table: Self.areaTable, record: a.location)
            }
            let geometry = Geometry.multiPolygon(a.polygons)
            try ins.run([
                .integer(a.id), .blob(GeoPackageGeometry.encode(geometry, srsID: spatialReference.srsID)),
                .text(a.kind.rawValue), .text(a.owner),
                a.layers.isEmpty ? .null : .text(a.layers.map(\.rawValue).joined(separator: ",")),
                a.note.map(SQLiteValue.text) ?? .null, a.sourceID.map(SQLiteValue.text) ?? .null,
                try sourceFileID(a.sourceFile),
            ])
        }
        var e = Envelope.empty
        let s = try db.prepare("SELECT geom FROM \(Self.areaTable)")
        while try s.step() {
            if let g = try s.withBlob(0, { raw throws(GeoPackageGeometryError) in try GeoPackageGeometry.decode(raw) }).geometry {
                e = e.union(g.envelope)
            }
        }
        try GeoPackage.updateExtent(Self.areaTable, e, in: db)
    }

    /// Every stored area, without reading segments or points. O(areas).
    public func storedAreas() throws(StoreError) -> [OperatorArea] {
        try locked { try readAreas() }
    }
}
