import CGEOS
import Foundation
import SubterraGeometry
import Testing

/// GeoJSON: round trips of every geometry type, GEOS's GeoJSON reader as an oracle, the real
/// Vermont sewer files, the legacy `crs` member, exact error messages, and fuzzing.
@Suite struct GeoJSONTests {
    static let vermont = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/datasets/vermont-sewer").path

    @Test func geometriesRoundTripAndGEOSReadsThem() throws {
        let g = GEOSOracle()
        var gen = CaseGen(seed: 31)
        for k in 0..<3000 {
            let geom = gen.geometry(z: k % 2 == 0)
            let text = GeoJSON.write(geom)
            #expect(try GeoJSON.parseGeometry(text) == geom, "\(text)")
            // GEOS 3.11's GeoJSON reader is 2D only.
            if geom.hasZ { continue }
            // GEOS's own GeoJSON reader sees exactly the same coordinates (compared through WKB).
            let gg = try #require(g.readGeoJSON(text), "GEOS could not read \(text)")
            let viaGEOS = try WKB.read(g.writeWKB(gg, littleEndian: true, dims: geom.hasZ ? 3 : 2, iso: false, includeSRID: false))
            g.free(gg)
            #expect(viaGEOS.geometry == geom)
        }
    }

    @Test func readsGEOSOutput() throws {
        let g = GEOSOracle()
        var gen = CaseGen(seed: 32)
        for _ in 0..<1000 {
            let geom = gen.geometry(z: false)
            let gg = try #require(g.readWKT(WKT.write(geom)))
            let text = g.writeGeoJSON(gg)
            g.free(gg)
            #expect(try GeoJSON.parseGeometry(text) == geom, "\(text)")
        }
    }

    @Test func featuresKeepPropertiesIdsAndOrder() throws {
        let text = """
            {"type": "FeatureCollection",
             "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4549"}},
             "features": [
              {"type": "Feature", "id": "JS-001", "geometry": {"coordinates": [[3150000.5, 40500000.25, -1.2],
                 [3150010, 40500000, -1.4]], "type": "LineString"},
               "properties": {"z": 1, "a": "给水 \\"DN300\\"\\n\\u00e9\\ud83d\\ude00", "m": [true, false, null, -0.0, 1e-7],
                              "o": {"k": {}}, "n": null}},
              {"type": "Feature", "id": 7, "geometry": null, "properties": null, "bbox": [0, 0, 1, 1]},
              {"properties": {}, "geometry": {"type": "GeometryCollection", "geometries": []}, "type": "Feature"}
             ]}
            """
        guard case .featureCollection(let fc) = try GeoJSON.parse(text) else {
            Issue.record("not a collection")
            return
        }
        #expect(fc.crs?.epsg == 4549)
        #expect(fc.features.count == 3)
        let f0 = fc.features[0]
        #expect(f0.id == .string("JS-001"))
        #expect(f0.geometry == .lineString(try LineString([Point(3_150_000.5, 40_500_000.25, -1.2), Point(3_150_010, 40_500_000, -1.4)])))
        #expect(f0.properties?.keys == ["z", "a", "m", "o", "n"])
        #expect(f0.properties?["a"] == .string("给水 \"DN300\"\né😀"))
        #expect(f0.properties?["m"] == .array([.bool(true), .bool(false), .null, .number(-0.0), .number(1e-7)]))
        #expect(f0.properties?["n"] == .null)
        #expect(fc.features[1] == GeoJSONFeature(id: .number(7), geometry: nil, properties: nil))
        #expect(fc.features[2].geometry == .collection([]))
        // Writing and reading back gives the same collection, crs included.
        let again = try GeoJSON.parse(GeoJSON.write(fc))
        #expect(again == .featureCollection(fc))
    }

    @Test func crsNames() {
        #expect(GeoJSONCRS(name: "urn:ogc:def:crs:EPSG::4549").epsg == 4549)
        #expect(GeoJSONCRS(name: "EPSG:4549").epsg == 4549)
        #expect(GeoJSONCRS(name: "urn:ogc:def:crs:EPSG:9.1:4549").epsg == 4549)
        #expect(GeoJSONCRS(name: "http://www.opengis.net/def/crs/EPSG/0/32618").epsg == 32618)
        #expect(GeoJSONCRS(name: "urn:ogc:def:crs:OGC:1.3:CRS84").epsg == nil)
        #expect(GeoJSONCRS(name: "urn:ogc:def:crs:OGC:1.3:CRS84").isCRS84)
        #expect(GeoJSONCRS(epsg: 4549).name == "urn:ogc:def:crs:EPSG::4549")
    }

