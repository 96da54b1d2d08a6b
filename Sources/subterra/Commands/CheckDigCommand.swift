import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraPROJ
import SubterraRequests

/// Options of a dig check, shared by `check-dig` and `render dig`.
struct DigOptions: ParsableArguments {
    @OptionGroup var input: GeometryOptions

    @Option(name: .long, help: ArgumentHelp("Planned excavation depth below ground, metres (default: the feature's depth_m property).", valueName: "metres"))
    var depth: Double?

    @Option(name: .long, help: ArgumentHelp("What the dig is for, carried into the report.", valueName: "text"))
    var workType: String?

    /// Parses the area and builds the request.
    func request() throws -> (DigRequest, InputGeometry) {
        let g = try input.parse(option: "dig area")
        guard let d = depth ?? g.number("depth_m") else {
            throw CLIError("--depth is missing: give the planned excavation depth in metres")
        }
        guard d.isFinite, d >= 0 else { throw CLIError("--depth \(d): must be a finite number of metres >= 0") }
        return (DigRequest(area: g.geometry, crs: g.crs, plannedDepth: d, workType: workType ?? g.string("name")), g)
    }
}

/// Converts a user geometry to the map CRS (for drawing; the engine converts its own copy).
func toMapCRS(_ g: InputGeometry, _ engine: any PipeMap) throws -> Geometry {
    guard let crs = g.crs, crs != engine.crs else { return g.geometry }
    do { return try Transformer(from: crs, to: engine.crs).transform(g.geometry) } catch {
        throw CLIError(error, context: "\(g.origin): converting from \(crs) to \(engine.crs)")
    }
}

