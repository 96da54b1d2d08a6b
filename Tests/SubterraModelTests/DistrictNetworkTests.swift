import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraDatasets

/// The network features of generated districts, checked from the records alone (the mains'
/// graph rebuilt from point numbers, chains walked here), not from the generator's plan.
@Suite struct DistrictNetworkTests {
    static let sample = DistrictGenerator(segments: 3000, seed: 42).district()

    /// The pressurised line types and how their mains are told apart in the records.
    static let systems: [(name: String, layer: LayerCode, subtypes: Set<SubtypeCode>)] = [
        ("water", .water, [.distribution, .transmission]), ("reclaimed", .water, [.reclaimed]),
        ("gas", .gas, [.naturalGas]), ("heat", .heat, [.hotWater]),
    ]

    /// The mains of one system: segments of its layer and sub-types that end at no building
    /// (a lateral ends at a water meter or riser with customers).
    static func mains(_ map: UtilityNetwork, _ layer: LayerCode, _ subtypes: Set<SubtypeCode>) -> [PipeSegment] {
        let buildingEnds = Set(map.points.filter { ($0.kind == .waterMeter || $0.kind == .riser) }.map(\.number))
        return map.segments.filter {
            $0.layer == layer && $0.subtype.map(subtypes.contains) == true
                && !buildingEnds.contains($0.startPoint) && !buildingEnds.contains($0.endPoint)
        }
    }

    /// A chain of mains: point numbers from one end to the other, through points where exactly
    /// two mains meet, with the distance of each from the first.
    struct Chain {
        var points: [PointNumber]
        var distances: [Double]
        var startDegree: Int
        var endDegree: Int
    }

    static func chains(_ mains: [PipeSegment]) -> [Chain] {
        var adjacent: [PointNumber: [(Int, PointNumber)]] = [:]
        for (i, s) in mains.enumerated() {
            adjacent[s.startPoint, default: []].append((i, s.endPoint))
            adjacent[s.endPoint, default: []].append((i, s.startPoint))
        }
        var used = Set<Int>()
        var out: [Chain] = []
        // Start at every end that is not a pass-through point (cycles without one are skipped).
        for (v, edges) in adjacent.sorted(by: { $0.key < $1.key }) where edges.count != 2 {
            for (e0, w0) in edges where !used.contains(e0) {
                var c = Chain(points: [v], distances: [0], startDegree: edges.count, endDegree: 0)
                var e = e0
                var w = w0
                while true {
                    used.insert(e)
                    c.points.append(w)
                    c.distances.append(c.distances.last! + mains[e].length)
                    let next = adjacent[w]!
                    guard next.count == 2, let (e2, w2) = next.first(where: { $0.0 != e }), !used.contains(e2) else {
                        c.endDegree = next.count
                        break
                    }
                    e = e2
                    w = w2
                }
                out.append(c)
            }
        }
        return out
    }

    /// Valves next to branches, every 200–300 m between them.
    func checkValveSpacing(_ map: UtilityNetwork, label: String) -> (chains: Int, gaps: Int) {
        let byNumber = Dictionary(uniqueKeysWithValues: map.points.map { ($0.number, $0) })
        var gapsChecked = 0
        var chainCount = 0
        // Per branch point: legs whose first point could hold a valve, and how many do.
        var legs: [PointNumber: (Int, Int)] = [:]
        for sys in Self.systems {
            let mains = Self.mains(map, sys.layer, sys.subtypes)
            for c in Self.chains(mains) {
                chainCount += 1
                let kinds = c.points.map { byNumber[$0]!.kind }
                let isValve = kinds.map(\.isIsolationValve)
                // A point that may hold a valve: inside the chain, not a lateral tee.
                let eligible = c.points.indices.map { $0 > 0 && $0 < c.points.count - 1 && kinds[$0] != .tee }
                // Next to a branch: the first point of the leg (when not a lateral tee or the far end).
                if c.startDegree >= 3, c.points.count > 2, kinds[1] != .tee {
                    legs[c.points[0], default: (0, 0)].0 += 1
                    if isValve[1] { legs[c.points[0], default: (0, 0)].1 += 1 }
                }
                if c.endDegree >= 3, c.points.count > 2, kinds[c.points.count - 2] != .tee {
                    legs[c.points.last!, default: (0, 0)].0 += 1
                    if isValve[c.points.count - 2] { legs[c.points.last!, default: (0, 0)].1 += 1 }
                }
                // Gaps between consecutive valves at most 300 m, unless no point 200–300 m on
                // could take one; at least 200 m unless one is next to a branch or no point in the
                // band could take one.
                let valves = c.points.indices.filter { isValve[$0] }
                for (a, b) in zip(valves, valves.dropFirst()) {
                    let gap = c.distances[b] - c.distances[a]
                    let bandHasRoom = c.points.indices.contains {
                        eligible[$0] && c.distances[$0] - c.distances[a] >= 200 && c.distances[$0] - c.distances[a] <= 300
                    }
                    // A branch the records cut short (the district's last row) still reads as a
                    // tee or cross with no lateral.
                    func branchLike(_ k: Int) -> Bool {
                        if k == 0 { return c.startDegree >= 3 }
                        if k == c.points.count - 1 { return c.endDegree >= 3 }
                        return (kinds[k] == .tee || kinds[k] == .cross) && map.degree(of: c.points[k]) == 2
                    }
                    let nextToBranch = branchLike(a - 1) || branchLike(a + 1) || branchLike(b - 1) || branchLike(b + 1)
                    if bandHasRoom {
                        #expect(gap <= 300.001, "\(label) \(sys.name): \(gap) m from \(c.points[a]) to \(c.points[b])")
                        if !nextToBranch {
                            #expect(gap >= 199.999, "\(label) \(sys.name): \(gap) m from \(c.points[a]) to \(c.points[b])")
                        }
                    }
                    gapsChecked += 1
                }
            }
        }
        // The N − 1 rule: every such leg of a branch but at most one has its valve.
        for (branch, (n, valves)) in legs {
            #expect(valves >= n - 1, "\(label): branch \(branch) has valves on \(valves) of \(n) legs")
        }
        #expect(legs.values.contains { $0.1 == $0.0 - 1 }, "\(label): some branch leg goes without")
        return (chainCount, gapsChecked)
    }

