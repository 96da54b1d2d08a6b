import Foundation

// Everything a nightly report needs: JSON in and out, the markdown table, hand-written SVG
// charts (no plotting dependency), the threshold-log parser and the README block.

/// Writes one line to standard error (progress and failures; stdout carries the table).
public func logLine(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

public func isoDate() -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: Date())
}

public func loadAverage() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8),
        let first = s.split(separator: " ").first, let v = Double(first)
    else { return .nan }
    return v
}

public func machineInfo(load0: Double) -> MachineInfo {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
        .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "unknown"
    var u = utsname()
    uname(&u)
    let kernel = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    let env = ProcessInfo.processInfo.environment
    return MachineInfo(
        host: ProcessInfo.processInfo.hostName, cpu: model, cores: ProcessInfo.processInfo.activeProcessorCount,
        memoryBytes: Int(ProcessInfo.processInfo.physicalMemory), kernel: kernel,
        toolchain: env["SUBTERRA_TOOLCHAIN"] ?? "unknown",
        loadAverageAtStart: load0, loadAverageAtEnd: loadAverage())
}

public func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try e.encode(value), as: UTF8.self)
}

public func decodeCompare(_ text: String) throws -> CompareRun {
    let d = JSONDecoder()
    d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try d.decode(CompareRun.self, from: Data(text.utf8))
}

