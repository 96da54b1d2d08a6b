import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

/// The brute-force oracle: nodes by comparing every pair of ends (O(n²)), points attached by
/// scanning every end, adjacency in dictionaries, and the two searches written plainly over
/// sets. Answers are compared by segment ids and point numbers, never by node numbers.
struct NaiveNetwork {
    let segments: [PipeSegment]
    let points: [FeaturePoint]
    /// Node (cluster representative end) of each end 2e / 2e + 1.
    var endNode: [Int] = []
    /// Node of each point, nil when unattached.
    var pointNode: [Int?] = []
    var adjacency: [Int: [(edge: Int, to: Int)]] = [:]

    init(segments: [PipeSegment], points: [FeaturePoint], tolerance: Double) {
        self.segments = segments
        self.points = points
        var ends: [Point] = []
        for s in segments { ends += [s.start, s.end] }
        var label = Array(ends.indices)
        // Relabel until stable: every pair within the tolerance ends with one label (the smallest).
        var changed = true
        while changed {
            changed = false
            for i in ends.indices {
                for j in ends.indices where i != j {
                    let dx = ends[i].x - ends[j].x, dy = ends[i].y - ends[j].y
                    if dx * dx + dy * dy <= tolerance * tolerance, label[j] > label[i] {
                        label[j] = label[i]
                        changed = true
                    }
                }
            }
        }
        endNode = label
        for p in points {
            var best: (Int, Double)?
            for (j, e) in ends.enumerated() {
                let dx = e.x - p.position.x, dy = e.y - p.position.y
                let d2 = dx * dx + dy * dy
                if d2 <= tolerance * tolerance, best == nil || d2 < best!.1 { best = (j, d2) }
            }
            pointNode.append(best.map { label[$0.0] })
        }
        for e in segments.indices {
            adjacency[label[2 * e], default: []].append((e, label[2 * e + 1]))
            adjacency[label[2 * e + 1], default: []].append((e, label[2 * e]))
        }
    }

    func pointsAt(_ v: Int) -> [FeaturePoint] { points.indices.filter { pointNode[$0] == v }.map { points[$0] } }
    func isSource(_ v: Int) -> Bool { pointsAt(v).contains { $0.kind.isSource } }
    func valve(_ v: Int) -> FeaturePoint? { pointsAt(v).first { $0.kind.isIsolationValve } }

    struct Answer: Equatable {
        var close: Set<String> = [], barriers: Set<String> = [], passed: Set<String> = [], sources: Set<String> = []
        var pipes: Set<Int64> = []
        var cut: Set<String> = []
        var already: Set<String> = []
    }

    /// Isolation of edge `e` with the valve at node `failed` taken as inoperable.
    func isolate(_ broken: Int, failed: Int? = nil) -> (Answer, Set<Int>, Set<Int>, Set<Int>) {
        var a = Answer()
        var isolated = Set<Int>([broken])
        var seen = Set<Int>()
        var closeNodes = Set<Int>(), sourceNodes = Set<Int>()
        var frontier: [Int] = []
        func arrive(_ v: Int) {
            guard seen.insert(v).inserted else { return }
            if isSource(v) {
                sourceNodes.insert(v)
                return
            }
            if let valve = valve(v) {
                switch v == failed ? .inoperable : (valve.valveStatus ?? .open) {
                case .open: closeNodes.insert(v); a.close.insert(valve.number.rawValue); return
                case .closed: a.barriers.insert(valve.number.rawValue); return
                default: a.passed.insert(valve.number.rawValue)
                }
            }
            frontier.append(v)
        }
        arrive(endNode[2 * broken])
        arrive(endNode[2 * broken + 1])
        while let v = frontier.popLast() {
            for (e, w) in adjacency[v] ?? [] where !isolated.contains(e) {
                isolated.insert(e)
                arrive(w)
            }
        }
        a.pipes = Set(isolated.map { segments[$0].id })
        for v in sourceNodes { for p in pointsAt(v) where p.kind.isSource { a.sources.insert(p.number.rawValue) } }
        return (a, isolated, closeNodes, sourceNodes)
    }

