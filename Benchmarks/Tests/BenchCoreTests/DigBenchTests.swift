import Foundation
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing

@testable import BenchCore

@Suite struct DigSiteGeneratorTests {
    /// A few street-like segments, one of them degenerate (a point), far from the origin like
    /// survey coordinates.
    let streets = SegmentSet(coordinates: [
        637_000, 3_140_000, 637_140, 3_140_000,
        637_140, 3_140_000, 637_140, 3_140_140,
        637_000, 3_140_000, 637_100, 3_140_100,
        637_050, 3_140_050, 637_050, 3_140_050,
    ])

    @Test func sameSeedSameSitesOtherSeedOthers() {
        let a = DigSiteGenerator.make(count: 200, streets: streets, seed: 7)
        #expect(a == DigSiteGenerator.make(count: 200, streets: streets, seed: 7))
        #expect(a != DigSiteGenerator.make(count: 200, streets: streets, seed: 8))
        #expect(a.count == 200)
        #expect(DigSiteGenerator.make(count: 0, streets: streets, seed: 7).isEmpty)
        #expect(DigSiteGenerator.make(count: 5, streets: SegmentSet(coordinates: []), seed: 7).isEmpty)
    }

    /// Every site is a typical dig: 4–8 vertices, 3–20 m across at most, depth 1–3 m, mm
    /// coordinates, counter-clockwise, simple (no two edges cross), and on a street (within 4 m of
    /// a segment, the generator's largest offset across).
    @Test func sitesAreTypicalSimplePolygonsOnStreets() {
        for site in DigSiteGenerator.make(count: 500, streets: streets, seed: 20_261_130) {
            let n = site.vertexCount
            #expect((4...8).contains(n))
            #expect(site.ring.count == 2 * n)
            #expect((1...3).contains(site.depth))
            for v in site.ring { #expect(abs(v * 1000 - (v * 1000).rounded()) < 1e-3, "not on a mm: \(v)") }
            func p(_ i: Int) -> (Double, Double) { (site.ring[2 * (i % n)], site.ring[2 * (i % n) + 1]) }
            var widest = 0.0, area2 = 0.0
            for i in 0..<n {
                for j in 0..<n { widest = max(widest, hypot(p(i).0 - p(j).0, p(i).1 - p(j).1)) }
                area2 += p(i).0 * p(i + 1).1 - p(i + 1).0 * p(i).1
            }
            #expect(widest <= 20 + 2e-3 && widest >= 0.75, "\(widest) m across")
            #expect(area2 > 0, "clockwise or degenerate ring \(site.ring)")
            for i in 0..<n {
                for j in (i + 2)..<(i + n - 1) {
                    let a = p(i), b = p(i + 1), c = p(j), d = p(j + 1)
                    #expect(!segmentsIntersect(a.0, a.1, b.0, b.1, c.0, c.1, d.0, d.1), "edges \(i) and \(j % n) cross")
                }
            }
            let near = (0..<streets.count).map { k in
                let s = streets.segment(k)
                return segmentPolygonDistance(s.x0, s.y0, s.x1, s.y1, ring: site.ring)
            }.min()!
            #expect(near <= 4 + 1e-3, "site \(near) m from every street")
        }
    }

    @Test func ewktClosesTheRingWithExactCoordinates() {
        let site = BenchDigSite(ring: [637_000.001, 3_140_000, 637_010, 3_140_000.5, 637_005, 3_140_008], depth: 1.5)
        #expect(site.ewkt == "SRID=4549;POLYGON((637000.001 3140000.0,637010.0 3140000.5,637005.0 3140008.0,637000.001 3140000.0))")
    }
}

@Suite struct DigAnswerComparisonTests {
    let required: [Int64: Double] = [1: 1.5, 2: 2.0, 3: 1.0, 4: 0.5]
    func req(_ id: Int64) -> Double? { required[id] }
    func h(_ id: Int64, _ d: Double) -> DigHit { DigHit(id: id, distance: d) }

    @Test func sameSetsInAnyOrderAgree() {
        #expect(DigAnswerComparison.difference(reference: [h(1, 0), h(2, 1.2)], other: [h(2, 1.2), h(1, 0)], required: req) == nil)
        #expect(DigAnswerComparison.difference(reference: [], other: [], required: req) == nil)
        // Two formulas may differ in the last bits.
        #expect(DigAnswerComparison.difference(reference: [h(2, 1.2)], other: [h(2, 1.2 + 4e-10)], required: req) == nil)
    }

