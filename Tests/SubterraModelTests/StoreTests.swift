import Foundation
import SubterraGeometry
import Testing
@testable import SubterraModel

@Suite("GeoPackage store")
struct StoreTests {
    @Test("round trip: every attribute survives write and load")
    func roundTrip() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("a.gpkg").path
        let (segs, pts) = randomNetwork(segments: 300, seed: 1)
        let store = try GeoPackageStore.create(at: path)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        let back = try GeoPackageStore.open(at: path, readOnly: true).loadAll()
        #expect(back.segments == segs)
        #expect(back.points == pts)
        #expect(back.crs == "EPSG:4549")
        #expect(try store.counts() == (300, pts.count))
    }

    @Test("load by envelope equals a brute-force box filter")
    func loadByEnvelope() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("b.gpkg").path)
        let (segs, pts) = randomNetwork(segments: 400, seed: 2)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        var rng = StoreRNG(seed: 9)
        for _ in 0..<20 {
            let x = rng.range(499_900, 503_100), y = rng.range(3_377_900, 3_381_100)
            let q = Envelope(minX: x, minY: y, maxX: x + rng.range(0, 800), maxY: y + rng.range(0, 800))
            let got = try store.load(in: q)
            // The R-tree stores float32-rounded-outward boxes, so compare against a filter on
            // exact boxes, then allow extra candidates only within 1 m of the query.
            let want = Set(segs.filter { $0.geometry.envelope.intersects(q) }.map(\.id))
            let gotIDs = Set(got.segments.map(\.id))
            #expect(want.isSubset(of: gotIDs))
            for s in got.segments where !want.contains(s.id) {
                #expect(s.geometry.envelope.intersects(q.expanded(by: 1)))
            }
            let wantP = Set(pts.filter { q.contains($0.position) }.map(\.number))
            #expect(wantP.isSubset(of: Set(got.points.map(\.number))))
        }
    }

    @Test("update and delete in one transaction")
    func updateDelete() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("c.gpkg").path)
        let (segs, pts) = randomNetwork(segments: 50, seed: 3)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        var changed = segs[10]
        changed.owner = "new owner"
        changed.geometry = try LineString([Point(500_000, 3_380_000), Point(500_010, 3_380_000)])
        var p = pts[3]
        p.depth = 9.5
        try store.apply(StoreEdit(upsertSegments: [changed], upsertPoints: [p], deleteSegments: [1, 2, 999],
                                  deletePoints: [pts[0].number]))
        let back = try store.loadAll()
        #expect(back.segments.count == 48)
        #expect(back.segment(id: 11) == changed)
        #expect(back.point(number: p.number)?.depth == 9.5)
        #expect(back.point(number: pts[0].number) == nil)
        // The R-tree followed the geometry change.
        let near = try store.load(in: Envelope(minX: 499_999, minY: 3_379_999, maxX: 500_011, maxY: 3_380_001))
        #expect(near.segments.map(\.id).contains(11))
    }

    @Test("the extent in gpkg_contents follows every edit exactly: moves, deletes of edge rows, inserts, bulk writes")
    func extentsFollowEdits() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("x.gpkg").path)
        var (segs, pts) = randomNetwork(segments: 200, seed: 31)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        /// The extent a scan of each R-tree gives, and the one recorded.
        func check(_ note: String) throws {
            for t in [GeoPackageStore.segmentTable, GeoPackageStore.pointTable] {
                let scan = try store.db.prepare("SELECT min(minx), min(miny), max(maxx), max(maxy) FROM \"rtree_\(t)_geom\"")
                let rec = try store.db.prepare("SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?")
                try rec.bind([.text(t)])
                #expect(try scan.step() && rec.step())
                for i in Int32(0)..<4 {
                    #expect(scan.isNull(i) == rec.isNull(i) && (scan.isNull(i) || scan.double(i) == rec.double(i)), "\(note): \(t) column \(i)")
                }
            }
        }
        try check("import")
        var rng = StoreRNG(seed: 77)
        var nextID = segs.map(\.id).max()! + 1
        for step in 0..<120 {
            var edit = StoreEdit()
            switch step % 4 {
            case 0:  // delete the pipe and the point at an edge of the extent
                let west = segs.indices.min { segs[$0].geometry.envelope.minX < segs[$1].geometry.envelope.minX }!
                edit.deleteSegments = [segs.remove(at: west).id]
                let north = pts.indices.max { pts[$0].position.y < pts[$1].position.y }!
                edit.deletePoints = [pts.remove(at: north).number]
            case 1:  // move a random pipe and point, sometimes far out
                let k = Int(rng.next() % UInt64(segs.count))
                let far = rng.unit() < 0.3 ? 5_000.0 : 0
                let x = rng.range(500_000, 502_000) + far, y = rng.range(3_378_000, 3_380_000) - far
                segs[k].geometry = try LineString([Point(x, y), Point(x + rng.range(1, 50), y + rng.range(-20, 20))])
                edit.upsertSegments = [segs[k]]
                let j = Int(rng.next() % UInt64(pts.count))
                pts[j].position = Point(rng.range(500_000, 502_000) - far, rng.range(3_378_000, 3_380_000) + far)
                edit.upsertPoints = [pts[j]]
            case 2:  // a new pipe inside, and a delete inside
                var s = segs[Int(rng.next() % UInt64(segs.count))]
                s.id = nextID
                nextID += 1
                segs.append(s)
                edit.upsertSegments = [s]
                edit.deleteSegments = [segs.remove(at: Int(rng.next() % UInt64(segs.count - 1))).id]
            default:  // metadata only
                edit.metadata = ["step": "\(step)"]
            }
            try store.apply(edit)
            try check("step \(step)")
        }
        // A bulk write (past the R-tree's bulk threshold) and deleting everything.
        let (more, _) = randomNetwork(segments: GeoPackageStore.bulkSpatialIndexRows + 10, seed: 32)
        try store.apply(StoreEdit(upsertSegments: more.map { var s = $0; s.id += 1_000_000; return s }))
        try check("bulk")
        try store.apply(StoreEdit(deleteSegments: try store.loadAll().segments.map(\.id), deletePoints: try store.loadAll().points.map(\.number)))
        try check("empty")
    }

    @Test("a failure halfway through an edit leaves the file byte-identical")
    func transactionalFailure() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("d.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        let (segs, pts) = randomNetwork(segments: 200, seed: 4)
        try store.apply(StoreEdit(upsertSegments: Array(segs.prefix(100)), upsertPoints: pts))
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        struct Injected: Error {}
        // 1. An injected fault after 50 of 100 rows.
        store._afterRowWritten = { n in if n == 50 { throw Injected() } }
        #expect(throws: StoreError.self) {
            try store.apply(StoreEdit(upsertSegments: Array(segs.suffix(100)), deleteSegments: [1, 2, 3]))
        }
        store._afterRowWritten = nil
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        // 2. An invalid record in the middle of the batch.
        var bad = Array(segs.suffix(100))
        bad[60].startDepth = .nan
        let e = #expect(throws: StoreError.self) { try store.apply(StoreEdit(upsertSegments: bad)) }
        #expect(e?.record?.contains("segment \(bad[60].id)") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try store.counts().segments == 100)
    }

    @Test("missing, foreign and corrupt files give clear errors and stay unchanged")
    func badFiles() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.gpkg").path
        let e1 = #expect(throws: StoreError.self) { try GeoPackageStore.open(at: missing) }
        #expect(e1?.message.contains("does not exist") == true)
        #expect(!FileManager.default.fileExists(atPath: missing))

        let text = dir.appendingPathComponent("text.gpkg")
        try Data("hello, not a database".utf8).write(to: text)
        let e2 = #expect(throws: StoreError.self) { try GeoPackageStore.open(at: text.path) }
        #expect(e2?.message.contains("SQLite header") == true)
        #expect(try Data(contentsOf: text) == Data("hello, not a database".utf8))

        // A plain SQLite database that is not a GeoPackage.
        let plain = dir.appendingPathComponent("plain.sqlite").path
        do { let db = try Database(path: plain); try db.execute("CREATE TABLE t (a)") }
        let plainBytes = try Data(contentsOf: URL(fileURLWithPath: plain))
        let e3 = #expect(throws: StoreError.self) { try GeoPackageStore.open(at: plain) }
        #expect(e3?.message.contains("application_id") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: plain)) == plainBytes)

        // A truncated GeoPackage.
        let good = dir.appendingPathComponent("good.gpkg").path
        do {
            let s = try GeoPackageStore.create(at: good)
            let (segs, pts) = randomNetwork(segments: 300, seed: 5)
            try s.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        }
        let full = try Data(contentsOf: URL(fileURLWithPath: good))
        let cut = dir.appendingPathComponent("cut.gpkg")
        try full.prefix(full.count / 2).write(to: cut)
        let cutBytes = try Data(contentsOf: cut)
        #expect(throws: StoreError.self) { try GeoPackageStore.open(at: cut.path).loadAll() }
        #expect(try Data(contentsOf: cut) == cutBytes)

        // A garbage geometry blob in an otherwise valid store: the error names table, fid, field.
        do {
            let db = try Database(path: good, mode: .readWrite)
            try GeoPackage.registerFunctions(db)
            try db.execute("UPDATE subterra_segments SET geom = x'4750000101' WHERE fid = 7")
        }
        let corrupted = try Data(contentsOf: URL(fileURLWithPath: good))
        let e4 = #expect(throws: StoreError.self) { try GeoPackageStore.open(at: good).loadAll() }
        #expect(e4?.table == "subterra_segments" && e4?.record == "fid 7" && e4?.field == "geom")
        #expect(try Data(contentsOf: URL(fileURLWithPath: good)) == corrupted)

        // Refuses to overwrite an existing file.
        #expect(throws: StoreError.self) { try GeoPackageStore.create(at: good) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: good)) == corrupted)
    }

    @Test("metadata set, replace, remove")
    func metadata() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("m.gpkg").path)
        try store.setMetadata(["source": "survey 2026", "mapping": "a.json"])
        try store.setMetadata(["source": "survey 2027", "mapping": nil])
        let m = try store.metadata()
        #expect(m["source"] == "survey 2027")
        #expect(m["mapping"] == nil)
        #expect(m["subterra.schema"] == "2")
    }

    @Test("concurrent readers and a writer do not crash or tear")
    func concurrency() async throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try GeoPackageStore.create(at: dir.appendingPathComponent("t.gpkg").path)
        let (segs, pts) = randomNetwork(segments: 100, seed: 6)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        try await withThrowingTaskGroup(of: Int.self) { g in
            for i in 0..<8 {
                g.addTask {
                    if i == 0 {
                        for s in segs.prefix(20) { try store.apply(StoreEdit(deleteSegments: [s.id])) }
                        return 0
                    }
                    // Every load sees a whole number of completed deletes, never a half.
                    return try store.loadAll().segments.count
                }
            }
            for try await n in g { #expect(n == 0 || (80...100).contains(n)) }
        }
        #expect(try store.counts().segments == 80)
    }
}

