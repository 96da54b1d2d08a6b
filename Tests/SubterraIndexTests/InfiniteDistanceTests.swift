import Testing
@testable import SubterraIndex

/// "Everything within an infinite distance" is every item, in every query form and on both
/// indexes (a NaN from inf - inf once made the envelope form return nothing).
@Suite struct InfiniteDistanceTests {
    static let boxes: [Box] = (0..<100).map { i in
        let x = Double(i % 10) * 7.5 + 500_000, y = Double(i / 10) * 3.25 + 3_140_000
        return Box(minX: x, minY: y, maxX: x + Double(i % 3), maxY: y)
    }

    @Test func packedTreeReturnsEveryItemAtInfiniteDistance() throws {
        let tree = try PackedRTree(boxes: Self.boxes)
        let query = Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        let exact: (UInt32) -> Double = { Self.boxes[Int($0)].distance(to: query) }
        #expect(Set(tree.within(distance: .infinity, of: query, exactDistance: exact).map(\.id)) == Set(0..<100))
        var viaEnvelope: Set<UInt32> = []
        tree.forEachWithin(distance: .infinity, envelope: query.expanded(by: .infinity),
                           boxLowerBound: { $0.distance(to: query) }, exactDistance: exact) {
            viaEnvelope.insert($0.id)
            return .continue
        }
        #expect(viaEnvelope == Set(0..<100))
        #expect(tree.within(distance: .infinity, ofX: 0, y: 0, exactDistance: { Self.boxes[Int($0)].distance(toX: 0, y: 0) }).count == 100)
    }

    @Test func dynamicSnapshotReturnsEveryItemAtInfiniteDistance() throws {
        let index = try DynamicRTree(items: Self.boxes.enumerated().map { ($1, UInt32($0)) })
        try index.insert(id: 1000, box: Box(minX: 1e6, minY: 1e6, maxX: 1e6, maxY: 1e6))
        try index.remove(id: 3)
        let query = Box(minX: 0, minY: 0, maxX: 1, maxY: 1)
        let all = Self.boxes + [Box(minX: 1e6, minY: 1e6, maxX: 1e6, maxY: 1e6)]
        let found = index.snapshot().within(distance: .infinity, of: query) { id in
            all[id == 1000 ? 100 : Int(id)].distance(to: query)
        }
        var expected = Set<UInt32>(0..<100)
        expected.remove(3)
        expected.insert(1000)
        #expect(Set(found.map(\.id)) == expected)
    }
}
