import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

@Suite struct RouteAndSectionTests {
    let map = randomDistrict(count: 500, seed: 41)
    let engine: UtilityEngine
    let rules: ClearanceRules

    init() throws {
        engine = try UtilityEngine(network: map)
        rules = engine.rules
    }

    /// GEOS's shared points of two lines, and whether they overlap along a stretch.
    func geosShared(_ a: LineString, _ b: LineString) -> (points: [Point], overlaps: Bool) {
        let g = try! GEOS.withContext { ctx throws(GEOSError) in try ctx.intersection(.lineString(a), .lineString(b)) }
        var pts: [Point] = []
        var overlaps = false
        func walk(_ g: Geometry) {
            switch g {
            case .point(let p): pts.append(p)
            case .multiPoint(let ps): pts += ps
            case .lineString, .multiLineString: overlaps = true
            case .collection(let gs): gs.forEach(walk)
            default: break
            }
        }
        walk(g)
        return (pts, overlaps)
    }

    @Test func routeCheckMatchesBruteForce() throws {
        var rng = TestRandom(42)
        var verticals = 0, horizontals = 0, violations = 0
        for i in 0..<20 {
            let a = Point(origin.x + rng.uniform(-180, 180), origin.y + rng.uniform(-180, 180))
            let b = Point(a.x + rng.uniform(-80, 80), a.y + rng.uniform(-80, 80))
            let c = Point(b.x + rng.uniform(-40, 40), b.y + rng.uniform(-40, 40))
            let route = try LineString(i % 2 == 0 ? [a, b] : [a, b, c])
            let profile = [
                PipeProfile(layer: .gas, pressureClass: .mediumA, burial: .directBuried, diameterMM: 200),
                PipeProfile(layer: .water, burial: .directBuried, diameterMM: 300),
                PipeProfile(layer: .power, burial: .ductBank, diameterMM: 400, voltageKV: 10),
            ][i % 3]
            let planned = PlannedPipe(profile: profile, route: route, depthAtStart: rng.uniform(0.5, 2.5),
                                      depthAtEnd: rng.uniform(0.5, 2.5), surface: .sidewalk)
            let report = try engine.routeCheck(planned)
            let size = profile.diameterMM! / 1000
            for s in map.segments where s.length > 0 {
                let p = PipeProfile(s)
                let shared = geosShared(route, s.geometry)
                let got = report.findings.filter { $0.pipeID == s.id }
                if !shared.points.isEmpty && !shared.overlaps {
                    guard let rule = rules.vertical(profile, p) else {
                        #expect(report.unruledPipeIDs.contains(s.id))
                        continue
                    }
                    // One finding per distinct crossing point.
                    let distinct = shared.points.reduce(into: [Point]()) { acc, q in
                        if !acc.contains(where: { Kernel.distance($0, q) < 1e-6 }) { acc.append(q) }
                    }
                    #expect(got.count == distinct.count, "route \(i) pipe \(s.id)")
                    for f in got {
                        verticals += 1
                        #expect(f.kind == .vertical && f.required == rule.distance)
                        let q = Point(f.point.x, f.point.y)
                        #expect(distinct.contains { Kernel.distance($0, q) < 1e-6 })
                        let along = route.closestPosition(to: q).distanceAlong
                        #expect(abs(along - f.routeOffset) < 1e-6)
                        let dP = planned.depthAtStart + (planned.depthAtEnd - planned.depthAtStart) * along / route.length
                        #expect(abs(dP - f.plannedDepth!) < 1e-6)
                        let dE = map.depthOfTop(segmentID: s.id, atParameter: s.parameter(nearestTo: q))
                        #expect((dE == nil) == (f.existingDepth == nil))
                        guard let dE else { #expect(f.status == .unknownDepth); continue }
                        let gap = max(dP - (dE + (s.outerHeightM ?? 0)), dE - (dP + size))
                        #expect(abs(gap - f.actual!) < 1e-6)
                        #expect(f.status == (gap >= rule.distance ? .ok : .violation) || abs(gap - rule.distance) < 1e-6)
                        if f.status == .violation { violations += 1 }
                    }
                } else if let rule = rules.horizontal(profile, p) {
                    let actual = geosDistance(s, .lineString(route)) - size / 2 - (s.outerWidthM ?? 0) / 2
                    if actual < rule.distance + 1.0 - 1e-6 {
                        #expect(got.count == 1, "route \(i) pipe \(s.id): actual \(actual)")
                    } else if actual > rule.distance + 1.0 + 1e-6 {
                        #expect(got.isEmpty, "route \(i) pipe \(s.id)")
                    }
                    for f in got {
                        horizontals += 1
                        #expect(f.kind == .horizontal && f.required == rule.distance)
                        #expect(abs(f.actual! - actual) < 1e-6)
                        #expect(f.status == (actual >= rule.distance ? .ok : .violation) || abs(actual - rule.distance) < 1e-6)
                        if f.status == .violation { violations += 1 }
                    }
                } else {
                    #expect(got.isEmpty)
                }
            }
            let cover = report.findings.filter { $0.kind == .cover }.sorted { $0.routeOffset < $1.routeOffset }
            let minCover = rules.minimumCover(profile, under: .sidewalk)!.distance
            #expect(cover.map(\.actual!) == [planned.depthAtStart, planned.depthAtEnd])
            #expect(cover.map(\.status) == [planned.depthAtStart, planned.depthAtEnd].map { $0 >= minCover ? .ok : .violation })
            #expect(report.violations.allSatisfy { $0.status == .violation })
            #expect(try JSONDecoder().decode(RouteReport.self, from: JSONEncoder().encode(report)) == report)
        }
        #expect(verticals > 10 && horizontals > 10 && violations > 5, "\(verticals) \(horizontals) \(violations)")
    }

    @Test func verticalClearanceAtAKnownCrossing() throws {
        // Existing DN400 water main, top 1.5 m deep; planned gas DN200 crossing it at right angles.
        var water = PipeSegment(id: 7, layer: .water, startPoint: "W1", endPoint: "W2",
                                geometry: try LineString([Point(origin.x, origin.y - 50), Point(origin.x, origin.y + 50)]),
                                startDepth: 1.5, endDepth: 1.5, section: .circular(diameterMM: 400), owner: "Wenling Water")
        water.burial = .directBuried
        let e = try UtilityEngine(network: UtilityNetwork(segments: [water]))
        func check(_ d0: Double, _ d1: Double) throws -> RouteFinding {
            let route = try LineString([Point(origin.x - 10, origin.y), Point(origin.x + 30, origin.y)])
            let r = try e.routeCheck(PlannedPipe(
                profile: PipeProfile(layer: .gas, pressureClass: .mediumA, diameterMM: 200), route: route,
                depthAtStart: d0, depthAtEnd: d1))
            return try #require(r.findings.first { $0.kind == .vertical })
        }
        // Planned top at 1.15 m (crossing at a quarter of the route): bottom 1.35, gap 0.15 = rule.
        let exact = try check(1.15, 1.15)
        #expect(exact.required == 0.15 && abs(exact.actual! - 0.15) < 1e-12 && exact.status == .ok)
        #expect(exact.rule.description == "GB50289 table 4.1.14: gas ↔ water, 0.15 m")
        #expect(exact.routeOffset == 10)
        // Sloping: 1.0 at start, 1.8 at end → 1.2 at the crossing: gap 0.10 < 0.15.
        let sloped = try check(1.0, 1.8)
        #expect(abs(sloped.plannedDepth! - 1.2) < 1e-12 && abs(sloped.actual! - 0.1) < 1e-12 && sloped.status == .violation)
        // Below the main: top 2.05 → gap 2.05 − 1.9 = 0.15: ok; 2.0 → 0.10: violation.
        #expect(try check(2.05, 2.05).status == .ok)
        #expect(try check(2.0, 2.0).status == .violation)
        // Collision: planned inside the main's height.
        #expect(try check(1.6, 1.6).actual! < 0)
    }

    @Test func horizontalClearanceOfAParallelRun() throws {
        // Existing 10 kV cable (power, 0 width) 1.1 m from a planned sub-high A gas main DN200:
        // outer-wall clearance 1.1 − 0.1 = 1.0 < 1.5 → violation.
        var cable = PipeSegment(id: 3, layer: .power, startPoint: "C1", endPoint: "C2",
                                geometry: try LineString([Point(origin.x, origin.y + 1.1), Point(origin.x + 40, origin.y + 1.1)]),
                                startDepth: 0.8, endDepth: 0.8)
        cable.voltageKV = 10
        let e = try UtilityEngine(network: UtilityNetwork(segments: [cable]))
        let r = try e.routeCheck(PlannedPipe(
            profile: PipeProfile(layer: .gas, pressureClass: .subHighA, diameterMM: 200),
            route: try LineString([Point(origin.x + 5, origin.y), Point(origin.x + 30, origin.y)]),
            depthAtStart: 1.0, depthAtEnd: 1.0))
        let v = try #require(r.violations.first)
        #expect(v.kind == .horizontal && v.pipeID == 3 && v.required == 1.5)
        #expect(abs(v.actual! - 1.0) < 1e-9)
        #expect(v.rule.description == "GB50289 table 4.1.9: gas sub-high A ↔ power, 1.5 m")
        #expect(throws: EngineError.self) {
            try e.routeCheck(PlannedPipe(profile: PipeProfile(layer: .gas), route: try LineString([origin, origin]),
                                         depthAtStart: -1, depthAtEnd: 1))
        }
    }

