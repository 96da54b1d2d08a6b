import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraPostGIS

/// Field mappings for the files `subterra-gen` writes (the bundled sample district): snake_case
/// names in GeoJSON properties and in the CJJ 61 survey tables (`x_northing`, `y_easting`).
///
/// Built in so `--store Datasets/sample` works without a mapping file; `--mapping` replaces them.
enum DistrictMappings {
    static let segments = FieldMapping(
        name: "Subterra district segments (subterra-gen GeoJSON / survey CSV)",
        fields: [
            "id": .field("id"), "layer": .field("layer"), "subtype": .field("subtype"),
            "startPoint": .field("start_point"), "endPoint": .field("end_point"),
            "startDepth": .field("start_depth"), "endDepth": .field("end_depth"),
            "startElevation": .field("start_elevation"), "endElevation": .field("end_elevation"),
            "elevationReference": FieldMapping.Rule(from: ["elevation_ref"], default: "top"),
            "section": .field("section"), "ductHoles": .field("duct_holes"),
            "ductHolesOccupied": .field("duct_holes_used"), "cableCount": .field("cable_count"),
            "material": .field("material"), "burial": .field("burial"), "pressure": .field("pressure_mpa"),
            "voltage": .field("voltage_kv"), "owner": .field("owner"), "road": .field("road"),
            "layingDate": .field("laid"), "status": .field("status"),
            // Dig checks widen clearances by these, so they must not be dropped on import.
            "horizontalAccuracy": FieldMapping.Rule(from: ["accuracy_m"], unit: "m"),
            "verticalAccuracy": FieldMapping.Rule(from: ["accuracy_v_m"], unit: "m"),
            "qualityLevel": .field("quality_level"),
        ])

    static let points = FieldMapping(
        name: "Subterra district points (subterra-gen GeoJSON / survey CSV)",
        fields: [
            "pointNumber": .field("number", "point_no"), "layer": .field("layer"), "category": .field("category"),
            "kind": .field("kind"), "x": .field("x_northing"), "y": .field("y_easting"),
            "groundElevation": .field("ground_elevation"), "depth": .field("depth"), "owner": .field("owner"),
            "road": .field("road"), "status": .field("status"), "valveStatus": .field("valve_status"),
            "customerCategory": .field("customer_category"), "customerCount": .field("customer_count"),
        ])
}

/// Where the map comes from: a Subterra GeoPackage, or survey/GeoJSON files read into memory.
///
/// Queries open a GeoPackage **read-only**, so no query can change a store; files are imported
/// into memory under the lenient policy (their quality issues are kept for `info`).
struct OpenedMap {
    /// A store's map opened from its persisted snapshot (`MappedMap`: milliseconds on a city),
    /// or files read into an engine.
    var engine: any PipeMap
    /// Human description of the source, e.g. `"city.gpkg (GeoPackage)"`.
    var source: String
    /// The store, when the map came from one.
    var store: GeoPackageStore?
    /// Quality report of an in-memory import (nil for stores).
    var quality: QualityReport?
    /// `--rules` as loaded, for ``wholeEngine()``.
    var rules: ClearanceRules?
    /// The PostGIS store, when the map was loaded from one (`--store postgresql://…`).
    var postgis: PostGISStore? = nil

    /// The counts and totals `info` prints: from the snapshot file for a store, else from the map.
    var summary: MapSummary {
        if let m = engine as? MappedMap { return m.summary }
        return MapSummary((engine as! UtilityEngine).network)
    }

    /// The whole map in an engine, for work that visits all of it (`query --batch`): loads a
    /// store's map (O(n log n)); files are in one already.
    /// What a batch answers from: on a store, its snapshot file at once and the whole engine
    /// once it has loaded in the background (``WarmingMap``), so a short batch on a city-sized
    /// store does not wait seconds for the load and a long one gets the engine's speed.
    /// `warming` is that same map while it has a load running, so the batch can leave it a core.
    func batchMap() throws -> (map: any PipeMap, warming: WarmingMap?) {
        if let mapped = engine as? MappedMap {
            let warming = mapped.warming()
            return (warming, warming)
        }
        return (try wholeEngine(), nil)
    }

    func wholeEngine() throws -> UtilityEngine {
        if let e = engine as? UtilityEngine { return e }
        guard let store else { throw CLIError("no store to load the map from") }
        do { return try UtilityEngine(store: store, rules: rules) } catch { throw CLIError(error, context: "--store \(store.path)") }
    }
}

