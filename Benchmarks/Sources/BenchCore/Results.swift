/// One peer's figures for one workload at one size, all from the same process and data.
public struct PeerFigures: Codable, Sendable {
    public var peer: String
    /// Items per second for builds, queries per second otherwise (median of the repetitions).
    public var throughput: Double
    /// Seconds per repetition, in the order run.
    public var repetitionSeconds: [Double]
    /// Per-query latency percentiles over all repetitions, nanoseconds (queries only).
    public var p50Nanos: Double?
    public var p99Nanos: Double?
    /// Builds only: heap delta (mallinfo2) and resident-set delta with the index alive, and the
    /// index's own size report where it has one.
    public var heapBytes: Int?
    public var residentBytes: Int?
    public var reportedBytes: Int?
    public var bytesPerItem: Double?
    /// Queries: allocation calls (malloc, calloc, realloc, aligned forms) per query on the timing
    /// thread, counted over every timed query by subterra-compare's malloc wrappers (CMallocCount);
    /// for Subterra the allocation-free callback forms. Nil where the process cannot count.
    public var allocationsPerQuery: Double? = nil
    /// Subterra only: the same queries through the array-returning forms (`intersecting(_:where:)`,
    /// `nearest(k:toX:y:exactDistance:)`, `within(distance:…)`), one untimed pass.
    public var arrayFormAllocationsPerQuery: Double? = nil
    /// Builds: the index's own size report per item (`reportedBytes / n`); GEOS has none.
    public var reportedBytesPerItem: Double? = nil
    /// Builds: the resident-set high-water mark (VmHWM, reset just before this peer's first build
    /// through /proc/self/clear_refs) minus the resident set before it: the most memory the build
    /// held at once, temporaries included. Nil where the mark cannot be reset.
    public var peakResidentDeltaBytes: Int? = nil
    /// Subterra's packed build only: the own report per item of the same segments indexed with
    /// `SegmentIndex.renumbered(segments:)` (ids are leaf positions, no id array stored).
    public var renumberedBytesPerItem: Double? = nil
}

/// The process's peak resident set over a whole run (both kernel views).
public struct ProcessMemory: Codable, Sendable {
    /// `getrusage(RUSAGE_SELF).ru_maxrss` at the end of the run, bytes. Linux derives it from
    /// the same high-water mark, so the per-build resets lower it too.
    public var ruMaxRSSBytes: Int
    /// `/proc/self/status` VmHWM at the end of the run (since the last reset), bytes.
    public var vmHWMBytes: Int
    /// The largest VmHWM over the whole run, across the per-build resets, bytes.
    public var lifetimePeakBytes: Int
}

public struct WorkloadResult: Codable, Sendable {
    public var workload: String
    public var size: Int
    /// Queries per repetition (0 for builds).
    public var queries: Int
    public var peers: [PeerFigures]
    /// The data family (`DataFamily.rawValue`); nil in runs recorded before there were families
    /// (street data) and for the dig check (the district generator's own network).
    public var family: String? = nil

    /// The family shown in reports: the stored one, or "streets" for index workloads recorded
    /// before families existed; nil for the dig check.
    public var familyLabel: String? { family ?? (workload == "digcheck" ? nil : DataFamily.streets.rawValue) }

    /// Key of this result in stored ratio thresholds: "family/workload_size" (e.g.
    /// "vermont/window_1e6"); the dig check, which has no family, keeps "digcheck_size".
    /// "family/workload" ("streets/window"), or the workload alone for the dig check: the name of
    /// one chart series and of one entry of `summary.json`'s ratios.
    public var seriesLabel: String { familyLabel.map { "\($0)/\(workload)" } ?? workload }

    public var ratioKey: String {
        let base = "\(workload)_\(sizeLabel(size))"
        return familyLabel.map { "\($0)/\(base)" } ?? base
    }

    /// Subterra's throughput divided by the best peer's (> 1: Subterra is faster).
    public var ratioToBestPeer: Double? {
        guard let s = peers.first(where: { $0.peer.hasPrefix("subterra") })?.throughput else { return nil }
        let others = peers.filter { !$0.peer.hasPrefix("subterra") }.map(\.throughput)
        guard let best = others.max(), best > 0 else { return nil }
        return s / best
    }
}

public struct MachineInfo: Codable, Sendable {
    public var host: String
    public var cpu: String
    public var cores: Int
    public var memoryBytes: Int
    public var kernel: String
    public var toolchain: String
    public var loadAverageAtStart: Double
    public var loadAverageAtEnd: Double
}

public struct CompareRun: Codable, Sendable {
    public var date: String
    public var seed: UInt64
    public var sizes: [Int]
    public var repetitions: Int
    public var gate: String
    public var machine: MachineInfo
    public var results: [WorkloadResult]
    /// What the run skipped and why (e.g. the PostGIS peer when it could not be installed), and
    /// side figures (district generation, PostGIS load and index times); shown in every report.
    public var notes: [String]?
    /// Peak resident memory of the whole run (nil in reports written before it was recorded).
    public var memory: ProcessMemory?

    public init(date: String, seed: UInt64, sizes: [Int], repetitions: Int, gate: String, machine: MachineInfo,
                results: [WorkloadResult], notes: [String]? = nil, memory: ProcessMemory? = nil) {
        self.memory = memory
        self.date = date
        self.seed = seed
        self.sizes = sizes
        self.repetitions = repetitions
        self.gate = gate
        self.machine = machine
        self.results = results
        self.notes = notes
    }
}
