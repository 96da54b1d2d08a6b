import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// The engine keeps no `FeaturePoint` per point: a columnar table plus a hashed overlay of the
/// points edited since. Every look-up and every edit must answer as a plain dictionary of
/// points would, byte for byte.
@Suite struct ColumnarPointsTests {
    /// Points exercising every column: CJK and long numbers, composed and decomposed texts,
    /// heights, missing and present elevations and depths, valves with states, connections.
    static func varied(_ n: Int = 400, seed: UInt64 = 3) -> [FeaturePoint] {
        var rng = TestRandom(seed)
        let owners: [String?] = ["温岭市自来水有限公司", nil, "State Grid Wenling", "Caf\u{E9}", "Cafe\u{301}", ""]
        let roads: [String?] = [nil, "中华路", "R\u{E9}n", "Re\u{301}n", "东辉北路（二段）"]
        let kinds: [PointKind] = [.tee, .bend, .valve, .valveChamber, .cap, "本地井", .turningPoint]
        var out: [FeaturePoint] = []
        for i in 0..<n {
            let number: PointNumber = switch i % 5 {
            case 0: PointNumber("JS\(i)")
            case 1: PointNumber("节点-\(i)")
            case 2: PointNumber("a-very-long-point-number-past-fifteen-bytes-\(i)")
            case 3: PointNumber("N\u{E9}\(i)")
            default: PointNumber("Ne\u{301}x\(i)")
            }
            let kind = kinds[i % kinds.count]
            var p = FeaturePoint(
                number: number, layer: [LayerCode.water, .gas, .power, "XX"][i % 4], kind: kind,
                position: Point(637_000 + rng.uniform(-500, 500), 3_140_000 + rng.uniform(-500, 500),
                                i % 6 == 0 ? rng.uniform(-3, 9) : nil),
                groundElevation: i % 3 == 0 ? nil : rng.uniform(2, 6), depth: i % 4 == 0 ? nil : rng.uniform(0.2, 5),
                owner: owners[i % owners.count], road: roads[i % roads.count], status: i % 2 == 0 ? .inService : nil)
            if kind.isIsolationValve, i % 3 != 0 { p.valveStatus = [ValveStatus.open, .closed, .inoperable][i % 3] }
            if i % 7 == 3 { p.connection = ServiceConnection(category: .hospital, count: 1 + i % 4) }
            if i % 11 == 5 { p.category = .appurtenance }
            out.append(p)
        }
        return out
    }

