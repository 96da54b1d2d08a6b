import Foundation
import SubterraGeometry
import SubterraModel
import Testing

@testable import SubterraGDAL

/// Multi-part polylines and operator-area polygons through GDAL: a Shapefile and a GML file
/// made by ogr2ogr from GeoJSON import the same features as the GeoJSON itself.
@Suite struct GDALMultiPartAndAreaTests {
    static let lines = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},"features":[
        {"type":"Feature","properties":{"id":"nl.imkl-KL1031.EKBL_1","layer":"DL","owner":"Liander"},
         "geometry":{"type":"MultiLineString","coordinates":[[[637000,3140000],[637010,3140000]],[[637020,3140000],[637030,3140005]]]}},
        {"type":"Feature","properties":{"id":"nl.imkl-KL1031.EKBL_2","layer":"DL","owner":"Liander"},
         "geometry":{"type":"LineString","coordinates":[[637000,3140050],[637040,3140050]]}}]}
        """
    static let zones = """
        {"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::4549"}},"features":[
        {"type":"Feature","properties":{"id":"GU-1","operator":"Gasunie","kind":"voorzorgsmaatregel"},
         "geometry":{"type":"Polygon","coordinates":[[[637000,3140000],[637050,3140000],[637050,3140050],[637000,3140050],[637000,3140000]]]}}]}
        """
    static let mapping = FieldMapping(fields: ["id": .field("id"), "layer": .field("layer"), "owner": .field("owner")])

    static func ogr2ogr(_ args: [String]) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/ogr2ogr")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Fixtures.Missing(description: "ogr2ogr \(args) failed") }
    }

    static func read(_ sources: [ImportSource]) throws -> ImportResult {
        try Importer.read(sources, options: ImportOptions(policy: .lenient))
    }

    @Test func multiPartLinesAndAreasMatchTheGeoJSON() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-gdal-mp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.lines.write(toFile: dir + "/lines.geojson", atomically: true, encoding: .utf8)
        try Self.zones.write(toFile: dir + "/zones.geojson", atomically: true, encoding: .utf8)
        try Self.ogr2ogr(["-f", "ESRI Shapefile", dir + "/lines.shp", dir + "/lines.geojson"])
        try Self.ogr2ogr(["-f", "GML", dir + "/zones.gml", dir + "/zones.geojson"])

        let want = try Self.read([
            ImportSource(path: dir + "/lines.geojson", format: .geoJSON, content: .segments, mapping: Self.mapping),
            ImportSource(path: dir + "/zones.geojson", format: .geoJSON, content: .areas, mapping: .operatorAreas),
        ])
        #expect(want.segments.count == 3 && want.areas.count == 1)
        let layers = try GDALReader.layers(path: dir + "/zones.gml")
        #expect(layers.first?.content == .areas, "a polygon layer holds areas: \(layers)")
        let got = try Self.read([
            try GDALReader.source(path: dir + "/lines.shp", content: .segments, mapping: Self.mapping),
            try GDALReader.source(path: dir + "/zones.gml", content: .areas, mapping: .operatorAreas),
        ])
        // The two-part line is one feature of two parts, with its operator id, as from GeoJSON.
        #expect(got.segments.map(\.geometry) == want.segments.map(\.geometry))
        #expect(got.segments.map(\.sourceID) == want.segments.map(\.sourceID))
        #expect(got.segments.map(\.part) == [1, 2, nil] && got.segments.map(\.feature) == want.segments.map(\.feature))
        #expect(got.areas.map(\.owner) == ["Gasunie"] && got.areas.map(\.kind) == [.precaution])
        #expect(got.areas.map { $0.polygons.map(\.exterior.points) } == want.areas.map { $0.polygons.map(\.exterior.points) })
    }
}
