import Foundation
import Testing

/// A delivery with operators' text ids and a multi-part cable: imported under the strict policy,
/// then every output names the operator's id and answers the cable once.
@Suite struct SourceIDCLITests {
    static let cableID = "nl.imkl-KL1031.EKBL_0042"

    /// The store, or why it could not be made.
    static let store: Result<String, CLITestError> = {
        let dir = CLI.tempDir("source-ids")
        let file = dir + "/delivery.geojson"
        let mapping = dir + "/mapping.json"
        do {
            try """
                {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
                 {"type":"Feature","properties":{"id":"\(cableID)","layer":"DL","start_depth":1.0,"end_depth":1.0,"owner":"Liander"},
                  "geometry":{"type":"MultiLineString","coordinates":[
                    [[501000,3379000],[501010,3379000]],[[501012,3379000],[501030,3379000]],[[501030,3379002],[501030,3379030]]]}},
                 {"type":"Feature","properties":{"id":"nl.imkl-KL1031.GAS_7","layer":"RQ","start_depth":1.0,"end_depth":1.0,"owner":"Enexis"},
                  "geometry":{"type":"LineString","coordinates":[[501000,3379040],[501030,3379040]]}},
                 {"type":"Feature","properties":{"id":"31","layer":"JS","start_depth":1.0,"end_depth":1.0,"owner":"Vitens"},
                  "geometry":{"type":"LineString","coordinates":[[501000,3379060],[501030,3379060]]}}]}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            try """
                {"fields":{"id":{"from":["id"]},"layer":{"from":["layer"]},"startDepth":{"from":["start_depth"]},
                 "endDepth":{"from":["end_depth"]},"owner":{"from":["owner"]}}}
                """.write(toFile: mapping, atomically: true, encoding: .utf8)
            let r = try CLI.run(["import", file, "--store", dir + "/s.gpkg", "--mapping", mapping, "--policy", "strict"])
            guard r.status == 0 else { return .failure(CLITestError("import failed: \(r.stdout)\(r.stderr)")) }
        } catch {
            return .failure(CLITestError("\(error)"))
        }
        return .success(dir + "/s.gpkg")
    }()

    @Test func nearestTableAndJSONShowTheSourceIDAndAnswerTheCableOnce() throws {
        let store = try Self.store.get()
        // Near the cable's first part: its other parts come next by distance, then the gas main.
        let table = try CLI.run(["nearest", "POINT (501005 3379001)", "--store", store, "-k", "3"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("source_id"), "\(table.stdout)")
        #expect(table.stdout.contains(Self.cableID), "\(table.stdout)")
        #expect(table.stdout.components(separatedBy: Self.cableID).count == 2, "the cable once: \(table.stdout)")
        #expect(table.stdout.contains("nl.imkl-KL1031.GAS_7") && table.stdout.contains("Vitens"), "\(table.stdout)")
        let json = try CLI.run(["nearest", "POINT (501005 3379001)", "--store", store, "-k", "3", "--format", "json"])
        #expect(json.status == 0)
        #expect(json.stdout.contains("\"sourceID\" : \"\(Self.cableID)\""), "\(json.stdout)")
        #expect(json.stdout.contains("\"count\" : 3"), "\(json.stdout)")
        let geo = try CLI.run(["nearest", "POINT (501005 3379001)", "--store", store, "--format", "geojson"])
        #expect(geo.stdout.contains("\"sourceID\":\"\(Self.cableID)\""), "\(geo.stdout)")
        #expect(geo.stdout.contains("\"type\":\"MultiLineString\""), "the whole cable: \(geo.stdout)")
    }

    @Test func sectionListsTheCableOnceByItsSourceID() throws {
        let store = try Self.store.get()
        // The cut runs through the cable's middle part and along no other part of it.
        let cut = try CLI.run(["section", "LINESTRING (501025 3378990, 501025 3379070)", "--store", store])
        #expect(cut.status == 0, "\(cut.stderr)")
        #expect(cut.stdout.contains("3 crossings"), "\(cut.stdout)")
        #expect(cut.stdout.contains("2 (\(Self.cableID))"), "\(cut.stdout)")
    }

    @Test func digCheckAndBatchAnswersShowTheSourceID() throws {
        let store = try Self.store.get()
        // A dig over the cable's corner: two of its parts within clearance, one conflict.
        let dig = try CLI.run([
            "check-dig", "POLYGON ((501025 3378995, 501035 3378995, 501035 3379005, 501025 3379005, 501025 3378995))",
            "--depth", "1.5", "--store", store,
        ])
        #expect(dig.stdout.contains(Self.cableID), "\(dig.stdout)")
        #expect(dig.stdout.contains("Liander: 1 pipe "), "\(dig.stdout)")
        let batch = try CLI.run(
            ["query", "--batch", "-", "--store", store],
            stdin: Data("{\"id\":1,\"op\":\"within\",\"geometry\":\"POINT (501020 3379020)\",\"distance\":50}\n".utf8))
        #expect(batch.status == 0, "\(batch.stderr)")
        #expect(batch.stdout.contains("\"sourceID\":\"\(Self.cableID)\""), "\(batch.stdout)")
        #expect(batch.stdout.contains("\"count\":3"), "\(batch.stdout)")
    }
}
