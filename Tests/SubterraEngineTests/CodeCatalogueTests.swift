import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraEngine

/// Unknown layer, sub-type and owner codes are refused (issue 11, "unknown codes are errors").
@Suite struct CodeCatalogueTests {
    let engine: UtilityEngine

    init() throws {
        var city = randomDistrict(count: 200, seed: 11)
        // A city layer outside the catalogue, with a city sub-type: valid because the map has it.
        var s = city.segments[0]
        s.id = 10_000
        s.layer = "ZX"
        s.subtype = "ZY"
        s.startPoint = "ZX1"
        s.endPoint = "ZX2"
        city = try UtilityNetwork(crs: city.crs, segments: city.segments + [s])
        engine = try UtilityEngine(network: city)
    }

    @Test func knownCodesBuildTheFilter() throws {
        let f = try PipeFilter(layers: ["rq, js", "DL"], subtypes: [], owners: ["Wenling Gas"], codes: engine.codes)
        #expect(f.layers == [.gas, .water, .power])
        #expect(f.owners == ["Wenling Gas"])
        #expect(f.subtypes == nil)
        let g = try PipeFilter(layers: ["RQ"], subtypes: ["tr"], owners: [], codes: engine.codes)
        #expect(g.subtypes == [.naturalGas])
        let none = try PipeFilter(layers: [], subtypes: [], owners: [], codes: engine.codes)
        #expect(none.layers == nil && none.owners == nil && none.subtypes == nil)
        // A city layer and sub-type present in the map are valid.
        #expect(try engine.codes.layer("zx", field: "--layer") == "ZX")
        #expect(try engine.codes.subtype("ZY", inLayers: ["ZX"], field: "--subtype") == "ZY")
    }

    @Test func unknownLayerIsRefusedNamingTheValidCodes() {
        #expect {
            try PipeFilter(layers: ["XX"], subtypes: [], owners: [], codes: engine.codes)
        } throws: { e in
            let d = (e as? EngineError)?.description ?? ""
            return d.hasPrefix("--layer: unknown layer code \"XX\"; valid codes: JS, PS, RQ, RL, DL, TX, GY, QT, GX, ZX")
        }
        #expect {
            try PipeFilter(layers: ["RQ,ZZ"], subtypes: [], owners: [], codes: engine.codes, fields: .batch)
        } throws: { e in
            (e as? EngineError)?.description.hasPrefix("field layers: unknown layer code \"ZZ\"") ?? false
        }
    }

    @Test(arguments: ["", " ", "RQ,,", ",RQ", "RQ, ,JS"])
    func emptyItemsAreRefused(_ item: String) {
        #expect {
            try PipeFilter(layers: [item], subtypes: [], owners: [], codes: engine.codes)
        } throws: { e in
            (e as? EngineError)?.description.hasPrefix("--layer: empty code") ?? false
        }
        #expect {
            try PipeFilter(layers: [], subtypes: [item], owners: [], codes: engine.codes)
        } throws: { e in
            (e as? EngineError)?.description.hasPrefix("--subtype: empty code") ?? false
        }
    }

    @Test func emptyOwnerIsRefused() {
        #expect {
            try PipeFilter(layers: [], subtypes: [], owners: [""], codes: engine.codes)
        } throws: { e in
            (e as? EngineError)?.description == "--owner: empty owner name"
        }
    }

    @Test func unknownSubtypeOrSubtypeOfAnotherLayerIsRefused() {
        #expect {
            try PipeFilter(layers: [], subtypes: ["QQ"], owners: [], codes: engine.codes)
        } throws: { e in
            let d = (e as? EngineError)?.description ?? ""
            return d.hasPrefix("--subtype: unknown sub-type code \"QQ\"; valid codes: JY, SS") && d.contains("ZY")
        }
        #expect {
            try PipeFilter(layers: ["RQ"], subtypes: ["WS"], owners: [], codes: engine.codes)
        } throws: { e in
            (e as? EngineError)?.description
                == "--subtype: sub-type code \"WS\" is not a sub-type of RQ; valid codes: MQ, YH, TR"
        }
    }

    @Test func burialCodesAreChecked() throws {
        #expect(try engine.codes.burial(" gk", field: "--burial") == .ductBank)
        #expect {
            _ = try engine.codes.burial("ZX", field: "--burial")
        } throws: { e in
            (e as? EngineError)?.description == "--burial: unknown burial code \"ZX\"; valid codes: ZM, GM, GK, GG, JK, ZH, DG"
        }
        #expect(CodeCatalogue(burials: ["LOCAL"]).burials.last == "LOCAL", "codes present in a map are valid")
    }

    @Test func unknownOwnerIsRefusedListingOwners() {
        #expect {
            try PipeFilter(layers: [], subtypes: [], owners: ["wenling gas"], codes: engine.codes)
        } throws: { e in
            (e as? EngineError)?.description == "--owner: no pipe has owner \"wenling gas\" (did you mean \"Wenling Gas\"?); "
                + "the map has 5 owners: \"China Telecom\", \"Heat Co\", \"State Grid Wenling\", \"Wenling Gas\", \"Wenling Water\""
        }
    }

    @Test func longOwnerListsAreCutWithTheCount() throws {
        let owners = (0..<30).map { "Owner \($0 < 10 ? "0" : "")\($0)" }
        let codes = CodeCatalogue(owners: owners)
        #expect {
            _ = try codes.owner("Nobody", field: "field owners")
        } throws: { e in
            let d = (e as? EngineError)?.description ?? ""
            return d.contains("the map has 30 owners: \"Owner 00\"") && d.contains("\"Owner 19\", ...")
                && !d.contains("Owner 20")
        }
    }

    @Test func codesFollowEdits() throws {
        #expect(!engine.codes.owners.contains("New Owner"))
        var s = try #require(engine.segment(id: 1))
        s.owner = "New Owner"
        try engine.apply(StoreEdit(upsertSegments: [s]))
        #expect(engine.codes.owners.contains("New Owner"))
    }

    @Test func ruleFileMappingAnUnknownLayerIsRefused() throws {
        let city = try ClearanceRules.bundled().overridden(by: Data("""
            {"layerClasses": {"map": {"JS": "water", "PS": "drainage", "RQ": "gas", "RL": "heat", "DL": "power",
             "TX": "telecom", "GX": "telecom", "XJ": "water"}}}
            """.utf8))
        #expect {
            _ = try UtilityEngine(network: randomDistrict(count: 10, seed: 1), rules: city)
        } throws: { e in
            (e as? EngineError)?.description
                == "clearance rules \"GB 50289 defaults\", layerClasses.map: unknown layer code \"XJ\"; valid codes: JS, PS, RQ, RL, DL, TX, GY, QT, GX"
        }
    }
}
