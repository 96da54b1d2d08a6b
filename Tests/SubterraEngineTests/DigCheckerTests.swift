import Foundation
import SubterraDatasets
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

@testable import SubterraEngine

/// `DigChecker` (buffers reused between checks) and `digChecks` (many sites on several threads)
/// against the plain `digCheck`, on random sites of every shape, work type and planned utility;
/// and the plain check against the brute-force oracle, so the shared code is held to an
/// independent answer too.
@Suite struct DigCheckerTests {
    /// Every request form the dig check takes: polygons of many sizes, points, lines, a
    /// multipolygon and a collection, some in WGS84, some with a work type or planned utility,
    /// and a few the engine refuses (negative depth, a point off the map's area of use).
    static func requests(_ n: Int, seed: UInt64, spread: Double) throws -> [DigRequest] {
        var rng = TestRandom(seed)
        let toLonLat = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        var out: [DigRequest] = []
        for i in 0..<n {
            var area = randomSite(&rng, spread: spread, radius: i % 5 == 0 ? 10...60 : 1...15)
            let c = Point(origin.x + rng.uniform(-spread, spread), origin.y + rng.uniform(-spread, spread))
            switch i % 9 {
            case 1: area = .point(c)
            case 2: area = .lineString(try LineString([c, Point(c.x + rng.uniform(-30, 30), c.y + rng.uniform(-30, 30))]))
            case 3:
                area = .multiPolygon([
                    randomPolygon(&rng, around: c, radius: 5), randomPolygon(&rng, around: Point(c.x + 25, c.y), radius: 4),
                ])
            case 4: area = .collection([.point(c), area])
            default: break
            }
            var r = DigRequest(area: area, plannedDepth: rng.uniform(0.3, 3.5))
            if i % 7 == 3 {
                r.area = try toLonLat.transform(area)
                r.crs = "EPSG:4326"
            }
            if i % 6 == 5 { r.workType = ["hand dig", "trench for fibre duct", "pile driving"][i % 3] }
            if i % 8 == 6 { r.plannedUtility = PipeProfile(layer: [.telecom, .gas, .water][i % 3], burial: .ductBank) }
            if i % 41 == 40 { r.plannedDepth = -1 }
            if i % 43 == 42 { r.area = .point(Point(1e7, 3_140_000)) }
            out.append(r)
        }
        return out
    }

    /// A report, or a refusal as its text.
    enum Outcome: Equatable {
        case report(DigReport)
        case refused(String)

        var report: DigReport? { if case .report(let r) = self { r } else { nil } }
    }

    /// The plain answers (or errors, as text) of `engine`.
    static func plain(_ engine: UtilityEngine, _ requests: [DigRequest], filter: PipeFilter = .all) -> [Outcome] {
        requests.map { r in
            do throws(EngineError) { return .report(try engine.digCheck(r, filter: filter)) } catch { return .refused(error.description) }
        }
    }

    static func text(_ r: Result<DigReport, EngineError>) -> Outcome {
        switch r {
        case .success(let report): .report(report)
        case .failure(let e): .refused(e.description)
        }
    }

    /// One checker over many sites, reports dropped after each check (buffers refilled in place)
    /// and reports kept (copy on write must leave them as they were), equals the plain check.
    func checkerEqualsPlain(_ engine: UtilityEngine, _ requests: [DigRequest], filter: PipeFilter = .all) {
        let want = Self.plain(engine, requests, filter: filter)
        let checker = DigChecker(engine)
        var kept: [Outcome] = []
        for round in 0..<2 {
            for (i, r) in requests.enumerated() {
                let got: Outcome
                do throws(EngineError) { got = .report(try checker.check(r, filter: filter)) } catch { got = .refused(error.description) }
                #expect(got == want[i], "site \(i), round \(round)")
                if round == 1 { kept.append(got) }
            }
        }
        // The kept reports were not changed by the checks after them.
        #expect(kept == want)
    }

