import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

@testable import SubterraEngine

@Suite struct DigCheckTests {
    let map = randomDistrict(count: 500, seed: 31)
    let engine: UtilityEngine
    let rules: ClearanceRules

    init() throws {
        engine = try UtilityEngine(network: map)
        rules = engine.rules
    }

    /// Depth of the shallowest point of `s` inside `area`, from GEOS's intersection and the
    /// model's depth interpolation: the oracle for a crossing's reported depth.
    func shallowestInside(_ s: PipeSegment, _ area: Geometry) -> Double? {
        // GEOS answers "no intersection" for a zero-length line inside an area.
        if s.length == 0 { return map.depthOfTop(segmentID: s.id, atParameter: 0) }
        let part = try! GEOS.withContext { ctx throws(GEOSError) in try ctx.intersection(.lineString(s.geometry), area) }
        var pts: [Point] = []
        func collect(_ g: Geometry) {
            switch g {
            case .point(let p): pts.append(p)
            case .multiPoint(let ps): pts += ps
            case .lineString(let l): pts += l.points
            case .multiLineString(let ls): for l in ls { pts += l.points }
            case .polygon, .multiPolygon: break
            case .collection(let gs): gs.forEach(collect)
            }
        }
        collect(part)
        return pts.compactMap { map.depthOfTop(segmentID: s.id, atParameter: s.parameter(nearestTo: $0)) }.min()
    }

    func bruteForce(_ area: Geometry, depth: Double, planned: PipeProfile? = nil) -> [Int64: (Double, Double)] {
        bruteForceDig(map, rules, area, planned: planned)
    }