    @Test func aMissingOrExtraPipeIsNamed() throws {
        let missing = try #require(DigAnswerComparison.difference(reference: [h(1, 0), h(2, 1.2)], other: [h(1, 0)], required: req))
        #expect(missing.contains("pipe 2") && missing.contains("only in subterra's"))
        let extra = try #require(DigAnswerComparison.difference(reference: [h(1, 0)], other: [h(1, 0), h(3, 0.2)], required: req))
        #expect(extra.contains("pipe 3") && extra.contains("only in postgis's"))
    }

    @Test func onlyGenuineTiesAreForgiven() {
        // Exactly at the clearance (within 1e-9): either answer is right.
        #expect(DigAnswerComparison.difference(reference: [h(1, 1.5 - 5e-10)], other: [], required: req) == nil)
        #expect(DigAnswerComparison.difference(reference: [], other: [h(2, 2.0)], required: req) == nil)
        // A micrometre inside the clearance is a real conflict.
        #expect(DigAnswerComparison.difference(reference: [h(1, 1.5 - 1e-6)], other: [], required: req) != nil)
        // A crossing is never a tie, even with a zero clearance; an unknown pipe never is.
        #expect(DigAnswerComparison.difference(reference: [h(1, 0)], other: [], required: { _ in 0 }) != nil)
        #expect(DigAnswerComparison.difference(reference: [h(9, 1)], other: [], required: req) != nil)
    }

    /// Measured to the wall: a pipe only one side reports is a tie when its clear distance (not its
    /// centreline distance) is at the clearance, and a dig reaching the wall is never a tie.
    @Test func tiesAreJudgedAtTheWall() throws {
        // Pipe 2 (required 2.0): centreline 2.5 m, half width 0.5 m, wall exactly at 2.0 m.
        #expect(DigAnswerComparison.difference(reference: [DigHit(id: 2, distance: 2.5, clearDistance: 2.0)], other: [], required: req) == nil)
        // Centreline at the clearance but the wall 0.3 m inside it: a real conflict.
        let inside = try #require(DigAnswerComparison.difference(
            reference: [], other: [DigHit(id: 2, distance: 2.0, clearDistance: 1.7)], required: req))
        #expect(inside.contains("pipe 2") && inside.contains("wall 1.7"))
        // Wall reached, centreline 0.5 m out (zero clearance even): never a tie.
        #expect(DigAnswerComparison.difference(reference: [DigHit(id: 3, distance: 0.5, clearDistance: 0)], other: [], required: { _ in 0 }) != nil)
        // Same centreline distance, different widths: the peers disagree.
        let widths = try #require(DigAnswerComparison.difference(
            reference: [DigHit(id: 1, distance: 1.2, clearDistance: 0.7)], other: [DigHit(id: 1, distance: 1.2, clearDistance: 1.2)], required: req))
        #expect(widths.contains("clear distance 0.7"))
    }

    @Test func differentDistancesAndDuplicatesFail() throws {
        let far = try #require(DigAnswerComparison.difference(reference: [h(2, 1.2)], other: [h(2, 1.3)], required: req))
        #expect(far.contains("pipe 2: distance 1.2"))
        let dup = try #require(DigAnswerComparison.difference(reference: [h(2, 1.2)], other: [h(2, 1.2), h(2, 1.2)], required: req))
        #expect(dup.contains("twice"))
    }
}

