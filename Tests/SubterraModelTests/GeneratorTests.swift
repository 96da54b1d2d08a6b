import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraDatasets

/// The repository root, from this file's path (Tests/SubterraModelTests/GeneratorTests.swift).
private let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
private let sampleDirectory = repositoryRoot + "/Datasets/sample"
/// The committed sample: `subterra-gen --segments 3000 --seed 42 --out Datasets/sample --format both --sites`.
private let sampleSegments = 3000
private let sampleSeed: UInt64 = 42

private func temporaryDirectory(_ tag: String) -> String {
    let dir = NSTemporaryDirectory() + "subterra-gen-tests-\(tag)-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

private func fileBytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

/// Which generator line type a segment is (layer + sub-type), for depth-band checks.
private func lineType(_ s: PipeSegment) -> LineType? {
    LineType.allCases.first { $0.layer == s.layer && $0.subtype == s.subtype }
        ?? (s.layer == .water && s.subtype == .transmission ? .water : nil)
}

/// Proper crossing of a–b and c–d by orientation signs (independent of the generator's kernels).
private func crosses(_ a: Point, _ b: Point, _ c: Point, _ d: Point) -> Bool {
    func o(_ p: Point, _ q: Point, _ r: Point) -> Double { (q.x - p.x) * (r.y - p.y) - (q.y - p.y) * (r.x - p.x) }
    let d1 = o(a, b, c), d2 = o(a, b, d), d3 = o(c, d, a), d4 = o(c, d, b)
    return d1 * d2 < 0 && d3 * d4 < 0
}

/// Liang–Barsky: whether segment a–b meets the closed box (a different algorithm from the
/// generator's ring test, so it is an oracle for the dig-site claims).
private func segmentMeetsBox(_ a: Point, _ b: Point, _ box: Envelope) -> Bool {
    var t0 = 0.0, t1 = 1.0
    let dx = b.x - a.x, dy = b.y - a.y
    for (p, q) in [(-dx, a.x - box.minX), (dx, box.maxX - a.x), (-dy, a.y - box.minY), (dy, box.maxY - a.y)] {
        if p == 0 {
            if q < 0 { return false }
        } else {
            let r = q / p
            if p < 0 { t0 = max(t0, r) } else { t1 = min(t1, r) }
            if t0 > t1 { return false }
        }
    }
    return true
}

@Suite struct GeneratorTests {
    static let district = DistrictGenerator(segments: sampleSegments, seed: sampleSeed).district()

    @Test func prngIsTheReferenceXoshiroAndSplitMix() {
        // SplitMix64 reference values for seed 0 (from the C reference implementation).
        var sm = SplitMix64(seed: 0)
        #expect(sm.next() == 0xE220_A839_7B1D_CDAF)
        #expect(sm.next() == 0x6E78_9E6A_A1B9_65F4)
        // xoshiro256** with state 1, 2, 3, 4 gives 11520, 0, 1509978240 (reference sequence).
        var x = Xoshiro256(seed: 0)
        x.s0 = 1; x.s1 = 2; x.s2 = 3; x.s3 = 4
        #expect([x.next(), x.next(), x.next()] == [11520, 0, 1_509_978_240])
        var r = Xoshiro256(seed: 9)
        for _ in 0..<1000 {
            let u = r.unit()
            #expect(u >= 0 && u < 1)
            let k = r.integer(in: -3...3)
            #expect((-3...3).contains(k))
        }
        // Our sin agrees with the platform's to 1e-9 over the arguments used.
        for k in 0..<2000 {
            let x = Double(k) * 0.137 - 137
            #expect(abs(_sin(x) - sin(x)) < 1e-9)
        }
    }

    @Test func sameSeedSameBytesDifferentSeedDifferentBytes() throws {
        let a = temporaryDirectory("a"), b = temporaryDirectory("b"), c = temporaryDirectory("c")
        defer { for d in [a, b, c] { try? FileManager.default.removeItem(atPath: d) } }
        try DistrictFiles.write(DistrictGenerator(segments: 1200, seed: 7), to: a, format: .both)
        try DistrictFiles.write(DistrictGenerator(segments: 1200, seed: 7), to: b, format: .both)
        try DistrictFiles.write(DistrictGenerator(segments: 1200, seed: 8), to: c, format: .both)
        for name in DistrictFiles.fileNames(.both) {
            let x = try #require(fileBytes(a + "/" + name))
            #expect(x == fileBytes(b + "/" + name), "\(name)")
            #expect(x != fileBytes(c + "/" + name), "\(name)")
        }
        #expect(StreetSegments.generate(count: 5000, seed: 3) == StreetSegments.generate(count: 5000, seed: 3))
        #expect(StreetSegments.generate(count: 5000, seed: 3) != StreetSegments.generate(count: 5000, seed: 4))
    }

    @Test(arguments: [1, 17, 1000, 4321])
    func fastPathIsTheDistrictGeometry(count: Int) {
        let fast = StreetSegments.generate(count: count, seed: 11)
        let full = DistrictGenerator(segments: count, seed: 11).district().network.segments
        #expect(fast.count == count)
        #expect(full.count == count)
        // The same pieces in the same order; drainage is written in flow direction, so a drainage
        // segment may run the other way round.
        #expect(zip(fast, full).allSatisfy { f, s in
            f == SegmentCoordinates(x0: s.start.x, y0: s.start.y, x1: s.end.x, y1: s.end.y)
                || (s.layer == .drainage && f == SegmentCoordinates(x0: s.end.x, y0: s.end.y, x1: s.start.x, y1: s.start.y))
        })
        #expect(full.map(\.id) == (0..<count).map { Int64($0 + 1) })
        #expect(StreetSegments.generate(count: 0, seed: 1).isEmpty)
    }

    @Test func invariantsOfTheSampleDistrict() throws {
        try checkInvariants(Self.district, segments: sampleSegments)
        // Not a perfect grid: dead ends (caps), four-way crossings, bends, a diagonal avenue and
        // dead-end lanes are all present.
        let map = Self.district.network
        #expect(Set(map.points.map(\.kind)).isSuperset(of: [.cap, .cross, .bend, .hydrant, .riser]))
        let roads = Set(map.segments.compactMap(\.road))
        #expect(roads.contains { $0.hasSuffix("Avenue") })
        #expect(roads.contains { $0.contains(" Lane ") })
        #expect(map.points.contains { map.degree(of: $0.number) >= 4 })
    }

    @Test(arguments: [(1000, UInt64(1)), (2500, UInt64.max), (20_000, UInt64(123_456_789))])
    func invariantsAcrossSizesAndSeeds(size: Int, seed: UInt64) throws {
        try checkInvariants(DistrictGenerator(segments: size, seed: seed).district(), segments: size)
    }

    func checkInvariants(_ d: District, segments: Int) throws {
        let map = d.network
        #expect(map.segments.count == segments)
        #expect(map.crs == "EPSG:4549")
        // The district lies around Wenling in EPSG:4549 (121.4 E is ~637 km east of false origin).
        #expect(d.extent.minX > 560_000 && d.extent.maxX < 720_000)
        #expect(d.extent.minY > 3_100_000 && d.extent.maxY < 3_180_000)
        #expect(map.danglingPointNumbers.isEmpty)
        for s in map.segments {
            #expect(s.geometry.points.allSatisfy { $0.isFinite && d.extent.contains($0) }, "\(s.location)")
            let a = try #require(map.point(number: s.startPoint), "\(s.location)")
            let b = try #require(map.point(number: s.endPoint), "\(s.location)")
            #expect(a.position == s.start && b.position == s.end, "\(s.location)")
            #expect(a.layer == s.layer && b.layer == s.layer)
            for (depth, point, t) in [(s.startDepth, a, 0.0), (s.endDepth, b, 1.0)] {
                let depth = try #require(depth)
                #expect((0.3...6).contains(depth), "\(s.location) depth \(depth)")
                #expect(depth == point.depth, "one point, one depth: \(s.location)")
                // ground = top + depth, at both ends, whichever elevation the survey gave.
                let ground = try #require(s.groundElevation(atParameter: t))
                #expect(abs(ground - point.groundElevation!) < 1e-6, "\(s.location)")
                #expect(s.depthOfBottom(atParameter: t)! <= 6)
            }
            #expect((s.layer == .drainage) == (s.elevationReference == .bottom))
            let catalogLayer = try #require(d.catalog[s.layer])
            #expect(catalogLayer.subtype(s.subtype!) != nil, "\(s.location) subtype \(s.subtype!)")
            if s.layer == .gas {
                let p = try #require(s.gasPressureMPa, "gas without pressure: \(s.location)")
                let c = try #require(s.gasPressureClass)
                #expect(p > c.lowerBoundMPa || c == .low)
                #expect(p <= c.upperBoundMPa)
                // Service laterals run at their main's pressure (to the regulator at the riser).
            } else {
                #expect(s.gasPressureMPa == nil)
            }
            if s.layer == .power { #expect(s.voltageKV != nil) }
            if let h = s.ductHoles { #expect(s.ductHolesOccupied! <= h) }
            #expect(s.owner?.isEmpty == false)
            // Mains: survey points every 20–60 m; service laterals are shorter.
            if s.accuracy?.qualityLevel == .c {
                #expect(s.length > 3 && s.length < 27, "lateral \(s.location) \(s.length)")
            } else {
                #expect(s.length >= 20 && s.length <= 60, "\(s.location) length \(s.length)")
            }
        }
        for p in map.points {
            #expect(p.kind.standardCategory == p.category, "\(p.location)")
            #expect(map.degree(of: p.number) >= 1, "unused point \(p.location)")
            #expect(d.extent.contains(p.position))
        }
        #expect(Set(map.segments.map(\.layer)).count >= 7)
        #expect(Set(map.points.map(\.kind)).isSuperset(of: [.valve, .manhole, .tee, .cablePit, .waterMeter]))
    }

    @Test func crossingsExistAndKeepTheStandardVerticalOrder() throws {
        let segs = Self.district.network.segments
        // Bucket by a 50 m grid so the pair search stays fast in a debug build.
        var grid: [Int64: [Int]] = [:]
        for (k, s) in segs.enumerated() {
            let e = s.geometry.envelope
            for gx in Int64(e.minX / 50)...Int64(e.maxX / 50) {
                for gy in Int64(e.minY / 50)...Int64(e.maxY / 50) { grid[gx &* 1_000_003 &+ gy, default: []].append(k) }
            }
        }
        var pairs = Set<[Int]>()
        for bucket in grid.values {
            for x in bucket { for y in bucket where x < y && segs[x].layer != segs[y].layer { pairs.insert([x, y]) } }
        }
        var crossings = 0
        var ordered = 0
        for pair in pairs {
            let s = segs[pair[0]], t = segs[pair[1]]
            guard crosses(s.start, s.end, t.start, t.end) else { continue }
            crossings += 1
            guard s.accuracy?.qualityLevel != .c, t.accuracy?.qualityLevel != .c,
                let ls = lineType(s), let lt = lineType(t)
            else { continue }
            let (upper, lower) = ls.depthBand.upperBound <= lt.depthBand.lowerBound ? (s, t) : (t, s)
            let (lu, ll) = (lineType(upper)!, lineType(lower)!)
            guard lu.depthBand.upperBound <= ll.depthBand.lowerBound else { continue }
            // At the crossing point the upper line's top is above the lower line's top.
            let x = try #require(_properCrossing(upper.start, upper.end, lower.start, lower.end))
            let du = try #require(upper.depthOfTop(at: x)), dl = try #require(lower.depthOfTop(at: x))
            #expect(du <= dl, "\(upper.location) over \(lower.location)")
            ordered += 1
        }
        #expect(crossings > 100)
        #expect(ordered > 50)
    }

    @Test func sampleFilesAreTheGeneratorOutputAndRoundTrip() throws {
        let fresh = temporaryDirectory("sample")
        defer { try? FileManager.default.removeItem(atPath: fresh) }
        try DistrictFiles.write(DistrictGenerator(segments: sampleSegments, seed: sampleSeed), to: fresh, format: .both)
        try SampleSites.write(for: Self.district, to: fresh)
        for name in DistrictFiles.fileNames(.both) + ["dig-sites.geojson", "routes.geojson"] {
            let committed = try #require(fileBytes(sampleDirectory + "/" + name), "missing Datasets/sample/\(name)")
            #expect(committed == fileBytes(fresh + "/" + name), "Datasets/sample/\(name) differs from the generator")
        }
        let geo = try DistrictReader.readGeoJSON(directory: sampleDirectory)
        let csv = try DistrictReader.readSurveyCSV(directory: sampleDirectory)
        #expect(geo == Self.district.network)
        #expect(csv == Self.district.network)
        let text = try #require(String(data: fileBytes(sampleDirectory + "/segments.geojson")!, encoding: .utf8))
        #expect(text.contains("\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::4549\"}}"))
    }

    /// Each dig-site claim re-checked by brute force over every generated segment.
    @Test func digSiteClaimsHold() throws {
        let data = try #require(fileBytes(sampleDirectory + "/dig-sites.geojson"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let features = try #require(root["features"] as? [[String: Any]])
        let map = Self.district.network
        var expects: [String] = []
        var clearBoxes: [Envelope] = []
        for f in features {
            let props = try #require(f["properties"] as? [String: Any])
            let expect = try #require(props["expect"] as? String)
            let depth = try #require(props["depth_m"] as? Double)
            let claimed = Set(try #require(props["hits"] as? [Int]).map(Int64.init))
            let geometry = try #require(f["geometry"] as? [String: Any])
            let rings = try #require(geometry["coordinates"] as? [[[Double]]])
            var ring = rings[0].map { Point($0[0], $0[1]) }
            if props["crs_name"] as? String == "EPSG:4326" {
                let crs = try #require(f["crs"] as? [String: Any])
                #expect((crs["properties"] as? [String: Any])?["name"] as? String == "urn:ogc:def:crs:OGC:1.3:CRS84")
                ring = try cs2csToEPSG4549(ring)
                // It is the clear site again, to the millimetre.
                let twin = try #require(clearBoxes.first)
                let box = Envelope(points: ring)
                #expect(abs(box.minX - twin.minX) < 0.002 && abs(box.maxY - twin.maxY) < 0.002)
            }
            let box = Envelope(points: ring)
            #expect(ring.count == 5 && ring.first == ring.last || props["crs_name"] as? String == "EPSG:4326")
            let actual = Set(map.segments.filter { segmentMeetsBox($0.start, $0.end, box) }.map(\.id))
            #expect(actual == claimed, "\(props["name"] ?? "?")")
            let hit = actual.compactMap { map.segment(id: $0) }
            expects.append(expect)
            switch expect {
            case "clear":
                #expect(actual.isEmpty)
                let nearest = map.segments.map { s in
                    [Point(box.minX, box.minY), Point(box.maxX, box.maxY), Point(box.minX, box.maxY), Point(box.maxX, box.minY)]
                        .map { _distance($0, s.start, s.end) }.min()!
                }.min()!
                #expect(nearest > 3, "clear site is \(nearest) m from a line")
                clearBoxes.append(box)
            case "gas-main":
                let gas = try #require(hit.first { $0.layer == .gas })
                #expect(gas.gasPressureClass! >= .mediumA)
                #expect(depth > gas.depthOfTop(at: Point((box.minX + box.maxX) / 2, (box.minY + box.maxY) / 2))!)
            case "power-cable":
                let p = try #require(hit.first { $0.layer == .power })
                #expect(p.voltageKV! >= 10)
                #expect(depth > p.depthOfTop(atParameter: 0.5)!)
            case "crossing":
                let layers = Set(hit.map(\.layer))
                #expect(layers.count >= 2)
                let crossingInside = hit.contains { s in
                    hit.contains { t in
                        s.layer != t.layer && _properCrossing(s.start, s.end, t.start, t.end).map(box.contains) == true
                    }
                }
                #expect(crossingInside)
                for s in hit { #expect(depth > min(s.startDepth!, s.endDepth!)) }
            default:
                Issue.record("unknown expect \(expect)")
            }
        }
        #expect(Set(expects) == ["clear", "gas-main", "power-cable", "crossing"])
    }

    @Test func routesAreInsideTheDistrict() throws {
        let data = try #require(fileBytes(sampleDirectory + "/routes.geojson"))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let features = try #require(root["features"] as? [[String: Any]])
        #expect(features.count >= 3)
        for f in features {
            let props = try #require(f["properties"] as? [String: Any])
            #expect(props["layer"] is String && props["depth_m"] is Double && props["diameter_mm"] != nil)
            let coords = try #require((f["geometry"] as? [String: Any])?["coordinates"] as? [[Double]])
            #expect(coords.count >= 2)
            for c in coords { #expect(Self.district.extent.contains(Point(c[0], c[1]))) }
            if props["layer"] as? String == "RQ" {
                let p = try #require(props["pressure_mpa"] as? Double)
                #expect(props["pressure_class"] as? String == GasPressureClass(megapascals: p)?.rawValue)
            }
        }
    }

    @Test func badFilesGiveErrorsThatSayWhere() throws {
        let dir = temporaryDirectory("bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try DistrictFiles.write(DistrictGenerator(segments: 20, seed: 5), to: dir, format: .both)
        var csv = try String(contentsOfFile: dir + "/points.csv", encoding: .utf8)
        csv = csv.replacingOccurrences(of: ",appurtenance,", with: ",both,")
        try csv.write(toFile: dir + "/points.csv", atomically: true, encoding: .utf8)
        #expect { try DistrictReader.readSurveyCSV(directory: dir) } throws: { e in
            (e as? DatasetError)?.description.contains("points.csv line") == true
        }
        try "{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[1,2]]},\"properties\":{\"id\":1,\"layer\":\"JS\",\"start_point\":\"a\",\"end_point\":\"b\"}}]}"
            .write(toFile: dir + "/segments.geojson", atomically: true, encoding: .utf8)
        #expect { try DistrictReader.readGeoJSON(directory: dir) } throws: { e in
            // The GeoJSON reader names the file and the feature.
            let text = (e as? DatasetError)?.description ?? ""
            return text.contains("segments.geojson") && text.contains("features[0]")
        }
        #expect(DistrictReader.splitCSV("a,\"b,\"\"c\"\"\",,d") == ["a", "b,\"c\"", "", "d"])
    }
}

/// Converts CRS84 lon/lat to EPSG:4549 easting/northing with the `cs2cs` command (the oracle:
/// independent of the PROJ bridge the generator used). EPSG:4326 input is lat lon; output N E.
private func cs2csToEPSG4549(_ lonLat: [Point]) throws -> [Point] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/cs2cs")
    p.arguments = ["-f", "%.6f", "EPSG:4326", "EPSG:4549"]
    let input = Pipe(), output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    try p.run()
    input.fileHandleForWriting.write(Data(lonLat.map { "\($0.y) \($0.x)\n" }.joined().utf8))
    try input.fileHandleForWriting.close()
    let out = String(data: output.fileHandleForReading.readDataToEndOfFile(), encoding: .utf8) ?? ""
    p.waitUntilExit()
    return out.split(separator: "\n").map { line in
        let f = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
        return Point(f[1], f[0])
    }
}
