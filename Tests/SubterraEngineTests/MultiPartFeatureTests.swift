import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Queries and checks over maps with multi-part features (a pipe stored as several segment rows
/// sharing `PipeSegment.feature`), against brute force over every part with GEOS distances: each
/// feature is answered once, at its closest part's exact distance, with that part's point and
/// depth; `nearest -k` answers k different features.
@Suite struct MultiPartFeatureTests {
    let map: UtilityNetwork
    let engine: UtilityEngine

    /// A random district in which pipes of 3–4 vertices are split at an inner vertex into two
    /// touching parts (equal distances at the shared vertex) and runs of unrelated pipes are
    /// grouped into features of 2–4 scattered parts; some features carry a text source id.
    static func district(seed: UInt64) -> UtilityNetwork {
        var rng = TestRandom(seed)
        let base = randomDistrict(count: 500, seed: seed)
        var out: [PipeSegment] = []
        var nextID: Int64 = 10_000
        var i = 0
        let segs = base.segments
        while i < segs.count {
            let s = segs[i]
            if s.geometry.points.count >= 3, rng.chance(0.7) {
                let pts = s.geometry.points
                let cut = Int(rng.next() % UInt64(pts.count - 2)) + 1
                var a = s, b = s
                a.geometry = try! LineString(Array(pts[...cut]))
                b.geometry = try! LineString(Array(pts[cut...]))
                b.id = nextID
                nextID += 1
                a.feature = s.id; b.feature = s.id
                a.part = 1; b.part = 2
                a.endPoint = PointNumber("C\(s.id)"); b.startPoint = a.endPoint
                if rng.chance(0.5) { a.sourceID = "OP.\(s.id)"; b.sourceID = a.sourceID }
                out += [a, b]
                i += 1
                continue
            }
            let n = rng.chance(0.3) ? min(Int(rng.next() % 3) + 2, segs.count - i) : 1
            let group = Array(segs[i..<(i + n)])
            for (k, var p) in group.enumerated() {
                if n > 1 {
                    p.feature = group[0].id
                    p.part = k + 1
                    p.layer = group[0].layer
                    p.owner = group[0].owner
                    p.gasPressureMPa = group[0].gasPressureMPa
                    p.voltageKV = group[0].voltageKV
                }
                if n > 1, rng.chance(0.5) { p.sourceID = "GRP.\(group[0].id)" }
                out.append(p)
            }
            i += n
        }
        return try! UtilityNetwork(crs: base.crs, segments: out)
    }

    init() throws {
        map = Self.district(seed: 31)
        engine = try UtilityEngine(network: map)
    }

    /// Feature key → least GEOS distance over its parts, for the accepted parts.
    func featureDistances(_ q: Geometry, _ filter: PipeFilter = .all) -> [Int64: Double] {
        var out: [Int64: Double] = [:]
        for s in map.segments where filter.accepts(s) {
            out[s.featureID] = min(out[s.featureID] ?? .infinity, geosDistance(s, q))
        }
        return out
    }

    func queries(_ n: Int, seed: UInt64) -> [Geometry] { randomQueries(n, seed: seed, spread: 230) }

    @Test func theDistrictHasMultiPartFeatures() {
        let parts = Dictionary(grouping: map.segments, by: \.featureID).values.filter { $0.count > 1 }
        #expect(parts.count > 40)
        #expect(map.segments.contains { $0.sourceID != nil })
    }

    @Test func nearestAnswersKDistinctFeaturesAtTheClosestPart() throws {
        for (i, q) in queries(45, seed: 41).enumerated() {
            let k = i % 5 + 1
            let filter = i % 4 == 0 ? PipeFilter(layers: [.gas, .power, .water]) : .all
            let hits = try engine.nearest(to: q, k: k, filter: filter)
            let brute = featureDistances(q, filter)
            let ranked = brute.values.sorted()
            #expect(hits.count == min(k, brute.count), "query \(i): \(hits.count) hits for k \(k)")
            #expect(Set(hits.map(\.pipe.featureID)).count == hits.count, "query \(i): a feature answered twice")
            for (h, want) in zip(hits, ranked) {
                #expect(abs(h.distance - want) < 1e-7, "query \(i): \(h.distance) vs \(want)")
                // The part answered is a closest part of its feature.
                #expect(abs(geosDistance(h.pipe, q) - brute[h.pipe.featureID]!) < 1e-7, "query \(i): not the closest part")
                expectConsistent(h, q, map)
            }
        }
    }

    @Test func nearestPerLayerCountsFeatures() throws {
        for q in queries(9, seed: 42) {
            let hits = try engine.nearest(to: q, k: 2, perLayer: true)
            for layer in map.layersPresent {
                let brute = featureDistances(q, PipeFilter(layers: [layer])).values.sorted()
                let got = hits.filter { $0.pipe.layer == layer }
                #expect(got.count == min(2, brute.count), "layer \(layer)")
                #expect(Set(got.map(\.pipe.featureID)).count == got.count)
                for (g, b) in zip(got.map(\.distance), brute) { #expect(abs(g - b) < 1e-7) }
            }
        }
    }

    @Test func withinAndIntersectsAnswerEachFeatureOnce() throws {
        for (i, q) in queries(30, seed: 43).enumerated() {
            let d = Double(i % 4) * 4
            let hits = try engine.within(distance: d, of: q)
            let brute = featureDistances(q)
            let got = Dictionary(hits.map { ($0.pipe.featureID, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(got.count == hits.count, "query \(i): a feature answered twice")
            for (f, dist) in brute where abs(dist - d) > 1e-7 {
                #expect((got[f] != nil) == (dist <= d), "query \(i): feature \(f) at \(dist) m, limit \(d) m")
            }
            for h in hits {
                #expect(abs(h.distance - brute[h.pipe.featureID]!) < 1e-7, "query \(i): not the closest part")
                expectConsistent(h, q, map)
            }
            #expect(hits.map(\.distance) == hits.map(\.distance).sorted())
            let all = try engine.within(distance: d, of: q, allParts: true)
            let parts = map.segments.filter { abs(geosDistance($0, q) - d) > 1e-7 && geosDistance($0, q) <= d }
            #expect(Set(parts.map(\.id)).isSubset(of: Set(all.map(\.pipe.id))), "query \(i): allParts misses a part")
        }
        for q in queries(15, seed: 44) where !q.isPoint {
            let hits = try engine.intersecting(q)
            let want = Set(map.segments.filter { geosIntersects($0, q) }.map(\.featureID))
            #expect(hits.count == want.count && Set(hits.map(\.pipe.featureID)) == want)
        }
    }

    @Test func digCheckReportsEachFeatureOnceAndOwnersCountFeatures() throws {
        var rng = TestRandom(45)
        var multiPartConflicts = 0
        for i in 0..<30 {
            let area = randomSite(&rng, spread: 200, radius: 4...25)
            let report = try engine.digCheck(DigRequest(area: area, plannedDepth: 1.5))
            let brute = bruteForceDig(map, engine.rules, area)
            let featureOf = Dictionary(uniqueKeysWithValues: map.segments.map { ($0.id, $0.featureID) })
            // Parts within 1 µm of their clearance may go either way; the rest must agree.
            let sure = Set(brute.filter { $0.value.0 == 0 || $0.value.0 < $0.value.1 - 1e-6 }.keys.map { featureOf[$0]! })
            let maybe = Set(brute.keys.map { featureOf[$0]! })
            let got = report.conflicts.map(\.featureID)
            #expect(Set(got).count == got.count, "dig \(i): a feature reported twice")
            #expect(sure.isSubset(of: Set(got)) && Set(got).isSubset(of: maybe), "dig \(i)")
            for c in report.conflicts {
                #expect(brute[c.pipeID] != nil, "dig \(i): part \(c.pipeID) reported but in no conflict")
                #expect(featureOf[c.pipeID] == c.featureID)
                let s = map.segment(id: c.pipeID)!
                #expect(c.sourceID == s.sourceID)
                if s.feature != nil { multiPartConflicts += 1 }
                #expect(abs(c.clearDistance - brute[c.pipeID]!.0) < 1e-7, "dig \(i): part \(c.pipeID)")
            }
            #expect(report.owners.reduce(0) { $0 + $1.pipeIDs.count } == report.conflicts.count)
            #expect(report.layers.reduce(0) { $0 + $1.pipeIDs.count } == report.conflicts.count)
            let uncheckedFeatures = report.unchecked.compactMap { u in u.pipeID.map { u.feature ?? $0 } }
            #expect(Set(uncheckedFeatures).count == uncheckedFeatures.count)
            #expect(Set(uncheckedFeatures).isDisjoint(with: Set(got)))
        }
        #expect(multiPartConflicts > 0, "the digs meet some multi-part feature")
    }

    @Test func routeCheckAndSectionReportAFeatureOnce() throws {
        var rng = TestRandom(46)
        for _ in 0..<15 {
            let a = Point(origin.x + rng.uniform(-200, 200), origin.y + rng.uniform(-200, 200))
            let b = Point(a.x + rng.uniform(-120, 120), a.y + rng.uniform(-120, 120))
            let route = try LineString([a, b])
            let report = try engine.routeCheck(PlannedPipe(
                profile: PipeProfile(layer: .water, diameterMM: 300), route: route, depthAtStart: 1.2, depthAtEnd: 1.4))
            let horizontal = report.findings.filter { $0.kind == .horizontal }.compactMap { f in f.pipeID.map { f.feature ?? $0 } }
            #expect(Set(horizontal).count == horizontal.count, "a feature judged twice for plan clearance")
            let cut = try engine.crossSection(along: route)
            let keys = cut.items.map { "\($0.feature ?? $0.pipeID)@\(($0.offset * 1e6).rounded())" }
            #expect(Set(keys).count == keys.count, "one crossing of a feature listed twice")
            for item in cut.items { #expect(item.sourceID == map.segment(id: item.pipeID)?.sourceID) }
        }
    }
}

extension Geometry {
    fileprivate var isPoint: Bool { if case .point = self { return true } else { return false } }
}
