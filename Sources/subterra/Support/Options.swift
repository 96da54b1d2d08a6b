import ArgumentParser
import Foundation
import SubterraEngine
import SubterraModel
import SubterraRequests

/// Where the map comes from; every query command takes these.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The map: a Subterra GeoPackage (.gpkg, opened read-only), or a directory / file of survey data (segments.geojson or segments.csv with points.* beside, e.g. Datasets/sample).",
            valueName: "path"))
    var store: String

    @Option(name: .long, help: ArgumentHelp("Field mapping (JSON) for reading --store files that are not in the sample district's layout.", valueName: "file"))
    var mapping: String?

    @Option(name: .long, help: ArgumentHelp("Clearance rules: a built-in profile (gb50289, the default; uk-hsg47) or a rule file (JSON) laid over the profile its \"base\" names (gb50289 unless it says otherwise).", valueName: "profile|file"))
    var rules: String?

    /// Opens the map, with a progress line on a terminal while it loads and indexes.
    func open() throws -> OpenedMap {
        let progress = Progress.onTerminal("opening \(store)")
        defer { progress?.finish() }
        return try StoreOpener.open(store, mapping: mapping, rules: rules, progress: progress)
    }

    /// The files these options make the command read: the store (with its journal files, or the
    /// survey files a directory stands for), `--mapping` and `--rules`.
    var inputs: CommandInputs {
        var i = CommandInputs()
        i.addStore(store)
        i.add("--mapping", mapping)
        i.add("--rules", rules)
        return i
    }
}

/// The output format: a table for people, JSON for programs, GeoJSON for GIS.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, geojson
}

struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: "Output format: table (readable, default), json (the engine's report), or geojson (features with the answer's properties).")
    var format: OutputFormat = .table
}

/// Which pipes a query considers.
struct FilterOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .singleValue,
        help: ArgumentHelp("Only pipes of this CJJ 61 layer code (JS water, PS drainage, RQ gas, RL heat, DL power, TX telecom, GX fibre, ...); repeat or comma-separate for several.", valueName: "code"))
    var layer: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Only pipes of this sub-type code (TR natural gas, WS sewage, GD power supply, ...); repeat or comma-separate for several. With --layer, each must be a sub-type of one of those layers.", valueName: "code"))
    var subtype: [String] = []

    @Option(name: .long, parsing: .singleValue, help: ArgumentHelp("Only pipes of this owner (exact, as surveyed); repeat for several.", valueName: "name"))
    var owner: [String] = []

    /// The filter, every code checked against the map's (``CodeCatalogue``): an unknown code or
    /// an empty item (`--layer ""`, `--layer RQ,,`) is refused naming the valid codes.
    func filter(_ engine: any PipeMap) throws -> PipeFilter {
        try PipeFilter(layers: layer, subtypes: subtype, owners: owner, codes: engine.codes)
    }
}

/// The limits every query geometry is held to (see `RequestLimits` for the defaults and why).
struct GeometryLimitOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Refuse geometries with more vertices than this.", valueName: "n"))
    var maxVertices: Int = RequestLimits.default.maxVertices

    @Option(name: .long, help: ArgumentHelp("Refuse geometry text (or an @file) longer than this many bytes.", valueName: "bytes"))
    var maxGeometryBytes: Int = RequestLimits.default.maxGeometryBytes

    @Option(name: .long, help: ArgumentHelp("Refuse geometries nested deeper than this (WKT parentheses, GeoJSON brackets).", valueName: "n"))
    var maxDepth: Int = RequestLimits.default.maxDepth

    /// The limits, with `maxLineBytes` from the caller (only batch mode reads lines).
    func limits(maxLineBytes: Int = RequestLimits.default.maxLineBytes) throws -> RequestLimits {
        let l = RequestLimits(maxLineBytes: maxLineBytes, maxGeometryBytes: maxGeometryBytes, maxVertices: maxVertices, maxDepth: maxDepth)
        try l.validate { k in
            switch k {
            case \RequestLimits.maxLineBytes: "--max-line-bytes"
            case \RequestLimits.maxGeometryBytes: "--max-geometry-bytes"
            case \RequestLimits.maxVertices: "--max-vertices"
            default: "--max-depth"
            }
        }
        return l
    }
}

/// A query geometry: WKT, GeoJSON or @file, in any CRS.
struct GeometryOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("The geometry: WKT (POINT (x y), POLYGON ((...))), EWKT (SRID=4326;...), GeoJSON (geometry, feature or collection), or @file holding one of those (a file, FIFO or <(process substitution)).", valueName: "geometry"))
    var geometry: String

    @Option(name: .long, help: ArgumentHelp("CRS of the geometry (EPSG:4326 for lon/lat, EPSG:4549 ...). Default: what the input declares, else the map CRS.", valueName: "crs"))
    var crs: String?

    @Option(name: .long, help: ArgumentHelp("Which feature of a GeoJSON collection to use, 1-based (default 1).", valueName: "n"))
    var feature: Int?

    @OptionGroup var limits: GeometryLimitOptions

    /// The geometry, read from `@file` when it names one: only here, on the command line, is a
    /// file read (batch lines carry their geometry, see `GeometryInput`).
    func parse(option: String = "geometry") throws -> InputGeometry {
        let limits = try limits.limits()
        guard geometry.hasPrefix("@") else {
            return try GeometryInput.parse(geometry, crs: crs, feature: feature, limits: limits, origin: option)
        }
        let origin = "\(option) \(geometry)"
        let file = try InputFile.open(String(geometry.dropFirst()), label: origin)
        defer { file.close() }
        let bytes = try file.readAll(limit: limits.maxGeometryBytes, raise: "--max-geometry-bytes")
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw CLIError("\(origin): file is not UTF-8 text") }
        return try GeometryInput.parse(text, crs: crs, feature: feature, limits: limits, origin: origin)
    }

    /// The `@file` the geometry is read from, if any, named `option` in messages.
    func inputs(option: String = "geometry") -> CommandInputs {
        var i = CommandInputs()
        i.addGeometry(geometry, role: option)
        return i
    }
}

/// Runs a command body, turning every thrown error into one stderr line and exit status 2.
///
/// Standard output is flushed and checked last: a report that did not reach it whole (a full
/// disk, a closed descriptor, a broken pipe) must not exit 0 as if it had been delivered.
func guarded(_ body: () throws -> Int32) throws {
    let status: Int32
    do { status = try body() } catch let e as ExitCode {
        throw e
    } catch {
        StdErr.write("subterra: error: \(CLIError(error).description)\n")
        throw ExitCode(ExitStatus.error)
    }
    try checkStandardOutput()
    if status != 0 { throw ExitCode(status) }
}

/// JSON for reports (the encoding batch answers use, see `AnswerJSON`).
enum JSONOut {
    static func encoder(pretty: Bool = true) -> JSONEncoder { AnswerJSON.encoder(pretty: pretty) }

    static func string<T: Encodable>(_ value: T, pretty: Bool = true) throws -> String {
        String(decoding: try encoder(pretty: pretty).encode(value), as: UTF8.self)
    }
}