    @Test func valvesAtBranchesAndEvery200To300Metres() {
        let (chains, gaps) = checkValveSpacing(Self.sample.network, label: "sample")
        #expect(chains > 100 && gaps > 50, "\(chains) chains, \(gaps) gaps")
    }

    @Test(arguments: [(20_000, UInt64(7)), (6000, UInt64.max)])
    func valveSpacingAcrossSizesAndSeeds(size: Int, seed: UInt64) {
        let d = DistrictGenerator(segments: size, seed: seed).district()
        let (chains, gaps) = checkValveSpacing(d.network, label: "\(size)/\(seed)")
        #expect(chains > 0 && gaps > 0)
    }

    /// A long run without branches (heat along an arterial crossing local streets) gets valves
    /// in between, not just at its ends.
    @Test func longRunsGetIntermediateValves() {
        let map = DistrictGenerator(segments: 20_000, seed: 7).district().network
        let byNumber = Dictionary(uniqueKeysWithValues: map.points.map { ($0.number, $0) })
        var longest = 0.0
        for sys in Self.systems {
            for c in Self.chains(Self.mains(map, sys.layer, sys.subtypes)) where c.distances.last! > 700 {
                let inside = c.points.indices.dropFirst().dropLast().filter { byNumber[c.points[$0]]!.kind.isIsolationValve }
                #expect(inside.count >= 3, "\(sys.name) chain of \(c.distances.last!) m from \(c.points[0]) has \(inside.count) valves")
                longest = max(longest, c.distances.last!)
            }
        }
        #expect(longest > 700)
    }

    @Test func everySystemHasASourceAndDrainageItsOutfalls() {
        let map = Self.sample.network
        func sources(_ layer: LayerCode) -> [FeaturePoint] { map.points.filter { $0.layer == layer && $0.kind.isSource } }
        // One per component (checked through the topology in GeneratedNetworkTests): at least
        // drinking and reclaimed water, gas per pressure class, heat.
        #expect(sources(.water).filter { $0.kind == .plant }.count >= 2)
        #expect(!sources(.gas).isEmpty && sources(.gas).allSatisfy { $0.kind == .regulatorStation })
        #expect(!sources(.heat).isEmpty && sources(.heat).allSatisfy { $0.kind == .plant })
        #expect(map.points.contains { $0.layer == .drainage && $0.kind == .outfall })
        // Each source sits on its system's pipes.
        for p in map.points where p.kind.isSource {
            #expect(map.degree(of: p.number) >= 1, "\(p.number)")
        }
    }

    @Test func valveStatusesComeFromTheSeedAndIncludeClosedAndInoperable() {
        let map = Self.sample.network
        let valves = map.points.filter { $0.kind.isIsolationValve }
        #expect(valves.count > 50)
        #expect(valves.allSatisfy { $0.valveStatus != nil })
        #expect(map.points.filter { !$0.kind.isIsolationValve }.allSatisfy { $0.valveStatus == nil })
        let statuses = Dictionary(grouping: valves, by: { $0.valveStatus! }).mapValues(\.count)
        #expect((statuses[.closed] ?? 0) >= 1 && (statuses[.inoperable] ?? 0) >= 1, "\(statuses)")
        #expect((statuses[.open] ?? 0) > valves.count * 3 / 4, "\(statuses)")
        // Deterministic: the same seed gives the same statuses, another seed others.
        let again = DistrictGenerator(segments: 3000, seed: 42).district().network.points.map(\.valveStatus)
        #expect(again == map.points.map(\.valveStatus))
    }

    @Test func connectionsCarryCustomers() {
        let map = Self.sample.network
        let ends = map.points.filter { $0.kind == .waterMeter || $0.kind == .riser }
        #expect(!ends.isEmpty)
        #expect(ends.allSatisfy { ($0.connection?.count ?? 0) >= 1 }, "every building connection has customers")
        let heat = map.points.filter { $0.layer == .heat && $0.kind == .serviceConnection }
        #expect(heat.allSatisfy { $0.connection != nil })
        let connections = map.points.compactMap(\.connection)
        let categories = Dictionary(grouping: connections, by: \.category).mapValues(\.count)
        #expect(Set(categories.keys) == Set(CustomerCategory.allCases), "\(categories)")
        #expect(categories[.household]! > connections.count / 2, "mostly households: \(categories)")
        #expect(connections.filter { $0.category == .hospital || $0.category == .school }.allSatisfy { $0.count == 1 })
        // Only pressurised networks carry customers.
        #expect(map.points.filter { $0.connection != nil }.allSatisfy { [.water, .gas, .heat].contains($0.layer) })
    }
}
