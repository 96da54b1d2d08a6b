import Testing

@testable import BenchCore

/// A peer that answers like another but drops one id from every window answer: the gate must
/// catch it and say where.
final class LossyPeer: IndexPeer {
    let inner: any IndexPeer
    let name = "lossy"
    init(_ inner: any IndexPeer) { self.inner = inner }
    var reportedBytes: Int? { nil }
    func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) {
        inner.window(q, into: &out)
        if !out.isEmpty { out.removeLast() }
    }
    func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        inner.nearest(x: x, y: y, k: k, ids: &ids, distances: &distances)
    }
    func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) { inner.within(x: x, y: y, r: r, into: &out) }
    func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        inner.polygonWithin(ring: ring, r: r, into: &out)
    }
}

/// Reports the right ids for nearest but a distance off by 1 mm.
final class SkewedPeer: IndexPeer {
    let inner: any IndexPeer
    let name = "skewed"
    init(_ inner: any IndexPeer) { self.inner = inner }
    var reportedBytes: Int? { nil }
    func window(_ q: (Double, Double, Double, Double), into out: inout [UInt32]) { inner.window(q, into: &out) }
    func nearest(x: Double, y: Double, k: Int, ids: inout [UInt32], distances: inout [Double]) {
        inner.nearest(x: x, y: y, k: k, ids: &ids, distances: &distances)
        if !distances.isEmpty { distances[0] += 1e-3 }
    }
    func within(x: Double, y: Double, r: Double, into out: inout [UInt32]) { inner.within(x: x, y: y, r: r, into: &out) }
    func polygonWithin(ring: [Double], r: Double, into out: inout [UInt32]) {
        inner.polygonWithin(ring: ring, r: r, into: &out)
    }
}

@Suite struct GateTests {
    let data = SegmentSet.streets(count: 3000, seed: 7)
    var queries: QuerySet { QuerySet.make(count: 60, around: data, seed: 7) }

    @Test func allPeersAgreeWithBruteForce() throws {
        let peers: [any IndexPeer] = [
            BruteForcePeer(data), SubterraPackedPeer(data), SubterraDynamicPeer(data),
            CIndexPeer.boost(data, packed: true), CIndexPeer.boost(data, packed: false), CIndexPeer.geos(data),
        ]
        try Gate.check(peers: peers, data: data, queries: queries, limit: 60, size: data.count)
    }

    @Test func gateNamesWorkloadAndFirstDifferingQuery() {
        let brute = BruteForcePeer(data)
        do {
            try Gate.check(peers: [brute, LossyPeer(brute)], data: data, queries: queries, limit: 60, size: data.count)
            Issue.record("a peer that drops ids passed the gate")
        } catch {
            #expect(error.workload == "window")
            // The first query whose answer is non-empty is the first one the lossy peer gets wrong.
            var ids = [UInt32]()
            let first = (0..<60).first { brute.window(queries.windows[$0], into: &ids); return !ids.isEmpty }
            #expect(error.queryIndex == first)
            #expect(error.description.contains("CORRECTNESS GATE FAILED: workload window"))
            #expect(error.description.contains("lossy"))
        }
    }

    @Test func gateCatchesWrongDistances() {
        let brute = BruteForcePeer(data)
        #expect(throws: GateFailure.self) {
            try Gate.check(peers: [brute, SkewedPeer(brute)], data: data, queries: queries, limit: 10, size: data.count,
                           workloads: ["nearest1"])
        }
    }

    @Test func degenerateQueries() throws {
        // Zero-size window on a segment end point, a point exactly on a segment, zero radius.
        let s = data.segment(0)
        var q = queries
        q.windows[0] = (s.x0, s.y0, s.x0, s.y0)
        q.points[0] = (s.x1, s.y1)
        q.radii[0] = 0
        q.polygons[0] = [s.x0 - 1, s.y0 - 1, s.x0 + 1, s.y0 - 1, s.x0 + 1, s.y0 + 1, s.x0 - 1, s.y0 + 1]
        let peers: [any IndexPeer] = [BruteForcePeer(data), SubterraPackedPeer(data), CIndexPeer.boost(data, packed: true), CIndexPeer.geos(data)]
        try Gate.check(peers: peers, data: data, queries: q, limit: 5, size: data.count)
    }
}

@Suite struct KernelTests {
    @Test func pointSegmentDistanceMatchesClosedForms() {
        #expect(pointSegmentDistance(0, 1, -1, 0, 1, 0) == 1)
        #expect(pointSegmentDistance(3, 4, 0, 0, 0, 0) == 5)  // degenerate segment
        #expect(pointSegmentDistance(2, 0, -1, 0, 1, 0) == 1)  // beyond the end
    }

    @Test func segmentPolygonDistanceInsideIsZero() {
        let square: [Double] = [0, 0, 10, 0, 10, 10, 0, 10]
        #expect(segmentPolygonDistance(2, 2, 3, 3, ring: square) == 0)
        #expect(segmentPolygonDistance(-5, 5, 15, 5, ring: square) == 0)  // crosses
        #expect(segmentPolygonDistance(12, 0, 12, 10, ring: square) == 2)
    }

    @Test func segmentBoxIntersection() {
        #expect(segmentIntersectsBox(-1, 5, 11, 5, 0, 0, 10, 10))
        #expect(segmentIntersectsBox(10, 10, 12, 12, 0, 0, 10, 10))  // touches a corner
        #expect(!segmentIntersectsBox(11, 0, 20, 9, 0, 0, 10, 10))
        #expect(!segmentIntersectsBox(-1, 9, 1, 12, 0, 0, 0.5, 10))  // diagonal past the corner
    }
}
