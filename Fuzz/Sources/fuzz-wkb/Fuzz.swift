import FuzzSupport
import SubterraGeometry
import SubterraModel

/// WKB/EWKB and the store's GeoPackage blobs: reading never crashes; what reads writes back (both
/// byte orders, both flavours) to bytes that read to the same geometry, writing is idempotent,
/// the WKT of it parses at the same depth limit, and a GeoPackage blob round-trips.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWKB(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let limits = fuzzLimits(size)
    if let (g, srid) = try? WKB.read(bytes, limits: limits) {
        for order in [WKB.ByteOrder.littleEndian, .bigEndian] {
            for flavor in [WKB.Flavor.extended, .iso] {
                let w = WKB.write(g, byteOrder: order, flavor: flavor, srid: srid)
                guard let (again, srid2) = try? WKB.read(w, limits: relaxed(limits)) else {
                    invariant(false, "written WKB does not read back (\(order), \(flavor)): \(WKT.write(g))")
                    return 0
                }
                invariant(srid2 == (flavor == .extended ? srid : nil), "SRID changed in a round trip")
                if uniformZ(g) { invariant(again == g, "WKB round trip changed \(WKT.write(g))") }
                invariant(WKB.write(again, byteOrder: order, flavor: flavor, srid: srid2) == w,
                          "WKB write is not idempotent: \(WKT.write(g))")
            }
        }
        let text = WKT.write(g)
        invariant((try? WKT.parse(text, limits: relaxed(limits))) != nil, "WKT of read WKB does not parse: \(text)")
    }
    // The store's reader, on the bytes as a whole blob and as the WKB body of one.
    _ = bytes.withUnsafeBytes { GeoPackageGeometry.envelope(of: $0) }
    let blob = [0x47, 0x50, 0, 1, 0xE5, 0x11, 0, 0] + bytes  // "GP", v1, little-endian, srs 4581
    for b in [bytes, blob] {
        guard let d = try? GeoPackageGeometry.decode(b), let g = d.geometry, !g.envelope.isEmpty,
            (try? g.validate()) != nil
        else { continue }
        let again = try? GeoPackageGeometry.decode(GeoPackageGeometry.encode(g, srsID: d.srsID))
        invariant(again?.geometry == g && again?.srsID == d.srsID, "GeoPackage round trip changed \(WKT.write(g))")
    }
    return 0
}

/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzWKB`.
@_cdecl("fuzz_wkb_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzWKB)
}
