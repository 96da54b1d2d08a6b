import Foundation
import SubterraGeometry
import Testing

/// `ParseLimits` in the WKT, WKB and GeoJSON readers: nesting 60,000 and 1,000,000 deep is refused
/// with one line (it used to overflow the stack), input exactly at each limit is accepted, and
/// each limit has its own message naming the limit and the offset.
@Suite struct ParseLimitsTests {
    static let deepCounts = [60_000, 1_000_000]

    func wktError(_ text: String, _ limits: ParseLimits = .default) -> GeometryError? {
        do {
            _ = try WKT.parse(text, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    func wkbError(_ bytes: [UInt8], _ limits: ParseLimits = .default) -> GeometryError? {
        do {
            _ = try WKB.read(bytes, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    func geoJSONError(_ text: String, _ limits: ParseLimits = .default) -> GeometryError? {
        do {
            _ = try GeoJSON.parse(text, limits: limits)
            return nil
        } catch {
            return error
        }
    }

    /// `GEOMETRYCOLLECTION (` × `levels` around `POINT (1 2)`: WKT depth `levels + 1`.
    static func nestedWKT(_ levels: Int, closed: Bool = true) -> String {
        String(repeating: "GEOMETRYCOLLECTION (", count: levels) + "POINT (1 2)"
            + (closed ? String(repeating: ")", count: levels) : "")
    }

    /// Little-endian WKB of `levels` one-member collections around a point.
    static func nestedWKB(_ levels: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(9 * levels + 21)
        for _ in 0..<levels { out += [1, 7, 0, 0, 0, 1, 0, 0, 0] }
        return out + WKB.write(.point(Point(1, 2)))
    }

    @Test func defaultsAreDocumentedValues() {
        #expect(ParseLimits.default == ParseLimits(maxDepth: 64, maxVertices: 1_000_000, maxBytes: 64 << 20))
        #expect(ParseLimits(maxDepth: 10_000).effectiveMaxDepth == ParseLimits.depthCeiling)
    }

    /// The stack the readers need, unoptimised (the tests' build): input at the default depth
    /// limit fits a 512 KiB thread stack (a macOS worker thread's), input at `depthCeiling` fits
    /// 2 MiB (Linux threads have 8 MiB) — read, compared, written, read again and destroyed.
    @Test(arguments: [(64, 512), (ParseLimits.depthCeiling, 2048)])
    func nestingAtTheLimitFitsAThreadStack(depth: Int, stackKiB: Int) throws {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var results: [Bool] = []
        let thread = Thread {
            let limits = ParseLimits(maxDepth: depth)
            let text = Self.nestedWKT(depth - 1)
            if let g = try? WKT.parse(text, limits: limits) {
                results.append(WKT.write(g) == text)
                results.append((try? WKB.read(WKB.write(g), limits: limits).geometry) == g)
            }
            // Each GeoJSON collection level is two JSON levels (the object and its array).
            let json = String(repeating: #"{"type":"GeometryCollection","geometries":["#, count: depth / 2 - 1)
                + #"{"type":"Point","coordinates":[1,2]}"# + String(repeating: "]}", count: depth / 2 - 1)
            results.append((try? GeoJSON.parse(json, limits: limits)) != nil)
            done.signal()
        }
        thread.stackSize = stackKiB << 10
        thread.start()
        done.wait()
        #expect(results == [true, true, true])
    }

    @Test(arguments: deepCounts) func wktDeepNestingIsOneLineError(levels: Int) {
        let e = wktError(Self.nestedWKT(levels, closed: false))
        #expect(e?.description == "WKT: nesting deeper than 64 levels (maxDepth) (at offset \(64 * 20 + 19))")
        #expect(e?.exceededLimit == .maxDepth)
        // Even a caller asking for more depth than the ceiling cannot overflow the stack.
        let huge = wktError(Self.nestedWKT(levels, closed: false), ParseLimits(maxDepth: .max))
        #expect(huge?.description == "WKT: nesting deeper than 256 levels (maxDepth) (at offset \(256 * 20 + 19))")
    }

    @Test func wktExactlyAtTheDepthLimitIsAccepted() throws {
        let atLimit = try WKT.parse(Self.nestedWKT(63))
        #expect(try WKT.parse(WKT.write(atLimit)) == atLimit)
        #expect(wktError(Self.nestedWKT(64))?.exceededLimit == .maxDepth)
        let tight = ParseLimits(maxDepth: 3)
        #expect(wktError("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))", tight) == nil)
        #expect(wktError("GEOMETRYCOLLECTION (POLYGON ((0 0, 1 0, 1 1, 0 0)))", tight) == nil)
        #expect(wktError("GEOMETRYCOLLECTION (MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0))))", tight)?.description
            == "WKT: nesting deeper than 3 levels (maxDepth) (at offset 35)")
        #expect(wktError("GEOMETRYCOLLECTION (GEOMETRYCOLLECTION EMPTY)", ParseLimits(maxDepth: 1)) == nil)
        // A bare MULTIPOINT point counts as the parenthesised one WKT.write makes of it, so a
        // round trip at the limit still parses.
        let multi = String(repeating: "GEOMETRYCOLLECTION (", count: 62) + "MULTIPOINT (1 2)" + String(repeating: ")", count: 62)
        #expect(try WKT.parse(WKT.write(WKT.parse(multi))) == WKT.parse(multi))
        #expect(wktError("GEOMETRYCOLLECTION (" + multi + ")")?.description
            == "WKT: nesting deeper than 64 levels (maxDepth) (at offset \(63 * 20 + 12))")
        #expect(wktError("MULTIPOINT (1 2)", ParseLimits(maxDepth: 1))?.exceededLimit == .maxDepth)
    }

    @Test func wktVertexAndByteLimits() {
        let three = ParseLimits(maxVertices: 3)
        #expect(wktError("LINESTRING (0 0, 1 1, 2 2)", three) == nil)
        let e = wktError("LINESTRING (0 0, 1 1, 2 2, 3 3)", three)
        #expect(e?.description == "WKT: more than 3 vertices (maxVertices) (at offset 27)")
        #expect(e?.exceededLimit == .maxVertices)
        let text = "POINT (1 2)"
        #expect(wktError(text, ParseLimits(maxBytes: text.utf8.count)) == nil)
        let b = wktError(text, ParseLimits(maxBytes: text.utf8.count - 1))
        #expect(b?.description == "WKT: input of 11 bytes is larger than 10 bytes (maxBytes) (at offset 10)")
        #expect(b?.exceededLimit == .maxBytes)
        #expect((try? WKT.parseWithSRID("SRID=1;" + text, limits: ParseLimits(maxBytes: 17)))?.srid == nil)
    }

    @Test(arguments: deepCounts) func wkbDeepNestingIsOneLineError(levels: Int) {
        let e = wkbError(Self.nestedWKB(levels))
        // The 65th collection, like the 65th `GEOMETRYCOLLECTION (` in WKT, is one too deep.
        #expect(e?.description == "WKB: nesting deeper than 64 levels (maxDepth) (at offset \(64 * 9))")
        #expect(e?.exceededLimit == .maxDepth)
        #expect(wkbError(Self.nestedWKB(levels), ParseLimits(maxDepth: .max))?.exceededLimit == .maxDepth)
    }

    @Test func wkbAcceptsWhatWKTAcceptsAtTheSameDepth() throws {
        for text in [
            Self.nestedWKT(63), "MULTIPOINT ((1 2), (3 4))", "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)))",
            "GEOMETRYCOLLECTION (MULTILINESTRING ((0 0, 1 1)), POLYGON ((0 0, 1 0, 1 1, 0 0)))",
        ] {
            let g = try WKT.parse(text)
            let bytes = WKB.write(g)
            #expect(try WKB.read(bytes).geometry == g)
            for depth in 1...4 {
                let limits = ParseLimits(maxDepth: depth)
                #expect((wktError(WKT.write(g), limits) == nil) == (wkbError(bytes, limits) == nil), "\(text) \(depth)")
            }
        }
        #expect(wkbError(Self.nestedWKB(63)) == nil)
        #expect(wkbError(Self.nestedWKB(64))?.exceededLimit == .maxDepth)
    }

    @Test func wkbVertexAndByteLimits() throws {
        let line = WKB.write(.lineString(try LineString([Point(0, 0), Point(1, 1), Point(2, 2)])))
        #expect(wkbError(line, ParseLimits(maxVertices: 3)) == nil)
        let e = wkbError(line, ParseLimits(maxVertices: 2))
        #expect(e?.description == "WKB: more than 2 vertices (maxVertices) (at offset 5)")
        #expect(e?.exceededLimit == .maxVertices)
        let multi = WKB.write(.multiPoint([Point(0, 0), Point(1, 1)]))
        #expect(wkbError(multi, ParseLimits(maxVertices: 2)) == nil)
        #expect(wkbError(multi, ParseLimits(maxVertices: 1))?.exceededLimit == .maxVertices)
        #expect(wkbError(line, ParseLimits(maxBytes: line.count)) == nil)
        #expect(wkbError(line, ParseLimits(maxBytes: line.count - 1))?.description
            == "WKB: input of 57 bytes is larger than 56 bytes (maxBytes) (at offset 56)")
    }

    @Test(arguments: deepCounts) func geoJSONDeepNestingIsOneLineError(levels: Int) {
        let arrays = geoJSONError(String(repeating: "[", count: levels))
        #expect(arrays?.exceededLimit == nil, "a top-level array is not a GeoJSON object")
        let props = geoJSONError(#"{"type":"Feature","properties":{"a":"# + String(repeating: "[", count: levels))
        #expect(props?.exceededLimit == .maxDepth)
        #expect(props?.description.hasSuffix("nesting deeper than 64 levels (maxDepth) (at offset \(36 + 62))") == true,
                "\(props?.description ?? "")")
        let objects = geoJSONError(#"{"type":"Feature","properties":"# + String(repeating: #"{"a":"#, count: levels))
        #expect(objects?.exceededLimit == .maxDepth)
        let collections = geoJSONError(
            String(repeating: #"{"type":"GeometryCollection","geometries":["#, count: levels))
        #expect(collections?.exceededLimit == .maxDepth)
        let coordinates = geoJSONError(#"{"type":"Point","coordinates":"# + String(repeating: "[", count: levels))
        #expect(coordinates?.description == "coordinates[0][0][0][0]: coordinates nested deeper than a MultiPolygon (at offset 35)")
        for e in [props, objects, collections, coordinates] {
            #expect(e.map { !$0.description.contains("\n") } == true)
        }
    }

    @Test func geoJSONExactlyAtTheDepthLimitIsAccepted() throws {
        // {"type":"Feature","properties":{"a": [[…]]}} has depth 2 + the arrays.
        func feature(_ arrays: Int) -> String {
            #"{"type":"Feature","geometry":null,"properties":{"a":"# + String(repeating: "[", count: arrays)
                + String(repeating: "]", count: arrays) + "}}"
        }
        #expect(geoJSONError(feature(62)) == nil)
        #expect(geoJSONError(feature(63))?.exceededLimit == .maxDepth)
        // A MultiPolygon in a feature collection: 1 + 1 + 1 + 1 + 4 = 8 levels.
        let fc = #"{"type":"FeatureCollection","features":[{"type":"Feature","properties":null,"geometry":"#
            + #"{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}}]}"#
        #expect(geoJSONError(fc, ParseLimits(maxDepth: 8)) == nil)
        #expect(geoJSONError(fc, ParseLimits(maxDepth: 7))?.description
            == "features[0].geometry.coordinates[0][0][0]: nesting deeper than 7 levels (maxDepth) (at offset 127)")
    }

    @Test func geoJSONVertexAndByteLimits() throws {
        let line = #"{"type":"LineString","coordinates":[[0,0],[1,1],[2,2]]}"#
        #expect(geoJSONError(line, ParseLimits(maxVertices: 3)) == nil)
        let e = geoJSONError(line, ParseLimits(maxVertices: 2))
        #expect(e?.description == "coordinates[2]: more than 2 vertices (maxVertices) (at offset 49)")
        #expect(e?.exceededLimit == .maxVertices)
        #expect(geoJSONError(line, ParseLimits(maxBytes: line.utf8.count)) == nil)
        #expect(geoJSONError(line, ParseLimits(maxBytes: 10))?.description
            == "input of \(line.utf8.count) bytes is larger than 10 bytes (maxBytes) (at offset 10)")
        // Streaming applies the vertex limit per feature and no byte limit.
        let two = #"{"type":"FeatureCollection","features":["# + [line, line].map {
            #"{"type":"Feature","properties":null,"geometry":"# + $0 + "}"
        }.joined(separator: ",") + "]}"
        var bytes = Array(two.utf8)
        let header = try bytes.withUnsafeBufferPointer { buf in
            try GeoJSON.forEachFeature(in: buf, limits: ParseLimits(maxVertices: 3, maxBytes: 1)) { _, _ in }
        }
        #expect(header.featureCount == 2)
        #expect(geoJSONError(two, ParseLimits(maxVertices: 3))?.exceededLimit == .maxVertices)
        bytes.removeAll()
    }
}
