import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraPostGIS

extension ImportPolicy: ExpressibleByArgument {}
extension ImportSource.Content: ExpressibleByArgument {}

/// `subterra import`: survey tables, GeoJSON, CSV/WKT or GeoPackage into a store.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import survey tables, GeoJSON, CSV/WKT or GeoPackage files into a Subterra GeoPackage store, with quality checks.",
        discussion: """
            Files are read, mapped, converted to the store's CRS and checked record by record, and written to the store \
            in one transaction (upsert by segment id and point number): into a new or empty store as they are read, so \
            memory does not grow with the map; into a store holding rows after the last file. Under --policy strict any \
            error rejects the whole import and the store is left untouched (a store the import created is removed). An import that keeps nothing, or drops more than \
            --max-dropped of the records read (5% by default), is refused too. Coincident traces of different features (a \
            cable and its bed or sleeve) are warnings, never errors; copies of a record are errors. A directory argument means its segments.* and \
            points.* files. Point files are told from segment files by their first GeoJSON geometry or CSV header (--content \
            overrides). Without --mapping the sample district's field names are assumed.

            Examples:
              subterra import Datasets/sample --store out/city.gpkg
              subterra import survey/points.csv survey/segments.csv --mapping Datasets/mappings/cjj61-survey-segments.json \\
                  --point-mapping Datasets/mappings/cjj61-survey-points.json --store city.gpkg --policy lenient
              subterra import BarreL.geojson --mapping Datasets/mappings/vermont-sewer-lines.json --store barre.gpkg --store-crs EPSG:32618
              subterra import pipes.shp drawing.dxf --mapping pipes.json --store city.gpkg --policy lenient

            Shapefile, DBF, DXF, GML, KML and FileGDB (.gdb) files are read through GDAL (--format gdal for any other \
            format GDAL reads, a foreign GeoPackage included); see docs/import/formats.md for encodings and DXF layers.
            """)

    @Argument(help: ArgumentHelp("Files or directories to import (.geojson, .json, .csv, .gpkg; .shp, .dbf, .dxf, .gml, .kml, .gdb through GDAL).", valueName: "file"))
    var files: [String]

    @Option(name: .long, help: ArgumentHelp("The store to create or update: a .gpkg file, or a PostGIS database as postgresql://user@host:port/database.", valueName: "path|url"))
    var store: String

    @Option(name: .long, help: ArgumentHelp("Field mapping (JSON) for segment files (for all files when --point-mapping is not given).", valueName: "file"))
    var mapping: String?

    @Option(name: .long, help: ArgumentHelp("Field mapping (JSON) for point files.", valueName: "file"))
    var pointMapping: String?

    @Option(name: .long, help: ArgumentHelp("Field mapping (JSON) for operator-area files (precaution zones, interest areas); default: common names (owner/operator/netbeheerder, kind/type, layer, note, id).", valueName: "file"))
    var areaMapping: String?

    @Option(name: .long, help: "What every file holds: segments, points or areas (operators' precaution zones and interest areas; default: guessed from the first GeoJSON geometry — polygons are areas —, the CSV header, or the name).")
    var content: ImportSource.Content?

    @Option(name: .long, help: ArgumentHelp("CRS of the source files, overriding what they declare (e.g. EPSG:4326).", valueName: "crs"))
    var crs: String?

    @Option(name: .long, help: "strict: any quality error rejects the import; lenient: keep what can be represented, report the rest.")
    var policy: ImportPolicy = .strict

    @Option(name: .long, help: ArgumentHelp("CRS of a new store: any AUTHORITY:CODE PROJ knows, e.g. EPSG:4549 (CGCS2000 GK 120E), EPSG:4528, EPSG:32145.", valueName: "crs"))
    var storeCrs: String = "EPSG:4549"

    @Option(name: .long, help: ArgumentHelp("Quality issues listed in the report (the rest are counted).", valueName: "n"))
    var showIssues: Int = 20

    @Option(name: .long, help: "The reader for every file (default: by extension): geojson, csv, gpkg, or through GDAL: gdal, shp, dbf, dxf, gml, kml, gdb.")
    var format: ImportFormat?

    @Option(name: .long, help: ArgumentHelp("The layer to read (GDAL) or feature table (GeoPackage); default: each layer holding points or segments.", valueName: "name"))
    var layer: String?

    @Option(name: .long, help: ArgumentHelp("Utility layer of point and segment records that state none, e.g. a per-utility survey table without a 管线类别 column: a layer code (JS) or a utility's Chinese name (给水, 雨水).", valueName: "layer"))
    var defaultLayer: String?

    @Option(name: .long, help: ArgumentHelp("Encoding of Shapefile/DBF or DXF text (CP936, UTF-8, …), overriding the .cpg, the language-driver byte and detection, or the drawing's $DWGCODEPAGE and $ACADVER.", valueName: "name"))
    var encoding: String?

    @Option(name: .long, help: ArgumentHelp("Largest share of the records read that --policy lenient may drop before the import is refused, e.g. 5% (the default) or 0%. An import that keeps nothing is always refused.", valueName: "percent"))
    var maxDropped: DroppedShare = DroppedShare(0.05)

    func run() throws {
        try guarded {
            let progress = Progress.onTerminal("preparing import")
            defer { progress?.finish() }
            if let d = defaultLayer, _trimmedCLI(d).isEmpty { throw CLIError("--default-layer is empty: give a layer code (JS) or name (给水)") }
            let segMap = try mapping.map(StoreOpener.loadMapping)
            let ptMap = try pointMapping.map(StoreOpener.loadMapping) ?? segMap
            let areaMap = try areaMapping.map(StoreOpener.loadMapping) ?? FieldMapping.operatorAreas
            /// The mapping a file of content `c` is read with.
            func mappingFor(_ c: ImportSource.Content) -> FieldMapping {
                switch c {
                case .points: withDefaultLayer(ptMap ?? DistrictMappings.points)
                case .segments: withDefaultLayer(segMap ?? DistrictMappings.segments)
                case .areas: areaMap
                }
            }
            var sources: [ImportSource] = []
            for f in files {
                var isDir: ObjCBool = false
                guard FileManager.default.fileExists(atPath: f, isDirectory: &isDir) else {
                    throw CLIError("\(f): file does not exist")
                }
                if ImportFormat.usesGDAL(f, format: format) {
                    sources += try GDALSources.sources(f, content: content, layer: layer, encoding: encoding, mapping: mappingFor)
                } else if isDir.boolValue {
                    for s in try StoreOpener.fileSources(f, isDirectory: true, mapping: nil) {
                        let c = content ?? s.content
                        let m = c == .areas ? areaMap : withDefaultLayer((c == .points ? ptMap : segMap) ?? s.mapping)
                        sources.append(StoreOpener.source(s.path, content: c, mapping: m))
                    }
                } else if layer == nil, content == nil, format == .gpkg || (format == nil && f.lowercased().hasSuffix(".gpkg")),
                    let tables = Self.foreignGeoPackageTables(f)
                {
                    // Another tool's GeoPackage with a point table and a line table (and perhaps
                    // areas): every table is read, as GDAL's reader would, not only one.
                    for (table, c) in tables {
                        sources.append(ImportSource(path: f, format: .geoPackage(table: table), content: c, mapping: mappingFor(c)))
                    }
                } else {
                    let c = content ?? ContentSniffer.content(of: f)
                    let m = mappingFor(c)
                    var s = StoreOpener.source(f, content: c, mapping: m)
                    switch format {
                    case .geojson?: s.format = .geoJSON
                    case .csv?: s.format = .csv(geometryColumn: StoreOpener.wktColumn(f))
                    case .gpkg?: s.format = .geoPackage(table: layer)
                    default: if case .geoPackage = s.format { s.format = .geoPackage(table: layer) }
                    }
                    sources.append(s)
                }
            }
            if PostGISLocation.isURL(store) {
                return try importIntoPostGIS(sources, progress: progress)
            }
            // The store must be none of the files read. Directories are not entries: SQLite only
            // ever writes into a store it has opened as one, so a store may live beside its sources.
            var inputs = CommandInputs()
            for s in sources { inputs.add("import", s.path) }
            inputs.add("--mapping", mapping)
            inputs.add("--point-mapping", pointMapping)
            inputs.add("--area-mapping", areaMapping)
            try OutputFile.refuseInputs(store, option: "--store", inputs: inputs)
            // The store's CRS is the import's target: an existing store decides it.
            let exists = FileManager.default.fileExists(atPath: store)
            var existing: GeoPackageStore?
            let srs: SpatialReference
            if exists {
                progress?.phase("opening \(store)")
                let opened: GeoPackageStore
                do { opened = try GeoPackageStore.open(at: store) } catch { throw CLIError(error, context: "--store") }
                existing = opened
                srs = opened.spatialReference
            } else {
                do { srs = try SpatialReference(crs: storeCrs) } catch { throw CLIError(error, context: "--store-crs \(storeCrs)") }
            }
            progress?.phase("reading, checking and writing \(sources.count) file\(sources.count == 1 ? "" : "s")")
            var options = ImportOptions(policy: policy, targetCRS: srs.authorityString, sourceCRS: crs)
            options.maxDroppedShare = maxDropped.share
            let onProgress: ((ImportProgress) -> Void)? = progress.map { p in { p.update($0) } }
            // A new store is created first: the import writes its rows as it reads them, in one
            // transaction, and a failed import removes the store it created.
            let target: GeoPackageStore
            if let existing { target = existing } else {
                if let dir = URL(fileURLWithPath: store).deletingLastPathComponent().path as String?, !dir.isEmpty {
                    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                }
                do { target = try GeoPackageStore.create(at: store, spatialReference: srs) } catch {
                    throw CLIError(error, context: "--store")
                }
            }
            func removeCreated() { if existing == nil { try? FileManager.default.removeItem(atPath: store) } }
            let result: ImportResult
            do {
                result = try Importer.stream(
                    sources, into: target, options: options, source: sources.map(\.path).joined(separator: ", "),
                    progress: onProgress)
                try target.setMetadata(QualityOutput.metadata(result.report))
            } catch let e as ImportError {
                removeCreated()
                progress?.finish()
                throw refused(e)
            } catch {
                removeCreated()
                throw CLIError(error, context: "--store \(store)")
            }
            let (ns, np) = (try? target.counts()) ?? (-1, -1)
            // The snapshot file beside the store, so the first command after the import opens
            // in milliseconds. The store is complete without it: a failure is a note, and the
            // next command rebuilds it.
            progress?.phase("building the snapshot file")
            var snapshotNote: String?
            do {
                if case .rebuilt(_, let notWritten?) = try MappedMap.open(store: target).origin { snapshotNote = notWritten }
            } catch { snapshotNote = "\(error)" }
            progress?.finish()
            if !result.areas.isEmpty {
                let zones = result.areas.filter { $0.kind == .precaution }.count
                print("Imported \(result.areas.count) operator area\(result.areas.count == 1 ? "" : "s"): \(zones) precaution zone\(zones == 1 ? "" : "s"), \(result.areas.count - zones) interest area\(result.areas.count - zones == 1 ? "" : "s").")
            }
            print("Imported \(result.segmentCount) segments and \(result.pointCount) points from \(result.recordsRead) records into \(store) (\(srs.authorityString)); the store now holds \(ns) segments and \(np) points.")
            if result.syntheticNodes > 0 {
                print("\(result.syntheticNodes) segment ends named no point: they got shared synthetic node numbers (~N...).")
            }
            let (features, parts) = result.multiPart
            if features > 0 {
                print("\(features) multi-part line\(features == 1 ? " was" : "s were") kept as \(parts) segments sharing a feature id; queries report each once.")
            }
            if result.ignoredRecords > 0 {
                let layers = result.ignoredLayers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("Skipped \(result.ignoredRecords) record\(result.ignoredRecords == 1 ? "" : "s") on layers the mapping ignores (\(layers)); not counted as dropped.")
            }
            if result.shortSegments > 0 {
                let n = result.shortSegments
                print("\(n) segment\(n == 1 ? "" : "s") shorter than the \(Fmt.m(options.endTolerance)) m snapping tolerance (both ends on one point) \(n == 1 ? "was" : "were") kept, each reported as a startEqualsEnd warning.")
            }
            let traces = result.report.issues(.coincidentTrace).count
            if traces > 0 {
                print("\(traces) coincident trace\(traces == 1 ? "" : "s") of different features (a cable and its bed or sleeve, a pipe and its casing) recorded as warnings; all were kept.")
            }
            print(QualityOutput.summary(result.report, limit: showIssues))
            if let snapshotNote {
                StdErr.write("subterra: warning: the snapshot file was not saved (\(snapshotNote)); the next command on the store builds it\n")
            }
            return ExitStatus.ok
        }
    }
}

