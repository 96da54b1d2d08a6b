import Foundation
import FuzzSupport
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraRequests

/// Batch lines (`query --batch`), answered against the sample district: every line gets exactly
/// one answer, a one-line JSON object with its line number and `ok`, whatever the line holds;
/// nothing is read from a file (`@path` geometry is refused).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBatch(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: fuzzBytes(data, size), as: UTF8.self)
    let runner = size % 2 == 0 ? runners.defaults : runners.small
    for (k, line) in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(8).enumerated() {
        let answer = runner.answer(line: String(line), number: k + 1)
        invariant(!answer.contains("\n"), "answer spans lines: \(answer)")
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any]
        invariant(object?["line"] as? Int == k + 1 && object?["ok"] is Bool, "malformed answer: \(answer)")
        if line.contains("\"@") {
            invariant(!answer.contains("root:"), "a batch line read a local file: \(answer)")
        }
    }
    return 0
}

/// Runners over the sample district (imported once from its survey tables): the default request
/// limits, and small ones so the limit paths are reached by small inputs.
let runners: (defaults: RequestRunner, small: RequestRunner) = {
    let sample = repositoryRoot.appendingPathComponent("Datasets/sample").path
    do {
        let r = try Importer.read(
            surveySources(points: sample + "/points.csv", segments: sample + "/segments.csv", mappings: districtMappings),
            options: ImportOptions(policy: .lenient))
        let engine = try UtilityEngine(network: UtilityNetwork(segments: r.segments, points: r.points))
        let small = RequestLimits(maxLineBytes: 512, maxGeometryBytes: 256, maxVertices: 16, maxDepth: 4)
        return (RequestRunner(engine: engine), RequestRunner(engine: engine, limits: small))
    } catch {
        invariant(false, "cannot load the sample district: \(error)")
        exit(1)
    }
}()

/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzBatch`.
@_cdecl("fuzz_batch_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzBatch) { _ = runners }
}
