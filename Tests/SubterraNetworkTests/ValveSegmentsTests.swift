import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

extension NaiveNetwork {
    /// Whether the segmentation cuts at `v`: a source, or a valve that is open, unknown or closed.
    func bounds(_ v: Int) -> Bool {
        if isSource(v) { return true }
        guard let s = valve(v)?.valveStatus else { return valve(v) != nil }
        return s == .open || s == .closed
    }

    /// Brute force: the pipes reached from pipe `e` by a search that stops at boundary nodes
    /// (the valve node `through` is passed as if it were a plain node), with the nodes it stops
    /// at and the interior nodes it passes.
    func segment(from e: Int, through: Int? = nil) -> (pipes: Set<Int>, boundary: Set<Int>, interior: Set<Int>) {
        var pipes: Set<Int> = [e], boundary = Set<Int>(), interior = Set<Int>()
        var stack: [Int] = []
        func arrive(_ v: Int) {
            if bounds(v) && v != through {
                boundary.insert(v)
            } else if interior.insert(v).inserted {
                stack.append(v)
            }
        }
        arrive(endNode[2 * e])
        arrive(endNode[2 * e + 1])
        while let v = stack.popLast() {
            for (f, w) in adjacency[v] ?? [] {
                pipes.insert(f)
                arrive(w)
            }
        }
        return (pipes, boundary, interior)
    }

    func customers(at nodes: Set<Int>) -> Int {
        points.indices.filter { i in pointNode[i].map(nodes.contains) ?? false }.reduce(0) { $0 + (points[$1].connection?.count ?? 0) }
    }
}

@Suite("Network: valve segments and valve criticality against brute force and the isolation plan")
struct ValveSegmentsTests {
    static func network(_ seed: Int) throws -> (NetworkTopology, NaiveNetwork) {
        let tolerance = [0.0, 0.05, 0.5, 2.0][seed % 4]
        let b = IsolationOracleTests.randomNetwork(seed: UInt64(seed) &* 104_729 &+ 5, sites: 10 + seed % 40, tolerance: tolerance)
        let t = try b.topology(tolerance: tolerance)
        return (t, NaiveNetwork(segments: t.segments, points: t.points, tolerance: tolerance))
    }

