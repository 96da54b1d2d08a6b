import Foundation
import FuzzSupport
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// Clearance rule files, whole and as city overrides of the bundled rules: loading never
/// crashes; accepted rules answer every lookup for a spread of pipes, symmetric in the pair, with
/// finite non-negative distances.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let file = Data(bytes)
    if let r = try? ClearanceRules(data: file) { exercise(r) }
    if let b = bundled, let r = try? b.overridden(by: file) { exercise(r) }
    return 0
}

let bundled: ClearanceRules? = {
    let r = try? ClearanceRules.bundled()
    invariant(r != nil, "the bundled rules do not load")
    return r
}()

/// Pipes of every standard layer, with and without the attributes the tables select on.
let profiles: [PipeProfile] = {
    var ps: [PipeProfile] = []
    for layer in LayerCatalog.standardWithFibre.layers.map(\.code) {
        ps.append(PipeProfile(layer: layer))
        ps.append(PipeProfile(layer: layer, burial: .directBuried, diameterMM: 300, voltageKV: 10))
    }
    for p in GasPressureClass.allCases {
        ps.append(PipeProfile(layer: "RQ", pressureClass: p, diameterMM: 200))
        ps.append(PipeProfile(layer: "RQ", pressureClass: p, diameterMM: 400))
    }
    for kv in [0.4, 10, 35, 110, 220, 500, Double.greatestFiniteMagnitude] {
        ps.append(PipeProfile(layer: "DL", burial: .casing, voltageKV: kv))
    }
    for d in [0, 100, 200, 300, 1200, 1e308] { ps.append(PipeProfile(layer: "JS", diameterMM: d)) }
    return ps
}()

func exercise(_ r: ClearanceRules) {
    for a in profiles {
        _ = r.isCritical(a)
        for s in SurfaceKind.allCases { check(r.minimumCover(a, under: s), "minimum cover") }
        check(r.excavation(a), "excavation")
        for w in r.excavationWorkTypes { check(r.excavation(a, workType: w), "excavation \(w)") }
        for b in profiles {
            let h = r.horizontal(a, b), v = r.vertical(a, b)
            check(h, "horizontal")
            check(v, "vertical")
            invariant(h?.distance == r.horizontal(b, a)?.distance, "horizontal clearance is not symmetric")
            invariant(v?.distance == r.vertical(b, a)?.distance, "vertical clearance is not symmetric")
        }
    }
}

func check(_ rule: ClearanceRule?, _ what: String) {
    guard let rule else { return }
    invariant(rule.distance.isFinite && rule.distance >= 0, "\(what) clearance \(rule.distance)")
}

/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzRules`.
@_cdecl("fuzz_rules_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzRules) { _ = (bundled, profiles) }
}
