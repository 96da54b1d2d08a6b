import SubterraGeometry
/// How to build one peer: used for timing builds and to get the index the queries run on.
public struct PeerFactory: Sendable {
    public var name: String
    public var build: @Sendable (SegmentSet) -> any IndexPeer
    public init(_ name: String, build: @escaping @Sendable (SegmentSet) -> any IndexPeer) {
        self.name = name
        self.build = build
    }
}

/// All peers in the side-by-side run. Subterra comes first: it is the gate's reference and the
/// numerator of every ratio.
public enum Peers {
    public static var packed: [PeerFactory] {
        [
            PeerFactory("subterra") { SubterraPackedPeer($0) },
            PeerFactory("boost") { CIndexPeer.boost($0, packed: true) },
            PeerFactory("geos") { CIndexPeer.geos($0) },
        ]
    }
    /// One-by-one insertion up to 10^6 items; batches of 1024 edits at 10^7 (see
    /// `SubterraDynamicPeer`).
    public static func dynamic(size: Int) -> [PeerFactory] {
        [
            size <= 1_000_000
                ? PeerFactory("subterra") { SubterraDynamicPeer($0) }
                : PeerFactory("subterra-batch1024") { SubterraDynamicPeer($0, batch: 1024) },
            PeerFactory("boost") { CIndexPeer.boost($0, packed: false) },
        ]
    }
}

/// Runs every workload at one size: build, gate, then interleaved timed repetitions.
public struct SizeRunner {
    public var family: DataFamily
    public var data: SegmentSet
    public var queries: QuerySet
    public var repetitions: Int
    public var log: (String) -> Void

    /// Runs on `data` (the segments of `family`) with a query set anchored on them.
    public init(family: DataFamily, data: SegmentSet, seed: UInt64, queryCount: Int, repetitions: Int,
                log: @escaping (String) -> Void) {
        self.family = family
        self.data = data
        queries = QuerySet.make(count: queryCount, around: data, seed: seed)
        self.repetitions = repetitions
        self.log = log
    }

    /// Rotates the peer order each repetition so no peer always runs first (cold caches) or
    /// right after the most memory-hungry one.
    func rotated<T>(_ xs: [T], _ r: Int) -> [T] {
        guard !xs.isEmpty else { return xs }
        let k = r % xs.count
        return Array(xs[k...] + xs[..<k])
    }

    /// Times builds per peer (`repetitions` of them, or `repetitionsOverride`), interleaved, and
    /// returns the figures plus the last index built by each peer for the gate and the queries.
    /// Memory is taken on each peer's first build: heap in use (mallinfo2) and resident set just
    /// before and just after, with the index alive, after returning free memory to the kernel.
    public func runBuild(_ workload: String, _ factories: [PeerFactory], repetitionsOverride: Int? = nil)
        -> (WorkloadResult, [any IndexPeer])
    {
        let n = data.count
        var seconds = [[Double]](repeating: [], count: factories.count)
        var heap = [Int](repeating: 0, count: factories.count)
        var rss = [Int](repeating: 0, count: factories.count)
        var peak = [Int?](repeating: nil, count: factories.count)
        var live = [(any IndexPeer)?](repeating: nil, count: factories.count)
        for r in 0..<(repetitionsOverride ?? repetitions) {
            for j in rotated(Array(factories.indices), r) {
                live[j] = nil  // free the previous build first, so two never coexist
                trimHeap()
                // The high-water mark restarts at the current resident set, so after the build it
                // is this build's peak (temporaries included), not an earlier peer's.
                let canPeak = r == 0 && resetPeakResident()
                let heap0 = heapBytesInUse(), rss0 = residentBytes()
                let t0 = nowNanos()
                let peer = factories[j].build(data)
                let t1 = nowNanos()
                if r == 0 {
                    heap[j] = heapBytesInUse() - heap0
                    rss[j] = residentBytes() - rss0
                    if canPeak { peak[j] = max(0, peakResidentBytes() - rss0) }
                }
                seconds[j].append(Double(t1 - t0) / 1e9)
                live[j] = peer
            }
        }
        var figures = [PeerFigures]()
        for (j, f) in factories.enumerated() {
            let reported = live[j]?.reportedBytes
            var renumbered: Double? = nil
            if live[j] is SubterraPackedPeer, n > 0 {
                // Generated coordinates are finite by construction; a throw is a benchmark bug.
                let positional = try! SegmentIndex.renumbered(segments: segmentList(data)).index
                renumbered = Double(positional.memoryFootprint) / Double(n)
            }
            figures.append(PeerFigures(
                peer: f.name, throughput: Double(n) / median(seconds[j]), repetitionSeconds: seconds[j],
                p50Nanos: nil, p99Nanos: nil, heapBytes: heap[j], residentBytes: rss[j],
                reportedBytes: reported, bytesPerItem: Double(heap[j]) / Double(max(n, 1)),
                reportedBytesPerItem: reported.map { Double($0) / Double(max(n, 1)) },
                peakResidentDeltaBytes: peak[j], renumberedBytesPerItem: renumbered))
        }
        return (WorkloadResult(workload: workload, size: n, queries: 0, peers: figures, family: family.rawValue),
                live.compactMap { $0 })
    }

