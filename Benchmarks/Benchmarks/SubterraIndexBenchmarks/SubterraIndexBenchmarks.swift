// Subterra's own figures under package-benchmark: throughput, latency percentiles, allocations
// (malloc interposer) and peak memory, checked nightly against the stored thresholds in
// Thresholds/<toolchain>/. The side-by-side comparison with Boost and GEOS is subterra-compare.
//
// Names carry the size and contain no spaces (threshold file names break on spaces).
import Benchmark
import BenchCore
import SubterraIndex

/// Data, queries and a built index, made once in setup and never measured.
final class Fixture: @unchecked Sendable {
    // @unchecked: built in setup, then only read by the single benchmark thread.
    let data: StreetSegments
    let queries: QuerySet
    let packed: SubterraPackedPeer
    var ids = [UInt32]()
    var distances = [Double]()

    init(size: Int) {
        data = StreetSegments.generate(count: size, seed: benchmarkSeed)
        queries = QuerySet.make(count: 1000, around: data, seed: benchmarkSeed)
        packed = SubterraPackedPeer(data)
        ids.reserveCapacity(4096)
        distances.reserveCapacity(64)
        // Warm the reusable buffers (the nearest scratch heap, the id arrays) so the measured
        // region shows steady-state allocations: the callback forms must show zero.
        for i in 0..<50 {
            packed.nearest(x: queries.points[i].0, y: queries.points[i].1, k: 10, ids: &ids, distances: &distances)
            packed.window(queries.windows[i], into: &ids)
            packed.polygonWithin(ring: queries.polygons[i], r: 1, into: &ids)
        }
    }
}

let benchmarkSeed: UInt64 = 20_261_130

/// Sizes measured by package-benchmark; SUBTERRA_BENCH_SIZES="10000,100000" narrows them.
let benchmarkSizes: [Int] = {
    let env = ProcessInfo.processInfo.environment["SUBTERRA_BENCH_SIZES"]
    return env.map { $0.split(separator: ",").compactMap { Int($0) } } ?? [10_000, 100_000, 1_000_000]
}()

// Shared machine: time thresholds are wide (only a real slowdown trips them); allocation counts
// are exact, because a query path that starts allocating is a regression at any speed.
func timeThresholds() -> BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 40, .p90: 60], absolute: [:]) }
func countThresholds() -> BenchmarkThresholds { BenchmarkThresholds(relative: [.p50: 0, .p90: 0], absolute: [.p50: 0, .p90: 0]) }

func queryConfiguration() -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .instructions],
        timeUnits: .microseconds,
        warmupIterations: 2,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 50,
        thresholds: [.wallClock: timeThresholds(), .throughput: timeThresholds(), .mallocCountTotal: countThresholds()])
}

func buildConfiguration() -> Benchmark.Configuration {
    .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResidentDelta],
        timeUnits: .milliseconds,
        warmupIterations: 1,
        maxDuration: .seconds(3),
        maxIterations: 20,
        thresholds: [.wallClock: timeThresholds(), .throughput: timeThresholds()])
}

let benchmarks: @Sendable () -> Void = {
    for size in benchmarkSizes {
        let tag = sizeLabel(size)

        let build: (Benchmark, StreetSegments) -> Void = { benchmark, data in
            for _ in benchmark.scaledIterations {
                blackHole(SubterraPackedPeer(data))
            }
        }
        Benchmark("packed_build_\(tag)", configuration: buildConfiguration(), closure: build) {
            StreetSegments.generate(count: size, seed: benchmarkSeed)
        }

        // One iteration = 1000 queries (scalingFactor .kilo), so mallocCountTotal is allocations
        // per thousand queries.
        Benchmark("window_\(tag)", configuration: queryConfiguration()) { (benchmark: Benchmark, f: Fixture) in
            for i in benchmark.scaledIterations {
                f.packed.window(f.queries.windows[i % 1000], into: &f.ids)
            }
            blackHole(f.ids.count)
        } setup: { () -> Fixture in Fixture(size: size) }

        for k in [1, 10] {
            Benchmark("nearest\(k)_\(tag)", configuration: queryConfiguration()) { (benchmark: Benchmark, f: Fixture) in
                for i in benchmark.scaledIterations {
                    let p = f.queries.points[i % 1000]
                    f.packed.nearest(x: p.0, y: p.1, k: k, ids: &f.ids, distances: &f.distances)
                }
                blackHole(f.ids.count)
            } setup: { () -> Fixture in Fixture(size: size) }
        }

        Benchmark("within_\(tag)", configuration: queryConfiguration()) { (benchmark: Benchmark, f: Fixture) in
            for i in benchmark.scaledIterations {
                let p = f.queries.points[i % 1000]
                f.packed.within(x: p.0, y: p.1, r: f.queries.radii[i % 1000], into: &f.ids)
            }
            blackHole(f.ids.count)
        } setup: { () -> Fixture in Fixture(size: size) }

        Benchmark("dig_polygon_\(tag)", configuration: queryConfiguration()) { (benchmark: Benchmark, f: Fixture) in
            for i in benchmark.scaledIterations {
                f.packed.polygonWithin(ring: f.queries.polygons[i % 1000], r: 1, into: &f.ids)
            }
            blackHole(f.ids.count)
        } setup: { () -> Fixture in Fixture(size: size) }
    }
}

import Foundation
