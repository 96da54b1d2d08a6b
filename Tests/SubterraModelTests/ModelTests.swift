import Foundation
import SubterraGeometry
import Testing

@testable import SubterraModel

/// Hand-computed derived heights, codes, catalog completeness and refusals of bad records.
@Suite struct ModelTests {
    /// Survey tables name utilities in words: every layer's and sub-type's Chinese name of the
    /// catalogue (with or without 管线) gives that layer, a sub-type's name also its sub-type.
    @Test func layersNamedInChineseResolveToTheirCodes() {
        let c = LayerCatalog.standardWithFibre
        for l in c.layers {
            #expect(c.layer(named: l.chineseName)! == (l.code, nil), "\(l.chineseName)")
            #expect(c.layer(named: " \(l.chineseName)管线 ")! == (l.code, nil), "\(l.chineseName)管线")
            for st in l.subtypes {
                // A name two layers share (有线电视, 信息网络: telecom and fibre) gives the first.
                let first = c.layers.first { $0.subtypes.contains { $0.chineseName == st.chineseName } }!
                let got = c.layer(named: st.chineseName)
                #expect(got?.layer == first.code && got?.subtype == st.code, "\(st.chineseName)")
            }
        }
        #expect(c.layer(named: "雨水")! == (.drainage, .storm))
        #expect(c.layer(named: "JS") == nil && c.layer(named: "沼气") == nil && c.layer(named: "管线") == nil)
    }

    func line(_ pts: [(Double, Double)]) -> LineString { try! LineString(pts.map { Point($0.0, $0.1) }) }

    func sample(
        depths: (Double?, Double?) = (1.0, 2.0), elevations: (Double?, Double?) = (3.0, 1.5),
        ref: ElevationReference = .top, section: PipeSection? = .circular(diameterMM: 300)
    ) -> PipeSegment {
        PipeSegment(
            id: 7, layer: .water, subtype: .distribution, startPoint: "JS1", endPoint: "JS2",
            geometry: line([(0, 0), (30, 40)]), startDepth: depths.0, endDepth: depths.1,
            startElevation: elevations.0, endElevation: elevations.1, elevationReference: ref, section: section)
    }

    @Test func depthInterpolationMatchesHandValues() {
        let s = sample()
        #expect(s.length == 50)
        #expect(s.depthOfTop(atParameter: 0) == 1.0)
        #expect(s.depthOfTop(atParameter: 1) == 2.0)
        #expect(s.depthOfTop(atParameter: 0.25) == 1.25)
        // Clamped outside 0...1, nil for NaN.
        #expect(s.depthOfTop(atParameter: -3) == 1.0)
        #expect(s.depthOfTop(atParameter: 7) == 2.0)
        #expect(s.depthOfTop(atParameter: .nan) == nil)
        // At a plan point: (15, 20) is halfway; (30+4, 40-3) projects onto the end.
        #expect(s.depthOfTop(at: Point(15, 20)) == 1.5)
        #expect(abs(s.depthOfTop(at: Point(-4 * 0.8 + 12, 3 * 0.8 + 16))! - 1.4) < 1e-12)  // t = 0.4 off to the side
        #expect(s.depthOfTop(at: Point(34, 37)) == 2.0)
    }

    @Test func topBottomGroundFromTopElevations() {
        let s = sample()  // top 3.0 -> 1.5, depth 1.0 -> 2.0, DN300
        #expect(s.topElevation(atParameter: 0.5) == 2.25)
        #expect(abs(s.bottomElevation(atParameter: 0.5)! - 1.95) < 1e-12)
        #expect(s.groundElevation(atParameter: 0) == 4.0)
        #expect(s.groundElevation(atParameter: 1) == 3.5)
        #expect(abs(s.groundElevation(atParameter: 0.5)! - 3.75) < 1e-12)
        #expect(abs(s.depthOfBottom(atParameter: 0)! - 1.3) < 1e-12)
        #expect(s.outerHeightM == 0.3)
    }

