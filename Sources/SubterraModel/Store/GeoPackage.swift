import Foundation
import SubterraGeometry

/// A coordinate system as a GeoPackage records it in `gpkg_spatial_ref_sys`.
public struct SpatialReference: Hashable, Sendable, Codable {
    /// The `srs_id` the file uses (we use the EPSG code).
    public var srsID: Int32
    public var name: String
    public var organization: String
    public var organizationCode: Int32
    /// OGC WKT (WKT1, as GDAL and most readers expect in GeoPackage 1.x).
    public var definition: String

    public init(srsID: Int32, name: String, organization: String, organizationCode: Int32, definition: String) {
        self.srsID = srsID
        self.name = name
        self.organization = organization
        self.organizationCode = organizationCode
        self.definition = definition
    }

    /// `EPSG:<code>` for PROJ.
    public var authorityString: String { "\(organization):\(organizationCode)" }

    /// CGCS2000 / 3-degree Gauss-Kruger CM 120E (EPSG:4549), the default store CRS for Wenling.
    /// WKT from PROJ 9.1 (`projinfo EPSG:4549 -o WKT1_GDAL`); axes northing, easting by authority,
    /// while GeoPackage geometries hold x = easting, y = northing as GIS readers expect.
    public static let cgcs2000GK120E = SpatialReference(
        srsID: 4549, name: "CGCS2000 / 3-degree Gauss-Kruger CM 120E", organization: "EPSG", organizationCode: 4549,
        definition: #"PROJCS["CGCS2000 / 3-degree Gauss-Kruger CM 120E",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",120],PARAMETER["scale_factor",1],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Northing",NORTH],AXIS["Easting",EAST],AUTHORITY["EPSG","4549"]]"#
    )

    /// WGS 84 geographic (EPSG:4326); a GeoPackage must always define it.
    public static let wgs84 = SpatialReference(
        srsID: 4326, name: "WGS 84 geodetic", organization: "EPSG", organizationCode: 4326,
        definition: #"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#
    )

    /// WGS 84 / UTM zone 18N (EPSG:32618), a metric CRS for the Vermont test data.
    public static let utm18N = SpatialReference(
        srsID: 32618, name: "WGS 84 / UTM zone 18N", organization: "EPSG", organizationCode: 32618,
        definition: #"PROJCS["WGS 84 / UTM zone 18N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",-75],PARAMETER["scale_factor",0.9996],PARAMETER["false_easting",500000],PARAMETER["false_northing",0],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AXIS["Easting",EAST],AXIS["Northing",NORTH],AUTHORITY["EPSG","32618"]]"#
    )
}

/// The GeoPackage container rules (OGC 12-128r18, version 1.3): header values, the standard
/// tables, feature-table registration. Store-agnostic; `GeoPackageStore` builds on it.
public enum GeoPackage {
    /// `PRAGMA application_id`: ASCII "GPKG".
    public static let applicationID: Int64 = 0x4750_4B47
    /// `PRAGMA user_version` for GeoPackage 1.3.0.
    public static let userVersion: Int64 = 10300

