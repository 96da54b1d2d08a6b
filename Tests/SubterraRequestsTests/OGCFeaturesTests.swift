import Foundation
import SubterraDatasets
import SubterraEngine
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraPROJ
@testable import SubterraRequests
import Testing

/// The bundled sample district, loaded once, with the OGC functions over it.
enum OGCSample {
    static let dir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Datasets/sample").path
    static let network: UtilityNetwork = try! DistrictReader.readGeoJSON(directory: dir)
    static let engine: UtilityEngine = try! UtilityEngine(network: network)
    static let ogc = OGCFeatures(map: engine, baseURL: "https://maps.test/ogc/")
    static let toMap = try! Transformer(from: "OGC:CRS84", to: network.crs)
    static let toWGS = try! Transformer(from: network.crs, to: "OGC:CRS84")

    /// A box (CRS84) over the middle of the gas layer's extent: `fraction` of each side.
    static func box(_ layer: LayerCode = .gas, fraction: Double = 0.3) -> [Double] {
        let e = engine.layerExtents()[layer]!
        let cx = (e.minX + e.maxX) / 2, cy = (e.minY + e.maxY) / 2
        let hw = (e.maxX - e.minX) * fraction / 2, hh = (e.maxY - e.minY) * fraction / 2
        let a = try! toWGS.transform(Point(cx - hw, cy - hh)), b = try! toWGS.transform(Point(cx + hw, cy + hh))
        return [a.x, a.y, b.x, b.y]
    }

    /// The CRS84 box as the engine sees it: its corners in the map CRS, straight edges there.
    static func mapPolygon(_ b: [Double]) -> Geometry {
        let ring = [Point(b[0], b[1]), Point(b[2], b[1]), Point(b[2], b[3]), Point(b[0], b[3]), Point(b[0], b[1])]
        return try! toMap.transform(Geometry.polygon(Polygon(exterior: LinearRing(ring))))
    }

    static func intersects(_ s: PipeSegment, _ g: Geometry) -> Bool {
        try! GEOS.withContext { ctx throws(GEOSError) in try ctx.intersects(.lineString(s.geometry), g) }
    }

    static func distance(_ s: PipeSegment, _ g: Geometry) -> Double {
        try! GEOS.withContext { ctx throws(GEOSError) in try ctx.distance(.lineString(s.geometry), g) }
    }

    static func object(_ r: OGCResponse) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
    }

    static func ids(_ r: OGCResponse) -> [Int64] {
        (object(r)["features"] as! [[String: Any]]).map { Int64(($0["id"] as! NSNumber).int64Value) }
    }

    static func bboxText(_ b: [Double]) -> String { b.map { String($0) }.joined(separator: ",") }
}

@Suite struct OGCListingEngineTests {
    /// `segmentIDs` with a box equals GEOS over every segment; without one, every accepted id.
    @Test func segmentIDsEqualBruteForce() throws {
        let e = OGCSample.engine
        let box = OGCSample.mapPolygon(OGCSample.box(fraction: 0.5))
        for layers in [nil, Set([LayerCode.gas]), Set([LayerCode.water, .power])] {
            let f = PipeFilter(layers: layers)
            let got = try e.segmentIDs(within: 0, of: box, crs: nil, filter: f)
            let want = OGCSample.network.segments.filter { f.accepts($0) && OGCSample.intersects($0, box) }.map(\.id).sorted()
            #expect(got == want && !want.isEmpty)
            let near = try e.segmentIDs(within: 7.5, of: box, crs: nil, filter: f)
            let wantNear = OGCSample.network.segments.filter { f.accepts($0) && OGCSample.distance($0, box) <= 7.5 }.map(\.id).sorted()
            #expect(near == wantNear)
            #expect(try e.segmentIDs(filter: f) == OGCSample.network.segments.filter(f.accepts).map(\.id).sorted())
        }
        let extents = e.layerExtents()
        for (layer, env) in extents {
            let segs = OGCSample.network.segments.filter { $0.layer == layer }
            #expect(env == Envelope(points: segs.flatMap(\.geometry.points)))
        }
        #expect(Set(extents.keys) == Set(OGCSample.network.segments.map(\.layer)))
    }

