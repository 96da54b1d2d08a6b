import FuzzSupport
import SubterraGeometry

/// WKT and EWKT: parsing never crashes, whatever the bytes; what parses writes back to text that
/// parses to the same geometry under the same limits (write is idempotent after one round), and
/// the WKB and GeoJSON of it read back equal.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWKT(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let limits = fuzzLimits(size)
    guard let (g, srid) = try? WKT.parseWithSRID(text, limits: limits) else { return 0 }
    let written = WKT.write(g, srid: srid)
    do {
        let (again, srid2) = try WKT.parseWithSRID(written, limits: relaxed(limits))
        invariant(srid2 == srid, "SRID \(String(describing: srid)) read back as \(String(describing: srid2))")
        invariant(WKT.write(again, srid: srid2) == written, "WKT write is not idempotent: \(written)")
        if uniformZ(g) { invariant(again == g, "WKT round trip changed \(written)") }
        let wkb = WKB.write(again, srid: srid)
        let (fromWKB, wkbSRID) = try WKB.read(wkb, limits: relaxed(limits))
        invariant(fromWKB == again && wkbSRID == srid, "WKB round trip changed \(written)")
        invariant(try GeoJSON.parseGeometry(GeoJSON.write(again), limits: .init(maxDepth: 256)) == again,
                  "GeoJSON round trip changed \(written)")
    } catch {
        invariant(false, "written WKT does not read back: \(error): \(written)")
    }
    return 0
}


/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzWKT`.
@_cdecl("fuzz_wkt_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzWKT)
}