    @Test func digCheckMatchesBruteForce() throws {
        var rng = TestRandom(32)
        var checked = 0
        for i in 0..<25 {
            let c = Point(origin.x + rng.uniform(-200, 200), origin.y + rng.uniform(-200, 200))
            let area = Geometry.polygon(randomPolygon(&rng, around: c, radius: rng.uniform(2, 25)))
            let depth = rng.uniform(0.3, 3)
            let planned: PipeProfile? = i % 4 == 3 ? PipeProfile(layer: .telecom, burial: .ductBank) : nil
            let report = try engine.digCheck(DigRequest(area: area, plannedDepth: depth, workType: "test \(i)",
                                                        plannedUtility: planned))
            let want = bruteForce(area, depth: depth, planned: planned)
            let got = Dictionary(uniqueKeysWithValues: report.conflicts.map { ($0.pipeID, $0) })
            for id in Set(got.keys).symmetricDifference(want.keys) {
                let s = map.segment(id: id)!
                let d = geosClearDistance(s, area)
                let req = got[id]?.requiredClearance ?? want[id]!.1
                #expect(d > 0 && abs(d - req) < 1e-9, "dig \(i) pipe \(id): clear distance \(d), required \(req)")
            }
            for c in report.conflicts {
                let s = map.segment(id: c.pipeID)!
                checked += 1
                #expect(abs(c.distance - geosDistance(s, area)) < 1e-7)
                // Decided on the clear distance to the outer wall, not the centreline.
                #expect(c.outerWidth == (s.outerWidthM ?? 0))
                #expect(c.clearDistance == max(0, c.distance - c.outerWidth / 2))
                #expect(abs(c.clearDistance - geosClearDistance(s, area)) < 1e-7)
                #expect(c.requiredClearance == c.ruleClearance + (s.accuracy?.horizontalM ?? rules.unknownHorizontalAccuracy))
                if c.distance == 0 {
                    let shallow = shallowestInside(s, area)
                    #expect((shallow == nil) == (c.depth == nil), "pipe \(s.id)")
                    if let shallow, let got = c.depth { #expect(abs(shallow - got) < 1e-6, "pipe \(s.id): \(got) vs \(shallow)") }
                } else {
                    let p = Point(c.closestPoint.x, c.closestPoint.y)
                    #expect(abs(geosDistance(s, .point(p))) < 1e-6)
                    #expect(abs((try GEOS.withContext { ctx throws(GEOSError) in try ctx.distance(.point(p), area) }) - c.distance) < 1e-6)
                }
                let reaches = c.depth.map { depth + (s.accuracy?.verticalM ?? 0) >= $0 } ?? true
                #expect(c.reachesPipe == reaches)
                let critical = rules.isCritical(PipeProfile(s))
                let want: Severity = critical ? .critical : (c.clearDistance == 0 && reaches) ? .high
                    : (c.clearDistance > 0 && !reaches) ? .low : .medium
                #expect(c.severity == want, "pipe \(s.id)")
            }
            // Owners: each conflict under exactly one notice, no owner twice.
            let owners = report.owners.map(\.owner)
            #expect(Set(owners).count == owners.count)
            #expect(report.owners.flatMap(\.pipeIDs).sorted() == report.conflicts.map(\.pipeID).sorted())
            for n in report.owners {
                let mine = report.conflicts.filter { ($0.owner ?? "(unknown owner)") == n.owner }
                #expect(n.pipeIDs == mine.map(\.pipeID).sorted())
                #expect(n.highestSeverity == mine.map(\.severity).max())
            }
            #expect(report.layers.flatMap(\.pipeIDs).count == report.conflicts.count)
            #expect(report.highestSeverity == report.conflicts.map(\.severity).max())
            // Most severe first, then nearest wall, then id.
            #expect(zip(report.conflicts, report.conflicts.dropFirst()).allSatisfy {
                ($1.severity, $0.clearDistance, $0.pipeID) < ($0.severity, $1.clearDistance, $1.pipeID)
            })
            // JSON-ready.
            let json = try JSONEncoder().encode(report)
            #expect(try JSONDecoder().decode(DigReport.self, from: json) == report)
        }
        #expect(checked > 50, "the random digs should hit pipes")
    }

    /// A site given in WGS84 is checked, for real, against brute force in the map CRS: the test
    /// converts the site back with PROJ itself and runs the GEOS oracle on that polygon. The
    /// answer must also agree with the same site given in the map CRS, except for pipes within
    /// the round trip's error (well under 1 µm) of their required clearance.
    @Test func digSiteInWGS84MatchesBruteForceInTheMapCRS() throws {
        let toLonLat = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        let back = try Transformer(from: "EPSG:4326", to: "EPSG:4549")
        var rng = TestRandom(33)
        var found = 0
        for i in 0..<8 {
            let c = Point(origin.x + rng.uniform(-150, 150), origin.y + rng.uniform(-150, 150))
            let poly = randomPolygon(&rng, around: c, radius: 20)
            let ll = try toLonLat.transform(Geometry.polygon(poly))
            let a = try engine.digCheck(DigRequest(area: ll, crs: "EPSG:4326", plannedDepth: 1.5))
            let inMap = try back.transform(ll)
            let want = bruteForce(inMap, depth: 1.5)
            let mismatches = digBruteForceMismatches(a, map, rules, inMap)
            #expect(mismatches.isEmpty, "site \(i): \(mismatches)")
            for conflict in a.conflicts {
                let s = try #require(map.segment(id: conflict.pipeID))
                #expect(abs(conflict.distance - geosDistance(s, inMap)) < 1e-7, "site \(i) pipe \(s.id)")
            }
            found += want.count
            let b = try engine.digCheck(DigRequest(area: .polygon(poly), plannedDepth: 1.5))
            let diff = Set(a.conflicts.map(\.pipeID)).symmetricDifference(b.conflicts.map(\.pipeID))
            for id in diff {
                let conflict = try #require((a.conflicts + b.conflicts).first { $0.pipeID == id })
                #expect(abs(conflict.clearDistance - conflict.requiredClearance) < 1e-6, "site \(i) pipe \(id) differs beyond round-off")
            }
        }
        #expect(found >= 8, "the WGS84 sites should hit pipes, else the comparison proves nothing")
    }

    /// The request's work type selects the city's excavation rule: the report's clearances, labels
    /// and conflict set follow it (against brute force with the same rule), and a work type the
    /// file does not list gets the default rule.
    @Test func workTypeSelectsTheExcavationRule() throws {
        let city = try rules.overridden(by: Data("""
            {"excavation": {"id": "Wenling excavation", "source": "city", "rows": {},
              "workTypes": {"hand dig": {"*": 0.3}, "pile driving": {"*": 6.0, "water d<=200": 1.0}}}}
            """.utf8))
        let e = try UtilityEngine(network: map, rules: city)
        var rng = TestRandom(34)
        var counts: [String: Int] = [:]
        for i in 0..<10 {
            let c = Point(origin.x + rng.uniform(-150, 150), origin.y + rng.uniform(-150, 150))
            let area = Geometry.polygon(randomPolygon(&rng, around: c, radius: rng.uniform(3, 15)))
            for wt in ["Hand Dig", "pile driving", "trench for fibre duct"] {
                let r = try e.digCheck(DigRequest(area: area, plannedDepth: 1.5, workType: wt))
                let mismatches = digBruteForceMismatches(r, map, city, area, workType: wt)
                #expect(mismatches.isEmpty, "site \(i) \(wt): \(mismatches)")
                counts[wt, default: 0] += r.conflicts.count
                for conflict in r.conflicts {
                    let p = PipeProfile(try #require(map.segment(id: conflict.pipeID)))
                    let want = city.excavation(p, workType: wt)
                    #expect(conflict.rule == want, "site \(i) \(wt) pipe \(conflict.pipeID)")
                    if let rule = conflict.rule {
                        switch wt {
                        case "Hand Dig": #expect(rule.distance == 0.3 && rule.basis == #"work type "hand dig", any pipe"#)
                        case "pile driving": #expect(rule.distance == (rule.keys == ["water d<=200"] ? 1.0 : 6.0))
                        default: #expect(rule.basis?.hasPrefix("largest of GB50289 table 4.1.9 row") == true)
                        }
                    } else {
                        // Unruled pipes get the largest clearance of this dig's rule.
                        #expect(conflict.ruleClearance == (wt == "Hand Dig" ? 0.3 : wt == "pile driving" ? 6.0 : 4.0))
                    }
                }
            }
        }
        // 6 m around a pile reaches farther than the default rule, which reaches farther than 0.3 m.
        let hand = counts["Hand Dig", default: 0], pile = counts["pile driving", default: 0]
        let plain = counts["trench for fibre duct", default: 0]
        #expect(hand > 0 && hand < plain && plain < pile, "\(counts)")
    }

    /// A 10 m square dig and a 10 kV cable parallel to its north edge: the excavation clearance of
    /// power is 2.0 m (largest of its table 4.1.9 row). Integer coordinates make distances exact.
    /// The accuracy is stated (0: exact) unless nil, which takes the profile's unknown default.
    func cable(northOf edge: Double, accuracy: Double? = 0, depth: Double = 1.0, kV: Double = 0.4) throws -> DigReport {
        let y = origin.y + 10 + edge
        var s = PipeSegment(id: 1, layer: .power, startPoint: "A", endPoint: "B",
                            geometry: try LineString([Point(origin.x - 20, y), Point(origin.x + 30, y)]),
                            startDepth: depth, endDepth: depth, owner: "State Grid Wenling")
        s.voltageKV = kV
        if let accuracy { s.accuracy = PositionalAccuracy(horizontalM: accuracy) }
        let e = try UtilityEngine(network: UtilityNetwork(segments: [s]))
        return try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 1.2))
    }

    @Test func pipeExactlyAtTheClearanceIsCompliant() throws {
        #expect(try cable(northOf: 2.0).conflicts.isEmpty, "distance == clearance: compliant")
        let near = try cable(northOf: 1.75)
        #expect(near.conflicts.count == 1)
        #expect(abs(near.conflicts[0].distance - 1.75) < 1e-12)
        #expect(near.conflicts[0].rule?.description.hasPrefix("Subterra excavation clearance") == true)
        #expect(near.conflicts[0].severity == .medium, "near, and 1.2 m reaches the 1.0 m deep cable")
        #expect(try cable(northOf: 1.75, depth: 1.5).conflicts[0].severity == .low, "near, dig stays above")
        #expect(try cable(northOf: 0).conflicts[0].severity == .high, "on the edge counts as touching")
        #expect(try cable(northOf: 0, kV: 10).conflicts[0].severity == .critical)
        // Accuracy widens: 2.0 + 0.5 m.
        let widened = try cable(northOf: 2.25, accuracy: 0.5)
        #expect(widened.conflicts.count == 1)
        #expect(widened.conflicts[0].requiredClearance == 2.5)
        #expect(try cable(northOf: 2.5, accuracy: 0.5).conflicts.isEmpty)
        #expect(near.owners == [OwnerNotice(owner: "State Grid Wenling", pipeIDs: [1], layers: [.power], highestSeverity: .medium)])
    }

    /// A pipe of `section` parallel to the 10 m square dig: its centreline `edge` metres north of
    /// the north edge (south of the south edge when `south`), 1.0 m deep. Survey-sized coordinates
    /// on binary fractions keep the kernel's distances within an ulp of the exact ones.
    func parallel(_ id: Int64, _ layer: LayerCode, _ section: PipeSection, _ edge: Double, south: Bool = false) throws -> PipeSegment {
        let y = south ? origin.y - edge : origin.y + 10 + edge
        var s = PipeSegment(id: id, layer: layer, startPoint: PointNumber("A\(id)"), endPoint: PointNumber("B\(id)"),
                            geometry: try LineString([Point(origin.x - 20, y), Point(origin.x + 30, y)]),
                            startDepth: 1, endDepth: 1, owner: layer == .water ? "Wenling Water" : "Wenling Drainage")
        s.section = section
        s.accuracy = PositionalAccuracy(horizontalM: 0)  // stated exact: the test is about the wall
        return s
    }

    func dig(_ pipes: [PipeSegment]) throws -> DigReport {
        let e = try UtilityEngine(network: UtilityNetwork(segments: pipes))
        return try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 1.2))
    }

    /// GB 50289 clearances are clear distances to the outer wall. A DN1000 water main (excavation
    /// clearance 1.5 m) whose centreline is 1.75 m from the dig has its wall 1.25 m away: too
    /// close, though the centreline is beyond the clearance. A 2 m wide box culvert (drainage,
    /// 2.0 m) 2.75 m out has its wall at 1.75 m, and is beyond the old search reach (2.0 m) too.
    /// Walls exactly at the clearance comply; a culvert whose wall the dig reaches is crossed.
    @Test func clearanceIsMeasuredToTheOuterWall() throws {
        let main = PipeSection.circular(diameterMM: 1000), culvert = PipeSection.rectangular(widthMM: 2000, heightMM: 1500)
        let near = try dig([try parallel(1, .water, main, 1.75)])
        #expect(near.conflicts.count == 1, "wall 1.25 m from the dig, clearance 1.5 m")
        if let c = near.conflicts.first {
            #expect(abs(c.distance - 1.75) < 1e-12 && c.outerWidth == 1.0 && abs(c.clearDistance - 1.25) < 1e-12)
            #expect(c.requiredClearance == 1.5 && c.severity == .medium)
            #expect(c.reason.hasPrefix("the dig is within the clearance"))
        }
        #expect(try dig([try parallel(1, .water, main, 2.0)]).conflicts.isEmpty, "wall exactly 1.5 m away: compliant")
        let box = try dig([try parallel(2, .drainage, culvert, 2.75)])
        #expect(box.conflicts.map { ($0.clearDistance * 1e9).rounded() } == [1.75e9], "culvert wall 1.75 m away, clearance 2.0 m")
        #expect(box.conflicts.first?.rule?.keys == ["drainage"])
        #expect(try dig([try parallel(2, .drainage, culvert, 3.0)]).conflicts.isEmpty, "culvert wall exactly 2.0 m away: compliant")
        // Centreline 0.75 m out, wall 0.25 m inside the dig: the dig crosses the culvert and reaches it.
        let crossed = try dig([try parallel(2, .drainage, culvert, 0.75)])
        let x = try #require(crossed.conflicts.first)
        #expect(abs(x.distance - 0.75) < 1e-12 && x.clearDistance == 0 && x.severity == .high)
        #expect(x.reason.hasPrefix("the dig crosses the pipe"))
        // Sorted by clear distance, not centreline: the culvert (centreline 2.25 m, wall 1.25 m)
        // before a DN250 main (centreline 1.5 m, wall 1.375 m), both medium.
        let both = try dig([try parallel(3, .water, .circular(diameterMM: 250), 1.5, south: true), try parallel(2, .drainage, culvert, 2.25)])
        #expect(both.conflicts.map(\.pipeID) == [2, 3])
        #expect(both.conflicts.map { ($0.clearDistance * 1e9).rounded() } == [1.25e9, 1.375e9])
        #expect(both.conflicts.map { ($0.distance * 1e9).rounded() } == [2.25e9, 1.5e9])
    }

    @Test func unruledPipesGetTheLargestExcavationClearance() throws {
        // High-pressure gas (2.0 MPa) is outside table 4.1.9: it gets the largest clearance any
        // covered pipe in the map has, here gas sub-high A's 4.0 m.
        func gas(_ id: Int64, _ mpa: Double, _ y: Double) throws -> PipeSegment {
            var s = PipeSegment(id: id, layer: .gas, startPoint: PointNumber("A\(id)"), endPoint: PointNumber("B\(id)"),
                                geometry: try LineString([Point(origin.x - 20, origin.y + y), Point(origin.x + 30, origin.y + y)]),
                                startDepth: 1, endDepth: 1)
            s.gasPressureMPa = mpa
            return s
        }
        let e = try UtilityEngine(network: UtilityNetwork(segments: [try gas(1, 2.0, 13.5), try gas(2, 1.2, -100)]))
        let r = try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 0.5))
        #expect(r.conflicts.map(\.pipeID) == [1])
        #expect(r.conflicts[0].rule == nil && r.conflicts[0].ruleClearance == 4.0)
        #expect(r.conflicts[0].severity == .critical)
    }

    @Test func filteredDigCheckIsTheFilteredSubset() throws {
        let area = Geometry.polygon(rect(origin.x - 60, origin.y - 60, origin.x + 60, origin.y + 60))
        let all = try engine.digCheck(DigRequest(area: area, plannedDepth: 2))
        let gas = try engine.digCheck(DigRequest(area: area, plannedDepth: 2), filter: PipeFilter(owners: ["Wenling Gas"]))
        #expect(!gas.conflicts.isEmpty)
        #expect(gas.conflicts == all.conflicts.filter { $0.owner == "Wenling Gas" })
        #expect(gas.owners.map(\.owner) == ["Wenling Gas"])
    }

    @Test func badDigRequestsAreRefused() throws {
        let area = Geometry.polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10))
        #expect(throws: EngineError.self) { try engine.digCheck(DigRequest(area: area, plannedDepth: -1)) }
        #expect(throws: EngineError.self) { try engine.digCheck(DigRequest(area: area, plannedDepth: .infinity)) }
        #expect(throws: EngineError.self) { try engine.digCheck(DigRequest(area: .collection([]), plannedDepth: 1)) }
        #expect(throws: EngineError.self) { try engine.digCheck(DigRequest(area: area, crs: "not a crs", plannedDepth: 1)) }
    }
}
