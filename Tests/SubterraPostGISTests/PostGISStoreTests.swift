import Foundation
import PostgresNIO
import SubterraDatasets
import SubterraEngine
import SubterraGeometry
import SubterraModel
import Testing
@testable import SubterraPostGIS

private let sampleDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Datasets/sample").path

@Suite("PostGIS store", .enabled(if: PG.primary != nil, PG.skipReason))
struct PostGISStoreTests {
    @Test func schemaIsCreatedOnceAndMigrationIsIdempotent() throws {
        let url = try PG.freshDatabase("schema")
        let first = try PostGISStore.open(url)
        #expect(try first.metadata()["subterra.schema"] == String(PostGISSchema.version))
        #expect(try first.dataVersion() == 0)
        first.close()
        // Again, concurrently: the advisory lock lets one migrate; the others find it done.
        try concurrently(3) { _ in _ = try PostGISStore.open(url) }
        let again = try PostGISStore.open(url, readOnly: true)
        #expect(try again.tally() == Counts(0, 0))
        let tables = try PG.sql(url, "SELECT count(*)::text FROM pg_tables WHERE tablename LIKE 'subterra_%'")
        #expect(tables == [["8"]])
        let gist = try PG.sql(url, "SELECT count(*)::text FROM pg_indexes WHERE indexdef LIKE '%USING gist%' AND tablename LIKE 'subterra_%'")
        #expect(gist == [["3"]])
        // Every attribute column of the GeoPackage store is a column here.
        let cols = Set(try PG.sql(url, "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'subterra_segments'").compactMap { $0[0] })
        for (c, _) in GeoPackageStore.segmentColumns + GeoPackageStore.featureColumns + GeoPackageStore.addedSegmentColumns {
            #expect(cols.contains(c), "segment column \(c)")
        }
        #expect(try PG.sql(url, "SELECT count(*)::text FROM subterra_meta WHERE key = 'subterra.schema'") == [["1"]])
    }

    @Test func aReadOnlyOpenOfAnEmptyDatabaseSaysSo() throws {
        let url = try PG.freshDatabase("readonly")
        let error = #expect(throws: StoreError.self) { _ = try PostGISStore.open(url, readOnly: true) }
        #expect(error?.message.contains("no Subterra store") == true)
    }

