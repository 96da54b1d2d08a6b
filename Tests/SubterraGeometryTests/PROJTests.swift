import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing

/// Runs `cs2cs` from proj-bin, the independent oracle; `nil` when it is not installed.
enum PROJCs2cs {
    static let path: String? = ["/usr/bin/cs2cs", "/usr/local/bin/cs2cs"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static var available: Bool { path != nil }

    /// Feeds `lines` to `cs2cs args…` and returns the first two numbers of each output line.
    static func run(_ args: [String], _ lines: [(Double, Double)]) throws -> [(Double, Double)] {
        guard let path else { return [] }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = args
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = lines.map { String(format: "%.12f %.12f", $0.0, $0.1) }.joined(separator: "\n") + "\n"
        // Write on another thread: past a pipe's 64 KiB, cs2cs blocks on its output until it is
        // read, and a writer that only then starts reading would wait forever.
        let writer = input.fileHandleForWriting
        let bytes = Data(text.utf8)
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            writer.write(bytes)
            try? writer.close()
            done.signal()
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            return f.count >= 2 ? (f[0], f[1]) : (.nan, .nan)
        }
    }
}

/// One known-value case: WGS84 lon/lat to a target system.
struct PROJKnownCase: Sendable, CustomTestStringConvertible {
    var target: String
    var lon: Double
    var lat: Double
    /// Expected (x = easting/longitude, y = northing/latitude), from the `cs2cs` command below.
    var expected: (x: Double, y: Double)
    var cs2csTarget: [String]
    /// Whether cs2cs prints the target as (northing/lat, easting/lon): the EPSG axis order.
    var cs2csSwapsOutput: Bool
    var geographic: Bool
    var testDescription: String { target }

    static let all: [PROJKnownCase] = [
        // echo "28.37 121.4" | cs2cs -f %.10f EPSG:4326 EPSG:4549  →  3140242.8667448438 637240.9316553983
        PROJKnownCase(target: "EPSG:4549", lon: 121.4, lat: 28.37, expected: (637240.9316553983, 3140242.8667448438),
                      cs2csTarget: ["EPSG:4549"], cs2csSwapsOutput: true, geographic: false),
        // echo "28.37 121.4" | cs2cs -f %.10f EPSG:4326 EPSG:4528  →  3140242.8667448438 40637240.9316553995
        PROJKnownCase(target: "EPSG:4528", lon: 121.4, lat: 28.37, expected: (40637240.9316553995, 3140242.8667448438),
                      cs2csTarget: ["EPSG:4528"], cs2csSwapsOutput: true, geographic: false),
        // echo "28.37 121.4" | cs2cs -f %.12f EPSG:4326 EPSG:4490  →  28.370000000000 121.400000000000
        PROJKnownCase(target: "EPSG:4490", lon: 121.4, lat: 28.37, expected: (121.4, 28.37),
                      cs2csTarget: ["EPSG:4490"], cs2csSwapsOutput: true, geographic: true),
        // echo "44.2 -72.5" | cs2cs -f %.10f EPSG:4326 EPSG:32618  →  699762.6167169889 4897126.1205364363
        PROJKnownCase(target: "EPSG:32618", lon: -72.5, lat: 44.2, expected: (699762.6167169889, 4897126.1205364363),
                      cs2csTarget: ["EPSG:32618"], cs2csSwapsOutput: false, geographic: false),
        // echo "28.37 121.4" | cs2cs -f %.10f EPSG:4326 +to +proj=tmerc +lat_0=0 +lon_0=121.5 +k=1 +x_0=50000
        //     +y_0=-3000000 +ellps=GRS80 +units=m +no_defs  →  40197.6124562727 139450.1156983152
        PROJKnownCase(
            target: PROJKnownCase.cityGrid, lon: 121.4, lat: 28.37, expected: (40197.6124562727, 139450.1156983152),
            cs2csTarget: ["+to"] + PROJKnownCase.cityGrid.split(separator: " ").map(String.init),
            cs2csSwapsOutput: false, geographic: false),
    ]

    static let cityGrid = "+proj=tmerc +lat_0=0 +lon_0=121.5 +k=1 +x_0=50000 +y_0=-3000000 +ellps=GRS80 +units=m +no_defs"

    /// 1 mm for projected systems, 1e-9 degree for geographic ones.
    var tolerance: Double { geographic ? 1e-9 : 1e-3 }
}