    @Test func topFromBottomElevationUsesSectionHeight() {
        let s = sample(elevations: (2.0, 1.0), ref: .bottom, section: .rectangular(widthMM: 1200, heightMM: 800))
        #expect(s.startTopElevation == 2.8)
        #expect(s.endTopElevation == 1.8)
        #expect(s.outerWidthM == 1.2)
        #expect(abs(s.bottomElevation(atParameter: 0.5)! - 1.5) < 1e-12)
        // A bottom without a section cannot give a top.
        #expect(sample(ref: .bottom, section: nil).startTopElevation == nil)
    }

    @Test func depthFallsBackToGroundMinusTop() throws {
        let s = sample(depths: (nil, nil))  // tops 3.0, 1.5
        #expect(s.depthOfTop(atParameter: 0.5) == nil)
        #expect(s.depthOfTop(atParameter: 0.5, groundAtStart: 4.0, groundAtEnd: 4.0) == 1.75)
        let map = try UtilityNetwork(
            segments: [s],
            points: [
                FeaturePoint(number: "JS1", layer: .water, kind: .valve, position: Point(0, 0), groundElevation: 5.0),
                FeaturePoint(number: "JS2", layer: .water, kind: .tee, position: Point(30, 40), groundElevation: 3.0),
            ])
        #expect(map.depthOfTop(segmentID: 7, atParameter: 0) == 2.0)
        #expect(map.depthOfTop(segmentID: 7, atParameter: 1) == 1.5)
        #expect(map.depthOfTop(segmentID: 8, atParameter: 1) == nil)
    }

    @Test func multiVertexParameterIsArcLength() {
        var s = sample()
        s.geometry = line([(0, 0), (10, 0), (10, 30)])  // length 40
        #expect(s.length == 40)
        #expect(s.point(atParameter: 0.25) == Point(10, 0))
        #expect(s.point(atParameter: 0.5) == Point(10, 10))
        #expect(s.parameter(nearestTo: Point(12, 20)) == 0.75)
        #expect(s.depthOfTop(at: Point(12, 20)) == 1.75)
    }