enum StoreOpener {
    /// Opens `path`: a `.gpkg` store, a directory holding `segments.geojson`/`segments.csv`
    /// (with `points.*` beside), or a single segments file (GeoJSON or survey CSV).
    ///
    /// - Complexity: a store: O(snapshot file size) when its snapshot file is fresh, else a full
    ///   load and rebuild (O(n log n)); files: O(n log n), reading plus indexing.
    /// - Parameter writable: open a store for writing (`serve` with editor roles); read
    ///   commands open it read-only, so a query never writes.
    static func open(_ path: String, mapping: String?, rules: String?, progress: Progress? = nil, writable: Bool = false) throws -> OpenedMap {
        let ruleSet = try loadRules(rules)
        if PostGISLocation.isURL(path) {
            // The store of record: a snapshot loaded from it into an engine. Read-only unless
            // asked, so a query never writes and a streaming replica serves as well as the primary.
            progress?.phase("loading the map from PostGIS")
            let store = try openPostGIS(path, writable: writable)
            do {
                let engine = try UtilityEngine(store: store, rules: ruleSet)
                return OpenedMap(engine: engine, source: "\(store.location) (PostGIS)", store: nil, quality: nil, rules: ruleSet, postgis: store)
            } catch {
                throw CLIError(error, context: "--store \(store.location)" + (rules.map { " with --rules \($0)" } ?? ""))
            }
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIError("--store \(path): file does not exist")
        }
        if !isDir.boolValue && path.lowercased().hasSuffix(".gpkg") {
            progress?.phase("opening store")
            let store: GeoPackageStore
            do { store = try GeoPackageStore.open(at: path, readOnly: !writable) } catch {
                throw CLIError(error, context: "--store")
            }
            progress?.phase("opening the snapshot")
            let map: MappedMap
            do { map = try MappedMap.open(store: store, rules: ruleSet, progress: { progress?.phase($0) }) } catch {
                throw CLIError(error, context: "--store \(path)" + (rules.map { " with --rules \($0)" } ?? ""))
            }
            if case .rebuilt(_, let notWritten?) = map.origin {
                FileHandle.standardError.write(Data("subterra: warning: the snapshot file was not saved (\(notWritten)); the next command loads the map again\n".utf8))
            }
            return OpenedMap(engine: map, source: "\(path) (GeoPackage)", store: store, quality: nil, rules: ruleSet)
        }
        let sources = try fileSources(path, isDirectory: isDir.boolValue, mapping: mapping)
        progress?.phase("reading \(sources.count) file\(sources.count == 1 ? "" : "s")")
        let result: ImportResult
        do {
            result = try Importer.read(sources, options: ImportOptions(policy: .lenient), progress: progress.map { p in { p.update($0) } })
        } catch {
            throw CLIError(error, context: "--store")
        }
        progress?.phase("indexing \(result.segments.count) segments")
        do {
            let network = try result.network(crs: "EPSG:4549")
            let engine = try UtilityEngine(network: network, rules: ruleSet)
            return OpenedMap(
                engine: engine, source: sources.map(\.path).joined(separator: ", "), store: nil,
                quality: result.report, rules: ruleSet)
        } catch {
            throw CLIError(error, context: "--store \(path)" + (rules.map { " with --rules \($0)" } ?? ""))
        }
    }

