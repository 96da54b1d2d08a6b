import Foundation
import Testing

/// Issue 11, "unknown codes are errors": unknown or empty codes exit 2 with one line naming the
/// valid codes; a pair no rule covers is "not checked", never "OK"; rule files are validated.
@Suite struct CodesCLITests {
    let fx: Fixture

    init() throws { fx = try Fixture.shared.get() }

    var bigPoly: String {
        Oracle.wkt([(fx.extent.minX, fx.extent.minY), (fx.extent.maxX, fx.extent.minY), (fx.extent.maxX, fx.extent.maxY),
                    (fx.extent.minX, fx.extent.maxY), (fx.extent.minX, fx.extent.minY)])
    }

    /// A route crossing the grid diagonally (every layer, many crossings).
    var route: String {
        "LINESTRING (\(Fixture.x0 + 10.5) \(Fixture.y0 + 7.5), \(Fixture.x0 + 170.5) \(Fixture.y0 + 131.5))"
    }

    func expectRefused(_ args: [String], _ needles: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let r = try CLI.run(args)
        #expect(r.status == 2, "\(args): exit \(r.status), \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
        #expect(r.stderrLines.count == 1, "\(args): one line, got \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("subterra: error: "), sourceLocation: sourceLocation)
        for n in needles { #expect(r.stderr.contains(n), "'\(n)' in \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(r.stdout.isEmpty, "nothing answered: \(r.stdout.prefix(200))", sourceLocation: sourceLocation)
    }

    @Test func unknownLayerInAQueryFilterExits2NamingValidCodes() throws {
        try expectRefused(["intersects", bigPoly, "--layer", "XX", "--store", fx.store],
                          ["--layer: unknown layer code \"XX\"; valid codes: JS, PS, RQ, RL, DL, TX, GY, QT, GX"])
        try expectRefused(["within", "POINT (501000 3379000)", "--distance", "5", "--layer", "RQ,ZZ", "--store", fx.store],
                          ["unknown layer code \"ZZ\""])
        try expectRefused(["section", "LINESTRING (501000 3378990, 501000 3379100)", "--layer", "xx", "--store", fx.store],
                          ["unknown layer code \"XX\""])
    }

    @Test(arguments: ["", "RQ,,", ",RQ", " "])
    func emptyLayerItemsExit2(_ item: String) throws {
        try expectRefused(["intersects", bigPoly, "--layer", item, "--store", fx.store], ["--layer: empty code"])
    }

    @Test func unknownOwnerAndSubtypeExit2() throws {
        try expectRefused(["intersects", bigPoly, "--owner", "gas co.", "--store", fx.store],
                          ["--owner: no pipe has owner \"gas co.\" (did you mean \"Gas Co.\"?)", "the map has 5 owners"])
        try expectRefused(["intersects", bigPoly, "--owner", "", "--store", fx.store], ["--owner: empty owner name"])
        try expectRefused(["intersects", bigPoly, "--subtype", "QQ", "--store", fx.store], ["--subtype: unknown sub-type code \"QQ\""])
        try expectRefused(["intersects", bigPoly, "--layer", "RQ", "--subtype", "WS", "--store", fx.store],
                          ["--subtype: sub-type code \"WS\" is not a sub-type of RQ; valid codes: MQ, YH, TR"])
        let ok = try CLI.run(["intersects", bigPoly, "--layer", "RQ", "--subtype", "TR", "--store", fx.store, "--format", "json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let hits = try CLI.object(ok.stdout)["hits"] as? [[String: Any]] ?? []
        #expect(!hits.isEmpty && hits.allSatisfy { $0["subtype"] as? String == "TR" })
    }

    @Test func checkRouteWithAnUnknownLayerExits2() throws {
        try expectRefused(["check-route", route, "--layer", "ZZ", "--depth", "1", "--store", fx.store, "--fail-on-conflict"],
                          ["--layer: unknown layer code \"ZZ\"; valid codes: JS"])
        try expectRefused(["check-route", route, "--layer", "RQ", "--subtype", "WS", "--depth", "1", "--store", fx.store],
                          ["--subtype: sub-type code \"WS\" is not a sub-type of RQ"])
        try expectRefused(["check-route", route, "--layer", "", "--depth", "1", "--store", fx.store], ["--layer"])
        try expectRefused(["check-route", route, "--layer", "RQ", "--burial", "ZX", "--depth", "1", "--store", fx.store],
                          ["--burial: unknown burial code \"ZX\"; valid codes: ZM"])
    }

    /// QT (other) is a valid layer the bundled rules give no class: every pipe the route meets is
    /// an unchecked pair, so the answer is "not checked", and the gate fails.
    @Test func checkRouteWithNoRuleIsNotCheckedAndFailsTheGate() throws {
        let table = try CLI.run(["check-route", route, "--layer", "QT", "--depth", "1", "--store", fx.store])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(!table.stdout.contains("result      OK"), "\(table.stdout)")
        #expect(table.stdout.contains("NOT CHECKED"), "\(table.stdout)")
        #expect(table.stdout.contains("not checked: no rule for QT–RQ"), "\(table.stdout)")
        let json = try CLI.object(try CLI.run(["check-route", route, "--layer", "QT", "--depth", "1", "--store", fx.store, "--format", "json"]).stdout)
        #expect(json["result"] as? String == "not-checked")
        let unchecked = json["unchecked"] as? [[String: Any]] ?? []
        #expect(!unchecked.isEmpty)
        #expect(unchecked.allSatisfy { ($0["reason"] as? String)?.hasPrefix("not checked: no rule for QT") == true })
        #expect(unchecked.contains { $0["kind"] as? String == "cover" && $0["pipeID"] == nil })
        #expect(unchecked.contains { $0["kind"] as? String == "vertical" && $0["layer"] as? String == "RQ" })
        let geo = try CLI.object(try CLI.run(["check-route", route, "--layer", "QT", "--depth", "1", "--store", fx.store, "--format", "geojson"]).stdout)
        let routeProps = ((geo["features"] as? [[String: Any]])?.first?["properties"] as? [String: Any]) ?? [:]
        #expect(routeProps["result"] as? String == "not-checked")
        let gate = try CLI.run(["check-route", route, "--layer", "QT", "--depth", "1", "--store", fx.store, "--fail-on-conflict"])
        #expect(gate.status == 1, "unchecked pairs fail the gate: \(gate.stdout)")
    }

    /// A store of one industrial (GY) pipe, which no rule covers: a dig beside it is "not
    /// checked", never "CLEAR", and fails the gate.
    @Test func checkDigNearAnUnruledPipeIsNotChecked() throws {
        let dir = CLI.tempDir("unruled-dig")
        let header = "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}},\"features\":[\n"
        let seg = "{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[501000,3379000],[501050,3379000]]},\"properties\":{\"id\":1,\"layer\":\"GY\",\"start_point\":\"G1\",\"end_point\":\"G2\",\"start_depth\":1.0,\"end_depth\":1.0,\"owner\":\"Plant\"}}"
        let pts = ["G1": (501000, 3379000), "G2": (501050, 3379000)].map { n, p in
            "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(p.0),\(p.1)]},\"properties\":{\"number\":\"\(n)\",\"layer\":\"GY\",\"category\":\"feature\",\"kind\":\"tee\",\"depth\":1.0}}"
        }
        try (header + seg + "\n]}\n").write(toFile: dir + "/segments.geojson", atomically: true, encoding: .utf8)
        try (header + pts.joined(separator: ",\n") + "\n]}\n").write(toFile: dir + "/points.geojson", atomically: true, encoding: .utf8)
        let dig = "POLYGON ((501010 3379001, 501014 3379001, 501014 3379005, 501010 3379005, 501010 3379001))"
        let table = try CLI.run(["check-dig", dig, "--depth", "1.5", "--store", dir])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(!table.stdout.contains("CLEAR"), "\(table.stdout)")
        #expect(table.stdout.contains("not checked: no rule for dig–GY"), "\(table.stdout)")
        let svg = dir + "/dig.svg"
        let drawn = try CLI.run(["check-dig", dig, "--depth", "1.5", "--store", dir, "--map", svg])
        #expect(drawn.status == 0, "\(drawn.stderr)")
        #expect((try? String(contentsOfFile: svg, encoding: .utf8))?.contains("NOT CHECKED") == true)
        let gate = try CLI.run(["check-dig", dig, "--depth", "1.5", "--store", dir, "--fail-on-conflict"])
        #expect(gate.status == 1, "\(gate.stdout)")
    }

    func rulesFile(_ name: String, _ json: String) throws -> String {
        let path = CLI.tempDir("rules-\(name)") + "/city.json"
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func ruleFilesAreValidated() throws {
        let box = "POLYGON ((501000 3379000, 501010 3379000, 501010 3379010, 501000 3379000))"
        func run(_ rules: String) -> [String] { ["check-dig", box, "--depth", "1", "--store", fx.store, "--rules", rules] }
        let unknownLayer = try rulesFile("layer", #"{"layerClasses": {"map": {"JS": "water", "PS": "drainage", "RQ": "gas", "RL": "heat", "DL": "power", "TX": "telecom", "ZZ": "telecom"}}}"#)
        try expectRefused(run(unknownLayer), [unknownLayer, "unknown layer code \"ZZ\"; valid codes: JS"])
        let huge = try rulesFile("huge", #"{"excavation": {"id": "x", "source": "city", "rows": {"power": 1e9}}}"#)
        try expectRefused(run(huge), [huge, #"excavation.rows["power"]"#, "1000000000", "<= 100"])
        let infinite = try rulesFile("inf", #"{"excavation": {"id": "x", "source": "city", "rows": {"power": 1e999}}}"#)
        try expectRefused(run(infinite), [infinite])
        let negative = try rulesFile("neg", #"{"excavation": {"id": "x", "source": "city", "rows": {"power": -1}}}"#)
        try expectRefused(run(negative), [negative, #"excavation.rows["power"]"#, ">= 0"])
        let old = try rulesFile("old", #"{"severity": {"criticalVoltageKVAtOrAbove": 35}}"#)
        try expectRefused(run(old), [old, "severity.criticalVoltageKVAtOrAbove", "severity.critical"])
        let badClass = try rulesFile("class", #"{"severity": {"critical": [{"class": "electric", "voltageKVAtOrAbove": 10}]}}"#)
        try expectRefused(run(badClass), [badClass, "severity.critical[0]", "class \"electric\" is not a class of layerClasses.map"])
        let badEmptyItem = try rulesFile("empty", #"{"layerClasses": {"map": {"": "water", "JS": "water", "PS": "drainage", "RQ": "gas", "RL": "heat", "DL": "power", "TX": "telecom"}}}"#)
        try expectRefused(run(badEmptyItem), [badEmptyItem, "empty layer code"])
    }
}
