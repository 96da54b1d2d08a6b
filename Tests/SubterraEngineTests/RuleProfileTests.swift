import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ
import Testing
@testable import SubterraEngine

/// Issue 13 item 5: rule profiles per jurisdiction; item 4: nominal depth and unknown accuracy
/// in the dig check.
@Suite("Rule profiles: the UK HSG47 profile cell by cell, no foreign names, nominal depth, unknown accuracy")
struct RuleProfileTests {
    static let uk = try! ClearanceRules.builtIn("uk-hsg47")

    // MARK: The UK profile, cell by cell, against tables written here from HSG47 (2014)

    /// Gas pressure tiers (HSG47 / IGEM): name, label, upper bound in MPa (nil: unbounded).
    static let ukPressure: [(String, String, Double?)] = [
        ("LP", "low pressure (up to 75 mbar)", 0.0075),
        ("MP", "medium pressure (75 mbar to 2 bar)", 0.2),
        ("IP", "intermediate pressure (2 to 7 bar)", 0.7),
        ("HP", "high pressure (above 7 bar)", nil),
    ]
    /// LV / HV from HSG47; the 33 kV EHV split is the profile's own (documented) choice.
    static let ukVoltage: [(String, String, Double?)] = [
        ("LV", "low voltage (up to 1 kV)", 1), ("HV", "high voltage (1 to 33 kV)", 33), ("EHV", "extra-high voltage (above 33 kV)", nil),
    ]

