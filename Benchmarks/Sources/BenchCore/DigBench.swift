import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// The clearance every pipe of a map is held to by a plain dig check (no planned utility), as
/// data a database can join: one row per excavation rule key, the same values
/// `UtilityEngine.digCheck` reads from the same `ClearanceRules`.
public struct DigClearanceTable: Sendable {
    /// Rule key → clearance in metres (before the pipe's accuracy is added).
    public var clearance: [String: Double]
    /// What a pipe no table covers gets: the largest excavation clearance of any profile present
    /// (the engine's fallback).
    public var fallback: Double
    /// Largest horizontal accuracy of any pipe.
    public var maxAccuracy: Double
    /// Largest half outer width of any pipe: clearances are to the outer wall, so a pipe's
    /// centreline may be this much farther out and still conflict. `fallback + maxAccuracy +
    /// maxHalfWidth` is the search radius, as the engine's.
    public var maxHalfWidth: Double

    /// The key naming pipes without a horizontal rule.
    public static let uncovered = "(no table: largest clearance)"

    /// Builds the table over `segments`. A key is the pipe's horizontal-table key; two profiles
    /// with one key but different excavation values (a city file could do that) get distinct
    /// keys, so the join always reproduces `rules.excavation(profile)`.
    /// - Complexity: O(n) dictionary reads plus O(distinct profiles) rule lookups.
    public init(segments: [PipeSegment], rules: ClearanceRules) {
        var profiles = Set<PipeProfile>()
        var maxAcc = 0.0, maxHalf = 0.0
        for s in segments {
            profiles.insert(PipeProfile(s))
            maxAcc = max(maxAcc, s.accuracy?.horizontalM ?? 0)
            maxHalf = max(maxHalf, Self.halfWidth(s))
        }
        fallback = profiles.map { rules.excavation($0)?.distance ?? 0 }.max() ?? 0
        maxAccuracy = maxAcc
        maxHalfWidth = maxHalf
        clearance = [:]
        keyOfProfile = [:]
        for p in profiles.sorted(by: { "\($0)" < "\($1)" }) {
            let v = rules.excavation(p)?.distance ?? fallback
            var key = rules.horizontalKey(p) ?? Self.uncovered
            if let have = clearance[key], have != v { key += " [\(v) m]" }
            clearance[key] = v
            keyOfProfile[p] = key
        }
    }

    var keyOfProfile: [PipeProfile: String]

    /// The rule key of a segment's profile.
    public func key(_ s: PipeSegment) -> String { keyOfProfile[PipeProfile(s)] ?? Self.uncovered }

    /// Required clearance of a pipe: rule + horizontal accuracy, a clear distance from the dig to
    /// the pipe's outer wall (what a dig must keep the wall outside of; the engine's `requiredClearance`).
    public func required(_ s: PipeSegment) -> Double {
        (clearance[key(s)] ?? fallback) + (s.accuracy?.horizontalM ?? 0)
    }

    /// Half the pipe's outer width, metres; 0 when no section was surveyed (the engine's rule).
    public static func halfWidth(_ s: PipeSegment) -> Double { (s.outerWidthM ?? 0) / 2 }

    /// Clear distance from a dig to the pipe's outer wall given the centreline distance `d`:
    /// what `required(_:)` is compared with.
    public static func clearDistance(_ s: PipeSegment, centreline d: Double) -> Double { max(0, d - halfWidth(s)) }
}

/// The PostGIS peer of the dig check: the same segments with their attributes (and half outer
/// widths) in a table with a GiST index, the same clearances in a joined table, and one prepared
/// statement answering a dig site as `UtilityEngine.digCheck` does: measured to the outer wall
/// (centreline distance less half width), a conflict at clear distance 0 or closer than the
/// required clearance by more than 1 nm.
public final class PostGISDigPeer {
    public let db: PostgresConnection
    public let reach: Double
    /// Seconds spent loading (COPY), building the GiST index, and in VACUUM ANALYZE.
    public private(set) var loadSeconds = 0.0, indexSeconds = 0.0, analyzeSeconds = 0.0
    /// `pg_total_relation_size('pipes')` after VACUUM ANALYZE: heap, GiST index and TOAST, what
    /// the server keeps (and caches in shared buffers) to answer; and the GiST index alone.
    public private(set) var relationBytes: Int? = nil, indexBytes: Int? = nil

