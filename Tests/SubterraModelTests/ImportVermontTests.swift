import Foundation
import SubterraGeometry
import SubterraPROJ
import Testing
@testable import SubterraModel

/// The package root, found from this file, so tests work from any working directory.
let packageRoot = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let vermontDir = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/datasets/vermont-sewer")
let mappingsDir = packageRoot.appendingPathComponent("Datasets/mappings")
let haveVermont = FileManager.default.fileExists(atPath: vermontDir.appendingPathComponent("BarreL.geojson").path)

func mapping(_ name: String) throws -> FieldMapping {
    try FieldMapping.load(contentsOf: mappingsDir.appendingPathComponent(name))
}

@Suite("Import: Vermont sewer GeoJSON through one mapping with alternatives",
       .enabled(if: haveVermont, "shared/datasets/vermont-sewer is not present next to the package"))
struct ImportVermontTests {
    static let towns = [("Barre", 1120, 1246), ("Colchester", 190, 189), ("Montpelier", 1133, 1059)]

    func sources(_ town: String) throws -> [ImportSource] {
        [
            ImportSource(path: vermontDir.appendingPathComponent("\(town)L.geojson").path, format: .geoJSON,
                         content: .segments, mapping: try mapping("vermont-sewer-lines.json")),
            ImportSource(path: vermontDir.appendingPathComponent("\(town)P.geojson").path, format: .geoJSON,
                         content: .points, mapping: try mapping("vermont-sewer-points.json")),
        ]
    }

    @Test("every record is imported or reported; names that differ by town map to the same fields",
          arguments: towns)
    func town(_ t: (String, Int, Int)) throws {
        let (town, lines, points) = t
        let r = try Importer.read(try sources(town), options: ImportOptions(policy: .lenient, targetCRS: "EPSG:32618"))
        #expect(r.recordsRead == lines + points)
        let droppedSegments = r.report.dropped.filter { $0.location.file.hasSuffix("L.geojson") }.count
        let droppedPoints = r.report.dropped.filter { $0.location.file.hasSuffix("P.geojson") }.count
        // Nothing silently lost: kept + dropped-and-reported = read.
        #expect(r.segments.count + droppedSegments == lines)
        #expect(r.points.count + droppedPoints == points)
        // Every issue names file, record and field.
        for i in r.report.issues {
            #expect(i.location.index != nil && i.location.field != nil, "\(i)")
        }
        // System_Type (Barre, Montpelier) and SystemType (Colchester) both reach `subtype`.
        #expect(r.segments.allSatisfy { $0.layer == .drainage })
        #expect(r.segments.filter { $0.subtype == .sewage }.count > lines / 2)
        #expect(r.segments.allSatisfy { $0.subtype != nil })
        #expect(r.points.filter { $0.kind == .manhole }.count > points / 2)
        // Lines start at manholes: most ends were matched to points, the rest share node names.
        let matched = r.segments.filter { !$0.startPoint.rawValue.hasPrefix("~N") }.count
        #expect(matched > 0)
        let net = try r.network(crs: "EPSG:32618")
        #expect(net.segments.count == r.segments.count)
    }