public func readFile(_ path: String) throws -> String { try String(contentsOfFile: path, encoding: .utf8) }
public func writeFile(_ path: String, _ text: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

/// "1e4"-style label for a size.
public func sizeLabel(_ n: Int) -> String {
    var e = 0, v = n
    while v >= 10 && v % 10 == 0 { v /= 10; e += 1 }
    return v == 1 ? "1e\(e)" : "\(n)"
}

/// The dynamic index's queries against the packed index's, same run and queries: one row per
/// family, size and query kind. Empty when the run has none.
public func dynamicTable(_ run: CompareRun, sizes: [Int]? = nil) -> String {
    let rows = run.results.filter { $0.workload.hasPrefix(SizeRunner.dynamicPrefix) && (sizes?.contains($0.size) ?? true) }
    guard !rows.isEmpty else { return "" }
    var s = "| family | size | query | dynamic | packed | dynamic ÷ packed | p50 / p99 µs (dynamic · packed) |\n"
    s += "|---|---|---|---|---|---|---|\n"
    for r in rows {
        guard let d = r.peers.first(where: { $0.peer.hasPrefix("subterra") }),
              let p = r.peers.first(where: { $0.peer == "packed" }) else { continue }
        func lat(_ f: PeerFigures) -> String { "\(fmt((f.p50Nanos ?? .nan) / 1000))/\(fmt((f.p99Nanos ?? .nan) / 1000))" }
        s += "| \(r.familyLabel ?? "—") | \(sizeLabel(r.size)) | \(r.workload.dropFirst(SizeRunner.dynamicPrefix.count)) "
            + "| \(fmt(d.throughput)) q/s | \(fmt(p.throughput)) q/s | \(fmt(d.throughput / max(p.throughput, 1e-300)))× "
            + "| \(lat(d)) · \(lat(p)) |\n"
    }
    return s
}

/// The side-by-side table: one row per size and workload, throughput per peer, Subterra's ratio
/// to each peer and to the best, latency and memory where they apply.
public func markdownTable(_ run: CompareRun, sizes: [Int]? = nil) -> String {
    let peerNames = ["subterra", "boost", "geos"]
    var s = "| family | size | workload | subterra | boost | geos | vs boost | vs geos | p50 / p99 µs (S · B · G) "
        + "| allocs/query (S · S array · B · G) | heap B/item (S · B · G) | own B/item (S · B · G) | peak RSS Δ MB (S · B · G) |\n"
    s += "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    func opt(_ v: Double?) -> String { v.map { fmt($0) } ?? "—" }
    for r in run.results where (sizes?.contains(r.size) ?? true) && r.workload != "digcheck"
        && !r.workload.hasPrefix(SizeRunner.dynamicPrefix)
    {
        // Subterra's entry may be a variant ("subterra-batch1024"); its name is then shown.
        func fig(_ p: String) -> PeerFigures? { r.peers.first { p == "subterra" ? $0.peer.hasPrefix(p) : $0.peer == p } }
        let unit = r.queries == 0 ? "items/s" : "q/s"
        var row = "| \(r.familyLabel ?? "—") | \(sizeLabel(r.size)) | \(r.workload) |"
        for p in peerNames {
            row += fig(p).map { " \(fmt($0.throughput)) \(unit)\($0.peer != p ? " (\($0.peer))" : "") |" } ?? " — |"
        }
        let st = fig("subterra")?.throughput
        for p in ["boost", "geos"] {
            if let st, let o = fig(p)?.throughput, o > 0 { row += " \(fmt(st / o))× |" } else { row += " — |" }
        }
        if r.queries > 0 {
            row += " " + peerNames.map { p in
                fig(p).map { "\(fmt(($0.p50Nanos ?? .nan) / 1000))/\(fmt(($0.p99Nanos ?? .nan) / 1000))" } ?? "—"
            }.joined(separator: " · ") + " |"
            let allocs = [opt(fig("subterra")?.allocationsPerQuery), opt(fig("subterra")?.arrayFormAllocationsPerQuery),
                          opt(fig("boost")?.allocationsPerQuery), opt(fig("geos")?.allocationsPerQuery)]
            row += " " + allocs.joined(separator: " · ") + " | — | — | — |"
        } else {
            row += " — | — | " + peerNames.map { opt(fig($0)?.bytesPerItem) }.joined(separator: " · ") + " | "
            row += peerNames.map { name in
                opt(fig(name)?.reportedBytesPerItem) + (fig(name)?.renumberedBytesPerItem.map { " (\(fmt($0)) renumbered)" } ?? "")
            }.joined(separator: " · ") + " | "
            row += peerNames.map { p in opt(fig(p)?.peakResidentDeltaBytes.map { Double($0) / 1_048_576 }) }
                .joined(separator: " · ") + " |"
        }
        s += row + "\n"
    }
    return s
}

/// The end-to-end dig check table: per size, Subterra's and PostGIS's µs per site (p50 / p99) and
/// sites/s on one client thread, and the ratios (PostGIS time over Subterra's: above 1 = Subterra
/// faster). Empty when the run has no `digcheck` results.
public func digCheckTable(_ run: CompareRun, sizes: [Int]? = nil) -> String {
    let rows = run.results.filter { $0.workload == "digcheck" && (sizes?.contains($0.size) ?? true) }
    guard !rows.isEmpty else { return "" }
    var s = "| size | dig check | Subterra µs/site p50 / p99 | Subterra sites/s | PostGIS µs/site p50 / p99 | PostGIS sites/s "
        + "| ratio p50 | ratio p99 | ratio sites/s | allocs/site (S · P client) | B/pipe (S engine heap · P table+GiST) |\n"
    s += "|---|---|---|---|---|---|---|---|---|---|---|\n"
    func us(_ v: Double?) -> String { fmt((v ?? .nan) / 1000) }
    func opt(_ v: Double?) -> String { v.map { fmt($0) } ?? "—" }
    for r in rows {
        let ours = r.peers.first { $0.peer.hasPrefix("subterra") }
        let pg = r.peers.first { $0.peer == "postgis" }
        var row = "| \(sizeLabel(r.size)) | \(r.queries) sites\(r.family.map { " (\($0) map)" } ?? "") |"
        row += ours.map { " \(us($0.p50Nanos)) / \(us($0.p99Nanos)) | \(fmt($0.throughput)) |" } ?? " — | — |"
        if let pg, let ours {
            row += " \(us(pg.p50Nanos)) / \(us(pg.p99Nanos)) | \(fmt(pg.throughput)) |"
            row += " \(fmt((pg.p50Nanos ?? .nan) / (ours.p50Nanos ?? .nan)))× | \(fmt((pg.p99Nanos ?? .nan) / (ours.p99Nanos ?? .nan)))× |"
            row += " \(fmt(ours.throughput / pg.throughput))× |"
        } else {
            row += " skipped | skipped | — | — | — |"
        }
        row += " \(opt(ours?.allocationsPerQuery)) · \(pg == nil ? "skipped" : opt(pg?.allocationsPerQuery)) |"
        row += " \(opt(ours?.bytesPerItem)) · \(pg == nil ? "skipped" : opt(pg?.reportedBytesPerItem)) |"
        s += row + "\n"
    }
    return s
}

/// How the dig-check figures were taken, printed under their table.
public let digCheckExplanation = """
    Typical dig sites (4–8-vertex polygons 3–20 m across on streets, depth 1–3 m) over a generated district \
    with full attributes; each site is one `digCheck` (Subterra, one thread) or one prepared-statement round trip \
    over loopback libpq to PostgreSQL 15 + PostGIS 3 (`ST_DWithin` on a GiST index, `ST_Distance`, clearance \
    joined per rule key; the server backend is a second process). Both answer the same sites with the same \
    conflict sets (checked on every site before timing). Ratios: PostGIS time over Subterra's (above 1 = \
    Subterra faster). Allocations: calls to the malloc family per site on the client thread (Subterra's \
    `digCheck` returns a report, so it allocates; PostGIS's figure is libpq's client side only). Memory: the \
    engine's retained heap per pipe, and PostGIS's `pg_total_relation_size` (heap, GiST, TOAST) per pipe.
    """

/// What the memory and allocation columns of the index table mean, printed under it.
public let indexTableExplanation = """
    Ratios are Subterra's throughput over the peer's (above 1 = Subterra faster). Builds: Subterra's packed \
    build uses all cores (parallel Hilbert keys), Boost and GEOS one. **allocs/query**: calls to the malloc \
    family per query on the timing thread, counted over every timed query by subterra-compare's own malloc \
    wrappers (S: the callback forms that are timed; dig_polygon includes building the `Polygon` value from \
    the ring, the index query itself allocates none; S array: the array-returning forms on the \
    same queries, one untimed pass; B, G: Boost and GEOS behind their C interfaces). **heap B/item**: glibc \
    heap retained by the build (mallinfo2 delta, index alive); **own B/item**: the index's own report \
    (`SegmentIndex.memoryFootprint`, Boost's counting allocator; GEOS has none; "renumbered": the same \
    segments through `SegmentIndex.renumbered(segments:)`, ids = leaf positions, no id array); **peak RSS Δ**: the resident \
    set's high-water mark during the peer's first build (VmHWM, reset just before via /proc/self/clear_refs) \
    over the resident set before it, temporaries included.
    """

/// A regression or improvement named by package-benchmark's threshold check.
public struct ThresholdDeviation: Codable, Sendable, Hashable {
    public var benchmark: String
    public var metric: String
}

public struct ThresholdOutcome: Codable, Sendable {
    /// "pass", "regression", "improvement", or "not-run".
    public var status: String
    public var regressions: [ThresholdDeviation]
    public var improvements: [ThresholdDeviation]
}

/// Reads package-benchmark's `thresholds check` text: sections titled "Deviations worse than
/// threshold for TARGET:NAME" / "…better than…", each with one table per metric whose header
/// starts with the metric name and its units. Through `swift package` both outcomes exit 1, so
/// this is how a regression is told from an improvement.
public func parseThresholdLog(_ text: String) -> ThresholdOutcome {
    var worse = [ThresholdDeviation](), better = [ThresholdDeviation]()
    var section: Bool? = nil  // true = worse
    var bench = ""
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
        let line = String(raw)
        if let r = line.range(of: "Deviations worse than threshold for ") {
            section = true
            bench = String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)
            continue
        }
        if let r = line.range(of: "Deviations better than threshold for ") {
            section = false
            bench = String(line[r.upperBound...]).trimmingCharacters(in: .whitespaces)
            continue
        }
        guard let worseSection = section else { continue }
        // Metric table headers look like "│ Time (wall clock) (μs, %) │ …" or "… (#, Δ) │".
        let cells = line.split(whereSeparator: { $0 == "│" || $0 == "|" }).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = cells.first(where: { !$0.isEmpty }),
            first.hasSuffix(", %)") || first.hasSuffix(", Δ)"),
            let open = first.range(of: " (", options: .backwards)
        else { continue }
        let dev = ThresholdDeviation(benchmark: bench, metric: String(first[..<open.lowerBound]))
        if worseSection { if !worse.contains(dev) { worse.append(dev) } } else if !better.contains(dev) { better.append(dev) }
    }
    let status = !worse.isEmpty ? "regression" : (!better.isEmpty ? "improvement" : "pass")
    return ThresholdOutcome(status: status, regressions: worse, improvements: better)
}

