import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

@testable import SubterraEngine

/// The persisted snapshot (`MappedMap`) against its oracle, an engine built from the whole store:
/// every query and check answers identically; a stale, truncated, bit-flipped or foreign file is
/// detected and rebuilt, never used.
@Suite struct MappedMapTests {
    /// A district with everything the answers depend on beyond one pipe: multi-part features,
    /// points whose ground heights give depths, enclosures carrying lines beyond a dig's reach,
    /// operator precaution zones, owners and sub-types for filters.
    static func richDistrict() throws -> UtilityNetwork {
        let base = randomDistrict(count: 500, seed: 1414, size: 300)
        var segs: [PipeSegment] = []
        var pts: [FeaturePoint] = []
        for (i, var s) in base.segments.enumerated() {
            // Pairs of consecutive pipes form two-part features.
            if i % 10 < 2 { s.feature = Int64(100_000 + i / 10); s.part = i % 10 + 1 }
            if i % 7 == 0 { s.subtype = SubtypeCode("TR") }
            // Source files read back from the store (one in three from a store without one).
            s.sourceFile = i % 3 == 0 ? nil : "deliveries/d\(i % 3).geojson"
            // Depths from the points' ground heights instead of the record.
            if i % 5 == 0 {
                s.startDepth = nil
                s.endDepth = nil
                s.startElevation = 1.5
                s.endElevation = 1.2
                let g = s.geometry.points
                pts.append(FeaturePoint(
                    number: s.startPoint, layer: s.layer, category: .feature, kind: PointKind("JC"), position: g[0],
                    groundElevation: 3.5))
                pts.append(FeaturePoint(
                    number: s.endPoint, layer: s.layer, category: .feature, kind: PointKind("JC"), position: g[g.count - 1],
                    groundElevation: 3.0))
            }
            segs.append(s)
        }
        // Cable beds 200 m long carried by two power lines, the far one beyond any dig reach
        // from the bed's west end.
        var next: Int64 = 10_000
        for k in 0..<6 {
            let y = origin.y - 150 + Double(k) * 60
            let west = Point(origin.x - 100, y), mid = Point(origin.x, y), east = Point(origin.x + 100, y)
            func line(_ a: Point, _ b: Point, kind: FeatureKind, layer: LayerCode = .power) throws -> PipeSegment {
                next += 1
                var s = PipeSegment(
                    id: next, layer: layer, startPoint: PointNumber("B\(next)a"), endPoint: PointNumber("B\(next)b"),
                    geometry: try LineString([a, b]), startDepth: 0.8, endDepth: 0.9, owner: "State Grid Wenling")
                s.voltageKV = 10
                s.featureKind = kind
                return s
            }
            segs.append(try line(west, east, kind: .cableBed))
            segs.append(try line(west, mid, kind: .utilityLine))
            segs.append(try line(mid, east, kind: .utilityLine))
        }
        var areas: [OperatorArea] = []
        for k in 0..<8 {
            let c = Point(origin.x - 120 + Double(k) * 35, origin.y + Double(k % 3) * 40 - 40)
            areas.append(try OperatorArea(
                id: Int64(k + 1), kind: k % 2 == 0 ? .precaution : .interest, owner: k % 2 == 0 ? "Wenling Gas" : "China Telecom",
                layers: k % 2 == 0 ? [.gas] : [], geometry: .polygon(rect(c.x, c.y, c.x + 20, c.y + 15))))
        }
        return try UtilityNetwork(crs: "EPSG:4549", segments: segs, points: pts, areas: areas)
    }