    /// The statement every dig site runs: `$1` the site (EWKT), `$2` the search radius (largest
    /// clearance + largest accuracy + largest half width, as the engine's). The lateral subquery
    /// with `OFFSET 0` keeps the planner from inlining `ST_Distance` into each place `d` is used
    /// (computing it up to three times per row). Columns 0–2: id, centreline distance, clear
    /// distance to the outer wall.
    public static let digSQL = """
        SELECT p.id, q.d, GREATEST(q.d - p.half_width_m, 0) AS clear_m, p.layer, p.owner, p.depth_m,
          c.clearance_m + p.accuracy_m AS required_m
        FROM pipes p
        JOIN clearance c ON c.rule_key = p.rule_key
        CROSS JOIN LATERAL (SELECT ST_Distance(p.geom, $1::geometry) AS d OFFSET 0) q
        WHERE ST_DWithin(p.geom, $1::geometry, $2::float8)
          AND (q.d - p.half_width_m <= 0 OR q.d - p.half_width_m < c.clearance_m + p.accuracy_m - 1e-9)
        """

    /// Connects, (re)creates the tables, loads `segments` with COPY, indexes and analyzes, and
    /// prepares the dig statement. O(n log n) on the server.
    public init(conninfo: String, segments: [PipeSegment], table: DigClearanceTable,
                log: (String) -> Void) throws(PostgresError) {
        db = try PostgresConnection(conninfo)
        reach = table.fallback + table.maxAccuracy + table.maxHalfWidth
        try db.exec("SET client_min_messages = warning")
        try db.exec("CREATE EXTENSION IF NOT EXISTS postgis")
        try db.exec("DROP TABLE IF EXISTS pipes; DROP TABLE IF EXISTS clearance")
        try db.exec("CREATE TABLE clearance (rule_key text PRIMARY KEY, clearance_m float8 NOT NULL)")
        try db.exec("""
            CREATE TABLE pipes (id bigint NOT NULL, layer text NOT NULL, owner text, pressure_mpa float8,
              depth_m float8, diameter_mm float8, accuracy_m float8 NOT NULL, half_width_m float8 NOT NULL,
              rule_key text NOT NULL,
              geom geometry(LineString, 4549) NOT NULL)
            """)
        try db.copyIn("COPY clearance (rule_key, clearance_m) FROM STDIN") { buf in
            for (k, v) in table.clearance.sorted(by: { $0.key < $1.key }) {
                Self.field(k, &buf, tab: true)
                buf.append(contentsOf: "\(v)\n".utf8)
            }
            return false
        }
        let t0 = nowNanos()
        var i = 0
        try db.copyIn(
            "COPY pipes (id, layer, owner, pressure_mpa, depth_m, diameter_mm, accuracy_m, half_width_m, rule_key, geom) FROM STDIN"
        ) { buf in
            var rows = 0
            while i < segments.count && rows < 2000 {
                let s = segments[i]
                i += 1
                rows += 1
                buf.append(contentsOf: "\(s.id)\t".utf8)
                Self.field(s.layer.rawValue, &buf, tab: true)
                Self.field(s.owner, &buf, tab: true)
                Self.field(s.gasPressureMPa.map { "\($0)" }, &buf, tab: true)
                let depth = [s.startDepth, s.endDepth].compactMap { $0 }.min()
                Self.field(depth.map { "\($0)" }, &buf, tab: true)
                Self.field(PipeProfile(s).diameterMM.map { "\($0)" }, &buf, tab: true)
                buf.append(contentsOf: "\(s.accuracy?.horizontalM ?? 0)\t".utf8)
                // Shortest round-trip text: the server holds the very double the engine subtracts.
                buf.append(contentsOf: "\(DigClearanceTable.halfWidth(s))\t".utf8)
                Self.field(table.key(s), &buf, tab: true)
                buf.append(contentsOf: "SRID=4549;LINESTRING(".utf8)
                for (j, p) in s.geometry.points.enumerated() {
                    if j > 0 { buf.append(UInt8(ascii: ",")) }
                    buf.append(contentsOf: "\(p.x) \(p.y)".utf8)
                }
                buf.append(contentsOf: ")\n".utf8)
            }
            return i < segments.count
        }
        let t1 = nowNanos()
        try db.exec("CREATE INDEX pipes_geom ON pipes USING GIST (geom)")
        let t2 = nowNanos()
        try db.exec("VACUUM ANALYZE pipes")
        try db.exec("VACUUM ANALYZE clearance")
        let t3 = nowNanos()
        loadSeconds = Double(t1 - t0) / 1e9
        indexSeconds = Double(t2 - t1) / 1e9
        analyzeSeconds = Double(t3 - t2) / 1e9
        relationBytes = try db.exec("SELECT pg_total_relation_size('pipes')").flatMap { Int($0) }
        indexBytes = try db.exec("SELECT pg_relation_size('pipes_geom')").flatMap { Int($0) }
        let n = try db.exec("SELECT count(*) FROM pipes") ?? "?"
        guard n == "\(segments.count)" else {
            throw PostgresError("loaded \(n) rows, expected \(segments.count)", at: "COPY pipes")
        }
        log("  postgis: loaded \(n) pipes in \(fmt(loadSeconds)) s (COPY), GiST index \(fmt(indexSeconds)) s, "
            + "VACUUM ANALYZE \(fmt(analyzeSeconds)) s")
        // PostGIS at its best: a generic plan (still the GiST index scan, `geom && ST_Expand($1, $2)`)
        // is planned once; left to `auto`, PostgreSQL keeps re-planning a custom plan per site
        // (~0.1 ms of planning, measured with EXPLAIN ANALYZE at 10^5: ~190 µs vs ~54 µs a round trip).
        try db.exec("SET plan_cache_mode = force_generic_plan")
        try db.prepare("dig", Self.digSQL, parameters: 2)
    }

