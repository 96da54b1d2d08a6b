// subterra-compare: Subterra, Boost.Geometry and GEOS in one process, on the same data and the
// same queries, interleaved and repeated; the correctness gate runs first at every size.
//
//   subterra-compare run [--sizes 10000,100000,1000000] [--large] [--seed N] [--queries N]
//                        [--families streets,uniform,clustered,vermont] [--vermont DIR]
//                        [--reps N] [--gate-only] [--out compare.json]
//                        [--workloads index,digcheck] [--dig-sites N] [--dig-families district,uniform,clustered]
//                        [--postgis CONNINFO | --no-postgis REASON]
//   subterra-compare report --compare compare.json [--thresholds thresholds.txt]
//                           [--ratios Thresholds/ratios.json] --out reports/YYYY-MM-DD [--readme ../README.md]
//   subterra-compare update-ratios --compare compare.json --out Thresholds/ratios.json [--tolerance 0.3]
//   subterra-compare profile --peer subterra|boost|geos --workload nearest10 [--size N] [--seconds S]
//                            [--family F] (one peer, one workload, in a loop: for `perf record`/callgrind)
//   subterra-compare dump --family F --size N [--queries N] [--seed N] --out FILE
//                         (data and queries as binary, for PeerForms/boost-forms.cpp and geos-forms.cpp)
//
// --families: each family runs at every --sizes size, or at its own when written family@N[/N…]
// (the nightly: streets,uniform@1000000,clustered@1000000,vermont@1000000). Default: all four.
// The Vermont files are found by --vermont DIR, else $SUBTERRA_VERMONT_SEWER, else
// ../shared/datasets/vermont-sewer next to the repository checkout.
import BenchCore
import CMallocCount
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Sendable func log(_ s: String) { logLine(s) }

func die(_ s: String, code: Int32 = 64) -> Never {
    logLine("subterra-compare: \(s)")
    exit(code)
}

let rawArgs = Array(CommandLine.arguments.dropFirst())
let command = rawArgs.first.map { $0.hasPrefix("--") ? "run" : $0 } ?? "run"
let args = rawArgs.first.map { $0.hasPrefix("--") } ?? true ? rawArgs : Array(rawArgs.dropFirst())

func option(_ name: String) -> String? {
    guard let i = args.firstIndex(of: name) else { return nil }
    guard i + 1 < args.count else { die("\(name) needs a value") }
    return args[i + 1]
}
func flag(_ name: String) -> Bool { args.contains(name) }