// MARK: - Ratio thresholds

/// Stored Subterra-to-best-peer throughput ratios, keyed "family/workload_size" (e.g.
/// "vermont/window_1e6"; "digcheck_1e6" for the dig check, see `WorkloadResult.ratioKey`).
/// Both sides of a ratio come from the same process run, so unlike absolute times it survives a
/// busy shared machine; a fall of more than `tolerance` (relative) is a regression.
public struct RatioThresholds: Codable, Sendable {
    public var tolerance: Double
    public var ratios: [String: Double]
    public var seed: UInt64
    public var recorded: String
    /// Why an entry is what it is, per key or per workload (JSON has no comments); optional.
    public var rationale: [String: String]?

    /// What a stored `digcheck` ratio means; written next to the entries by `init(from:)`.
    public static let digCheckRationale = """
        Subterra's dig-site rate over PostGIS's (UtilityEngine.digCheck vs one prepared ST_DWithin round trip \
        over loopback, one client thread, same sites, conflict sets gated equal). PostGIS's backend runs in a \
        second process, so on a busy 2-core box its side of the ratio can take the other core: a fall beyond the \
        tolerance means the engine's dig path got slower relative to a GiST index scan, not noise.
        """

    public init(from run: CompareRun, tolerance: Double = 0.35) {
        self.tolerance = tolerance
        seed = run.seed
        recorded = run.date
        ratios = [:]
        for r in run.results { if let q = r.ratioToBestPeer { ratios[r.ratioKey] = q } }
        if ratios.keys.contains(where: { $0.hasPrefix("digcheck_") }) { rationale = ["digcheck": Self.digCheckRationale] }
    }