@Suite struct DigCheckOracleTests {
    /// The workload's engine answers and the PostGIS peer's clearance table against brute force:
    /// every segment of a small generated district, exact segment–polygon distance over each
    /// polyline piece less half the outer width (GB 50289 measures to the wall), conflict when at
    /// clear distance 0 or closer than the table's required clearance by more than 1 nm. The same
    /// comparison the gate applies to PostGIS must find no difference.
    @Test func engineAndClearanceTableMatchBruteForce() throws {
        let bench = try DigCheckBench(size: 3000, seed: 11, siteCount: 150, log: { _ in })
        let segs = bench.district.network.segments
        var conflicts = 0, wallOnly = 0
        for (i, site) in bench.sites.enumerated() {
            let report = try bench.engine.digCheck(bench.requests[i])
            // The table's clearance is the engine's, pipe by pipe.
            for c in report.conflicts {
                let s = try #require(bench.engine.segment(id: c.pipeID))
                #expect(abs(bench.table.required(s) - c.requiredClearance) <= 1e-12, "pipe \(c.pipeID)")
            }
            var brute = [DigHit]()
            for s in segs {
                let pts = s.geometry.points
                var d = Double.infinity
                for k in 1..<pts.count {
                    d = min(d, segmentPolygonDistance(pts[k - 1].x, pts[k - 1].y, pts[k].x, pts[k].y, ring: site.ring))
                }
                let clear = max(0, d - (s.outerWidthM ?? 0) / 2)
                #expect(clear == DigClearanceTable.clearDistance(s, centreline: d))
                if clear == 0 || clear < bench.table.required(s) - 1e-9 {
                    brute.append(DigHit(id: s.id, distance: d, clearDistance: clear))
                    if d >= bench.table.required(s) { wallOnly += 1 }
                }
            }
            let ours = report.conflicts.map(DigHit.init)
            conflicts += ours.count
            let why = DigAnswerComparison.difference(
                reference: ours, other: brute, otherName: "brute force",
                required: { id in bench.engine.segment(id: id).map(bench.table.required) })
            #expect(why == nil, "site \(i) \(site.ewkt): \(why ?? "")")
        }
        // The sites are on streets, so the check is not vacuous; and some pipes conflict only
        // because their wall, not their centreline, is inside the clearance.
        #expect(conflicts >= bench.sites.count)
        #expect(wallOnly > 0, "no conflict depends on the pipe's width: the wall rule is untested")
        // The search radius covers every clearance and the widest pipe.
        #expect(bench.table.fallback == bench.table.clearance.values.max())
        #expect(bench.table.maxHalfWidth == segs.map { ($0.outerWidthM ?? 0) / 2 }.max())
    }

    @Test func copyFieldsAreEscaped() {
        var buf = [UInt8]()
        PostGISDigPeer.field("a\tb\\c\nd", &buf, tab: true)
        PostGISDigPeer.field(nil, &buf, tab: false)
        #expect(String(decoding: buf, as: UTF8.self) == "a\\tb\\\\c\\nd\t\\N")
    }
}

@Suite struct DigCheckReportTests {
    func run(postgis: Bool) -> CompareRun {
        let machine = MachineInfo(host: "h", cpu: "c", cores: 2, memoryBytes: 1 << 34, kernel: "k", toolchain: "t",
                                  loadAverageAtStart: 1, loadAverageAtEnd: 2)
        var peers = [PeerFigures(peer: "subterra", throughput: 40_000, repetitionSeconds: [1], p50Nanos: 20_000,
                                 p99Nanos: 80_000, heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil)]
        if postgis {
            peers.append(PeerFigures(peer: "postgis", throughput: 8_000, repetitionSeconds: [1], p50Nanos: 100_000,
                                     p99Nanos: 200_000, heapBytes: nil, residentBytes: nil, reportedBytes: nil, bytesPerItem: nil))
        }
        return CompareRun(
            date: "2026-11-30T00:00:00Z", seed: 5, sizes: [1_000_000], repetitions: 3, gate: "passed", machine: machine,
            results: [WorkloadResult(workload: "digcheck", size: 1_000_000, queries: 1000, peers: peers)],
            notes: postgis ? nil : ["digcheck: PostGIS peer SKIPPED: not installed"])
    }

    @Test func tableQuotesBothSidesAndTheRatios() {
        let t = digCheckTable(run(postgis: true))
        #expect(t.contains("| 1e6 | 1000 sites | 20.0 / 80.0 | 40000 | 100 / 200 | 8000 | 5.00× | 2.50× | 5.00× |"))
        #expect(run(postgis: true).results[0].ratioToBestPeer == 5)
        #expect(digCheckTable(run(postgis: false)).contains("skipped"))
        // The index table leaves dig-check rows to their own table.
        #expect(!markdownTable(run(postgis: true)).contains("digcheck"))
    }