    @Test(arguments: [
        ("BarreL", 1120, "LineString"), ("BarreP", 1246, "Point"), ("ColchesterL", 190, "LineString"),
        ("ColchesterP", 189, "Point"), ("MontpelierL", 1133, "LineString"), ("MontpelierP", 1059, "Point"),
    ])
    func vermontSewerFiles(name: String, count: Int, type: String) throws {
        let path = "\(Self.vermont)/\(name).geojson"
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        guard case .featureCollection(let fc) = try GeoJSON.parse(bytes) else {
            Issue.record("\(name) is not a feature collection")
            return
        }
        #expect(fc.features.count == count)
        #expect(fc.crs == nil)
        var streamed = 0
        let header = try GeoJSON.forEachFeature(inFile: path) { i, f in
            #expect(f == fc.features[i])
            streamed += 1
        }
        #expect(streamed == count && header.featureCount == count)
        let wrongType = fc.features.filter { f in
            switch (f.geometry, type) {
            case (.lineString?, "LineString"), (.point?, "Point"), (.multiLineString?, "LineString"): return false
            default: return true
            }
        }
        #expect(wrongType.isEmpty, "\(wrongType.prefix(3))")
        // Every coordinate is a plausible Vermont lon/lat.
        let env = fc.features.reduce(Envelope.empty) { $0.union($1.geometry?.envelope ?? .empty) }
        #expect(env.minX > -74 && env.maxX < -71 && env.minY > 43 && env.maxY < 46)
        // Text round trip is lossless.
        #expect(try GeoJSON.parse(GeoJSON.write(fc)) == .featureCollection(fc))
    }