    /// Deviations of `run` from the stored ratios, as (regressions, improvements).
    public func check(_ run: CompareRun) -> ([ThresholdDeviation], [ThresholdDeviation]) {
        var worse = [ThresholdDeviation](), better = [ThresholdDeviation]()
        for r in run.results {
            // Street-family ratios stored before keys named the family are still checked.
            let key = r.ratioKey, legacy = "\(r.workload)_\(sizeLabel(r.size))"
            guard let stored = ratios[key] ?? (r.familyLabel == DataFamily.streets.rawValue ? ratios[legacy] : nil),
                  let now = r.ratioToBestPeer else { continue }
            let metric = "subterra/best-peer throughput ratio \(fmt(now)) vs stored \(fmt(stored))"
            if now < stored * (1 - tolerance) { worse.append(ThresholdDeviation(benchmark: "subterra-compare:" + key, metric: metric)) }
            if now > stored * (1 + tolerance) { better.append(ThresholdDeviation(benchmark: "subterra-compare:" + key, metric: metric)) }
        }
        return (worse, better)
    }
}

public struct Summary: Codable, Sendable {
    public var run: CompareRun
    public var thresholds: ThresholdOutcome
    public var subterraToBestPeer: [String: [String: Double]]
}

// MARK: - SVG

let palette = [
    "subterra": "#d62728", "boost": "#1f77b4", "geos": "#2ca02c", "subterra-batch1024": "#ff7f0e", "postgis": "#9467bd",
]

func esc(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
}

/// How a chart's y axis is scaled and ticked.
public enum ChartYScale: Sendable {
    /// Decades, ticks 1e3, 1e4, … (throughput).
    case log10
    /// Octaves, ticks …, 0.25, 0.5, 1, 2, 4, … (ratios: 2× faster and 2× slower are equally far
    /// from 1, and every tick is a round number).
    case log2
    /// Six evenly spaced ticks.
    case linear
}

