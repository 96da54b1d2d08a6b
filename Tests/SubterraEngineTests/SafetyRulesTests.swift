import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Issue 11: severity is named by the rule file, unknown values are judged the safe way, rule
/// values are bounded, and pairs no rule covers are "not checked", never compliant.
@Suite struct SafetyRulesTests {
    let rules: ClearanceRules

    init() throws { rules = try ClearanceRules.bundled() }

    /// The bundled file with the power class renamed to `electric` everywhere it is named.
    static func renamedPowerFile() throws -> Data {
        let url = try #require(ClearanceRules.bundledURL)
        var text = try String(contentsOf: url, encoding: .utf8)
        text = text.replacingOccurrences(of: #""class": "power""#, with: #""class": "electric""#)
        text = text.replacingOccurrences(of: #""DL": "power""#, with: #""DL": "electric""#)
        return Data(text.utf8)
    }

    @Test func unknownVoltageIsCriticalLikeUnknownPressure() {
        #expect(rules.isCritical(PipeProfile(layer: "RQ")), "gas of unknown pressure")
        #expect(rules.isCritical(PipeProfile(layer: "DL")), "cable of unknown voltage")
        #expect(rules.criticalReason(PipeProfile(layer: "DL")) == "critical: power at or above 10 kV (voltage unknown)")
        #expect(!rules.isCritical(PipeProfile(layer: "DL", voltageKV: 0.4)))
        #expect(rules.isCritical(PipeProfile(layer: "DL", voltageKV: 110)))
        #expect(!rules.isCritical(PipeProfile(layer: "TX")), "no critical rule for telecom: unknown voltage does not matter")
        #expect(!rules.isCritical(PipeProfile(layer: "GY")))
    }

    @Test func renamedClassKeepsHighVoltageCritical() throws {
        let electric = try ClearanceRules(data: Self.renamedPowerFile())
        #expect(electric.ruleClass(ofLayer: "DL") == "electric")
        #expect(electric.isCritical(PipeProfile(layer: "DL", voltageKV: 110)))
        #expect(electric.isCritical(PipeProfile(layer: "DL")))
        #expect(!electric.isCritical(PipeProfile(layer: "DL", voltageKV: 0.4)))
        // ... and in a dig check: the cable crossing the dig is critical.
        var s = PipeSegment(id: 1, layer: .power, startPoint: "A", endPoint: "B",
                            geometry: try LineString([Point(origin.x - 20, origin.y + 5), Point(origin.x + 30, origin.y + 5)]),
                            startDepth: 1, endDepth: 1)
        s.voltageKV = 110
        let e = try UtilityEngine(network: UtilityNetwork(segments: [s]), rules: electric)
        let r = try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 1.5))
        #expect(r.conflicts.first?.severity == .critical)
        #expect(r.conflicts.first?.reason.hasPrefix("critical: electric at or above 10 kV") == true)
    }