    @Test func theSampleLoadsBackRecordForRecordAsFromGeoPackage() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let edit = StoreEdit(upsertSegments: network.segments, upsertPoints: network.points, metadata: ["import.last.source": "sample"])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let gpkg = try GeoPackageStore.create(at: dir.appendingPathComponent("s.gpkg").path)
        try gpkg.apply(edit)
        let pg = try PostGISStore.open(try PG.freshDatabase("sample"))
        try pg.apply(edit)
        let a = try gpkg.loadAll(), b = try pg.loadAll()
        #expect(b.segments.count == network.segments.count && b.points.count == network.points.count)
        #expect(a.segments.sorted { $0.id < $1.id } == b.segments.sorted { $0.id < $1.id })
        #expect(a.points.sorted { $0.number.rawValue < $1.number.rawValue } == b.points.sorted { $0.number.rawValue < $1.number.rawValue })
        #expect(try pg.tally() == Counts(network.segments.count, network.points.count))
        #expect(try pg.dataVersion() == 1)
        // One change-log row per feature, all at version 1, and the metadata in the same transaction.
        #expect(try PG.sql(pg.location.description, "SELECT count(*)::text, min(version)::text, max(version)::text FROM subterra_changes WHERE operation = 'insert'")
            == [[String(network.segments.count + network.points.count), "1", "1"]])
        #expect(try pg.metadata()["import.last.source"] == "sample")
        // A second apply of the same rows updates them: row versions 2, data version 2.
        try pg.apply(StoreEdit(upsertSegments: Array(network.segments.prefix(3))))
        #expect(try pg.segment(id: network.segments[0].id)?.version == 2)
        #expect(try pg.dataVersion() == 2)
        // A box load returns the segments whose box meets it.
        let box = Envelope(minX: network.segments[0].start.x - 1, minY: network.segments[0].start.y - 1,
                           maxX: network.segments[0].start.x + 1, maxY: network.segments[0].start.y + 1)
        #expect(try pg.load(in: box).segments.contains { $0.id == network.segments[0].id })
    }

    @Test func anImportThatFailsHalfwayLeavesNothing() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let pg = try PostGISStore.open(try PG.freshDatabase("failed"))
        struct Injected: Error {}
        // After every segment is merged and logged, 100 rows into the points' COPY.
        let failAt = network.segments.count + 100
        pg._afterRowCopied = { rows in if rows == failAt { throw Injected() } }
        #expect(throws: StoreError.self) {
            try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points, metadata: ["k": "v"]))
        }
        #expect(try pg.tally() == Counts(0, 0))
        #expect(try pg.dataVersion() == 0)
        #expect(try pg.metadata()["k"] == nil)
        #expect(try PG.sql(pg.location.description, "SELECT count(*)::text FROM subterra_changes") == [["0"]])
        // The same store still takes a whole import afterwards.
        pg._afterRowCopied = nil
        try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        #expect(try pg.tally() == Counts(network.segments.count, network.points.count))
    }

    @Test func theImporterWritesThroughTheSameQualityChecks() throws {
        // Two good lines and one with a vertex outside the CRS's area: lenient keeps two.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pgimp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("lines.geojson")
        func f(_ id: Int, _ x: Double) -> String {
            #"{"type":"Feature","properties":{"id":\#(id),"layer":"JS","a":"P\#(id)a","b":"P\#(id)b","d":1.2},"geometry":{"type":"LineString","coordinates":[[\#(x),3139922,5],[\#(x + 10),3139922,5]]}}"#
        }
        try Data(#"{"type":"FeatureCollection","features":[\#(f(1, 636575)),\#(f(2, 636675)),\#(f(3, 9e9))]}"#.utf8).write(to: file)
        let mapping = FieldMapping(name: "test", fields: [
            "id": .field("id"), "layer": .field("layer"), "startPoint": .field("a"), "endPoint": .field("b"),
            "startDepth": .field("d"), "endDepth": .field("d"),
        ])
        let source = ImportSource(path: file.path, format: .geoJSON, content: .segments, mapping: mapping)
        let pg = try PostGISStore.open(try PG.freshDatabase("importer"))
        // GeoJSON without a crs member is lon/lat by default: these are EPSG:4549 metres.
        var options = ImportOptions(policy: .lenient, sourceCRS: "EPSG:4549")
        options.maxDroppedShare = 0.5
        let result = try Importer.run([source], into: pg, options: options)
        #expect(result.segments.count == 2)
        #expect(try pg.counts().segments == 2)
        #expect(try pg.metadata()["import.last.segments"] == "2")
        // Strict: the bad record rejects the whole import; nothing more is written.
        #expect(throws: (any Error).self) { try Importer.run([source], into: pg, options: ImportOptions(policy: .strict, sourceCRS: "EPSG:4549")) }
        #expect(try pg.dataVersion() == 1)
    }

    @Test func engineWithinDistanceAgreesWithSTDWithin() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let pg = try PostGISStore.open(try PG.freshDatabase("dwithin"))
        try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        let engine = try UtilityEngine(store: pg)
        let e = network.segments.reduce(Envelope.empty) { $0.union($1.geometry.envelope) }
        var rng = SplitMix64(seed: 17)
        for probe in 0..<40 {
            let x = e.minX + (e.maxX - e.minX) * rng.unit(), y = e.minY + (e.maxY - e.minY) * rng.unit()
            let d = 1 + 30 * rng.unit()
            let mine = Set(try engine.within(distance: d, of: .point(Point(x, y)), allParts: true).map { $0.pipe.id })
            let theirs = try PG.dwithinIDs(pg.location.description, x: x, y: y, d: d)
            #expect(mine == theirs, "probe \(probe) at (\(x), \(y)) within \(d) m")
        }
    }

    @Test func twoEditorsOnOnePipeOneWinsOneGetsAConflict() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let url = try PG.freshDatabase("conflict")
        let setup = try PostGISStore.open(url)
        try setup.apply(StoreEdit(upsertSegments: Array(network.segments.prefix(10))))
        let id = network.segments[0].id
        // Two editors, each with a store (a pool) of its own, read the same pipe.
        let alice = try PostGISStore.open(url), bob = try PostGISStore.open(url)
        let a = try #require(try alice.segment(id: id)), b = try #require(try bob.segment(id: id))
        #expect(a.version == b.version)
        var aliceEdit = a.record
        aliceEdit.owner = "Alice Water Co"
        var bobEdit = b.record
        bobEdit.owner = "Bob Gas Co"
        let v = try alice.commit([.updateSegment(aliceEdit, expectedVersion: a.version)])
        #expect(v == 2)
        let conflict = #expect(throws: StoreError.self) { try bob.commit([.updateSegment(bobEdit, expectedVersion: b.version)]) }
        #expect(conflict?.kind == .conflict)
        #expect(conflict?.record == bobEdit.location)
        #expect(conflict?.message.contains("is at version \(a.version + 1)") == true)
        #expect(try setup.segment(id: id)?.record.owner == "Alice Water Co")
        #expect(try setup.segment(id: id)?.version == a.version + 1)
        // Bob reads again and redoes his edit: it lands.
        let fresh = try #require(try bob.segment(id: id))
        bobEdit = fresh.record
        bobEdit.road = "Bob Road"
        try bob.commit([.updateSegment(bobEdit, expectedVersion: fresh.version)])
        // A delete from a stale version conflicts too, and a failed commit writes nothing.
        #expect(throws: StoreError.self) {
            try alice.commit([.insertSegment(network.segments[20]), .deleteSegment(id: id, expectedVersion: a.version)])
        }
        #expect(try setup.segment(id: network.segments[20].id) == nil)
        #expect(try PG.sql(url, "SELECT operation || ':' || feature FROM subterra_changes WHERE version > 1 ORDER BY version")
            == [["update:\(id)"], ["update:\(id)"]])
    }

    @Test func concurrentEditorsExactlyOneWinsEachRace() throws {
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let url = try PG.freshDatabase("race")
        let setup = try PostGISStore.open(url)
        try setup.apply(StoreEdit(upsertSegments: Array(network.segments.prefix(5))))
        let seg = try #require(try setup.segment(id: network.segments[0].id))
        let editors = try (0..<4).map { _ in try PostGISStore.open(url) }
        let outcomes = Outcomes()
        DispatchQueue.concurrentPerform(iterations: editors.count) { i in
            var s = seg.record
            s.owner = "editor \(i)"
            do {
                try editors[i].commit([.updateSegment(s, expectedVersion: seg.version)])
                outcomes.add("won")
            } catch let e as StoreError where e.kind == .conflict {
                outcomes.add("conflict")
            } catch { outcomes.add("\(error)") }
        }
        #expect(outcomes.sorted == ["conflict", "conflict", "conflict", "won"])
        #expect(try setup.segment(id: seg.record.id)?.version == seg.version + 1)
    }

    @Test func theReplicaServesThePrimarysImportOnceReplayed() throws {
        guard let replica = PG.replica else { return }
        let network = try DistrictReader.readGeoJSON(directory: sampleDir)
        let url = try PG.freshDatabase("replica")
        let pg = try PostGISStore.open(url)
        try pg.apply(StoreEdit(upsertSegments: network.segments, upsertPoints: network.points))
        let r = try PostGISLocation(url: replica), p = try PostGISLocation(url: url)
        let replicaURL = "postgresql://\(r.user)@\(r.host):\(r.port)/\(p.database)"
        // The database itself reaches the replica by WAL too: retry the open, then the counts.
        var store: PostGISStore?
        var counts = (segments: -1, points: -1)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if store == nil { store = try? PostGISStore.open(replicaURL, readOnly: true) }
            if let store, let c = try? store.counts() { counts = c }
            if counts == (network.segments.count, network.points.count) { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(Counts(counts) == Counts(network.segments.count, network.points.count))
        let onReplica = try #require(store).loadAll()
        #expect(onReplica.segments.sorted { $0.id < $1.id } == network.segments.sorted { $0.id < $1.id })
        #expect(throws: StoreError.self) { try store!.apply(StoreEdit(deleteSegments: [1])) }
    }
}

/// Row counts, comparable in `#expect`.
struct Counts: Equatable {
    var segments: Int, points: Int
    init(_ segments: Int, _ points: Int) { (self.segments, self.points) = (segments, points) }
    init(_ c: (segments: Int, points: Int)) { self.init(c.segments, c.points) }
}

extension PostGISStore {
    func tally() throws(StoreError) -> Counts { Counts(try counts()) }
}

final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var sorted: [String] { lock.withLock { items.sorted() } }
}

/// Runs `body(i)` for `count` values of i on as many threads at once and rethrows the first error.
func concurrently(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let errors = Outcomes()
    DispatchQueue.concurrentPerform(iterations: count) { i in
        do { try body(i) } catch { errors.add("\(error)") }
    }
    if let first = errors.sorted.first { throw StoreError(first, path: "concurrent open") }
}

extension SplitMix64 {
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
