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
        // Every part read by workers that imported the lead's snapshot (the lead only coordinates).
        let workers = try pg.readAll(connections: 3, leadTakesParts: false)
        #expect(workers.version == one.version)
        #expect(workers.segments == one.network.segments && workers.points == one.network.points && workers.areas == one.network.areas)
        #expect(one.network.segments.map(\.id) == network.segments.map(\.id).sorted())
        // An empty store reads as empty on any number of connections.
        let empty = try PostGISStore.open(try PG.freshDatabase("snapempty"))
        let e = try empty.snapshot(connections: 4)
        #expect(e.network.segments.isEmpty && e.network.points.isEmpty && e.version == 0)
    }

    /// More whole-map reads at once than the pool has connections: each lead holds one while its
    /// workers wait for theirs. Every read still finishes (a lead reads what no worker took and
    /// cancels workers still waiting), with the same map.
    @Test func moreReadsAtOnceThanThePoolHasConnectionsAllFinish() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let pg = try PostGISStore.open(try PG.freshDatabase("snappool"))
        try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        let expected = try pg.snapshot(connections: 1).network
        let readers = 2 * PostGISLocation.poolSize, finished = DispatchSemaphore(value: 0), wrong = Locked(0)
        for _ in 0..<readers {
            Thread {
                if (try? pg.snapshot(connections: PostGISLocation.poolSize).network) != expected { wrong.value += 1 }
                finished.signal()
            }.start()
        }
        var done = 0
        while done < readers, finished.wait(timeout: .now() + 120) == .success { done += 1 }
        #expect(done == readers, "\(readers - done) of \(readers) reads still waiting after 120 s")
        #expect(wrong.value == 0, "\(wrong.value) reads failed or differed")
    }

    /// While a writer commits, each version marking the first and the last segment and point
    /// alike (parts at both ends of the key ranges), every read shows one version throughout,
    /// and the version the lead read: the parts are read by worker connections only (the lead
    /// just coordinates), so a worker outside the lead's exported snapshot would show a later
    /// mark than the version.
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
        let writerDone = DispatchSemaphore(value: 0)
        let writer = Thread {
            var n = 1
            while !stop.value {
                // Mark n is version base + n only if every apply before it committed.
                if (try? pg.apply(marked(n))) != nil { n += 1 }
            }
            writerDone.signal()
        }
        writer.start()
        defer {
            stop.value = true
            writerDone.wait()
        }
        var seen = Set<String>()
        let deadline = Date().addingTimeInterval(60)
        var reads = 0
        while reads < 12 || (seen.count < 2 && Date() < deadline) {
            reads += 1
            let r = try pg.readAll(connections: 3, leadTakesParts: false)
            let roads = [
                r.segments.first { $0.id == firstSeg.id }?.road, r.segments.first { $0.id == lastSeg.id }?.road,
                r.points.first { $0.number == firstPt.number }?.road, r.points.first { $0.number == lastPt.number }?.road,
            ]
            #expect(Set(roads).count == 1, "torn read at version \(r.version): \(roads)")
            // Version base + n carries mark n.
            let mark = roads[0].flatMap { $0.hasPrefix("v") ? Int64($0.dropFirst()) : nil }
            #expect(mark.map { r.version == base + $0 } == true, "version \(r.version), roads \(roads)")
            seen.insert(roads[0] ?? "-")
        }
        #expect(seen.count > 1, "the writer committed nothing between reads in 60 s: \(seen)")
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