    @Test func severityNamingAMissingClassFailsToLoad() throws {
        // The renamed file with the default severity section, which names "power".
        var text = String(decoding: try Self.renamedPowerFile(), as: UTF8.self)
        text = text.replacingOccurrences(of: #""class": "electric", "voltageKVAtOrAbove""#, with: #""class": "power", "voltageKVAtOrAbove""#)
        #expect {
            _ = try ClearanceRules(data: Data(text.utf8))
        } throws: { e in
            (e as? ClearanceRulesError)?.description.hasPrefix(
                #"clearance rules, severity.critical[1]: class "power" is not a class of layerClasses.map"#) ?? false
        }
    }

    @Test func oldSeverityKeysGetAMigrationError() {
        for key in [#""criticalVoltageKVAtOrAbove": 35"#, #""criticalGasPressureAtOrAbove": "subHighA""#] {
            #expect {
                _ = try rules.overridden(by: Data("{\"severity\": {\(key)}}".utf8))
            } throws: { e in
                let d = (e as? ClearanceRulesError)?.description ?? ""
                return d.contains("no longer read") && d.contains("severity.critical") && !d.contains("\n")
            }
        }
        #expect(throws: ClearanceRulesError.self) {
            try rules.overridden(by: Data(#"{"severity": {"note": "none"}}"#.utf8))
        }
        #expect(throws: ClearanceRulesError.self) {
            try rules.overridden(by: Data(#"{"severity": {"critical": [{"class": "gas"}, {"class": "gas", "pressureAtOrAbove": "low"}]}}"#.utf8))
        }
        // An empty list is allowed: nothing is critical.
        let none = try? rules.overridden(by: Data(#"{"severity": {"critical": []}}"#.utf8))
        #expect(none?.isCritical(PipeProfile(layer: "RQ")) == false)
    }

    @Test func ruleValuesAreBounded() throws {
        func refused(_ json: String, _ location: String, _ message: String) {
            #expect {
                _ = try rules.overridden(by: Data(json.utf8))
            } throws: { e in
                let d = (e as? ClearanceRulesError)?.description ?? ""
                return d.contains(location) && d.contains(message)
            }
        }
        refused(#"{"excavation": {"id": "x", "source": "c", "rows": {"power": 1e9}}}"#,
                #"excavation.rows["power"]"#, "must be <= 100 m")
        refused(#"{"excavation": {"id": "x", "source": "c", "rows": {"power": 1e999}}}"#, "file", "not valid JSON")
        refused(#"{"severity": {"critical": [{"class": "power", "voltageKVAtOrAbove": 1e7}]}}"#,
                "severity.critical[0].voltageKVAtOrAbove", "<= 2000 kV")
        refused(#"{"severity": {"critical": [{"class": "power", "voltageKVAtOrAbove": -1}]}}"#,
                "severity.critical[0].voltageKVAtOrAbove", ">= 0")
        var text = try String(contentsOf: ClearanceRules.bundledURL!, encoding: .utf8)
        text = text.replacingOccurrences(of: #""gas low": { "water d<=200": 0.5"#, with: #""gas low": { "water d<=200": 500"#)
        #expect {
            _ = try ClearanceRules(data: Data(text.utf8))
        } throws: { e in
            (e as? ClearanceRulesError)?.description
                == #"clearance rules, horizontal.rows["gas low"]["water d<=200"]: value 500.0 m is out of range; must be <= 100 m"#
        }
    }

    @Test func unknownBurialCodeInARuleFileIsRefused() throws {
        let base = try String(contentsOf: ClearanceRules.bundledURL!, encoding: .utf8)
        let bad = base.replacingOccurrences(of: #"{ "key": "heat trench", "class": "heat", "burial": ["GG"] }"#,
                                            with: #"{ "key": "heat trench", "class": "heat", "burial": ["GX"] }"#)
        #expect(bad != base)
        #expect {
            _ = try ClearanceRules(data: Data(bad.utf8))
        } throws: { e in
            (e as? ClearanceRulesError)?.description
                == #"clearance rules, horizontal.keys[8] ("heat trench"): unknown burial code "GX"; valid codes: ZM, GM, GK, GG, JK, ZH, DG"#
        }
    }

    @Test func unconstrainedPairsAreValidated() throws {
        let base = try String(contentsOf: ClearanceRules.bundledURL!, encoding: .utf8)
        for (from, to, message) in [
            (#"["power", "power"]"#, #"["power", "gas low"]"#, "has a clearance"),
            (#"["power", "power"]"#, #"["power", "pwr"]"#, #"key "pwr" is not among"#),
            (#"["power", "power"]"#, #"["power"]"#, "give two keys"),
        ] {
            #expect {
                _ = try ClearanceRules(data: Data(base.replacingOccurrences(of: from, with: to).utf8))
            } throws: { e in
                (e as? ClearanceRulesError)?.description.contains(message) ?? false
            }
        }
        #expect(rules.isUnconstrained(PipeProfile(layer: "JS", diameterMM: 100), PipeProfile(layer: "JS", diameterMM: 600), vertical: false))
        #expect(!rules.isUnconstrained(PipeProfile(layer: "RL"), PipeProfile(layer: "TX"), vertical: false), "heat–telecom is not given")
    }

    /// One pipe of `layer` along y = origin.y + offset, 50 m long.
    func engine(_ segs: [(LayerCode, Double, Double?)], rules: ClearanceRules? = nil) throws -> UtilityEngine {
        var out: [PipeSegment] = []
        for (i, (layer, offset, depth)) in segs.enumerated() {
            var s = PipeSegment(
                id: Int64(i + 1), layer: layer, startPoint: PointNumber("A\(i)"), endPoint: PointNumber("B\(i)"),
                geometry: try LineString([Point(origin.x - 20, origin.y + offset), Point(origin.x + 30, origin.y + offset)]),
                startDepth: depth, endDepth: depth, owner: "Owner \(i)")
            if layer == .power { s.voltageKV = 0.4 }
            if layer == .gas { s.gasPressureMPa = 0.1 }
            out.append(s)
        }
        return try UtilityEngine(network: UtilityNetwork(segments: out), rules: rules)
    }

    @Test func routeWithNoRuleIsNotChecked() throws {
        let e = try engine([(.gas, 0, 1.0), (.telecom, 3, 0.8), (.water, 6, 1.0)])
        // A planned QT line crossing all three: no rule for any pair, nor for its cover.
        let cross = try LineString([Point(origin.x, origin.y - 5), Point(origin.x, origin.y + 10)])
        let qt = try e.routeCheck(PlannedPipe(profile: PipeProfile(layer: .other), route: cross, depthAtStart: 1.5, depthAtEnd: 1.5))
        #expect(qt.result == .notChecked)
        #expect(qt.unruledPipeIDs == [1, 2, 3])
        #expect(qt.unchecked.map(\.kind) == [.cover, .vertical, .vertical, .vertical])
        #expect(qt.unchecked[1].reason == "not checked: no rule for QT–RQ in GB50289 table 4.1.14")
        // Planned heat running 1 m beside telecom: heat–telecom is not given in table 4.1.9.
        let beside = try LineString([Point(origin.x - 10, origin.y + 4), Point(origin.x + 10, origin.y + 4)])
        let heat = try e.routeCheck(PlannedPipe(profile: PipeProfile(layer: .heat, diameterMM: 100), route: beside, depthAtStart: 1.5, depthAtEnd: 1.5))
        #expect(heat.unchecked.contains { $0.pipeID == 2 && $0.kind == .horizontal && $0.reason == "not checked: no rule for RL–TX in GB50289 table 4.1.9" })
        #expect(heat.result != .ok)
        // Planned water beside water: unconstrained, so checked and OK.
        let nearWater = try LineString([Point(origin.x - 10, origin.y + 7), Point(origin.x + 10, origin.y + 7)])
        let water = try e.routeCheck(PlannedPipe(profile: PipeProfile(layer: .water, diameterMM: 100), route: nearWater, depthAtStart: 1.5, depthAtEnd: 1.5))
        #expect(water.unchecked.isEmpty)
        #expect(water.result == .ok)
    }

    @Test func routeCrossingAPipeOfUnknownDepthIsNotChecked() throws {
        let e = try engine([(.water, 0, nil)])
        let cross = try LineString([Point(origin.x, origin.y - 5), Point(origin.x, origin.y + 5)])
        let r = try e.routeCheck(PlannedPipe(profile: PipeProfile(layer: .gas, pressureClass: .low, diameterMM: 100), route: cross, depthAtStart: 1.5, depthAtEnd: 1.5))
        #expect(r.findings.contains { $0.status == .unknownDepth })
        #expect(r.violations.isEmpty)
        #expect(r.result == .notChecked)
    }

    @Test func digNearAPipeNoRuleCoversIsNotChecked() throws {
        // Only an industrial pipe: no rule covers it and no fallback exists.
        let e = try engine([(.industrial, 0, 1.0)])
        let dig = Geometry.polygon(rect(origin.x, origin.y + 1, origin.x + 4, origin.y + 5))
        let r = try e.digCheck(DigRequest(area: dig, plannedDepth: 1.5))
        #expect(r.conflicts.isEmpty)
        #expect(r.result == .notChecked)
        #expect(r.unchecked.map(\.pipeID) == [1])
        #expect(r.unchecked.first?.reason == "not checked: no rule for dig–GY in Subterra excavation clearance")
        // Farther than any rule reaches (4 m, gas sub-high A to heat trench): clear.
        let far = Geometry.polygon(rect(origin.x, origin.y + 10, origin.x + 4, origin.y + 14))
        #expect(try e.digCheck(DigRequest(area: far, plannedDepth: 1.5)).result == .ok)
        // With a covered pipe in the map, the industrial pipe is held to the fallback: a conflict.
        let mixed = try engine([(.industrial, 0, 1.0), (.power, 40, 1.0)])
        let m = try mixed.digCheck(DigRequest(area: dig, plannedDepth: 1.5))
        #expect(m.conflicts.map(\.pipeID) == [1] && m.conflicts[0].rule == nil)
        #expect(m.result == .violation)
    }
}