    /// The query workloads in the order reported.
    public static let queryWorkloads = ["window", "nearest1", "nearest10", "within", "dig_polygon"]

    /// Prefix of the workloads that time the dynamic index's queries against the packed one's
    /// ("dynamic_window", …): the issue-12 aim of a dynamic form within 1.5× of the packed.
    public static let dynamicPrefix = "dynamic_"

    /// Queries per interleaving chunk: small enough that a burst of load from other processes
    /// lands on every peer alike, large enough that switching peers costs nothing measurable.
    public static let chunk = 50

    /// Times one query workload on every peer. Throughput is the median over all chunks of all
    /// repetitions of (queries in chunk / chunk time): a preempted chunk (milliseconds, when six
    /// engineers build on two cores) is an outlier instead of a third of the total. The raw sums per
    /// repetition are kept in `repetitionSeconds`. Within each repetition the queries run in chunks,
    /// and the peers take turns chunk by chunk (rotating who goes first), so on a shared machine
    /// interference is spread evenly and the ratios stay meaningful even when absolute times
    /// are not.
    /// A workload named with `dynamicPrefix` runs the query kind named after the prefix.
    public func runQueries(_ workload: String, _ peers: [any IndexPeer]) -> WorkloadResult {
        let q = queries
        let count = q.points.count
        let base = workload.hasPrefix(SizeRunner.dynamicPrefix)
            ? String(workload.dropFirst(SizeRunner.dynamicPrefix.count)) : workload
        guard let kind = SizeRunner.queryWorkloads.firstIndex(of: base) else {
            preconditionFailure("unknown query workload \(workload)")
        }
        var seconds = [[Double]](repeating: [], count: peers.count)
        var latencies = [[UInt64]](repeating: [], count: peers.count)
        var chunkRates = [[Double]](repeating: [], count: peers.count)
        for l in latencies.indices { latencies[l].reserveCapacity(count * repetitions) }
        var ids = [UInt32](), dists = [Double]()
        ids.reserveCapacity(4096)
        dists.reserveCapacity(64)
        var checksum = 0
        // Allocation calls on this thread inside each peer's timed loops (two thread-local
        // reads per chunk; the wrappers' own cost is one add per allocation, for every peer alike).
        var allocations = [UInt64](repeating: 0, count: peers.count)
        for r in 0..<repetitions {
            var total = [UInt64](repeating: 0, count: peers.count)
            var start = 0
            var turn = r
            while start < count {
                let end = min(start + SizeRunner.chunk, count)
                for j in rotated(Array(peers.indices), turn) {
                    let p = peers[j]
                    let before = total[j]
                    let allocs0 = allocationsOnThisThread()
                    for i in start..<end {
                        let t0 = nowNanos()
                        runQuery(p, kind: kind, i, of: q, ids: &ids, distances: &dists)
                        let dt = nowNanos() - t0
                        total[j] += dt
                        latencies[j].append(dt)
                        checksum &+= ids.count
                    }
                    allocations[j] &+= allocationsOnThisThread() &- allocs0
                    chunkRates[j].append(Double(end - start) * 1e9 / Double(max(total[j] - before, 1)))
                }
                start = end
                turn += 1
            }
            for j in peers.indices { seconds[j].append(Double(total[j]) / 1e9) }
        }
        keepAlive(checksum)
        let counting = allocationCountingActive()
        let timedQueries = Double(count * repetitions)
        var figures = [PeerFigures]()
        for (j, p) in peers.enumerated() {
            let lat = latencies[j].sorted()
            var f = PeerFigures(
                peer: p.name, throughput: median(chunkRates[j]), repetitionSeconds: seconds[j],
                p50Nanos: percentile(lat, 0.5), p99Nanos: percentile(lat, 0.99),
                heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil)
            if counting {
                f.allocationsPerQuery = Double(allocations[j]) / timedQueries
                if let s = p as? SubterraPackedPeer {
                    f.arrayFormAllocationsPerQuery = s.arrayFormAllocationsPerQuery(workload, queries: q)
                }
            }
            figures.append(f)
        }
        log("  \(workload): " + figures.map {
            "\($0.peer) \(fmt($0.throughput)) q/s" + ($0.allocationsPerQuery.map { ", \(fmt($0)) allocs/q" } ?? "")
                + ($0.arrayFormAllocationsPerQuery.map { " (array form \(fmt($0)))" } ?? "")
        }.joined(separator: ", "))
        return WorkloadResult(workload: workload, size: data.count, queries: count, peers: figures, family: family.rawValue)
    }
}