    @Test("coordinates are transformed like cs2cs does (oracle), to 1 mm")
    func transformMatchesCs2cs() throws {
        let path = vermontDir.appendingPathComponent("ColchesterP.geojson").path
        var raw: [Point] = []
        _ = try GeoJSON.forEachFeature(inFile: path) { _, f in
            if case .point(let p)? = f.geometry { raw.append(p) }
        }
        let r = try Importer.read(
            [ImportSource(path: path, format: .geoJSON, content: .points, mapping: try mapping("vermont-sewer-points.json"))],
            options: ImportOptions(policy: .lenient, targetCRS: "EPSG:32618"))
        #expect(r.points.count == raw.count)
        guard let cs2cs = ["/usr/bin/cs2cs", "/usr/local/bin/cs2cs"].first(where: { FileManager.default.isExecutableFile(atPath: $0) })
        else { return }
        let sample = stride(from: 0, to: raw.count, by: 17).map { $0 }
        let input = sample.map { "\(raw[$0].x) \(raw[$0].y)" }.joined(separator: "\n") + "\n"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cs2cs)
        p.arguments = ["-f", "%.6f", "OGC:CRS84", "EPSG:32618"]
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe
        p.standardOutput = outPipe
        try p.run()
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
        let out = String(decoding: outPipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let lines = out.split(separator: "\n")
        #expect(lines.count == sample.count)
        for (k, line) in lines.enumerated() {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { Double($0) }
            let got = r.points[sample[k]].position
            #expect(abs(parts[0] - got.x) < 1e-3 && abs(parts[1] - got.y) < 1e-3, "\(line) vs \(got)")
        }
    }

    @Test("imports into a UTM 18N GeoPackage that ogrinfo reads with the same counts")
    func intoStore() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("barre.gpkg").path
        let store = try GeoPackageStore.create(at: path, spatialReference: .utm18N)
        let r = try Importer.run(try sources("Barre"), into: store, options: ImportOptions(policy: .lenient))
        #expect(try store.counts() == (r.segments.count, r.points.count))
        #expect(try store.loadAll().segments == r.segments)
        #expect(try store.metadata()["import.last.segments"] == String(r.segments.count))
        if let ogrinfo = StoreGDALTests.ogrinfo, let o = runTool(ogrinfo, ["-al", "-so", path]) {
            #expect(o.output.contains("Feature Count: \(r.segments.count)"))
            #expect(o.output.contains("WGS 84 / UTM zone 18N"))
        }
    }

    @Test("a foreign GeoPackage (written by ogr2ogr) imports like the GeoJSON it came from",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/ogr2ogr"), "ogr2ogr (gdal-bin) not installed"))
    func foreignGeoPackage() throws {
        let dir = storeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gpkg = dir.appendingPathComponent("colchester.gpkg").path
        let src = vermontDir.appendingPathComponent("ColchesterL.geojson").path
        let conv = try #require(runTool("/usr/bin/ogr2ogr", ["-f", "GPKG", gpkg, src, "-nln", "lines"]))
        #expect(conv.status == 0, "\(conv.output)")
        let before = try Data(contentsOf: URL(fileURLWithPath: gpkg))
        let m = try mapping("vermont-sewer-lines.json")
        let opts = ImportOptions(policy: .lenient, targetCRS: "EPSG:32618")
        let viaGpkg = try Importer.read([ImportSource(path: gpkg, format: .geoPackage(table: nil), content: .segments, mapping: m)], options: opts)
        let viaJSON = try Importer.read([ImportSource(path: src, format: .geoJSON, content: .segments, mapping: m)], options: opts)
        #expect(viaGpkg.segments.count == viaJSON.segments.count)
        for (a, b) in zip(viaGpkg.segments, viaJSON.segments) {
            #expect(a.subtype == b.subtype && a.status == b.status)
            for (p, q) in zip(a.geometry.points, b.geometry.points) {
                #expect(abs(p.x - q.x) < 1e-6 && abs(p.y - q.y) < 1e-6)
            }
        }
        // Opening it as a store is refused clearly (it has no Subterra tables).
        let se = #expect(throws: StoreError.self) { try GeoPackageStore.open(at: gpkg) }
        #expect(se?.message.contains("not a Subterra store") == true)
        // Reading never changes the file.
        #expect(try Data(contentsOf: URL(fileURLWithPath: gpkg)) == before)
        // Asking for a table that is not there says which tables exist.
        let e = #expect(throws: ImportError.self) {
            try Importer.read([ImportSource(path: gpkg, format: .geoPackage(table: "pipes"), content: .segments, mapping: m)], options: opts)
        }
        #expect(e?.message.contains("lines") == true)
    }
}