    static func store(_ network: UtilityNetwork, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent("map.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        try store.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points, upsertAreas: network.areas))
        return path
    }

    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mapped-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func everyQueryAndCheckAnswersAsTheWholeEngine() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.store(try Self.richDistrict(), in: dir)
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let engine = try UtilityEngine(store: store)
        let first = try MappedMap.open(store: store)
        guard case .rebuilt(_, nil) = first.origin else { Issue.record("first open: \(first.origin)"); return }
        let map = try MappedMap.open(store: store)
        #expect(map.origin == .file)
        #expect(map.summary == MapSummary(engine.network))
        #expect(map.codes == engine.codes)

        let filters: [PipeFilter] = [
            .all, PipeFilter(layers: [.gas, .power]), PipeFilter(owners: ["Wenling Water", ""]),
            PipeFilter(subtypes: ["TR"]), PipeFilter(layers: [.water]) { ($0.accuracy?.horizontalM ?? 0) < 0.3 },
        ]
        var rng = TestRandom(77)
        var compared = 0
        for (i, g) in randomQueries(90, seed: 78, spread: 170).enumerated() {
            let f = filters[i % filters.count]
            for k in [1, 4] {
                let a = try map.nearest(to: g, k: k, perLayer: i % 4 == 0, filter: f)
                let b = try engine.nearest(to: g, k: k, perLayer: i % 4 == 0, filter: f)
                #expect(a == b, "nearest k=\(k) query \(i)")
            }
            let d = rng.uniform(0, 12)
            #expect(try map.within(distance: d, of: g, filter: f) == engine.within(distance: d, of: g, filter: f), "within \(i)")
            #expect(try map.intersecting(g, filter: f, allParts: true) == engine.intersecting(g, filter: f, allParts: true))
            compared += 3
        }
        for i in 0..<60 {
            let site = i % 6 == 0
                ? Geometry.polygon(rect(origin.x - 104, origin.y - 152 + Double(i % 5) * 60, origin.x - 96, origin.y - 148 + Double(i % 5) * 60))
                : randomSite(&rng, spread: 150, radius: 2...25)
            let planned: PipeProfile? = i % 5 == 1 ? PipeProfile(layer: .water, diameterMM: 300) : nil
            let request = DigRequest(area: site, plannedDepth: rng.uniform(0.5, 3), workType: i % 3 == 0 ? "trench" : nil, plannedUtility: planned)
            let f = i % 4 == 0 ? filters[1] : .all
            let (x, y) = (try map.digCheck(request, filter: f), try engine.digCheck(request, filter: f))
            #expect(x == y, "dig \(i)")
            compared += 1
        }
        for (i, g) in randomQueries(60, seed: 79, spread: 150).enumerated() {
            guard case .lineString(let line) = g else { continue }
            #expect(try map.crossSection(along: line) == engine.crossSection(along: line), "section \(i)")
            let planned = PlannedPipe(profile: PipeProfile(layer: .gas, pressureClass: .mediumA, diameterMM: 200), route: line, depthAtStart: 1.2, depthAtEnd: 1.6)
            #expect(try map.routeCheck(planned) == engine.routeCheck(planned), "route \(i)")
            compared += 2
        }
        #expect(compared > 350)
        // The line at the west end carries the cable bed, which is grouped with it.
        let west = Geometry.polygon(rect(origin.x - 104, origin.y - 152, origin.x - 96, origin.y - 148))
        let report = try map.digCheck(DigRequest(area: west, plannedDepth: 2))
        #expect(report == (try engine.digCheck(DigRequest(area: west, plannedDepth: 2))))
        #expect(report.conflicts.contains { $0.enclosures.contains { $0.kind == .cableBed } })
    }

