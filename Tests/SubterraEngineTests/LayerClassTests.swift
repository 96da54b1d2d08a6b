import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Fibre (GX) takes the telecom rows through the rule file's `layerClasses`, and a layer no
/// rule file maps still falls back to the largest clearance and says so.
@Suite struct LayerClassTests {
    let rules = try! ClearanceRules.bundled()
    let others: [PipeProfile] = [
        PipeProfile(layer: .water, diameterMM: 150), PipeProfile(layer: .water, diameterMM: 400),
        PipeProfile(layer: .drainage), PipeProfile(layer: .gas, pressureClass: .low),
        PipeProfile(layer: .gas, pressureClass: .subHighA), PipeProfile(layer: .heat, burial: "GG"),
        PipeProfile(layer: .heat), PipeProfile(layer: .power), PipeProfile(layer: .power, burial: "GK"),
        PipeProfile(layer: .telecom, burial: "GK"), PipeProfile(layer: .telecom),
    ]

    @Test func fibreGetsTelecomClearancesByBurialMethod() {
        #expect(rules.ruleClass(ofLayer: .fibre) == "telecom")
        for burial: BurialMethod? in ["GK", "GG", "ZM", "GM", nil] {
            let gx = PipeProfile(layer: .fibre, burial: burial), tx = PipeProfile(layer: .telecom, burial: burial)
            #expect(rules.horizontalKey(gx) == rules.horizontalKey(tx))
            #expect(rules.horizontalKey(gx) == (burial == "GK" || burial == "GG" ? "telecom duct" : "telecom buried"))
            #expect(rules.excavation(gx) == rules.excavation(tx), "burial \(burial?.rawValue ?? "none")")
            #expect(rules.minimumCover(gx, under: .carriageway) == rules.minimumCover(tx, under: .carriageway))
            for o in others {
                #expect(rules.horizontal(gx, o) == rules.horizontal(tx, o))
                #expect(rules.vertical(gx, o) == rules.vertical(tx, o))
            }
            #expect(!rules.isCritical(gx))
        }
        // Telecom's largest row value is 1.5 m (gas sub-high A), not the 4.0 m fallback.
        #expect(rules.excavation(PipeProfile(layer: .fibre, burial: "GK"))?.distance == 1.5)
    }

    /// A 10 m square dig with a GX duct and a layer no rules map ("ZZ") 1.75 m north of it.
    func dig(_ layer: LayerCode, rules: ClearanceRules? = nil) throws -> DigReport {
        let y = origin.y + 10 + 1.75
        let s = PipeSegment(id: 7, layer: layer, startPoint: "A", endPoint: "B",
                            geometry: try LineString([Point(origin.x - 20, y), Point(origin.x + 30, y)]),
                            startDepth: 0.8, endDepth: 0.8, burial: "GK", accuracy: PositionalAccuracy(horizontalM: 0))
        // A gas sub-high A main far away makes 4.0 m the map's largest excavation clearance.
        var gas = PipeSegment(id: 8, layer: .gas, startPoint: "C", endPoint: "D",
                              geometry: try LineString([Point(origin.x - 20, origin.y - 300), Point(origin.x + 30, origin.y - 300)]),
                              startDepth: 1, endDepth: 1)
        gas.gasPressureMPa = 1.2
        let e = try UtilityEngine(network: UtilityNetwork(segments: [s, gas]), rules: rules)
        return try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 1.0))
    }

    @Test func digCheckHoldsFibreToTelecomAndReportsUnmappedLayers() throws {
        #expect(try dig(.fibre).conflicts.isEmpty, "1.75 m clears telecom duct's 1.5 m")
        let unknown = try dig("ZZ")
        #expect(unknown.conflicts.map(\.pipeID) == [7], "an unmapped layer still falls back")
        #expect(unknown.conflicts.first?.rule == nil, "and is reported as having no rule")
        #expect(unknown.conflicts.first?.ruleClearance == 4.0)
        // A city file that leaves GX out sends it back to the fallback.
        let city = try ClearanceRules.bundled().overridden(by: Data(
            #"{"layerClasses": {"map": {"JS": "water", "PS": "drainage", "RQ": "gas", "RL": "heat", "DL": "power", "TX": "telecom"}}}"#.utf8))
        let unmapped = try dig(.fibre, rules: city)
        #expect(unmapped.conflicts.map(\.pipeID) == [7] && unmapped.conflicts[0].rule == nil)
    }

    @Test func layerClassesAreValidated() {
        #expect(throws: ClearanceRulesError.self) {
            try ClearanceRules.bundled().overridden(by: Data(#"{"layerClasses": {"map": {"GX": ""}}}"#.utf8))
        }
        #expect(throws: ClearanceRulesError.self) {
            try ClearanceRules.bundled().overridden(by: Data(#"{"layerClasses": {"map": {"GX": "telecom", "GX": "power"}}}"#.utf8))
        }
    }
}