extension ImportCommand {
    /// The error for an import the checks or policies refused, after printing its quality
    /// report (when it has one): the first error named, `--max-dropped` echoed for a refusal by it.
    func refused(_ e: ImportError) -> CLIError {
        guard let report = e.report else { return CLIError(e) }
        print(QualityOutput.summary(report, limit: showIssues))
        if e.message.contains("records dropped (") { return CLIError("\(e.message) (--max-dropped \(maxDropped))") }
        let first = e.message.contains("; first: ") ? "" : report.errors.first.map { "; first: \($0.location): \($0.message)" } ?? ""
        return CLIError("\(e.message)\(first)")
    }

    /// The import into a PostGIS store: the same reading, checks and policies (``Importer/read``),
    /// then the one transaction of ``PostGISStore/apply(_:)`` (rows sent by `COPY`): all or
    /// nothing. The schema is created (in `--store-crs`) or migrated on open.
    func importIntoPostGIS(_ sources: [ImportSource], progress: Progress?) throws -> Int32 {
        progress?.phase("opening \(PostGISLocation.redacted(store))")
        let srs: SpatialReference
        do { srs = try SpatialReference(crs: storeCrs) } catch { throw CLIError(error, context: "--store-crs \(storeCrs)") }
        let target: PostGISStore
        do { target = try PostGISStore.open(store, spatialReference: srs) } catch { throw CLIError(error, context: "--store") }
        defer { target.close() }
        var options = ImportOptions(policy: policy, targetCRS: target.spatialReference.authorityString, sourceCRS: crs)
        options.maxDroppedShare = maxDropped.share
        let onProgress: ((ImportProgress) -> Void)? = progress.map { p in { p.update($0) } }
        progress?.phase("reading and checking \(sources.count) file\(sources.count == 1 ? "" : "s")")
        let result: ImportResult
        do {
            options.firstSegmentID = max(options.firstSegmentID, try target.nextSegmentID())
            result = try Importer.read(sources, options: options, progress: onProgress)
            progress?.phase("writing to PostGIS")
            try Importer.write(result, to: target, source: sources.map(\.path).joined(separator: ", "), progress: onProgress)
            try target.setMetadata(QualityOutput.metadata(result.report))
        } catch let e as ImportError {
            progress?.finish()
            throw refused(e)
        } catch {
            throw CLIError(error, context: "--store \(target.location)")
        }
        let (ns, np) = (try? target.counts()) ?? (-1, -1)
        let version = (try? target.dataVersion()).map { ", data version \($0)" } ?? ""
        progress?.finish()
        print("Imported \(result.segmentCount) segments and \(result.pointCount) points from \(result.recordsRead) records into \(target.location) (\(target.spatialReference.authorityString)); the store now holds \(ns) segments and \(np) points\(version).")
        print(QualityOutput.summary(result.report, limit: showIssues))
        return ExitStatus.ok
    }
}