    /// The whole map as a model value (segments and points with every attribute), for work on
    /// the model itself rather than the query engine (network topology, isolation): a `.gpkg`
    /// store opened read-only and loaded, or files read as ``open(_:mapping:rules:progress:)``
    /// reads them, without building an index.
    ///
    /// - Complexity: O(n) to load, O(n log n) for files (reading and checking).
    static func network(_ path: String, mapping: String?) throws -> UtilityNetwork {
        if PostGISLocation.isURL(path) {
            do { return try openPostGIS(path).loadAll() } catch { throw CLIError(error, context: "--store") }
        }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw CLIError("--store \(path): file does not exist")
        }
        if !isDir.boolValue && path.lowercased().hasSuffix(".gpkg") {
            do { return try GeoPackageStore.open(at: path, readOnly: true).loadAll() } catch {
                throw CLIError(error, context: "--store")
            }
        }
        let sources = try fileSources(path, isDirectory: isDir.boolValue, mapping: mapping)
        do {
            return try Importer.read(sources, options: ImportOptions(policy: .lenient)).network(crs: "EPSG:4549")
        } catch {
            throw CLIError(error, context: "--store \(path)")
        }
    }

    /// A PostGIS store (`--store postgresql://user@host:port/database`), read-only unless `writable`.
    static func openPostGIS(_ url: String, writable: Bool = false) throws -> PostGISStore {
        do { return try PostGISStore.open(url, readOnly: !writable) } catch { throw CLIError(error, context: "--store") }
    }

    /// The import sources for a directory or a single file, points files first.
    static func fileSources(_ path: String, isDirectory: Bool, mapping: String?) throws -> [ImportSource] {
        let custom = try mapping.map(loadMapping)
        if isDirectory {
            let dir = URL(fileURLWithPath: path)
            for ext in ["geojson", "csv"] {
                let seg = dir.appendingPathComponent("segments.\(ext)").path
                guard FileManager.default.fileExists(atPath: seg) else { continue }
                var out: [ImportSource] = []
                let pts = dir.appendingPathComponent("points.\(ext)").path
                if FileManager.default.fileExists(atPath: pts) {
                    out.append(source(pts, content: .points, mapping: custom ?? DistrictMappings.points))
                }
                out.append(source(seg, content: .segments, mapping: custom ?? DistrictMappings.segments))
                return out
            }
            throw CLIError("--store \(path): directory holds no segments.geojson or segments.csv")
        }
        let lower = path.lowercased()
        guard lower.hasSuffix(".geojson") || lower.hasSuffix(".json") || lower.hasSuffix(".csv") else {
            throw CLIError("--store \(path): not a .gpkg store, a directory, or a .geojson/.csv file")
        }
        var out = [source(path, content: .segments, mapping: custom ?? DistrictMappings.segments)]
        // A district segments file reads better with its points (depths at the nodes).
        let name = URL(fileURLWithPath: path).lastPathComponent
        if name.hasPrefix("segments.") {
            let pts = URL(fileURLWithPath: path).deletingLastPathComponent()
                .appendingPathComponent("points." + (name as NSString).pathExtension).path
            if FileManager.default.fileExists(atPath: pts) {
                out.insert(source(pts, content: .points, mapping: custom ?? DistrictMappings.points), at: 0)
            }
        }
        return out
    }

    /// An import source, the format from the file extension (CSV: a `wkt`/`geometry` column when
    /// the header has one, else survey-table layout).
    static func source(_ path: String, content: ImportSource.Content, mapping: FieldMapping) -> ImportSource {
        let lower = path.lowercased()
        let format: ImportSource.Format
        if lower.hasSuffix(".csv") {
            format = .csv(geometryColumn: wktColumn(path))
        } else if lower.hasSuffix(".gpkg") {
            format = .geoPackage(table: nil)
        } else {
            format = .geoJSON
        }
        return ImportSource(path: path, format: format, content: content, mapping: mapping)
    }

    /// The header cell naming a WKT column, if any. Reads only the first line.
    static func wktColumn(_ path: String) -> String? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        let head = (try? h.read(upToCount: 4096)) ?? Data()
        guard let text = String(data: head, encoding: .utf8),
            let first = text.split(whereSeparator: \.isNewline).first
        else { return nil }
        for cell in first.split(separator: ",") {
            let name = cell.trimmingCharacters(in: CharacterSet(charactersIn: "\" \u{FEFF}"))
            if ["wkt", "geometry", "geom", "the_geom", "shape"].contains(name.lowercased()) { return name }
        }
        return nil
    }

    static func loadMapping(_ path: String) throws -> FieldMapping {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CLIError("--mapping \(path): file does not exist")
        }
        do { return try FieldMapping.load(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw CLIError(error, context: "--mapping")
        }
    }

    /// The bundled GB 50289 rules when `path` is nil; a built-in profile by name (`uk-hsg47`,
    /// `gb50289`) when no file of that name exists; else a rule file laid over the built-in
    /// profile its `base` names (GB 50289 by default).
    static func loadRules(_ path: String?) throws -> ClearanceRules? {
        guard let path else { return nil }
        if !FileManager.default.fileExists(atPath: path), ClearanceRules.builtInProfiles.contains(path.lowercased()) {
            do { return try ClearanceRules.builtIn(path) } catch { throw CLIError(error, context: "--rules \(path)") }
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError("--rules \(path): file does not exist or is unreadable, and is not a built-in profile (\(ClearanceRules.builtInProfiles.joined(separator: ", ")))")
        }
        do { return try ClearanceRules.loading(ruleFile: data) } catch {
            throw CLIError(error, context: "--rules \(path)")
        }
    }
}