    @Test func gasPressureClassBoundaries() {
        let cases: [(Double, GasPressureClass?)] = [
            (0, .low), (0.0035, .low), (0.01, .low), (0.0100001, .mediumB), (0.2, .mediumB), (0.3, .mediumA),
            (0.4, .mediumA), (0.6, .subHighB), (0.8, .subHighB), (1.6, .subHighA), (2.0, .highB), (2.5, .highB),
            (4.0, .highA), (4.01, nil), (-0.1, nil), (.nan, nil), (.infinity, nil),
        ]
        for (p, c) in cases { #expect(GasPressureClass(megapascals: p) == c, "\(p) MPa") }
        // Classes tile 0...4 with no gap: each lower bound is the previous upper bound.
        let all = GasPressureClass.allCases
        for k in 1..<all.count { #expect(all[k].lowerBoundMPa == all[k - 1].upperBoundMPa) }
        #expect(all == all.sorted())
    }

    /// The reference table of /work/shared/reference/README.md, transcribed by hand.
    @Test func standardCatalogMatchesReferenceTable() {
        let expected: [(String, String, [String], (UInt8, UInt8, UInt8)?)] = [
            ("JS", "给水", ["JY", "SS", "ZS", "JP", "JZ", "XS", "LS", "JH"], (0, 255, 255)),
            ("PS", "排水", ["YS", "WS", "HS"], (76, 57, 38)),
            ("RQ", "燃气", ["MQ", "YH", "TR"], (255, 0, 255)),
            ("RL", "热力", ["RS", "ZQ"], (255, 127, 0)),
            ("DL", "电力", ["GD", "LD", "XH", "DC", "GG"], (255, 0, 0)),
            ("TX", "通信", ["DH", "DS", "XX", "GB"], (0, 255, 0)),
            ("GY", "工业", [], (0, 0, 0)),
            ("QT", "其他", ["ZH", "BM"], nil),
        ]
        let c = LayerCatalog.standard
        #expect(c.codes.map(\.rawValue) == expected.map(\.0))
        for (code, zh, subs, rgb) in expected {
            let l = c[LayerCode(code)]
            #expect(l?.chineseName == zh)
            #expect(l?.subtypes.map(\.code.rawValue) == subs)
            #expect(l?.isStandard == true)
            if let rgb { #expect(l?.colour == MapColour(rgb.0, rgb.1, rgb.2)) }
        }
        #expect(c[.water]?.colour.hex == "#00FFFF")
        #expect(!c.contains(.fibre))
        #expect(LayerCatalog.standardWithFibre.contains(.fibre))
        #expect(LayerCatalog.standardWithFibre.codes.count == 9)
    }

    @Test func catalogIsCodableAndRefusesDuplicates() throws {
        var c = LayerCatalog.standard
        try c.add(LayerDefinition(code: "ZX", englishName: "district cooling", chineseName: "区域供冷", colour: MapColour(0, 0, 255)))
        let data = try JSONEncoder().encode(c)
        #expect(try JSONDecoder().decode(LayerCatalog.self, from: data) == c)
        #expect(throws: ModelError.self) { try c.add(LayerCatalog.fibreLayer.with(code: "JS")) }
        #expect(throws: ModelError.self) { try c.add(LayerCatalog.fibreLayer.with(code: " ")) }
        let dupSub = LayerDefinition(
            code: "X1", englishName: "x", chineseName: "x", colour: MapColour(1, 2, 3),
            subtypes: [SubtypeDefinition(code: "A", englishName: "a", chineseName: "a"),
                       SubtypeDefinition(code: "A", englishName: "b", chineseName: "b")])
        #expect(throws: ModelError.self) { try c.add(dupSub) }
        // A hand-edited catalog file with a duplicate is refused with a decoding error, not a trap.
        let bad = #"{"layers":[{"code":"JS","englishName":"a","chineseName":"a","colour":{"red":0,"green":0,"blue":0},"subtypes":[],"isStandard":false},{"code":"JS","englishName":"b","chineseName":"b","colour":{"red":0,"green":0,"blue":0},"subtypes":[],"isStandard":false}]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(LayerCatalog.self, from: Data(bad.utf8)) }
    }

    @Test func openCodesAndKinds() {
        #expect(LayerCode("JS") == .water)
        #expect(BurialMethod("ZM") == .directBuried)
        #expect(BurialMethod("XX").rawValue == "XX")
        #expect(PointKind.valve.standardCategory == .appurtenance)
        #expect(PointKind.tee.standardCategory == .feature)
        #expect(PointKind("weird").standardCategory == nil)
        let all: [BurialMethod] = [.directBuried, .casing, .ductBank, .trench, .overhead, .utilityTunnel, .pipeJacked]
        #expect(all.map(\.rawValue) == ["ZM", "GM", "GK", "GG", "JK", "ZH", "DG"])
    }

    @Test func sectionNotation() {
        #expect(PipeSection(notation: "DN300") == .circular(diameterMM: 300))
        #expect(PipeSection(notation: "Φ150") == .circular(diameterMM: 150))
        #expect(PipeSection(notation: "800x600") == .rectangular(widthMM: 800, heightMM: 600))
        #expect(PipeSection(notation: "800×600") == .rectangular(widthMM: 800, heightMM: 600))
        for bad in ["", "DN", "DN-5", "0x3", "axb", "1x2x3", "DNnan", "DNinf"] {
            #expect(PipeSection(notation: bad) == nil, "\(bad)")
        }
        #expect(PipeSection.circular(diameterMM: 300).notation == "DN300")
        #expect(PipeSection.rectangular(widthMM: 800, heightMM: 600).notation == "800x600")
        #expect(PipeSection.circular(diameterMM: 12.5).notation == "DN12.5")
    }

    @Test func validationSaysWhatAndWhere() {
        func message(_ f: (inout PipeSegment) -> Void) -> String? {
            var s = sample()
            f(&s)
            do { try s.validate(); return nil } catch { return error.description }
        }
        #expect(message { _ in } == nil)
        #expect(message { $0.startDepth = -1 }?.contains("segment 7 (JS1-JS2): depth at start") == true)
        #expect(message { $0.endDepth = .nan }?.contains("depth at end") == true)
        #expect(message { $0.endElevation = .infinity }?.contains("elevation at end") == true)
        #expect(message { $0.section = .circular(diameterMM: 0) }?.contains("section") == true)
        #expect(message { $0.ductHoles = 4; $0.ductHolesOccupied = 5 }?.contains("exceed") == true)
        #expect(message { $0.gasPressureMPa = 5 }?.contains("gas pressure") == true)
        #expect(message { $0.voltageKV = 0 }?.contains("voltage") == true)
        #expect(message { $0.cableCount = -2 }?.contains("cable count") == true)
        #expect(message { $0.accuracy = PositionalAccuracy(horizontalM: -1) }?.contains("accuracy") == true)
        var p = FeaturePoint(number: "JS1", layer: .water, category: .feature, kind: .valve, position: Point(0, 0))
        #expect(throws: ModelError.self) { try p.validate() }  // a valve is an appurtenance
        p.category = .appurtenance
        #expect(throws: Never.self) { try p.validate() }
        p.position = Point(.nan, 0)
        #expect(throws: ModelError.self) { try p.validate() }
    }

    @Test func networkLookupTopologyAndRefusals() throws {
        let a = PipeSegment(id: 1, layer: .gas, startPoint: "A", endPoint: "B", geometry: line([(0, 0), (10, 0)]))
        let b = PipeSegment(id: 2, layer: .gas, startPoint: "B", endPoint: "C", geometry: line([(10, 0), (20, 0)]))
        let c = PipeSegment(id: 3, layer: .gas, startPoint: "B", endPoint: "D", geometry: line([(10, 0), (10, 10)]))
        let pts = ["A", "B", "C"].enumerated().map { i, n in
            FeaturePoint(number: PointNumber(n), layer: .gas, kind: .tee, position: Point(Double(i) * 10, 0))
        }
        let map = try UtilityNetwork(crs: "EPSG:4549", segments: [a, b, c], points: pts)
        #expect(map.segment(id: 2) == b)
        #expect(map.point(number: "C")?.position == Point(20, 0))
        #expect(map.segmentIDs(at: "B") == [1, 2, 3])
        #expect(map.degree(of: "B") == 3)
        #expect(map.degree(of: "Z") == 0)
        #expect(map.neighbours(of: "B") == ["A", "C", "D"])
        #expect(map.danglingPointNumbers == ["D"])
        #expect(map.layersPresent == [.gas])
        #expect(map.envelope == Envelope(minX: 0, minY: 0, maxX: 20, maxY: 10))
        #expect(throws: ModelError.self) { try UtilityNetwork(segments: [a, a]) }
        #expect(throws: ModelError.self) { try UtilityNetwork(points: [pts[0], pts[0]]) }
        var bad = a
        bad.startDepth = -3
        #expect(throws: ModelError.self) { try UtilityNetwork(segments: [bad]) }
        // Codable round trip rebuilds the lookups.
        let data = try JSONEncoder().encode(map)
        let back = try JSONDecoder().decode(UtilityNetwork.self, from: data)
        #expect(back == map)
        #expect(back.segmentIDs(at: "B") == [1, 2, 3])
    }

    @Test func segmentCodableRoundTripAndBadGeometry() throws {
        var s = sample()
        s.gasPressureMPa = 0.3
        s.accuracy = PositionalAccuracy(horizontalM: 0.1, verticalM: 0.05, qualityLevel: .b)
        s.burial = .ductBank
        s.geometry = try LineString([Point(1, 2, 3), Point(4, 5), Point(6, 7)])
        // Every field survives, the ones added for real deliveries included.
        s.nominalDepth = 0.8
        s.sourceID = "nl.imkl-KL1031.EKBL_0042"
        s.feature = 7
        s.part = 2
        s.featureKind = .sleeve
        let data = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(PipeSegment.self, from: data) == s)
        let oneVertex = #"{"id":1,"layer":"JS","startPoint":"a","endPoint":"b","geometry":[[1,2]]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PipeSegment.self, from: Data(oneVertex.utf8)) }
        let badPos = #"{"id":1,"layer":"JS","startPoint":"a","endPoint":"b","geometry":[[1],[2,3]]}"#
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(PipeSegment.self, from: Data(badPos.utf8)) }
        #expect(s.gasPressureClass == .mediumA)
    }
}

extension LayerDefinition {
    fileprivate func with(code: LayerCode) -> LayerDefinition {
        var l = self
        l.code = code
        return l
    }
}
