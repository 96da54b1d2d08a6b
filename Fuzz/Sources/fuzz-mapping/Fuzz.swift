import Foundation
import FuzzSupport
import SubterraGeometry
import SubterraModel

/// Field mappings: loading never crashes; an accepted mapping encodes and decodes to itself, and
/// importing the sample's survey tables with it (as points and as segments) never crashes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMapping(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    _ = JSONPrecheck.check(bytes, limits: fuzzLimits(size))
    guard let m = try? FieldMapping.decode(Data(bytes), file: "fuzz.json") else { return 0 }
    guard let encoded = try? JSONEncoder().encode(m), let back = try? FieldMapping.decode(encoded, file: "again.json") else {
        invariant(false, "an accepted mapping does not encode and decode again")
        return 0
    }
    invariant(back == m, "a mapping changes when encoded and decoded")
    _ = try? Importer.read(
        surveySources(points: sample.points, segments: sample.segments, mappings: (m, m)),
        options: ImportOptions(policy: .lenient))
    return 0
}

/// The first rows of the sample's survey tables, written once to the scratch directory.
let sample: (points: String, segments: String) = {
    func head(_ name: String) -> String {
        let url = repositoryRoot.appendingPathComponent("Datasets/sample/\(name)")
        let lines = ((try? String(contentsOf: url, encoding: .utf8)) ?? "").split(separator: "\n").prefix(40)
        return scratchFile("sample-\(name)", Array(lines.joined(separator: "\n").utf8))
    }
    return (head("points.csv"), head("segments.csv"))
}()

/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzMapping`.
@_cdecl("fuzz_mapping_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzMapping) { _ = sample }
}