    /// The plan PostgreSQL picks for `site` (to show the GiST index is used).
    public func explain(_ site: BenchDigSite) throws(PostgresError) -> String {
        let sql = "EXPLAIN EXECUTE dig('\(site.ewkt)', \(reach))"
        return try db.rows(sql).compactMap { $0.first ?? nil }.joined(separator: "\n")
    }

    /// The pipes `site` conflicts with, id, exact centreline distance and clear distance to the
    /// wall (rows in server order): one round trip of the prepared statement, the text result
    /// parsed. O(log n + conflicts) on the server.
    @inline(__always)
    public func digCheck(ewkt: String, reachText: String, into out: inout [DigHit]) throws(PostgresError) {
        out.removeAll(keepingCapacity: true)
        try db.execPrepared("dig", [ewkt, reachText]) { r in
            for row in 0..<PGResult.rows(r) {
                out.append(DigHit(
                    id: PGResult.int64(r, row, 0), distance: PGResult.double(r, row, 1), clearDistance: PGResult.double(r, row, 2)))
            }
        }
    }

    /// Appends a COPY text field: `\N` for nil, backslash, tab and newlines escaped.
    static func field(_ v: String?, _ buf: inout [UInt8], tab: Bool) {
        if let v {
            for b in v.utf8 {
                switch b {
                case UInt8(ascii: "\\"): buf.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
                case UInt8(ascii: "\t"): buf.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
                case UInt8(ascii: "\n"): buf.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
                case UInt8(ascii: "\r"): buf.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
                default: buf.append(b)
                }
            }
        } else {
            buf.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        }
        if tab { buf.append(UInt8(ascii: "\t")) }
    }
}