@Suite("GeoPackage store read by GDAL")
struct StoreGDALTests {
    static let ogrinfo = ["/usr/bin/ogrinfo", "/usr/local/bin/ogrinfo"].first { FileManager.default.isExecutableFile(atPath: $0) }

    @Test("ogrinfo reads our file: layers, feature counts, CRS, and no errors",
          .enabled(if: ogrinfo != nil, "ogrinfo (gdal-bin) is not installed; skipping the GDAL interoperability check"))
    func ogrinfoReads() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("ogr.gpkg").path
        let (segs, pts) = randomNetwork(segments: 123, seed: 7)
        do {
            let store = try GeoPackageStore.create(at: path)
            try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        }
        let r = try #require(runTool(Self.ogrinfo!, ["-al", "-so", path]))
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.output.contains("ERROR"), "\(r.output)")
        #expect(!r.output.contains("Warning"), "\(r.output)")
        #expect(r.output.contains("Layer name: subterra_segments"))
        #expect(r.output.contains("Feature Count: 123"))
        #expect(r.output.contains("Layer name: subterra_points"))
        #expect(r.output.contains("Feature Count: \(pts.count)"))
        #expect(r.output.contains("CGCS2000 / 3-degree Gauss-Kruger CM 120E"))
        #expect(r.output.contains("ID[\"EPSG\",4549]"))
        #expect(r.output.contains("Line String"))
        #expect(r.output.contains("start_depth: Real"))
        // GDAL's extent (read from our R-tree, float32 boxes rounded outward) contains the exact
        // envelope of what we wrote and exceeds it by less than float32 resolution (0.25 m here).
        let e = segs.reduce(Envelope.empty) { $0.union($1.geometry.envelope) }
        let extentLine = try #require(r.output.split(separator: "\n").first { $0.hasPrefix("Extent: ") })
        let ext = extentLine.split(whereSeparator: { "(), -:".contains($0) }).compactMap { Double($0) }
        #expect(ext.count == 4)
        if ext.count == 4 {
            #expect(ext[0] <= e.minX && ext[0] > e.minX - 0.5 && ext[1] <= e.minY && ext[1] > e.minY - 0.5)
            #expect(ext[2] >= e.maxX && ext[2] < e.maxX + 0.5 && ext[3] >= e.maxY && ext[3] < e.maxY + 0.5)
        }
        // A spatial filter through GDAL uses our R-tree and agrees with a brute-force filter.
        let q = Envelope(minX: 500_500, minY: 3_379_000, maxX: 502_000, maxY: 3_380_500)
        let f = try #require(runTool(Self.ogrinfo!, ["-so", "-spat", "\(q.minX)", "\(q.minY)", "\(q.maxX)", "\(q.maxY)", path, "subterra_segments"]))
        let want = segs.filter { $0.geometry.envelope.intersects(q) }.count
        #expect(f.output.contains("Feature Count: \(want)"), "\(f.output)")
        // Header values per the spec.
        do {
            let db = try Database(path: path, mode: .readOnly)
            #expect(try db.scalarInt("PRAGMA application_id") == 0x4750_4B47)
            #expect(try db.scalarInt("PRAGMA user_version") == 10300)
        }
        // GDAL's own validity check of the GeoPackage.
        let v = try #require(runTool(Self.ogrinfo!, ["-q", "-oo", "LIST_ALL_TABLES=YES", path]))
        #expect(v.status == 0 && !v.output.contains("ERROR"), "\(v.output)")
    }

    static let validator = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py"

    @Test("GDAL's validate_gpkg.py accepts the file, after inserts, updates and deletes",
          .enabled(if: FileManager.default.fileExists(atPath: validator) && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
                   "python3-gdal's validate_gpkg.py is not installed; skipping the GeoPackage conformance check"))
    func validateGpkg() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("v.gpkg").path
        let store = try GeoPackageStore.create(at: path)
        let (segs, pts) = randomNetwork(segments: 60, seed: 8)
        try store.apply(StoreEdit(upsertSegments: segs, upsertPoints: pts))
        var moved = pts[2]
        moved.position.x += 5
        var seg = segs[3]
        seg.owner = "changed"
        try store.apply(StoreEdit(upsertSegments: [seg], upsertPoints: [moved], deleteSegments: [1], deletePoints: [pts[0].number]))
        try store.setMetadata(["k": "v"])
        let r = try #require(runTool("/usr/bin/python3", [Self.validator, path]))
        #expect(r.status == 0, "\(r.output)")
        #expect(!r.output.contains("Exception") && !r.output.contains("Req "), "\(r.output)")
        // The R-tree still agrees with the table after the edits.
        let db = try Database(path: path, mode: .readOnly)
        #expect(try db.scalarInt("SELECT count(*) FROM rtree_subterra_points_geom") == Int64(pts.count - 1))
        #expect(try db.scalarInt("SELECT count(*) FROM rtree_subterra_segments_geom") == 59)
        let box = try #require(try db.scalarText(
            "SELECT minx || ',' || maxx FROM rtree_subterra_points_geom WHERE id = (SELECT fid FROM subterra_points WHERE number = ?)",
            .text(moved.number.rawValue)))
        let v = box.split(separator: ",").compactMap { Double($0) }
        #expect(v.count == 2 && v[0] <= moved.position.x && v[1] >= moved.position.x && v[1] - v[0] < 0.25)
    }
}

@Suite("GeoPackage identifier quoting")
struct IdentifierQuotingTests {
    /// A quote followed by a combining mark is one `Character`; the quoting must still double it,
    /// or the name ends the identifier early and the rest is read as SQL.
    @Test("a table named with quotes and combining marks is created and read back exactly")
    func quotesBeforeCombiningMarks() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = try Database(path: dir.appendingPathComponent("q.gpkg").path)
        for name in ["plain", "a\"b", "x\"\u{0301}y", "\"\u{0301}); DROP TABLE t; --", "管线\"\u{20DD}"] {
            #expect(GeoPackage.quote(name).unicodeScalars.filter { $0 == "\"" }.count
                    == 2 + 2 * name.unicodeScalars.filter { $0 == "\"" }.count)
            try db.execute("CREATE TABLE \(GeoPackage.quote(name)) (\(GeoPackage.quote(name + "c")) TEXT)")
            let s = try db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?")
            try s.bind([.text(name)])
            #expect(try s.step(), "table \(name.debugDescription) exists under its exact name")
        }
    }
}