    @Test func skippedPeerIsSaidInEveryReport() throws {
        let dir = NSTemporaryDirectory() + "dig-report-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let readme = dir + "-README.md"
        defer { try? FileManager.default.removeItem(atPath: readme) }
        try writeReport(run: run(postgis: false), thresholdLog: nil, to: dir, readme: readme)
        #expect(try readFile(dir + "/summary.md").contains("PostGIS peer SKIPPED: not installed"))
        #expect(try readFile(readme).contains("PostGIS peer SKIPPED: not installed"))
        #expect(try readFile(dir + "/summary.json").contains("SKIPPED"))
        try writeReport(run: run(postgis: true), thresholdLog: nil, to: dir, readme: readme)
        #expect(try readFile(dir + "/throughput-digcheck.svg").contains("postgis"))
        #expect(try readFile(readme).contains("| 1e6 | 1000 sites |"))
    }
}

/// Against a live server, when one is running (`with-postgis.sh swift test …` sets
/// SUBTERRA_POSTGIS): the PostGIS peer loads a small district and its conflict sets equal the
/// engine's on every site; the gate catches a peer that loses a pipe.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["SUBTERRA_POSTGIS"] != nil, "no SUBTERRA_POSTGIS server"))
struct PostGISPeerTests {
    @Test func peerAgreesWithTheEngineOnEverySite() throws {
        let conninfo = ProcessInfo.processInfo.environment["SUBTERRA_POSTGIS"]!
        let bench = try DigCheckBench(size: 3000, seed: 12, siteCount: 200, log: { _ in })
        let peer = try PostGISDigPeer(conninfo: conninfo, segments: bench.district.network.segments, table: bench.table,
                                      log: { _ in })
        #expect(try peer.explain(bench.sites[0]).contains("pipes_geom"))
        let (sites, conflicts) = try bench.gate(peer)
        #expect(sites == 200 && conflicts >= 200)
        // A row deleted behind the engine's back: the gate must name a site and the pipe.
        var victim: Int64? = nil
        for i in bench.sites.indices where victim == nil { victim = try bench.engineHits(i).first?.id }
        try peer.db.exec("DELETE FROM pipes WHERE id = \(try #require(victim))")
        #expect(throws: GateFailure.self) { try bench.gate(peer) }
    }
}

@Suite struct PostgresConnectionTests {
    @Test func badConnectionIsAClearError() {
        do {
            _ = try PostgresConnection("host=127.0.0.1 port=1 dbname=none user=none connect_timeout=2")
            Issue.record("connected to port 1")
        } catch {
            #expect(error.description.contains("connect to host=127.0.0.1 port=1"))
        }
    }
}

@Suite struct DigFamilyBenchTests {
    /// The dig check on a data family's segments: every pipe lies on the family's segment of the
    /// same index with the district's attributes, the sites sit on those segments, and the
    /// batch form's answers (checked against `digCheck` inside `batchScaling`) come back for
    /// every thread count asked.
    @Test(arguments: [DataFamily.clustered, .uniform])
    func familyMapCarriesTheDistrictsAttributes(_ family: DataFamily) throws {
        let bench = try DigCheckBench(size: 2000, seed: 5, siteCount: 60, family: family, log: { _ in })
        let data = try SegmentSet.family(family, count: 2000, seed: 5)
        let plain = DistrictGenerator(segments: 2000, seed: 5).district().network.segments
        let segs = bench.district.network.segments
        #expect(segs.count == plain.count)
        for i in segs.indices {
            let g = data.segment(i)
            #expect(segs[i].geometry.points == [Point(g.x0, g.y0), Point(g.x1, g.y1)], "segment \(i)")
            #expect(segs[i].id == plain[i].id && segs[i].layer == plain[i].layer && segs[i].owner == plain[i].owner)
            #expect(segs[i].section == plain[i].section && segs[i].feature == nil)
        }
        let conflicts = try bench.requests.reduce(0) { $0 + (try bench.engine.digCheck($1).conflicts.count) }
        #expect(conflicts > 0, "sites on the map's segments conflict")
        let scaling = try bench.batchScaling(threads: [1, 2], repetitions: 1)
        #expect(scaling.map(\.threads) == [1, 2])
    }
}
