import Foundation
import Testing

@testable import SubterraEngine
import SubterraModel

/// The shared domain reference, whose markdown tables are the oracle for the bundled rule file.
private let referenceURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("shared/reference/README.md")

/// Rows of the markdown table that follows the line starting with `heading`: header cells, then
/// body rows (first cell = row name).
private func markdownTable(after heading: String) throws -> [[String]] {
    let text = try String(contentsOf: referenceURL, encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
    while let l = lines.first, !l.hasPrefix(heading) { lines = lines.dropFirst() }
    lines = lines.drop { !$0.hasPrefix("|") }
    return lines.prefix { $0.hasPrefix("|") }
        .filter { !$0.hasPrefix("|---") }
        .map { $0.split(separator: "|", omittingEmptySubsequences: false).dropFirst().dropLast().map { $0.trimmingCharacters(in: .whitespaces) } }
}

/// A representative profile for each column/row name of the reference tables.
private let horizontalProfiles: [String: PipeProfile] = [
    "water d≤200": PipeProfile(layer: "JS", burial: "ZM", diameterMM: 150),
    "water d>200": PipeProfile(layer: "JS", burial: "ZM", diameterMM: 600),
    "drainage": PipeProfile(layer: "PS", diameterMM: 800),
    "gas low": PipeProfile(layer: "RQ", pressureClass: .low, diameterMM: 100),
    "gas med-B": PipeProfile(layer: "RQ", pressureClass: .mediumB, diameterMM: 100),
    "gas med-A": PipeProfile(layer: "RQ", pressureClass: .mediumA, diameterMM: 100),
    "gas sub-high B": PipeProfile(layer: "RQ", pressureClass: .subHighB, diameterMM: 100),
    "gas sub-high A": PipeProfile(layer: "RQ", pressureClass: .subHighA, diameterMM: 100),
    "heat buried": PipeProfile(layer: "RL", burial: "ZM", diameterMM: 300),
    "heat trench": PipeProfile(layer: "RL", burial: "GG", diameterMM: 300),
    "power": PipeProfile(layer: "DL", burial: "ZM", voltageKV: 10),
    "telecom buried": PipeProfile(layer: "TX", burial: "ZM"),
    "telecom duct": PipeProfile(layer: "TX", burial: "GK"),
]

private let verticalProfiles: [String: PipeProfile] = [
    "water": PipeProfile(layer: "JS", diameterMM: 300),
    "drainage": PipeProfile(layer: "PS", diameterMM: 300),
    "heat": PipeProfile(layer: "RL", burial: "ZM"),
    "gas": PipeProfile(layer: "RQ", pressureClass: .low),
    "telecom buried": PipeProfile(layer: "TX", burial: "ZM"),
    "telecom duct": PipeProfile(layer: "TX", burial: "GK"),
    "power buried": PipeProfile(layer: "DL", burial: "ZM"),
    "power trench": PipeProfile(layer: "DL", burial: "GG"),
]

@Suite struct ClearanceRulesTests {
    let rules: ClearanceRules
    let bundledData: Data

    init() throws {
        rules = try ClearanceRules.bundled()
        bundledData = try Data(contentsOf: Bundle.module.url(forResource: "clearance-rules", withExtension: "json")!)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: referenceURL.path)))
    func horizontalTableMatchesReferenceCellByCell() throws {
        let table = try markdownTable(after: "**Minimum horizontal clearance**")
        let header = table[0]
        #expect(table.count == 8)
        var checked = 0
        for row in table.dropFirst() {
            let a = try #require(horizontalProfiles[row[0]], "row \(row[0])")
            for (j, cell) in row.enumerated().dropFirst() {
                let b = try #require(horizontalProfiles[header[j]], "column \(header[j])")
                let got = rules.horizontal(a, b)
                if cell == "–" {
                    #expect(got == nil, "\(row[0]) ↔ \(header[j])")
                } else {
                    // "0.4*": gas-to-gas, DN 100 on both sides → 0.4.
                    let want = Double(cell.replacingOccurrences(of: "*", with: ""))!
                    #expect(got?.distance == want, "\(row[0]) ↔ \(header[j]): \(String(describing: got))")
                    #expect(rules.horizontal(b, a)?.distance == want, "symmetry \(header[j]) ↔ \(row[0])")
                }
                checked += 1
            }
        }
        #expect(checked == 7 * 13)
    }

    @Test func mediumGasRowsFollowTheLowRowExceptDrainageAndHeatTrench() throws {
        for name in ["gas med-B", "gas med-A"] {
            let p = horizontalProfiles[name]!
            for (other, q) in horizontalProfiles where !other.hasPrefix("gas") {
                let low = rules.horizontal(horizontalProfiles["gas low"]!, q)?.distance
                let want = other == "drainage" ? 1.2 : other == "heat trench" ? 1.5 : low
                #expect(rules.horizontal(p, q)?.distance == want, "\(name) ↔ \(other)")
            }
        }
        // Heat to heat, telecom to telecom: not constrained; power to telecom 0.5.
        #expect(rules.horizontal(horizontalProfiles["heat buried"]!, horizontalProfiles["heat trench"]!) == nil)
        #expect(rules.horizontal(horizontalProfiles["telecom duct"]!, horizontalProfiles["telecom buried"]!) == nil)
        #expect(rules.horizontal(horizontalProfiles["power"]!, horizontalProfiles["telecom duct"]!)?.distance == 0.5)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: referenceURL.path)))
    func verticalTableMatchesReferenceCellByCell() throws {
        let table = try markdownTable(after: "**Minimum vertical clearance at crossings**")
        let header = table[0]
        #expect(table.count == 7)
        for row in table.dropFirst() {
            let a = try #require(verticalProfiles[row[0]], "row \(row[0])")
            for (j, cell) in row.enumerated().dropFirst() {
                let b = try #require(verticalProfiles[header[j]], "column \(header[j])")
                let want = try #require(Double(cell))
                #expect(rules.vertical(a, b)?.distance == want, "\(row[0]) ↔ \(header[j])")
                #expect(rules.vertical(b, a)?.distance == want, "symmetry")
            }
        }
        #expect(rules.vertical(verticalProfiles["telecom duct"]!, verticalProfiles["power trench"]!) == nil)
    }

    @Test func gasToGasDependsOnTheLargerDiameter() {
        func gas(_ dn: Double?, _ p: GasPressureClass = .low) -> PipeProfile { PipeProfile(layer: "RQ", pressureClass: p, diameterMM: dn) }
        #expect(rules.horizontal(gas(300), gas(300, .subHighA))?.distance == 0.4)
        #expect(rules.horizontal(gas(300), gas(301))?.distance == 0.5)
        #expect(rules.horizontal(gas(500), gas(100))?.distance == 0.5)
        #expect(rules.horizontal(gas(nil), gas(100))?.distance == 0.5, "unknown DN counts as large")
        // Above 1.6 MPa the table does not apply.
        #expect(rules.horizontal(gas(100, .highB), gas(100)) == nil)
        #expect(rules.horizontal(gas(100, .highA), horizontalProfiles["power"]!) == nil)
    }

    @Test func ruleIdentifiersNameTableKeysAndValue() {
        let gas = PipeProfile(layer: "RQ", pressureClass: .subHighA, diameterMM: 200)
        let cable = PipeProfile(layer: "DL", burial: "ZM", voltageKV: 10)
        #expect(rules.horizontal(gas, cable)?.description == "GB50289 table 4.1.9: gas sub-high A ↔ power, 1.5 m")
        #expect(rules.vertical(gas, cable)?.description == "GB50289 table 4.1.14: gas ↔ power buried, 0.5 m")
        #expect(rules.minimumCover(gas, under: .carriageway)?.distance == 0.7)
        #expect(rules.minimumCover(PipeProfile(layer: "TX", burial: "GK"), under: .sidewalk)?.distance == 0.4)
        #expect(rules.minimumCover(PipeProfile(layer: "DL", burial: "GG"), under: .carriageway)?.distance == 0.5)
    }

    @Test func unsurveyedAttributesFallToTheStricterRow() {
        #expect(rules.horizontalKey(PipeProfile(layer: "JS")) == "water d>200")
        #expect(rules.horizontalKey(PipeProfile(layer: "JS", diameterMM: 200)) == "water d<=200")
        #expect(rules.horizontalKey(PipeProfile(layer: "RQ")) == "gas sub-high A")
        #expect(rules.horizontalKey(PipeProfile(layer: "GY")) == nil)
        #expect(rules.horizontalKey(PipeProfile(layer: "XX-city")) == nil)
    }

    @Test func excavationClearanceIsTheRowMaximumUnlessOverridden() throws {
        let gas = PipeProfile(layer: "RQ", pressureClass: .subHighA, diameterMM: 200)
        #expect(rules.excavation(gas)?.distance == 4.0)  // heat trench column
        #expect(rules.excavation(PipeProfile(layer: "DL"))?.distance == 2.0)
        #expect(rules.excavation(PipeProfile(layer: "RQ", pressureClass: .low, diameterMM: 100))?.distance == 1.0)
        #expect(rules.excavation(PipeProfile(layer: "GY")) == nil)
        let city = try rules.overridden(by: Data("""
            {"excavation": {"id": "Wenling excavation", "source": "city", "rows": {"power": 0.8}},
             "severity": {"critical": [{"class": "gas", "pressureAtOrAbove": "subHighB"},
                                       {"class": "power", "voltageKVAtOrAbove": 35}]}}
            """.utf8))
        #expect(city.excavation(PipeProfile(layer: "DL"))?.distance == 0.8)
        #expect(city.excavation(PipeProfile(layer: "DL"))?.table == "Wenling excavation")
        #expect(city.isCritical(PipeProfile(layer: "DL", voltageKV: 10)) == false)
        #expect(city.isCritical(PipeProfile(layer: "DL", voltageKV: 35)))
        #expect(city.horizontal(horizontalProfiles["drainage"]!, horizontalProfiles["power"]!)?.distance == 0.5)
    }

    /// The excavation rule says what it is: one pipe's excavation clearance, derived from its
    /// table 4.1.9 row (the column that gave the maximum named as the reason), not a clearance
    /// between two pipes. Oracle: the reference table's row maximum.
    @Test func excavationRuleLabelSaysWhatItIs() throws {
        let sub = try #require(rules.excavation(PipeProfile(layer: "RQ", pressureClass: .subHighB, diameterMM: 200)))
        #expect(sub.description
            == "Subterra excavation clearance for gas sub-high B (largest of GB50289 table 4.1.9 row: heat trench 2 m), 2 m")
        #expect(sub.keys == ["gas sub-high B"], "one pipe's key, not a pair")
        #expect(sub.basis == "largest of GB50289 table 4.1.9 row: heat trench 2 m")
        // Every key's excavation value is the maximum of its reference row, and the label names it.
        let table = FileManager.default.fileExists(atPath: referenceURL.path) ? try markdownTable(after: "**Minimum horizontal clearance**") : []
        let header = table.first ?? []
        for row in table.dropFirst() {
            guard let p = horizontalProfiles[row[0]], let rule = rules.excavation(p) else { continue }
            let values = row.dropFirst().compactMap { Double($0) }
            guard let top = values.max() else { continue }
            #expect(rule.distance == top, "\(row[0])")
            let column = header[row.firstIndex { Double($0) == top }!]
            #expect(rule.basis?.hasSuffix(" \(_metres(top)) m") == true, "\(row[0]): \(rule)")
            #expect(rule.description.hasPrefix("Subterra excavation clearance for \(rules.horizontalKey(p)!) ("),
                    "\(row[0]) (max at \(column)): \(rule)")
        }
        // A cell between two pipes keeps its plain label.
        #expect(rules.horizontal(PipeProfile(layer: "RQ", pressureClass: .subHighB), PipeProfile(layer: "RL", burial: "GG"))?
            .description == "GB50289 table 4.1.9: gas sub-high B ↔ heat trench, 2 m")
    }

    /// A city's per-work-type excavation values: matched ignoring case and spacing, key rows over
    /// `"*"`, `"*"` over the default; other work types (and none) keep the default rule.
    @Test func workTypeSelectsTheCityExcavationRule() throws {
        let city = try rules.overridden(by: Data("""
            {"excavation": {"id": "Wenling excavation", "source": "city", "rows": {"power": 0.8},
              "workTypes": {"Hand dig": {"*": 0.5, "gas sub-high A": 1.0},
                            "pile driving": {"power": 3.0}}}}
            """.utf8))
        #expect(city.excavationWorkTypes == ["Hand dig", "pile driving"])
        #expect(city.excavationWorkType(matching: "  hand   DIG ") == "Hand dig")
        #expect(city.excavationWorkType(matching: "trench for fibre duct") == nil)
        #expect(city.excavationWorkType(matching: nil) == nil)
        let gasA = PipeProfile(layer: "RQ", pressureClass: .subHighA)
        let cable = PipeProfile(layer: "DL", voltageKV: 10)
        let hand = try #require(city.excavation(gasA, workType: "hand dig"))
        #expect(hand.distance == 1.0 && hand.table == "Wenling excavation" && hand.basis == #"work type "Hand dig""#)
        #expect(hand.description == #"Wenling excavation for gas sub-high A (work type "Hand dig"), 1 m"#)
        #expect(city.excavation(cable, workType: "Hand dig")?.distance == 0.5, "the * entry")
        #expect(city.excavation(cable, workType: "pile driving")?.distance == 3.0)
        // pile driving has no gas row and no *: the city's default rule applies (row maximum).
        #expect(city.excavation(gasA, workType: "pile driving") == city.excavation(gasA))
        #expect(city.excavation(gasA)?.distance == 4.0)
        #expect(city.excavation(cable, workType: "trench for fibre duct") == city.excavation(cable))
        #expect(city.excavation(cable)?.distance == 0.8)
        #expect(city.excavation(PipeProfile(layer: "GY"), workType: "hand dig") == nil, "no table covers it")
        // Bundled defaults have no work types: the work type changes nothing.
        #expect(rules.excavationWorkTypes.isEmpty)
        #expect(rules.excavation(cable, workType: "hand dig") == rules.excavation(cable))
    }

    @Test func badWorkTypesAreRefused() {
        func refused(_ workTypes: String, location: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                _ = try rules.overridden(by: Data("""
                    {"excavation": {"id": "x", "source": "city", "rows": {}, "workTypes": \(workTypes)}}
                    """.utf8))
                Issue.record("accepted \(workTypes)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.location.contains(location), "\(error)", sourceLocation: sourceLocation)
                #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
            }
        }
        refused(#"{"hand dig": {"powre": 0.5}}"#, location: #"excavation.workTypes["hand dig"]["powre"]"#,
                message: "neither \"*\" nor among horizontal.keys")
        refused(#"{"hand dig": {"power": -1}}"#, location: #"excavation.workTypes["hand dig"]["power"]"#, message: ">= 0")
        refused(#"{"  ": {"*": 1}}"#, location: #"excavation.workTypes["  "]"#, message: "empty work type name")
        refused(#"{"Hand dig": {"*": 1}, "hand  dig": {"*": 2}}"#, location: #"excavation.workTypes["hand  dig"]"#,
                message: #"same work type as "Hand dig""#)
        refused(#"{"hand dig": {}}"#, location: #"excavation.workTypes["hand dig"]"#, message: "no rows")
        refused(#"{"hand dig": {"*": 1, "*": 2}}"#, location: "excavation.workTypes", message: #"key "*" appears twice"#)
    }

    @Test func criticalPipes() {
        #expect(rules.isCritical(PipeProfile(layer: "RQ", pressureClass: .subHighB)))
        #expect(rules.isCritical(PipeProfile(layer: "RQ", pressureClass: .highA)))
        #expect(rules.isCritical(PipeProfile(layer: "RQ")), "unknown pressure is critical")
        #expect(!rules.isCritical(PipeProfile(layer: "RQ", pressureClass: .mediumA)))
        #expect(rules.isCritical(PipeProfile(layer: "DL", voltageKV: 10)))
        #expect(!rules.isCritical(PipeProfile(layer: "DL", voltageKV: 0.4)))
        #expect(!rules.isCritical(PipeProfile(layer: "JS", diameterMM: 1200)))
    }

    /// Applies `edit` to the bundled file's text and expects a load error whose location contains
    /// `location` and whose message contains `message`.
    func expectRefused(_ edit: (String) -> String, location: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let text = edit(String(decoding: bundledData, as: UTF8.self))
        #expect(text != String(decoding: bundledData, as: UTF8.self), "edit did nothing", sourceLocation: sourceLocation)
        do {
            _ = try ClearanceRules(data: Data(text.utf8))
            Issue.record("accepted a bad file", sourceLocation: sourceLocation)
        } catch {
            #expect(error.location.contains(location), "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(message), "\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func loaderNamesTheBadRowOrKey() {
        let r = { (a: String, b: String) in { (t: String) in t.replacingOccurrences(of: a, with: b) } }
        expectRefused(r(#""gas low": { "water d<=200": 0.5"#, #""gas low": { "water d<=200": -0.5"#),
                      location: #"horizontal.rows["gas low"]["water d<=200"]"#, message: "must be finite and >= 0")
        expectRefused(r(#""gas low": { "water d<=200": 0.5"#, #""gas low": { "water d<=200": 0.6"#),
                      location: #"horizontal.rows["gas low"]["water d<=200"]"#, message: "symmetric")
        expectRefused(r(#""gas low": { "water d<=200": 0.5"#, #""gas low": { "water d<200": 0.5"#),
                      location: #"horizontal.rows["gas low"]["water d<200"]"#, message: "not among horizontal.keys")
        expectRefused(r(#""power": { "water d<=200": 0.5"#, #""power": { "power": 0.1, "power": 0.2, "water d<=200": 0.5"#),
                      location: #"horizontal.rows.power"#, message: #"key "power" appears twice"#)
        expectRefused(r(#""heat": { "water": 0.15"#, #""heat": { "water": 0.15 }, "heat": { "water": 0.15"#),
                      location: "vertical.rows", message: #""heat" appears twice"#)
        expectRefused(r(#"{ "key": "drainage", "class": "drainage" }"#, #"{ "key": "drainage", "class": "sewer" }"#),
                      location: #"horizontal.keys[2] ("drainage")"#, message: #"class "sewer" is not a class"#)
        expectRefused(r(#""pressure": ["mediumA"]"#, #""pressure": ["medium-A"]"#),
                      location: #"horizontal.keys[5] ("gas medium A")"#, message: "unknown pressure class")
        expectRefused(r(#""gas": { "sidewalk": 0.6"#, #""gas": { "sidewalk": -0.6"#),
                      location: #"minimumCover.rows["gas"].sidewalk"#, message: ">= 0")
        expectRefused(r(#""above": 0.5"#, #""above": -0.5"#), location: "gasToGas.above", message: ">= 0")
        expectRefused(r(#""pressureAtOrAbove": "subHighB""#, #""pressureAtOrAbove": "sub-high""#),
                      location: "severity.critical[0].pressureAtOrAbove", message: "unknown pressure class")
        expectRefused(r(#""atOrBelow": 0.4,"#, ""), location: "gasToGas", message: #"missing key "atOrBelow""#)
        expectRefused(r(#""version": 1"#, #""version": 2"#), location: "version", message: "not supported")
        expectRefused({ String($0.dropLast(4)) }, location: "file", message: "not valid JSON")
    }

    @Test func overrideIsValidatedAsAWhole() throws {
        #expect(throws: ClearanceRulesError.self) {
            try rules.overridden(by: Data(#"{"layerClasses": {"map": {"JS": "water"}}}"#.utf8))
        }
        // The bundled file maps fibre (GX) onto telecom; a city that does not list it takes it out.
        let city = try rules.overridden(by: Data(
            #"{"layerClasses": {"map": {"JS": "water", "PS": "drainage", "RQ": "gas", "RL": "heat", "DL": "power", "TX": "telecom"}}}"#.utf8))
        #expect(rules.horizontal(PipeProfile(layer: "GX"), PipeProfile(layer: "DL"))?.distance == 0.5)
        #expect(city.horizontal(PipeProfile(layer: "GX"), PipeProfile(layer: "DL")) == nil)
        do {
            _ = try rules.overridden(byContentsOf: URL(fileURLWithPath: "/nonexistent/wenling-rules.json"))
            Issue.record("read a missing file")
        } catch {
            #expect(error.location == "/nonexistent/wenling-rules.json")
        }
    }
}

/// Rule files nested 60,000 and 1,000,000 deep: one-line error naming the limit and byte (the
/// recursive duplicate-key pass before the decoder overflowed the stack on them).
@Suite struct ClearanceRulesDepthTests {
    @Test(arguments: [60_000, 1_000_000]) func deepNestingIsRefused(levels: Int) throws {
        let rules = try ClearanceRules.bundled()
        for text in [
            String(repeating: "[", count: levels) + String(repeating: "]", count: levels),
            #"{"horizontal": "# + String(repeating: #"{"a":"#, count: levels),
        ] {
            let e = #expect(throws: ClearanceRulesError.self) { try ClearanceRules(data: Data(text.utf8)) }
            #expect(e?.message.hasPrefix("nesting deeper than 64 levels (maxDepth) at byte") == true, "\(e?.message ?? "")")
            let o = #expect(throws: ClearanceRulesError.self) { try rules.overridden(by: Data(text.utf8)) }
            #expect(o?.description.contains("\n") == false)
        }
    }
}
