import SubterraGeometry
import Testing

@testable import BenchCore

@Suite struct DataFamilyTests {
    /// Exact coordinates of `s` as bit patterns (so -0.0 and NaN would not compare equal by accident).
    func bits(_ s: SegmentSet) -> [UInt64] { s.coordinates.map(\.bitPattern) }

    func length(_ s: SegmentSet, _ i: Int) -> Double {
        let g = s.segment(i)
        return ((g.x1 - g.x0) * (g.x1 - g.x0) + (g.y1 - g.y0) * (g.y1 - g.y0)).squareRoot()
    }

    @Test(arguments: [DataFamily.streets, .uniform, .clustered, .vermont])
    func familiesAreDeterministicSizedAndFinite(_ family: DataFamily) throws {
        for count in [1, 999, 20_000] {
            let a = try SegmentSet.family(family, count: count, seed: 11)
            let b = try SegmentSet.family(family, count: count, seed: 11)
            #expect(a.count == count, "\(family) at \(count)")
            #expect(a.coordinates.count == 4 * count)
            #expect(bits(a) == bits(b), "\(family) is not deterministic")
            #expect(!a.coordinates.contains { !$0.isFinite })
        }
    }

    @Test(arguments: [DataFamily.uniform, .clustered])
    func syntheticFamiliesHaveStreetLikeLengthsAndDependOnTheSeed(_ family: DataFamily) throws {
        let a = try SegmentSet.family(family, count: 5000, seed: 1)
        let b = try SegmentSet.family(family, count: 5000, seed: 2)
        #expect(bits(a) != bits(b))
        for i in 0..<a.count {
            let l = length(a, i)
            #expect(l >= 2 - 1e-9 && l <= 60 + 1e-9, "segment \(i) is \(l) m long")
        }
    }

    @Test func uniformFillsItsSquareAndClusteredIsDenserInCores() throws {
        let n = 40_000
        let side = SegmentSet.syntheticSide(n)
        let u = SegmentSet.uniform(count: n, seed: 3)
        let o = SegmentSet.syntheticOrigin
        // Centres of the uniform family lie in the square; each quarter holds about a quarter.
        var quarter = 0
        for i in 0..<n {
            let s = u.segment(i)
            let cx = (s.x0 + s.x1) / 2 - o.x, cy = (s.y0 + s.y1) / 2 - o.y
            #expect(cx >= 0 && cx <= side && cy >= 0 && cy <= side)
            if cx < side / 2 && cy < side / 2 { quarter += 1 }
        }
        #expect(abs(Double(quarter) / Double(n) - 0.25) < 0.02)
        // Clustered: the fullest 1% of a 100x100 grid over the square holds over 10% of the
        // segments (uniform data puts ~1% there).
        func topShare(_ s: SegmentSet) -> Double {
            var cells = [Int](repeating: 0, count: 100 * 100)
            for i in 0..<s.count {
                let g = s.segment(i)
                let cx = Int(((g.x0 + g.x1) / 2 - o.x) / side * 100), cy = Int(((g.y0 + g.y1) / 2 - o.y) / side * 100)
                if (0..<100).contains(cx) && (0..<100).contains(cy) { cells[cy * 100 + cx] += 1 }
            }
            return Double(cells.sorted(by: >).prefix(100).reduce(0, +)) / Double(s.count)
        }
        #expect(topShare(u) < 0.03)
        #expect(topShare(SegmentSet.clustered(count: n, seed: 3)) > 0.1)
    }

    @Test func vermontIsProjectedToUTM18NWithoutZeroLengthSegments() throws {
        let net = try VermontNetwork.load(directory: SegmentSet.vermontDirectory())
        #expect(net.files.count >= 3)
        #expect(net.segments.count > 1000)
        // Barre, Montpelier and Colchester lie in UTM 18N at eastings 640–700 km, northings
        // 4.89–4.95e6 m.
        #expect(net.extent.minX > 600_000 && net.extent.maxX < 720_000)
        #expect(net.extent.minY > 4_850_000 && net.extent.maxY < 5_000_000)
        for i in 0..<net.segments.count { #expect(length(net.segments, i) > 0) }
    }

    @Test func vermontTilesAreShiftedCopiesThatNeverOverlap() throws {
        let net = try VermontNetwork.load(directory: SegmentSet.vermontDirectory())
        let m = net.segments.count, count = 5 * m + m / 2
        let tiled = SegmentSet.vermont(count: count, network: net)
        #expect(tiled.count == count)
        var boxes = [Envelope]()
        for t in 0..<6 {
            var e = Envelope.empty
            let first = tiled.segment(t * m), base = net.segments.segment(0)
            let dx = first.x0 - base.x0, dy = first.y0 - base.y0
            for i in (t * m)..<min((t + 1) * m, count) {
                let s = tiled.segment(i), b = net.segments.segment(i - t * m)
                // Every segment of tile t is the base segment shifted by the tile's offset.
                #expect(abs(s.x0 - b.x0 - dx) < 1e-6 && abs(s.y1 - b.y1 - dy) < 1e-6)
                e.expand(toInclude: Point(s.x0, s.y0))
                e.expand(toInclude: Point(s.x1, s.y1))
            }
            if t > 0 { #expect(dx >= net.extent.width + SegmentSet.vermontTileGap - 1e-6 || dy >= net.extent.height) }
            boxes.append(e)
        }
        for a in 0..<boxes.count {
            for b in (a + 1)..<boxes.count { #expect(!boxes[a].intersects(boxes[b]), "tiles \(a) and \(b) overlap") }
        }
    }

    @Test func missingVermontFilesFailNamingTheDirectory() {
        do {
            _ = try SegmentSet.family(.vermont, count: 10, seed: 1, vermontDirectory: "/nonexistent/vermont")
            Issue.record("no error for a missing Vermont directory")
        } catch {
            #expect(error.description.contains("/nonexistent/vermont"))
            #expect(error.description.contains("SUBTERRA_VERMONT_SEWER"))
        }
    }

    @Test func familyListsParse() throws {
        #expect(try DataFamily.parseList("all").get() == DataFamily.allCases)
        #expect(try DataFamily.parseList("vermont,streets,vermont").get() == [.vermont, .streets])
        #expect(throws: DataFamilyError.self) { try DataFamily.parseList("streets,rivers").get() }
    }

    /// Boost (packed and inserted) and GEOS answer every workload like brute force on each family.
    @Test(arguments: [DataFamily.streets, .uniform, .clustered, .vermont])
    func gatePassesOnEveryFamily(_ family: DataFamily) throws {
        let data = try SegmentSet.family(family, count: 4000, seed: 5)
        let queries = QuerySet.make(count: 60, around: data, seed: 5)
        let peers: [any IndexPeer] = [
            BruteForcePeer(data), CIndexPeer.boost(data, packed: true), CIndexPeer.boost(data, packed: false),
            CIndexPeer.geos(data),
        ]
        try Gate.check(peers: peers, data: data, queries: queries, limit: 60, size: data.count)
    }

    @Test func resultsNameTheirFamilyInKeysAndTables() throws {
        var r = WorkloadResult(workload: "window", size: 1_000_000, queries: 10, peers: [])
        #expect(r.ratioKey == "streets/window_1e6")
        r.family = "vermont"
        #expect(r.ratioKey == "vermont/window_1e6")
        #expect(r.seriesLabel == "vermont/window")
        let dig = WorkloadResult(workload: "digcheck", size: 1_000_000, queries: 10, peers: [])
        #expect(dig.ratioKey == "digcheck_1e6")
    }
}
