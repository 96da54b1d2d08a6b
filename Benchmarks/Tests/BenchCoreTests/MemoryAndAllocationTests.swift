import Foundation
import SubterraIndex
import Testing

@testable import BenchCore

/// The figures the auditor asked for in the report (allocations per query, peak memory, own
/// bytes/item), the ratio chart's ticks and the digcheck ratio entry.
@Suite struct MemoryAndAllocationTests {
    func machine() -> MachineInfo {
        MachineInfo(host: "h", cpu: "c", cores: 2, memoryBytes: 1 << 34, kernel: "k", toolchain: "t",
                    loadAverageAtStart: 1, loadAverageAtEnd: 2)
    }

    func run() -> CompareRun {
        func q(_ p: String, _ t: Double, allocs: Double?, array: Double? = nil) -> PeerFigures {
            var f = PeerFigures(peer: p, throughput: t, repetitionSeconds: [1], p50Nanos: 1000, p99Nanos: 2000,
                                heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil)
            f.allocationsPerQuery = allocs
            f.arrayFormAllocationsPerQuery = array
            return f
        }
        func b(_ p: String, heap: Double, own: Double?, peakMB: Int) -> PeerFigures {
            PeerFigures(peer: p, throughput: 1e6, repetitionSeconds: [1], p50Nanos: nil, p99Nanos: nil, heapBytes: 1,
                        residentBytes: 1, reportedBytes: nil, bytesPerItem: heap, reportedBytesPerItem: own,
                        peakResidentDeltaBytes: peakMB << 20)
        }
        var dig = WorkloadResult(workload: "digcheck", size: 1000, queries: 10, peers: [q("subterra", 4, allocs: 12.5), q("postgis", 1, allocs: 7)])
        dig.peers[0].bytesPerItem = 150
        dig.peers[1].reportedBytesPerItem = 420
        return CompareRun(
            date: "2026-11-30T00:00:00Z", seed: 1, sizes: [1000], repetitions: 3, gate: "passed", machine: machine(),
            results: [
                WorkloadResult(workload: "build_packed", size: 1000, queries: 0, peers: [
                    b("subterra", heap: 40.1, own: 39.6, peakMB: 3), b("boost", heap: 48.3, own: 46.6, peakMB: 2),
                    b("geos", heap: 281, own: nil, peakMB: 5)]),
                WorkloadResult(workload: "window", size: 1000, queries: 100, peers: [
                    q("subterra", 3, allocs: 0, array: 3.05), q("boost", 2, allocs: 0), q("geos", 1, allocs: 9.43)]),
                dig,
            ],
            memory: ProcessMemory(ruMaxRSSBytes: 300 << 20, vmHWMBytes: 200 << 20, lifetimePeakBytes: 512 << 20))
    }

    @Test func tableShowsAllocationsAndMemoryPerPeer() throws {
        let t = markdownTable(run())
        #expect(t.contains("| 1e3 | window |"))
        #expect(t.contains("| 0 · 3.05 · 0 · 9.43 | — | — | — |"), "\(t)")
        #expect(t.contains("| — | — | 40.1 · 48.3 · 281 | 39.6 · 46.6 · — | 3.00 · 2.00 · 5.00 |"), "\(t)")
        let d = digCheckTable(run())
        #expect(d.contains("| 12.5 · 7.00 | 150 · 420 |"), "\(d)")

        let dir = NSTemporaryDirectory() + "mem-report-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try writeReport(run: run(), thresholdLog: nil, to: dir, readme: nil)
        let md = try readFile(dir + "/summary.md")
        #expect(md.contains("Peak resident set of the whole subterra-compare run: 512 MB"))
        #expect(md.contains("ru_maxrss 300 MB"))
        let json = try readFile(dir + "/summary.json")
        for key in ["allocationsPerQuery", "arrayFormAllocationsPerQuery", "reportedBytesPerItem",
                    "peakResidentDeltaBytes", "ruMaxRSSBytes", "vmHWMBytes", "lifetimePeakBytes"] {
            #expect(json.contains("\"\(key)\""), "summary.json lacks \(key)")
        }
        // Older compare.json files (without the new fields) still decode.
        let old = try encodeJSON(CompareRun(date: "d", seed: 1, sizes: [], repetitions: 1, gate: "passed",
                                            machine: machine(), results: []))
            .replacingOccurrences(of: "\"memory\"", with: "\"unused\"")
        #expect(try decodeCompare(old).memory == nil)
    }

