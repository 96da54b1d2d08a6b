import Testing
import SubterraIndex

/// The tree-level item forms the README names under "The index on its own" (renumbered build,
/// squared nearest, within), checked against brute force.
@Suite struct ReadmeIndexExampleTests {
    @Test func readmeIndexExample() throws {
        let segments: [(Double, Double, Double, Double)] = [
            (636900, 3140200, 636940, 3140200), (636900, 3140204, 636940, 3140201), (636950, 3140150, 636950, 3140190),
        ]
        let (tree, order) = try PackedRTree.renumbered(boxes: segments.map { Box(x0: $0.0, y0: $0.1, x1: $0.2, y1: $0.3) })
        let rows = order.map { segments[Int($0)] }

        func squaredDistance(_ x: Double, _ y: Double, _ s: (Double, Double, Double, Double)) -> Double {
            let dx = s.2 - s.0, dy = s.3 - s.1, px = x - s.0, py = y - s.1
            let t = max(0, min(1, (px * dx + py * dy) / max(dx * dx + dy * dy, .leastNormalMagnitude)))
            let ex = px - t * dx, ey = py - t * dy
            return ex * ex + ey * ey
        }

        let scratch = NearestScratch()
        var found: [(UInt32, Double)] = []
        tree.forEachNearest(k: 2, toX: 636920, y: 3140203, itemSquaredDistance: { id, _ in
            squaredDistance(636920, 3140203, rows[Int(id)])
        }, itemDistance: { id, _ in
            squaredDistance(636920, 3140203, rows[Int(id)]).squareRoot()
        }, scratch: scratch) { hit in
            found.append((order[Int(hit.id)], hit.distance))
            return .continue
        }
        let near = tree.within(distance: 1.5, ofX: 636920, y: 3140203) { id in
            squaredDistance(636920, 3140203, rows[Int(id)]).squareRoot()
        }

        #expect(tree.idsAreLeafPositions)
        // Brute force in the caller's ids.
        let all = segments.indices.map { (UInt32($0), squaredDistance(636920, 3140203, segments[$0]).squareRoot()) }
            .sorted { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        #expect(found.map(\.0) == all.prefix(2).map(\.0))
        #expect(zip(found, all).allSatisfy { $0.1 == $1.1 })
        #expect(Set(near.map { order[Int($0.id)] }) == Set(all.filter { $0.1 <= 1.5 }.map(\.0)))
        #expect(found.map(\.0) == [1, 0] && near.count == 1)  // ~0.5 m and 3 m away; only the first is near
    }
}