    func error(_ s: String) -> String? {
        do {
            _ = try GeoJSON.parse(s)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func malformedInputGivesPathFeatureAndOffset() throws {
        let bad = #"{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[1,2]},"properties":{}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4],[5,"x"]]},"properties":{}}]}"#
        do {
            _ = try GeoJSON.parse(bad)
            Issue.record("parsed")
        } catch {
            #expect(error.description == "features[1].geometry.coordinates[2][1]: expected number, found string (at offset 203)")
            #expect(error.featureIndex == 1)
            #expect(Array(bad.utf8)[error.offset!] == UInt8(ascii: "\""))
        }
        #expect(error("") == "empty input, expected a GeoJSON object (at offset 0)")
        #expect(error("[1,2]") == "expected object, found array (at offset 0)")
        #expect(error(#"{"type":"Point","coordinates":[1]}"#) == "coordinates: position needs at least 2 numbers, found 1 (at offset 32)")
        #expect(error(#"{"type":"Point","coordinates":[1,2]"#) == "expected ',' or '}', found end of input (at offset 35)")
        #expect(error(#"{"type":"Pointy","coordinates":[1,2]}"#) == "type: unknown geometry type \"Pointy\" (at offset 8)")
        #expect(error(#"{"coordinates":[1,2],"type":"Pointy"}"#) == "type: unknown geometry type \"Pointy\" (at offset 28)")
        #expect(error(#"{"type":"LineString","coordinates":[[1,2]]}"#)
            == "coordinates: a line string needs at least 2 points, got 1 (at offset 35)")
        #expect(error(#"{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0,0],[1,0],[0,0]]]}"#)
            == "coordinates[1]: a linear ring needs at least 4 points, got 3 (at offset 32)")
        #expect(error(#"{"type":"LineString","coordinates":[[1,2],[[3,4]]]}"#)
            == "coordinates[1]: inconsistent nesting: array of depth 2 among siblings of depth 1 (at offset 42)")
        #expect(error(#"{"type":"Point","coordinates":[1e999,2]}"#) == "coordinates[0]: number out of range (at offset 31)")
        #expect(error(#"{"type":"Point","coordinates":[01,2]}"#) == "coordinates[0]: invalid number (at offset 31)")
        #expect(error(#"{"type":"Feature","geometry":null,"properties":{"a":"\q"}}"#)
            == "properties.a: invalid escape '\\q' (at offset 53)")
        #expect(error(#"{"type":"FeatureCollection","features":[{"type":"Point","coordinates":[0,0]}]}"#)
            == "features[0].type: expected \"Feature\", found \"Point\" (at offset 48)")
        #expect(error(#"{"type":"Point","coordinates":[1,2]} x"#) == "unexpected 'x' after the GeoJSON object (at offset 37)")
        #expect(error(String(repeating: "[", count: 100_000)) != nil)
        let deep = error(#"{"type":"Feature","properties":{"a":"# + String(repeating: "[", count: 100_000) + "}")
        #expect(deep?.hasPrefix("properties.a[0][0][0]") == true)
        #expect(deep?.hasSuffix("]: nesting deeper than 64 levels (maxDepth) (at offset 98)") == true, "\(deep ?? "")")
    }

    @Test func truncationsAndMutationsNeverCrash() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(Self.vermont)/ColchesterP.geojson")))
        var rng = SplitMix(seed: 33)
        let interesting: [UInt8] = Array("{}[],:\"\\-0123456789eE.tfn ".utf8)
        for k in 0..<400 {
            var t = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
            if k % 2 == 0 && !t.isEmpty {
                for _ in 0..<(1 + Int(rng.next() % 3)) {
                    t[Int(rng.next() % UInt64(t.count))] = interesting[Int(rng.next() % UInt64(interesting.count))]
                }
            }
            do {
                _ = try GeoJSON.parse(t)
            } catch {
                #expect(error.offset != nil && error.offset! <= t.count, "\(error)")
            }
        }
    }

    @Test func fileWriterStreamsWhatTheReaderStreamsBack() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(Self.vermont)/BarreL.geojson")))
        guard case .featureCollection(var fc) = try GeoJSON.parse(bytes) else { return }
        fc.crs = GeoJSONCRS(epsg: 4326)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-geometry-\(UInt64.random(in: 0...UInt64.max)).geojson").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let w = try GeoJSONFileWriter(path: path, crs: fc.crs)
        for f in fc.features { try w.write(f) }
        try w.close()
        #expect(w.featureCount == 1120)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == GeoJSON.write(fc))
        var back: [GeoJSONFeature] = []
        let header = try GeoJSON.forEachFeature(inFile: path) { _, f in back.append(f) }
        #expect(back == fc.features && header.crs?.epsg == 4326)
        #expect(throws: GeometryError.self) { try w.write(fc.features[0]) }
    }

    @Test func unreadableFilesGiveClearErrors() throws {
        do {
            _ = try GeoJSON.forEachFeature(inFile: "/nonexistent/x.geojson") { _, _ in }
            Issue.record("no error")
        } catch let e as GeometryError {
            #expect(e.message == "GeoJSON: cannot open /nonexistent/x.geojson (errno 2)")
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-empty-\(UInt64.random(in: 0...UInt64.max)).geojson").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(throws: GeometryError("empty input, expected a GeoJSON object", offset: 0, path: "")) {
            _ = try GeoJSON.forEachFeature(inFile: empty) { _, _ in }
        }
    }

    @Test func streamingStopsWhenTheCallerThrows() throws {
        struct Stop: Error {}
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: "\(Self.vermont)/ColchesterL.geojson")))
        var seen = 0
        #expect(throws: Stop.self) {
            _ = try bytes.withUnsafeBufferPointer { buf in
                try GeoJSON.forEachFeature(in: buf) { i, _ in
                    seen += 1
                    if i == 9 { throw Stop() }
                }
            }
        }
        #expect(seen == 10)
    }

    /// Strings written as JSON read back equal through Foundation's parser, plain ones (the
    /// copied-whole path) byte for byte, escaped ones (quotes, backslashes, every control
    /// character) with JSON's escapes, at small-string and heap lengths.
    @Test func stringsWriteAsJSONReadsThemBack() throws {
        var cases = ["", "JS", "Water Co", "中文 é\u{0301} 🚰", String(repeating: "plain-and-long ", count: 40)]
        for c in 0..<0x20 { cases.append("a\(Character(Unicode.Scalar(UInt8(c))))b") }
        cases += ["say \"hi\"", "C:\\dir\\file", String(repeating: "x", count: 300) + "\"", "\u{7F}\u{85}"]
        for text in cases {
            let bytes = GeoJSON.writeBytes(.array([.string(text)]))
            let back = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String]
            #expect(back == [text], "\(text.debugDescription)")
            let plain = !text.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
            if plain { #expect(bytes == Array("[\"\(text)\"]".utf8)) }
        }
        #expect(GeoJSON.writeBytes(.string("a\u{1}\n\"\\")) == Array(#""a\u0001\n\"\\""#.utf8))
    }

    /// A "features" member on anything but a FeatureCollection is refused, read whole or
    /// streamed alike (found by fuzz-geojson: streaming yielded a Feature document's foreign
    /// "features" elements as well as the Feature itself), whichever member comes first.
    @Test func featuresOnlyOnACollection() throws {
        let line = #"{"type": "Feature", "geometry": null, "properties": {"a": 1}}"#
        let docs = [
            #"{"type": "Feature", "geometry": null, "properties": null, "features": [\#(line)]}"#,
            #"{"features": [\#(line)], "type": "Feature", "geometry": null, "properties": null}"#,
            #"{"type": "Point", "coordinates": [1, 2], "features": []}"#,
        ]
        for d in docs {
            let bytes = Array(d.utf8)
            #expect(throws: GeometryError.self, "parse: \(d)") { try GeoJSON.parse(bytes) }
            #expect(throws: GeometryError.self, "stream: \(d)") {
                try bytes.withUnsafeBufferPointer { buf in try GeoJSON.forEachFeature(in: buf, limits: .default) { _, _ in } }
            }
        }
        do {
            _ = try GeoJSON.parse(Array(docs[0].utf8))
        } catch {
            #expect(error.description.contains(#"a Feature has no member "features""#), "\(error)")
        }
        // A lone Feature and a collection still read, both ways, to the same features.
        for d in [line, #"{"type": "FeatureCollection", "features": [\#(line), \#(line)]}"#] {
            let bytes = Array(d.utf8)
            var streamed: [GeoJSONFeature] = []
            _ = try bytes.withUnsafeBufferPointer { buf in try GeoJSON.forEachFeature(in: buf, limits: .default) { _, f in streamed.append(f) } }
            switch try GeoJSON.parse(bytes) {
            case .feature(let f): #expect(streamed == [f])
            case .featureCollection(let fc): #expect(streamed == fc.features && streamed.count == 2)
            case .geometry: Issue.record("not a feature")
            }
        }
    }
}
