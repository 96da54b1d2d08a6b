import CGEOS
import SubterraGeometry

extension GEOSContext {
    /// Parses WKT with GEOS's reader (`GEOSWKTReader_read_r`), for round-trip oracles.
    ///
    /// - Throws: ``GEOSError`` with GEOS's parse message (e.g. `ParseException: Expected word
    ///   but encountered end of stream`) or when the geometry has no Subterra equivalent.
    public func geometry(wkt: String) throws(GEOSError) -> Geometry {
        let op = "read WKT"
        let reader = try wktReader
        messages.reset()
        let g = try own(wkt.withCString { GEOSWKTReader_read_r(handle, reader, $0) }, op)
        return try makeGeometry(g.pointer, op)
    }

    /// Writes WKT with GEOS's writer at full precision, with Z where present
    /// (`GEOSWKTWriter_write_r`).
    public func wkt(_ geometry: Geometry) throws(GEOSError) -> String {
        let op = "write WKT"
        let writer = try wktWriter
        let g = try makeGEOS(geometry, op)
        messages.reset()
        guard let text = GEOSWKTWriter_write_r(handle, writer, g.pointer) else { throw failure(op) }
        defer { GEOSFree_r(handle, text) }
        return String(cString: text)
    }

    /// Parses WKB (either byte order, ISO or extended Z) with GEOS (`GEOSWKBReader_read_r`).
    public func geometry(wkb: [UInt8]) throws(GEOSError) -> Geometry {
        let op = "read WKB"
        let reader = try wkbReader
        messages.reset()
        let g = try own(wkb.withUnsafeBufferPointer { GEOSWKBReader_read_r(handle, reader, $0.baseAddress, $0.count) }, op)
        return try makeGeometry(g.pointer, op)
    }

    /// Writes little-endian WKB with Z where present (`GEOSWKBWriter_write_r`).
    public func wkb(_ geometry: Geometry) throws(GEOSError) -> [UInt8] {
        let op = "write WKB"
        let writer = try wkbWriter
        let g = try makeGEOS(geometry, op)
        var size = 0
        messages.reset()
        guard let bytes = GEOSWKBWriter_write_r(handle, writer, g.pointer, &size) else { throw failure(op) }
        defer { GEOSFree_r(handle, bytes) }
        return Array(UnsafeBufferPointer(start: bytes, count: size))
    }
}
