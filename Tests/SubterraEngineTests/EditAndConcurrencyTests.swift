import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// A serial lock for the tests' own bookkeeping (which version holds which map).
final class History: @unchecked Sendable {
    private let lock = NSLock()
    private let writers = NSLock()
    private var maps: [UInt64: UtilityNetwork] = [:]
    func record(_ v: UInt64, _ m: UtilityNetwork) { lock.lock(); maps[v] = m; lock.unlock() }
    func map(_ v: UInt64) -> UtilityNetwork? { lock.lock(); defer { lock.unlock() }; return maps[v] }
    func serially<R>(_ body: () throws -> R) rethrows -> R { writers.lock(); defer { writers.unlock() }; return try body() }
}

@Suite struct EditAndConcurrencyTests {
    func moved(_ s: PipeSegment, by dx: Double) -> PipeSegment {
        var t = s
        t.geometry = try! LineString(s.geometry.points.map { Point($0.x + dx, $0.y) })
        return t
    }

    @Test func editsPublishNewSnapshotsAndFailedEditsChangeNothing() throws {
        let map = randomDistrict(count: 120, seed: 51)
        let engine = try UtilityEngine(network: map)
        let area = Geometry.polygon(rect(origin.x - 30, origin.y - 30, origin.x + 30, origin.y + 30))
        let before = try engine.intersecting(area)
        // Move every pipe inside the area 1 km east, delete one far away, add a new one inside.
        let inside = before.map(\.pipe)
        let far = map.segments.first { s in !inside.contains { $0.id == s.id } }!
        let fresh = PipeSegment(id: 10_000, layer: .gas, startPoint: "N1", endPoint: "N2",
                                geometry: try LineString([Point(origin.x - 5, origin.y), Point(origin.x + 5, origin.y)]),
                                startDepth: 1, endDepth: 1)
        try engine.apply(StoreEdit(upsertSegments: inside.map { moved($0, by: 1000) } + [fresh], deleteSegments: [far.id]))
        #expect(engine.version == 1)
        #expect(try engine.intersecting(area).map(\.pipe.id) == [10_000])
        #expect(engine.network.segment(id: far.id) == nil)
        #expect(engine.network.segments.count == map.segments.count)
        // The throwing form gives the same map (never an empty stand-in).
        #expect(try engine.currentNetwork() == engine.network)
        #expect(try engine.currentNetwork().segments.count == map.segments.count)
        // A bad record: nothing changes, the error names the segment.
        var bad = fresh
        bad.id = 10_001
        bad.startDepth = -2
        let snapshot = engine.network
        do {
            try engine.apply(StoreEdit(upsertSegments: [moved(fresh, by: 3), bad]))
            Issue.record("accepted a negative depth")
        } catch {
            #expect(error.location.contains("segment 10001"))
            #expect(error.message.contains("depth"))
        }
        do {
            try engine.apply(StoreEdit(upsertSegments: [fresh], deleteSegments: [fresh.id]))
            Issue.record("accepted an upsert and delete of one id")
        } catch {
            #expect(error.location.contains("segment 10000"))
        }
        #expect(engine.version == 1)
        #expect(engine.network == snapshot)
    }

