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

    /// Writes WKT with GEOS's writer, with Z where present (`GEOSWKTWriter_write_r`).
    ///
    /// Numbers are written with up to 24 decimal places (trailing zeros trimmed), so every
    /// coordinate of magnitude 1e-8 or more reads back bit for bit; smaller ones are rounded.
    /// Use ``wkb(_:)`` for an exact round trip of anything.
    ///
    /// - Throws: ``GEOSError`` for a coordinate of magnitude 1e90 or more, which would overrun a
    ///   fixed buffer inside GEOS 3.11's writer (it aborts the process rather than failing).
    public func wkt(_ geometry: Geometry) throws(GEOSError) -> String {
        let op = "write WKT"
        var index = 0
        var tooLarge: Int?
        Self.forEachPoint(geometry) { p in
            let m = Swift.max(abs(p.x), abs(p.y), abs(p.z ?? 0))
            if tooLarge == nil, m >= Self.wktMaxMagnitude { tooLarge = index }
            index += 1
        }
        if let tooLarge {
            throw GEOSError(
                operation: op,
                message: "point \(tooLarge) has a coordinate of magnitude 1e90 or more, which GEOS cannot write as WKT")
        }
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


extension GEOSContext {
    /// Visits every point in storage order (exterior ring before holes, parts in order).
    static func forEachPoint(_ g: Geometry, _ body: (Point) -> Void) {
        switch g {
        case .point(let p): body(p)
        case .lineString(let l): l.points.forEach(body)
        case .polygon(let p):
            p.exterior.points.forEach(body)
            for h in p.holes { h.points.forEach(body) }
        case .multiPoint(let ps): ps.forEach(body)
        case .multiLineString(let ls): for l in ls { l.points.forEach(body) }
        case .multiPolygon(let ps): for p in ps { forEachPoint(.polygon(p), body) }
        case .collection(let gs): for m in gs { forEachPoint(m, body) }
        }
    }
}
