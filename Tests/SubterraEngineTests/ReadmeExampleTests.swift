import Foundation
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

/// Runs the README's "Use it from Swift" example on the bundled sample, so the example cannot rot:
/// the same calls, the same coordinates, checked against a brute-force scan of the sample.
@Suite struct ReadmeExampleTests {
    static let sampleDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Datasets/sample").path

    @Test func readmeDigCheckAndNearestGasMain() throws {
        let network = try DistrictReader.readGeoJSON(directory: Self.sampleDir)
        let engine = try UtilityEngine(network: network)

        let pit = try Polygon(exterior: LinearRing([
            Point(121.40620, 28.36890), Point(121.40623, 28.36890), Point(121.40623, 28.36893),
            Point(121.40620, 28.36893), Point(121.40620, 28.36890),
        ]))
        let report = try engine.digCheck(DigRequest(area: .polygon(pit), crs: "EPSG:4326", plannedDepth: 2.0))
        // The pit sits on the sub-high-pressure gas main of sample dig site 2: it must be found,
        // crossed (distance 0) and critical.
        let gasConflicts = report.conflicts.filter { $0.layer == .gas }
        #expect(!gasConflicts.isEmpty)
        #expect(gasConflicts.contains { $0.distance == 0 && $0.clearDistance == 0 && $0.severity == .critical })
        #expect(report.highestSeverity == .critical)
        // Every conflict as brute force finds it, measured to the pipe's outer wall (GEOS, in the map CRS).
        let pitInMap = try Transformer(from: "EPSG:4326", to: network.crs).transform(Geometry.polygon(pit))
        let mismatches = digBruteForceMismatches(report, network, engine.rules, pitInMap)
        #expect(mismatches.isEmpty, "\(mismatches)")

        let gas = try engine.nearest(to: .point(Point(121.40621, 28.36891)), crs: "EPSG:4326", k: 1,
                                     filter: PipeFilter(layers: [.gas]))
        #expect(gas.count == 1)
        // Brute force in the map CRS: the same point projected, every gas pipe scanned.
        let projected = try Transformer(from: "EPSG:4326", to: network.crs).transform(Point(121.40621, 28.36891))
        var best: (id: Int64, distance: Double) = (-1, .infinity)
        for pipe in network.segments where pipe.layer == .gas {
            let d: Double = pipe.geometry.distance(to: projected)
            if d < best.distance || (d == best.distance && pipe.id < best.id) { best = (pipe.id, d) }
        }
        #expect(gas[0].pipe.id == best.id)
        #expect(abs(gas[0].distance - best.distance) <= 1e-9 * max(1, best.distance))
    }

    /// The README's "A city-sized map in milliseconds" example: the snapshot file answers as the
    /// engine over the loaded map does.
    @Test func readmeMappedMapAnswersAsTheEngine() throws {
        let network = try DistrictReader.readGeoJSON(directory: Self.sampleDir)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("readme-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sample.gpkg").path
        try GeoPackageStore.create(at: path).apply(
            StoreEdit(upsertSegments: network.segments, upsertPoints: network.points, upsertAreas: network.areas))

        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let engine = try UtilityEngine(store: store)
        _ = try MappedMap.open(store: store)  // writes the file
        let map = try MappedMap.open(store: store)
        #expect(map.origin == .file)
        let pit = try Polygon(exterior: LinearRing([
            Point(121.40620, 28.36890), Point(121.40623, 28.36890), Point(121.40623, 28.36893),
            Point(121.40620, 28.36893), Point(121.40620, 28.36890),
        ]))
        let near = try map.nearest(to: .point(Point(636900, 3140200)), k: 3)
        #expect(near.count == 3)
        #expect(near == (try engine.nearest(to: .point(Point(636900, 3140200)), k: 3)))
        let request = DigRequest(area: .polygon(pit), crs: "EPSG:4326", plannedDepth: 2.0)
        let dig = try map.digCheck(request)
        #expect(dig.conflicts.contains { $0.layer == .gas && $0.severity == .critical })
        #expect(dig == (try engine.digCheck(request)))
    }

    /// The README's many-sites example: a `DigChecker` and `digChecks` give `digCheck`'s reports.
    @Test func readmeCheckerAndBatch() throws {
        let network = try DistrictReader.readGeoJSON(directory: Self.sampleDir)
        let engine = try UtilityEngine(network: network)
        let requests = try network.segments.prefix(40).map { s in
            let p = s.geometry.points[0]
            let pit = try Polygon(exterior: LinearRing([
                Point(p.x - 2, p.y - 2), Point(p.x + 2, p.y - 2), Point(p.x + 2, p.y + 2), Point(p.x - 2, p.y + 2),
                Point(p.x - 2, p.y - 2),
            ]))
            return DigRequest(area: .polygon(pit), plannedDepth: 2.0)
        }
        let plain = try requests.map { try engine.digCheck($0) }
        #expect(plain.contains { !$0.conflicts.isEmpty })
        let checker = DigChecker(engine)
        var sent: [DigReport] = []
        func send(_ r: DigReport) { sent.append(r) }
        for request in requests { try send(checker.check(request)) }
        #expect(sent == plain)
        let answers = engine.digChecks(requests, threads: 2)
        #expect(try answers.map { try $0.get() } == plain)
    }
}
