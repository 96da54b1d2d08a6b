import Foundation
import SubterraModel
import Testing

/// Issue 11, item 6: a store with damaged pages is refused with one line naming the damage, by
/// queries and by imports, and an import never writes into it.
@Suite struct CorruptStoreCLITests {
    /// Three segments and their six points as a survey directory: every table of a store
    /// imported from it fits its root page, so rows can be put out of order by one byte edit.
    func tinySurvey(_ name: String) throws -> String {
        let dir = CLI.tempDir("corrupt-\(name)")
        var segs: [String] = [], pts: [String] = []
        for k in 0..<3 {
            let x = Fixture.x0 + Double(k) * 20, y = Fixture.y0
            segs.append(#"{"type":"Feature","geometry":{"type":"LineString","coordinates":[[\#(x),\#(y)],[\#(x + 10),\#(y)]]},"properties":{"id":\#(k + 1),"layer":"JS","start_point":"A\#(k)","end_point":"B\#(k)","start_depth":1.2,"end_depth":1.3}}"#)
            for (n, px) in [("A\(k)", x), ("B\(k)", x + 10)] {
                pts.append(#"{"type":"Feature","geometry":{"type":"Point","coordinates":[\#(px),\#(y)]},"properties":{"number":"\#(n)","layer":"JS","category":"feature","kind":"tee","depth":1.2}}"#)
            }
        }
        for (file, features) in [("segments", segs), ("points", pts)] {
            let crs = #""crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}}"#
            try ("{\"type\":\"FeatureCollection\",\(crs),\"features\":[" + features.joined(separator: ",") + "]}")
                .write(toFile: "\(dir)/\(file).geojson", atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// A store whose segment rows are out of order (its root leaf's first two cell pointers
    /// swapped): `PRAGMA quick_check` reports "Rowid … out of order".
    func corruptStore(_ name: String) throws -> (survey: String, store: String) {
        let survey = try tinySurvey(name)
        let store = survey + "/store.gpkg"
        let r = try CLI.run(["import", survey, "--store", store])
        try #require(r.status == 0, "\(r.stderr)")
        let (root, size): (Int64?, Int64?) = try {
            let db = try Database(path: store, mode: .readOnly)
            return (try db.scalarInt("SELECT rootpage FROM sqlite_master WHERE name = 'subterra_segments'"), try db.scalarInt("PRAGMA page_size"))
        }()
        let at = Int((try #require(root) - 1) * (try #require(size)))
        var bytes = try #require(FileManager.default.contents(atPath: store))
        try #require(bytes[at] == 0x0D, "the segment table is one leaf page")
        bytes.replaceSubrange((at + 8)..<(at + 12), with: bytes[(at + 10)..<(at + 12)] + bytes[(at + 8)..<(at + 10)])
        try bytes.write(to: URL(fileURLWithPath: store))
        return (survey, store)
    }

    @Test func queriesRefuseACorruptStoreWithOneLine() throws {
        let (_, store) = try corruptStore("query")
        let before = FileManager.default.contents(atPath: store)
        let point = "POINT (\(Fixture.x0 + 5) \(Fixture.y0 + 1))"
        for args in [
            ["nearest", point, "--store", store], ["info", "--store", store],
            ["check-dig", "POLYGON ((\(Fixture.x0) \(Fixture.y0 - 2), \(Fixture.x0 + 4) \(Fixture.y0 - 2), \(Fixture.x0 + 4) \(Fixture.y0 + 2), \(Fixture.x0) \(Fixture.y0 + 2), \(Fixture.x0) \(Fixture.y0 - 2)))", "--depth", "1.5", "--store", store],
        ] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args[0]): \(r.stdout)")
            #expect(r.stderrLines.count == 1, "\(args[0]): \(r.stderr)")
            #expect(r.stderr.contains("corrupt") && r.stderr.contains("out of order"), "\(args[0]): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args[0]) answered nothing")
        }
        #expect(FileManager.default.contents(atPath: store) == before)
    }

    @Test func importIntoACorruptStoreFailsAndLeavesItByteIdentical() throws {
        let (survey, store) = try corruptStore("import")
        let before = try #require(FileManager.default.contents(atPath: store))
        for policy in ["strict", "lenient"] {
            let r = try CLI.run(["import", survey, "--store", store, "--policy", policy])
            #expect(r.status == 2, "\(r.stdout)")
            #expect(r.stderrLines.count == 1, "\(r.stderr)")
            #expect(r.stderr.contains("corrupt") && r.stderr.contains("out of order"), "\(r.stderr)")
            #expect(FileManager.default.contents(atPath: store) == before, "the store is byte-identical")
        }
    }
}
