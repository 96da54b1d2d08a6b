import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

@Suite("Network: valve isolation on hand-built networks with known answers")
struct IsolationTests {
    /// S(plant) -1- A(valve) -2- B(tee) -3- C(valve) -4- D(10 households); B -5- E(hospital).
    static func tree(cStatus: ValveStatus? = .open) -> NetBuilder {
        var b = NetBuilder()
        b.point("S", 0, 0, .plant)
        b.point("A", 100, 0, .valve, valve: .open)
        b.point("B", 200, 0, .tee)
        b.point("C", 300, 0, .valve, valve: cStatus)
        b.point("D", 400, 0, .serviceConnection, connection: .init(category: .household, count: 10))
        b.point("E", 200, 100, .serviceConnection, connection: .init(category: .hospital, count: 1))
        b.pipe(1, "S", "A")
        b.pipe(2, "A", "B")
        b.pipe(3, "B", "C")
        b.pipe(4, "C", "D")
        b.pipe(5, "B", "E", dn: 100)
        return b
    }

    @Test("tree: the two valves around the tee, and everything beyond them loses supply")
    func tree() throws {
        let t = try Self.tree().topology()
        let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 5)!))
        #expect(plan.closeNumbers == ["A", "C"])
        #expect(plan.pipeIDs == [2, 3, 5])
        #expect(plan.closedBarriers.isEmpty && plan.passedValves.isEmpty && plan.sourcesToShut.isEmpty)
        #expect(abs(plan.isolatedLength - 300) < 1e-9)
        let volume = 200 * Double.pi * 0.01 + 100 * Double.pi * 0.0025
        #expect(abs(plan.isolatedVolume - volume) < 1e-9)
        // Hospital first; the households behind C are cut too.
        #expect(plan.cutNumbers == ["E", "D"])
        #expect(plan.customersCutOff.map(\.category) == [.hospital, .household])
        #expect(plan.customersCutOffTotal == 11)
        #expect(plan.cutOffConnections.allSatisfy { !$0.alreadyWithoutSupply })
        #expect(plan.sourcesInComponent == 1)
        // A fails: the plant itself must be shut, pipe 1 is lost too, no new customers.
        let a = try #require(plan.failures.first { $0.valve == "A" })
        #expect(a.nextRing.isEmpty && a.extraSourcesToShut == ["S"] && a.extraPipes.map(\.segmentID) == [1])
        #expect(a.extraConnections.isEmpty)
        let c = try #require(plan.failures.first { $0.valve == "C" })
        #expect(c.extraPipes.map(\.segmentID) == [4] && c.extraConnections.isEmpty)
    }

    @Test("loop: a break between two tees takes the valves on both sides of the ring")
    func loop() throws {
        var b = NetBuilder()
        b.point("S", 0, 0, .plant)
        b.point("P1", 100, 0, .tee)
        b.point("V1", 150, 0, .valve, valve: .open)
        b.point("P2", 200, 0, .tee)
        b.point("P3", 200, 100, .tee)
        b.point("V2", 150, 100, .valve, valve: .open)
        b.point("P4", 100, 100, .tee)
        b.point("K1", 300, 0, .serviceConnection, connection: .init(category: .school, count: 1))
        b.point("K2", 300, 100, .serviceConnection, connection: .init(category: .household, count: 5))
        b.point("K3", 50, 100, .serviceConnection, connection: .init(category: .industry, count: 2))
        b.pipe(1, "S", "P1")
        b.pipe(2, "P1", "V1")
        b.pipe(3, "V1", "P2")
        b.pipe(4, "P2", "P3")
        b.pipe(5, "P3", "V2")
        b.pipe(6, "V2", "P4")
        b.pipe(7, "P4", "P1")
        b.pipe(8, "P2", "K1")
        b.pipe(9, "P3", "K2")
        b.pipe(10, "P4", "K3")
        let t = try b.topology()
        let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 4)!))
        #expect(plan.closeNumbers == ["V1", "V2"])
        #expect(plan.pipeIDs == [3, 4, 5, 8, 9])
        #expect(plan.cutNumbers == ["K1", "K2"])
        // K3 stays supplied round the other side of the ring.
        #expect(!plan.cutNumbers.contains("K3"))
        // V1 fails: the ring has no other valve, so the plant is shut and all of it is lost.
        let v1 = try #require(plan.failures.first { $0.valve == "V1" })
        #expect(v1.extraSourcesToShut == ["S"])
        #expect(v1.extraPipes.map(\.segmentID) == [1, 2, 6, 7, 10])
        #expect(v1.extraConnections == ["K3"])
        #expect(v1.extraCustomers == [CustomerTally(category: .industry, connections: 1, customers: 2)])
    }

    @Test("a closed valve is a barrier needing no action; what it cuts off still counts")
    func closedBarrier() throws {
        let t = try Self.tree(cStatus: .closed).topology()
        let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 5)!))
        #expect(plan.closeNumbers == ["A"])
        #expect(plan.closedBarriers.map(\.number) == ["C"])
        #expect(plan.pipeIDs == [2, 3, 5])
        #expect(plan.cutNumbers == ["E", "D"])
        let d = try #require(plan.cutOffConnections.first { $0.number == "D" })
        #expect(d.alreadyWithoutSupply)
        #expect(plan.cutOffConnections.first { $0.number == "E" }?.alreadyWithoutSupply == false)
        #expect(plan.failures.map(\.valve) == ["A"])
    }

    @Test("an inoperable or inaccessible valve is passed: the next ring closes instead")
    func inoperableForcesNextRing() throws {
        for status in [ValveStatus.inoperable, .inaccessible] {
            let t = try Self.tree(cStatus: status).topology()
            let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 5)!))
            #expect(plan.closeNumbers == ["A"])
            #expect(plan.passedValves.map(\.number) == ["C"])
            #expect(plan.passedValves.first?.status == status)
            #expect(plan.pipeIDs == [2, 3, 4, 5])
        }
        // A valve of unknown status is taken as open and listed to check.
        let t = try Self.tree(cStatus: nil).topology()
        let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 5)!))
        #expect(plan.closeNumbers == ["A", "C"] && plan.unverifiedValves == ["C"])
    }

    @Test("a source behind a closed valve feeds nothing: customers of the shut source lose supply")
    func sourceBehindClosedValve() throws {
        var b = NetBuilder()
        b.point("S1", 0, 0, .plant)
        b.point("A", 100, 0, .valve, valve: .closed)
        b.point("B", 200, 0, .tee)
        b.point("S2", 200, -200, .pumpStation)
        b.point("C", 200, -100, .valve, valve: .open)
        b.point("D", 300, 0, .valve, valve: .open)
        b.point("F", 400, 0, .serviceConnection, connection: .init(category: .hospital, count: 1))
        b.pipe(1, "S1", "A")
        b.pipe(2, "A", "B")
        b.pipe(3, "S2", "C")
        b.pipe(4, "C", "B")
        b.pipe(5, "B", "D")
        b.pipe(6, "D", "F")
        let t = try b.topology()
        let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 3)!))
        #expect(plan.closeNumbers == ["C"])
        #expect(plan.sourcesToShut == ["S2"])
        #expect(plan.pipeIDs == [3])
        #expect(plan.sourcesInComponent == 2)
        // Nothing near the break serves F, yet F loses supply: S1 is behind closed valve A.
        #expect(plan.cutNumbers == ["F"])
        #expect(plan.cutOffConnections[0].alreadyWithoutSupply == false)
        #expect(plan.customersCutOff == [CustomerTally(category: .hospital, connections: 1, customers: 1)])
    }

    @Test("a break at a valve: the valve itself cannot hold, the ring around it closes")
    func breakAtNode() throws {
        let t = try Self.tree().topology()
        let c = t.pointNode[t.pointIndex(number: "C")!]
        let plan = try IsolationPlan(topology: t, break: .node(Int(c)))
        #expect(plan.brokenSegmentIDs == [3, 4])
        #expect(plan.closeNumbers == ["A"])
        #expect(plan.pipeIDs == [2, 3, 4, 5])
        #expect(throws: NetworkError.self) { try IsolationPlan(topology: t, break: .edge(99)) }
    }

    @Test("no source in the part: every connection there is already without supply")
    func noSource() throws {
        var b = Self.tree()
        b.points.removeAll { $0.number == "S" }
        let t = try b.topology()
        let plan = try IsolationPlan(topology: t, break: .edge(t.edge(segmentID: 5)!))
        #expect(plan.sourcesInComponent == 0)
        #expect(plan.cutNumbers == ["E", "D"])
        #expect(plan.cutOffConnections.allSatisfy { $0.alreadyWithoutSupply })
    }
}
