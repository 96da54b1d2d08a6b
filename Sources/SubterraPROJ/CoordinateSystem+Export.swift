import CPROJ

extension CoordinateSystem {
    /// The WKT dialects ``wkt(_:)`` writes.
    public enum WKTDialect: String, Hashable, Sendable, CaseIterable {
        /// WKT1 as GDAL writes it: what GeoPackage 1.x's `gpkg_spatial_ref_sys.definition`
        /// holds and every GeoPackage reader parses.
        case wkt1GDAL = "WKT1_GDAL"
        /// OGC 18-010r7 WKT2:2019; the only exact form of some systems (dynamic datums,
        /// some compound systems) that WKT1 cannot express.
        case wkt2_2019 = "WKT2_2019"
    }

    /// The authority and code that identify this system (`("EPSG", "4549")`), `nil` when PROJ
    /// knows none, as for a bare PROJ string or a WKT without an `ID`/`AUTHORITY`.
    ///
    /// Stores record systems by authority and code, which is why this is separate from
    /// ``wkt(_:)``: a definition alone cannot be looked up again by other tools.
    ///
    /// - Complexity: one PROJ object creation (about a millisecond); keep the answer.
    /// - Throws: ``PROJError`` when PROJ cannot rebuild the system from ``definition``.
    public func authorityIdentifier() throws(PROJError) -> (authority: String, code: String)? {
        try withPJ("read the identifier of \(name)") { crs in
            guard let auth = proj_get_id_auth_name(crs.pj, 0), let code = proj_get_id_code(crs.pj, 0) else {
                return nil
            }
            return (String(cString: auth), String(cString: code))
        }
    }

    /// The system as one-line WKT in `dialect`, as `proj_as_wkt` writes it.
    ///
    /// - Complexity: one PROJ object creation and export (about a millisecond).
    /// - Throws: ``PROJError`` when the system cannot be written in `dialect` (WKT1 cannot
    ///   express every WKT2 construct); the caller may then ask for ``WKTDialect/wkt2_2019``.
    public func wkt(_ dialect: WKTDialect = .wkt1GDAL) throws(PROJError) -> String {
        let op = "write \(name) as \(dialect.rawValue)"
        return try withPJ(op) { (crs) throws(PROJError) -> String in
            let type: PJ_WKT_TYPE = dialect == .wkt1GDAL ? PJ_WKT1_GDAL : PJ_WKT2_2019
            let text: UnsafePointer<CChar>? = "MULTILINE=NO".withCString { option in
                var options: [UnsafePointer<CChar>?] = [option, nil]
                return options.withUnsafeMutableBufferPointer { proj_as_wkt(crs.context.ctx, crs.pj, type, $0.baseAddress) }
            }
            guard let text else { throw crs.context.error(op) }
            return String(cString: text)
        }
    }

    /// Runs `body` with a fresh PROJ object for this system on a context of its own; the
    /// object and context are destroyed afterwards, so values stay plain and `Sendable`.
    private func withPJ<T>(_ op: String, _ body: (_PJ) throws(PROJError) -> T) throws(PROJError) -> T {
        let context = try _PROJContext()
        context.resetLog()
        guard let made = proj_create(context.ctx, definition) else { throw context.error(op) }
        let crs = _PJ(context, made)
        // Strings PROJ returns belong to the object: keep it alive until `body` has copied them.
        defer { withExtendedLifetime(crs) {} }
        return try body(crs)
    }
}
