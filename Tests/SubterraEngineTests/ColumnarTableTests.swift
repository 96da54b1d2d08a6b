import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// The row table keeps no records: every row is rebuilt from its columns, and must come back
/// equal to the record written, whatever it holds.
@Suite struct ColumnarTableTests {
    /// Records exercising every column: multi-part parts (also a part past 32 bits), text ids,
    /// source files, nil and present optionals, NaN row depths, elevations to the bottom,
    /// enclosures, CJK owners and roads, 3-D vertices, duplicate and unique texts.
    static func varied() -> [_Row] {
        var rng = TestRandom(14)
        var rows: [_Row] = []
        // "Café" twice: composed and decomposed (equal as Strings, other bytes).
        let owners: [String?] = ["温岭市自来水有限公司", "State Grid Wenling", nil, "国网温岭供电公司", "", "Caf\u{E9}", "Cafe\u{301}"]
        let roads: [String?] = ["中华路", "Wenchang Road", nil, "东辉北路（二段）", "R\u{E9}n", "Re\u{301}n"]
        let files: [String?] = [nil, "deliveries/KL1031/kabels.geojson", "交付/燃气.shp"]
        let kinds: [FeatureKind] = [.utilityLine, .utilityLine, .cableBed, .sleeve, .casing]
        for i in 0..<300 {
            var pts: [Point] = []
            let n = 2 + Int(rng.next() % 4)
            for v in 0..<n {
                let z: Double? = i % 7 == 0 ? rng.uniform(-2, 5) : nil
                pts.append(Point(637_000 + Double(i) + Double(v) * rng.uniform(0.5, 9), 3_140_000 + rng.uniform(-50, 50), z))
            }
            var s = PipeSegment(
                id: Int64(i) * 3 + 1, layer: [LayerCode.water, .gas, .power, .telecom][i % 4],
                startPoint: PointNumber("P\(i)"), endPoint: PointNumber(i % 5 == 0 ? "P\(i + 1)" : "节点\(i)"),
                geometry: try! LineString(pts))
            if i % 3 != 0 { s.startDepth = rng.uniform(0.3, 4) }
            if i % 4 != 0 { s.endDepth = rng.uniform(0.3, 4) }
            if i % 5 == 1 {
                s.startElevation = rng.uniform(-3, 8)
                s.endElevation = rng.uniform(-3, 8)
                s.elevationReference = i % 2 == 0 ? .top : .bottom
            }
            if i % 6 != 2 {
                s.section = i % 3 == 0
                    ? .rectangular(widthMM: [300, 800, 1500][Int(rng.next() % 3)], heightMM: 400) : .circular(diameterMM: 200)
            }
            if i % 8 == 3 { (s.ductHoles, s.ductHolesOccupied, s.cableCount) = (16, 9, 4) }
            if i % 4 == 1 { s.gasPressureMPa = [0.005, 0.4, 1.6][i % 3] }
            if i % 4 == 2 { s.voltageKV = 10 }
            s.material = i % 5 == 0 ? nil : Material(["PE", "DI", "铸铁"][i % 3])
            s.burial = i % 2 == 0 ? .directBuried : nil
            s.owner = owners[i % owners.count]
            s.road = roads[i % roads.count]
            s.layingDate = i % 3 == 0 ? nil : "20\(10 + i % 15)-0\(1 + i % 9)"
            s.status = i % 4 == 0 ? .inService : nil
            if i % 3 == 1 {
                s.accuracy = PositionalAccuracy(horizontalM: [0.05, 0.3, 1][Int(rng.next() % 3)], verticalM: i % 2 == 0 ? 0.1 : nil,
                                                qualityLevel: i % 6 == 1 ? .a : nil)
                s.accuracyAssumed = i % 9 == 1
            }
            s.sourceID = i % 2 == 0 ? "nl.imkl-KL1031.EKBL_\(i)" : nil
            s.sourceFile = files[i % files.count]
            if i % 10 < 3 {
                s.feature = Int64(i / 10) * 30 + 1
                s.part = i % 10 + 1
            }
            if i == 13 { s.part = Int(Int32.max) + 7 }
            if i % 11 == 4 { s.nominalDepth = 0.8 }
            s.featureKind = kinds[i % kinds.count]
            rows.append(_Row(segment: s, depth0: i % 9 == 0 ? .nan : rng.uniform(0, 3), depth1: rng.uniform(0, 3)))
        }
        return rows
    }

