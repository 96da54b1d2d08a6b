import Foundation
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

@testable import SubterraEngine

@Suite struct QueryOracleTests {
    let map = randomDistrict(count: 600, seed: 7)
    let engine: UtilityEngine

    init() throws { engine = try UtilityEngine(network: map) }

    /// Random query geometries: points, lines and polygons, some far outside the district.
    func queries(_ n: Int, seed: UInt64) -> [Geometry] { randomQueries(n, seed: seed, spread: 260) }

    @Test func nearestMatchesBruteForce() throws {
        for (i, q) in queries(45, seed: 11).enumerated() {
            let k = i % 4 + 1
            let filter = i % 5 == 0 ? PipeFilter(layers: [.gas, .power]) : .all
            let hits = try engine.nearest(to: q, k: k, filter: filter)
            let brute = map.segments.filter(filter.accepts).map { (geosDistance($0, q), $0.id) }.sorted { $0 < $1 }
            #expect(hits.count == min(k, brute.count))
            for (h, b) in zip(hits, brute) {
                #expect(abs(h.distance - b.0) < 1e-7, "query \(i): \(h.distance) vs \(b.0)")
                expectConsistent(h, q, map)
            }
        }
    }

    @Test func nearestPerLayerAndMaxDistance() throws {
        for q in queries(12, seed: 12) {
            let hits = try engine.nearest(to: q, k: 2, perLayer: true)
            for layer in map.layersPresent {
                let brute = map.segments.filter { $0.layer == layer }.map { geosDistance($0, q) }.sorted()
                let got = hits.filter { $0.pipe.layer == layer }.map(\.distance)
                #expect(got.count == min(2, brute.count), "layer \(layer)")
                for (g, b) in zip(got, brute) { #expect(abs(g - b) < 1e-7) }
            }
            let capped = try engine.nearest(to: q, k: 50, maxDistance: 20)
            let want = map.segments.filter { geosDistance($0, q) <= 20 }.count
            #expect(capped.count == min(50, want))
            #expect(capped.allSatisfy { $0.distance <= 20 })
        }
    }

    @Test func withinAndIntersectingMatchGEOS() throws {
        for (i, q) in queries(30, seed: 13).enumerated() {
            let d = Double(i % 5) * 4
            let got = try engine.within(distance: d, of: q)
            let brute = map.segments.map { ($0.id, geosDistance($0, q)) }
            let want = Set(brute.filter { $0.1 <= d }.map(\.0))
            let ids = Set(got.map(\.pipe.id))
            // Only a pipe within rounding of the limit may differ between GEOS and the kernels.
            for id in ids.symmetricDifference(want) {
                let gd = brute.first { $0.0 == id }!.1
                #expect(abs(gd - d) < 1e-9, "query \(i) pipe \(id): GEOS \(gd), limit \(d)")
            }
            #expect(zip(got, got.dropFirst()).allSatisfy { $0.distance <= $1.distance })
            for h in got { expectConsistent(h, q, map) }
            let crossing = try engine.intersecting(q)
            #expect(Set(crossing.map(\.pipe.id)) == Set(map.segments.filter { geosIntersects($0, q) }.map(\.id)), "query \(i)")
            #expect(crossing.allSatisfy { $0.distance == 0 })
        }
    }

    @Test func filtersByOwnerSubtypeAndPredicate() throws {
        let q = Geometry.polygon(rect(origin.x - 100, origin.y - 100, origin.x + 100, origin.y + 100))
        let f = PipeFilter(layers: [.gas, .water], owners: ["Wenling Gas"]) { ($0.accuracy?.horizontalM ?? 0) < 0.3 }
        let got = Set(try engine.intersecting(q, filter: f).map(\.pipe.id))
        let want = Set(map.segments.filter {
            [.gas, .water].contains($0.layer) && $0.owner == "Wenling Gas" && ($0.accuracy?.horizontalM ?? 0) < 0.3
                && geosIntersects($0, q)
        }.map(\.id))
        #expect(got == want)
        #expect(!want.isEmpty)
        #expect(try engine.intersecting(q, filter: PipeFilter(subtypes: ["ZZ"])).isEmpty)
    }

    @Test func crossingAreaReportsTheShallowestPointInside() throws {
        // A pipe from depth 3 to depth 1 crossing a box over its middle: the shallowest point in
        // the box is where the pipe leaves it, at x = 60 (depth 3 − 2·0.6 = 1.8).
        let s = PipeSegment(id: 1, layer: .water, startPoint: "A", endPoint: "B",
                            geometry: try LineString([Point(origin.x, origin.y), Point(origin.x + 100, origin.y)]),
                            startDepth: 3, endDepth: 1)
        let e = try UtilityEngine(network: UtilityNetwork(segments: [s]))
        let box = Geometry.polygon(rect(origin.x + 40, origin.y - 5, origin.x + 60, origin.y + 5))
        let h = try #require(try e.intersecting(box).first)
        #expect(h.closestPoint == PlanPoint(x: origin.x + 60, y: origin.y))
        #expect(abs(h.depth! - 1.8) < 1e-12)
        #expect(abs(h.parameter - 0.6) < 1e-12)
    }

    @Test func queriesInWGS84MatchTheSameQueryInTheMapCRS() throws {
        let toLonLat = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        var rng = TestRandom(21)
        for _ in 0..<10 {
            let poly = randomPolygon(&rng, around: Point(origin.x + rng.uniform(-150, 150), origin.y + rng.uniform(-150, 150)), radius: 25)
            let lonLat = try toLonLat.transform(Geometry.polygon(poly))
            guard case .polygon(let ll) = lonLat else { Issue.record("not a polygon"); return }
            #expect(ll.exterior.points[0].x > 121 && ll.exterior.points[0].x < 122, "x is longitude")
            let a = try engine.within(distance: 3, of: lonLat, crs: "EPSG:4326")
            let b = try engine.within(distance: 3, of: .polygon(poly))
            // The round trip moves vertices by far less than a millimetre.
            let ids = Set(a.map(\.pipe.id)).symmetricDifference(b.map(\.pipe.id))
            for id in ids { #expect(abs(geosDistance(map.segment(id: id)!, .polygon(poly)) - 3) < 1e-3) }
            for (x, y) in zip(a, b) where x.pipe.id == y.pipe.id { #expect(abs(x.distance - y.distance) < 1e-3) }
        }
    }

    @Test func badInputIsRefusedWithAClearError() throws {
        let p = Geometry.point(origin)
        #expect(throws: EngineError.self) { try engine.nearest(to: p, k: 0) }
        #expect(throws: EngineError.self) { try engine.nearest(to: p, maxDistance: -1) }
        #expect(throws: EngineError.self) { try engine.within(distance: .nan, of: p) }
        #expect(throws: EngineError.self) { try engine.nearest(to: .point(Point(.nan, 0))) }
        #expect(throws: EngineError.self) { try engine.nearest(to: .multiPoint([])) }
        do {
            _ = try engine.nearest(to: p, crs: "EPSG:999999")
            Issue.record("accepted an unknown CRS")
        } catch {
            #expect(error.message.contains("EPSG:999999"))
        }
        let dot = try LineString([origin, origin])
        do {
            _ = try engine.within(distance: 1, of: .lineString(dot), crs: "EPSG:4326")
            Issue.record("accepted a point far outside the lon/lat range")
        } catch {
            #expect(error.location == "within")
        }
        let empty = try UtilityEngine(network: UtilityNetwork())
        #expect(try empty.nearest(to: p, k: 3).isEmpty)
        #expect(try empty.intersecting(p).isEmpty)
    }

    @Test func bufferZoneComesFromGEOS() throws {
        let line = try LineString([origin, Point(origin.x + 10, origin.y)])
        let zone = try engine.bufferZone(of: .lineString(line), distance: 1.5)
        guard case .polygon(let z) = zone else { Issue.record("not a polygon: \(zone)"); return }
        let e = z.envelope
        #expect(abs(e.minX - (origin.x - 1.5)) < 1e-9 && abs(e.maxY - (origin.y + 1.5)) < 1e-9)
        #expect(throws: EngineError.self) { try engine.bufferZone(of: .lineString(line), distance: -1) }
    }
}
