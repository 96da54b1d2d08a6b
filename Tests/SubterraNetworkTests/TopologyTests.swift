import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

@Suite("Network: topology building, snapping tolerance and quality checks")
struct TopologyTests {
    /// Two pipes whose facing ends are `gap` metres apart along x.
    func twoPipes(gap: Double, tolerance: Double, y: Double = 0) throws -> NetworkTopology {
        var b = NetBuilder()
        b.node("a", -100, y)
        b.node("b", 0, y)
        b.node("c", gap, y)
        b.node("d", 100, y)
        b.pipe(1, "a", "b")
        b.pipe(2, "c", "d")
        return try b.topology(tolerance: tolerance)
    }

    @Test("ends exactly at the tolerance snap; a hair beyond do not")
    func toleranceBoundary() throws {
        #expect(try twoPipes(gap: 0.5, tolerance: 0.5).nodeCount == 3)
        #expect(try twoPipes(gap: 0.5.nextUp, tolerance: 0.5).nodeCount == 4)
        #expect(try twoPipes(gap: 0.25, tolerance: 0.5).componentCount == 1)
        #expect(try twoPipes(gap: 0.75, tolerance: 0.5).componentCount == 2)
    }

    @Test("tolerance 0 joins equal coordinates only; ends across a cell border still meet")
    func zeroToleranceAndCellBorders() throws {
        #expect(try twoPipes(gap: 0, tolerance: 0).nodeCount == 3)
        #expect(try twoPipes(gap: 1e-9, tolerance: 0).nodeCount == 4)
        // Cells are `tolerance` wide from 0: these ends lie in neighbouring cells (x and y).
        var b = NetBuilder()
        b.node("a", -100, -100)
        b.node("b", -0.1, -0.1)
        b.node("c", 0.1, 0.1)
        b.node("d", 100, 100)
        b.pipe(1, "a", "b")
        b.pipe(2, "c", "d")
        #expect(try b.topology(tolerance: 0.3).nodeCount == 3)
        #expect(try b.topology(tolerance: 0.28).nodeCount == 4)
    }

    @Test("snapping chains: ends joined through a middle end, whatever the order")
    func chains() throws {
        var b = NetBuilder()
        b.node("a", -100, 0)
        b.node("b", 0, 0)
        b.node("c", 0.4, 0)
        b.node("d", 100, 0)
        b.node("e", 0.8, 0)
        b.node("f", 0.8, 100)
        b.pipe(1, "a", "b")
        b.pipe(2, "c", "d")
        b.pipe(3, "e", "f")
        let t = try b.topology(tolerance: 0.5)
        #expect(t.nodeCount == 4)
        #expect(t.degree(of: Int(t.edgeFrom[0 + 1])) == 3)
        var r = b
        r.segments.reverse()
        #expect(try r.topology(tolerance: 0.5).nodeCount == 4)
    }