    /// The persisted snapshot (``MappedMap``) and the warming map answer as the engine does.
    @Test func mappedMapListsAsTheEngine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ogc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("map.gpkg").path
        let n = OGCSample.network
        try GeoPackageStore.create(at: path).apply(StoreEdit(upsertSegments: n.segments, upsertPoints: n.points, upsertAreas: n.areas))
        let store = try GeoPackageStore.open(at: path, readOnly: true)
        let mapped = try MappedMap.open(store: store)
        let box = OGCSample.mapPolygon(OGCSample.box(fraction: 0.5))
        let filters = [PipeFilter.all, PipeFilter(layers: [.gas]), PipeFilter(layers: [.water]) { $0.id % 3 == 0 }]
        for f in filters {
            #expect(try mapped.segmentIDs(within: 0, of: box, crs: nil, filter: f) == OGCSample.engine.segmentIDs(within: 0, of: box, crs: nil, filter: f))
            #expect(try mapped.segmentIDs(within: 3, of: box, crs: nil, filter: f) == OGCSample.engine.segmentIDs(within: 3, of: box, crs: nil, filter: f))
            #expect(try mapped.segmentIDs(filter: f) == OGCSample.engine.segmentIDs(filter: f))
        }
        #expect(try mapped.layerExtents() == OGCSample.engine.layerExtents())
        let warming = mapped.warming()
        #expect(try warming.segmentIDs(filter: filters[1]) == OGCSample.engine.segmentIDs(filter: filters[1]))
        _ = warming.waitUntilLoaded()
    }
}

@Suite struct OGCFeaturesTests {
    let ogc = OGCSample.ogc

    func items(_ q: [String: String], layer: String = "RQ", access: OGCAccess = .all) throws -> OGCResponse {
        try ogc.items(collection: layer, query: q, access: access, dataVersion: "v1")
    }

    func refusal(_ q: [String: String], layer: String = "RQ", access: OGCAccess = .all) -> OGCError? {
        do {
            _ = try items(q, layer: layer, access: access)
            return nil
        } catch let e as OGCError {
            return e
        } catch {
            return nil
        }
    }

    @Test func landingConformanceCollections() throws {
        let landing = OGCSample.object(try ogc.landingPage())
        let rels = (landing["links"] as! [[String: Any]]).map { $0["rel"] as! String }
        #expect(rels == ["self", "conformance", "data", "service-desc"])
        #expect((landing["links"] as! [[String: Any]])[3]["href"] as? String == "https://maps.test/ogc/openapi.json")
        let conf = OGCSample.object(try ogc.conformance())["conformsTo"] as! [String]
        #expect(conf.contains("http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"))
        let cols = OGCSample.object(try ogc.collections(access: .all, dataVersion: "v1"))["collections"] as! [[String: Any]]
        let layers = Set(OGCSample.network.segments.map(\.layer.rawValue))
        #expect(cols.map { $0["id"] as! String } == layers.sorted())
        let gas = cols.first { $0["id"] as? String == "RQ" }!
        let def = LayerCatalog.standardWithFibre[.gas]!
        #expect(gas["title"] as? String == "\(def.chineseName) \(def.englishName)" && def.chineseName == "燃气")
        #expect(gas["storageCrs"] as? String == "http://www.opengis.net/def/crs/EPSG/0/4549")
        #expect(gas["crs"] as? [String] == [OGCFeatures.crs84, "http://www.opengis.net/def/crs/EPSG/0/4549"])
        let spatial = (gas["extent"] as! [String: Any])["spatial"] as! [String: Any]
        let bbox = (spatial["bbox"] as! [[Double]])[0]
        #expect(bbox[0] > 121 && bbox[0] < 122 && bbox[1] > 28 && bbox[1] < 29 && bbox[0] < bbox[2])
        let e = OGCSample.engine.layerExtents()[.gas]!
        #expect((spatial["storageCrsBbox"] as! [[Double]])[0] == [e.minX, e.minY, e.maxX, e.maxY])
        #expect(throws: OGCError.self) { try ogc.collection("ZZ", access: .all, dataVersion: "v1") }
        #expect(OGCSample.object(try ogc.collection("RQ", access: .all, dataVersion: "v1"))["id"] as? String == "RQ")
    }