/// Three significant figures, no Foundation.
public func fmt(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    if x == 0 { return "0" }
    let mag = Int((log10(abs(x))).rounded(.down))
    let decimals = max(0, 2 - mag)
    let scale = pow(10.0, Double(decimals))
    let v = (x * scale).rounded() / scale
    if decimals == 0 { return String(Int(v)) }
    var s = String(v)
    if let dot = s.firstIndex(of: ".") {
        let have = s.distance(from: dot, to: s.endIndex) - 1
        if have < decimals { s += String(repeating: "0", count: decimals - have) }
    }
    return s
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one workload on one peer round-robin over the query set until `seconds` have passed;
/// returns the number of queries run. For profilers (`subterra-compare profile`), not for figures.
public func profileLoop(_ p: any IndexPeer, kind: Int, queries q: QuerySet, seconds: Double) -> Int {
    var ids = [UInt32](), dists = [Double]()
    let deadline = nowNanos() + UInt64(seconds * 1e9)
    var done = 0, checksum = 0
    while nowNanos() < deadline {
        for i in q.points.indices {
            runQuery(p, kind: kind, i, of: q, ids: &ids, distances: &dists)
            checksum &+= ids.count
        }
        done += q.points.count
    }
    keepAlive(checksum)
    return done
}

/// Query `i` of workload `kind` (an index into `SizeRunner.queryWorkloads`) on `p`.
@inline(__always)
func runQuery(_ p: any IndexPeer, kind: Int, _ i: Int, of q: QuerySet, ids: inout [UInt32], distances dists: inout [Double]) {
    switch kind {
    case 0: p.window(q.windows[i], into: &ids)
    case 1: p.nearest(x: q.points[i].0, y: q.points[i].1, k: 1, ids: &ids, distances: &dists)
    case 2: p.nearest(x: q.points[i].0, y: q.points[i].1, k: 10, ids: &ids, distances: &dists)
    case 3: p.within(x: q.points[i].0, y: q.points[i].1, r: q.radii[i], into: &ids)
    default: p.polygonWithin(ring: q.polygons[i], r: 1, into: &ids)
    }
}