/// `--max-dropped`: a percentage (`5%`, `12.5%`, or a bare `5`) of the records read.
struct DroppedShare: ExpressibleByArgument, CustomStringConvertible {
    var share: Double

    init(_ share: Double) { self.share = share }

    init?(argument: String) {
        var t = argument.trimmingCharacters(in: .whitespaces)
        if t.hasSuffix("%") { t.removeLast() }
        guard let v = Double(t.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 0, v <= 100 else { return nil }
        share = v / 100
    }

    var description: String {
        var t = String(format: "%.3f", share * 100)
        while t.hasSuffix("0") { t.removeLast() }
        if t.hasSuffix(".") { t.removeLast() }
        return t + "%"
    }

    var defaultValueDescription: String { description }
}

/// The quality report of an import, as text and as store metadata for `info`.
enum QualityOutput {
    static func summary(_ r: QualityReport, limit: Int) -> String {
        guard !r.issues.isEmpty else { return "Quality: no issues." }
        var out = ["Quality: \(r.errors.count) errors, \(r.warnings.count) warnings, \(r.dropped.count) records dropped."]
        var t = TextTable(["check", "count"], numeric: [1])
        for (check, n) in r.countsByCheck.sorted(by: { ($1.value, $0.key.rawValue) < ($0.value, $1.key.rawValue) }) {
            t.add([check.rawValue, String(n)])
        }
        out.append(t.render())
        for i in r.issues.prefix(max(0, limit)) { out.append("  \(i)") }
        if r.issues.count > limit { out.append("  ... and \(r.issues.count - limit) more") }
        return out.joined(separator: "\n")
    }

