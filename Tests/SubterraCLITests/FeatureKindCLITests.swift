import Foundation
import Testing

/// An IMKL-like delivery of a cable with its cable bed and sleeve on one trace and an empty duct
/// beside it (and a cable of its own farther off): imported under the strict policy, the dig check answers the cable once with its
/// enclosures, the lone duct on its own, and query tables and JSON show the kind.
@Suite struct FeatureKindCLITests {
    static let store: Result<String, CLITestError> = {
        let dir = CLI.tempDir("feature-kinds")
        let file = dir + "/delivery.geojson"
        let mapping = dir + "/mapping.json"
        func line(_ id: Int, _ type: String, _ coords: String) -> String {
            """
             {"type":"Feature","properties":{"id":\(id),"type":"\(type)","depth":0.8,"owner":"Liander"},
              "geometry":{"type":"LineString","coordinates":\(coords)}}
            """
        }
        do {
            try """
                {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"EPSG:4549"}},"features":[
                \(line(1, "Elektriciteitskabel", "[[501000,3379000],[501040,3379000]]")),
                \(line(2, "Kabelbed", "[[501000,3379000],[501040,3379000]]")),
                \(line(3, "Mantelbuis", "[[501030,3379000],[501010,3379000]]")),
                \(line(4, "Duct", "[[501000,3379030],[501040,3379030]]")),
                \(line(5, "Elektriciteitskabel", "[[501000,3379060],[501040,3379060]]"))]}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            try """
                {"fields":{"id":{"from":["id"]},"layer":{"constant":"DL"},"startDepth":{"from":["depth"]},
                 "endDepth":{"from":["depth"]},"owner":{"from":["owner"]},
                 "featureKind":{"from":["type"],"map":{"Elektriciteitskabel":"utilityLine","Kabelbed":"cableBed",
                                "Mantelbuis":"sleeve","Duct":"sleeve"}}}}
                """.write(toFile: mapping, atomically: true, encoding: .utf8)
            let r = try CLI.run(["import", file, "--store", dir + "/s.gpkg", "--mapping", mapping, "--policy", "strict"])
            guard r.status == 0 else { return .failure(CLITestError("import failed: \(r.stdout)\(r.stderr)")) }
        } catch {
            return .failure(CLITestError("\(error)"))
        }
        return .success(dir + "/s.gpkg")
    }()

    static let overCable = "POLYGON ((501015 3378998, 501025 3378998, 501025 3379002, 501015 3379002, 501015 3378998))"
    static let overDuct = "POLYGON ((501015 3379028, 501025 3379028, 501025 3379032, 501015 3379032, 501015 3379028))"

    @Test func digTableGroupsTheCableWithItsBedAndSleeve() throws {
        let store = try Self.store.get()
        let dig = try CLI.run(["check-dig", Self.overCable, "--depth", "1.5", "--store", store])
        #expect(dig.stdout.contains("1 conflict,"), "\(dig.stdout)")
        #expect(dig.stdout.contains("enclosures"), "\(dig.stdout)")
        #expect(dig.stdout.contains("cable bed 2, sleeve 3"), "\(dig.stdout)")
        #expect(dig.stdout.contains("Liander: 1 pipe "), "the owner once: \(dig.stdout)")
        let json = try CLI.run(["check-dig", Self.overCable, "--depth", "1.5", "--store", store, "--format", "json"])
        let report = try CLI.object(json.stdout)
        let conflicts = try #require(report["conflicts"] as? [[String: Any]])
        #expect(conflicts.count == 1)
        let enclosures = try #require(conflicts.first?["enclosures"] as? [[String: Any]])
        #expect(enclosures.map { $0["kind"] as? String } == ["cableBed", "sleeve"], "\(json.stdout)")
        #expect(enclosures.map { $0["pipeID"] as? Int } == [2, 3], "\(json.stdout)")
    }

    @Test func aLoneDuctIsReportedWithItsKind() throws {
        let store = try Self.store.get()
        let dig = try CLI.run(["check-dig", Self.overDuct, "--depth", "1.5", "--store", store])
        #expect(dig.stdout.contains("1 conflict,"), "\(dig.stdout)")
        #expect(dig.stdout.contains("sleeve"), "\(dig.stdout)")
        let json = try CLI.run(["check-dig", Self.overDuct, "--depth", "1.5", "--store", store, "--format", "json"])
        let conflicts = try #require(try CLI.object(json.stdout)["conflicts"] as? [[String: Any]])
        #expect(conflicts.map { $0["featureKind"] as? String } == ["sleeve"], "\(json.stdout)")
    }

    @Test func queryTablesAndJSONShowTheKind() throws {
        let store = try Self.store.get()
        let table = try CLI.run(["nearest", "POINT (501020 3379031)", "--store", store, "-k", "2"])
        #expect(table.status == 0, "\(table.stderr)")
        let lines = table.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.contains("kind") }, "\(table.stdout)")
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("4 ") && $0.hasSuffix("sleeve") }, "\(table.stdout)")
        let json = try CLI.run(["nearest", "POINT (501020 3379031)", "--store", store, "--format", "json"])
        #expect(json.stdout.contains("\"featureKind\" : \"sleeve\""), "\(json.stdout)")
        // Only utility lines within reach: no kind column.
        let plain = try CLI.run(["within", "POINT (501020 3379061)", "--store", store, "--distance", "5"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(plain.stdout.contains("1 pipe"), "\(plain.stdout)")
        #expect(!plain.stdout.contains("kind"), "\(plain.stdout)")
    }

    /// Queries answer the cable once, with a `with` column; `--separate-enclosures` answers all
    /// three; JSON, GeoJSON and batch answers carry `enclosures`.
    @Test func queriesGroupTheCableWithItsBedAndSleeve() throws {
        let store = try Self.store.get()
        let near = try CLI.run(["nearest", "POINT (501020 3379001)", "--store", store, "-k", "2"])
        #expect(near.status == 0, "\(near.stderr)")
        let lines = near.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("nearest k=2: 2 pipes") == true, "\(near.stdout)")
        #expect(lines.contains { $0.contains("with") }, "\(near.stdout)")
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("1 ") && $0.hasSuffix("cable bed 2, sleeve 3") },
                "\(near.stdout)")
        #expect(lines.contains { $0.trimmingCharacters(in: .whitespaces).hasPrefix("4 ") }, "the duct is the second: \(near.stdout)")
        let separate = try CLI.run(["within", "POINT (501020 3379001)", "--store", store, "--distance", "5", "--separate-enclosures"])
        #expect(separate.stdout.contains("3 pipes"), "\(separate.stdout)")
        #expect(!separate.stdout.split(separator: "\n").contains { $0.hasSuffix(" with") }, "\(separate.stdout)")
        let grouped = try CLI.run(["intersects", Self.overCable, "--store", store, "--format", "json"])
        let hits = try #require(try CLI.object(grouped.stdout)["hits"] as? [[String: Any]])
        #expect(hits.count == 1, "\(grouped.stdout)")
        let enclosures = try #require(hits.first?["enclosures"] as? [[String: Any]])
        #expect(enclosures.map { $0["pipeID"] as? Int } == [2, 3], "\(grouped.stdout)")
        #expect(enclosures.map { $0["kind"] as? String } == ["cableBed", "sleeve"], "\(grouped.stdout)")
        #expect(enclosures.allSatisfy { ($0["sourceFile"] as? String)?.hasSuffix("delivery.geojson") == true },
                "each enclosure names its file: \(grouped.stdout)")
        let geojson = try CLI.run(["intersects", Self.overCable, "--store", store, "--format", "geojson"])
        #expect(geojson.stdout.contains("\"enclosures\""), "\(geojson.stdout)")
    }

    /// The route check's table names the bed and sleeve folded into the cable's finding, each with
    /// its own status and clearance, in a `with` column; separate, they are rows of their own.
    @Test func routeCheckTableNamesTheGroupedEnclosures() throws {
        let store = try Self.store.get()
        let route = ["check-route", "LINESTRING (501005 3379001, 501035 3379001)", "--layer", "JS", "--diameter", "100",
                     "--depth", "1", "--store", store]
        let grouped = try CLI.run(route)
        #expect(grouped.status == 0, "\(grouped.stderr)")
        let rows = grouped.stdout.split(separator: "\n").map(String.init)
        #expect(rows.contains { $0.hasPrefix("status") && $0.hasSuffix(" with") }, "\(grouped.stdout)")
        #expect(rows.contains {
            $0.contains("horizontal   1 ") && $0.hasSuffix("cable bed 2 (ok, 0.95 m), sleeve 3 (ok, 0.95 m)")
        }, "\(grouped.stdout)")
        let separate = try CLI.run(route + ["--separate-enclosures"])
        let separateRows = separate.stdout.split(separator: "\n").map(String.init)
        #expect(!separateRows.contains { $0.hasSuffix(" with") }, "\(separate.stdout)")
        #expect(separateRows.filter { $0.hasPrefix("ok      horizontal") }.count == 3, "\(separate.stdout)")
    }

    @Test func batchAnswersGroupUnlessAskedSeparate() throws {
        let store = try Self.store.get()
        let lines = [
            #"{"id":1,"op":"within","geometry":"POINT (501020 3379001)","distance":5}"#,
            #"{"id":2,"op":"within","geometry":"POINT (501020 3379001)","distance":5,"enclosures":"separate"}"#,
            #"{"id":3,"op":"nearest","geometry":"POINT (501020 3379001)","k":1,"enclosures":"sideways"}"#,
        ]
        let r = try CLI.run(["query", "--batch", "-", "--store", store], stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
        let answers = r.stdout.split(separator: "\n").compactMap { try? CLI.object(String($0)) }
        #expect(answers.count == 3, "\(r.stdout)\(r.stderr)")
        guard answers.count == 3 else { return }
        let first = try #require((answers[0]["result"] as? [String: Any])?["hits"] as? [[String: Any]])
        #expect(first.count == 1 && (first[0]["enclosures"] as? [[String: Any]])?.count == 2, "\(r.stdout)")
        #expect(((answers[1]["result"] as? [String: Any])?["count"] as? Int) == 3, "\(r.stdout)")
        #expect((answers[2]["error"] as? String ?? "").contains("field enclosures must be 'grouped' or 'separate'"), "\(r.stdout)")
    }
}