extension DigCheckBench {
    /// Sites per second of `UtilityEngine.digChecks` over every site at each thread count, the
    /// median of `repetitions` runs each; the answers are first checked equal to `digCheck`'s,
    /// site by site.
    /// - Throws: `GateFailure` when a batch answer differs from the plain one.
    ///
    /// The log line adds, per thread count, the cores the batch actually got (process CPU time
    /// over wall time): on a shared machine a second thread may find no free core, and the rate
    /// then says nothing about how the code scales.
    public func batchScaling(threads: [Int], repetitions: Int) throws -> [(threads: Int, sitesPerSecond: Double)] {
        let plain = try requests.map { try engine.digCheck($0) }
        for t in threads {
            for (i, r) in engine.digChecks(requests, threads: t).enumerated() where try r.get() != plain[i] {
                throw GateFailure(
                    workload: "digcheck-batch", size: size, queryIndex: i, query: "site \(sites[i].ewkt)",
                    reference: "digCheck", other: "digChecks(threads: \(t))", detail: "reports differ")
            }
        }
        var out: [(Int, Double)] = []
        var cores: [Double] = []
        // On one thread every check runs on this thread, so its allocations are counted: the
        // batch keeps every report, so this is what a kept report costs.
        var keptAllocations: Double? = nil
        for t in threads {
            var rates: [Double] = [], used: [Double] = []
            for _ in 0..<repetitions {
                let a0 = allocationsOnThisThread()
                let c0 = processCPUNanos()
                let t0 = nowNanos()
                let answers = engine.digChecks(requests, threads: t)
                let dt = nowNanos() - t0
                used.append(Double(processCPUNanos() - c0) / Double(max(dt, 1)))
                if t == 1, allocationCountingActive() {
                    keptAllocations = Double(allocationsOnThisThread() &- a0) / Double(max(requests.count, 1))
                }
                keepAlive(answers.count)
                rates.append(Double(requests.count) * 1e9 / Double(max(dt, 1)))
            }
            out.append((t, median(rates)))
            cores.append(median(used))
        }
        var line = zip(out, cores).map { o, c in "\(o.0) thread\(o.0 == 1 ? "" : "s") \(fmt(o.1)) sites/s on \(fmt(c)) cores" }
            .joined(separator: ", ")
        if let keptAllocations { line += "; \(fmt(keptAllocations)) allocations per site on 1 thread (every report kept)" }
        log("  digcheck batch (\(family?.rawValue ?? "district")): \(line)")
        return out
    }
}

extension DigHit {
    /// A conflict of an engine report as a hit.
    public init(_ c: DigConflict) { self.init(id: c.pipeID, distance: c.distance, clearDistance: c.clearDistance) }
}

/// The `digcheck` workload at one size: a generated district (full attributes), a Subterra
/// engine over it, optionally the PostGIS peer over the same rows, deterministic typical dig
/// sites, a correctness gate (PostGIS's conflict set equals the engine's on every site), then
/// interleaved single-threaded timing.
public struct DigCheckBench {
    public var size: Int
    public var seed: UInt64
    /// The family the pipes lie on; nil: the district generator's own streets.
    public var family: DataFamily?
    public var district: District
    public var engine: UtilityEngine
    public var sites: [BenchDigSite]
    public var requests: [DigRequest]
    public var table: DigClearanceTable
    /// What the run did besides the timed figures (generation and load times, mean answer size).
    public var notes: [String] = []
    public var log: (String) -> Void
    /// Heap the engine build retained (mallinfo2 delta with the engine alive), bytes.
    public var engineHeapBytes = 0
    /// Resident-set high-water mark during the engine build over the resident set before it
    /// (nil where VmHWM cannot be reset), bytes.
    public var enginePeakResidentDeltaBytes: Int? = nil

