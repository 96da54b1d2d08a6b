import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Every answer of the engine and of the persisted map names each pipe's and area's source
/// file as the store holds it, and carries a nominal-only depth as nominal, never as surveyed.
@Suite struct SourceFileEngineTests {
    static let cables = "deliveries/KL1031/kabels.geojson", water = "deliveries/water.geojson", zones = "zones.geojson"

    /// A power cable (surveyed depth) and a water main (nominal depth only) from two files, and
    /// an interest area from a third, in a store.
    static func store(in dir: URL) throws -> GeoPackageStore {
        let cable = PipeSegment(
            id: 1, layer: .power, startPoint: "C1", endPoint: "C2",
            geometry: try LineString([Point(origin.x, origin.y), Point(origin.x + 30, origin.y)]),
            startDepth: 1, endDepth: 1, owner: "Liander", sourceID: "KL-1", sourceFile: cables)
        let main = PipeSegment(
            id: 2, layer: .water, startPoint: "W1", endPoint: "W2",
            geometry: try LineString([Point(origin.x, origin.y + 40), Point(origin.x + 30, origin.y + 40)]),
            owner: "Vitens", nominalDepth: 0.8, sourceFile: water)
        let area = try OperatorArea(
            id: 1, kind: .interest, owner: "KPN", geometry: .polygon(rect(origin.x, origin.y + 30, origin.x + 30, origin.y + 50)),
            sourceFile: zones)
        let path = dir.appendingPathComponent("s.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try store.apply(StoreEdit(upsertSegments: [cable, main], upsertAreas: [area]))
        return try GeoPackageStore.open(at: path, readOnly: true)
    }

    @Test func engineAndMappedMapNameTheFileInEveryAnswer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("srcfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try Self.store(in: dir)
        let maps: [(String, any PipeMap)] = [("engine", try UtilityEngine(store: store)), ("mapped", try MappedMap.open(store: store))]
        let want: [Int64: String] = [1: Self.cables, 2: Self.water]
        for (name, map) in maps {
            let hits = try map.nearest(to: .point(Point(origin.x + 5, origin.y + 20)), crs: nil, k: 2, maxDistance: .infinity, perLayer: false, filter: .all)
            #expect(hits.count == 2 && hits.allSatisfy { $0.pipe.sourceFile == want[$0.pipe.id] }, "\(name) nearest")

            let dig = try map.digCheck(DigRequest(area: .polygon(rect(origin.x + 10, origin.y + 35, origin.x + 20, origin.y + 45)), plannedDepth: 0.5), filter: .all)
            let c = try #require(dig.conflicts.first, "\(name) dig")
            #expect(c.pipeID == 2 && c.sourceFile == Self.water, "\(name) dig")
            // A nominal depth is named, and never rules reaching the pipe out.
            #expect(c.depth == nil && c.nominalDepth == 0.8 && c.reaches == "possibly", "\(name) dig")
            #expect(dig.areas.map(\.sourceFile) == [Self.zones], "\(name) areas")

            let route = try LineString([Point(origin.x + 20, origin.y - 10), Point(origin.x + 20, origin.y + 50)])
            let report = try map.routeCheck(PlannedPipe(profile: PipeProfile(layer: .water), route: route, depthAtStart: 1, depthAtEnd: 1), nearMargin: 1, filter: .all)
            let crossings = report.findings.filter { $0.kind == .vertical }
            #expect(crossings.count == 2 && crossings.allSatisfy { $0.sourceFile == want[$0.pipeID ?? 0] }, "\(name) route")
            let overMain = try #require(crossings.first { $0.pipeID == 2 })
            #expect(overMain.status == .unknownDepth && overMain.nominalDepth == 0.8, "\(name) route")
            #expect(crossings.first { $0.pipeID == 1 }?.nominalDepth == nil, "a surveyed depth has no nominal one")

            let cut = try map.crossSection(along: route, crs: nil, filter: .all)
            #expect(cut.items.map(\.sourceFile) == [Self.cables, Self.water], "\(name) section")
        }
    }
}
