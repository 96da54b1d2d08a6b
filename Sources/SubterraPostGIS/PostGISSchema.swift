import Foundation
import SubterraModel

/// The PostGIS store's schema, created and migrated by Subterra (``PostGISStore/open(_:spatialReference:readOnly:)``).
///
/// Tables (schema version ``version``, recorded in `subterra_meta` under `subterra.schema`):
/// - `subterra_segments`: `id` (the segment id), `version` (per row, +1 on every change: the
///   optimistic-concurrency token), `geom` and every attribute column of the GeoPackage store
///   (``GeoPackageStore/segmentColumns``, ``GeoPackageStore/featureColumns``,
///   ``GeoPackageStore/addedSegmentColumns``: one column table for both stores), the SQLite types
///   mapped (`DOUBLE` → `double precision`, `INTEGER` → `bigint`); `source_file` holds the path.
/// - `subterra_points`: `fid`, `number` (unique), `version`, `geom`, the point columns.
/// - `subterra_operator_areas`: `id`, `version`, `geom` (a MultiPolygon), the area columns.
/// - `subterra_state`: one row, the store's `data_version` (+1 per committed change), SRID, CRS.
/// - `subterra_changes`: the change log, one row per feature a committed change touched:
///   (`version`, `operation` insert/update/delete, `feature_kind` segment/point/area, `feature`
///   id or number, `at`), indexed by version: a follower catches up with `version > its own`.
/// - `subterra_meta`: key/value metadata (the schema version, the store's identity
///   `subterra.store_id`, `import.last.*`, quality counts).
/// - `subterra_versions` (schema 2): one row per committed data version (`version`, `at`, the
///   clock when the writer took it), written with the version itself, so a version whose change
///   touched no feature (metadata only) is still there: a follower tells "nothing changed" from
///   "missing" (a trimmed log, ``PostGISStore/trimChangeLog(through:)``) and reloads on a gap.
///   Versions committed before a store was migrated to schema 2 have no row; a follower loads
///   its snapshot at a later one.
/// - `subterra_editors` (schema 2): per-owner edit rights, enforced by row-level security on
///   `subterra_segments` and `subterra_points`. A database role listed here (`role`) may insert,
///   change and delete only rows whose `owner` is one of its `owners` (`'*'`: any); every role
///   may read every row. A role not listed may edit nothing; a row without an owner only `'*'` roles may edit. The tables' owner (the role that
///   created the store, which imports) and superusers bypass row-level security as always in
///   PostgreSQL. Grants (`SELECT, INSERT, UPDATE, DELETE` on the tables, `USAGE` on
///   `subterra_points_fid_seq`) stay the database administrator's.
///
/// `geom` is a plain `geometry` with CHECKs on its SRID and type rather than a `LineStringZ` /
/// `PointZ` typmod: the model's vertices carry z only when surveyed, and a typmod fixes the
/// dimension (a 2D one refuses a surveyed z, a Z one refuses a line without). Every `geom` has
/// a GiST index.
enum PostGISSchema {
    /// The schema version this code writes; ``migrations`` has one step per version.
    static let version = 2

    /// The NOTIFY channel each committed change signals, with the new data version as payload.
    static let channel = "subterra_changes"

    static let segmentTable = "subterra_segments"
    static let pointTable = "subterra_points"
    static let areaTable = "subterra_operator_areas"

    /// PostgreSQL's type for a GeoPackage column declaration ("DOUBLE", "TEXT NOT NULL UNIQUE" …).
    static func sqlType(_ sqlite: String, name: String) -> String {
        if name == "source_file" { return "text" }
        return sqlite.replacingOccurrences(of: "DOUBLE", with: "double precision")
            .replacingOccurrences(of: "INTEGER", with: "bigint").replacingOccurrences(of: "TEXT", with: "text")
    }

    /// Segment attribute columns, in the order rows are written and read.
    static let segmentColumns: [(String, String)] =
        (GeoPackageStore.segmentColumns + GeoPackageStore.featureColumns + GeoPackageStore.addedSegmentColumns)
        .map { ($0.0, sqlType($0.1, name: $0.0)) }
    /// Point attribute columns, `number` first, in the order rows are written and read.
    static let pointColumns: [(String, String)] =
        (GeoPackageStore.pointColumns + GeoPackageStore.addedPointColumns).map { ($0.0, sqlType($0.1, name: $0.0)) }
    /// Area attribute columns, in the order rows are written and read.
    static let areaColumns: [(String, String)] = GeoPackageStore.areaColumns.map { ($0.0, sqlType($0.1, name: $0.0)) }