    /// Generates the district and the sites and builds the engine, once per size: both peers
    /// answer from this one district. O(n log n) (10^6: 3.4 s generation + 3.8 s engine build in
    /// release on the shared 2-core box).
    /// - Throws: an `EngineError` when the engine refuses the generated map or a site (a bug).
    ///
    /// With `family` (``DataFamily/uniform`` or ``DataFamily/clustered``), the pipes lie on that
    /// family's segments instead: segment i of the family gets the attributes (layer, owner,
    /// section, depths, accuracy, kind) of the district's segment i, and the district's points
    /// are dropped (the records keep their point numbers; a map may refer to unsurveyed
    /// points). The sites then sit on the family's segments.
    public init(size: Int, seed: UInt64, siteCount: Int, family: DataFamily? = nil, log: @escaping (String) -> Void) throws {
        self.size = size
        self.seed = seed
        self.log = log
        self.family = family
        let t0 = nowNanos()
        district = DistrictGenerator(segments: size, seed: seed).district()
        if let family {
            let data = try SegmentSet.family(family, count: size, seed: seed)
            var segs = district.network.segments
            for i in segs.indices {
                let g = data.segment(i % data.count)
                segs[i].geometry = try LineString([Point(g.x0, g.y0), Point(g.x1, g.y1)])
                // One part per feature: the family's segments are unrelated.
                segs[i].feature = nil
                segs[i].part = nil
            }
            district.network = try UtilityNetwork(crs: district.network.crs, segments: segs)
        }
        trimHeap()
        let canPeak = resetPeakResident()
        let heap0 = heapBytesInUse(), rss0 = residentBytes()
        let t1 = nowNanos()
        engine = try UtilityEngine(network: district.network)
        let t2 = nowNanos()
        engineHeapBytes = heapBytesInUse() - heap0
        if canPeak { enginePeakResidentDeltaBytes = max(0, peakResidentBytes() - rss0) }
        let segs = district.network.segments
        var flat = [Double]()
        flat.reserveCapacity(4 * segs.count)
        for s in segs {
            flat.append(s.start.x)
            flat.append(s.start.y)
            flat.append(s.end.x)
            flat.append(s.end.y)
        }
        sites = DigSiteGenerator.make(count: siteCount, streets: SegmentSet(coordinates: flat), seed: seed)
        requests = try sites.map { site in
            var pts = (0..<site.vertexCount).map { Point(site.ring[2 * $0], site.ring[2 * $0 + 1]) }
            pts.append(pts[0])
            return DigRequest(area: .polygon(Polygon(exterior: try LinearRing(pts))), plannedDepth: site.depth)
        }
        table = DigClearanceTable(segments: segs, rules: engine.rules)
        let gen = Double(t1 - t0) / 1e9, build = Double(t2 - t1) / 1e9
        notes.append("digcheck \(sizeLabel(size)): district generated in \(fmt(gen)) s, engine built in \(fmt(build)) s")
        log("  digcheck: district of \(segs.count) segments generated in \(fmt(gen)) s, engine built in \(fmt(build)) s, "
            + "\(sites.count) sites")
    }

    /// The engine's answer for site `i` as (id, distance, clear distance) hits. O(log n + conflicts).
    public func engineHits(_ i: Int) throws -> [DigHit] {
        try engine.digCheck(requests[i]).conflicts.map(DigHit.init)
    }

    /// Checks `postgis` against the engine on every site (the gate runs before any timing).
    /// O(sites × (log n + conflicts)) plus one round trip per site.
    /// - Throws: `GateFailure` naming the first differing site with both answers.
    public func gate(_ postgis: PostGISDigPeer) throws -> (sites: Int, conflicts: Int) {
        var theirs = [DigHit]()
        let reachText = "\(postgis.reach)"
        var total = 0
        for i in sites.indices {
            let ours = try engineHits(i)
            try postgis.digCheck(ewkt: sites[i].ewkt, reachText: reachText, into: &theirs)
            total += ours.count
            if let why = DigAnswerComparison.difference(reference: ours, other: theirs, required: { id in
                engine.segment(id: id).map(table.required)
            }) {
                func show(_ h: [DigHit]) -> String {
                    let s = h.sorted { $0.id < $1.id }
                    return "\(s.count) pipes " + s.prefix(20).map { "\($0.id)@\($0.distance)" }.joined(separator: " ")
                }
                throw GateFailure(
                    workload: "digcheck", size: size, queryIndex: i, query: "site \(sites[i].ewkt) depth \(sites[i].depth)",
                    reference: "subterra: \(show(ours))", other: "postgis: \(show(theirs))", detail: why)
            }
        }
        return (sites.count, total)
    }

