import Foundation
import Testing

@testable import BenchCore

@Suite struct ReportTests {
    /// Shape of package-benchmark's `thresholds check` text (box-drawing tables).
    let sample = """
        ```
        ======================================================================
        Deviations worse than threshold for SubterraIndexBenchmarks:window_1e5
        ======================================================================
        ```
        ╒══════════════════════════════════╤═════════╕
        │ Time (wall clock) (μs, %)        │    p90  │
        ╞══════════════════════════════════╪═════════╡
        │ p90                              │   120   │
        ╘══════════════════════════════════╧═════════╛
        ╒══════════════════════════════════╤═════════╕
        │ Malloc (total) (#, Δ)            │    p90  │
        ╘══════════════════════════════════╧═════════╛
        ```
        Deviations better than threshold for SubterraIndexBenchmarks:nearest1_1e4
        ```
        │ Throughput (# / s) (#, %)        │    p90  │
        """

    @Test func parsesRegressionsAndImprovementsSeparately() {
        let t = parseThresholdLog(sample)
        #expect(t.status == "regression")
        #expect(t.regressions == [
            ThresholdDeviation(benchmark: "SubterraIndexBenchmarks:window_1e5", metric: "Time (wall clock)"),
            ThresholdDeviation(benchmark: "SubterraIndexBenchmarks:window_1e5", metric: "Malloc (total)"),
        ])
        #expect(t.improvements == [
            ThresholdDeviation(benchmark: "SubterraIndexBenchmarks:nearest1_1e4", metric: "Throughput (# / s)")
        ])
        #expect(parseThresholdLog("all good").status == "pass")
        #expect(parseThresholdLog("Deviations better than threshold for A:b\n│ Time (wall clock) (μs, %) │").status
            == "improvement")
    }

    func run() -> CompareRun {
        let machine = MachineInfo(host: "h", cpu: "c", cores: 2, memoryBytes: 1 << 34, kernel: "k", toolchain: "t",
                                  loadAverageAtStart: 1, loadAverageAtEnd: 2)
        func r(_ w: String, _ n: Int, _ s: Double, _ b: Double, _ g: Double) -> WorkloadResult {
            WorkloadResult(workload: w, size: n, queries: 100, peers: [("subterra", s), ("boost", b), ("geos", g)].map {
                PeerFigures(peer: $0.0, throughput: $0.1, repetitionSeconds: [1], p50Nanos: 1000, p99Nanos: 2000,
                            heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil)
            })
        }
        return CompareRun(date: "2026-11-30T00:00:00Z", seed: 1, sizes: [10_000, 100_000], repetitions: 3, gate: "passed",
                          machine: machine, results: [r("window", 10_000, 200, 100, 50), r("window", 100_000, 90, 100, 40)])
    }

    @Test func ratioIsAgainstTheBestPeer() {
        let rs = run().results
        #expect(rs[0].ratioToBestPeer == 2)
        #expect(rs[1].ratioToBestPeer == 0.9)
    }

    @Test func reportFilesAndReadmeBlock() throws {
        let dir = NSTemporaryDirectory() + "bench-report-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let readme = dir + "-README.md"
        defer { try? FileManager.default.removeItem(atPath: readme) }
        try writeFile(readme, "# Title\n\nkeep me\n")
        try writeReport(run: run(), thresholdLog: nil, to: dir, readme: readme)
        for f in ["summary.json", "summary.md", "throughput-streets-window.svg", "ratio-to-best-peer.svg"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/" + f), "\(f) missing")
        }
        let svg = try readFile(dir + "/throughput-streets-window.svg")
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("subterra") && svg.contains("boost") && svg.contains("geos"))
        // Twice: the block is replaced, not appended again, and the rest is untouched.
        try writeReport(run: run(), thresholdLog: nil, to: dir, readme: readme)
        let text = try readFile(readme)
        #expect(text.hasPrefix("# Title\n\nkeep me\n"))
        #expect(text.components(separatedBy: "<!-- bench:begin -->").count == 2)
        #expect(text.contains("| streets | 1e5 | window |"))
        let summary = try JSONSerialization.jsonObject(with: Data(readFile(dir + "/summary.json").utf8)) as? [String: Any]
        #expect((summary?["run"] as? [String: Any])?["seed"] as? Int == 1)
    }

    /// Dynamic-vs-packed rows: their own table (dynamic ÷ packed), the stored ratio is the same
    /// quotient, and the side-by-side table against Boost and GEOS leaves them out.
    @Test func dynamicRowsGetTheirOwnTable() {
        func peer(_ name: String, _ q: Double) -> PeerFigures {
            PeerFigures(peer: name, throughput: q, repetitionSeconds: [1], p50Nanos: 2000, p99Nanos: 4000,
                        heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil)
        }
        var base = run()
        let dyn = WorkloadResult(workload: SizeRunner.dynamicPrefix + "nearest1", size: 100_000, queries: 100,
                                 peers: [peer("subterra", 300), peer("packed", 600)], family: "vermont")
        base.results.append(dyn)
        #expect(dyn.ratioToBestPeer == 0.5)
        #expect(dyn.ratioKey == "vermont/dynamic_nearest1_1e5")
        let table = dynamicTable(base)
        #expect(table.contains("| vermont | 1e5 | nearest1 | 300 q/s | 600 q/s | 0.500× | 2.00/4.00 · 2.00/4.00 |"))
        #expect(!markdownTable(base).contains("dynamic_"))
        #expect(dynamicTable(run()).isEmpty)
    }
}
