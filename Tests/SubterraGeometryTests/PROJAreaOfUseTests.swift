import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing

/// Brute-force membership in an area widened by a margin, written independently of
/// `_AreaRegion`: unwrap the longitude into the box's frame by trying every 360° shift.
enum AreaOracle {
    static func contains(_ a: AreaOfUse, margin: Double, lon: Double, lat: Double) -> Bool {
        guard lat >= max(-90, a.south - margin), lat <= min(90, a.north + margin) else { return false }
        let east = a.east < a.west ? a.east + 360 : a.east
        if east - a.west + 2 * margin >= 360 { return true }
        return (-3...3).contains { k in
            let l = lon + 360 * Double(k)
            return l >= a.west - margin && l <= east + margin
        }
    }

    static let vermont: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/datasets/vermont-sewer")

    /// Every vertex of the Vermont sewer files (WGS84 lon/lat), or nil when they are not there.
    static func vermontPoints() throws -> [Point]? {
        var points: [Point] = []
        for town in ["BarreL", "ColchesterL", "MontpelierL", "BarreP"] {
            let path = vermont.appendingPathComponent("\(town).geojson").path
            guard FileManager.default.fileExists(atPath: path) else { return nil }
            _ = try GeoJSON.forEachFeature(inFile: path) { _, f in
                switch f.geometry {
                case .lineString(let l)?: points += l.points
                case .multiLineString(let ls)?: for l in ls { points += l.points }
                case .point(let p)?: points.append(p)
                default: break
                }
            }
        }
        return points
    }
}

@Suite struct PROJAreaOfUseTests {
    /// A dig polygon at −170° longitude, near Wenling's latitude: the reported bug.
    static let farDig = try! LinearRing([
        Point(-170, 28.37), Point(-169.999, 28.37), Point(-169.999, 28.371), Point(-170, 28.371), Point(-170, 28.37),
    ])

    static func refusal(_ body: () throws -> Void) -> PROJError? {
        do { try body() } catch let e as PROJError { return e } catch { return nil }
        return nil
    }

    @Test func recordedAreasAndLabels() throws {
        let gk = try CoordinateSystem(epsg: 4549)
        #expect(gk.label == "EPSG:4549")
        let a = try #require(gk.areaOfUse)
        #expect(a.west == 118.5 && a.east == 121.5 && a.south == 24.43 && a.north == 53.33)
        #expect(a.description == "lon 118.5..121.5, lat 24.43..53.33")
        #expect(a.name?.contains("China") == true && !a.crossesAntimeridian)
        let pdc = try #require(try CoordinateSystem(epsg: 3832).areaOfUse)  // PDC Mercator, across 180°
        #expect(pdc.crossesAntimeridian && pdc.west == 98.69 && pdc.east == -68)
        let wgs = try #require(try CoordinateSystem("EPSG:4326").areaOfUse)
        #expect(wgs.west == -180 && wgs.east == 180)
        // A bare PROJ string records no area: it is not checked, and named by its PROJ name.
        let grid = try CoordinateSystem(PROJKnownCase.cityGrid)
        #expect(grid.areaOfUse == nil && grid.label == grid.name)
    }