    @Test func checkerAndBatchEqualPlainOnARandomDistrict() throws {
        let engine = try UtilityEngine(network: randomDistrict(count: 1500, seed: 14, size: 500))
        let requests = try Self.requests(300, seed: 41, spread: 260)
        checkerEqualsPlain(engine, requests)
        checkerEqualsPlain(engine, requests, filter: PipeFilter(layers: [.gas, .power, .water]))
        let want = Self.plain(engine, requests)
        #expect(want.contains { $0.report?.conflicts.isEmpty == false }, "some sites conflict")
        #expect(want.contains { $0.report == nil }, "some requests are refused")
        for threads in [1, 2, 3, 8] {
            let got = engine.digChecks(requests, threads: threads).map(Self.text)
            #expect(got == want, "\(threads) threads")
        }
        #expect(engine.digChecks([]).isEmpty)
    }

    @Test func checkerAgreesWithTheBruteForceOracle() throws {
        let map = randomDistrict(count: 800, seed: 15, size: 300)
        let engine = try UtilityEngine(network: map)
        let checker = DigChecker(engine)
        var rng = TestRandom(16)
        for i in 0..<120 {
            let area = randomSite(&rng, spread: 150, radius: 2...25)
            let report = try checker.check(DigRequest(area: area, plannedDepth: rng.uniform(0.5, 3)))
            let mismatches = digBruteForceMismatches(report, map, engine.rules, area)
            #expect(mismatches.isEmpty, "site \(i): \(mismatches)")
            // The summaries as the report's own static builders give them (no precautions or
            // areas in this map).
            #expect(report.layers == UtilityEngine.layerSummaries(report.conflicts), "site \(i)")
            #expect(report.owners == UtilityEngine.ownerNotices(report.conflicts), "site \(i)")
        }
    }

    @Test func checkerEqualsPlainOnTheGeneratedDistrictWithMultiPartPipes() throws {
        let district = DistrictGenerator(segments: 3000, seed: 2027).district()
        // Every run of three consecutive pipes of a layer made one feature of three parts.
        var segs = district.network.segments
        for i in segs.indices where i % 3 != 0 && segs[i].layer == segs[i - i % 3].layer {
            segs[i].feature = segs[i - i % 3].id
            segs[i - i % 3].feature = segs[i - i % 3].id
        }
        let grouped: UtilityNetwork = try UtilityNetwork(crs: district.network.crs, segments: segs)
        for map in [district.network, grouped] {
            let engine = try UtilityEngine(network: map)
            var rng = TestRandom(17)
            let requests = (0..<200).map { i -> DigRequest in
                let s = map.segments[Int(rng.next() % UInt64(map.segments.count))]
                let p = s.geometry.points[0]
                let poly = randomPolygon(&rng, around: Point(p.x + rng.uniform(-3, 3), p.y + rng.uniform(-3, 3)), radius: rng.uniform(2, 12))
                return DigRequest(
                    area: .polygon(poly), plannedDepth: rng.uniform(1, 3),
                    plannedUtility: i % 5 == 4 ? PipeProfile(layer: .power, burial: .ductBank) : nil)
            }
            checkerEqualsPlain(engine, requests)
            let want = Self.plain(engine, requests)
            #expect(engine.digChecks(requests, threads: 2).map(Self.text) == want)
        }
    }

    /// The batch form reads one snapshot for all its sites, and every answer names it.
    @Test func batchAnswersFromOneSnapshotWhileEditsArePublished() throws {
        let map = randomDistrict(count: 400, seed: 18, size: 200)
        let engine = try UtilityEngine(network: map)
        let requests = try Self.requests(200, seed: 19, spread: 100)
        let before = engine.version
        let reports = engine.digChecks(requests, threads: 2).compactMap { try? $0.get() }
        #expect(!reports.isEmpty)
        #expect(reports.allSatisfy { $0.mapVersion == before })
        try engine.apply(StoreEdit(deleteSegments: [map.segments[0].id]))
        let after = engine.digChecks(requests, threads: 2).compactMap { try? $0.get() }
        #expect(after.allSatisfy { $0.mapVersion == engine.version })
        #expect(after.map { $0.conflicts.contains { $0.pipeID == map.segments[0].id } }.allSatisfy { !$0 })
    }
}