/// The y-axis tick values of `yScale` covering `[lo, hi]` (in axis units: log10 / log2 of the value,
/// or the value), and their labels. Log ticks are whole powers, so labels are exact (0.25, not 0.250).
public func chartTicks(_ yScale: ChartYScale, lo: Double, hi: Double) -> [(value: Double, label: String)] {
    switch yScale {
    case .log10:
        return stride(from: lo, through: hi + 1e-9, by: 1).map { (pow(10, $0), "1e\(Int($0.rounded()))") }
    case .log2:
        return stride(from: lo, through: hi + 1e-9, by: 1).map { e in
            let k = Int(e.rounded()), v = pow(2, Double(k))
            return (v, k >= 0 ? "\(Int(v))" : "\(v)")
        }
    case .linear:
        return (0...5).map { let v = lo + (hi - lo) * Double($0) / 5; return (v, fmt(v)) }
    }
}

/// A line chart over log10 item counts, one series per name. Pure SVG 1.1.
public func svgLineChart(title: String, yLabel: String, series: [(String, [(Double, Double)])],
                         yScale: ChartYScale = .log10, referenceY: Double? = nil) -> String {
    let logY = yScale != .linear
    let w = 680.0, h = 400.0, ml = 80.0, mr = 150.0, mt = 40.0, mb = 50.0
    let pts = series.flatMap(\.1).filter { $0.0 > 0 && $0.1 > 0 && $0.1.isFinite }
    guard !pts.isEmpty else { return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"60\"><text x=\"10\" y=\"30\">\(esc(title)): no data</text></svg>\n" }
    var x0 = floor(log10(pts.map(\.0).min()!)), x1 = ceil(log10(pts.map(\.0).max()!))
    if x1 <= x0 { x0 -= 1; x1 += 1 }
    func ty(_ v: Double) -> Double { yScale == .log10 ? log10(v) : (yScale == .log2 ? log2(v) : v) }
    var ys = pts.map { ty($0.1) }
    if let r = referenceY { ys.append(ty(r)) }
    var y0 = ys.min()!, y1 = ys.max()!
    if logY { y0 = floor(y0); y1 = ceil(y1) } else { let pad = (y1 - y0) * 0.1 + 0.05; y0 = max(0, y0 - pad); y1 += pad }
    if y1 <= y0 { y1 = y0 + 1 }
    func px(_ x: Double) -> Double { ml + (log10(x) - x0) / (x1 - x0) * (w - ml - mr) }
    func py(_ y: Double) -> Double { mt + (1 - (ty(y) - y0) / (y1 - y0)) * (h - mt - mb) }
    var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"sans-serif\" font-size=\"12\">\n"
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    s += "<text x=\"\(w / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">\(esc(title))</text>\n"
    // Axes and grid: decades on log axes, five steps on a linear one.
    var e = x0
    while e <= x1 + 1e-9 {
        let x = px(pow(10, e))
        s += "<line x1=\"\(x)\" y1=\"\(mt)\" x2=\"\(x)\" y2=\"\(h - mb)\" stroke=\"#ddd\"/>\n"
        s += "<text x=\"\(x)\" y=\"\(h - mb + 18)\" text-anchor=\"middle\">1e\(Int(e))</text>\n"
        e += 1
    }
    for (v, label) in chartTicks(yScale, lo: y0, hi: y1) {
        let y = py(v)
        s += "<line x1=\"\(ml)\" y1=\"\(y)\" x2=\"\(w - mr)\" y2=\"\(y)\" stroke=\"#ddd\"/>\n"
        s += "<text x=\"\(ml - 6)\" y=\"\(y + 4)\" text-anchor=\"end\">\(label)</text>\n"
    }
    s += "<rect x=\"\(ml)\" y=\"\(mt)\" width=\"\(w - ml - mr)\" height=\"\(h - mt - mb)\" fill=\"none\" stroke=\"#333\"/>\n"
    s += "<text x=\"\((ml + w - mr) / 2)\" y=\"\(h - 10)\" text-anchor=\"middle\">items in index</text>\n"
    s += "<text transform=\"translate(18,\((mt + h - mb) / 2)) rotate(-90)\" text-anchor=\"middle\">\(esc(yLabel))</text>\n"
    if let r = referenceY {
        s += "<line x1=\"\(ml)\" y1=\"\(py(r))\" x2=\"\(w - mr)\" y2=\"\(py(r))\" stroke=\"#333\" stroke-dasharray=\"6,4\"/>\n"
    }
    let extra = ["#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    for (i, (name, data)) in series.enumerated() {
        let color = palette[name] ?? extra[i % extra.count]
        let good = data.filter { $0.0 > 0 && $0.1 > 0 && $0.1.isFinite }.sorted { $0.0 < $1.0 }
        guard !good.isEmpty else { continue }
        let path = good.map { "\(px($0.0)),\(py($0.1))" }.joined(separator: " ")
        s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
        for p in good { s += "<circle cx=\"\(px(p.0))\" cy=\"\(py(p.1))\" r=\"3.5\" fill=\"\(color)\"/>\n" }
        let ly = mt + 16 + Double(i) * 18
        s += "<line x1=\"\(w - mr + 10)\" y1=\"\(ly - 4)\" x2=\"\(w - mr + 28)\" y2=\"\(ly - 4)\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
        s += "<text x=\"\(w - mr + 32)\" y=\"\(ly)\">\(esc(name))</text>\n"
    }
    return s + "</svg>\n"
}