    @Test func ratioChartTicksAreRoundPowersOfTwo() throws {
        let ticks = chartTicks(.log2, lo: -2, hi: 2).map(\.label)
        #expect(ticks == ["0.25", "0.5", "1", "2", "4"])
        #expect(chartTicks(.log10, lo: 3, hi: 5).map(\.label) == ["1e3", "1e4", "1e5"])
        let svg = svgLineChart(title: "r", yLabel: "ratio", series: [("window", [(1e4, 0.3), (1e6, 3.7)])],
                               yScale: .log2, referenceY: 1)
        for label in ["0.25", "0.5", ">1<", ">2<", ">4<"] { #expect(svg.contains(label), "no tick \(label)") }
        #expect(!svg.contains("0.707") && !svg.contains("1.41"))
        // The tick at 1 is where the dashed reference line is drawn.
        let dashed = try #require(svg.split(separator: "\n").first { $0.contains("stroke-dasharray") })
        let tick1 = try #require(svg.split(separator: "\n").first { $0.contains(">1</text>") })
        func y(_ line: Substring, _ attr: String) -> Double? {
            guard let r = line.range(of: attr + "=\"") else { return nil }
            return Double(line[r.upperBound...].prefix { $0 != "\"" })
        }
        #expect(abs((y(dashed, "y1") ?? 0) + 4 - (y(tick1, "y") ?? 0)) < 1e-6)
    }

    @Test func digcheckRatioEntryRoundTrips() throws {
        let stored = try JSONDecoder().decode(RatioThresholds.self, from: Data(readFile(
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
                "../../Thresholds/swift-6.3/ratios.json").path).utf8))
        #expect(stored.ratios["digcheck_1e6"] != nil)
        #expect(stored.rationale?["digcheck"] != nil)
        // A dig check at half the stored rate is named as a regression.
        var r = run()
        r.results = [WorkloadResult(workload: "digcheck", size: 1_000_000, queries: 10, peers: [
            PeerFigures(peer: "subterra", throughput: stored.ratios["digcheck_1e6"]! * 0.5, repetitionSeconds: [1],
                        p50Nanos: nil, p99Nanos: nil, heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil),
            PeerFigures(peer: "postgis", throughput: 1, repetitionSeconds: [1], p50Nanos: nil, p99Nanos: nil,
                        heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil),
        ])]
        let (worse, _) = stored.check(r)
        #expect(worse.map(\.benchmark) == ["subterra-compare:digcheck_1e6"])
        #expect(RatioThresholds(from: r).rationale?["digcheck"] == RatioThresholds.digCheckRationale)
    }

    /// The array forms (measured for allocations only) answer what the timed callback forms do,
    /// on every workload; ids are compared through the distances and counts, which do not depend
    /// on how the peer numbers its tree.
    @Test func arrayFormsAgreeWithCallbackForms() {
        let data = SegmentSet.streets(count: 3000, seed: 7)
        let q = QuerySet.make(count: 200, around: data, seed: 7)
        let peer = SubterraPackedPeer(data)
        var ids = [UInt32](), dists = [Double]()
        let brute = BruteForcePeer(data)
        var bids = [UInt32]()
        for i in 0..<200 {
            peer.window(q.windows[i], into: &ids)
            brute.window(q.windows[i], into: &bids)
            #expect(peer.windowArray(q.windows[i]).count == ids.count && ids.count == bids.count)
            for k in [1, 10] {
                peer.nearest(x: q.points[i].0, y: q.points[i].1, k: k, ids: &ids, distances: &dists)
                #expect(peer.nearestArray(x: q.points[i].0, y: q.points[i].1, k: k).map(\.distance) == dists)
            }
            peer.within(x: q.points[i].0, y: q.points[i].1, r: q.radii[i], into: &ids)
            #expect(peer.withinArray(x: q.points[i].0, y: q.points[i].1, r: q.radii[i]).count == ids.count)
            peer.polygonWithin(ring: q.polygons[i], r: 1, into: &ids)
            brute.polygonWithin(ring: q.polygons[i], r: 1, into: &bids)
            #expect(peer.polygonWithinArray(ring: q.polygons[i], r: 1).count == bids.count)
        }
        // No malloc wrappers in the test process: the counter says so instead of reporting zeros.
        #expect(!allocationCountingActive())
        #expect(peer.arrayFormAllocationsPerQuery("window", queries: q) == 0)
    }

    /// The high-water mark restarts at a reset and then covers a 64 MiB block touched in between.
    @Test func peakResidentCoversWhatRanSinceTheReset() throws {
        #if os(Linux)
        try #require(resetPeakResident())
        let base = residentBytes()
        let n = 64 << 20
        let block = UnsafeMutableRawPointer.allocate(byteCount: n, alignment: 4096)
        for off in stride(from: 0, to: n, by: 4096) { block.storeBytes(of: 1, toByteOffset: off, as: UInt8.self) }
        block.deallocate()
        trimHeap()
        #expect(peakResidentBytes() - base >= 60 << 20)
        let m = processMemory()
        #expect(m.lifetimePeakBytes >= m.vmHWMBytes && m.ruMaxRSSBytes > 0)
        #endif
    }
}
