import Foundation
import SubterraDatasets
import SubterraModel
import Testing
@testable import SubterraPostGIS

private let sampleDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Datasets/sample").path

@Suite struct SnapshotRangeTests {
    @Test func rangesCoverTheSpanOnceInOrder() {
        for (low, high, count) in [(Int64(1), Int64(100), 8), (5, 7, 8), (3, 3, 4), (-10, 10, 3), (1, 1_000_000, 7)] {
            let r = PostGISStore.ranges(low, high, count: count)
            #expect(r.count == min(count, Int(high - low + 1)))
            #expect(r.first?.lowerBound == low && r.last?.upperBound == high)
            for (a, b) in zip(r, r.dropFirst()) { #expect(a.upperBound + 1 == b.lowerBound) }
            let sizes = r.map { $0.upperBound - $0.lowerBound + 1 }
            #expect(sizes.max()! - sizes.min()! <= 1, "\(sizes)")
        }
        #expect(PostGISStore.ranges(5, 4, count: 3).isEmpty)
        #expect(PostGISStore.ranges(1, 10, count: 0).isEmpty)
        // Ids at both ends of Int64: one range, no overflow.
        #expect(PostGISStore.ranges(Int64.min, Int64.max, count: 4) == [Int64.min...Int64.max])
        #expect(PostGISStore.ranges(Int64.max - 2, Int64.max, count: 4).count == 3)
    }
}

@Suite("PostGIS snapshot read", .enabled(if: PG.primary != nil, PG.skipReason))
struct PostGISSnapshotTests {
    @Test func readingOnSeveralConnectionsGivesWhatOneGives() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let pg = try PostGISStore.open(try PG.freshDatabase("snapparts"))
        try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        let one = try pg.snapshot(connections: 1)
        for connections in [2, 3, 8] {
            let many = try pg.snapshot(connections: connections)
            #expect(many.version == one.version)
            #expect(many.network.segments == one.network.segments, "\(connections) connections")
            #expect(many.network.points == one.network.points, "\(connections) connections")
            #expect(many.network.areas == one.network.areas)
        }
        #expect(one.network.segments.map(\.id) == network.segments.map(\.id).sorted())
        // An empty store reads as empty on any number of connections.
        let empty = try PostGISStore.open(try PG.freshDatabase("snapempty"))
        let e = try empty.snapshot(connections: 4)
        #expect(e.network.segments.isEmpty && e.network.points.isEmpty && e.version == 0)
    }

    /// While a writer commits, each version marking the first and the last segment and point
    /// alike (the parts at both ends of the key ranges, read by different connections), every
    /// snapshot shows one version throughout: the parts share the lead's exported snapshot.
    @Test func partsReadWhileAWriterCommitsShowOneVersion() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let pg = try PostGISStore.open(try PG.freshDatabase("snaptorn"))
        try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        let segs = network.segments.sorted { $0.id < $1.id }
        let (firstSeg, lastSeg) = (segs.first!, segs.last!)
        // fid follows insertion order: the first and last points written.
        let (firstPt, lastPt) = (network.points.first!, network.points.last!)
        @Sendable func marked(_ n: Int) -> StoreEdit {
            var a = firstSeg, b = lastSeg, p = firstPt, q = lastPt
            a.road = "v\(n)"; b.road = "v\(n)"; p.road = "v\(n)"; q.road = "v\(n)"
            return StoreEdit(upsertSegments: [a, b], upsertPoints: [p, q])
        }
        try pg.apply(marked(0))  // every version from here on carries a mark
        let base = try pg.dataVersion()
        let stop = Locked(false)
        let writer = Thread {
            var n = 1
            while !stop.value {
                // Mark n is version base + n only if every apply before it committed.
                if (try? pg.apply(marked(n))) != nil { n += 1 }
            }
        }
        writer.start()
        defer { stop.value = true }
        var seen = Set<String>()
        for _ in 0..<12 {
            let s = try pg.snapshot(connections: 3)
            let roads = [
                s.network.segment(id: firstSeg.id)?.road, s.network.segment(id: lastSeg.id)?.road,
                s.network.point(number: firstPt.number)?.road, s.network.point(number: lastPt.number)?.road,
            ]
            #expect(Set(roads).count == 1, "torn snapshot at version \(s.version): \(roads)")
            // Version base + n carries mark n.
            let mark = roads[0].flatMap { $0.hasPrefix("v") ? Int64($0.dropFirst()) : nil }
            #expect(mark.map { s.version == base + $0 } == true, "version \(s.version), roads \(roads)")
            seen.insert(roads[0] ?? "-")
        }
        stop.value = true
        #expect(seen.count > 1, "the writer committed nothing between snapshots: \(seen)")
    }
}

/// A value shared with the writer thread.
private final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var v: T
    init(_ v: T) { self.v = v }
    var value: T {
        get { lock.withLock { v } }
        set { lock.withLock { v = newValue } }
    }
}