    /// Whether `path` starts with the SQLite header; checked before opening so a foreign file gets
    /// a clear error and SQLite never touches it.
    public static func looksLikeSQLite(path: String) -> Bool {
        guard let h = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 16)) ?? Data()
        return head == Data("SQLite format 3\0".utf8)
    }

    /// Creates the standard tables and required SRS rows in an empty database and sets the header.
    public static func initialize(_ db: Database) throws(SQLiteError) {
        try db.execute(
            """
            PRAGMA application_id = \(applicationID);
            PRAGMA user_version = \(userVersion);
            CREATE TABLE gpkg_spatial_ref_sys (
              srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY, organization TEXT NOT NULL,
              organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
            CREATE TABLE gpkg_contents (
              table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
              description TEXT DEFAULT '',
              last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
              min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER,
              CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
            CREATE TABLE gpkg_geometry_columns (
              table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
              srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
              CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
              CONSTRAINT uk_gc_table_name UNIQUE (table_name),
              CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
              CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
            INSERT INTO gpkg_spatial_ref_sys VALUES
              ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
              ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system');
            """)
        try register(.wgs84, in: db)
    }

    /// Adds `srs` to `gpkg_spatial_ref_sys` unless its `srs_id` is present.
    public static func register(_ srs: SpatialReference, in db: Database) throws(SQLiteError) {
        let s = try db.prepare(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization, organization_coordsys_id, definition) VALUES (?,?,?,?,?)")
        try s.run([.text(srs.name), .integer(Int64(srs.srsID)), .text(srs.organization),
                   .integer(Int64(srs.organizationCode)), .text(srs.definition)])
    }

    /// Reads the SRS with `srsID`.
    public static func spatialReference(_ srsID: Int32, in db: Database) throws(SQLiteError) -> SpatialReference? {
        let s = try db.prepare(
            "SELECT srs_name, organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?")
        try s.bind(.integer(Int64(srsID)), at: 1)
        guard try s.step() else { return nil }
        return SpatialReference(
            srsID: srsID, name: s.text(0) ?? "", organization: s.text(1) ?? "",
            organizationCode: Int32(truncatingIfNeeded: s.int64(2)), definition: s.text(3) ?? "")
    }

    /// Creates a feature table (`fid` primary key, a geometry column `geom`, then `columns`) and
    /// registers it in `gpkg_contents` and `gpkg_geometry_columns` (`hasZ`: Z allowed, not required).
    ///
    /// - Parameter columns: `(name, SQL type)` pairs; names are quoted, types are GeoPackage types
    ///   (`TEXT`, `DOUBLE`, `INTEGER`, …).
    public static func createFeatureTable(
        _ table: String, geometryType: String, srsID: Int32, hasZ: Bool, columns: [(String, String)],
        description: String, in db: Database
    ) throws(SQLiteError) {
        var sql = "CREATE TABLE \(quote(table)) (fid INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, geom \(geometryType)"
        for (name, type) in columns { sql += ", \(quote(name)) \(type)" }
        sql += ")"
        try db.execute(sql)
        try db.prepare(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id) VALUES (?, 'features', ?, ?, ?)"
        ).run([.text(table), .text(table), .text(description), .integer(Int64(srsID))])
        try db.prepare("INSERT INTO gpkg_geometry_columns VALUES (?, 'geom', ?, ?, ?, 0)")
            // z = 2: heights optional (a survey may give them for some vertices only); 1 would
            // make every geometry without Z a spec violation (validate_gpkg.py Req 19).
            .run([.text(table), .text(geometryType), .integer(Int64(srsID)), .integer(hasZ ? 2 : 0)])
    }

    /// Sets the extent and `last_change` of `table` in `gpkg_contents`.
    public static func updateExtent(_ table: String, _ e: Envelope, in db: Database) throws(SQLiteError) {
        let s = try db.prepare(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?, last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now') WHERE table_name = ?")
        if e.isEmpty {
            try s.run([.null, .null, .null, .null, .text(table)])
        } else {
            try s.run([.real(e.minX), .real(e.minY), .real(e.maxX), .real(e.maxY), .text(table)])
        }
    }

    /// A feature table registered in `gpkg_geometry_columns`.
    public struct FeatureTable: Hashable, Sendable {
        public var name: String
        public var geometryColumn: String
        public var geometryType: String
        public var srsID: Int32
    }

    /// Lists feature tables; throws when the standard tables are absent (not a GeoPackage).
    public static func featureTables(in db: Database) throws(SQLiteError) -> [FeatureTable] {
        let s = try db.prepare(
            "SELECT table_name, column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns ORDER BY table_name")
        var out: [FeatureTable] = []
        while try s.step() {
            out.append(FeatureTable(
                name: s.text(0) ?? "", geometryColumn: s.text(1) ?? "geom", geometryType: s.text(2) ?? "",
                srsID: Int32(truncatingIfNeeded: s.int64(3))))
        }
        return out
    }

    /// SQL identifier quoting: doubles every `"` scalar. Scalars, not `Character`s: a `"`
    /// followed by a combining mark is one grapheme, which a `String` replace would skip.
    public static func quote(_ identifier: String) -> String {
        var out = "\""
        for c in identifier.unicodeScalars {
            if c == "\"" { out.unicodeScalars.append(c) }
            out.unicodeScalars.append(c)
        }
        out.unicodeScalars.append("\"")
        return out
    }
}