    /// Times one dig check per site on this thread, Subterra and (when given) PostGIS taking
    /// turns in chunks of `SizeRunner.chunk` sites, rotating who goes first, `repetitions` times.
    /// Throughput is the median over chunks of sites / chunk time; p50/p99 over every site timed.
    /// PostGIS's time is the client's round trip over loopback (prepared statement, text
    /// result parsed): the server backend does the work in its own process.
    public func time(postgis: PostGISDigPeer?, repetitions: Int) throws -> WorkloadResult {
        // "subterra": `digCheck`, a fresh report per site; "subterra-checker": one `DigChecker`
        // reused for every site, each report dropped after use (a service writing reports out).
        let names = ["subterra", "subterra-checker"] + (postgis == nil ? [] : ["postgis"])
        let checker = DigChecker(engine)
        let ewkts = sites.map(\.ewkt)
        let reachText = postgis.map { "\($0.reach)" } ?? ""
        var latencies = [[UInt64]](repeating: [], count: names.count)
        var chunkRates = [[Double]](repeating: [], count: names.count)
        var seconds = [[Double]](repeating: [], count: names.count)
        var hits = [DigHit]()
        var checksum = 0
        // Allocation calls per peer inside the timed loops (PostGIS: the client side, libpq).
        var allocations = [UInt64](repeating: 0, count: names.count)
        for r in 0..<repetitions {
            var total = [UInt64](repeating: 0, count: names.count)
            var start = 0, turn = r
            while start < sites.count {
                let end = min(start + SizeRunner.chunk, sites.count)
                for k in 0..<names.count {
                    let j = (k + turn) % names.count
                    var spent: UInt64 = 0
                    let allocs0 = allocationsOnThisThread()
                    for i in start..<end {
                        let t0 = nowNanos()
                        if j == 0 {
                            checksum &+= try engine.digCheck(requests[i]).conflicts.count
                        } else if j == 1 {
                            checksum &+= try checker.check(requests[i]).conflicts.count
                        } else {
                            try postgis!.digCheck(ewkt: ewkts[i], reachText: reachText, into: &hits)
                            checksum &+= hits.count
                        }
                        let dt = nowNanos() - t0
                        spent += dt
                        latencies[j].append(dt)
                    }
                    allocations[j] &+= allocationsOnThisThread() &- allocs0
                    total[j] += spent
                    chunkRates[j].append(Double(end - start) * 1e9 / Double(max(spent, 1)))
                }
                start = end
                turn += 1
            }
            for j in names.indices { seconds[j].append(Double(total[j]) / 1e9) }
        }
        keepAlive(checksum)
        let counting = allocationCountingActive()
        let n = Double(max(district.network.segments.count, 1))
        let figures = names.indices.map { j in
            let lat = latencies[j].sorted()
            var f = PeerFigures(
                peer: names[j], throughput: median(chunkRates[j]), repetitionSeconds: seconds[j],
                p50Nanos: percentile(lat, 0.5), p99Nanos: percentile(lat, 0.99),
                heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil)
            if counting { f.allocationsPerQuery = Double(allocations[j]) / Double(max(sites.count * repetitions, 1)) }
            if j == 0 {
                f.heapBytes = engineHeapBytes
                f.bytesPerItem = Double(engineHeapBytes) / n
                f.peakResidentDeltaBytes = enginePeakResidentDeltaBytes
            } else if names[j] == "postgis", let bytes = postgis?.relationBytes {
                f.reportedBytes = bytes
                f.reportedBytesPerItem = Double(bytes) / n
            }
            return f
        }
        log("  digcheck: " + figures.map {
            "\($0.peer) p50 \(fmt(($0.p50Nanos ?? .nan) / 1000)) µs, p99 \(fmt(($0.p99Nanos ?? .nan) / 1000)) µs, \(fmt($0.throughput)) sites/s"
        }.joined(separator: "; "))
        return WorkloadResult(
            workload: "digcheck", size: district.network.segments.count, queries: sites.count, peers: figures,
            family: family?.rawValue)
    }
}