    static func expectSame(_ t: _Table, _ rows: some Collection<_Row>, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(t.count == rows.count, sourceLocation: sourceLocation)
        for (l, row) in rows.enumerated() {
            let back = t.row(l)
            #expect(back.segment == row.segment, "row \(l)", sourceLocation: sourceLocation)
            // Byte for byte, not only up to Unicode equivalence.
            for (a, b) in [(back.segment.owner, row.segment.owner), (back.segment.road, row.segment.road),
                           (back.segment.material?.rawValue, row.segment.material?.rawValue)] {
                #expect(a.map { Array($0.utf8) } == b.map { Array($0.utf8) }, "row \(l)", sourceLocation: sourceLocation)
            }
            #expect(back.depth0.bitPattern == row.depth0.bitPattern, "row \(l) depth0", sourceLocation: sourceLocation)
            #expect(back.depth1.bitPattern == row.depth1.bitPattern, "row \(l) depth1", sourceLocation: sourceLocation)
            // The columns the hot paths read agree with the record.
            let s = row.segment
            #expect(t.ids[l] == s.id && t.feature[l] == s.featureID && t.featureOf(l) == s.feature, sourceLocation: sourceLocation)
            #expect(t.profile(l) == PipeProfile(s), sourceLocation: sourceLocation)
            #expect(t.width(l) == (s.outerWidthM ?? 0) && t.accuracy(l) == (s.accuracy?.horizontalM ?? 0), sourceLocation: sourceLocation)
            #expect(t.statedAccuracy(l) == s.accuracy?.horizontalM && t.nominalDepthOf(l) == s.nominalDepth, sourceLocation: sourceLocation)
            #expect(Array(t.verticesOf(l)) == s.geometry.points, sourceLocation: sourceLocation)
            #expect(t.sourceIDOf(l) == s.sourceID && t.kindOf(l).owner == s.owner, sourceLocation: sourceLocation)
            let top = t.topElevations(l)
            #expect(top?.0 == s.topElevation(atParameter: 0) && top?.1 == s.topElevation(atParameter: 1), sourceLocation: sourceLocation)
        }
        #expect(t.multiPart == rows.contains { $0.segment.feature != nil }, sourceLocation: sourceLocation)
        #expect(t.enclosures == rows.contains { $0.segment.featureKind.isEnclosure }, sourceLocation: sourceLocation)
    }

    @Test func rowsComeBackEqualFromTheColumns() {
        let rows = Self.varied()
        let t = _Table(rows: rows)
        Self.expectSame(t, rows)
        // Few distinct attribute combinations and texts are kept once each.
        #expect(t.pointNumbers.count < 2 * rows.count)
        // Rows differing only in ids, geometry and point numbers share one combination.
        let alike = rows.prefix(50).enumerated().map { i, r in
            var s = rows[0].segment
            (s.id, s.geometry, s.startPoint) = (r.segment.id, r.segment.geometry, PointNumber("X\(i)"))
            return _Row(segment: s, depth0: r.depth0, depth1: r.depth1)
        }
        let one = _Table(rows: alike)
        Self.expectSame(one, alike)
        #expect(one.kinds.count == 1)
        #expect(t.roads.count == 5)
    }

    @Test func concatenatedTablesKeepEveryRow() {
        let rows = Self.varied()
        let cuts = [0, 1, 64, 65, 200, rows.count]
        let tables = zip(cuts, cuts.dropFirst()).map { _Table(rows: Array(rows[$0..<$1])) }
        let joined = _Table(concatenating: tables)
        Self.expectSame(joined, rows)
        // And again, joined with tables whose dictionaries differ.
        let twice = _Table(concatenating: [joined, _Table(rows: Array(rows.reversed()))])
        Self.expectSame(twice, rows + rows.reversed())
        #expect(twice.roads.count == 5)
    }

    @Test func emptyTable() {
        let t = _Table(concatenating: [_Table(rows: []), _Table(rows: [])])
        #expect(t.count == 0 && !t.multiPart && !t.enclosures)
    }

    /// The id → row map agrees with a dictionary under inserts, moves and deletes, inside and
    /// outside its dense range, for dense and sparse ids, and a copy keeps its state.
    @Test(arguments: [(Int64(1), Int64(1)), (Int64(-500), Int64(1)), (Int64(7), Int64(1_000_003))])
    func rowMapMatchesADictionary(first: Int64, step: Int64) {
        var rng = TestRandom(UInt64(bitPattern: first &* 31 &+ step))
        let ids = (0..<3000).map { first + Int64($0) * step }
        var map = _RowMap(expectedIDs: ids)
        var oracle: [Int64: Int] = [:]
        for (r, id) in ids.enumerated() where r % 5 != 3 { map[id] = r; oracle[id] = r }
        var copies: [(_RowMap, [Int64: Int])] = []
        for step in 0..<6000 {
            let pick = Int(rng.next() % 4)
            let id: Int64 = pick == 0 ? Int64.max - Int64(rng.next() % 3) : pick == 1 ? first - 1 - Int64(rng.next() % 50)
                : ids[Int(rng.next() % UInt64(ids.count))]
            let value: Int? = rng.chance(0.3) ? nil : rng.chance(0.01) ? Int(UInt32.max) + 5 : Int(rng.next() % 100_000)
            map[id] = value
            oracle[id] = value
            if step % 1000 == 0 { copies.append((map, oracle)) }
        }
        copies.append((map, oracle))
        for (m, o) in copies {
            #expect(m.count == o.count)
            for id in ids + Array(o.keys) + [Int64.min, first - 1] { #expect(m[id] == o[id], "id \(id)") }
        }
    }
}