@Suite struct PROJTests {
    @Test(arguments: PROJKnownCase.all)
    func knownValuesMatchRecordedCs2cs(_ c: PROJKnownCase) throws {
        let t = try Transformer(from: "EPSG:4326", to: c.target)
        let p = try t.transform(Point(c.lon, c.lat))
        #expect(abs(p.x - c.expected.x) <= c.tolerance, "x \(p.x) vs \(c.expected.x)")
        #expect(abs(p.y - c.expected.y) <= c.tolerance, "y \(p.y) vs \(c.expected.y)")
        #expect(p.z == nil)
        // Back to WGS84 within 1e-9 degree, and project → unproject → project within 1e-6 m.
        let back = try t.inverse.transform(p)
        #expect(abs(back.x - c.lon) <= 1e-9 && abs(back.y - c.lat) <= 1e-9)
        let again = try t.transform(back)
        let roundTripTolerance = c.geographic ? 1e-11 : 1e-6
        #expect(abs(again.x - p.x) <= roundTripTolerance && abs(again.y - p.y) <= roundTripTolerance)
    }

    @Test(.enabled(if: PROJCs2cs.available, "cs2cs (proj-bin) is not installed"), arguments: PROJKnownCase.all)
    func randomPointsMatchLiveCs2cs(_ c: PROJKnownCase) throws {
        var rng = GEOSBridgeRNG(seed: 2026)
        let pts = (0..<60).map { _ in Point(c.lon + rng.double(-0.3, 0.3), c.lat + rng.double(-0.3, 0.3)) }
        let oracle = try PROJCs2cs.run(["-f", "%.12f", "EPSG:4326"] + c.cs2csTarget, pts.map { ($0.y, $0.x) })
        try #require(oracle.count == pts.count)
        let ours = try Transformer(from: "EPSG:4326", to: c.target).transform(pts)
        for i in pts.indices {
            let (a, b) = oracle[i]
            let (ex, ey) = c.cs2csSwapsOutput ? (b, a) : (a, b)
            #expect(abs(ours[i].x - ex) <= c.tolerance && abs(ours[i].y - ey) <= c.tolerance,
                    "point \(i): \(ours[i]) vs cs2cs (\(ex), \(ey))")
        }
    }

    @Test func projectedToProjectedRoundTripWithinMicrometre() throws {
        // Survey grid (EPSG:4549) to the city grid and back, over a 40 km square around Wenling.
        let t = try Transformer(from: CoordinateSystem(epsg: 4549), to: CoordinateSystem(PROJKnownCase.cityGrid))
        var rng = GEOSBridgeRNG(seed: 5)
        let pts = (0..<500).map { _ in Point(rng.double(620_000, 660_000), rng.double(3_120_000, 3_160_000), rng.double(-3, 10)) }
        let there = try t.transform(pts)
        let back = try t.inverse.transform(there)
        for i in pts.indices {
            #expect(abs(back[i].x - pts[i].x) <= 1e-6 && abs(back[i].y - pts[i].y) <= 1e-6)
            #expect(back[i].z == pts[i].z)  // no vertical part: heights pass through
        }
        // Bulk and single-point paths agree exactly.
        for i in stride(from: 0, to: pts.count, by: 50) { #expect(try t.transform(pts[i]) == there[i]) }
        var xs = pts.map(\.x), ys = pts.map(\.y)
        try t.transform(x: &xs, y: &ys)
        #expect(xs == there.map(\.x) && ys == there.map(\.y))
    }

    @Test func coordinateSystemFacts() throws {
        let gk = try CoordinateSystem(epsg: 4549)
        #expect(gk.name == "CGCS2000 / 3-degree Gauss-Kruger CM 120E")
        #expect(!gk.isGeographic && gk.unitName == "metre" && gk.unitToBase == 1)
        let wgs = try CoordinateSystem("EPSG:4326")
        #expect(wgs.isGeographic && wgs.unitName == "degree" && wgs.name == "WGS 84")
        let grid = try CoordinateSystem(PROJKnownCase.cityGrid)
        #expect(grid.definition.hasSuffix("+type=crs") && !grid.isGeographic && grid.unitName == "metre")
        let feet = try CoordinateSystem(epsg: 2263)  // NAD83 / New York Long Island (ftUS)
        #expect(feet.unitName == "US survey foot")
        #expect(try CoordinateSystem(epsg: 5737).name.contains("Yellow Sea 1985"))
    }

    @Test func wktDefinitionMatchesProjString() throws {
        let wkt = """
            PROJCS["Wenling city grid",GEOGCS["GRS 1980",DATUM["unknown",SPHEROID["GRS80",6378137,298.257222101]],\
            PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],\
            PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",121.5],PARAMETER["scale_factor",1],\
            PARAMETER["false_easting",50000],PARAMETER["false_northing",-3000000],UNIT["metre",1]]
            """
        let cs = try CoordinateSystem(wkt)
        #expect(cs.name == "Wenling city grid")
        let p = try Transformer(from: "EPSG:4326", to: wkt).transform(Point(121.4, 28.37))
        #expect(abs(p.x - 40197.6124562727) <= 1e-3 && abs(p.y - 139450.1156983152) <= 1e-3)
    }

    @Test func badDefinitionsGiveProjMessages() throws {
        func message(_ d: String) -> String? {
            do { _ = try CoordinateSystem(d); return nil } catch { return error.description }
        }
        #expect(message("EPSG:99999")?.contains("EPSG:99999") == true)
        #expect(message("EPSG:99999")?.contains("crs not found") == true)
        #expect(message("+proj=nonsense +ellps=GRS80")?.contains("Unknown projection") == true)
        #expect(message("not a crs at all") != nil)
        #expect(message("   ")?.contains("empty") == true)
        #expect(message("PROJCS[\"broken\",GEOGCS[") != nil)
        // A coordinate operation is not a coordinate system.
        #expect(message("urn:ogc:def:coordinateOperation:EPSG::1671")?.contains("not a coordinate system") == true)
    }

    @Test func pointsOutsideTheDomainNameTheirIndex() throws {
        // Without the area check PROJ itself refuses latitude 95 (with its own error number);
        // with it, the check refuses the same point first (PROJAreaOfUseTests).
        let utm = try Transformer(from: "EPSG:4326", to: "EPSG:32618", areaCheck: .none)
        let pts = [Point(-72.5, 44.2), Point(-72.4, 44.3), Point(-72.3, 44.4), Point(-72.5, 95), Point(-72.5, 44)]
        #expect {
            try utm.transform(pts)
        } throws: { e in
            guard let e = e as? PROJError else { return false }
            return e.pointIndex == 3 && e.description.contains("at point 3") && e.code != 0 && !e.message.isEmpty
        }
        #expect {
            try utm.withAreaCheck(.standard).transform(pts)
        } throws: { ($0 as? PROJError)?.pointIndex == 3 }
        #expect {
            try utm.transform(Point(-72.5, .infinity))
        } throws: { ($0 as? PROJError)?.pointIndex == 0 }
        #expect {
            try utm.transform([Point(-72.5, 44.2), Point(.nan, 44)])
        } throws: { ($0 as? PROJError)?.pointIndex == 1 }
        var xs = [1.0, 2.0], ys = [1.0]
        #expect(throws: PROJError.self) { try utm.transform(x: &xs, y: &ys) }
        // Inverse of a projected point far outside any sane range must fail, not give inf.
        #expect(throws: PROJError.self) { try utm.inverse.transform(Point(1e30, 1e30)) }
        // Nothing left over: the transformer still works after errors.
        #expect(abs(try utm.transform(Point(-72.5, 44.2)).x - 699762.6167169889) < 1e-3)
        #expect(try utm.transform([Point]()) == [])
    }

    @Test func geometriesTransformPointByPoint() throws {
        let t = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        let ring = try LinearRing([
            Point(637_000, 3_140_000), Point(637_100, 3_140_000), Point(637_100, 3_140_100), Point(637_000, 3_140_000),
        ])
        let pipe = try LineString([Point(637_000, 3_140_000, 4.5), Point(637_050, 3_140_020, 4.2)])
        let g = Geometry.collection([
            .polygon(Polygon(exterior: ring, holes: [])), .lineString(pipe), .multiPoint([Point(637_010, 3_140_010)]),
        ])
        guard case .collection(let parts) = try t.transform(g),
              case .polygon(let poly) = parts[0], case .lineString(let line) = parts[1], case .multiPoint(let mp) = parts[2]
        else { Issue.record("structure changed"); return }
        #expect(poly.exterior.points == (try t.transform(ring.points)))
        #expect(poly.exterior.points.first == poly.exterior.points.last)
        #expect(line.points == (try t.transform(pipe.points)))
        #expect(line.points[0].z == 4.5)
        #expect(mp == [try t.transform(Point(637_010, 3_140_010))])
    }

    @Test func surveyAxesSwapNorthingAndEasting() throws {
        // A Wenling survey table row: X 3379503 (northing), Y 501548 (easting).
        let p = SurveyAxes.northingEasting.point(surveyX: 3_379_503, surveyY: 501_548, z: 4.2)
        #expect(p == Point(x: 501_548, y: 3_379_503, z: 4.2))
        #expect(SurveyAxes.eastingNorthing.point(surveyX: 501_548, surveyY: 3_379_503) == Point(501_548, 3_379_503))
        for axes in SurveyAxes.allCases {
            let s = axes.surveyCoordinates(of: p)
            #expect(axes.point(surveyX: s.x, surveyY: s.y, z: p.z) == p)
        }
        // Read as EPSG:4549 easting/northing it lies just east of the 120°E central meridian.
        let geo = try Transformer(from: "EPSG:4549", to: "EPSG:4326").transform(p)
        #expect(geo.x > 120 && geo.x < 120.1 && geo.y > 30 && geo.y < 31)
    }
}