    @Test func queriesInAnotherCRSAndErrorsMatchTheEngine() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.open(at: try Self.store(try Self.richDistrict(), in: dir), readOnly: true)
        let engine = try UtilityEngine(store: store)
        let map = try MappedMap.open(store: store)
        let wgs = try Transformer(from: "EPSG:4549", to: "OGC:CRS84").transform(Point(origin.x + 10, origin.y - 20))
        #expect(try map.nearest(to: .point(wgs), crs: "OGC:CRS84", k: 3) == engine.nearest(to: .point(wgs), crs: "OGC:CRS84", k: 3))
        func message(_ body: () throws -> Any) -> String { do { _ = try body(); return "" } catch { return "\(error)" } }
        let far = Geometry.point(Point(0, 0))
        #expect(message { try map.nearest(to: far) } == message { try engine.nearest(to: far) })
        #expect(message { try map.nearest(to: .point(origin), k: 0) } == message { try engine.nearest(to: .point(origin), k: 0) })
        #expect(message { try map.within(distance: -1, of: .point(origin)) } == message { try engine.within(distance: -1, of: .point(origin)) })
        #expect(!message { try map.nearest(to: far) }.isEmpty)
    }

    @Test func aStaleTruncatedOrDamagedFileIsRebuiltNeverUsed() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let network = try Self.richDistrict()
        let path = try Self.store(network, in: dir)
        let file = URL(fileURLWithPath: path + ".subterra-snapshot")
        let probe = Geometry.point(Point(origin.x + 3, origin.y + 4))
        func open() throws -> MappedMap { try MappedMap.open(store: try GeoPackageStore.open(at: path, readOnly: true)) }
        func reason(_ m: MappedMap) -> String? { if case .rebuilt(let r, _) = m.origin { return r } else { return nil } }

        #expect(reason(try open())?.contains("no snapshot file") == true)
        #expect(try open().origin == .file)
        // Used in place: the columns are the mapped file's pages, not copies.
        let inPlace = try open().file
        #expect(inPlace.ids.isBorrowed && inPlace.feature.isBorrowed && inPlace.owner.isBorrowed && inPlace.layer.isBorrowed
                && inPlace.subtype.isBorrowed && inPlace.kind.isBorrowed)

        // An edit through an engine on the store: stale.
        do {
            let engine = try UtilityEngine(store: try GeoPackageStore.open(at: path))
            let moved = network.segments[3]
            try engine.apply(StoreEdit(deleteSegments: [moved.id]))
        }
        let afterEdit = try open()
        #expect(reason(afterEdit)?.contains("stale") == true)
        let fresh = try UtilityEngine(store: try GeoPackageStore.open(at: path, readOnly: true))
        #expect(try afterEdit.nearest(to: probe, k: 5) == fresh.nearest(to: probe, k: 5))
        #expect(afterEdit.segmentCount == network.segments.count - 1)

        // A write by another program (plain SQL, as QGIS would): stale.
        do {
            let db = try Database(path: path, mode: .readWrite)
            try GeoPackage.registerFunctions(db)
            try db.execute("UPDATE subterra_segments SET owner = 'Someone Else' WHERE fid = \(network.segments[8].id)")
        }
        #expect(reason(try open())?.contains("stale") == true)
        #expect(try open().origin == .file)
        let now = try UtilityEngine(store: try GeoPackageStore.open(at: path, readOnly: true))
        #expect(try open().nearest(to: probe, k: 500) == now.nearest(to: probe, k: 500))

        let good = try Data(contentsOf: file)
        // Truncated.
        try good.prefix(good.count - 100).write(to: file)
        #expect(reason(try open())?.contains("truncated") == true)
        // One bit flipped in the geometry, in a column, in the meta; a newer format.
        // (The columns take 25 bytes a row at the end; the index lies just before them.)
        let indexByte = good.count - 25 * (network.segments.count - 1) - 100
        for (offset, expect) in [(indexByte, "checksum"), (good.count - 7, "checksum"), (60, ""), (8, "format version")] {
            var bad = good
            bad[offset] ^= 0x10
            try bad.write(to: file)
            let m = try open()
            #expect(reason(m) != nil, "flip at \(offset)")
            if !expect.isEmpty { #expect(reason(m)?.contains(expect) == true, "flip at \(offset): \(reason(m) ?? "")") }
            #expect(try m.nearest(to: probe, k: 500) == now.nearest(to: probe, k: 500))
        }
        // Not a snapshot at all; empty (nothing to map).
        try Data("hello".utf8).write(to: file)
        #expect(reason(try open()) != nil)
        #expect(try open().origin == .file)
        try Data().write(to: file)
        #expect(reason(try open())?.contains("truncated") == true)
        #expect(try open().origin == .file)
    }

    /// The file built record by record from the store (the rebuild and import path, in bounded
    /// memory) is byte for byte the file built from the loaded map, and its summary agrees with
    /// the map's own figures; a store holding a record loading would refuse is refused the same
    /// way, naming the record, and no file is written.
    @Test func theStreamedBuildEqualsTheLoadedMapsAndRefusesWhatLoadingRefuses() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let network = try Self.richDistrict()
        let path = try Self.store(network, in: dir)
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let stamp = try store.stamp()
        let streamed = try _SnapshotFile.serialize(store: store, stamp: stamp)
        let loaded = try _SnapshotFile.serialize(store.loadAll(), stamp: stamp)
        #expect(streamed == loaded)

        // The summary against the map's own accessors.
        let s = try _SnapshotFile(_FileBytes(copying: streamed)).meta.summary
        #expect(s.segments == network.segments.count && s.points == network.points.count && s.areas == network.areas.count)
        #expect(s.pipes == Set(network.segments.map(\.featureID)).count)
        #expect(s.danglingEnds == network.danglingPointNumbers.count && s.danglingEnds > 0)
        let noDepth = network.segments.filter {
            network.depthOfTop(segmentID: $0.id, atParameter: 0) == nil || network.depthOfTop(segmentID: $0.id, atParameter: 1) == nil
        }
        #expect(s.withoutDepth == noDepth.count)
        let e = network.envelope
        #expect(s.extent == [e.minX, e.minY, e.maxX, e.maxY])
        for l in s.layers {
            let mine = network.segments.filter { $0.layer == l.code }
            #expect(l.segments == mine.count)
            #expect(abs(l.lengthM - mine.reduce(0) { $0 + $1.length }) < 1e-6)
        }

        // A record another program made invalid: the rebuild refuses it as loading does.
        let bad = network.segments[11]
        do {
            let db = try Database(path: path, mode: .readWrite)
            try GeoPackage.registerFunctions(db)
            try db.execute("UPDATE subterra_segments SET start_depth = -4 WHERE fid = \(bad.id)")
        }
        let reopened = try GeoPackageStore.open(at: path, readOnly: true)
        #expect(throws: (any Error).self) { try reopened.loadAll() }
        do {
            _ = try MappedMap.open(store: reopened)
            Issue.record("an invalid store was opened")
        } catch {
            #expect("\(error)".contains("segment \(bad.id)") && "\(error)".contains("depth at start is -4"), "\(error)")
        }
        #expect(!FileManager.default.fileExists(atPath: path + ".subterra-snapshot"))
    }

    /// A warming map answers as the whole engine while the engine is still loading (from the
    /// snapshot file) and after (from the engine); `warming()` switches only to an engine of the
    /// same store version, and keeps the mapped map answering when the store changed.
    @Test func aWarmingMapAnswersAsTheEngineBeforeAndAfterLoading() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.store(try Self.richDistrict(), in: dir)
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let engine = try UtilityEngine(store: store)
        _ = try MappedMap.open(store: store)
        let mapped = try MappedMap.open(store: store)
        #expect(mapped.origin == .file)

        var rng = TestRandom(4711)
        func same(_ map: any PipeMap) throws {
            for _ in 0..<12 {
                let c = Point(origin.x + rng.uniform(-150, 150), origin.y + rng.uniform(-150, 150))
                let p = Geometry.point(c)
                #expect(try map.nearest(to: p, crs: nil, k: 4, maxDistance: .infinity, perLayer: false, filter: .all)
                        == engine.nearest(to: p, k: 4))
                #expect(try map.within(distance: 6, of: p, crs: nil, filter: .all, allParts: false) == engine.within(distance: 6, of: p))
                let dig = DigRequest(area: .polygon(rect(c.x, c.y, c.x + 4, c.y + 3)), plannedDepth: 1.5)
                #expect(try map.digCheck(dig, filter: .all) == engine.digCheck(dig))
            }
        }
        let gate = DispatchSemaphore(value: 0)
        let warm = WarmingMap(mapped) { () throws(EngineError) -> UtilityEngine in
            gate.wait()
            return try UtilityEngine(store: try! GeoPackageStore.open(at: path, readOnly: true))
        }
        #expect(warm.engine == nil)
        try same(warm)
        gate.signal()
        #expect(warm.waitUntilLoaded())
        #expect(warm.engine != nil && warm.loadError == nil)
        try same(warm)

        let switching = mapped.warming()
        #expect(switching.waitUntilLoaded())
        try same(switching)

        // Another program writes the store: the engine would be of another version.
        do {
            let db = try Database(path: path, mode: .readWrite)
            try GeoPackage.registerFunctions(db)
            try db.execute("UPDATE subterra_segments SET owner = 'Someone Else' WHERE fid = 3")
        }
        let stale = mapped.warming()
        #expect(!stale.waitUntilLoaded())
        #expect(stale.engine == nil)
        #expect(stale.loadError?.message.contains("the store changed") == true, "\(String(describing: stale.loadError))")
    }

    /// An engine read from a GeoPackage store record by record holds the same rows, depths,
    /// lookups and answers as one built from the loaded map, and refuses an invalid stored
    /// record naming it.
    @Test func anEngineReadRecordByRecordEqualsOneFromTheLoadedMap() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try Self.store(try Self.richDistrict(), in: dir)
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let engine = try UtilityEngine(store: store, upkeep: .inline)
        let loaded = try store.loadAll()
        let fromMap = try UtilityEngine(network: loaded, upkeep: .inline)
        checkRows(engine.snapshot, loaded)
        #expect(engine.network == loaded)
        try expectSameAnswers(engine, fromMap, seed: 99)
        let bad = loaded.segments[7]
        do {
            let db = try Database(path: path, mode: .readWrite)
            try GeoPackage.registerFunctions(db)
            try db.execute("UPDATE subterra_segments SET end_depth = 500 WHERE fid = \(bad.id)")
        }
        do {
            _ = try UtilityEngine(store: try GeoPackageStore.open(at: path, readOnly: true))
            Issue.record("an invalid stored record was loaded")
        } catch {
            #expect("\(error)".contains("segment \(bad.id)") && "\(error)".contains("depth at end"), "\(error)")
        }
    }

    /// The same excavation figure, codes, nearest pipes and dig checks from both engines, at ten
    /// random places near the district.
    func expectSameAnswers(_ engine: UtilityEngine, _ fromMap: UtilityEngine, seed: UInt64, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(engine.snapshot.maxExcavation == fromMap.snapshot.maxExcavation, sourceLocation: sourceLocation)
        #expect(engine.codes == fromMap.codes, sourceLocation: sourceLocation)
        var rng = TestRandom(seed)
        for _ in 0..<10 {
            let c = Point(origin.x + rng.uniform(-150, 150), origin.y + rng.uniform(-150, 150))
            #expect(try engine.nearest(to: .point(c), k: 5) == fromMap.nearest(to: .point(c), k: 5), sourceLocation: sourceLocation)
            let dig = DigRequest(area: .polygon(rect(c.x, c.y, c.x + 6, c.y + 2)), plannedDepth: 2)
            #expect(try engine.digCheck(dig) == fromMap.digCheck(dig), sourceLocation: sourceLocation)
        }
    }

    /// An engine built from records (no `UtilityNetwork` in between, as a PostGIS follower
    /// builds) holds the same rows, depths, lookups and answers as one built from the map, and
    /// refuses what the map refuses, naming the record.
    @Test func anEngineFromRecordsEqualsOneFromTheMapAndRefusesTheSame() throws {
        let map = try Self.richDistrict()
        let engine = try UtilityEngine(crs: map.crs, segments: map.segments, points: map.points, areas: map.areas, upkeep: .inline)
        let fromMap = try UtilityEngine(network: map, upkeep: .inline)
        checkRows(engine.snapshot, map)
        #expect(engine.network == map)
        try expectSameAnswers(engine, fromMap, seed: 7)
        func refusal(_ segments: [PipeSegment], _ points: [FeaturePoint], _ areas: [OperatorArea] = []) -> String {
            do {
                _ = try UtilityEngine(crs: map.crs, segments: segments, points: points, areas: areas)
                return "accepted"
            } catch { return "\(error)" }
        }
        // The same record twice.
        let s7 = map.segments[7], p3 = map.points[3]
        #expect(refusal(map.segments + [s7], map.points).contains("segment id is used twice"))
        #expect(refusal(map.segments, map.points + [p3]).contains("point number is used twice"))
        if let a = map.areas.first { #expect(refusal(map.segments, map.points, map.areas + [a]).contains("area id is used twice")) }
        // Several faults at once: the same first one as the map names (points, then segments in
        // order, then areas).
        var deepFirst = map.segments[2]
        deepFirst.endDepth = 500
        for (segments, points, areas) in [
            (map.segments + [s7], map.points + [p3], map.areas),
            (map.segments.map { $0.id == deepFirst.id ? deepFirst : $0 } + [s7], map.points, map.areas),
            ([s7] + map.segments.map { $0.id == deepFirst.id ? deepFirst : $0 }, map.points, map.areas + map.areas),
        ] {
            let mapError: String
            do {
                _ = try UtilityNetwork(crs: map.crs, segments: segments, points: points, areas: areas)
                mapError = "accepted"
            } catch { mapError = error.message }
            #expect(refusal(segments, points, areas).contains(mapError), "map: \(mapError)")
        }
        // An invalid segment and an invalid point, each named.
        var deep = s7
        deep.endDepth = 500
        let e = refusal(map.segments.map { $0.id == s7.id ? deep : $0 }, map.points)
        #expect(e.contains("segment \(s7.id)") && e.contains("depth at end"), "\(e)")
        #expect(throws: ModelError.self) { _ = try UtilityNetwork(crs: map.crs, segments: map.segments.map { $0.id == s7.id ? deep : $0 }, points: map.points) }
        var misfiled = p3  // a valve filed as a feature
        misfiled.kind = "valve"
        misfiled.category = .feature
        #expect(refusal(map.segments, map.points.map { $0.number == p3.number ? misfiled : $0 }).contains("recorded as feature"))
    }

    /// Records handed over in parts (as a PostGIS snapshot read on several connections hands
    /// them) build the engine the whole arrays build, whatever the cut, empty parts included;
    /// a fault in a later part, or a record repeated across parts, is refused with the error
    /// the whole arrays give.
    @Test func anEngineFromRecordsInPartsEqualsOneFromTheWholeArrays() throws {
        let map = try Self.richDistrict()
        let whole = try UtilityEngine(crs: map.crs, segments: map.segments, points: map.points, areas: map.areas, upkeep: .inline)
        func cut<T>(_ xs: [T], _ sizes: [Int]) -> [[T]] {
            var parts: [[T]] = [], rest = xs[...]
            for n in sizes {
                parts.append(Array(rest.prefix(n)))
                rest = rest.dropFirst(n)
            }
            return parts + [Array(rest)]
        }
        let ns = map.segments.count, np = map.points.count
        for (segmentSizes, pointSizes) in [([], []), ([0, 1], [0]), ([ns / 3, 0, ns / 3], [np / 2]), ([ns], [0, np]), ([1, 1, 1], [2, 0, 2])] {
            let engine = try UtilityEngine(
                crs: map.crs, segmentParts: cut(map.segments, segmentSizes), pointParts: cut(map.points, pointSizes),
                areas: map.areas, upkeep: .inline)
            checkRows(engine.snapshot, map)
            #expect(engine.network == map, "\(segmentSizes) / \(pointSizes)")
            #expect(engine.snapshot.maxAccuracy == whole.snapshot.maxAccuracy && engine.snapshot.maxHalfWidth == whole.snapshot.maxHalfWidth)
            try expectSameAnswers(engine, whole, seed: 11)
        }
        // No parts at all (an empty store read on several connections) and parts of nothing.
        for (segmentParts, pointParts) in [([[PipeSegment]](), [[FeaturePoint]]()), ([[]], [[], []])] {
            let empty = try UtilityEngine(crs: map.crs, segmentParts: segmentParts, pointParts: pointParts)
            #expect(empty.segmentCount == 0 && empty.network.points.isEmpty)
        }
        func refusal(_ segmentParts: [[PipeSegment]], _ pointParts: [[FeaturePoint]]) -> String {
            do {
                _ = try UtilityEngine(crs: map.crs, segmentParts: segmentParts, pointParts: pointParts)
                return "accepted"
            } catch { return "\(error)" }
        }
        func wholeRefusal(_ segments: [PipeSegment], _ points: [FeaturePoint]) -> String {
            do {
                _ = try UtilityEngine(crs: map.crs, segments: segments, points: points)
                return "accepted"
            } catch { return "\(error)" }
        }
        let s7 = map.segments[7], p3 = map.points[3]
        var deep = map.segments[ns - 2]
        deep.endDepth = 500
        let faulty = map.segments.map { $0.id == deep.id ? deep : $0 }
        for (segments, points) in [(map.segments + [s7], map.points), (map.segments, map.points + [p3]), (faulty + [s7], map.points)] {
            let expected = wholeRefusal(segments, points)
            #expect(expected != "accepted")
            #expect(refusal(cut(segments, [5, 0, ns / 2]), cut(points, [np / 2])) == expected)
            #expect(refusal([segments], [points]) == expected)
        }
    }

    @Test func aReadOnlyDirectoryStillAnswersAndSaysTheFileWasNotSaved() throws {
        let dir = try Self.tempDir()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
            try? FileManager.default.removeItem(at: dir)
        }
        let path = try Self.store(try Self.richDistrict(), in: dir)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: dir.path)
        // Root may write anyway; the check only applies where the directory really refuses.
        guard !FileManager.default.isWritableFile(atPath: dir.path) else { return }
        let map = try MappedMap.open(store: try GeoPackageStore.open(at: path, readOnly: true))
        guard case .rebuilt(_, let notWritten?) = map.origin else { Issue.record("\(map.origin)"); return }
        #expect(notWritten.contains("cannot write"))
        #expect(try map.nearest(to: .point(origin), k: 2).count == 2)
    }
}
