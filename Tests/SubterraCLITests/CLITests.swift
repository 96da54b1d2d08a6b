import Foundation
import Testing

/// End-to-end tests of the `subterra` executable on a generated district, checked against a
/// brute-force scan (the oracle) and for exit codes and one-line errors.
@Suite struct CLITests {
    let fx: Fixture

    init() throws { fx = try Fixture.shared.get() }

    // MARK: Help and import

    @Test func helpListsEveryCommandWithAnExample() throws {
        let r = try CLI.run(["--help"])
        #expect(r.status == 0)
        for c in ["import", "info", "nearest", "intersects", "within", "check-dig", "check-route", "section", "render", "query"] {
            #expect(r.stdout.contains(c), "help lists \(c)")
            let h = try CLI.run([c, "--help"])
            #expect(h.status == 0)
            #expect(h.stdout.lowercased().contains("example"), "\(c) --help has an example")
        }
    }

    @Test func importThenInfoCountsEveryRecord() throws {
        let info = try CLI.run(["info", "--store", fx.store, "--format", "json"])
        #expect(info.status == 0, "\(info.stderr)")
        let o = try CLI.object(info.stdout)
        #expect(o["segments"] as? Int == fx.segments.count)
        #expect(o["points"] as? Int == 5 * Fixture.n * Fixture.n)
        #expect(o["crs"] as? String == "EPSG:4549")
        let layers = (o["layers"] as? [[String: Any]] ?? []).compactMap { $0["code"] as? String }
        #expect(Set(layers) == Set(Fixture.layers.map(\.code)))
        let owners = (o["owners"] as? [[String: Any]] ?? []).compactMap { $0["owner"] as? String }
        #expect(Set(owners) == Set(Fixture.layers.map(\.owner)))
        // The same files opened directly give the same counts; the table names layers and owners.
        let direct = try CLI.run(["info", "--store", fx.dir])
        #expect(direct.status == 0)
        #expect(direct.stdout.contains("Segments    \(fx.segments.count)"))
        #expect(direct.stdout.contains("Gas Co."))
    }