// MARK: - Report

@discardableResult
public func writeReport(
    run: CompareRun, thresholdLog: String?, ratioThresholds: RatioThresholds? = nil, to dir: String, readme: String?
) throws -> ThresholdOutcome {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var thresholds = thresholdLog.map(parseThresholdLog)
        ?? ThresholdOutcome(status: "not-run", regressions: [], improvements: [])
    if let ratioThresholds {
        let (worse, better) = ratioThresholds.check(run)
        thresholds.regressions += worse
        thresholds.improvements += better
        thresholds.status = !thresholds.regressions.isEmpty ? "regression"
            : (!thresholds.improvements.isEmpty ? "improvement" : (thresholdLog == nil ? "pass (ratios only)" : "pass"))
    }
    var ratios = [String: [String: Double]]()
    for r in run.results { if let q = r.ratioToBestPeer { ratios[r.seriesLabel, default: [:]][sizeLabel(r.size)] = q } }
    try writeFile(dir + "/summary.json", encodeJSON(Summary(run: run, thresholds: thresholds, subterraToBestPeer: ratios)))

    // One chart per family and workload ("vermont/window"), over the sizes it ran at.
    let workloads = run.results.map(\.seriesLabel).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    var charts = [String]()
    for w in workloads {
        let rs = run.results.filter { $0.seriesLabel == w }
        let names = rs.flatMap { $0.peers.map(\.peer) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        let series = names.map { n in (n, rs.compactMap { r in r.peers.first { $0.peer == n }.map { (Double(r.size), $0.throughput) } }) }
        let file = "throughput-\(w.replacingOccurrences(of: "/", with: "-")).svg"
        let unit = rs.first?.queries == 0 ? "items / s" : (rs.first?.workload == "digcheck" ? "dig sites / s (one client thread)" : "queries / s")
        try writeFile(dir + "/" + file, svgLineChart(title: "\(w): throughput vs size", yLabel: unit, series: series))
        charts.append(file)
    }
    let ratioSeries = workloads.map { w in
        (w, run.results.filter { $0.seriesLabel == w }.compactMap { r in r.ratioToBestPeer.map { (Double(r.size), $0) } })
    }
    try writeFile(dir + "/ratio-to-best-peer.svg", svgLineChart(
        title: "Subterra throughput / best peer (above 1 = Subterra faster)", yLabel: "ratio (log scale)",
        series: ratioSeries, yScale: .log2, referenceY: 1))
    charts.append("ratio-to-best-peer.svg")

    var md = "# Subterra nightly benchmark — \(run.date)\n\n"
    md += "Seed \(run.seed), \(run.repetitions) interleaved repetitions (median), sizes \(run.sizes.map(sizeLabel).joined(separator: ", ")).\n"
    md += "Machine: \(run.machine.cpu), \(run.machine.cores) cores, \(run.machine.memoryBytes >> 30) GiB, kernel \(run.machine.kernel), \(run.machine.toolchain); "
    md += "load average \(fmt(run.machine.loadAverageAtStart)) → \(fmt(run.machine.loadAverageAtEnd)).\n\n"
    md += "Correctness gate: **\(run.gate)** (all peers returned the same id sets; distances within 1e-9 relative).\n\n"
    md += "Threshold check (package-benchmark absolute thresholds and stored Subterra/best-peer ratios): **\(thresholds.status)**"
    if !thresholds.regressions.isEmpty {
        md += "\n\nRegressed:\n" + thresholds.regressions.map { "- \($0.benchmark): \($0.metric)" }.joined(separator: "\n")
    }
    if !thresholds.improvements.isEmpty {
        md += "\n\nImproved (consider updating thresholds):\n" + thresholds.improvements.map { "- \($0.benchmark): \($0.metric)" }.joined(separator: "\n")
    }
    md += "\n\n" + markdownTable(run) + "\n"
    md += indexTableExplanation + "\n\n"
    let dynamic = dynamicTable(run)
    if !dynamic.isEmpty {
        md += "## The dynamic index against the packed one (`DynamicSegmentIndex` built one insert at a time, "
            + "all tiers in use, vs `SegmentIndex`)\n\n" + dynamic + "\n"
    }
    if let m = run.memory { md += processMemoryLine(m) + "\n\n" }
    let dig = digCheckTable(run)
    if !dig.isEmpty {
        md += "## Dig check end to end (`UtilityEngine.digCheck` vs PostGIS `ST_DWithin` on a GiST index)\n\n" + dig + "\n"
        md += digCheckExplanation + "\n\n"
    }
    if let notes = run.notes, !notes.isEmpty {
        md += "Notes:\n\n" + notes.map { "- \($0)" }.joined(separator: "\n") + "\n\n"
    }
    md += charts.map { "![\($0)](\($0))" }.joined(separator: "\n") + "\n"
    try writeFile(dir + "/summary.md", md)

    if let readme { try updateReadme(readme, run: run, reportDir: dir) }
    return thresholds
}

/// One line on the whole run's peak resident set.
public func processMemoryLine(_ m: ProcessMemory) -> String {
    func mb(_ b: Int) -> String { fmt(Double(b) / 1_048_576) }
    return "Peak resident set of the whole subterra-compare run: \(mb(m.lifetimePeakBytes)) MB (largest VmHWM across "
        + "the per-build resets); at the end getrusage ru_maxrss \(mb(m.ruMaxRSSBytes)) MB, VmHWM \(mb(m.vmHWMBytes)) MB "
        + "(both since the last reset)."
}

/// Replaces the text between `<!-- bench:begin -->` and `<!-- bench:end -->`, appending the
/// markers at the end when absent; nothing else in the file is touched.
public func updateReadme(_ path: String, run: CompareRun, reportDir: String) throws {
    let begin = "<!-- bench:begin -->", end = "<!-- bench:end -->"
    var text = (try? readFile(path)) ?? ""
    let largest = run.sizes.max() ?? 0
    var block = "\(begin)\n"
    block += "Nightly benchmark \(run.date.prefix(10)) (seed \(run.seed), \(sizeLabel(largest)) segments of each data family, same process, data and queries for all peers; full report: `Benchmarks/\(reportDir)`):\n\n"
    block += markdownTable(run, sizes: [largest])
    block += "\nallocs/query: malloc-family calls per query (S: callback forms, S array: array forms); heap / own "
        + "B/item: retained heap and the index's own report; peak RSS Δ: VmHWM growth during the build. "
        + "Details under the table in `summary.md`.\n"
    let dynamic = dynamicTable(run, sizes: [largest])
    if !dynamic.isEmpty { block += "\nThe dynamic segment index against the packed one, same run:\n\n" + dynamic }
    if let m = run.memory { block += "\n" + processMemoryLine(m) + "\n" }
    let dig = digCheckTable(run, sizes: [largest])
    if !dig.isEmpty { block += "\nDig check end to end, same run:\n\n" + dig + "\n" + digCheckExplanation + "\n" }
    for note in run.notes ?? [] where note.contains("SKIPPED") { block += "\n- \(note)\n" }
    block += "\(end)"
    if let b = text.range(of: begin), let e = text.range(of: end, range: b.upperBound..<text.endIndex) {
        text.replaceSubrange(b.lowerBound..<e.upperBound, with: block)
    } else {
        if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
        text += "\n" + block + "\n"
    }
    try writeFile(path, text)
}
