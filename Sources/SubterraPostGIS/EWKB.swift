import SubterraGeometry

/// PostGIS's extended WKB (EWKB) for the store's geometry columns, written and read by the
/// project's own WKB code (``WKB``) with the SRID flag.
///
/// Layout (little endian, as PostGIS writes it): byte order `01`, a type word whose high bits
/// flag Z (`0x80000000`) and SRID (`0x20000000`), the 4-byte SRID when flagged, then the
/// coordinates as in ISO WKB. `ST_AsEWKB` returns exactly these bytes for a `geometry(…Z, srid)`
/// value and `ST_GeomFromEWKB` accepts them; the text form (COPY, `geometry_in`) is their hex.
public enum EWKB {
    /// The EWKB of `geometry` with `srid` on the outermost geometry; Z written when every vertex
    /// has one. O(n) in vertices.
    public static func encode(_ geometry: Geometry, srid: Int32) -> [UInt8] {
        WKB.write(geometry, byteOrder: .littleEndian, flavor: .extended, srid: srid)
    }

    /// Reads EWKB (or plain WKB, taken to be in `srid`). A stream whose SRID differs from `srid`
    /// is refused: the store never mixes coordinate systems.
    ///
    /// - Throws: `GeometryError` with the byte offset for malformed input, or naming both SRIDs.
    public static func decode(_ bytes: [UInt8], srid: Int32) throws(GeometryError) -> Geometry {
        let (g, found) = try WKB.read(bytes)
        if let found, found != srid {
            throw GeometryError("EWKB: SRID \(found), but the store's is \(srid)", offset: 5)
        }
        return g
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// Upper-case hex of `bytes`, the text form PostGIS reads in `COPY` and `geometry_in`.
    public static func hex(_ bytes: [UInt8]) -> String {
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
