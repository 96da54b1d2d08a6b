import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Queries report a cable once, grouped with its bed, sleeve and casing (issue 13 item 6),
/// against brute force: every part measured with GEOS, each feature at its nearest part,
/// enclosures grouped into the answer's lines by ``UtilityEngine/carriedFeatures(_:row:)`` of
/// their nearest part, groups ordered by their least member.
@Suite struct EnclosureQueryTests {
    let map: UtilityNetwork
    let engine: UtilityEngine

    /// The multi-part district of ``MultiPartFeatureTests``, with beds on the same coordinates as
    /// about half the power, telecom and fibre lines (a multi-part bed for a multi-part cable),
    /// sleeves over a stretch of some of them, shifted by up to 5 cm, and a few beds carrying
    /// nothing (a lone trace).
    static func district(seed: UInt64) -> UtilityNetwork {
        var rng = TestRandom(seed)
        let base = MultiPartFeatureTests.district(seed: seed)
        var out = base.segments
        var next: Int64 = 50_000
        let cables = Dictionary(grouping: base.segments.filter { [.power, .telecom, .fibre].contains($0.layer) }, by: \.featureID)
        for (key, parts) in cables.sorted(by: { $0.key < $1.key }) {
            guard rng.chance(0.6) else { continue }
            let bedKey = next
            for (i, p) in parts.enumerated() {
                var bed = p
                bed.id = next
                next += 1
                bed.featureKind = .cableBed
                bed.sourceID = "BED.\(key)"
                bed.feature = parts.count > 1 ? bedKey : nil
                bed.part = parts.count > 1 ? i + 1 : nil
                bed.section = .rectangular(widthMM: 400, heightMM: 200)
                out.append(bed)
            }
            let p = parts[0]
            if rng.chance(0.5), p.length > 4 {
                // A sleeve over the middle of the first part, drawn 3 cm aside.
                let a = p.point(atParameter: 0.3), b = p.point(atParameter: 0.6)
                let len = Kernel.distance(a, b)
                let nx = -(b.y - a.y) / len * 0.03, ny = (b.x - a.x) / len * 0.03
                var sleeve = p
                sleeve.id = next
                next += 1
                sleeve.feature = nil
                sleeve.part = nil
                sleeve.featureKind = .sleeve
                sleeve.sourceID = nil
                sleeve.geometry = try! LineString([Point(a.x + nx, a.y + ny), Point(b.x + nx, b.y + ny)])
                out.append(sleeve)
            }
        }
        // Beds far from any line: a group of their own.
        for i in 0..<6 {
            let x = origin.x + rng.uniform(-200, 200), y = origin.y + rng.uniform(-200, 200)
            var bed = base.segments[i]
            bed.id = next
            next += 1
            bed.feature = nil
            bed.part = nil
            bed.layer = .power
            bed.featureKind = .cableBed
            bed.geometry = try! LineString([Point(x, y), Point(x + 7, y + 3)])
            out.append(bed)
        }
        return try! UtilityNetwork(crs: base.crs, segments: out)
    }

    init() throws {
        map = Self.district(seed: 61)
        engine = try UtilityEngine(network: map)
    }

    /// One group of the brute-force answer.
    struct Group: Equatable {
        var lead: Int64
        var distance: Double
        var groupDistance: Double
        var enclosures: Set<Int64>
    }