switch command {
case "run":
    var sizes = (option("--sizes") ?? "10000,100000,1000000").split(separator: ",").map { s -> Int in
        guard let v = Int(s), v > 0 else { die("--sizes: '\(s)' is not a positive integer") }
        return v
    }
    if flag("--large") { sizes.append(10_000_000) }
    // (family, sizes) in the order given; a family without @ runs at every size.
    var familyRuns = [(DataFamily, [Int])]()
    for item in (option("--families") ?? "all").split(separator: ",") {
        let parts = item.split(separator: "@", maxSplits: 1).map(String.init)
        let families: [DataFamily]
        switch DataFamily.parseList(parts[0]) {
        case .success(let f): families = f
        case .failure(let e): die("--families: \(e)")
        }
        let own = parts.count > 1 ? parts[1].split(separator: "/").map { s -> Int in
            guard let v = Int(s), v > 0 else { die("--families: '\(s)' in '\(item)' is not a positive size") }
            return v
        } : sizes
        for f in families where !familyRuns.contains(where: { $0.0 == f }) { familyRuns.append((f, own)) }
    }
    let vermontDir = option("--vermont")
    let seed: UInt64 = option("--seed").map { s in
        guard let v = UInt64(s) else { die("--seed: '\(s)' is not an unsigned integer") }
        return v
    } ?? 20_261_130
    let queryCount = option("--queries").map { s in
        guard let v = Int(s), v > 0 else { die("--queries: '\(s)' is not a positive integer") }
        return v
    } ?? 2000
    let reps = option("--reps").map { s in
        guard let v = Int(s), v >= 1 else { die("--reps: '\(s)' is not a positive integer") }
        return v
    } ?? 3
    let out = option("--out") ?? "compare.json"
    let gateOnly = flag("--gate-only")
    let workloads = Set((option("--workloads") ?? "index,digcheck").split(separator: ",").map(String.init))
    for w in workloads where w != "index" && w != "digcheck" {
        die("--workloads: unknown workload '\(w)'; use index, digcheck or both")
    }
    // The dig check's maps: "district" (the generator's streets) and/or uniform / clustered
    // segments carrying the district's attributes.
    let digFamilies: [DataFamily?] = (option("--dig-families") ?? "district").split(separator: ",").map { name in
        if name == "district" { return nil }
        guard let f = DataFamily(rawValue: String(name)), f == .uniform || f == .clustered else {
            die("--dig-families: '\(name)' is not district, uniform or clustered")
        }
        return f
    }
    let digSites = option("--dig-sites").map { s in
        guard let v = Int(s), v > 0 else { die("--dig-sites: '\(s)' is not a positive integer") }
        return v
    } ?? 1000
    // The PostGIS peer runs only when the nightly script started a server; without one it is
    // reported as skipped, with the reason, never left out silently.
    let env = ProcessInfo.processInfo.environment
    let noPostgis = option("--no-postgis")
    let postgis = noPostgis == nil ? option("--postgis") ?? env["SUBTERRA_POSTGIS"] : nil
    if workloads.contains("digcheck") && postgis == nil && noPostgis == nil {
        die("digcheck needs --postgis CONNINFO (a running server) or --no-postgis REASON (reported as skipped)")
    }
    var notes = [String]()
    if workloads.contains("digcheck"), postgis != nil, let v = env["SUBTERRA_POSTGIS_VERSION"] {
        notes.append("digcheck: PostGIS peer \(v) on a loopback port (with-postgis.sh)")
    }
    if workloads.contains("digcheck"), let why = noPostgis {
        notes.append("digcheck: PostGIS peer SKIPPED: \(why)")
        log("  PostGIS peer skipped: \(why)")
    }
    let load0 = loadAverage()
    // Allocations per query come from CMallocCount's malloc wrappers; say so when they are not
    // in effect (another malloc won symbol lookup), rather than report zeros.
    if bench_malloc_count_linked() == 0 || !allocationCountingActive() {
        notes.append("allocations per query NOT measured: the malloc wrappers are not in effect in this process")
        log("  allocation counting is not in effect; allocs/query columns will be empty")
    }
    var results = [WorkloadResult]()
    /// The index workloads of one family at one size (builds, gate, timed queries); empty with
    /// --gate-only.
    func indexWorkloads(family: DataFamily, size: Int) -> [WorkloadResult] {
        var out = [WorkloadResult]()
        log("size \(size): \(family.rawValue) segments and \(queryCount) queries of each kind (seed \(seed))")
        let data: SegmentSet
        switch Result(catching: { () throws(DataFamilyError) -> SegmentSet in
            try SegmentSet.family(family, count: size, seed: seed, vermontDirectory: vermontDir)
        }) {
        case .success(let d): data = d
        case .failure(let error): die(error.description, code: 2)
        }
        let runner = SizeRunner(family: family, data: data, seed: seed, queryCount: queryCount, repetitions: reps, log: log)
        // Build first (timed, but nothing is reported until the gate has passed): the gate
        // runs on exactly the indexes that the queries are then timed on.
        // At 1e7 (--large) a dynamic build takes minutes per peer: one repetition there.
        let (dyn, dynamic) = runner.runBuild(
            "build_dynamic", Peers.dynamic(size: size), repetitionsOverride: size >= 10_000_000 ? 1 : nil)
        let (build, packed) = runner.runBuild("build_packed", Peers.packed)
        // Gate: packed peers against each other on every query, dynamic ones on 500, and the
        // brute-force oracle on a sample (its cost grows with n, so fewer queries at larger sizes).
        let bruteQueries = size <= 100_000 ? 100 : (size <= 1_000_000 ? 10 : 0)
        do {
            try Gate.check(peers: packed, data: runner.data, queries: runner.queries, limit: queryCount, size: size)
            try Gate.check(peers: [packed[0]] + dynamic, data: runner.data, queries: runner.queries,
                           limit: min(queryCount, 500), size: size)
            if bruteQueries > 0 {
                try Gate.check(peers: [BruteForcePeer(runner.data), packed[0]], data: runner.data,
                               queries: runner.queries, limit: bruteQueries, size: size)
            }
        } catch {
            log("family \(family.rawValue): " + error.description)
            exit(3)
        }
        log("  gate passed (\(family.rawValue)): packed \(packed.map(\.name)) on \(queryCount) queries per workload, dynamic "
            + "\(dynamic.map(\.name)) on \(min(queryCount, 500))"
            + (bruteQueries > 0 ? ", brute force on \(bruteQueries)" : ""))
        if gateOnly { return [] }
        for r in [dyn, build] {
            log("  \(r.workload): " + r.peers.map { "\($0.peer) \(fmt($0.throughput)) items/s, \(fmt($0.bytesPerItem ?? .nan)) B/item" }
                .joined(separator: ", "))
        }
        out.append(dyn)
        out.append(build)
        for w in SizeRunner.queryWorkloads {
            out.append(runner.runQueries(w, packed))
        }
        // The dynamic index (built one by one above, so all its tiers are in use) against the
        // packed one, same queries, interleaved.
        let reference = RenamedPeer(packed[0], name: "packed")
        for w in SizeRunner.queryWorkloads {
            out.append(runner.runQueries(SizeRunner.dynamicPrefix + w, [dynamic[0], reference]))
        }
        _ = consume dynamic
        return out
    }
    let allSizes = (sizes + familyRuns.flatMap(\.1)).reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
    for size in allSizes {
        if workloads.contains("index") {
            for (family, own) in familyRuns where own.contains(size) { results += indexWorkloads(family: family, size: size) }
        }
        guard sizes.contains(size) else { continue }
        if workloads.contains("digcheck") {
            // Its own scope, so the district, the engine and the PostGIS connection are released
            // before the next size.
          for digFamily in digFamilies {
            do {
                log("size \(size): digcheck (district generator\(digFamily.map { ", on \($0.rawValue) segments" } ?? ""), \(digSites) dig sites, seed \(seed))")
                let bench = try DigCheckBench(size: size, seed: seed, siteCount: digSites, family: digFamily, log: log)
                notes += bench.notes
                var peer: PostGISDigPeer? = nil
                if let conninfo = postgis {
                    let p = try PostGISDigPeer(
                        conninfo: conninfo, segments: bench.district.network.segments, table: bench.table, log: log)
                    notes.append("digcheck \(sizeLabel(size)): PostGIS load \(fmt(p.loadSeconds)) s (COPY), GiST index "
                        + "\(fmt(p.indexSeconds)) s, VACUUM ANALYZE \(fmt(p.analyzeSeconds)) s")
                    if let site = bench.sites.first {
                        let plan = try p.explain(site)
                        guard plan.contains("pipes_geom") else {
                            die("PostGIS does not use the GiST index for the dig check:\n\(plan)", code: 3)
                        }
                    }
                    do {
                        let (n, c) = try bench.gate(p)
                        log("  digcheck gate passed: PostGIS's conflict set equals the engine's on all \(n) sites "
                            + "(\(c) conflicts, \(fmt(Double(c) / Double(max(n, 1)))) per site)")
                        notes.append("digcheck \(sizeLabel(size)): gate passed on \(n) sites, \(fmt(Double(c) / Double(max(n, 1)))) conflicts per site")
                    } catch let e as GateFailure {
                        log(e.description)
                        exit(3)
                    }
                    peer = p
                }
                if !gateOnly {
                    results.append(try bench.time(postgis: peer, repetitions: reps))
                    let scaling = try bench.batchScaling(threads: [1, 2], repetitions: reps)
                    if let one = scaling.first?.sitesPerSecond, one > 0 {
                        notes.append("digcheck \(digFamily?.rawValue ?? "district") \(sizeLabel(size)): batch digChecks "
                            + scaling.map { "\($0.threads) thread\($0.threads == 1 ? "" : "s") \(fmt($0.sitesPerSecond)) sites/s (\(fmt($0.sitesPerSecond / one))×)" }
                                .joined(separator: ", "))
                    }
                }
            } catch {
                die("digcheck at \(size): \(error)", code: 2)
            }
          }
        }
    }
    if gateOnly { exit(0) }
    let run = CompareRun(
        date: isoDate(), seed: seed, sizes: allSizes, repetitions: reps, gate: "passed",
        machine: machineInfo(load0: load0), results: results, notes: notes.isEmpty ? nil : notes,
        memory: processMemory())
    do {
        try writeFile(out, encodeJSON(run))
    } catch {
        die("cannot write \(out): \(error)", code: 74)
    }
    if run.results.contains(where: { $0.workload != "digcheck" }) { print(markdownTable(run)) }
    let dynamicRows = dynamicTable(run)
    if !dynamicRows.isEmpty { print(dynamicRows) }
    let dig = digCheckTable(run)
    if !dig.isEmpty { print(dig) }
    for note in notes { print("- \(note)") }

case "report":
    guard let comparePath = option("--compare") else { die("report needs --compare FILE") }
    guard let outDir = option("--out") else { die("report needs --out DIR") }
    do {
        let run = try decodeCompare(readFile(comparePath))
        let thresholds = try option("--thresholds").map { try readFile($0) }
        let ratios = try option("--ratios").map { path in
            try JSONDecoder().decode(RatioThresholds.self, from: Data(readFile(path).utf8))
        }
        let outcome = try writeReport(
            run: run, thresholdLog: thresholds, ratioThresholds: ratios, to: outDir, readme: option("--readme"))
        log("report written to \(outDir)")
        print("thresholds: \(outcome.status)")
        for d in outcome.improvements { print("  improved: \(d.benchmark) \(d.metric)") }
        for d in outcome.regressions { print("  REGRESSION: \(d.benchmark) \(d.metric)") }
        // Only a regression fails the nightly; improvements are reported.
        if !outcome.regressions.isEmpty { exit(1) }
    } catch {
        die("report: \(error)", code: 74)
    }

case "update-ratios":
    // Stores the Subterra/best-peer ratios of a run as the new reference (after an intended change).
    guard let comparePath = option("--compare"), let outPath = option("--out") else {
        die("update-ratios needs --compare FILE --out FILE")
    }
    do {
        let run = try decodeCompare(readFile(comparePath))
        let tolerance = option("--tolerance").flatMap(Double.init) ?? 0.35
        try writeFile(outPath, encodeJSON(RatioThresholds(from: run, tolerance: tolerance)))
        log("ratio thresholds written to \(outPath)")
    } catch {
        die("update-ratios: \(error)", code: 74)
    }

case "profile":
    // No timing is reported on purpose: this is the process a profiler attaches to. The build and
    // the query generation run first; the loop is everything after the "looping" line.
    let size = option("--size").flatMap(Int.init) ?? 1_000_000
    let seconds = option("--seconds").flatMap(Double.init) ?? 10
    let peerName = option("--peer") ?? "subterra"
    let workload = option("--workload") ?? "nearest10"
    guard let kind = SizeRunner.queryWorkloads.firstIndex(of: workload) else {
        die("--workload: one of \(SizeRunner.queryWorkloads.joined(separator: ", "))")
    }
    // "subterra-dynamic": the dynamic segment index built one insert at a time, as in the run
    // (every tier in use); "subterra-dynamic-bulk": built in one batch (everything in its base
    // tree), to tell the cost of the tiers from that of the dynamic code path.
    let factories = Peers.packed + [
        PeerFactory("subterra-dynamic") { SubterraDynamicPeer($0) },
        PeerFactory("subterra-dynamic-bulk") { SubterraDynamicPeer($0, batch: Int.max) },
    ]
    guard let factory = factories.first(where: { $0.name == peerName }) else {
        die("--peer: one of \(factories.map(\.name).joined(separator: ", "))")
    }
    guard let family = DataFamily(rawValue: option("--family") ?? "streets") else {
        die("--family: one of \(DataFamily.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    let data: SegmentSet
    do {
        data = try SegmentSet.family(family, count: size, seed: 20_261_130, vermontDirectory: option("--vermont"))
    } catch {
        die(error.description, code: 2)
    }
    let queries = QuerySet.make(count: 2000, around: data, seed: 20_261_130)
    let peer = factory.build(data)
    log("profile: \(peerName) \(workload) at \(size), looping for \(seconds) s")
    let loops = profileLoop(peer, kind: kind, queries: queries, seconds: seconds)
    log("profile: \(loops) queries")

case "dump":
    guard let family = DataFamily(rawValue: option("--family") ?? "streets") else {
        die("--family: one of \(DataFamily.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    guard let outPath = option("--out") else { die("dump needs --out FILE") }
    let size = option("--size").flatMap(Int.init) ?? 1_000_000
    let seed = option("--seed").flatMap(UInt64.init) ?? 20_261_130
    do {
        let data = try SegmentSet.family(family, count: size, seed: seed, vermontDirectory: option("--vermont"))
        let queries = QuerySet.make(count: option("--queries").flatMap(Int.init) ?? 2000, around: data, seed: seed)
        try writeBinary(outPath, dumpBytes(data, queries))
        log("dump: \(data.count) \(family.rawValue) segments, \(queries.points.count) queries of each kind -> \(outPath)")
    } catch {
        die("dump: \(error)", code: 74)
    }

default:
    die("unknown command '\(command)'; use run, report, update-ratios, profile or dump")
}
