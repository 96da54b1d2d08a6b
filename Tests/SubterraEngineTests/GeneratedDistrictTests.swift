import Foundation
import SubterraDatasets
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing

@testable import SubterraEngine

/// The engine on a district from `SubterraDatasets` (street grid, every layer) and its sample dig
/// sites, whose expected hits the generator computed by brute force.
@Suite struct GeneratedDistrictTests {
    let district = DistrictGenerator(segments: 600, seed: 2026).district()
    let engine: UtilityEngine

    init() throws { engine = try UtilityEngine(network: district.network) }

    @Test func sampleDigSitesHitWhatTheGeneratorFound() throws {
        let toLonLat = try Transformer(from: "EPSG:4549", to: "EPSG:4326")
        let sites = SampleSites.digSites(for: district)
        #expect(!sites.isEmpty)
        let wgs84Sites = sites.filter(\.inWGS84).count
        #expect(wgs84Sites > 0, "the generator should give a WGS84 site")
        for site in sites {
            let poly = Geometry.polygon(Polygon(exterior: try LinearRing(site.ring)))
            let area = site.inWGS84 ? try toLonLat.transform(poly) : poly
            let crs = site.inWGS84 ? "EPSG:4326" : nil
            // The brute-force oracle runs in the map CRS: a WGS84 site is converted back by PROJ here.
            let inMap = site.inWGS84 ? try toLonLat.inverse.transform(area) : poly
            let touched = try engine.intersecting(area, crs: crs).map(\.pipe.id).sorted()
            #expect(touched == site.hits.sorted(), "\(site.name)")
            let report = try engine.digCheck(DigRequest(area: area, crs: crs, plannedDepth: site.depthM, workType: site.name))
            #expect(Set(site.hits).isSubset(of: report.conflicts.map(\.pipeID)), "\(site.name)")
            let mismatches = digBruteForceMismatches(report, district.network, engine.rules, inMap)
            #expect(mismatches.isEmpty, "\(site.name): \(mismatches)")
            switch site.expect {
            case "clear": #expect(site.hits.isEmpty)
            case "gas-main", "power-cable":
                #expect(report.conflicts.contains { $0.distance == 0 && $0.severity == .critical }, "\(site.name)")
            default: break
            }
        }
    }

    /// Dig sites given in a third CRS: EPSG:4528 (CGCS2000 3° zone 40, easting with the zone
    /// prefix) and the local tmerc grid. The test converts each site there and back with PROJ and
    /// brute-forces the converted-back polygon in the map CRS; the sample sites' own hits must be
    /// found, so the comparison is not vacuous.
    @Test(arguments: [
        "EPSG:4528",
        "+proj=tmerc +lat_0=0 +lon_0=121.5 +k=1 +x_0=50000 +y_0=-3000000 +ellps=GRS80 +units=m +no_defs",
    ])
    func digSitesInAThirdCRSMatchBruteForce(crs: String) throws {
        let there = try Transformer(from: "EPSG:4549", to: crs)
        let back = try Transformer(from: crs, to: "EPSG:4549")
        let sites = SampleSites.digSites(for: district)
        var hits = 0
        for site in sites {
            let poly = Geometry.polygon(Polygon(exterior: try LinearRing(site.ring)))
            let area = try there.transform(poly)
            let inMap = try back.transform(area)
            let report = try engine.digCheck(DigRequest(area: area, crs: crs, plannedDepth: site.depthM))
            let mismatches = digBruteForceMismatches(report, district.network, engine.rules, inMap)
            #expect(mismatches.isEmpty, "\(site.name) in \(crs): \(mismatches)")
            #expect(Set(site.hits).isSubset(of: report.conflicts.map(\.pipeID)), "\(site.name) in \(crs)")
            let touched = try engine.intersecting(area, crs: crs).map(\.pipe.id).sorted()
            #expect(touched == site.hits.sorted(), "\(site.name) in \(crs)")
            // The site really moved: the CRS is not the map CRS under another name.
            #expect(area.envelope.minX != poly.envelope.minX || area.envelope.minY != poly.envelope.minY)
            hits += site.hits.count
        }
        #expect(hits > 0, "the sample sites should touch pipes")
    }

    @Test func nearestOnTheGeneratedDistrictMatchesBruteForce() throws {
        var rng = TestRandom(61)
        let e = district.extent
        for _ in 0..<20 {
            let p = Point(rng.uniform(e.minX, e.maxX), rng.uniform(e.minY, e.maxY))
            let hits = try engine.nearest(to: .point(p), k: 1, perLayer: true)
            for layer in district.network.layersPresent {
                let best = district.network.segments.filter { $0.layer == layer }.map { geosDistance($0, .point(p)) }.min()!
                let got = try #require(hits.first { $0.pipe.layer == layer })
                #expect(abs(got.distance - best) < 1e-7)
            }
        }
    }
}
