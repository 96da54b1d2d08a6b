import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraRequests

extension SurfaceKind: ExpressibleByArgument {}

/// Options describing a planned pipe, shared by `check-route` and `render route`.
struct RouteOptions: ParsableArguments {
    @OptionGroup var input: GeometryOptions

    @Option(name: .long, help: ArgumentHelp("Layer code of the planned pipe (RQ gas, JS water, DL power, ...); default: the feature's layer property.", valueName: "code"))
    var layer: String?

    @Option(name: .long, help: ArgumentHelp("Sub-type code (TR natural gas, JP distribution, GD supply, ...).", valueName: "code"))
    var subtype: String?

    @Option(name: .long, help: ArgumentHelp("Nominal diameter DN, millimetres (default: diameter_mm property).", valueName: "mm"))
    var diameter: Double?

    @Option(name: .long, help: ArgumentHelp("Gas pressure, MPa (selects the pressure class; default: pressure_mpa property).", valueName: "MPa"))
    var pressure: Double?

    @Option(name: .long, help: ArgumentHelp("Cable voltage, kV (default: voltage_kv property).", valueName: "kV"))
    var voltage: Double?

    @Option(name: .long, help: ArgumentHelp("Burial method code (ZM direct-buried, GK duct bank, GG trench, ...).", valueName: "code"))
    var burial: String?

    @Option(name: .long, help: ArgumentHelp("Depth of the pipe top at both ends, metres (default: depth_m property).", valueName: "metres"))
    var depth: Double?

    @Option(name: .long, help: ArgumentHelp("Depth at the start, when it differs from the end.", valueName: "metres"))
    var depthStart: Double?

    @Option(name: .long, help: ArgumentHelp("Depth at the end.", valueName: "metres"))
    var depthEnd: Double?

    @Option(name: .long, help: "Surface over the route, for minimum cover: sidewalk or carriageway.")
    var surface: SurfaceKind = .carriageway

    /// Parses the route and builds the planned pipe; its layer and sub-type must be codes of
    /// `codes` (the opened map's), so a typo is refused instead of matching no rule.
    func planned(codes: CodeCatalogue) throws -> (PlannedPipe, InputGeometry) {
        let g = try input.parse(option: "route")
        guard case .lineString(let line) = g.geometry else {
            throw CLIError("\(g.origin): a route must be a LINESTRING, got \(g.geometry.typeName)")
        }
        guard let code = layer ?? g.string("layer") else {
            throw CLIError("--layer is missing: give the planned pipe's layer code (e.g. RQ, JS, DL)")
        }
        let layerCode = try codes.layer(code, field: layer != nil ? "--layer" : "\(g.origin): property layer")
        let subtypeCode = try (subtype ?? g.string("subtype")).map { (text) throws(EngineError) in
            try codes.subtype(text, inLayers: [layerCode], field: subtype != nil ? "--subtype" : "\(g.origin): property subtype")
        }
        let d = depth ?? g.number("depth_m")
        guard let d0 = depthStart ?? d, let d1 = depthEnd ?? d else {
            throw CLIError("--depth is missing: give the planned depth of the pipe top in metres")
        }
        let mpa = pressure ?? g.number("pressure_mpa")
        var pressureClass: GasPressureClass?
        if let mpa {
            guard let c = GasPressureClass(megapascals: mpa) else {
                throw CLIError("--pressure \(mpa): outside the gas pressure classes (0...4.0 MPa)")
            }
            pressureClass = c
        }
        let profile = PipeProfile(
            layer: layerCode, subtype: subtypeCode,
            pressureClass: pressureClass, burial: try burial.map { (text) throws(EngineError) in try codes.burial(text, field: "--burial") },
            diameterMM: diameter ?? g.number("diameter_mm"), voltageKV: voltage ?? g.number("voltage_kv"), pressureMPa: mpa)
        return (PlannedPipe(profile: profile, route: line, crs: g.crs, depthAtStart: d0, depthAtEnd: d1, surface: surface), g)
    }
}

