import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Dig checks group a cable with its bed and sleeve (issue 13 item 6): checked against brute
/// force, where the conflict set comes from GEOS distances (``bruteForceDig``) and the
/// association from dense sampling of each enclosure with GEOS distances to every line.
@Suite struct FeatureKindDigTests {
    static func seg(
        _ id: Int64, _ layer: LayerCode, _ owner: String?, _ pts: [Point], _ kind: FeatureKind,
        section: PipeSection? = nil
    ) -> PipeSegment {
        PipeSegment(
            id: id, layer: layer, startPoint: PointNumber("S\(id)"), endPoint: PointNumber("E\(id)"),
            geometry: try! LineString(pts), startDepth: 0.8, endDepth: 0.9, section: section,
            voltageKV: layer == .power ? 0.4 : nil, owner: owner,
            accuracy: PositionalAccuracy(horizontalM: 0.1), featureKind: kind)
    }

    static func at(_ x: Double, _ y: Double) -> Point { Point(origin.x + x, origin.y + y) }

    /// A cable, its bed on the same coordinates and a shorter sleeve drawn the other way.
    static let triple: [PipeSegment] = [
        seg(1, .power, "Grid", [at(0, 0), at(20, 0), at(40, 5)], .utilityLine, section: .circular(diameterMM: 50)),
        seg(2, .power, "Grid", [at(0, 0), at(20, 0), at(40, 5)], .cableBed, section: .rectangular(widthMM: 400, heightMM: 200)),
        seg(3, .power, "Grid", [at(25, 1.25), at(20, 0), at(15, 0)], .sleeve, section: .circular(diameterMM: 110)),
    ]

    static let site = Geometry.polygon(rect(origin.x + 17, origin.y - 2, origin.x + 23, origin.y + 2))

    /// The expected report by brute force: GEOS conflict set; each enclosure grouped into the
    /// conflicting lines it carries (every sample of it within the tolerance of a compatible
    /// line, and the line alongside for at least the minimum); owners over what is left.
    static func expected(_ map: UtilityNetwork, _ rules: ClearanceRules, _ area: Geometry)
        -> (conflicts: [Int64: [Int64]], owners: [String: [Int64]])
    {
        let hit = bruteForceDig(map, rules, area)
        let tol = UtilityEngine.enclosureTolerance
        var carried: [Int64: [Int64]] = [:]
        for e in map.segments where e.featureKind.isEnclosure && hit[e.id] != nil {
            let lines = map.segments.filter {
                $0.featureKind == .utilityLine && UtilityEngine.layersCompatible(enclosure: e.layer, line: $0.layer)
                    && (e.owner == nil || $0.owner == nil || e.owner == $0.owner)
            }
            let n = 2000
            var covered = true
            var along: [Int64: Double] = [:]
            for i in 0...n {
                let p = Geometry.point(e.point(atParameter: Double(i) / Double(n)))
                var any = false
                for l in lines where geosDistance(l, p) <= tol {
                    any = true
                    along[l.featureID, default: 0] += e.length / Double(n)
                }
                if !any { covered = false; break }
            }
            guard covered else { continue }
            carried[e.id] = along.filter { $0.value >= min(UtilityEngine.enclosureMinimumAlongside, e.length) }.keys.sorted()
        }
        var conflicts: [Int64: [Int64]] = [:]
        for id in hit.keys where map.segment(id: id)?.featureKind == .utilityLine { conflicts[id] = [] }
        for id in hit.keys.sorted() where map.segment(id: id)?.featureKind.isEnclosure == true {
            let hosts = (carried[id] ?? []).filter { conflicts[$0] != nil }
            if hosts.isEmpty { conflicts[id] = [] }
            for h in hosts { conflicts[h]?.append(id) }
        }
        var owners: [String: [Int64]] = [:]
        for id in conflicts.keys.sorted() { owners[map.segment(id: id)?.owner ?? "(unknown owner)", default: []].append(id) }
        return (conflicts, owners)
    }

    static func got(_ r: DigReport) -> (conflicts: [Int64: [Int64]], owners: [String: [Int64]]) {
        (Dictionary(uniqueKeysWithValues: r.conflicts.map { ($0.pipeID, $0.enclosures.map(\.pipeID).sorted()) }),
         Dictionary(uniqueKeysWithValues: r.owners.map { ($0.owner, $0.pipeIDs) }))
    }

