import Foundation
import SubterraGeometry

/// Reads the feature tables of any GeoPackage (GDAL/QGIS-written or ours) as source records,
/// opening the file read-only so it can never change.
public enum GeoPackageReader {
    /// The content a feature table of geometry type `type` holds: points, segments (lines) or
    /// areas (polygons); nil for a type the importer reads none of (GEOMETRY, collections).
    public static func content(ofGeometryType type: String) -> ImportSource.Content? {
        switch type.uppercased() {
        case "POINT", "MULTIPOINT": .points
        case "LINESTRING", "MULTILINESTRING": .segments
        case "POLYGON", "MULTIPOLYGON": .areas
        default: nil
        }
    }

    /// The feature tables of the GeoPackage at `path` with what each holds
    /// (``content(ofGeometryType:)``), in name order.
    ///
    /// - Throws: `ImportError` for a file that is not SQLite or not a GeoPackage.
    public static func tables(path: String) throws(ImportError) -> [(name: String, content: ImportSource.Content?)] {
        try reading(path) { db in try GeoPackage.featureTables(in: db).map { ($0.name, content(ofGeometryType: $0.geometryType)) } }
    }

    /// `body` on the GeoPackage at `path`, opened read-only; a file that is not SQLite or not a
    /// GeoPackage, and any failure of `body` that is not an `ImportError`, become `ImportError`s.
    private static func reading<T>(_ path: String, _ body: (Database) throws -> T) throws(ImportError) -> T {
        guard GeoPackage.looksLikeSQLite(path: path) else {
            throw ImportError("not a GeoPackage: the file does not start with the SQLite header", file: path)
        }
        do {
            let db = try Database(path: path, mode: .readOnly)
            guard try db.tableExists("gpkg_geometry_columns") else {
                throw ImportError("not a GeoPackage: gpkg_geometry_columns is missing", file: path)
            }
            return try body(db)
        } catch let e as ImportError {
            throw e
        } catch {
            throw ImportError("cannot read GeoPackage: \(error)", file: path)
        }
    }

    /// The records of `table` (or, when nil, of the only feature table whose geometry type fits
    /// `content`), located by `fid`, and the table's CRS as `organization:code` when registered.
    ///
    /// - Throws: `ImportError` for a file that is not SQLite or not a GeoPackage, an unknown or
    ///   ambiguous table.
    public static func records(path: String, table: String?, content: ImportSource.Content)
        throws(ImportError) -> (records: [SourceRecord], crs: String?)
    {
        try reading(path) { db in
            let tables = try GeoPackage.featureTables(in: db)
            let chosen: GeoPackage.FeatureTable
            if let table {
                guard let t = tables.first(where: { $0.name == table }) else {
                    throw ImportError("no feature table '\(table)' (have: \(tables.map(\.name).joined(separator: ", ")))", file: path)
                }
                chosen = t
            } else {
                let fits = tables.filter { Self.content(ofGeometryType: $0.geometryType) == content }
                guard fits.count == 1 else {
                    throw ImportError(
                        "\(fits.count) feature tables hold \(content); name one (have: \(tables.map { "\($0.name) \($0.geometryType)" }.joined(separator: ", ")))",
                        file: path)
                }
                chosen = fits[0]
            }
            var crs: String?
            if let srs = try GeoPackage.spatialReference(chosen.srsID, in: db), srs.organization.uppercased() != "NONE" {
                crs = "\(srs.organization.uppercased()):\(srs.organizationCode)"
            }
            // The primary key column is not always `fid`.
            let info = try db.prepare("PRAGMA table_info(\(GeoPackage.quote(chosen.name)))")
            var pk = "rowid"
            var columns: [String] = []
            while try info.step() {
                let name = info.text(1) ?? ""
                if info.int64(5) == 1 { pk = name } else if name != chosen.geometryColumn { columns.append(name) }
            }
            let select = "SELECT \(GeoPackage.quote(pk)), \(GeoPackage.quote(chosen.geometryColumn))"
                + columns.map { ", " + GeoPackage.quote($0) }.joined() + " FROM \(GeoPackage.quote(chosen.name)) ORDER BY 1"
            let s = try db.prepare(select)
            var out: [SourceRecord] = []
            while try s.step() {
                let fid = Int(s.int64(0))
                var fields: [(String, SourceValue)] = []
                for (i, c) in columns.enumerated() {
                    let v: SourceValue
                    switch s.value(Int32(i + 2)) {
                    case .null: v = .null
                    case .integer(let n): v = .number(Double(n))
                    case .real(let d): v = .number(d)
                    case .text(let t): v = .text(t)
                    case .blob: v = .null
                    }
                    fields.append((c, v))
                }
                var geometry: Geometry?
                var geometryError: String?
                if s.isNull(1) {
                    geometryError = "geometry is NULL"
                } else {
                    do {
                        geometry = try s.withBlob(1) { raw throws(GeoPackageGeometryError) in try GeoPackageGeometry.decode(raw) }.geometry
                        if geometry == nil { geometryError = "geometry is empty" }
                    } catch { geometryError = "\(error)" }
                }
                out.append(SourceRecord(
                    location: RecordLocation(file: path, unit: .fid, index: fid), fields: fields, geometry: geometry,
                    geometryError: geometryError))
            }
            return (out, crs)
        }
    }
}