    /// `a` and `b` equal, and their texts in the same bytes.
    static func identical(_ a: FeaturePoint?, _ b: FeaturePoint?) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        func bytes(_ p: FeaturePoint) -> [[UInt8]?] {
            [p.number.rawValue, p.layer.rawValue, p.kind.rawValue, p.owner, p.road, p.status?.rawValue].map { $0.map { Array($0.utf8) } }
        }
        return a == b && bytes(a) == bytes(b) && a.position.z == b.position.z
    }

    @Test func tableGivesEveryPointBackByteForByte() {
        let points = Self.varied()
        let columns = _Points(points)
        #expect(columns.count == points.count)
        #expect(columns.all.count == points.count)
        for (a, b) in zip(columns.all, points) { #expect(Self.identical(a, b), "\(b.number)") }
        for p in points {
            #expect(Self.identical(columns[p.number], p), "\(p.number)")
            #expect(columns.groundElevation(p.number) == p.groundElevation)
        }
        for absent in ["JS1", "", "JS0 ", "Q", "节点-0x"] { #expect(columns[PointNumber(absent)] == nil, "\(absent)") }
        // Another spelling of a number (decomposed for composed) finds the point, as a
        // `String`-keyed dictionary would; the point keeps the spelling it was written with.
        let other = PointNumber("Ne\u{301}3")
        #expect(Self.identical(columns[other], points[3]))
        var positions: [Point] = []
        columns.forEachPosition { positions.append($0) }
        #expect(Set(positions.map { [$0.x, $0.y] }) == Set(points.map { [$0.position.x, $0.position.y] }))
        // Empty table.
        let empty = _Points([])
        #expect(empty.count == 0 && empty.all.isEmpty && empty[PointNumber("JS0")] == nil)
    }

    /// Random upserts and deletes, with compactions now and then: after every step the points
    /// answer as a dictionary oracle in map order (upserted points move to the end), and a
    /// value kept from earlier steps still answers as its own oracle did (snapshots stay
    /// immutable).
    @Test(arguments: [1 as UInt64, 2, 3])
    func editsMatchADictionaryOracle(seed: UInt64) {
        var rng = TestRandom(seed)
        let universe = Self.varied(300, seed: seed)
        var columns = _Points(Array(universe.prefix(150)))
        var oracle: [(PointNumber, FeaturePoint)] = universe.prefix(150).map { ($0.number, $0) }
        func find(_ n: PointNumber) -> Int? { oracle.firstIndex { $0.0 == n } }
        var kept: (_Points, [(PointNumber, FeaturePoint)])? = nil
        func check(_ c: _Points, _ o: [(PointNumber, FeaturePoint)], _ label: String) {
            #expect(c.count == o.count, "\(label)")
            let all = c.all
            #expect(all.count == o.count, "\(label)")
            for (a, b) in zip(all, o) { #expect(Self.identical(a, b.1), "\(label) \(b.0)") }
            for p in universe {
                let want = o.first { $0.0 == p.number }?.1
                #expect(Self.identical(c[p.number], want), "\(label) \(p.number)")
                #expect(c.contains(p.number) == (want != nil))
                #expect(c.groundElevation(p.number) == want?.groundElevation)
            }
        }
        for step in 0..<400 {
            let p = universe[Int(rng.next() % UInt64(universe.count))]
            switch rng.next() % 10 {
            case 0...4:
                var q = p
                q.position = Point(q.position.x + rng.uniform(-9, 9), q.position.y, rng.chance(0.2) ? 1.5 : nil)
                q.groundElevation = rng.chance(0.5) ? rng.uniform(0, 9) : nil
                if rng.chance(0.3) { q.owner = "Owner \(rng.next() % 5)" }
                columns.upsert(q)
                if let i = find(q.number) { oracle.remove(at: i) }
                oracle.append((q.number, q))
            case 5...8:
                let deleted = columns.delete(p.number)
                #expect(deleted == (find(p.number) != nil))
                if let i = find(p.number) { oracle.remove(at: i) }
            default:
                columns = columns.compacted()
                #expect(columns.edited == 0)
            }
            if step % 37 == 0 {
                check(columns, oracle, "step \(step)")
                if let (c, o) = kept { check(c, o, "kept before step \(step)") }
                kept = (columns, oracle)
            }
        }
        check(columns, oracle, "end")
        check(columns.compacted(), oracle, "end, compacted")
    }

    /// Through the engine: point look-ups and the map's point order under random edits of a
    /// district (small `compactAt`, so the point table is rebuilt often), against the map the
    /// edits make when applied to a plain list.
    @Test(arguments: [5 as UInt64, 6])
    func enginePointsMatchTheEditedMap(seed: UInt64) throws {
        var map = randomDistrict(count: 60, seed: seed)
        let engine = try UtilityEngine(network: map, compactAt: 16)
        var script = EditScript(seed: seed)
        for step in 0..<120 {
            let (edit, refused) = script.next(map)
            do {
                try engine.apply(edit)
                #expect(!refused, "step \(step)")
                map = try referenceEdited(map, edit)
            } catch {
                #expect(refused, "step \(step): \(error)")
                continue
            }
            let numbers = map.points.map(\.number) + script.pool + ["absent"]
            for n in numbers { #expect(Self.identical(engine.point(number: n), map.point(number: n)), "step \(step) \(n)") }
            if step % 10 == 0 {
                let got = engine.network.points
                #expect(got.count == map.points.count)
                for (a, b) in zip(got, map.points) { #expect(Self.identical(a, b), "step \(step) \(b.number)") }
            }
        }
    }
}
