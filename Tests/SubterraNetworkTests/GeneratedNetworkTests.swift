import SubterraGeometry
import SubterraModel
import SubterraNetwork
import Testing

@testable import SubterraDatasets

/// Generated districts as networks (issue 16): every component of a pressurised system has a
/// source, and drainage falls toward outfalls. Checked through the topology, the trace and the
/// quality report, not the generator's plan.
@Suite("Network: generated districts' sources and drainage fall")
struct GeneratedNetworkTests {
    /// Sizes and seeds: the sample's, a cut-off walk (the last street run is partial) and a
    /// few larger districts.
    static let districts: [(segments: Int, seed: UInt64)] = [(3000, 42), (1234, 7), (8000, 1), (20000, 3)]

    /// Every scope isolation works on: water, heat, and gas per pressure class present.
    static func pressurisedScopes(_ net: UtilityNetwork) -> [NetworkTopology.Scope] {
        let classes = Set(net.segments.filter { $0.layer == .gas }.compactMap(\.gasPressureClass))
        return [.init(layer: .water), .init(layer: .heat), .init(layer: .gas)]
            + GasPressureClass.allCases.filter(classes.contains).map { .init(layer: .gas, gasPressureClass: $0) }
    }

    @Test("every pressurised component has a source", arguments: districts)
    func everyPressurisedComponentHasASource(_ d: (segments: Int, seed: UInt64)) throws {
        let net = DistrictGenerator(segments: d.segments, seed: d.seed).district().network
        for scope in Self.pressurisedScopes(net) {
            guard let t = try? NetworkTopology(network: net, scope: scope, tolerance: 0.05) else { continue }
            let report = NetworkQualityReport(t)
            let without = report.components.filter { !$0.hasSource }
            #expect(without.isEmpty, "\(d) \(scope): \(without.count) of \(report.components.count) components without a source")
        }
    }

    @Test("drainage: downstream from every manhole reaches an outfall; nothing rises", arguments: districts)
    func drainageFallsToOutfalls(_ d: (segments: Int, seed: UInt64)) throws {
        let net = DistrictGenerator(segments: d.segments, seed: d.seed).district().network
        let t = try NetworkTopology(network: net, scope: .init(layer: .drainage), tolerance: 0.05)
        let report = NetworkQualityReport(t)
        #expect(report.uphillDrainage.isEmpty, "\(d): \(report.uphillDrainage.prefix(3))")
        #expect(report.drainageWithoutInverts == 0)
        // No flat pipe: every pipe's flow is determinate (the generator plants no flat ones).
        #expect(t.segments.allSatisfy { FlowDirection($0) == .forward }, "\(d)")
        var manholes = 0
        for v in 0..<t.nodeCount {
            let kinds = t.pointIndices(at: v).map { t.points[Int($0)].kind }
            guard kinds.contains(.manhole) else { continue }
            manholes += 1
            let trace = try DrainageTrace(topology: t, from: [.node(v)], direction: .downstream)
            #expect(!trace.terminals.isEmpty && trace.indeterminatePipes.isEmpty, "\(d): manhole at node \(v) reaches no outfall")
            if trace.terminals.isEmpty { return }
        }
        #expect(manholes > 100)
        // Outfalls exist and the upstream trace from all of them covers every pipe.
        let outfalls = (0..<t.nodeCount).filter { v in t.pointIndices(at: v).contains { t.points[Int($0)].kind == .outfall } }
        #expect(!outfalls.isEmpty)
        let up = try DrainageTrace(topology: t, from: outfalls.map { .node($0) }, direction: .upstream)
        #expect(up.pipes.count == t.edgeCount)
    }

    @Test func drainageDepthsStayPlausible() {
        let net = DistrictGenerator(segments: 20000, seed: 3).district().network
        let depths = net.points.filter { $0.layer == .drainage }.compactMap(\.depth)
        #expect(depths.allSatisfy { $0 > 0.3 && $0 < 8 }, "\(depths.min() ?? 0)...\(depths.max() ?? 0)")
    }
}