    /// Counts per check and the first issues, kept in the store so `info` can show them later.
    static func metadata(_ r: QualityReport) -> [String: String?] {
        let counts = r.countsByCheck.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
        return [
            "subterra.quality.errors": String(r.errors.count),
            "subterra.quality.warnings": String(r.warnings.count),
            "subterra.quality.dropped": String(r.dropped.count),
            "subterra.quality.counts": counts.joined(separator: ","),
            "subterra.quality.first": r.issues.prefix(10).map(\.description).joined(separator: "\n"),
        ]
    }
}

/// Guesses whether a file holds points or segments, so `import a.geojson b.geojson` needs no
/// flags: GeoJSON by its first feature's geometry, CSV by its header (a start-point column means
/// segments), anything else by its name.
extension ImportCommand {
    /// `m` with `--default-layer` as its layer rule's `default` (used when a record's layer
    /// field is absent or blank, read like any layer value: a code, or a utility's Chinese name
    /// such as 给水, which is JS), or as a constant when `m` maps no layer; `m` itself without
    /// the option.
    func withDefaultLayer(_ m: FieldMapping) -> FieldMapping {
        guard let layer = defaultLayer.map(_trimmedCLI) else { return m }
        var m = m
        var rule = m.fields[ImportField.layer.rawValue] ?? FieldMapping.Rule(constant: layer)
        if rule.constant == nil { rule.default = layer }
        m.fields[ImportField.layer.rawValue] = rule
        return m
    }