    /// Every group by brute force, ordered by group distance: candidates are the features with
    /// an accepted part within `limit`, each at its nearest part.
    func bruteGroups(_ q: Geometry, limit: Double, _ filter: PipeFilter = .all) -> [Group] {
        var nearest: [Int64: (d: Double, s: PipeSegment)] = [:]
        for s in map.segments where filter.accepts(s) {
            let d = geosDistance(s, q)
            if d <= limit, d < nearest[s.featureID]?.d ?? .infinity { nearest[s.featureID] = (d, s) }
        }
        let snap = engine.snapshot
        var groups: [Int64: Group] = [:]
        for (f, n) in nearest where !n.s.featureKind.isEnclosure {
            groups[f] = Group(lead: f, distance: n.d, groupDistance: n.d, enclosures: [])
        }
        for (f, n) in nearest where n.s.featureKind.isEnclosure {
            let hosts = engine.carriedFeatures(snap, row: snap.rowOfID[n.s.id]!).filter { groups[$0] != nil }
            if hosts.isEmpty { groups[f] = Group(lead: f, distance: n.d, groupDistance: n.d, enclosures: []) }
            for h in hosts {
                groups[h]!.enclosures.insert(f)
                groups[h]!.groupDistance = min(groups[h]!.groupDistance, n.d)
            }
        }
        return groups.values.sorted { ($0.groupDistance, $0.lead) < ($1.groupDistance, $1.lead) }
    }

    func group(of h: PipeHit) -> Group {
        Group(
            lead: h.pipe.featureID, distance: h.distance, groupDistance: h.groupDistance,
            enclosures: Set(h.enclosures.map { map.segment(id: $0.pipeID)!.featureID }))
    }

    func expectSame(_ got: Group, _ want: Group?, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let want else {
            Issue.record("\(what): group \(got.lead) is not in the brute-force answer", sourceLocation: sourceLocation)
            return
        }
        #expect(got.enclosures == want.enclosures, "\(what): enclosures of \(got.lead)", sourceLocation: sourceLocation)
        #expect(abs(got.distance - want.distance) < 1e-7, "\(what): distance of \(got.lead)", sourceLocation: sourceLocation)
        #expect(abs(got.groupDistance - want.groupDistance) < 1e-7, "\(what): group distance", sourceLocation: sourceLocation)
    }

    @Test func theDistrictHasEnclosuresCarryingMultiPartCables() {
        let snap = engine.snapshot
        #expect(snap.enclosures)
        let carrying = map.segments.filter { $0.featureKind.isEnclosure && !engine.carriedFeatures(snap, row: snap.rowOfID[$0.id]!).isEmpty }
        #expect(carrying.count > 40)
        #expect(carrying.contains { $0.feature != nil })
        #expect(carrying.contains { $0.featureKind == .sleeve })
    }

    @Test func nearestCountsGroupsAsBruteForce() throws {
        for (i, q) in randomQueries(60, seed: 62, spread: 230).enumerated() {
            let k = i % 6 + 1
            let maxDistance = i % 3 == 0 ? 25.0 : .infinity
            let filter = i % 4 == 1 ? PipeFilter(layers: [.power, .telecom, .gas]) : .all
            let hits = try engine.nearest(to: q, k: k, maxDistance: maxDistance, filter: filter)
            let brute = bruteGroups(q, limit: maxDistance, filter)
            let byLead = Dictionary(uniqueKeysWithValues: brute.map { ($0.lead, $0) })
            #expect(hits.count == min(k, brute.count), "query \(i): \(hits.count) groups for k \(k)")
            for (h, b) in zip(hits, brute) {
                #expect(abs(h.groupDistance - b.groupDistance) < 1e-7, "query \(i): group order")
                expectSame(group(of: h), byLead[h.pipe.featureID], "query \(i)")
            }
            #expect(Set(hits.map(\.pipe.featureID)).count == hits.count, "query \(i): a group answered twice")
        }
    }

