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
        for site in sites {
            let poly = Geometry.polygon(Polygon(exterior: try LinearRing(site.ring)))
            let area = site.inWGS84 ? try toLonLat.transform(poly) : poly
            let crs = site.inWGS84 ? "EPSG:4326" : nil
            let touched = try engine.intersecting(area, crs: crs).map(\.pipe.id).sorted()
            #expect(touched == site.hits.sorted(), "\(site.name)")
            let report = try engine.digCheck(DigRequest(area: area, crs: crs, plannedDepth: site.depthM, workType: site.name))
            #expect(Set(site.hits).isSubset(of: report.conflicts.map(\.pipeID)), "\(site.name)")
            #expect(digMatchesBruteForce(report, district.network, engine.rules, poly) || site.inWGS84, "\(site.name)")
            switch site.expect {
            case "clear": #expect(site.hits.isEmpty)
            case "gas-main", "power-cable":
                #expect(report.conflicts.contains { $0.distance == 0 && $0.severity == .critical }, "\(site.name)")
            default: break
            }
        }
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