    @Test func crossSectionMatchesBruteForce() throws {
        var rng = TestRandom(43)
        var items = 0
        for i in 0..<15 {
            let a = Point(origin.x + rng.uniform(-200, 200), origin.y + rng.uniform(-200, 200))
            let cut = try LineString([a, Point(a.x + rng.uniform(-120, 120), a.y + rng.uniform(-120, 120))])
            let section = try engine.crossSection(along: cut)
            #expect(abs(section.length - cut.length) < 1e-9)
            #expect(try JSONDecoder().decode(CrossSection.self, from: JSONEncoder().encode(section)) == section)
            #expect(zip(section.items, section.items.dropFirst()).allSatisfy { $0.offset <= $1.offset })
            for s in map.segments where s.length > 0 {
                let shared = geosShared(cut, s.geometry)
                let got = section.items.filter { $0.pipeID == s.id }
                if shared.overlaps { continue }
                let distinct = shared.points.reduce(into: [Point]()) { acc, q in
                    if !acc.contains(where: { Kernel.distance($0, q) < 1e-6 }) { acc.append(q) }
                }
                #expect(got.count == distinct.count, "cut \(i) pipe \(s.id)")
                for it in got {
                    items += 1
                    let q = Point(it.point.x, it.point.y)
                    #expect(abs(cut.closestPosition(to: q).distanceAlong - it.offset) < 1e-6)
                    #expect(geosDistance(s, .point(q)) < 1e-6)
                    let top = map.depthOfTop(segmentID: s.id, atParameter: s.parameter(nearestTo: q))
                    #expect((top == nil) == (it.depthTop == nil))
                    if let top, let got = it.depthTop {
                        #expect(abs(top - got) < 1e-9)
                        #expect(it.depthBottom.map { abs($0 - (got + s.outerHeightM!)) < 1e-9 } ?? (s.outerHeightM == nil))
                    }
                    if let e = s.topElevation(atParameter: s.parameter(nearestTo: q)) {
                        #expect(abs(e - it.topElevation!) < 1e-9)
                    }
                    #expect(it.layer == s.layer && it.section == s.section?.notation)
                }
            }
        }
        #expect(items > 20)
    }
}