    @Test("bad tolerances and empty scopes are refused, saying what")
    func refusals() throws {
        let b = IsolationTests.tree()
        for bad in [-1.0, .nan, .infinity, 101] {
            #expect(throws: NetworkError.self) { try b.topology(tolerance: bad) }
        }
        let e = #expect(throws: NetworkError.self) {
            try NetworkTopology(segments: b.segments, points: b.points, scope: .init(layer: .gas))
        }
        #expect(e?.description.contains("no pipes in layer RQ") == true)
    }

    @Test("CSR invariants hold; points attach to the nearest end within the tolerance")
    func layoutAndAttachment() throws {
        var b = IsolationTests.tree()
        b.point("near", 100.03, 0, .hydrant)
        b.point("far", 100.2, 0, .hydrant)
        let t = try b.topology(tolerance: 0.05)
        #expect(t.adjacencyStart.count == t.nodeCount + 1)
        #expect(Int(t.adjacencyStart.last!) == 2 * t.edgeCount)
        for v in 0..<t.nodeCount {
            #expect(t.degree(of: v) >= 1)
            for e in t.edges(at: v) { #expect(Int(t.edgeFrom[Int(e)]) == v || Int(t.edgeTo[Int(e)]) == v) }
        }
        let a = t.pointNode[t.pointIndex(number: "A")!]
        #expect(t.pointNode[t.pointIndex(number: "near")!] == a)
        #expect(t.pointNode[t.pointIndex(number: "far")!] == -1)
        #expect(t.valve(at: Int(a))?.number == "A")
    }

    @Test("quality: components, dangling ends, loose valves")
    func quality() throws {
        var b = IsolationTests.tree()
        // A separate pipe with an unexplained end, a valve mid-pipe and a valve far from any pipe.
        b.node("x", 1000, 0)
        b.point("y", 1100, 0, .cap)
        b.pipe(9, "x", "y")
        b.point("mid", 250, 0.01, .valve, valve: .open)
        b.point("lost", 250, 30, .valve)
        b.point("away", 250, 40, .serviceConnection, connection: .init(category: .school, count: 3))
        let t = try b.topology(tolerance: 0.05)
        let q = NetworkQualityReport(t)
        #expect(q.components.count == 2)
        #expect(q.components.map(\.pipes) == [5, 1])
        #expect(q.components.map(\.hasSource) == [true, false])
        #expect(q.danglingEnds.map(\.segmentID) == [9])
        #expect(q.valvesOffNode.map(\.number) == ["mid"] && q.valvesOffNode[0].nearestSegmentID == 3)
        #expect(q.valvesNotOnPipe.map(\.number) == ["lost"] && q.valvesNotOnPipe[0].distance == 30)
        #expect(q.connectionsOffNetwork == ["away"])
        #expect(q.summary == "2 components, 1 dangling end, 2 valves off the pipe ends (ignored as barriers), 1 connection off the network (not counted)")
        #expect(q.drainageNote == nil && !q.isClean)
        #expect(NetworkQualityReport(try IsolationTests.tree().topology()).isClean)
    }

    @Test("quality: drainage pipes whose invert rises against the survey direction")
    func uphillDrainage() throws {
        var segs: [PipeSegment] = []
        func pipe(_ id: Int64, _ x0: Double, _ x1: Double, _ e0: Double?, _ e1: Double?, _ ref: ElevationReference) {
            segs.append(PipeSegment(
                id: id, layer: .drainage, startPoint: PointNumber("p\(id)a"), endPoint: PointNumber("p\(id)b"),
                geometry: try! LineString([Point(x0, 0), Point(x1, 0)]), startElevation: e0, endElevation: e1,
                elevationReference: ref, section: .circular(diameterMM: 400)))
        }
        pipe(1, 0, 50, 3.0, 2.8, .bottom)  // falls: fine
        pipe(2, 50, 100, 2.8, 2.9, .bottom)  // rises 0.1
        pipe(3, 100, 150, 3.2, 3.5, .top)  // top rises: inverts 2.8 -> 3.1
        pipe(4, 150, 200, nil, 2.0, .bottom)  // cannot be checked
        let t = try NetworkTopology(segments: segs, points: [], scope: .init(layer: .drainage), tolerance: 0.05)
        let q = NetworkQualityReport(t)
        #expect(q.uphillDrainage.map(\.segmentID) == [2, 3])
        #expect(abs(q.uphillDrainage[1].rise - 0.3) < 1e-9)
        #expect(q.drainageWithoutInverts == 1)
        #expect(q.drainageNote?.contains("flow-direction") == true)
    }

    @Test("gas: a pressure-class scope keeps its own pipes and the points on them")
    func gasPressureScope() throws {
        var b = NetBuilder(layer: .gas)
        b.point("R", 0, 0, .regulatorStation)
        b.point("V", 100, 0, .valve, valve: .open)
        b.point("H", -100, 0, .valve, valve: .open)
        b.node("e", 200, 0)
        b.pipe(1, "R", "V")
        b.pipe(2, "V", "e")
        b.pipe(3, "H", "R")
        b.segments[0].gasPressureMPa = 0.005
        b.segments[1].gasPressureMPa = 0.005
        b.segments[2].gasPressureMPa = 0.3
        let low = try NetworkTopology(
            segments: b.segments, points: b.points, scope: .init(layer: .gas, gasPressureClass: .low))
        #expect(low.segments.map(\.id) == [1, 2])
        #expect(low.points.map(\.number) == ["R", "V"])
        let plan = try IsolationPlan(topology: low, break: .edge(0))
        #expect(plan.sourcesToShut == ["R"] && plan.closeNumbers == ["V"])
    }
}