    @Test func aCableWithItsBedAndSleeveIsOneConflict() throws {
        let map = try UtilityNetwork(segments: Self.triple)
        let engine = try UtilityEngine(network: map)
        let r = try engine.digCheck(DigRequest(area: Self.site, plannedDepth: 1.5))
        #expect(r.conflicts.count == 1, "\(r.conflicts.map(\.pipeID))")
        let c = try #require(r.conflicts.first)
        #expect(c.pipeID == 1 && c.featureKind == .utilityLine)
        #expect(c.enclosures.map(\.pipeID) == [2, 3])
        #expect(c.enclosures.map(\.kind) == [.cableBed, .sleeve])
        #expect(r.owners.count == 1)
        #expect(r.owners.first?.pipeIDs == [1])
        // All three conflict on their own (brute force), so the grouping is what made it one.
        #expect(Set(bruteForceDig(map, engine.rules, Self.site).keys) == [1, 2, 3])
        let want = Self.expected(map, engine.rules, Self.site)
        #expect(Self.got(r).conflicts == want.conflicts)
        #expect(Self.got(r).owners == want.owners)
    }

    @Test func routeAndSectionFindingsCarryTheKind() throws {
        let engine = try UtilityEngine(network: try UtilityNetwork(segments: Self.triple))
        let kinds = Dictionary(uniqueKeysWithValues: Self.triple.map { ($0.id, $0.featureKind) })
        // A planned water main across the triple: each existing line is crossed, with its kind.
        let cut = try LineString([Self.at(18, -20), Self.at(18, 20)])
        let planned = PlannedPipe(
            profile: PipeProfile(layer: .water, diameterMM: 200), route: cut, depthAtStart: 1.5, depthAtEnd: 1.5)
        let route = try engine.routeCheck(planned, enclosures: .separate)
        let crossed = route.findings.filter { $0.kind == .vertical }
        #expect(Set(crossed.compactMap(\.pipeID)) == Set(kinds.keys), "\(route.findings)")
        for f in crossed { #expect(f.featureKind == kinds[f.pipeID!], "\(f)") }
        // Grouped (the default): the cable's crossing carries its bed's and sleeve's.
        let grouped = try engine.routeCheck(planned)
        let lines = grouped.findings.filter { $0.kind == .vertical }
        #expect(lines.map(\.pipeID) == [1], "\(grouped.findings)")
        #expect(lines.first?.enclosures.map(\.pipeID).sorted() == [2, 3], "\(grouped.findings)")
        #expect(grouped.result == route.result)
        let section = try engine.crossSection(along: cut)
        #expect(Set(section.items.map(\.pipeID)) == Set(kinds.keys))
        for i in section.items { #expect(i.featureKind == kinds[i.pipeID], "\(i)") }
    }

    @Test func aLoneSleeveAndOtherOperatorsAreReportedOnTheirOwn() throws {
        let map = try UtilityNetwork(segments: Self.triple + [
            // An empty duct 3 m north: no line in it.
            Self.seg(4, .power, "Grid", [Self.at(10, 1.5), Self.at(30, 1.5)], .sleeve),
            // Another operator's telecom cable in the same trench, 5 cm off: not carried by Grid's bed.
            Self.seg(5, .telecom, "Tel", [Self.at(0, 0.05), Self.at(40, 0.05)], .utilityLine),
            // Grid's bed of the telecom operator's cable? Owners differ: its own conflict.
            Self.seg(6, .telecom, "Grid", [Self.at(5, 0.05), Self.at(35, 0.05)], .cableBed),
        ])
        let engine = try UtilityEngine(network: map)
        let r = try engine.digCheck(DigRequest(area: Self.site, plannedDepth: 1.5))
        let want = Self.expected(map, engine.rules, Self.site)
        #expect(Self.got(r).conflicts == want.conflicts)
        #expect(Self.got(r).owners == want.owners)
        #expect(want.conflicts == [1: [2, 3], 4: [], 5: [], 6: []], "the oracle itself: \(want.conflicts)")
        let lone = try #require(r.conflicts.first { $0.pipeID == 4 })
        #expect(lone.featureKind == .sleeve)
        #expect(lone.enclosures.isEmpty)
        #expect(r.owners.first { $0.owner == "Grid" }?.pipeIDs == [1, 4, 6])
    }

    @Test func aSleeveWhoseCableStaysClearNamesTheCable() throws {
        // The sleeve is wide and reaches the dig; the thin cable in it, 0.5 m farther, does not.
        let map = try UtilityNetwork(segments: [
            Self.seg(1, .power, "Grid", [Self.at(0, 0), Self.at(40, 0)], .utilityLine),
            Self.seg(2, .power, "Grid", [Self.at(10, 0), Self.at(30, 0)], .sleeve, section: .circular(diameterMM: 1200)),
        ])
        let engine = try UtilityEngine(network: map)
        // 0.3 m beyond the cable's required clearance: 0.3 m inside the sleeve's (half width 0.6 m).
        let rule = try #require(engine.rules.excavation(PipeProfile(map.segments[0]), workType: nil)).distance
        let y = rule + 0.1 + 0.3
        let area = Geometry.polygon(rect(origin.x + 15, origin.y + y, origin.x + 25, origin.y + y + 2))
        let r = try engine.digCheck(DigRequest(area: area, plannedDepth: 1.5))
        let want = Self.expected(map, engine.rules, area)
        #expect(Self.got(r).conflicts == want.conflicts)
        #expect(want.conflicts == [2: []], "the oracle itself: \(want.conflicts)")
        #expect(r.conflicts.first?.reason.contains("the sleeve of line 1") == true, "\(r.conflicts.map(\.reason))")
    }

    @Test func randomTripletsMatchBruteForce() throws {
        var rng = TestRandom(1313)
        var segs: [PipeSegment] = []
        var id: Int64 = 1
        let kinds: [FeatureKind] = [.cableBed, .sleeve, .casing]
        for cell in 0..<36 {
            let cx = Double(cell % 6) * 40, cy = Double(cell / 6) * 40
            let layer: LayerCode = rng.chance(0.5) ? .power : .telecom
            let owner = rng.chance(0.5) ? "A" : "B"
            let a = Self.at(cx + rng.uniform(0, 5), cy + rng.uniform(0, 5))
            let m = Point(a.x + rng.uniform(8, 14), a.y + rng.uniform(-4, 4))
            let b = Point(m.x + rng.uniform(8, 14), m.y + rng.uniform(-4, 4))
            let cable = Self.seg(id, layer, owner, [a, m, b], .utilityLine, section: .circular(diameterMM: 60))
            id += 1
            segs.append(cable)
            for _ in 0..<Int(rng.next() % 3) {
                let kind = kinds[Int(rng.next() % 3)]
                // On the trace (re-digitised within 3 cm), or 0.5 m beside it; a part or all.
                let off = rng.chance(0.75) ? 0.0 : 0.5
                // The lines run mostly along x, so a y shift of 0.5 m puts it over 0.44 m away.
                let t0 = rng.chance(0.5) ? 0 : rng.uniform(0, 0.4), t1 = rng.chance(0.5) ? 1 : rng.uniform(0.6, 1)
                var pts = [cable.point(atParameter: t0)]
                let tm = cable.parameter(nearestTo: m)
                if t0 < tm && tm < t1 { pts.append(m) }
                pts.append(cable.point(atParameter: t1))
                pts = pts.map { Point($0.x + rng.uniform(-0.03, 0.03), $0.y + (off > 0 ? off : rng.uniform(-0.03, 0.03))) }
                let otherOwner = rng.chance(0.15) ? (owner == "A" ? "B" : "A") : owner
                segs.append(Self.seg(id, layer, otherOwner, pts, kind, section: .circular(diameterMM: 200)))
                id += 1
            }
        }
        let map = try UtilityNetwork(segments: segs)
        let engine = try UtilityEngine(network: map)
        var grouped = 0
        for _ in 0..<40 {
            // Near a random line, so most sites meet some.
            let near = segs[Int(rng.next() % UInt64(segs.count))].point(atParameter: rng.uniform(0, 1))
            let c = Point(near.x + rng.uniform(-3, 3), near.y + rng.uniform(-3, 3))
            let area = Geometry.polygon(randomPolygon(&rng, around: c, radius: rng.uniform(2, 8)))
            let r = try engine.digCheck(DigRequest(area: area, plannedDepth: 1.5))
            let want = Self.expected(map, engine.rules, area)
            #expect(Self.got(r).conflicts == want.conflicts)
            #expect(Self.got(r).owners == want.owners)
            #expect(digBruteForceMismatches(r, map, engine.rules, area).allSatisfy { $0.contains("missed") })
            grouped += r.conflicts.reduce(0) { $0 + $1.enclosures.count }
        }
        #expect(grouped > 5, "the sites exercise grouping: \(grouped)")
    }

    @Test func capsuleIntervalsMatchSampling() {
        var rng = TestRandom(99)
        for _ in 0..<2000 {
            let a = Point(rng.uniform(0, 2), rng.uniform(0, 2)), b = Point(rng.uniform(0, 2), rng.uniform(0, 2))
            let c = Point(rng.uniform(0, 2), rng.uniform(0, 2))
            let d = rng.chance(0.1) ? c : Point(rng.uniform(0, 2), rng.uniform(0, 2))
            let r = rng.uniform(0.01, 0.6)
            let iv = _capsuleInterval(a, b, c, d, radius: r)
            for i in 0...200 {
                let t = Double(i) / 200
                let p = Point(a.x + t * (b.x - a.x), a.y + t * (b.y - a.y))
                let dist = Kernel.distance(p, segment: c, d)
                if dist < r - 1e-9 { #expect(iv?.contains(t) == true, "t \(t) at \(dist) < \(r)") }
                if dist > r + 1e-9 { #expect(iv?.contains(t) != true, "t \(t) at \(dist) > \(r)") }
            }
        }
    }
}