    /// The feature tables of a GeoPackage from another tool that hold points, segments or areas,
    /// when there are two or more (one source each); nil for a Subterra store (read whole, or
    /// refused when damaged) and for a file with at most one such table (the default reader
    /// finds it, or says what is missing).
    static func foreignGeoPackageTables(_ path: String) -> [(String, ImportSource.Content)]? {
        do {
            _ = try GeoPackageStore.open(at: path, readOnly: true)
            return nil
        } catch where error.kind == .corrupt {
            return nil
        } catch {}
        let tables: [(String, ImportSource.Content)]
        do { tables = try GeoPackageReader.tables(path: path).compactMap { t in t.content.map { (t.name, $0) } } } catch {
            return nil
        }
        return tables.count > 1 ? tables : nil
    }
}

/// `s` without surrounding white space.
func _trimmedCLI(_ s: String) -> String { s.trimmingCharacters(in: .whitespacesAndNewlines) }

enum ContentSniffer {
    private struct Stop: Error {}

    static func content(of path: String) -> ImportSource.Content {
        let lower = path.lowercased()
        if lower.hasSuffix(".geojson") || lower.hasSuffix(".json") {
            var type: String?
            // Streaming read stopped after the first feature: O(1) in the file size.
            _ = try? GeoJSON.forEachFeature(inFile: path) { _, f in
                type = f.geometry?.typeName
                throw Stop()
            }
            if let type {
                switch type {
                case "POINT", "MULTIPOINT": return .points
                case "POLYGON", "MULTIPOLYGON": return .areas
                default: return .segments
                }
            }
        }
        if lower.hasSuffix(".csv"), let h = FileHandle(forReadingAtPath: path) {
            defer { try? h.close() }
            if let data = try? h.read(upToCount: 4096), let text = String(data: data, encoding: .utf8),
                let header = text.split(whereSeparator: \.isNewline).first?.lowercased()
            {
                if header.contains("start") || header.contains("起点") { return .segments }
                if StoreOpener.wktColumn(path) == nil { return .points }
            }
        }
        let name = URL(fileURLWithPath: path).lastPathComponent.lowercased()
        return name.contains("point") ? .points : .segments
    }
}