    @Test func nearestPerLayerGroupsWithinEachLayer() throws {
        for (i, q) in randomQueries(12, seed: 63, spread: 200).enumerated() {
            let hits = try engine.nearest(to: q, k: 2, perLayer: true)
            for layer in map.layersPresent {
                let brute = bruteGroups(q, limit: .infinity, PipeFilter(layers: [layer]))
                let got = hits.filter { $0.pipe.layer == layer }
                #expect(got.count == min(2, brute.count), "query \(i) layer \(layer)")
                for (h, b) in zip(got, brute) { #expect(abs(h.groupDistance - b.groupDistance) < 1e-7) }
            }
        }
    }

    @Test func withinAndIntersectingGroupAsBruteForce() throws {
        for (i, q) in randomQueries(40, seed: 64, spread: 230).enumerated() {
            let d = Double(i % 4) * 3
            let filter = i % 5 == 2 ? PipeFilter(layers: [.power, .fibre]) : .all
            let hits = d == 0 ? try engine.intersecting(q, filter: filter) : try engine.within(distance: d, of: q, filter: filter)
            let brute = bruteGroups(q, limit: d, filter)
            let byLead = Dictionary(uniqueKeysWithValues: brute.map { ($0.lead, $0) })
            #expect(hits.count == brute.count, "query \(i): \(hits.count) groups, brute force \(brute.count)")
            for h in hits { expectSame(group(of: h), byLead[h.pipe.featureID], "query \(i)") }
            #expect(hits.map(\.groupDistance) == hits.map(\.groupDistance).sorted(), "query \(i): order")
        }
    }

    @Test func separateAnswersEveryFeature() throws {
        for (i, q) in randomQueries(20, seed: 65, spread: 200).enumerated() {
            var all: [Int64: Double] = [:]
            for s in map.segments { all[s.featureID] = min(all[s.featureID] ?? .infinity, geosDistance(s, q)) }
            let near = try engine.nearest(to: q, k: 4, enclosures: .separate)
            #expect(zip(near.map(\.distance), all.values.sorted()).allSatisfy { abs($0 - $1) < 1e-7 }, "query \(i)")
            #expect(near.allSatisfy { $0.enclosures.isEmpty && $0.groupDistance == $0.distance })
            let within = try engine.within(distance: 6, of: q, enclosures: .separate)
            #expect(within.count == all.values.filter { $0 <= 6 }.count, "query \(i)")
        }
    }

    /// A map without enclosures answers as before: the flag is off and nothing is grouped.
    @Test func mapsWithoutEnclosuresAreUntouched() throws {
        let plain = try UtilityEngine(network: MultiPartFeatureTests.district(seed: 61))
        #expect(!plain.snapshot.enclosures)
        for q in randomQueries(10, seed: 66, spread: 200) {
            #expect(try plain.nearest(to: q, k: 3) == plain.nearest(to: q, k: 3, enclosures: .separate))
            #expect(try plain.within(distance: 8, of: q) == plain.within(distance: 8, of: q, enclosures: .separate))
        }
    }

    /// The triple of ``FeatureKindDigTests``: one hit, the cable, with its bed and sleeve.
    @Test func aCableWithItsBedAndSleeveIsOneHit() throws {
        let e = try UtilityEngine(network: UtilityNetwork(crs: "EPSG:4549", segments: FeatureKindDigTests.triple))
        let q = Geometry.point(FeatureKindDigTests.at(20, 3))
        let near = try e.nearest(to: q, k: 3)
        #expect(near.map(\.pipe.id) == [1])
        #expect(near.first?.enclosures.map(\.pipeID).sorted() == [2, 3])
        #expect(near.first?.enclosures.map(\.kind).sorted { $0.rawValue < $1.rawValue } == [.cableBed, .sleeve])
        #expect(try e.within(distance: 5, of: q).count == 1)
        #expect(try e.nearest(to: q, k: 3, enclosures: .separate).count == 3)
    }

    /// A persisted map's part answers grouped queries as the whole engine.
    @Test func mappedMapGroupsAsTheEngine() throws {
        let dir = try MappedMapTests.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try MappedMapTests.store(map, in: dir)
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let whole = try UtilityEngine(store: store)
        let mapped = try MappedMap.open(store: store)
        for (i, q) in randomQueries(20, seed: 67, spread: 200).enumerated() {
            let k = i % 5 + 1
            #expect(try mapped.nearest(to: q, k: k) == whole.nearest(to: q, k: k), "query \(i)")
            #expect(try mapped.within(distance: 7, of: q) == whole.within(distance: 7, of: q), "query \(i)")
        }
    }
}
