import Foundation
import SubterraGEOS
import SubterraGeometry
import Testing

@Suite struct GEOSBridgeConcurrencyTests {
    /// 8 tasks at once, each buffering, unioning and validating with pooled contexts, every result
    /// checked against a closed-form value.
    @Test func eightConcurrentTasksBufferUnionAndValidate() async throws {
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for t in 0..<8 {
                group.addTask {
                    var bad = 0
                    var rng = GEOSBridgeRNG(seed: UInt64(100 + t))
                    for _ in 0..<40 {
                        let r = rng.double(0.5, 3)
                        let q = rng.int(1, 12)
                        let x = rng.double(0, 1000), y = rng.double(0, 1000)
                        let a = GEOSBridgeFixtures.square(x, y, 4, 4), b = GEOSBridgeFixtures.square(x + 2, y + 1, 4, 4)
                        try GEOS.withContext { ctx in
                            let buf = try ctx.buffer(.point(Point(x, y)), distance: r,
                                                     parameters: BufferParameters(quadrantSegments: q))
                            let n = Double(4 * q)
                            if abs(GEOSBridgeFixtures.area(buf) - 0.5 * n * r * r * sin(2 * .pi / n)) > 1e-6 { bad += 1 }
                            let u = try ctx.union(.polygon(a), .polygon(b))
                            if abs(GEOSBridgeFixtures.area(u) - (16 + 16 - 2 * 3)) > 1e-6 { bad += 1 }
                            if try !ctx.isValid(u) { bad += 1 }
                            let bowTie = Geometry.polygon(Polygon(exterior: try LinearRing([
                                Point(x, y), Point(x + 2, y + 2), Point(x + 2, y), Point(x, y + 2), Point(x, y),
                            ])))
                            if try ctx.validity(bowTie).isValid { bad += 1 }
                        }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(failures == 0)
    }

    /// Each task owning its own context is the other supported pattern.
    @Test func eightTasksWithOwnContexts() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    let ctx = try GEOSContext()
                    for i in 0..<30 {
                        let g = Geometry.polygon(GEOSBridgeFixtures.square(Double(t), Double(i), 3, 2))
                        #expect(try ctx.geometry(wkb: ctx.wkb(g)) == g)
                        #expect(abs(GEOSBridgeFixtures.area(try ctx.buffer(g, distance: -0.5,
                            parameters: BufferParameters(joinStyle: .mitre))) - 2) < 1e-9)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