    @Test func storeBackedEditsGoToTheStoreFirst() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-engine-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("map.gpkg").path
        let map = randomDistrict(count: 40, seed: 52)
        do {
            let store = try GeoPackageStore.create(at: path)
            try store.apply(StoreEdit(upsertSegments: map.segments))
        }
        let store = try GeoPackageStore.open(at: path)
        let engine = try UtilityEngine(store: store)
        #expect(engine.network.segments.count == 40)
        let edit = StoreEdit(upsertSegments: [moved(map.segments[0], by: 7)], deleteSegments: [map.segments[1].id])
        try engine.apply(edit)
        let stored = try store.loadAll()
        #expect(Set(stored.segments.map(\.id)) == Set(engine.network.segments.map(\.id)))
        #expect(stored.segment(id: map.segments[0].id)?.geometry == engine.network.segment(id: map.segments[0].id)?.geometry)
        // A store that refuses (read-only file): the engine does not change either.
        let readOnly = try GeoPackageStore.open(at: path, readOnly: true)
        let roEngine = try UtilityEngine(store: readOnly)
        let before = roEngine.network
        #expect(throws: EngineError.self) { try roEngine.apply(StoreEdit(deleteSegments: [map.segments[2].id])) }
        #expect(roEngine.network == before && roEngine.version == 0)
        #expect(try store.loadAll().segment(id: map.segments[2].id) != nil)
    }

    /// Readers and writers together from many tasks: every dig report is checked against brute
    /// force on the exact map version it reports, and every writer checks its edit right after.
    @Test func readersAndWritersTogether() async throws {
        let start = randomDistrict(count: 150, seed: 53, size: 200)
        let engine = try UtilityEngine(network: start)
        let rules = engine.rules
        let history = History()
        history.record(0, start)
        let writers = 2, editsPerWriter = 6, readers = 4, readsPerReader = 8
        let reports = try await withThrowingTaskGroup(of: [(DigReport, Geometry)].self) { group in
            for w in 0..<writers {
                group.addTask {
                    var rng = TestRandom(UInt64(100 + w))
                    var out: [(DigReport, Geometry)] = []
                    for e in 0..<editsPerWriter {
                        // Serialized on the test side only so the test knows which map each version is.
                        let (version, map) = try history.serially { () throws -> (UInt64, UtilityNetwork) in
                            let current = engine.network
                            let victim = current.segments[Int(rng.next() % UInt64(current.segments.count))]
                            let added = PipeSegment(
                                id: Int64(100_000 + w * 1000 + e), layer: [.gas, .power, .water][e % 3],
                                startPoint: PointNumber("W\(w)E\(e)a"), endPoint: PointNumber("W\(w)E\(e)b"),
                                geometry: try LineString([
                                    Point(origin.x + rng.uniform(-90, 90), origin.y + rng.uniform(-90, 90)),
                                    Point(origin.x + rng.uniform(-90, 90), origin.y + rng.uniform(-90, 90)),
                                ]), startDepth: 1, endDepth: 2)
                            try engine.apply(StoreEdit(upsertSegments: [moved(victim, by: rng.uniform(-20, 20)), added]))
                            let v = engine.version
                            let m = engine.network
                            history.record(v, m)
                            return (v, m)
                        }
                        let area = Geometry.polygon(rect(origin.x - 40, origin.y - 40, origin.x + 40, origin.y + 40))
                        let r = try engine.digCheck(DigRequest(area: area, plannedDepth: 1.5))
                        // Another writer may have published since (and may not have recorded its map
                        // yet): every report is checked after the group, on the version it reports.
                        #expect(r.mapVersion >= version)
                        #expect(map.segment(id: Int64(100_000 + w * 1000 + e)) != nil, "the writer's own pipe is in its version")
                        out.append((r, area))
                    }
                    return out
                }
            }
            for rdr in 0..<readers {
                group.addTask {
                    var rng = TestRandom(UInt64(200 + rdr))
                    var out: [(DigReport, Geometry)] = []
                    for _ in 0..<readsPerReader {
                        let c = Point(origin.x + rng.uniform(-90, 90), origin.y + rng.uniform(-90, 90))
                        let area = Geometry.polygon(randomPolygon(&rng, around: c, radius: 15))
                        out.append((try engine.digCheck(DigRequest(area: area, plannedDepth: 1.2)), area))
                        let hits = try engine.nearest(to: .point(c), k: 3)
                        #expect(hits.count == 3)
                        #expect(zip(hits, hits.dropFirst()).allSatisfy { $0.distance <= $1.distance })
                        for h in hits { #expect(abs(geosDistance(h.pipe, .point(c)) - h.distance) < 1e-7) }
                    }
                    return out
                }
            }
            var all: [(DigReport, Geometry)] = []
            for try await part in group { all += part }
            return all
        }
        #expect(engine.version == UInt64(writers * editsPerWriter))
        #expect(reports.count == readers * readsPerReader + writers * editsPerWriter)
        for (r, area) in reports {
            let map = try #require(history.map(r.mapVersion), "version \(r.mapVersion) was never published")
            #expect(digMatchesBruteForce(r, map, rules, area), "report on version \(r.mapVersion)")
        }
    }
}