    /// bbox items equal GEOS over every segment of the layer, in id order; paging visits each
    /// exactly once with consistent counts and links.
    @Test func bboxItemsEqualBruteForceAndPagingVisitsEachOnce() throws {
        let b = OGCSample.box(fraction: 0.6)
        let poly = OGCSample.mapPolygon(b)
        let want = OGCSample.network.segments.filter { $0.layer == .gas && OGCSample.intersects($0, poly) }.map(\.id).sorted()
        #expect(want.count > 10)
        let all = try items(["bbox": OGCSample.bboxText(b), "limit": "10000"])
        #expect(OGCSample.ids(all) == want)
        #expect(OGCSample.object(all)["numberMatched"] as? Int == want.count)
        var seen: [Int64] = []
        var offset = 0
        while true {
            let r = try items(["bbox": OGCSample.bboxText(b), "limit": "7", "offset": String(offset)])
            let o = OGCSample.object(r)
            #expect(o["numberMatched"] as? Int == want.count)
            let got = OGCSample.ids(r)
            #expect(o["numberReturned"] as? Int == got.count)
            seen += got
            let rels = (o["links"] as! [[String: Any]]).map { $0["rel"] as! String }
            #expect(rels.contains("prev") == (offset > 0))
            guard rels.contains("next") else { break }
            #expect(r.headers.contains { $0.name == "Link" && $0.value.contains("rel=\"next\"") })
            offset += 7
        }
        #expect(seen == want)
        // Without bbox: the whole layer, id order.
        let layer = try items(["limit": "10000"])
        #expect(OGCSample.ids(layer) == OGCSample.network.segments.filter { $0.layer == .gas }.map(\.id).sorted())
        // A box wider than the map CRS's area of use (the world) finds the whole layer; one
        // wholly outside it finds nothing, and neither is refused.
        #expect(OGCSample.ids(try items(["bbox": "-180,-90,180,90", "limit": "10000"])) == OGCSample.ids(layer))
        #expect(OGCSample.ids(try items(["bbox": "-10,40,-5,45"])).isEmpty)
        // bbox in the map CRS: the same as a map-CRS polygon.
        let e = OGCSample.engine.layerExtents()[.gas]!
        let mb = [e.minX + 100, e.minY + 100, e.minX + 400, e.minY + 300]
        let mpoly = try CQL2.box(mb) { CQL2Error($0) }
        let mwant = OGCSample.network.segments.filter { $0.layer == .gas && OGCSample.intersects($0, mpoly) }.map(\.id).sorted()
        let m = try items(["bbox": OGCSample.bboxText(mb), "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/4549", "limit": "1000"])
        #expect(OGCSample.ids(m) == mwant)
    }