    @Test func classTablesMatchTheSource() {
        let p = Self.uk.pressureClasses
        #expect(p.count == Self.ukPressure.count)
        for (got, want) in zip(p, Self.ukPressure) {
            #expect(got.name == want.0 && got.label == want.1 && got.upToMPa == want.2, "\(got) vs \(want)")
        }
        let v = Self.uk.voltageClasses
        #expect(v.count == Self.ukVoltage.count)
        for (got, want) in zip(v, Self.ukVoltage) {
            #expect(got.name == want.0 && got.label == want.1 && got.upToKV == want.2, "\(got) vs \(want)")
        }
        // Boundaries: upper bounds inclusive. Pressures in bar as the source states them.
        let bar: [(Double, String)] = [(0, "LP"), (0.075, "LP"), (0.076, "MP"), (2, "MP"), (2.01, "IP"), (7, "IP"), (7.01, "HP"), (70, "HP")]
        for (b, want) in bar { #expect(Self.uk.pressureClass(ofMPa: b / 10) == want, "\(b) bar") }
        let kv: [(Double, String)] = [(0.23, "LV"), (1, "LV"), (1.1, "HV"), (11, "HV"), (33, "HV"), (66, "EHV"), (400, "EHV")]
        for (k, want) in kv { #expect(Self.uk.voltageClass(ofKV: k) == want, "\(k) kV") }
        #expect(Self.uk.pressureClass(ofMPa: nil) == nil && Self.uk.voltageClass(ofKV: nil) == nil)
    }

    /// Every service kind of the profile: (profile, horizontal key, excavation m, precaution m or
    /// nil, critical reason or nil). Excavation 0.5 m is HSG47's; precaution 3 m and the critical
    /// classes are the profile's stated conservative choices.
    static let ukCells: [(PipeProfile, String, Double, Double?, String?)] = [
        (PipeProfile(layer: .water), "water", 0.5, nil, nil),
        (PipeProfile(layer: .drainage), "sewer", 0.5, nil, nil),
        (PipeProfile(layer: .heat), "heat", 0.5, nil, nil),
        (PipeProfile(layer: .telecom), "telecoms", 0.5, nil, nil),
        (PipeProfile(layer: .gas, pressureMPa: 0.003), "gas LP", 0.5, nil, nil),
        (PipeProfile(layer: .gas, pressureMPa: 0.01), "gas MP", 0.5, nil, nil),
        (PipeProfile(layer: .gas, pressureMPa: 0.4), "gas IP", 0.5, 3,
         "critical: gas at intermediate pressure or above (intermediate pressure (2 to 7 bar))"),
        (PipeProfile(layer: .gas, pressureMPa: 7), "gas HP", 0.5, 3,
         "critical: gas at intermediate pressure or above (high pressure (above 7 bar))"),
        (PipeProfile(layer: .gas), "gas HP", 0.5, 3, "critical: gas at intermediate pressure or above (pressure unknown)"),
        (PipeProfile(layer: .power, voltageKV: 0.4), "electricity LV", 0.5, nil, nil),
        (PipeProfile(layer: .power, voltageKV: 11), "electricity HV", 0.5, nil,
         "critical: electricity at high voltage or above (high voltage (1 to 33 kV), 11 kV)"),
        (PipeProfile(layer: .power, voltageKV: 132), "electricity EHV", 0.5, 3,
         "critical: electricity at high voltage or above (extra-high voltage (above 33 kV), 132 kV)"),
        (PipeProfile(layer: .power), "electricity EHV", 0.5, 3, "critical: electricity at high voltage or above (voltage unknown)"),
    ]

    @Test func everyServiceCellMatchesTheSource() {
        for (p, key, excavation, precaution, critical) in Self.ukCells {
            #expect(Self.uk.horizontalKey(p) == key, "\(p)")
            let e = Self.uk.excavation(p)
            #expect(e?.distance == excavation, "\(key)")
            #expect(e?.table == "HSG47 safe digging", "\(key)")
            #expect(e?.basis == "hand dig within 0.5 m of the indicated line of a service (HSG47 limit for hand-held machine tools, applied to all machine digging)", "\(key)")
            #expect(Self.uk.precaution(p)?.distance == precaution, "\(key)")
            #expect(Self.uk.criticalReason(p) == critical, "\(key)")
            // HSG47 has no separation, crossing or cover tables: every such cell is empty.
            for (q, _, _, _, _) in Self.ukCells {
                #expect(Self.uk.horizontal(p, q) == nil && Self.uk.vertical(p, q) == nil, "\(key)")
            }
            #expect(Self.uk.minimumCover(p, under: .carriageway) == nil && Self.uk.minimumCover(p, under: .sidewalk) == nil)
        }
        #expect(Self.uk.unknownHorizontalAccuracy == 1.0)
        #expect(Self.uk.precaution(PipeProfile(layer: .gas, pressureMPa: 0.4))?.basis?.hasPrefix("consult the gas operator") == true)
    }

    @Test func aProfileRefusesAMapOutsideItsJurisdiction() throws {
        let gb = try ClearanceRules.bundled()
        #expect(gb.jurisdiction?.name == "China" && Self.uk.jurisdiction?.name == "United Kingdom")
        // UK rules on the Chinese test map, GB rules on a British map: refused, naming both.
        for (rules, o, crs) in [(Self.uk, origin, "EPSG:4549"), (gb, Self.ukOrigin, "EPSG:27700")] {
            try expectRefused(rules, at: o, crs: crs, saying: ["the map's CRS \(crs) is used in"])
        }
        // A map in a worldwide CRS is not judged by its CRS.
        let world = try UtilityEngine(network: UtilityNetwork(crs: "EPSG:4326"), rules: Self.uk)
        #expect(world.rulesMismatch == nil)
        // A rule file can state its own jurisdiction; a malformed box is refused.
        let nl = try ClearanceRules.builtIn("uk-hsg47").overridden(by: Data(#"{"jurisdiction": {"name": "Netherlands", "lonLat": [3.2, 50.7, 7.3, 53.7]}}"#.utf8))
        #expect(UtilityEngine.jurisdictionMismatch(nl, crs: "EPSG:28992") == nil)
        #expect(UtilityEngine.jurisdictionMismatch(Self.uk, crs: "EPSG:28992") != nil)
        #expect(throws: ClearanceRulesError.self) {
            try ClearanceRules.bundled().overridden(by: Data(#"{"jurisdiction": {"name": "x", "lonLat": [0, 60, 10, 50]}}"#.utf8))
        }
    }

    /// A worldwide CRS says nothing about where the data are: the map's data extent decides.
    /// Dutch lines stored in EPSG:3857 are refused by GB 50289 and by the UK profile, as they
    /// are in EPSG:28992; the same lines placed in China (EPSG:3857) are judged by GB 50289.
    @Test func aWorldwideCRSIsJudgedByWhereItsDataLie() throws {
        let gb = try ClearanceRules.bundled()
        let toMercator = try Transformer(from: "OGC:CRS84", to: "EPSG:3857")
        let utrecht = try toMercator.transform(Point(5.12, 52.09))
        let wenling = try toMercator.transform(Point(121.4, 28.37))
        for rules in [gb, Self.uk] {
            try expectRefused(rules, at: utrecht, crs: "EPSG:3857",
                              saying: ["but the map's data lie at lon 5.1", "its CRS EPSG:3857 is used in"])
        }
        let china = try UtilityEngine(network: foreignNetwork(wenling, crs: "EPSG:3857"), rules: gb)
        #expect(china.rulesMismatch == nil)
        let r = try china.digCheck(DigRequest(area: .polygon(rect(wenling.x, wenling.y, wenling.x + 10, wenling.y + 10)), plannedDepth: 1.5))
        #expect(r.conflicts.count == 2)
        // A projected CRS inside the jurisdiction is judged by its CRS alone, wherever the test data sit.
        #expect(UtilityEngine.jurisdictionMismatch(gb, crs: "EPSG:4549") { Issue.record("extent asked for"); return nil } == nil)
        // The store-backed engine and the snapshot file judge the same way.
        let dir = try MappedMapTests.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("nl.gpkg").path
        let store = try GeoPackageStore.create(at: path, spatialReference: SpatialReference(crs: "EPSG:3857"))
        try store.apply(StoreEdit(upsertSegments: foreignNetwork(utrecht, crs: "EPSG:3857").segments))
        #expect(try UtilityEngine(store: store, rules: gb).rulesMismatch?.contains("the map's data lie at lon 5.1") == true)
        _ = try MappedMap.open(store: store)
        let mapped = try MappedMap.open(store: store, rules: gb)
        #expect(mapped.origin == .file)
        let dig = DigRequest(area: .polygon(rect(utrecht.x, utrecht.y, utrecht.x + 10, utrecht.y + 10)), plannedDepth: 1.5)
        #expect { try mapped.digCheck(dig, filter: .all) } throws: { "\($0)".contains("the map's data lie at lon 5.1") }
    }

    @Test func theDefaultStaysGB50289AndProfilesAreSelectableByName() throws {
        let gb = try ClearanceRules.bundled()
        #expect(gb.name == "GB 50289 defaults")
        #expect(try ClearanceRules.builtIn("gb50289") == gb)
        #expect(ClearanceRules.builtInProfiles == ["gb50289", "uk-hsg47"])
        #expect(throws: ClearanceRulesError.self) { try ClearanceRules.builtIn("nl-crow500") }
        // GB labels now come from the file.
        #expect(gb.criticalReason(PipeProfile(layer: .gas)) == "critical: gas at or above sub-high B (pressure unknown)")
        // A file overriding the UK profile says so; without "base" it overrides GB 50289.
        let onUK = try ClearanceRules.loading(ruleFile: Data(#"{"base": "uk-hsg47", "name": "Leeds"}"#.utf8))
        #expect(onUK.name == "Leeds" && onUK.pressureClass(ofMPa: 0.1) == "MP")
        let onGB = try ClearanceRules.loading(ruleFile: Data(#"{"name": "Wenling"}"#.utf8))
        #expect(onGB.pressureClass(ofMPa: 0.1) == "mediumB")
        #expect(throws: ClearanceRulesError.self) { try ClearanceRules.loading(ruleFile: Data(#"{"base": "mars"}"#.utf8)) }
        // Selectors and severity must name the profile's own classes.
        #expect(throws: ClearanceRulesError.self) {
            try ClearanceRules.loading(ruleFile: Data(#"{"base": "uk-hsg47", "severity": {"critical": [{"class": "gas", "pressureAtOrAbove": "subHighB"}]}}"#.utf8))
        }
    }

    // MARK: Reports show only the active profile's names

    /// Where the UK profile's tests lie: British National Grid, in London (a profile judges only
    /// maps of its jurisdiction).
    static let ukOrigin = Point(530_000, 180_000)

    /// A 10 m square dig with a 100 mbar gas main and a 10 kV cable just outside its edges, at
    /// `origin` in `crs`.
    /// `rules` on `foreignNetwork(o, crs:)`: a dig check is refused naming the rules'
    /// jurisdiction and every one of `saying`; a query that applies no rules still answers.
    func expectRefused(_ rules: ClearanceRules, at o: Point, crs: String, saying: [String]) throws {
        let e = try UtilityEngine(network: foreignNetwork(o, crs: crs), rules: rules)
        let dig = DigRequest(area: .polygon(rect(o.x, o.y, o.x + 10, o.y + 10)), plannedDepth: 1.5)
        #expect {
            try e.digCheck(dig)
        } throws: { error in
            let m = "\(error)"
            return m.contains("the rules are for \(rules.jurisdiction?.name ?? "?")") && saying.allSatisfy { m.contains($0) }
        }
        #expect(try e.nearest(to: .point(o), k: 1).count == 1)
    }

    func foreignNetwork(_ origin: Point, crs: String) throws -> UtilityNetwork {
        var gas = PipeSegment(id: 1, layer: .gas, startPoint: "A", endPoint: "B",
                              geometry: try LineString([Point(origin.x - 20, origin.y + 10.3), Point(origin.x + 30, origin.y + 10.3)]),
                              startDepth: 1, endDepth: 1, owner: "Liander")
        gas.gasPressureMPa = 0.01
        var cable = PipeSegment(id: 2, layer: .power, startPoint: "C", endPoint: "D",
                                geometry: try LineString([Point(origin.x - 20, origin.y - 0.3), Point(origin.x + 30, origin.y - 0.3)]),
                                startDepth: 1, endDepth: 1, owner: "Stedin")
        cable.voltageKV = 10
        return try UtilityNetwork(crs: crs, segments: [gas, cable])
    }

    /// The dig of `foreignNetwork` judged by `rules`: the UK profile on a British map, any other
    /// on the Chinese test map.
    func digJSON(_ rules: ClearanceRules) throws -> String {
        let uk = rules.name == Self.uk.name
        let origin = uk ? Self.ukOrigin : origin
        let e = try UtilityEngine(network: foreignNetwork(origin, crs: uk ? "EPSG:27700" : "EPSG:4549"), rules: rules)
        let r = try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 1.5))
        #expect(r.conflicts.count == 2)
        return String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
    }

    @Test func reportsNeverShowAnotherProfilesNames() throws {
        let gbNames = ["GB50289", "GB 50289", "medium B", "sub-high", "subHigh", "mediumB", "gas low", "power"]
        let ukText = try digJSON(Self.uk)
        for n in gbNames { #expect(!ukText.contains(n), "UK report shows \(n): \(ukText)") }
        #expect(ukText.contains("HSG47"))
        let gbText = try digJSON(try ClearanceRules.bundled())
        for n in ["HSG47", "intermediate pressure", "electricity"] { #expect(!gbText.contains(n), "GB report shows \(n)") }
        #expect(gbText.contains("GB50289"))
    }

    // MARK: Nominal depth, unknown accuracy, precautions in the dig check

    func cable(northOf edge: Double, depth: Double? = nil, nominal: Double? = nil, accuracy: Double? = nil) throws -> DigReport {
        let y = origin.y + 10 + edge
        var s = PipeSegment(id: 1, layer: .power, startPoint: "A", endPoint: "B",
                            geometry: try LineString([Point(origin.x - 20, y), Point(origin.x + 30, y)]),
                            startDepth: depth, endDepth: depth, owner: "State Grid")
        s.voltageKV = 0.4
        s.nominalDepth = nominal
        if let accuracy { s.accuracy = PositionalAccuracy(horizontalM: accuracy) }
        let e = try UtilityEngine(network: UtilityNetwork(segments: [s]))
        return try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 0.5))
    }

    @Test func aNominalDepthNeverClearsADigInDepth() throws {
        // Surveyed 1.0 m: a 0.5 m dig stays above it.
        let surveyed = try cable(northOf: 1, depth: 1.0, accuracy: 0)
        #expect(surveyed.conflicts.first?.reaches == "no")
        #expect(surveyed.conflicts.first?.reachesPipe == false)
        // Only a nominal 1.0 m: possibly reached, with the reason.
        let nominal = try cable(northOf: 1, nominal: 1.0, accuracy: 0)
        let c = try #require(nominal.conflicts.first)
        #expect(c.reaches == "possibly" && c.reachesPipe && c.depth == nil && c.nominalDepth == 1.0)
        #expect(c.reason.contains("only a nominal depth of 1 m is known"), "\(c.reason)")
        #expect(c.severity == .medium, "near and possibly reached")
        #expect(try cable(northOf: 1, accuracy: 0).conflicts.first?.reaches == "unknown")
    }

    @Test func unknownAccuracyIsNotExact() throws {
        // GB power excavation clearance 2.0 m. Stated exact: 2.5 m away is clear.
        #expect(try cable(northOf: 2.5, depth: 1, accuracy: 0).conflicts.isEmpty)
        // Not stated: the profile's 1 m is added, so 2.5 m is within 3.0 m.
        let r = try cable(northOf: 2.5, depth: 1)
        let c = try #require(r.conflicts.first)
        #expect(c.accuracy == 1.0 && !c.accuracyStated && c.requiredClearance == 3.0)
        #expect(c.reason.contains("position accuracy not stated, 1 m assumed"), "\(c.reason)")
        // A stated 1 m gives the same zone as unknown, never a narrower one.
        #expect(try cable(northOf: 2.5, depth: 1, accuracy: 1).conflicts.first?.requiredClearance == 3.0)
    }

    @Test func operatorPrecautionsAreReported() throws {
        let origin = Self.ukOrigin
        var hp = PipeSegment(id: 9, layer: .gas, startPoint: "A", endPoint: "B",
                             geometry: try LineString([Point(origin.x - 20, origin.y + 12), Point(origin.x + 30, origin.y + 12)]),
                             startDepth: 1.2, endDepth: 1.2, owner: "Cadent", accuracy: PositionalAccuracy(horizontalM: 0.2))
        hp.gasPressureMPa = 1.9
        let e = try UtilityEngine(network: UtilityNetwork(crs: "EPSG:27700", segments: [hp]), rules: Self.uk)
        let r = try e.digCheck(DigRequest(area: .polygon(rect(origin.x, origin.y, origin.x + 10, origin.y + 10)), plannedDepth: 1))
        // 2 m from the main: beyond HSG47's 0.5 m (+0.2), within the 3 m (+0.2) precaution.
        #expect(r.conflicts.isEmpty)
        #expect(r.precautions.map(\.pipeID) == [9])
        // The profile says to consult the operator: it is among the owners to notify.
        #expect(r.owners.map(\.owner) == ["Cadent"] && r.owners.first?.pipeIDs == [9] && r.owners.first?.highestSeverity == .high)
        #expect(r.precautions.first?.requiredDistance == 3.2)
        #expect(r.precautions.first?.rule.basis?.contains("consult the gas operator") == true)
    }
}
