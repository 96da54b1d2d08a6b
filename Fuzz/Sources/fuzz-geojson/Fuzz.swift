import FuzzSupport
import SubterraGeometry

/// GeoJSON: parsing never crashes; a parsed document writes back to text that parses to the same
/// document (writing is idempotent), and streaming a feature collection yields the same features
/// as parsing it whole.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGeoJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let limits = fuzzLimits(size)
    var streamed: [GeoJSONFeature] = []
    let header = try? bytes.withUnsafeBufferPointer { buf in
        try GeoJSON.forEachFeature(in: buf, limits: limits) { _, f in streamed.append(f) }
    }
    guard let doc = try? GeoJSON.parse(bytes, limits: limits) else { return 0 }
    let text = write(doc)
    guard let again = try? GeoJSON.parse(text, limits: relaxed(limits)) else {
        invariant(false, "written GeoJSON does not parse: \(text)")
        return 0
    }
    invariant(write(again) == text, "GeoJSON write is not idempotent: \(text)")
    switch doc {
    case .geometry(let g):
        if uniformZ(g) { invariant(again == doc, "GeoJSON round trip changed \(text)") }
    case .feature(let f):
        invariant(header?.featureCount == 1 && streamed == [f], "streaming a lone feature differs")
    case .featureCollection(let fc):
        invariant(header?.featureCount == fc.features.count && streamed == fc.features,
                  "streamed features differ from the parsed collection")
        invariant(header?.crs == fc.crs, "streamed crs differs")
    }
    return 0
}

func write(_ doc: GeoJSONObject) -> String {
    switch doc {
    case .geometry(let g): return GeoJSON.write(g)
    case .feature(let f): return GeoJSON.write(f)
    case .featureCollection(let fc): return GeoJSON.write(fc)
    }
}

/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzGeoJSON`.
@_cdecl("fuzz_geojson_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzGeoJSON)
}
