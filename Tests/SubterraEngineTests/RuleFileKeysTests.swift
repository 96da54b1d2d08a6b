import Foundation
import Testing

@testable import SubterraEngine

/// Rule files with unknown or misspelled structural keys, a wrong format or an unsupported
/// version: refused with one line naming the file, the key's JSON path and the allowed keys
/// (they were accepted and the key ignored, so a city's stricter value was silently dropped).
@Suite struct RuleFileKeysTests {
    static let topAllowed =
        "allowed: format, version, base, name, source, layerClasses, horizontal, gasToGas, vertical, minimumCover, excavation, severity, pressureClasses, voltageClasses, precaution, positionalAccuracy, jurisdiction"

    /// City file text → the location and the start of the message it must be refused with.
    static let cases: [(String, String, String)] = [
        (#"{"excavaton":{"id":"c","source":"c","rows":{"gas sub-high B":3.0}}}"#,
         "top level", #"unknown key "excavaton"; \#(topAllowed)"#),
        (#"{"bogus":1}"#, "top level", #"unknown key "bogus"; \#(topAllowed)"#),
        (#"{"format":"something-else"}"#, "format", #"format is "something-else", expected "subterra-clearance-rules""#),
        (#"{"version":99}"#, "version", "version 99 is not supported (this library reads 1)"),
        (#"{"severity":{"critical":[{"class":"gas","pressureAtOrAbove":"subHighB","colour":"red"}]}}"#,
         "severity.critical[0]", #"unknown key "colour"; allowed: class, pressureAtOrAbove, voltageKVAtOrAbove, note, voltageAtOrAbove, text"#),
        (#"{"excavation":{"id":"c","source":"c","rows":{},"workTypez":{"hand dig":{"*":1}}}}"#,
         "excavation", #"unknown key "workTypez"; allowed: id, source, note, text, rows, workTypes"#),
        (#"{"horizontal":{"id":"h","source":"s","keys":[{"key":"k","class":"gas","maxDiameterMm":300}],"rows":{}}}"#,
         "horizontal.keys[0]", #"unknown key "maxDiameterMm"; allowed: key, class, pressure, burial, maxDiameterMM, minDiameterMM, note, voltage"#),
        (#"{"minimumCover":{"id":"m","source":"s","keys":[],"rows":{"water":{"sidewalk":0.6,"carriageWay":0.7}}}}"#,
         #"minimumCover.rows["water"]"#, #"unknown key "carriageWay"; allowed: sidewalk, carriageway"#),
    ]

    @Test func cityFileWithUnknownKeyIsRefused() throws {
        let rules = try ClearanceRules.bundled()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("rule-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("city.json")
        for (text, location, message) in Self.cases {
            try Data(text.utf8).write(to: url)
            let e = #expect(throws: ClearanceRulesError.self, "\(text)") { try rules.overridden(byContentsOf: url) }
            #expect(e?.location == location, "\(text)")
            #expect(e?.message.hasPrefix(message) == true, "\(e?.message ?? "accepted"): \(text)")
            #expect(e?.description.hasPrefix("clearance rules city.json, \(location): ") == true, "\(e?.description ?? "")")
            #expect(e?.description.contains("\n") == false)
        }
    }

    /// The correctly spelled section is read: the city's 3.1 m replaces the default.
    @Test func correctlySpelledExcavationIsRead() throws {
        let city = try ClearanceRules.bundled().overridden(by: Data(
            #"{"excavation":{"id":"c","source":"c","rows":{"gas sub-high B":3.1}}}"#.utf8))
        let gas = PipeProfile(layer: "RQ", pressureClass: .subHighB, diameterMM: 200)
        #expect(city.excavation(gas)?.distance == 3.1)
    }

    /// A complete rule file is held to the same keys; data keys (row names, layer codes, work
    /// types) stay free-form.
    @Test func completeFileWithUnknownKeyIsRefused() throws {
        let url = try #require(ClearanceRules.bundledURL)
        var json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        _ = try ClearanceRules(data: JSONSerialization.data(withJSONObject: json))
        json["unconstrained"] = [[String]]()
        let e = #expect(throws: ClearanceRulesError.self) {
            try ClearanceRules(data: JSONSerialization.data(withJSONObject: json))
        }
        #expect(e?.description == #"clearance rules, top level: unknown key "unconstrained"; \#(Self.topAllowed)"#)
    }
}
