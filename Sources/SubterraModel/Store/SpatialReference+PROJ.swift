import SubterraPROJ

extension SpatialReference {
    /// The `gpkg_spatial_ref_sys` row for any coordinate system PROJ knows by authority and code
    /// (`"EPSG:32145"`, `"EPSG:4528"`, `"ESRI:102100"`, or WKT carrying an `ID`).
    ///
    /// The `srs_id` is the code, as for the built-in rows, so the store reopens to the same
    /// `authority:code` for PROJ. The definition is WKT1 as GDAL writes it (what GeoPackage 1.x
    /// readers expect); a system WKT1 cannot express gets WKT2:2019, which GDAL also reads from
    /// the `definition` column. EPSG:4549, 4326 and 32618 return the built-in constants, so stores
    /// made before this existed and after compare equal.
    ///
    /// - Complexity: a PROJ database look-up and WKT export, about a few milliseconds.
    /// - Throws: ``PROJError`` when PROJ does not know the system, or it has no authority code or
    ///   a code that is not an integer (a GeoPackage `organization_coordsys_id` is an integer,
    ///   and without a code other tools could not look the system up again).
    public init(crs text: String) throws(PROJError) {
        let cs = try CoordinateSystem(text)
        let op = "make a GeoPackage spatial reference for '\(text.prefix(80))'"
        guard let id = try cs.authorityIdentifier() else {
            throw PROJError(
                operation: op,
                message: "the system (\(cs.name)) has no authority code; give it as AUTHORITY:CODE (e.g. EPSG:32145)")
        }
        guard let code = Int32(id.code), code > 0 else {
            throw PROJError(operation: op, message: "\(id.authority):\(id.code) has no positive integer code, which GeoPackage needs")
        }
        if id.authority.uppercased() == "EPSG" {
            for known in [SpatialReference.cgcs2000GK120E, .wgs84, .utm18N] where known.organizationCode == code {
                self = known
                return
            }
        }
        let definition: String
        do { definition = try cs.wkt(.wkt1GDAL) } catch { definition = try cs.wkt(.wkt2_2019) }
        self.init(srsID: code, name: cs.name, organization: id.authority.uppercased(), organizationCode: code, definition: definition)
    }
}
