import SubterraGeometry
import SubterraPROJ
import Testing

@Suite struct PROJConcurrencyTests {
    /// 8 tasks share one transformer (and its inverse) and must reproduce the sequential results
    /// bit for bit: each task gets its own PROJ context from the pool.
    @Test func eightConcurrentTasksShareOneTransformer() async throws {
        let t = try Transformer(from: "EPSG:4326", to: "EPSG:4549")
        var rng = GEOSBridgeRNG(seed: 8)
        let pts = (0..<400).map { _ in Point(121.4 + rng.double(-0.5, 0.5), 28.37 + rng.double(-0.5, 0.5)) }
        let reference = try t.transform(pts)
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var bad = 0
                    for round in 0..<10 {
                        let slice = Array(pts[(task * 40 + round * 7) % 300..<(task * 40 + round * 7) % 300 + 100])
                        let expected = Array(reference[(task * 40 + round * 7) % 300..<(task * 40 + round * 7) % 300 + 100])
                        if try t.transform(slice) != expected { bad += 1 }
                        if try t.transform(slice[0]) != expected[0] { bad += 1 }
                        let back = try t.inverse.transform(expected)
                        for (a, b) in zip(back, slice) where abs(a.x - b.x) > 1e-9 || abs(a.y - b.y) > 1e-9 { bad += 1 }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }
}
