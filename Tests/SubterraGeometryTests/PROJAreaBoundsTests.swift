import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing

/// `CoordinateSystem.areaBounds(check:)`: the widened area of use in the system's own
/// coordinates, which queries and imports test every point against.
@Suite struct PROJAreaBoundsTests {
    @Test func gaussKrugerZoneBoundsHoldTheSampleAndRefuseHugeCoordinates() throws {
        let cs = try CoordinateSystem("EPSG:4549")
        let start = Date()
        let b = try #require(try cs.areaBounds())
        let first = Date().timeIntervalSince(start)
        // The sample district (Wenling) and the zone's edges with the 1.5° margin.
        #expect(b.contains(x: 636_606, y: 3_139_924))
        #expect(b.minX < 250_000 && b.maxX > 750_000 && b.minY < 2_600_000 && b.maxY > 6_000_000)
        // The widened lon/lat box's corners project inside; 3° past the margin does not.
        let t = try Transformer(from: "OGC:CRS84", to: "EPSG:4549", areaCheck: .none)
        for (lon, lat) in [(117.0, 22.94), (123.0, 22.94), (117.0, 54.8), (123.0, 54.8), (120.0, 38.0)] {
            let p = try t.transform(Point(lon, lat))
            #expect(b.contains(x: p.x, y: p.y), "(\(lon), \(lat)) → \(p)")
        }
        let far = try t.transform(Point(128, 30))
        #expect(!b.contains(x: far.x, y: far.y))
        for (x, y) in [(1e155, 3_140_200.0), (1e300, 3_140_200), (636_606, -1e308), (.nan, 3_140_200), (0, 0)] {
            #expect(!b.contains(x: x, y: y), "(\(x), \(y))")
        }
        let line = b.refusal("vertex 3", x: 1e300, y: 3_140_200)
        #expect(line.hasPrefix("vertex 3 (1e+300, 3140200) is outside the area of use of EPSG:4549: x 192175..807825, y "))
        #expect(line.contains("lon 118.5..121.5, lat 24.43..53.33, widened by 1.5°") && !line.contains("\n"))
        // Cached: the second call is a look-up.
        let again = Date()
        #expect(try cs.areaBounds() == b)
        #expect(Date().timeIntervalSince(again) < max(0.01, first))
        // No margin: the recorded area itself, tighter.
        let strict = try #require(try cs.areaBounds(check: .strict))
        #expect(strict.minX > b.minX && strict.maxX < b.maxX)
        #expect(try cs.areaBounds(check: .none) == nil)
    }

    @Test func geographicSystemsUseTheRegionAndBareStringsHaveNone() throws {
        // EPSG:4326's area is the whole globe: nothing to check.
        #expect(try CoordinateSystem("EPSG:4326").areaBounds() == nil)
        // CGCS2000 geographic: China's box, longitudes compared on the wrapped region.
        let cgcs = try #require(try CoordinateSystem("EPSG:4490").areaBounds())
        #expect(cgcs.contains(x: 121.4, y: 28.4) && !cgcs.contains(x: -170, y: 28.4) && !cgcs.contains(x: 1e155, y: 28))
        let utm = try #require(try CoordinateSystem("EPSG:32618").areaBounds())
        #expect(utm.contains(x: 500_000, y: 4_900_000) && !utm.contains(x: 1e155, y: 4_900_000))
        #expect(try CoordinateSystem("+proj=tmerc +lon_0=120 +ellps=GRS80").areaBounds() == nil)
    }
}