    @Test func containsMatchesBruteForceOnRandomAndEdgePoints() throws {
        var rng = GEOSBridgeRNG(seed: 4549)
        let areas = [
            try #require(try CoordinateSystem(epsg: 4549).areaOfUse),
            try #require(try CoordinateSystem(epsg: 3832).areaOfUse),
            try #require(try CoordinateSystem(epsg: 32618).areaOfUse),
            try #require(try CoordinateSystem(epsg: 32145).areaOfUse),
            AreaOfUse(west: -180, south: -90, east: 180, north: 90),
            AreaOfUse(west: 179, south: -10, east: -179, north: 10),
        ]
        for a in areas {
            for margin in [0, 0.5, 1.5, 3] {
                var probes: [(Double, Double)] = (0..<400).map { _ in (rng.double(-540, 540), rng.double(-95, 95)) }
                // Exactly on and just beside every edge of the widened box.
                let east = a.east < a.west ? a.east + 360 : a.east
                for lon in [a.west - margin, east + margin, a.west, east] {
                    for d in [-1e-9, 0, 1e-9] {
                        probes.append((lon + d, (a.south + a.north) / 2))
                        probes.append((lon + d - 360, a.south - margin + 1e-9))
                    }
                }
                for lat in [a.south - margin, a.north + margin] {
                    for d in [-1e-9, 0, 1e-9] { probes.append(((a.west + east) / 2, lat + d)) }
                }
                for (lon, lat) in probes {
                    #expect(a.contains(longitude: lon, latitude: lat, marginDegrees: margin)
                            == AreaOracle.contains(a, margin: margin, lon: lon, lat: lat),
                            "\(a) margin \(margin): (\(lon), \(lat))")
                }
            }
        }
    }

    @Test func digPolygonAtMinus170IsRefusedNamingThePoint() throws {
        let t = try Transformer(from: "EPSG:4326", to: "EPSG:4549")
        #expect(t.areaCheck == .standard)
        let e = try #require(Self.refusal { _ = try t.transform(Geometry.polygon(Polygon(exterior: Self.farDig))) })
        #expect(e.pointIndex == 0 && e.code == 0)
        #expect(e.description.contains("at point 0"))
        #expect(e.message.contains("outside the area of use of EPSG:4549 (lon 118.5..121.5, lat 24.43..53.33)"), "\(e)")
        #expect(e.message.contains("-170") && e.message.contains("1.5° margin"), "\(e)")
        // The first failing index, in every form.
        let pts = [Point(121.4, 28.37), Point(121.41, 28.38), Point(-170, 28.37)]
        #expect(Self.refusal { _ = try t.transform(pts) }?.pointIndex == 2)
        var xs = pts.map(\.x), ys = pts.map(\.y)
        #expect(Self.refusal { try t.transform(x: &xs, y: &ys) }?.pointIndex == 2)
        #expect(Self.refusal { _ = try t.transform(Point(-170, 28.37, 3)) }?.pointIndex == 0)
        // Latitude beyond the poles is refused by the area check before PROJ sees it.
        #expect(Self.refusal { _ = try t.transform(Point(121.4, 95)) }?.message.contains("EPSG:4549") == true)
        // The transformer still works afterwards.
        #expect(abs(try t.transform(Point(121.4, 28.37)).x - 637240.9316553983) < 1e-3)
    }

    @Test func noneLetsItThroughAndMatchesTheCheckedTransformInside() throws {
        let checked = try Transformer(from: "EPSG:4326", to: "EPSG:4549")
        let open = try Transformer(from: "EPSG:4326", to: "EPSG:4549", areaCheck: .none)
        #expect(try checked.withAreaCheck(.none).areaCheck == AreaCheck.none)
        let far = try open.transform(Self.farDig.points)
        #expect(far.allSatisfy { $0.x.isFinite && $0.y.isFinite })
        #expect(far.allSatisfy { abs($0.x - 500_000) > 2_000_000 }, "the silent wrong answer: \(far[0])")
        #expect(try checked.withAreaCheck(.none).transform(Self.farDig.points) == far)
        // Inside the area, the check changes nothing: bit-identical results.
        var rng = GEOSBridgeRNG(seed: 28)
        let wenling = (0..<500).map { _ in Point(rng.double(121.2, 121.7), rng.double(28.1, 28.6)) }
        #expect(try checked.transform(wenling) == (try open.transform(wenling)))
    }

    @Test func marginEdgesAreExact() throws {
        let lenient = try Transformer(from: "EPSG:4326", to: "EPSG:4549")
        let strict = try Transformer(from: "EPSG:4326", to: "EPSG:4549", areaCheck: .strict)
        let wide = try Transformer(from: "EPSG:4326", to: "EPSG:4549", areaCheck: .lenient(marginDegrees: 3))
        let lat = 28.37
        func passes(_ t: Transformer, _ p: Point) -> Bool { Self.refusal { _ = try t.transform(p) } == nil }
        #expect(passes(lenient, Point(123.0 - 1e-9, lat)) && !passes(lenient, Point(123.0 + 1e-9, lat)))
        #expect(passes(lenient, Point(117.0 + 1e-9, lat)) && !passes(lenient, Point(117.0 - 1e-9, lat)))
        #expect(passes(lenient, Point(120, 53.33 + 1.5 - 1e-9)) && !passes(lenient, Point(120, 53.33 + 1.5 + 1e-9)))
        #expect(passes(lenient, Point(120, 24.43 - 1.5 + 1e-9)) && !passes(lenient, Point(120, 24.43 - 1.5 - 1e-9)))
        #expect(passes(strict, Point(121.5, lat)) && !passes(strict, Point(121.5 + 1e-9, lat)))
        #expect(passes(wide, Point(124.4, lat)) && !passes(wide, Point(124.6, lat)))
        // The strict message has no margin clause.
        let e = try #require(Self.refusal { _ = try strict.transform(Point(121.6, lat)) })
        #expect(e.message.contains("EPSG:4549 (lon 118.5..121.5, lat 24.43..53.33):") && !e.message.contains("margin"))
        // A margin must be a finite number of degrees >= 0.
        for m in [-1, Double.nan, .infinity] {
            #expect(throws: PROJError.self) { try Transformer(from: "EPSG:4326", to: "EPSG:4549", areaCheck: .lenient(marginDegrees: m)) }
            #expect(throws: PROJError.self) { try lenient.withAreaCheck(.lenient(marginDegrees: m)) }
        }
    }

    @Test func vermontPassesIntoUTM18NAndStatePlane() throws {
        guard let points = try AreaOracle.vermontPoints() else { return }
        #expect(points.count > 5_000)
        for target in ["EPSG:32618", "EPSG:32145"] {
            let t = try Transformer(from: "EPSG:4326", to: target, areaCheck: .strict)
            let out = try t.transform(points)
            // Projected → projected (UTM → state plane) checks through lon/lat: passes too.
            #expect(try Transformer(from: target, to: target == "EPSG:32618" ? "EPSG:32145" : "EPSG:32618").transform(out).count == out.count)
        }
        // The same files declared as China's CGCS2000 grid are refused at their first vertex.
        let wrong = try #require(Self.refusal { _ = try Transformer(from: "EPSG:4326", to: "EPSG:4549").transform(points) })
        #expect(wrong.pointIndex == 0 && wrong.message.contains("EPSG:4549"))
    }

    @Test func projectedToGeographicChecksTheOutput() throws {
        let toLonLat = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        let inside = [Point(637_000, 3_140_000), Point(501_548, 3_379_503)]
        #expect(try toLonLat.transform(inside).count == 2)
        // Where the −170° dig polygon silently landed in EPSG:4549.
        let far = try Transformer(from: "EPSG:4326", to: "EPSG:4549", areaCheck: .none).transform(Point(-170, 28.37))
        let e = try #require(Self.refusal { _ = try toLonLat.transform(inside + [far]) })
        #expect(e.pointIndex == 2 && e.message.contains("outside the area of use of EPSG:4549"), "\(e)")
        // The inverse of a checked transformer is checked the same way.
        #expect(Self.refusal { _ = try toLonLat.inverse.transform(Point(-170, 28.37)) }?.pointIndex == 0)
        #expect(toLonLat.inverse.areaCheck == .standard)
    }

    /// Projected → projected: every batch's verdict (first refused index, or none) equals the
    /// brute force over cs2cs's lon/lat for every point, on batches that take the per-point path
    /// (≤ 80 points) and the envelope path, with the bad point anywhere or nowhere.
    @Test(.enabled(if: PROJCs2cs.available, "cs2cs (proj-bin) is not installed"))
    func projectedToProjectedMatchesBruteForceOverCs2cs() throws {
        // EPSG:4549 (118.5..121.5) → UTM 51N EPSG:32651 (120..126): both areas apply.
        let t = try Transformer(from: "EPSG:4549", to: "EPSG:32651")
        let areas = [try #require(try CoordinateSystem(epsg: 4549).areaOfUse), try #require(try CoordinateSystem(epsg: 32651).areaOfUse)]
        var rng = GEOSBridgeRNG(seed: 32651)
        var batches: [[Point]] = []
        for size in [1, 2, 5, 80, 81, 300, 2000] {
            for variant in 0..<4 {
                // Around Wenling, near the margin (≈ 123°E lies near easting 1.0e6), far off.
                var pts = (0..<size).map { _ in Point(rng.double(600_000, 680_000), rng.double(3_100_000, 3_180_000)) }
                if variant >= 1 {
                    let k = rng.int(0, size - 1)
                    pts[k] = variant == 1 ? Point(rng.double(780_000, 860_000), rng.double(3_000_000, 3_300_000))
                        : variant == 2 ? Point(-5e6, 3_140_000) : Point(637_000, 9_500_000)
                }
                batches.append(pts)
            }
        }
        // One cs2cs run for every point (lat lon output order for EPSG:4326).
        let all = batches.flatMap { $0 }
        let geo = try PROJCs2cs.run(["-f", "%.12f", "EPSG:4549", "EPSG:4326"], all.map { ($0.y, $0.x) })
        try #require(geo.count == all.count)
        var offset = 0
        var refusedSome = false, envelopeRefusals = 0
        for pts in batches {
            let expected = pts.indices.first { i in
                let (lat, lon) = geo[offset + i]
                return !(lat.isFinite && lon.isFinite) || !areas.allSatisfy { AreaOracle.contains($0, margin: 1.5, lon: lon, lat: lat) }
            }
            offset += pts.count
            let got = Self.refusal { _ = try t.transform(pts) }
            #expect(got?.pointIndex == expected, "batch of \(pts.count): \(got.map(\.description) ?? "accepted") vs \(expected.map(String.init) ?? "accept")")
            if let got, expected != nil {
                refusedSome = true
                if pts.count > 80 { envelopeRefusals += 1 }
                #expect(got.message.contains("outside the area of use of EPSG:") || got.message.contains("no position on the globe"), "\(got)")
            } else if got == nil {
                #expect(try t.transform(pts) == (try t.withAreaCheck(.none).transform(pts)))
            }
        }
        #expect(refusedSome && envelopeRefusals > 0)
    }

    @Test func projectedToProjectedWithoutRecordedTargetAreaChecksTheSource() throws {
        // The city grid records no area; EPSG:4549's still applies.
        let t = try Transformer(from: CoordinateSystem(epsg: 4549), to: CoordinateSystem(PROJKnownCase.cityGrid))
        var rng = GEOSBridgeRNG(seed: 9)
        let pts = (0..<1000).map { _ in Point(rng.double(620_000, 660_000), rng.double(3_120_000, 3_160_000)) }
        #expect(try t.transform(pts).count == 1000)
        var bad = pts
        bad[613] = Point(8_014_293, 6_413_417)  // the −170° point as cs2cs projects it
        let e = try #require(Self.refusal { _ = try t.transform(bad) })
        #expect(e.pointIndex == 613 && e.message.contains("EPSG:4549"), "\(e)")
        #expect(try t.withAreaCheck(.none).transform(Point(637_000, 3_140_000)) == (try t.transform(Point(637_000, 3_140_000))))
        // The city grid → 4326 has no recorded area on either side: nothing is checked.
        let open = try Transformer(from: PROJKnownCase.cityGrid, to: "EPSG:4326")
        #expect(try open.transform(Point(40_197.6, 139_450.1)).x > 121)
    }

    @Test func antimeridianAreasWrap() throws {
        let t = try Transformer(from: "EPSG:4326", to: "EPSG:3832", areaCheck: .strict)
        for lon in [179.9, -179.9, -170, 100, -68] { #expect(Self.refusal { _ = try t.transform(Point(lon, 0)) } == nil, "\(lon)") }
        for lon in [0.0, 98, -67] { #expect(Self.refusal { _ = try t.transform(Point(lon, 0)) }?.pointIndex == 0, "\(lon)") }
        let lenient = try t.withAreaCheck(.standard)
        #expect(Self.refusal { _ = try lenient.transform(Point(97.5, 0)) } == nil)
        #expect(Self.refusal { _ = try lenient.transform(Point(-66.6, 0)) } == nil)
    }

    @Test func concurrentCheckedTransformsAgree() async throws {
        let t = try Transformer(from: CoordinateSystem(epsg: 4549), to: CoordinateSystem(PROJKnownCase.cityGrid))
        var rng = GEOSBridgeRNG(seed: 77)
        let pts = (0..<200).map { _ in Point(rng.double(620_000, 660_000), rng.double(3_120_000, 3_160_000)) }
        let reference = try t.transform(pts)
        let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<6 {
                group.addTask {
                    var bad = 0
                    for round in 0..<5 {
                        var batch = pts
                        let k = (task * 31 + round * 17) % pts.count
                        if round % 2 == 1 { batch[k] = Point(8_014_293, 6_413_417) }
                        do {
                            if try t.transform(batch) != reference || round % 2 == 1 { bad += 1 }
                        } catch let e as PROJError {
                            if e.pointIndex != k || round % 2 == 0 { bad += 1 }
                        }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(wrong == 0)
    }
}