    /// Nodes reachable from the sources of `component` (a set of nodes).
    func supplied(component: Set<Int>, isolated: Set<Int>, shut: Set<Int>, shutSources: Set<Int>) -> Set<Int> {
        var reached = Set<Int>()
        var stack: [Int] = []
        for v in component where isSource(v) && !shutSources.contains(v) {
            reached.insert(v)
            stack.append(v)
        }
        while let v = stack.popLast() {
            for (e, w) in adjacency[v] ?? [] where !isolated.contains(e) && !reached.contains(w) {
                if shut.contains(w) || valve(w)?.valveStatus == .closed, !isSource(w) { continue }
                reached.insert(w)
                stack.append(w)
            }
        }
        return reached
    }

    func component(of v: Int) -> Set<Int> {
        var seen: Set<Int> = [v]
        var stack = [v]
        while let x = stack.popLast() {
            for (_, w) in adjacency[x] ?? [] where seen.insert(w).inserted { stack.append(w) }
        }
        return seen
    }

    func answer(_ broken: Int, failed: Int? = nil) -> Answer {
        var (a, isolated, close, sources) = isolate(broken, failed: failed)
        let comp = component(of: endNode[2 * broken])
        let before = supplied(component: comp, isolated: [], shut: [], shutSources: [])
        let after = supplied(component: comp, isolated: isolated, shut: close, shutSources: sources)
        for (i, p) in points.enumerated() {
            guard p.connection != nil, let v = pointNode[i], comp.contains(v), !after.contains(v) else { continue }
            a.cut.insert(p.number.rawValue)
            if !before.contains(v) { a.already.insert(p.number.rawValue) }
        }
        return a
    }
}