/// `subterra check-route`: clearance check of a planned pipe against the network.
struct CheckRouteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-route",
        abstract: "Check a planned pipe's route: horizontal clearance to parallel pipes, vertical clearance at crossings, minimum cover.",
        discussion: """
            Examples:
              subterra check-route 'LINESTRING (636590 3140212, 636716 3140220)' --layer RQ --pressure 0.3 --diameter 200 --depth 1.3 --store Datasets/sample
              subterra check-route @Datasets/sample/routes.geojson --feature 1 --store out/city.gpkg --fail-on-conflict --map out/route.svg
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var route: RouteOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Also write an SVG map of the route and its findings.", valueName: "file.svg"))
    var map: String?

    @Flag(name: .long, help: "Report the findings of cable beds, sleeves and casings as rows of their own, not with the line they carry.")
    var separateEnclosures = false

    @Flag(name: .long, help: "Exit with status 1 when any clearance is violated or not checked (a pair no rule covers, a crossing of unknown depth).")
    var failOnConflict = false

    func run() throws {
        try guarded {
            let mapFile = try map.map { try OutputFile($0, option: "--map", inputs: store.inputs + route.input.inputs(option: "route")) }
            let opened = try store.open()
            let (planned, g) = try route.planned(codes: opened.engine.codes)
            let report = try opened.engine.routeCheck(
                planned, nearMargin: 1.0, filter: .all, enclosures: separateEnclosures ? .separate : .grouped)
            switch output.format {
            case .json: print(try JSONOut.string(report))
            case .geojson: print(try RouteOutput.geoJSON(report, route: try toMapCRS(g, opened.engine), engine: opened.engine))
            case .table: print(RouteOutput.table(report, planned))
            }
            if let mapFile {
                let svg = try MapSVG.route(report, route: toMapCRS(g, opened.engine), planned: planned, engine: opened.engine, title: g.string("name"))
                try mapFile.write(svg)
                StdErr.write("subterra: map written to \(mapFile.path)\n")
            }
            return failOnConflict && report.result != .ok ? ExitStatus.conflict : ExitStatus.ok
        }
    }
}

/// Report lines shared by the route and dig tables.
enum CheckOutput {
    /// One line per unchecked pair: `not checked  pipe 12 TX Telecom Co.: not checked: no rule for ...`.
    static func uncheckedLines(_ pairs: [UncheckedPair]) -> [String] {
        pairs.map { u in
            let pipe = u.pipeID.map { "pipe \(HitOutput.shownID($0, u.sourceID, file: u.sourceFile)) \(u.layer?.rawValue ?? "-") \(u.owner ?? "-")" } ?? "planned pipe"
            return "  unchecked   \(pipe): \(u.reason)"
        }
    }
}

enum RouteOutput {
    static func table(_ r: RouteReport, _ p: PlannedPipe) -> String {
        var out: [String] = []
        let pr = p.profile
        out.append("Route check: planned \(pr.layer.rawValue)\(pr.subtype.map { "/\($0.rawValue)" } ?? "")"
            + "\(pr.diameterMM.map { " DN\(String(format: "%.0f", $0))" } ?? "")\(pr.pressureForRules.map { " \(Fmt.m($0)) MPa" } ?? "")"
            + "\(pr.voltageKV.map { " \(Fmt.m($0)) kV" } ?? ""), depth \(Fmt.m(p.depthAtStart))..\(Fmt.m(p.depthAtEnd)) m, \(p.surface.rawValue)")
        out.append("  rules       \(r.rules)")
        let v = r.violations.count
        let unknown = r.findings.filter { $0.status == .unknownDepth }.count
        let result: String
        switch r.result {
        case .violation: result = "\(v) violation\(v == 1 ? "" : "s")"
        case .notChecked: result = "NOT CHECKED: \(r.unchecked.count) pair\(r.unchecked.count == 1 ? "" : "s") with no rule, \(unknown) crossing\(unknown == 1 ? "" : "s") of unknown depth"
        case .ok: result = "OK"
        }
        out.append("  result      \(result) (\(r.findings.count) checks)")
        out.append(contentsOf: CheckOutput.uncheckedLines(r.unchecked))
        guard !r.findings.isEmpty else { return out.joined(separator: "\n") }
        out.append("")
        // The source file's name beside the id when some existing pipe has one.
        let files = r.findings.contains { $0.sourceFile != nil }
        let head = ["status", "kind", "id"] + (files ? ["source"] : [])
        let tail = ["layer", "owner", "at_m", "required_m", "actual_m", "existing_depth_m", "rule"]
        // A `with` column (the beds, sleeves and casings folded into a line's finding, each with
        // its own status and clearance) only when some finding has one.
        let with = r.findings.contains { !$0.enclosures.isEmpty }
        var t = TextTable(head + tail + (with ? ["with"] : []), numeric: Set([2] + [2, 3, 4, 5].map { $0 + head.count }))
        for f in r.findings {
            let enclosed = f.enclosures.map { e in
                let file = e.sourceFile == f.sourceFile ? nil : e.sourceFile
                return "\(e.kind.words) \(HitOutput.shownID(e.pipeID, e.sourceID, file: file)) (\(e.status.rawValue)\(e.actual.map { ", \(Fmt.m($0)) m" } ?? ""))"
            }
            t.add([
                f.status.rawValue, f.kind.rawValue, f.pipeID.map { HitOutput.shownID($0, f.sourceID) } ?? "-",
            ] + (files ? [Fmt.file(f.sourceFile)] : []) + [
                (f.layer?.rawValue ?? "-") + (f.featureKind.isEnclosure ? " (\(f.featureKind.words))" : ""), f.owner ?? "-",
                Fmt.m(f.routeOffset), Fmt.m(f.required), Fmt.m(f.actual), Fmt.depth(f.existingDepth, nominal: f.nominalDepth),
                "\(f.rule.table): \(f.rule.keys.joined(separator: "/"))",
            ] + (with ? [enclosed.isEmpty ? "-" : enclosed.joined(separator: ", ")] : []))
        }
        out.append(t.render())
        return out.joined(separator: "\n")
    }

    static func geoJSON(_ r: RouteReport, route: Geometry, engine: any PipeMap) throws -> String {
        var features = [GeoJSONFeature(
            id: .string("route"), geometry: route,
            properties: [
                "kind": .string("planned-route"), "result": .string(r.result.rawValue),
                "unchecked": .array(r.unchecked.map { u in .string(u.reason + (u.pipeID.map { " (pipe \(HitOutput.shownID($0, u.sourceID, file: u.sourceFile)))" } ?? "")) }),
            ])]
        for f in r.findings {
            var props = HitOutput.properties(f)
            props.append("kind", .string("finding"))
            let pipe = try f.pipeID.flatMap { id throws(EngineError) in try engine.segment(id: id) }
            let g: Geometry = try pipe.map { try HitOutput.pipeGeometry($0, in: engine) } ?? .point(Point(f.point.x, f.point.y))
            features.append(GeoJSONFeature(geometry: g, properties: props))
        }
        return GeoJSON.write(GeoJSONFeatureCollection(features: features, crs: HitOutput.crsMember(r.mapCRS)))
    }
}
