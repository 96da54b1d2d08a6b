// Edit latency of a UtilityEngine on a generated city: what an editor (or a service taking a
// stream of edits) waits per `apply`, with the upkeep inline (on the writer's path) and in the
// background (the default). Each edit moves one existing pipe by a few metres and inserts one new
// pipe, as a surveyor's correction and an addition would. Both engines get the same edits.
//
//   edit-latency [--segments N] [--edits E] [--seed S] [--upkeep inline,background]
//   edit-latency --load STORE.gpkg      # only: time and retained heap of UtilityEngine(store:)
//
// Prints, per upkeep mode, the p50 / p90 / p99 / p99.9 / worst latency of `apply` and the wall
// time of the run, then (as the reference of what background upkeep keeps off the writer) one
// explicit `compact()`. Timings on a shared machine are noisy: compare modes within one run.
import CBenchSupport
import Foundation
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel

func fail(_ m: String) -> Never {
    FileHandle.standardError.write(Data("edit-latency: \(m)\n".utf8))
    exit(2)
}

var segments = 1_000_000, edits = 100_000, seed: UInt64 = 7
var modes: [UtilityEngine.Upkeep] = [.inline, .background]
var loadPath: String?
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    guard let v = args.popFirst() else { fail("\(a) needs a value") }
    switch a {
    case "--segments":
        guard let n = Int(v), n > 0 else { fail("--segments '\(v)' is not a count") }
        segments = n
    case "--edits":
        guard let n = Int(v), n > 0 else { fail("--edits '\(v)' is not a count") }
        edits = n
    case "--seed":
        guard let n = UInt64(v) else { fail("--seed '\(v)' is not a number") }
        seed = n
    case "--load":
        loadPath = v
    case "--upkeep":
        modes = v.split(separator: ",").map { m -> UtilityEngine.Upkeep in
            switch m {
            case "inline": return .inline
            case "background": return .background
            default: fail("--upkeep '\(m)': inline or background")
            }
        }
    default: fail("unknown option \(a)")
    }
}

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Bytes the malloc heap holds, after returning free memory to the system.
func heapInUse() -> Int {
    bench_heap_trim()
    return Int(bench_heap_in_use())
}

if let loadPath {
    // What a service pays to hold the map: the engine built from the store, and what it keeps.
    let h0 = heapInUse()
    let a = now()
    let store = try GeoPackageStore.open(at: loadPath, readOnly: true)
    let engine = try UtilityEngine(store: store)
    let wall = Double(now() - a) / 1e9
    let held = heapInUse() - h0
    let n = engine.segmentCount
    print("UtilityEngine(store:) on \(loadPath): \(n) segments in \(String(format: "%.2f", wall)) s; "
        + "heap retained \(held / 1_048_576) MiB = \(held / max(1, n)) B per segment")
    withExtendedLifetime(engine) {}
    exit(0)
}

let t0 = now()
let district = DistrictGenerator(segments: segments, seed: seed).district()
let base = district.network.segments
print("edit-latency: \(base.count) segments generated in \(String(format: "%.1f", Double(now() - t0) / 1e9)) s (seed \(seed))")

/// The edit script: deterministic, the same for every mode.
func script(_ i: Int, base: [PipeSegment], seed: UInt64) -> StoreEdit {
    var rng = SplitMix64(seed: seed &+ UInt64(i) &* 0x9E37_79B9)
    let k = Int(rng.next() % UInt64(base.count))
    var moved = base[k]
    let dx = Double(rng.next() % 4000) / 1000 - 2, dy = Double(rng.next() % 4000) / 1000 - 2
    moved.geometry = try! LineString(moved.geometry.points.map { Point($0.x + dx, $0.y + dy) })
    var added = base[(k + 7919) % base.count]
    added.id = 100_000_000 + Int64(i)
    added.geometry = try! LineString(added.geometry.points.map { Point($0.x + dy, $0.y - dx) })
    return StoreEdit(upsertSegments: [moved, added])
}

func ms(_ ns: UInt64) -> String { String(format: "%.3f", Double(ns) / 1e6) }

print("| upkeep | edits | p50 ms | p90 ms | p99 ms | p99.9 ms | worst ms | wall s |")
print("|---|---|---|---|---|---|---|---|")
var engines: [UtilityEngine] = []
for mode in modes {
    let engine = try UtilityEngine(network: district.network, upkeep: mode)
    var lat = [UInt64](repeating: 0, count: edits)
    let start = now()
    for i in 0..<edits {
        let e = script(i, base: base, seed: seed)
        let a = now()
        try engine.apply(e)
        lat[i] = now() - a
    }
    let wall = Double(now() - start) / 1e9
    try engine.finishUpkeep()
    lat.sort()
    func q(_ p: Double) -> UInt64 { lat[min(lat.count - 1, Int(Double(lat.count) * p))] }
    print("| \(mode) | \(edits) | \(ms(q(0.5))) | \(ms(q(0.9))) | \(ms(q(0.99))) | \(ms(q(0.999))) | \(ms(lat.last ?? 0)) | \(String(format: "%.1f", wall)) |")
    engines.append(engine)
}
if engines.count == 2 {
    // Both modes must end with the same map.
    let a = engines[0].network, b = engines[1].network
    guard a == b else { fail("the modes ended with different maps") }
}
if let e = engines.first {
    let a = now()
    try e.compact()
    print("one explicit compact() at \(e.segmentCount) segments: \(ms(now() - a)) ms")
}