    static func quoted(_ columns: [(String, String)]) -> [String] { columns.map { "\"\($0.0)\"" } }

    /// The statements of a migration step: its text split at each `;` that ends a line.
    static func statements(_ step: String) -> [String] {
        step.components(separatedBy: ";\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .map { $0.hasSuffix(";") ? String($0.dropLast()) : $0 }.filter { !$0.isEmpty }
    }

    /// Row-level security on `table` (schema 2): everyone reads; inserts, updates and deletes
    /// only rows whose owner `subterra_may_edit` (the updated row must stay so: no giving a pipe
    /// away to another owner).
    static func rowSecurity(_ table: String) -> String {
        """
        ALTER TABLE \(table) ENABLE ROW LEVEL SECURITY;
        CREATE POLICY subterra_read ON \(table) FOR SELECT USING (true);
        CREATE POLICY subterra_owner_insert ON \(table) FOR INSERT WITH CHECK (subterra_may_edit(owner, current_user));
        CREATE POLICY subterra_owner_update ON \(table) FOR UPDATE USING (subterra_may_edit(owner, current_user)) WITH CHECK (subterra_may_edit(owner, current_user));
        CREATE POLICY subterra_owner_delete ON \(table) FOR DELETE USING (subterra_may_edit(owner, current_user));
        """
    }

    /// The SQL of each migration step: `migrations[k]` takes the schema from version k to k + 1.
    /// Steps only add (tables, columns, indexes), so older readers keep working.
    static func migrations(srid: Int32, crs: String) -> [String] {
        func cols(_ c: [(String, String)]) -> String { c.map { "\"\($0.0)\" \($0.1)" }.joined(separator: ", ") }
        let crsLiteral = "'" + crs.replacingOccurrences(of: "'", with: "''") + "'"
        return [
            """
            CREATE TABLE subterra_meta (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE subterra_state (
              id int PRIMARY KEY CHECK (id = 1), data_version bigint NOT NULL, srid int NOT NULL, crs text NOT NULL);
            INSERT INTO subterra_state VALUES (1, 0, \(srid), \(crsLiteral));
            CREATE TABLE subterra_segments (
              id bigint PRIMARY KEY, version bigint NOT NULL DEFAULT 1,
              geom geometry NOT NULL CHECK (ST_SRID(geom) = \(srid) AND GeometryType(geom) = 'LINESTRING'),
              \(cols(segmentColumns)));
            CREATE INDEX subterra_segments_geom ON subterra_segments USING gist (geom);
            CREATE INDEX subterra_segments_start ON subterra_segments (start_point);
            CREATE INDEX subterra_segments_end ON subterra_segments (end_point);
            CREATE INDEX subterra_segments_feature ON subterra_segments (feature) WHERE feature IS NOT NULL;
            CREATE INDEX subterra_segments_source_id ON subterra_segments (source_id) WHERE source_id IS NOT NULL;
            CREATE TABLE subterra_points (
              fid bigserial PRIMARY KEY, version bigint NOT NULL DEFAULT 1,
              geom geometry NOT NULL CHECK (ST_SRID(geom) = \(srid) AND GeometryType(geom) = 'POINT'),
              \(cols(pointColumns)));
            CREATE INDEX subterra_points_geom ON subterra_points USING gist (geom);
            CREATE TABLE subterra_operator_areas (
              id bigint PRIMARY KEY, version bigint NOT NULL DEFAULT 1,
              geom geometry NOT NULL CHECK (ST_SRID(geom) = \(srid) AND GeometryType(geom) = 'MULTIPOLYGON'),
              \(cols(areaColumns)));
            CREATE INDEX subterra_operator_areas_geom ON subterra_operator_areas USING gist (geom);
            CREATE TABLE subterra_changes (
              version bigint NOT NULL, operation text NOT NULL CHECK (operation IN ('insert', 'update', 'delete')),
              feature_kind text NOT NULL CHECK (feature_kind IN ('segment', 'point', 'area')),
              feature text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE INDEX subterra_changes_version ON subterra_changes (version);
            """,
            """
            CREATE TABLE subterra_versions (version bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp());
            CREATE TABLE subterra_editors (role name PRIMARY KEY, owners text[] NOT NULL);
            CREATE FUNCTION subterra_may_edit(row_owner text, editor name) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER SET search_path FROM CURRENT AS $$ SELECT EXISTS (SELECT 1 FROM subterra_editors e WHERE e.role = editor AND (row_owner = ANY (e.owners) OR '*' = ANY (e.owners))) $$;
            \(rowSecurity("subterra_segments"))
            \(rowSecurity("subterra_points"))
            """,
        ]
    }
}