/// `subterra check-dig`: which pipes an excavation hits or comes too close to.
struct CheckDigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-dig",
        abstract: "Check an excavation area and depth against every pipe: conflicts, clearances (GB 50289), owners to notify.",
        discussion: """
            A pipe conflicts when its clear distance to the area, measured to the pipe's outer wall as GB 50289 does (the \
            exact plan distance to the centreline less half the surveyed outer width; no width when no section was \
            surveyed), is below the required clearance (widened by the survey's positional accuracy) or 0 (the dig reaches \
            the wall). Each conflict carries layer, owner, clear and centreline distances, outer width, depth at the \
            closest point, whether the dig reaches it, the rule and a severity.

            Examples:
              subterra check-dig 'POLYGON ((637850 3140128, 637854 3140128, 637854 3140132, 637850 3140132, 637850 3140128))' --depth 1.5 --store Datasets/sample
              subterra check-dig @Datasets/sample/dig-sites.geojson --feature 2 --store out/city.gpkg --map out/dig.svg --fail-on-conflict
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var dig: DigOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Also write an SVG map of the site, its clearance zone and the conflicts.", valueName: "file.svg"))
    var map: String?

    @Flag(name: .long, help: "Exit with status 1 when any pipe conflicts or is not checked (no rule covers it), for scripts and CI gates.")
    var failOnConflict = false

    func run() throws {
        try guarded {
            let mapFile = try map.map { try OutputFile($0, option: "--map", inputs: store.inputs + dig.input.inputs(option: "dig area")) }
            let (request, g) = try dig.request()
            let opened = try store.open()
            let report = try opened.engine.digCheck(request, filter: .all)
            switch output.format {
            case .json: print(try JSONOut.string(report))
            case .geojson: print(try DigOutput.geoJSON(report, area: toMapCRS(g, opened.engine), engine: opened.engine))
            case .table: print(DigOutput.table(report))
            }
            if let mapFile {
                let svg = try MapSVG.dig(report, area: toMapCRS(g, opened.engine), engine: opened.engine, title: request.workType)
                try mapFile.write(svg)
                StdErr.write("subterra: map written to \(mapFile.path)\n")
            }
            return failOnConflict && report.result != .ok ? ExitStatus.conflict : ExitStatus.ok
        }
    }
}

enum DigOutput {
    static func table(_ r: DigReport) -> String {
        var out: [String] = []
        let b = r.areaBounds
        out.append("Dig check\(r.workType.map { ": \($0)" } ?? "")")
        out.append("  area        E \(Fmt.coord(b[0]))..\(Fmt.coord(b[2])), N \(Fmt.coord(b[1]))..\(Fmt.coord(b[3])) (\(r.mapCRS))")
        out.append("  depth       \(Fmt.m(r.plannedDepth)) m")
        out.append("  rules       \(r.rules)")
        if r.conflicts.isEmpty {
            if r.unchecked.isEmpty {
                out.append("  result      CLEAR: no pipe wall within its required clearance")
            } else {
                out.append("  result      NOT CHECKED: \(r.unchecked.count) pipe\(r.unchecked.count == 1 ? "" : "s") near the dig with no rule")
                out.append(contentsOf: CheckOutput.uncheckedLines(r.unchecked))
            }
            out.append(contentsOf: areaLines(r))
            return out.joined(separator: "\n")
        }
        out.append("  result      \(r.conflicts.count) conflict\(r.conflicts.count == 1 ? "" : "s"), highest severity \((r.highestSeverity ?? .low).rawValue.uppercased())")
        out.append(contentsOf: CheckOutput.uncheckedLines(r.unchecked))
        out.append("")
        // The operator's id column only when some pipe has one, so plain maps print as before.
        let sourceIDs = r.conflicts.contains { $0.sourceID != nil }
        let files = r.conflicts.contains { $0.sourceFile != nil }
        let head: [String] = ["#", "severity", "id"] + (sourceIDs ? ["source_id"] : []) + (files ? ["source"] : [])
        let tail = ["layer", "owner", "section", "clear_m", "required_m", "centreline_m", "depth_m", "reaches", "rule"]
        let numeric = Set([0, 2] + [3, 4, 5, 6].map { $0 + head.count })
        // Kind and enclosure columns only when some conflict is or has a cable bed, sleeve or casing.
        let kinds = r.conflicts.contains { $0.featureKind.isEnclosure || !$0.enclosures.isEmpty }
        var t = TextTable(head + tail + (kinds ? ["kind", "enclosures"] : []), numeric: numeric)
        for (i, c) in r.conflicts.enumerated() {
            let ids: [String] = [String(i + 1), c.severity.rawValue, String(c.pipeID)] + (sourceIDs ? [c.sourceID ?? "-"] : [])
                + (files ? [Fmt.file(c.sourceFile)] : [])
            let rest: [String] = [
                c.layer.rawValue + (c.subtype.map { "/\($0.rawValue)" } ?? ""),
                c.owner ?? "-", c.section ?? "-", Fmt.m(c.clearDistance), Fmt.m(c.requiredClearance), Fmt.m(c.distance),
                Fmt.depth(c.depth, nominal: c.nominalDepth),
                c.reaches, c.rule.map { $0.keys.joined(separator: " / ") } ?? "no table: largest clearance",
            ]
            // An enclosure names its source file when it is not the line's (the row's `source`).
            let enclosures = c.enclosures.map {
                "\($0.kind.words) \(HitOutput.shownID($0.pipeID, $0.sourceID, file: $0.sourceFile == c.sourceFile ? nil : $0.sourceFile))"
            }
            t.add(ids + rest + (kinds ? [c.featureKind.words, enclosures.isEmpty ? "-" : enclosures.joined(separator: ", ")] : []))
        }
        out.append(t.render())
        out.append(contentsOf: assumedAccuracyLines(r))
        if !r.precautions.isEmpty {
            out.append("")
            out.append("Operator precautions:")
            for p in r.precautions {
                out.append("  pipe \(HitOutput.shownID(p.pipeID, p.sourceID, file: p.sourceFile)) (\(p.layer.rawValue), \(p.owner ?? "unknown owner")) at \(Fmt.m(p.clearDistance)) m, within \(Fmt.m(p.requiredDistance)) m: \(p.rule.basis ?? p.rule.table)")
            }
        }
        out.append(contentsOf: areaLines(r))
        out.append("")
        out.append("Owners to notify:")
        let sourceOf = Dictionary(
            r.conflicts.map { ($0.pipeID, $0.sourceID) } + r.precautions.map { ($0.pipeID, $0.sourceID) },
            uniquingKeysWith: { a, _ in a })
        func shown(_ id: Int64) -> String { HitOutput.shownID(id, sourceOf[id] ?? nil) }
        for n in r.owners {
            let layers = n.layers.isEmpty ? "" : " (\(n.layers.map(\.rawValue).joined(separator: ", ")))"
            let ids = n.pipeIDs.isEmpty ? "" : "; ids \(n.pipeIDs.map(shown).joined(separator: " "))"
            let areas = n.areaIDs.isEmpty ? "" : "; areas \(n.areaIDs.map(String.init).joined(separator: " "))"
            out.append("  \(n.owner): \(n.pipeIDs.count) pipe\(n.pipeIDs.count == 1 ? "" : "s")\(layers), highest \(n.highestSeverity.rawValue)\(ids)\(areas)")
        }
        return out.joined(separator: "\n")
    }

    /// The conflicts whose positional accuracy is assumed, not stated, grouped by where the
    /// assumption comes from and its value: `1.00 m, the delivery's default accuracy: 3
    /// (UKPN-LV-0042)`.
    static func assumedAccuracyLines(_ r: DigReport) -> [String] {
        let assumed = r.conflicts.filter { !$0.accuracyStated }
        guard !assumed.isEmpty else { return [] }
        var out = ["", "Position accuracy assumed, not stated (added to the clearance):"]
        let groups = Dictionary(grouping: assumed) { "\($0.accuracyBasis.rawValue) \(Fmt.m($0.accuracy))" }
        for key in groups.keys.sorted() {
            let cs = groups[key]!
            let source = cs[0].accuracyBasis == .sourceDefault
                ? "the delivery's default accuracy (mapping defaultAccuracy)" : "the rule profile's default for unknown (\(r.rules))"
            out.append("  \(Fmt.m(cs[0].accuracy)) m, \(source): \(cs.map { HitOutput.shownID($0.pipeID, $0.sourceID) }.joined(separator: ", "))")
        }
        return out
    }

    /// The operator areas the dig touches, and, when no pipe conflicts, the operators to notify
    /// for them (with conflicts they are in the owner list that follows).
    static func areaLines(_ r: DigReport) -> [String] {
        guard !r.areas.isEmpty else { return [] }
        let zones = r.areas.filter { $0.kind == .precaution }.count
        var out = ["", "Operator areas touched (\(zones) precaution zone\(zones == 1 ? "" : "s"), \(r.areas.count - zones) interest area\(r.areas.count - zones == 1 ? "" : "s")):"]
        for a in r.areas {
            let id = HitOutput.shownID(a.areaID, a.sourceID, file: a.sourceFile)
            let layers = a.layers.isEmpty ? "" : " (\(a.layers.map(\.rawValue).joined(separator: ", ")))"
            out.append("  area \(id)\(layers): \(a.action)\(a.note.map { "; operator's note: \($0)" } ?? "")")
        }
        if r.conflicts.isEmpty {
            out.append("")
            out.append("Owners to notify:")
            for n in r.owners {
                out.append("  \(n.owner): \(n.areaIDs.count) area\(n.areaIDs.count == 1 ? "" : "s"), highest \(n.highestSeverity.rawValue); areas \(n.areaIDs.map(String.init).joined(separator: " "))")
            }
        }
        return out
    }

    static func geoJSON(_ r: DigReport, area: Geometry, engine: any PipeMap) throws -> String {
        var features: [GeoJSONFeature] = [
            GeoJSONFeature(
                id: .string("dig-area"), geometry: area,
                properties: [
                    "kind": .string("dig-area"), "plannedDepth": .number(r.plannedDepth),
                    "conflicts": .number(Double(r.conflicts.count)),
                    "highestSeverity": r.highestSeverity.map { .string($0.rawValue) } ?? .null,
                    "result": .string(r.result.rawValue),
                    "unchecked": .array(r.unchecked.map { u in .string(u.reason + (u.pipeID.map { " (pipe \(HitOutput.shownID($0, u.sourceID, file: u.sourceFile)))" } ?? "")) }),
                ])
        ]
        for c in r.conflicts {
            var props = HitOutput.properties(c)
            props.append("kind", .string("conflict"))
            features.append(GeoJSONFeature(
                id: .number(Double(c.pipeID)), geometry: try engine.segment(id: c.pipeID).map { try HitOutput.pipeGeometry($0, in: engine) },
                properties: props))
        }
        // Pipes within an operator's precaution distance: the operator must be consulted, whether
        // or not the pipe is also a conflict.
        for p in r.precautions {
            var props: JSONObject = [
                "kind": .string("precaution"), "pipeID": .number(Double(p.pipeID)), "layer": .string(p.layer.rawValue),
                "owner": p.owner.map { .string($0) } ?? .null, "clearDistance": .number(p.clearDistance),
                "requiredDistance": .number(p.requiredDistance), "rule": .string(p.rule.basis ?? p.rule.table),
                "conflict": .bool(r.conflicts.contains { $0.featureID == p.feature }),
            ]
            if let s = p.sourceID { props.append("sourceID", .string(s)) }
            if let f = p.sourceFile { props.append("sourceFile", .string(f)) }
            features.append(GeoJSONFeature(
                id: .string("precaution-\(p.pipeID)"),
                geometry: try engine.segment(id: p.pipeID).map { try HitOutput.pipeGeometry($0, in: engine) }, properties: props))
        }
        for n in r.areas {
            var props: JSONObject = [
                "kind": .string(n.kind == .precaution ? "precaution-zone" : "interest-area"), "areaID": .number(Double(n.areaID)),
                "owner": .string(n.owner), "action": .string(n.action), "severity": .string(n.severity.rawValue),
                "layers": .array(n.layers.map { .string($0.rawValue) }),
            ]
            if let s = n.sourceID { props.append("sourceID", .string(s)) }
            if let f = n.sourceFile { props.append("sourceFile", .string(f)) }
            if let note = n.note { props.append("note", .string(note)) }
            features.append(GeoJSONFeature(id: .string("area-\(n.areaID)"), geometry: try engine.area(id: n.areaID)?.geometry, properties: props))
        }
        return GeoJSON.write(GeoJSONFeatureCollection(features: features, crs: HitOutput.crsMember(r.mapCRS)))
    }
}