    @Test("random networks: segment labels, boundaries, sizes and customers equal a search per pipe", arguments: 0..<40)
    func oracle(seed: Int) throws {
        let (t, naive) = try Self.network(seed)
        let vs = ValveSegments(t)
        // A boundary node's numbers: its sources, or else its valve.
        func numbers(_ nodes: Set<Int>) -> Set<String> {
            Set(nodes.flatMap { v in
                naive.isSource(v) ? naive.pointsAt(v).filter(\.kind.isSource).map(\.number.rawValue) : [naive.valve(v)!.number.rawValue]
            })
        }
        for e in 0..<t.edgeCount {
            let want = naive.segment(from: e)
            let s = Int(vs.segmentOfEdge[e])
            // Same partition: exactly the pipes the search reaches share the label.
            #expect(Set((0..<t.edgeCount).filter { Int(vs.segmentOfEdge[$0]) == s }) == want.pipes, "seed \(seed) pipe \(e)")
            #expect(Set(vs.edges(of: s).map(Int.init)) == want.pipes)
            let sum = vs.summary(s)
            #expect(sum.pipes == want.pipes.count)
            #expect(abs(sum.length - want.pipes.reduce(0) { $0 + t.segments[$1].length }) < 1e-6)
            #expect(Set(sum.valvesToClose.map(\.rawValue) + sum.closedValves.map(\.rawValue) + sum.sourcesToShut.map(\.rawValue))
                == numbers(want.boundary))
            let passed = want.interior.filter { naive.valve($0) != nil }
            #expect(Set(sum.passedValves.map(\.rawValue)) == Set(passed.map { naive.valve($0)!.number.rawValue }))
            #expect(sum.customersTotal == naive.customers(at: want.interior), "seed \(seed) pipe \(e)")
        }
        // Every connection counts once: in a segment, or at a boundary node.
        let connections = t.points.indices.filter { t.points[$0].connection != nil && t.pointNode[$0] >= 0 }.count
        let inSegments = (0..<vs.segmentCount).reduce(0) { $0 + vs.summary($1).customers.reduce(0) { $0 + $1.connections } }
        #expect(inSegments + vs.boundaryConnections == connections)
    }

    @Test("fast path: a break's segment gives the isolation plan's valves, pipes and sources, for every pipe and node", arguments: 0..<40)
    func isolationEquivalence(seed: Int) throws {
        let (t, _) = try Self.network(seed)
        try Self.expectSameIsolation(t, "seed \(seed)")
    }

    @Test("fast path on the hand-built isolation fixtures")
    func isolationFixtures() throws {
        for status in [ValveStatus.open, .closed, .inoperable, .inaccessible, nil] as [ValveStatus?] {
            try Self.expectSameIsolation(IsolationTests.tree(cStatus: status).topology(), "tree C \(String(describing: status))")
        }
        try Self.expectSameIsolation(Self.handExample().topology(), "hand example")
    }

    static func expectSameIsolation(_ t: NetworkTopology, _ label: String) throws {
        let vs = ValveSegments(t)
        let locations = (0..<t.edgeCount).map(BreakLocation.edge) + (0..<t.nodeCount).map(BreakLocation.node)
        for location in locations {
            let plan = try IsolationPlan(topology: t, break: location, failureScenarios: false)
            let fast = try vs.isolation(of: location)
            func numbers(_ nodes: [Int]) -> [String] { nodes.map { t.valve(at: $0)!.number.rawValue }.sorted() }
            #expect(fast.edges.map { t.segments[$0].id }.sorted() == plan.pipeIDs.sorted(), "\(label) \(location)")
            #expect(numbers(fast.valvesToClose) == plan.closeNumbers, "\(label) \(location)")
            #expect(numbers(fast.closedBarriers) == plan.closedBarriers.map(\.number.rawValue))
            #expect(numbers(fast.passedValves) == plan.passedValves.map(\.number.rawValue))
            let sources = fast.sources.flatMap { v in t.pointIndices(at: v).map { t.points[Int($0)] }.filter(\.kind.isSource).map(\.number) }
            #expect(sources.sorted() == plan.sourcesToShut, "\(label) \(location)")
            // The segment's own customers are all cut off by the plan.
            if case .edge(let e) = location {
                let sum = vs.summary(Int(vs.segmentOfEdge[e]))
                #expect(sum.customersTotal <= plan.customersCutOffTotal)
            }
        }
    }

    @Test("random networks: valve criticality equals the merge searched by brute force and the plan's failure scenarios", arguments: 0..<40)
    func criticality(seed: Int) throws {
        let (t, naive) = try Self.network(seed)
        let vs = ValveSegments(t)
        let table = vs.criticality()
        let closable = (0..<t.nodeCount).filter { v in t.valve(at: v).map { !t.isSource(v) && ($0.valveStatus ?? .open) == .open } ?? false }
        #expect(Set(table.map(\.node)) == Set(closable))
        for c in table {
            let nv = naive.pointNode[t.pointIndex(number: c.valve)!]!
            // Brute force: the pipes reached with the valve passable, from each pipe at it.
            let edgesAt = (naive.adjacency[nv] ?? []).map(\.edge)
            let merged = naive.segment(from: edgesAt[0], through: nv)
            let sides = Set(edgesAt.map { naive.segment(from: $0).pipes })
            #expect(c.sides.count == sides.count, "seed \(seed) valve \(c.valve)")
            #expect(c.mergedPipes == merged.pipes.count)
            #expect(abs(c.mergedLength - merged.pipes.reduce(0) { $0 + t.segments[$1].length }) < 1e-6)
            #expect(c.mergedCustomersTotal == naive.customers(at: merged.interior))
            #expect(c.extraPipes == merged.pipes.count - sides.map(\.count).min()!)
            let sideCustomers = edgesAt.map { naive.customers(at: naive.segment(from: $0).interior) }
            #expect(c.extraCustomers == c.mergedCustomersTotal - sideCustomers.min()!)
            // The plan agrees: for a break in each side, the failure of this valve adds the
            // merge minus that side; the worst side adds the extra.
            var worst = 0
            for side in sides {
                let plan = try IsolationPlan(topology: t, break: .edge(side.min()!))
                if let f = plan.failures.first(where: { $0.valve == c.valve }) {
                    #expect(Set(f.extraPipes.map(\.segmentID)) == Set(merged.pipes.subtracting(side).map { t.segments[$0].id }))
                    worst = max(worst, f.extraPipes.count)
                } else {
                    Issue.record("seed \(seed): no failure scenario for \(c.valve) on a break beside it")
                }
            }
            #expect(worst == c.extraPipes, "seed \(seed) valve \(c.valve)")
        }
        // Worst first.
        for (a, b) in zip(table, table.dropFirst()) {
            #expect(a.extraCustomers > b.extraCustomers || a.extraCustomers == b.extraCustomers && a.extraLength >= b.extraLength)
        }
    }

    /// S(plant) -1- V1(open) -2- T1(tee) -3- V2(open) -4- T2(tee) -5- V3(unknown) -6- T3(tee);
    /// T1 -7- X(inoperable) -8- K1(hospital); T2 -9- K2(20 households); T2 -10- Z(closed) -11- K3(5 schools);
    /// T3 -12- K4(3 industry).
    static func handExample() -> NetBuilder {
        var b = NetBuilder()
        b.point("S", 0, 0, .plant)
        b.point("V1", 100, 0, .valve, valve: .open)
        b.point("T1", 200, 0, .tee)
        b.point("V2", 300, 0, .valve, valve: .open)
        b.point("T2", 400, 0, .tee)
        b.point("V3", 500, 0, .valve)
        b.point("T3", 600, 0, .tee)
        b.point("X", 200, 100, .valve, valve: .inoperable)
        b.point("K1", 200, 200, .serviceConnection, connection: .init(category: .hospital, count: 1))
        b.point("K2", 400, 100, .serviceConnection, connection: .init(category: .household, count: 20))
        b.point("Z", 400, -100, .valve, valve: .closed)
        b.point("K3", 400, -200, .serviceConnection, connection: .init(category: .school, count: 5))
        b.point("K4", 600, 100, .serviceConnection, connection: .init(category: .industry, count: 3))
        b.pipe(1, "S", "V1")
        b.pipe(2, "V1", "T1")
        b.pipe(3, "T1", "V2")
        b.pipe(4, "V2", "T2")
        b.pipe(5, "T2", "V3")
        b.pipe(6, "V3", "T3")
        b.pipe(7, "T1", "X")
        b.pipe(8, "X", "K1", dn: nil)
        b.pipe(9, "T2", "K2")
        b.pipe(10, "T2", "Z")
        b.pipe(11, "Z", "K3")
        b.pipe(12, "T3", "K4")
        return b
    }

    @Test("hand example: known segments, boundaries, customers and criticality")
    func handExample() throws {
        let t = try Self.handExample().topology()
        let vs = ValveSegments(t)
        func seg(_ id: Int64) -> Int { Int(vs.segmentOfEdge[t.edge(segmentID: id)!]) }
        // Segments: {1} S–V1, {2,3,7,8} V1–V2 through the inoperable X, {4,5,9,10} V2–V3 and Z,
        // {6,12} beyond V3, {11} beyond the closed Z.
        #expect(vs.segmentCount == 5)
        let parts: [[Int64]] = [[1], [2, 3, 7, 8], [4, 5, 9, 10], [6, 12], [11]]
        for p in parts {
            #expect(Set(p.map(seg)).count == 1, "\(p)")
            #expect(vs.edges(of: seg(p[0])).count == p.count)
        }
        #expect(Set(parts.map { seg($0[0]) }).count == 5)
        #expect(vs.segmentOfNode[Int(t.pointNode[t.pointIndex(number: "V2")!])] == -1)
        let a = vs.summary(seg(2))
        #expect(a.valvesToClose == ["V1", "V2"] && a.closedValves.isEmpty && a.sourcesToShut.isEmpty)
        #expect(a.passedValves == ["X"])
        #expect(a.customers == [CustomerTally(category: .hospital, connections: 1, customers: 1)])
        #expect(abs(a.length - 400) < 1e-9)
        #expect(a.pipesWithoutSection == 1)
        #expect(abs(a.volume - 300 * Double.pi * 0.01) < 1e-9)
        let b = vs.summary(seg(4))
        #expect(b.valvesToClose == ["V2", "V3"] && b.closedValves == ["Z"] && b.customersTotal == 20)
        #expect(vs.summary(seg(1)).sourcesToShut == ["S"] && vs.summary(seg(1)).valvesToClose == ["V1"])
        #expect(vs.summary(seg(11)).closedValves == ["Z"] && vs.summary(seg(11)).customersTotal == 5)
        // Worst first by customers: 20 households, 5 schools, 3 industry, 1 hospital, none.
        #expect(vs.summariesWorstFirst().map(\.segment) == [seg(4), seg(11), seg(6), seg(2), seg(1)])

        let table = vs.criticality()
        // V2 merges {2,3,7,8} (400 m, 1 customer) with {4,5,9,10} (400 m, 20): worst case a
        // break on the hospital's side, 20 more customers and 4 more pipes.
        #expect(table.map(\.valve) == ["V2", "V3", "V1"])
        let v2 = table[0]
        #expect(v2.sides == [seg(2), seg(4)] && v2.mergedPipes == 8 && v2.extraPipes == 4 && v2.extraCustomers == 20)
        #expect(abs(v2.mergedLength - 800) < 1e-9 && abs(v2.extraLength - 400) < 1e-9)
        #expect(v2.mergedCustomers.map(\.category) == [.hospital, .household] && v2.mergedCustomersTotal == 21)
        #expect(abs(v2.lengthIncrease - 1) < 1e-9 && abs(v2.customerIncrease - 0.05) < 1e-9)
        // V3 (status unknown, taken as open): {4,5,9,10} (20) with {6,12} (3).
        let v3 = table[1]
        // Worst case a break beyond V3 (3 customers) that also takes V2–V3: 20 more, 4 more pipes;
        // it ties with V2 and sorts after it by number.
        #expect(v3.status == nil && v3.extraCustomers == 20 && v3.extraPipes == 4 && abs(v3.extraLength - 400) < 1e-9)
        #expect(v3.mergedCustomersTotal == 23 && abs(v3.lengthIncrease - 0.5) < 1e-9)
        // V1: {1} (no customers) with {2,3,7,8}: the hospital, 4 more pipes.
        let v1 = table[2]
        #expect(v1.extraCustomers == 1 && v1.extraPipes == 4 && abs(v1.extraLength - 400) < 1e-9)

        // Fast path: a break on pipe 9 isolates its segment.
        let iso = try vs.isolation(of: .edge(t.edge(segmentID: 9)!))
        #expect(iso.edges.map { t.segments[$0].id } == [4, 5, 9, 10])
        #expect(iso.valvesToClose.map { t.valve(at: $0)!.number } == ["V2", "V3"])
        #expect(iso.closedBarriers.map { t.valve(at: $0)!.number } == ["Z"])
        // A break at V2 itself: both sides, neither V2 to close.
        let atV2 = try vs.isolation(of: .node(Int(t.pointNode[t.pointIndex(number: "V2")!])))
        #expect(atV2.segments == [seg(2), seg(4)])
        #expect(atV2.valvesToClose.map { t.valve(at: $0)!.number } == ["V1", "V3"])
        #expect(throws: NetworkError.self) { try vs.isolation(of: .edge(99)) }
    }
}