    @Test func reimportUpsertsAndStrictRejectionLeavesTheStoreUnchanged() throws {
        let dir = CLI.tempDir("reimport")
        let store = dir + "/s.gpkg"
        let first = try CLI.run(["import", fx.dir, "--store", store])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Imported \(fx.segments.count) segments"))
        #expect(!first.stderr.contains("\u{1B}"), "no progress line when stderr is not a terminal")
        let again = try CLI.run(["import", fx.dir, "--store", store])
        #expect(again.status == 0)
        #expect(again.stdout.contains("the store now holds \(fx.segments.count) segments"))
        let before = try Data(contentsOf: URL(fileURLWithPath: store))
        // A segment with a negative depth and one with no layer: strict refuses the whole file.
        let bad = dir + "/bad-segments.geojson"
        try """
            {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},"features":[
            {"type":"Feature","geometry":{"type":"LineString","coordinates":[[501000,3379000],[501010,3379000]]},"properties":{"id":9001,"layer":"JS","start_point":"X1","end_point":"X2","start_depth":-5,"end_depth":1}},
            {"type":"Feature","geometry":{"type":"LineString","coordinates":[[501000,3379005],[501010,3379005]]},"properties":{"id":9002,"start_point":"X3","end_point":"X4"}}
            ]}
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let r = try CLI.run(["import", bad, "--store", store, "--policy", "strict"])
        #expect(r.status == 2)
        #expect(r.stderrLines.count == 1, "one error line: \(r.stderr)")
        #expect(r.stderr.contains("bad-segments.geojson"), "names the file: \(r.stderr)")
        #expect(r.stdout.contains("Quality:"), "prints the quality report")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == before, "strict rejection changes nothing")
        // Lenient keeps what it can and reports the rest, once it may drop half the records.
        let tooMany = try CLI.run(["import", bad, "--store", store, "--policy", "lenient"])
        #expect(tooMany.status == 2 && tooMany.stderr.contains("1 of 2 records dropped (50.0 %)"), "\(tooMany.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: store)) == before, "a refused import changes nothing")
        let lenient = try CLI.run(["import", bad, "--store", store, "--policy", "lenient", "--max-dropped", "50%"])
        #expect(lenient.status == 0, "\(lenient.stderr)")
        #expect(lenient.stdout.contains("Quality:"))
    }

    /// Under a pseudo-terminal (util-linux `script`) the import draws its progress line on stderr.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "needs util-linux script"))
    func progressLineOnlyOnATerminal() throws {
        let dir = CLI.tempDir("tty")
        let (status, text) = try CLI.runOnTerminal(["import", fx.dir, "--store", dir + "/t.gpkg"], log: dir + "/tty.log")
        #expect(status == 0)
        #expect(text.contains("\u{1B}[2K"), "progress line drawn on a terminal")
        #expect(text.contains("Imported \(fx.segments.count) segments"))
    }

    // MARK: Queries against the oracle

    @Test func nearestIntersectsWithinMatchBruteForce() throws {
        var rng = SplitMix(state: 7)
        let e = fx.extent
        var lines: [String] = []
        var expected: [(String, Set<Int>, Double?)] = []
        for q in 0..<40 {
            let p = (rng.half(e.minX - 20, e.maxX + 20), rng.half(e.minY - 20, e.maxY + 20))
            switch q % 3 {
            case 0:
                let d = fx.segments.map { Oracle.pointSegment(p, $0.a, $0.b) }
                let best = d.min()!
                let ids = Set(fx.segments.indices.filter { d[$0] == best }.map { fx.segments[$0].id })
                lines.append("{\"id\":\(q),\"op\":\"nearest\",\"geometry\":\"POINT (\(p.0) \(p.1))\",\"k\":1}")
                expected.append(("nearest", ids, best))
            case 1:
                let w = rng.half(1, 40), h = rng.half(1, 40)
                let ring = [p, (p.0 + w, p.1), (p.0 + w, p.1 + h), (p.0, p.1 + h), p]
                let ids = Set(fx.segments.filter { Oracle.segmentPolygon($0.a, $0.b, ring) == 0 }.map(\.id))
                lines.append("{\"id\":\(q),\"op\":\"intersects\",\"geometry\":\"\(Oracle.wkt(ring))\"}")
                expected.append(("intersects", ids, nil))
            default:
                let r = rng.half(0, 12)
                let ids = Set(fx.segments.filter { Oracle.pointSegment(p, $0.a, $0.b) <= r }.map(\.id))
                lines.append("{\"id\":\(q),\"op\":\"within\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[\(p.0),\(p.1)]},\"distance\":\(r)}")
                expected.append(("within", ids, nil))
            }
        }
        // Degenerate: a point exactly on a pipe vertex, a box whose edge runs along a pipe.
        let s0 = fx.segments[0]
        lines.append("{\"id\":100,\"op\":\"nearest\",\"geometry\":\"POINT (\(s0.a.0) \(s0.a.1))\",\"k\":1}")
        expected.append(("nearest", Set(fx.segments.filter { Oracle.pointSegment(s0.a, $0.a, $0.b) == 0 }.map(\.id)), 0))
        let edge = [s0.a, s0.b, (s0.b.0, s0.b.1 + 1), (s0.a.0, s0.a.1 + 1), s0.a]
        lines.append("{\"id\":101,\"op\":\"intersects\",\"geometry\":\"\(Oracle.wkt(edge))\"}")
        expected.append(("intersects", Set(fx.segments.filter { Oracle.segmentPolygon($0.a, $0.b, edge) == 0 }.map(\.id)), nil))

        let r = try CLI.run(["query", "--batch", "-", "--store", fx.store], stdin: Data(lines.joined(separator: "\n").utf8))
        #expect(r.status == 0, "\(r.stderr)")
        let answers = r.stdoutLines
        #expect(answers.count == lines.count)
        for (k, a) in answers.enumerated() where k < expected.count {
            let o = try CLI.object(a)
            #expect(o["ok"] as? Bool == true, "\(a)")
            let result = o["result"] as? [String: Any] ?? [:]
            let hits = result["hits"] as? [[String: Any]] ?? []
            let ids = Set(hits.compactMap { $0["id"] as? Int })
            let (op, want, dist) = expected[k]
            if op == "nearest" {
                #expect(hits.count == 1)
                #expect(want.isSuperset(of: ids), "line \(k + 1): nearest \(ids) not among brute-force \(want)")
                let d = hits.first?["distance"] as? Double ?? -1
                #expect(abs(d - dist!) <= 1e-6, "line \(k + 1): distance \(d) vs \(dist!)")
            } else {
                #expect(ids == want, "line \(k + 1) \(op): got \(ids.sorted()) want \(want.sorted())")
            }
        }
    }

    @Test func queryCommandsPrintTableJSONAndGeoJSON() throws {
        let s = fx.segments[3]
        let p = "POINT (\(s.a.0 + 0.5) \(s.a.1 + 0.5))"
        let table = try CLI.run(["nearest", p, "-k", "3", "--store", fx.store])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("distance_m"))
        let json = try CLI.object(try CLI.run(["nearest", p, "-k", "3", "--store", fx.store, "--format", "json"]).stdout)
        #expect((json["hits"] as? [Any])?.count == 3)
        let geo = try CLI.object(try CLI.run(["within", p, "--distance", "5", "--layer", "RQ", "--store", fx.store, "--format", "geojson"]).stdout)
        #expect(geo["type"] as? String == "FeatureCollection")
        for f in geo["features"] as? [[String: Any]] ?? [] {
            #expect((f["properties"] as? [String: Any])?["layer"] as? String == "RQ")
        }
        // The same point in WGS84 gives the same nearest pipe.
        let wgs = try CLI.run(["nearest", "POINT (121.0 28.0)", "--crs", "EPSG:4326", "--store", fx.store, "--format", "json"])
        #expect(wgs.status == 0, "\(wgs.stderr)")
        let owner = try CLI.run(["intersects", Oracle.wkt([(fx.extent.minX, fx.extent.minY), (fx.extent.maxX, fx.extent.minY), (fx.extent.maxX, fx.extent.maxY), (fx.extent.minX, fx.extent.minY)]), "--owner", "Gas Co.", "--store", fx.store, "--format", "json"])
        let hits = (try CLI.object(owner.stdout))["hits"] as? [[String: Any]] ?? []
        #expect(!hits.isEmpty && hits.allSatisfy { $0["owner"] as? String == "Gas Co." })
    }

    // MARK: Dig checks

    @Test func checkDigConflictsMatchBruteForceAndExitCodes() throws {
        var rng = SplitMix(state: 11)
        let e = fx.extent
        var total = 0
        for _ in 0..<6 {
            let p = (rng.half(e.minX, e.maxX - 10), rng.half(e.minY, e.maxY - 10))
            let w = rng.half(1, 10), h = rng.half(1, 10)
            let ring = [p, (p.0 + w, p.1), (p.0 + w, p.1 + h), (p.0, p.1 + h), p]
            let r = try CLI.run(["check-dig", Oracle.wkt(ring), "--depth", "1.5", "--store", fx.store, "--format", "json"])
            #expect(r.status == 0, "\(r.stderr)")
            let report = try CLI.object(r.stdout)
            let conflicts = report["conflicts"] as? [[String: Any]] ?? []
            total += conflicts.count
            var byID: [Int: [String: Any]] = [:]
            for c in conflicts { byID[c["pipeID"] as? Int ?? -1] = c }
            // Required clearance per layer (one profile per layer in the fixture).
            var required: [String: Double] = [:]
            for c in conflicts { required[c["layer"] as? String ?? ""] = c["requiredClearance"] as? Double }
            for s in fx.segments {
                // GB 50289 clearances are to the outer wall: centreline distance less half the width.
                let d = Oracle.segmentPolygon(s.a, s.b, ring)
                let width = Fixture.outerWidthM(s.layer), clear = max(0, d - width / 2)
                if let c = byID[s.id] {
                    let got = c["distance"] as? Double ?? -1
                    #expect(abs(got - d) <= 1e-6, "pipe \(s.id): distance \(got) vs brute force \(d)")
                    #expect(c["outerWidth"] as? Double == width, "pipe \(s.id)")
                    let gotClear = c["clearDistance"] as? Double ?? -1
                    #expect(abs(gotClear - clear) <= 1e-6, "pipe \(s.id): clear distance \(gotClear) vs brute force \(clear)")
                    #expect(clear == 0 || clear < (c["requiredClearance"] as? Double ?? 0))
                } else {
                    #expect(clear > 0, "pipe \(s.id) meets the dig at its wall but is not reported")
                    if let req = required[s.layer] { #expect(clear >= req, "pipe \(s.id) wall at \(clear) m is inside \(req) m but not reported") }
                }
            }
            let fail = try CLI.run(["check-dig", Oracle.wkt(ring), "--depth", "1.5", "--store", fx.store, "--fail-on-conflict"])
            #expect(fail.status == (conflicts.isEmpty ? 0 : 1))
        }
        #expect(total > 0, "some random site conflicts")
        // Far from every pipe: clear, exit 0 even with --fail-on-conflict.
        let far = [(e.maxX + 100, e.maxY + 100), (e.maxX + 105, e.maxY + 100), (e.maxX + 105, e.maxY + 105), (e.maxX + 100, e.maxY + 100)]
        let clear = try CLI.run(["check-dig", Oracle.wkt(far), "--depth", "2", "--store", fx.store, "--fail-on-conflict"])
        #expect(clear.status == 0)
        #expect(clear.stdout.contains("CLEAR"))
    }

    @Test func checkDigWritesAMapWithLegendAndConflictLabels() throws {
        let dir = CLI.tempDir("map")
        // A pit on the node where every layer crosses.
        let cx = Fixture.x0 + Fixture.spacing, cy = Fixture.y0 + Fixture.spacing
        let ring = [(cx - 2, cy - 2), (cx + 2, cy - 2), (cx + 2, cy + 2), (cx - 2, cy + 2), (cx - 2, cy - 2)]
        let svg = dir + "/dig.svg"
        let r = try CLI.run(["check-dig", Oracle.wkt(ring), "--depth", "1.5", "--store", fx.store, "--map", svg, "--work-type", "valve pit"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("Owners to notify"))
        #expect(r.stdout.contains("clear_m") && r.stdout.contains("centreline_m"), "the table gives both distances")
        let check = try #require(SVGCheck.parse(svg), "well-formed SVG")
        #expect(check.text.contains("Legend"))
        #expect(check.text.contains("RQ gas"))
        #expect(check.text.contains("excavation area"))
        #expect(check.text.contains(" m"), "scale bar")
        #expect(check.text.contains("N"), "north arrow")
        let report = try CLI.object(try CLI.run(["check-dig", Oracle.wkt(ring), "--depth", "1.5", "--store", fx.store, "--format", "json"]).stdout)
        let conflicts = report["conflicts"] as? [[String: Any]] ?? []
        #expect(!conflicts.isEmpty)
        for c in conflicts.prefix(14) {
            #expect(check.text.contains("#\(c["pipeID"] as? Int ?? -1)"), "conflict \(c["pipeID"] ?? "?") is labelled")
        }
        #expect(check.text.contains("Gas Co."), "labels name the owner")
        // Labels give the clear distance to the wall, the figure the clearance is checked against.
        for c in conflicts.prefix(14) {
            let label = "clear \(String(format: "%.2f", c["clearDistance"] as? Double ?? -1)) m (needs"
            #expect(check.text.contains(label), "conflict \(c["pipeID"] ?? "?"): \(label)")
        }
        // GeoJSON output: the area plus one feature per conflict.
        let geo = try CLI.object(try CLI.run(["check-dig", Oracle.wkt(ring), "--depth", "1.5", "--store", fx.store, "--format", "geojson"]).stdout)
        #expect((geo["features"] as? [Any])?.count == conflicts.count + 1)
        let props = (geo["features"] as? [[String: Any]] ?? []).compactMap { $0["properties"] as? [String: Any] }
        #expect(props.filter { $0["kind"] as? String == "conflict" }.allSatisfy { $0["clearDistance"] is Double && $0["outerWidth"] is Double })
        // render dig writes the same kind of map.
        let svg2 = dir + "/render.svg"
        #expect(try CLI.run(["render", "dig", Oracle.wkt(ring), "--depth", "1.5", "--store", fx.store, "--out", svg2]).status == 0)
        #expect(SVGCheck.parse(svg2) != nil)
    }

    // MARK: Route and section

    @Test func checkRouteFindsEveryCrossingAndFailsOnViolation() throws {
        let a = (Fixture.x0 + 10.5, Fixture.y0 + 7.5), b = (Fixture.x0 + 170.5, Fixture.y0 + 131.5)
        let wkt = "LINESTRING (\(a.0) \(a.1), \(b.0) \(b.1))"
        let r = try CLI.run(["check-route", wkt, "--layer", "RQ", "--pressure", "0.3", "--diameter", "200", "--depth", "1.05", "--store", fx.store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try CLI.object(r.stdout)
        let findings = report["findings"] as? [[String: Any]] ?? []
        let vertical = Set(findings.filter { $0["kind"] as? String == "vertical" }.compactMap { $0["pipeID"] as? Int })
        let unruled = Set((report["unruledPipeIDs"] as? [Int]) ?? [])
        let crossing = Set(fx.segments.filter { Oracle.segmentsMeet(a, b, $0.a, $0.b) }.map(\.id))
        #expect(vertical.union(unruled) == crossing, "crossings: got \(vertical.union(unruled).sorted()) want \(crossing.sorted())")
        let violations = findings.filter { $0["status"] as? String == "violation" }
        // Gas at 1.05 m crosses gas at 1.0–1.2 m: violations exist, so the gate fails.
        #expect(!violations.isEmpty)
        let gate = try CLI.run(["check-route", wkt, "--layer", "RQ", "--pressure", "0.3", "--diameter", "200", "--depth", "1.05", "--store", fx.store, "--fail-on-conflict", "--map", CLI.tempDir("route") + "/r.svg"])
        #expect(gate.status == 1)
        #expect(gate.stdout.contains("violation"))
        let missing = try CLI.run(["check-route", wkt, "--depth", "1", "--store", fx.store])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("--layer"))
    }

    @Test func sectionMatchesBruteForceCrossingsAndDraws() throws {
        let a = (Fixture.x0 + 30.0, Fixture.y0 - 20), b = (Fixture.x0 + 30.0, Fixture.y0 + 80)
        let wkt = "LINESTRING (\(a.0) \(a.1), \(b.0) \(b.1))"
        let dir = CLI.tempDir("section")
        let r = try CLI.run(["section", wkt, "--store", fx.store, "--format", "json", "--svg", dir + "/s.svg"])
        #expect(r.status == 0, "\(r.stderr)")
        let items = (try CLI.object(r.stdout))["items"] as? [[String: Any]] ?? []
        var want: [(Int, Double)] = []
        for s in fx.segments where Oracle.segmentsMeet(a, b, s.a, s.b) {
            // The cut is vertical at x = a.0; horizontal pipes cross it at their y.
            want.append((s.id, s.a.1 - a.1))
        }
        let got = items.map { ($0["pipeID"] as? Int ?? -1, $0["offset"] as? Double ?? -1) }
        #expect(got.map(\.0).sorted() == want.map(\.0).sorted())
        for (id, off) in got {
            if let w = want.first(where: { $0.0 == id }) { #expect(abs(w.1 - off) <= 1e-6, "pipe \(id) offset \(off) vs \(w.1)") }
            #expect(items.first { $0["pipeID"] as? Int == id }?["depthTop"] as? Double != nil)
        }
        let svg = try #require(SVGCheck.parse(dir + "/s.svg"))
        #expect(svg.text.contains("depth below ground"))
        #expect(svg.text.contains("ground"))
        #expect((svg.elements["ellipse"] ?? 0) == items.count, "every crossed pipe drawn")
        let render = try CLI.run(["render", "section", wkt, "--store", fx.store, "--out", dir + "/r.svg"])
        #expect(render.status == 0)
        #expect(SVGCheck.parse(dir + "/r.svg") != nil)
        let table = try CLI.run(["section", wkt, "--store", fx.store])
        #expect(table.stdout.contains("offset_m"))
    }

    // MARK: Batch mode

    @Test func batchAnswersAThousandLinesInOrderWithErrorsInline() throws {
        var rng = SplitMix(state: 3)
        let e = fx.extent
        var lines: [String] = []
        var nearest: [Int: Double] = [:]
        for q in 0..<1000 {
            let p = (rng.half(e.minX, e.maxX), rng.half(e.minY, e.maxY))
            switch q % 10 {
            case 7: lines.append("{\"id\":\(q),\"op\":\"nearest\",\"geometry\":\"POINT (nan 1)\"}")
            case 8: lines.append("this is not json \(q)")
            case 9: lines.append("{\"id\":\(q),\"op\":\"check-dig\",\"geometry\":\"POLYGON ((\(p.0) \(p.1), \(p.0 + 3) \(p.1), \(p.0 + 3) \(p.1 + 3), \(p.0) \(p.1 + 3), \(p.0) \(p.1)))\",\"depth\":1.2}")
            default:
                lines.append("{\"id\":\(q),\"op\":\"nearest\",\"geometry\":\"POINT (\(p.0) \(p.1))\",\"k\":1}")
                nearest[q] = fx.segments.map { Oracle.pointSegment(p, $0.a, $0.b) }.min()!
            }
        }
        let file = CLI.tempDir("batch") + "/q.jsonl"
        try lines.joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let empty = try CLI.run(["query", "--batch", "-", "--store", fx.store], stdin: Data("\n\n".utf8))
        #expect(empty.status == 0 && empty.stdout.isEmpty, "blank input, no answers")
        let r = try CLI.run(["query", "--batch", file, "--store", fx.store])
        #expect(r.status == 0, "\(r.stderr)")
        let out = r.stdoutLines
        #expect(out.count == 1000)
        for (k, line) in out.enumerated() {
            let o = try CLI.object(line)
            #expect(o["line"] as? Int == k + 1)
            switch k % 10 {
            case 7, 8:
                #expect(o["ok"] as? Bool == false)
                #expect(!(o["error"] as? String ?? "").isEmpty)
                if k % 10 == 7 { #expect(o["id"] as? Int == k) }
            case 9:
                #expect(o["ok"] as? Bool == true)
                #expect((o["result"] as? [String: Any])?["conflicts"] != nil)
            default:
                #expect(o["id"] as? Int == k)
                let hit = ((o["result"] as? [String: Any])?["hits"] as? [[String: Any]])?.first
                #expect(abs((hit?["distance"] as? Double ?? -1) - nearest[k]!) <= 1e-6)
            }
        }
    }

    // MARK: Bad input: one clear line, exit 2, store unchanged

    @Test func badInputGetsOneClearErrorLineAndExit2() throws {
        let dir = CLI.tempDir("bad")
        let before = try Data(contentsOf: URL(fileURLWithPath: fx.store))
        let corrupt = dir + "/corrupt.gpkg"
        try Data("this is not sqlite".utf8).write(to: URL(fileURLWithPath: corrupt))
        // 10^6 vertices (14 MB): refused by size (default 8 MiB) or, with that raised, by count.
        let huge = dir + "/huge.wkt"
        var wkt = "POLYGON ((0 0"
        wkt.reserveCapacity(20_000_000)
        for i in 1..<999_999 { wkt += ", \(i % 1000) \(i / 1000 + 1)" }
        wkt += ", 0 0))"
        try wkt.write(toFile: huge, atomically: true, encoding: .utf8)
        let badRules = dir + "/rules.json"
        try #"{"name": 5}"#.write(toFile: badRules, atomically: true, encoding: .utf8)
        let box = "POLYGON ((501000 3379000, 501010 3379000, 501010 3379010, 501000 3379000))"
        let cases: [([String], String)] = [
            (["check-dig", "POLYGON ((501000 3379000, 501010 3379010, 501010 3379000, 501000 3379010, 501000 3379000))", "--depth", "1", "--store", fx.store], "Self-intersection"),
            (["check-dig", box, "--depth", "1", "--crs", "EPSG:999999", "--store", fx.store], "EPSG:999999"),
            (["check-dig", "@" + dir + "/missing.wkt", "--depth", "1", "--store", fx.store], "missing.wkt: file does not exist"),
            (["check-dig", box, "--depth", "1", "--store", dir + "/nope.gpkg"], "nope.gpkg: file does not exist"),
            (["check-dig", box, "--depth", "1", "--store", corrupt], "not a GeoPackage"),
            (["nearest", "POINT (nan 3379000)", "--store", fx.store], "WKT"),
            (["nearest", "{\"type\":\"Point\",\"coordinates\":[501000]}", "--store", fx.store], "GeoJSON"),
            (["check-dig", "@" + huge, "--depth", "1", "--max-geometry-bytes", "100000000", "--store", fx.store], "vertices"),
            (["check-dig", "@" + huge, "--depth", "1", "--store", fx.store], "larger than 8388608 bytes"),
            (["check-dig", box, "--depth", "-1", "--store", fx.store], "--depth"),
            (["within", box, "--distance", "nan", "--store", fx.store], "distance"),
            (["check-dig", box, "--store", fx.store], "--depth is missing"),
            (["nearest", "--store", fx.store], "Missing expected argument"),
            (["section", "POINT (501000 3379000)", "--store", fx.store], "LINESTRING"),
            (["check-dig", box, "--depth", "1", "--store", fx.store, "--rules", badRules], "--rules"),
            (["query", "--batch", dir + "/none.jsonl", "--store", fx.store], "none.jsonl"),
        ]
        for (args, needle) in cases {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args.prefix(2)): exit \(r.status)")
            #expect(r.stderrLines.count == 1, "\(args.prefix(2)): one line, got \(r.stderr)")
            #expect(r.stderr.hasPrefix("subterra: error: "))
            #expect(r.stderr.contains(needle), "\(args.prefix(2)): '\(needle)' in \(r.stderr)")
        }
        // Importing into a corrupt store refuses and leaves it as it was.
        let imp = try CLI.run(["import", fx.dir, "--store", corrupt])
        #expect(imp.status == 2)
        #expect(try Data(contentsOf: URL(fileURLWithPath: corrupt)) == Data("this is not sqlite".utf8))
        #expect(try Data(contentsOf: URL(fileURLWithPath: fx.store)) == before, "queries never change the store")
    }

    // MARK: The committed sample (when present)

    static var sample: String? {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Datasets/sample").path
        return FileManager.default.fileExists(atPath: dir + "/dig-sites.geojson") && FileManager.default.fileExists(atPath: dir + "/segments.geojson") ? dir : nil
    }

    @Test(.enabled(if: CLITests.sample != nil, "Datasets/sample is not generated yet"))
    func sampleDigSitesHitWhatTheGeneratorClaims() throws {
        let dir = CLITests.sample!
        let sites = try CLI.object(String(contentsOfFile: dir + "/dig-sites.geojson", encoding: .utf8))["features"] as? [[String: Any]] ?? []
        #expect(!sites.isEmpty)
        let lines = sites.indices.map { k -> String in
            let f = sites[k]
            let props = f["properties"] as? [String: Any] ?? [:]
            let geometry = String(decoding: try! JSONSerialization.data(withJSONObject: f["geometry"]!), as: UTF8.self)
            return "{\"id\":\(k + 1),\"op\":\"intersects\",\"crs\":\"\(props["crs_name"] as? String ?? "EPSG:4549")\",\"geometry\":\(geometry)}"
        }
        let r = try CLI.run(["query", "--batch", "-", "--store", dir], stdin: Data(lines.joined(separator: "\n").utf8))
        #expect(r.status == 0, "\(r.stderr)")
        for (k, line) in r.stdoutLines.enumerated() {
            let hits = ((try CLI.object(line))["result"] as? [String: Any])?["hits"] as? [[String: Any]] ?? []
            let claimed = Set((sites[k]["properties"] as? [String: Any])?["hits"] as? [Int] ?? [])
            #expect(Set(hits.compactMap { $0["id"] as? Int }) == claimed, "site \(k + 1)")
        }
        let dig = try CLI.run(["check-dig", "@" + dir + "/dig-sites.geojson", "--feature", "2", "--store", dir, "--format", "json"])
        #expect(dig.status == 0, "\(dig.stderr)")
    }
}