@Suite("Network: isolation equals a brute-force search over a naively snapped network")
struct IsolationOracleTests {
    /// A random network of `sites` places: a spanning tree plus extra pipes (loops), ends jittered
    /// up to 0.85 × tolerance from their place (so some snap together and some do not), points at
    /// places: valves of every status, connections, sources.
    static func randomNetwork(seed: UInt64, sites: Int, tolerance: Double) -> NetBuilder {
        var rng = SplitMix(seed: seed)
        var b = NetBuilder()
        var place: [Point] = []
        for _ in 0..<sites { place.append(Point(Double.random(in: 0...400, using: &rng), Double.random(in: 0...400, using: &rng))) }
        let j = tolerance * 0.6
        func jitter(_ p: Point) -> Point {
            Point(p.x + Double.random(in: -j...j, using: &rng), p.y + Double.random(in: -j...j, using: &rng))
        }
        var pairs: [(Int, Int)] = []
        for i in 1..<sites { pairs.append((Int.random(in: 0..<i, using: &rng), i)) }
        for _ in 0..<(sites / 4) {
            let a = Int.random(in: 0..<sites, using: &rng), c = Int.random(in: 0..<sites, using: &rng)
            if a != c { pairs.append((a, c)) }
        }
        for (k, (a, c)) in pairs.enumerated() {
            let pa = jitter(place[a]), pc = jitter(place[c])
            b.segments.append(PipeSegment(
                id: Int64(k + 1), layer: .water, startPoint: PointNumber("n\(a)"), endPoint: PointNumber("n\(c)"),
                geometry: try! LineString([pa, pc]), section: .circular(diameterMM: 150)))
        }
        let statuses: [ValveStatus?] = [.open, .open, .open, .closed, .inoperable, .inaccessible, nil]
        let categories = CustomerCategory.allCases
        for (i, p) in place.enumerated() {
            let q = jitter(p)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<4: b.point("v\(i)", q.x, q.y, .valve, valve: statuses.randomElement(using: &rng)!)
            case 4..<7:
                b.point("c\(i)", q.x, q.y, .serviceConnection,
                        connection: .init(category: categories.randomElement(using: &rng)!, count: Int.random(in: 1...20, using: &rng)))
            case 7: b.point("p\(i)", q.x, q.y, [PointKind.plant, .pumpStation, .regulatorStation].randomElement(using: &rng)!)
            case 8: b.point("t\(i)", q.x, q.y, .tee)
            default: break
            }
        }
        return b
    }

    @Test("the random networks exercise every case the oracle compares")
    func coverage() throws {
        var seen: Set<String> = []
        for seed in 0..<40 {
            let tolerance = [0.0, 0.05, 0.5, 2.0][seed % 4]
            let b = Self.randomNetwork(seed: UInt64(seed) &* 7919 &+ 17, sites: 12 + seed % 30, tolerance: tolerance)
            let t = try b.topology(tolerance: tolerance)
            if t.nodeCount < 2 * t.edgeCount { seen.insert("snapped ends") }
            if t.componentCount > 1 { seen.insert("several components") }
            for e in 0..<t.edgeCount {
                let p = try IsolationPlan(topology: t, break: .edge(e))
                if !p.valvesToClose.isEmpty { seen.insert("close") }
                if !p.closedBarriers.isEmpty { seen.insert("barrier") }
                if !p.passedValves.isEmpty { seen.insert("passed") }
                if !p.sourcesToShut.isEmpty { seen.insert("source") }
                if p.cutOffConnections.contains(where: \.alreadyWithoutSupply) { seen.insert("already") }
                if p.cutOffConnections.contains(where: { !$0.alreadyWithoutSupply }) { seen.insert("newly cut") }
                if p.failures.contains(where: { !$0.nextRing.isEmpty }) { seen.insert("next ring") }
                if p.failures.contains(where: { !$0.extraConnections.isEmpty }) { seen.insert("extra customers") }
            }
        }
        let all: Set<String> = [
            "snapped ends", "several components", "close", "barrier", "passed", "source", "already", "newly cut",
            "next ring", "extra customers",
        ]
        #expect(seen == all, "missing: \(all.subtracting(seen))")
    }

    @Test("random networks: valves, pipes, sources, cut-off customers and failure rings agree", arguments: 0..<40)
    func oracle(seed: Int) throws {
        let tolerance = [0.0, 0.05, 0.5, 2.0][seed % 4]
        let b = Self.randomNetwork(seed: UInt64(seed) &* 7919 &+ 17, sites: 12 + seed % 30, tolerance: tolerance)
        let t = try b.topology(tolerance: tolerance)
        let naive = NaiveNetwork(segments: t.segments, points: t.points, tolerance: tolerance)
        // Same partition of ends into nodes.
        for e in 0..<t.edgeCount {
            for f in 0..<t.edgeCount {
                #expect((t.edgeFrom[e] == t.edgeFrom[f]) == (naive.endNode[2 * e] == naive.endNode[2 * f]))
                #expect((t.edgeFrom[e] == t.edgeTo[f]) == (naive.endNode[2 * e] == naive.endNode[2 * f + 1]))
            }
        }
        for e in 0..<t.edgeCount {
            let plan = try IsolationPlan(topology: t, break: .edge(e))
            let want = naive.answer(e)
            var got = NaiveNetwork.Answer()
            got.close = Set(plan.valvesToClose.map(\.number.rawValue))
            got.barriers = Set(plan.closedBarriers.map(\.number.rawValue))
            got.passed = Set(plan.passedValves.map(\.number.rawValue))
            got.sources = Set(plan.sourcesToShut.map(\.rawValue))
            got.pipes = Set(plan.pipeIDs)
            got.cut = Set(plan.cutNumbers)
            got.already = Set(plan.cutOffConnections.filter(\.alreadyWithoutSupply).map(\.number.rawValue))
            #expect(got == want, "seed \(seed), break on segment \(t.segments[e].id)")
            // Each failure scenario: the plan with that valve passable, minus the base plan.
            for f in plan.failures {
                let v = t.pointNode[t.pointIndex(number: f.valve)!]
                let alt = naive.answer(e, failed: naive.pointNode[t.pointIndex(number: f.valve)!])
                #expect(v >= 0)
                #expect(Set(f.nextRing.map(\.number.rawValue)) == alt.close.subtracting(want.close))
                #expect(Set(f.extraPipes.map(\.segmentID)) == alt.pipes.subtracting(want.pipes))
                #expect(Set(f.extraConnections.map(\.rawValue)) == alt.cut.subtracting(want.cut))
                #expect(Set(f.extraSourcesToShut.map(\.rawValue)) == alt.sources.subtracting(want.sources))
            }
        }
    }
}