    @Test func propertiesSubsetAndSameNamesAsTheTool() throws {
        let r = try items(["limit": "3", "properties": "owner,layer"])
        for f in OGCSample.object(r)["features"] as! [[String: Any]] {
            #expect(Set((f["properties"] as! [String: Any]).keys).isSubset(of: ["owner", "layer"]))
            #expect((f["properties"] as! [String: Any])["layer"] as? String == "RQ")
        }
        // Every name the tool's hit rows share with a record is written under that name.
        let s = OGCSample.network.segments.first { $0.layer == .gas && $0.gasPressureMPa != nil }!
        let one = OGCSample.object(try ogc.item(collection: "RQ", featureID: String(s.id), query: [:], access: .all, dataVersion: "v1"))
        let props = one["properties"] as! [String: Any]
        let sid = s.id
        let hit = try OGCSample.engine.intersecting(.point(s.geometry.points[0]), filter: PipeFilter { $0.id == sid }, allParts: true)[0]
        let row = try JSONSerialization.jsonObject(with: AnswerJSON.encoder().encode(HitRow(hit))) as! [String: Any]
        let shared = Set(row.keys).subtracting(["distance", "closestPoint", "parameter", "depth", "groupDistance", "nominalDepth"])
        for k in shared { #expect("\(props[k] ?? "missing")" == "\(row[k]!)", "\(k)") }
        #expect(props["gasPressureMPa"] as? Double == s.gasPressureMPa)
    }

    @Test func outputCRSMatchesPROJ() throws {
        let s = OGCSample.network.segments.first { $0.layer == .gas }!
        let wgs = try ogc.item(collection: "RQ", featureID: String(s.id), query: [:], access: .all, dataVersion: "v1")
        #expect(wgs.header("Content-Crs") == "<\(OGCFeatures.crs84)>")
        let coords = ((OGCSample.object(wgs)["geometry"] as! [String: Any])["coordinates"] as! [[Double]])
        let want = try OGCSample.toWGS.transform(s.geometry.points)
        #expect(coords.count == want.count)
        for (c, p) in zip(coords, want) { #expect(abs(c[0] - p.x) < 1e-9 && abs(c[1] - p.y) < 1e-9) }
        let native = try items(["crs": "http://www.opengis.net/def/crs/EPSG/0/4549", "limit": "1"])
        #expect(native.header("Content-Crs") == "<http://www.opengis.net/def/crs/EPSG/0/4549>")
        let f = (OGCSample.object(native)["features"] as! [[String: Any]])[0]
        let seg = OGCSample.engine.segment(id: Int64((f["id"] as! NSNumber).int64Value))!
        #expect(((f["geometry"] as! [String: Any])["coordinates"] as! [[Double]]).map { Point($0[0], $0[1]) } == seg.geometry.points)
    }

    /// Text and JSON of the same expressions parse to the same tree and answer what a
    /// brute-force evaluator (Swift closures over every record, GEOS for the spatial part) does.
    @Test func cql2TextAndJSONAgreeWithBruteForce() throws {
        let layerBox = OGCSample.box(fraction: 0.4)
        let poly = OGCSample.mapPolygon(layerBox)
        let wkt = "POLYGON ((\(layerBox[0]) \(layerBox[1]), \(layerBox[2]) \(layerBox[1]), \(layerBox[2]) \(layerBox[3]), \(layerBox[0]) \(layerBox[3]), \(layerBox[0]) \(layerBox[1])))"
        let gj = "{\"type\":\"Polygon\",\"coordinates\":[[[\(layerBox[0]),\(layerBox[1])],[\(layerBox[2]),\(layerBox[1])],[\(layerBox[2]),\(layerBox[3])],[\(layerBox[0]),\(layerBox[3])],[\(layerBox[0]),\(layerBox[1])]]]}"
        let owner = OGCSample.network.segments.first { $0.layer == .gas }!.owner!
        let cases: [(String, String, @Sendable (PipeSegment) -> Bool)] = [
            ("gasPressureMPa > 0.2", #"{"op":">","args":[{"property":"gasPressureMPa"},0.2]}"#, { ($0.gasPressureMPa ?? -1) > 0.2 }),
            ("0.2 >= gasPressureMPa", #"{"op":"<=","args":[{"property":"gasPressureMPa"},0.2]}"#, { $0.gasPressureMPa.map { $0 <= 0.2 } ?? false }),
            ("owner = '\(owner)' AND NOT (startDepth < 1.3 OR endDepth IS NULL)",
             #"{"op":"and","args":[{"op":"=","args":[{"property":"owner"},"\#(owner)"]},{"op":"not","args":[{"op":"or","args":[{"op":"<","args":[{"property":"startDepth"},1.3]},{"op":"isNull","args":[{"property":"endDepth"}]}]}]}]}"#,
             { s in s.owner == owner && !((s.startDepth.map { $0 < 1.3 } ?? false) || s.endDepth == nil) }),
            ("material IN ('ST', 'CI') OR startDepth BETWEEN 1.2 AND 1.25",
             #"{"op":"or","args":[{"op":"in","args":[{"property":"material"},["ST","CI"]]},{"op":"between","args":[{"property":"startDepth"},1.2,1.25]}]}"#,
             { s in ["ST", "CI"].contains(s.material?.rawValue ?? "") || (s.startDepth.map { $0 >= 1.2 && $0 <= 1.25 } ?? false) }),
            ("road LIKE 'D%g R_ad' OR startPoint LIKE 'RQ_____1'",
             #"{"op":"or","args":[{"op":"like","args":[{"property":"road"},"D%g R_ad"]},{"op":"like","args":[{"property":"startPoint"},"RQ_____1"]}]}"#,
             { s in
                let r = s.road ?? "", p = s.startPoint.rawValue
                return (r.hasPrefix("D") && r.hasSuffix("g Road")) || (p.count == 8 && p.hasPrefix("RQ") && p.hasSuffix("1"))
            }),
            ("S_INTERSECTS(geometry, \(wkt)) AND gasPressureMPa >= 0.4",
             #"{"op":"and","args":[{"op":"s_intersects","args":[{"property":"geometry"},\#(gj)]},{"op":">=","args":[{"property":"gasPressureMPa"},0.4]}]}"#,
             { s in OGCSample.intersects(s, poly) && (s.gasPressureMPa ?? -1) >= 0.4 }),
            ("NOT S_INTERSECTS(geometry, \(wkt)) AND S_DWITHIN(geometry, \(wkt), 25, meters)",
             #"{"op":"and","args":[{"op":"not","args":[{"op":"s_intersects","args":[{"property":"geometry"},\#(gj)]}]},{"op":"s_dwithin","args":[{"property":"geometry"},\#(gj),25,"meters"]}]}"#,
             { s in !OGCSample.intersects(s, poly) && OGCSample.distance(s, poly) <= 25 }),
        ]
        var counts: [Int] = []
        for (text, json, oracle) in cases {
            #expect(try CQL2.parseText(text, limits: .default) == CQL2.parseJSON(json, limits: .default), "\(text)")
            let want = OGCSample.network.segments.filter { $0.layer == .gas && oracle($0) }.map(\.id).sorted()
            counts.append(want.count)
            let t = try items(["filter": text, "limit": "10000"])
            let j = try items(["filter": json, "filter-lang": "cql2-json", "limit": "10000"])
            #expect(OGCSample.ids(t) == want, "\(text)")
            #expect(OGCSample.ids(j) == want, "\(text)")
            #expect(OGCSample.object(t)["numberMatched"] as? Int == want.count)
        }
        // Each case selects some gas pipes and misses others, or the oracle would prove little.
        let total = OGCSample.network.segments.filter { $0.layer == .gas }.count
        #expect(counts.allSatisfy { $0 > 0 && $0 < total }, "\(counts) of \(total)")
        // Filter and bbox together: both hold.
        let both = try items(["filter": "gasPressureMPa > 0.2", "bbox": OGCSample.bboxText(OGCSample.box(fraction: 0.5)), "limit": "10000"])
        let p2 = OGCSample.mapPolygon(OGCSample.box(fraction: 0.5))
        #expect(OGCSample.ids(both) == OGCSample.network.segments.filter {
            $0.layer == .gas && ($0.gasPressureMPa ?? -1) > 0.2 && OGCSample.intersects($0, p2)
        }.map(\.id).sorted())
    }

    @Test func errorsNameTheParameter() throws {
        let cases: [([String: String], String)] = [
            (["bbox": "1,2,3"], "bbox"), (["bbox": "1,2,x,4"], "bbox"), (["bbox": "3,2,1,4"], "bbox"), (["bbox": "1,2,3,4,5,6"], "bbox"),
            (["limit": "0"], "limit"), (["limit": "10001"], "limit"), (["limit": "ten"], "limit"), (["offset": "-1"], "offset"),
            (["colour": "red"], "colour"), (["properties": "owner,pressure"], "properties"), (["crs": "EPSG:3857"], "crs"),
            (["bbox-crs": OGCFeatures.crs84], "bbox-crs"), (["datetime": "2020-01-01"], "datetime"),
            (["filter": "pressure > 1"], "filter"), (["filter": "owner > 1"], "filter"), (["filter": "x", "filter-lang": "sql"], "filter-lang"),
            (["filter": #"{"op":"=","args":[{"property":"owner"}]}"#, "filter-lang": "cql2-json"], "filter"),
        ]
        for (q, p) in cases {
            let e = refusal(q)
            #expect(e?.status == 400 && e?.parameter == p, "\(q): \(String(describing: e))")
        }
        #expect(refusal(["filter": "pressure > 1"])?.detail.contains("unknown property 'pressure'") == true)
        let parse = refusal(["filter": "owner = 'a' AND AND layer = 'RQ'"])
        #expect(parse?.detail == "filter: at character 17: expected a property or a literal, found 'AND'", "\(String(describing: parse))")
        #expect(refusal(["filter": "owner = 'a"])?.detail == "filter: at character 9: unterminated string")
        #expect(refusal(["filter": "owner = 'a' layer"])?.detail == "filter: at character 13: unexpected 'layer' after the end of the expression")
        let deep = String(repeating: "(", count: 100) + "id = 1" + String(repeating: ")", count: 100)
        #expect(refusal(["filter": deep])?.detail.contains("nested deeper than 64 levels") == true)
        let long = "id IN (" + Array(repeating: "1", count: 40_000).joined(separator: ",") + ")"
        #expect(refusal(["filter": long])?.detail.contains("the limit is 65536") == true)
        #expect(OGCError.bad("limit", "x").problemJSON(instance: "/x").contains(#""parameter":"limit""#))
        #expect(refusal([:], layer: "ZZ")?.status == 404)
        do {
            _ = try ogc.item(collection: "RQ", featureID: "999999999", query: [:], access: .all, dataVersion: "v1")
            Issue.record("a missing feature was answered")
        } catch { #expect(error.status == 404) }
    }

    /// A role that sees only the even-numbered gas pipes, and not their pressure or owner: no
    /// hidden feature or property leaves, by listing, count, id, filter, queryables or extent.
    @Test func restrictedAccessNeverLeaks() throws {
        let gas = OGCSample.network.segments.filter { $0.layer == .gas }
        let shown: @Sendable (PipeSegment) -> Bool = { $0.id % 2 == 0 }
        let access = OGCAccess(filter: PipeFilter(layers: [.gas], predicate: shown), key: "contractor") {
            $0 != "gasPressureMPa" && $0 != "owner"
        }
        let visible = gas.filter(shown).map(\.id).sorted()
        let hidden = gas.filter { !shown($0) }
        #expect(!visible.isEmpty && !hidden.isEmpty)
        let r = try items(["limit": "10000"], access: access)
        #expect(OGCSample.ids(r) == visible)
        #expect(OGCSample.object(r)["numberMatched"] as? Int == visible.count)
        #expect(!r.body.contains("gasPressureMPa") && !r.body.contains("\"owner\""))
        // Filters over the whole layer count only visible features; a hidden property is unknown.
        let any = try items(["filter": "id > 0", "limit": "1"], access: access)
        #expect(OGCSample.object(any)["numberMatched"] as? Int == visible.count)
        #expect(refusal(["filter": "gasPressureMPa > 0"], access: access)?.detail.contains("unknown property 'gasPressureMPa'") == true)
        #expect(refusal(["properties": "owner"], access: access)?.parameter == "properties")
        // A hidden feature by id: 404 as a missing one, same words apart from the id.
        do {
            _ = try ogc.item(collection: "RQ", featureID: String(hidden[0].id), query: [:], access: access, dataVersion: "v1")
            Issue.record("a hidden feature was answered")
        } catch {
            #expect(error.status == 404 && error.detail == "feature '\(hidden[0].id)' in collection 'RQ' does not exist")
        }
        // Hidden layers: not listed, 404 by name.
        let cols = OGCSample.object(try ogc.collections(access: access, dataVersion: "v1"))["collections"] as! [[String: Any]]
        #expect(cols.map { $0["id"] as! String } == ["RQ"])
        #expect(refusal([:], layer: "JS", access: access)?.status == 404)
        // A granted layer whose every feature is hidden answers as an absent one.
        let none = OGCAccess(filter: PipeFilter(layers: [.gas, .water]) { $0.layer == .gas })
        #expect(refusal([:], layer: "JS", access: none)?.status == 404)
        let noneCols = OGCSample.object(try ogc.collections(access: none, dataVersion: "v1"))["collections"] as! [[String: Any]]
        #expect(noneCols.map { $0["id"] as! String } == ["RQ"])
        // The extent bounds the visible features only.
        let e = Envelope(points: gas.filter(shown).flatMap(\.geometry.points))
        let spatial = (cols[0]["extent"] as! [String: Any])["spatial"] as! [String: Any]
        #expect((spatial["storageCrsBbox"] as! [[Double]])[0] == [e.minX, e.minY, e.maxX, e.maxY])
        // Queryables list no hidden property.
        let q = OGCSample.object(try ogc.queryables(collection: "RQ", access: access, dataVersion: "v1"))
        let names = Set((q["properties"] as! [String: Any]).keys)
        #expect(names.contains("layer") && names.contains("geometry") && !names.contains("owner") && !names.contains("gasPressureMPa"))
        // A different grant never shares an ETag.
        #expect(try items(["limit": "5"]).etag != r.etag && items(["limit": "5"]).etag == items(["limit": "5"]).etag)
    }
}
