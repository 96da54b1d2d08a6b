import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraRequests

/// `subterra section`: the pipes a cut line crosses, with depths, as a table or a drawing.
struct SectionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "section",
        abstract: "Cross-section along a cut line: every pipe crossed, its offset, depth (top/bottom), elevation and size.",
        discussion: """
            Examples:
              subterra section 'LINESTRING (636700 3140190, 636700 3140240)' --store Datasets/sample
              subterra section @cut.wkt --store out/city.gpkg --svg out/section.svg
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var input: GeometryOptions
    @OptionGroup var filter: FilterOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Also write an SVG cross-section drawing.", valueName: "file.svg"))
    var svg: String?

    func run() throws {
        try guarded {
            let svgFile = try svg.map { try OutputFile($0, option: "--svg", inputs: store.inputs + input.inputs(option: "cut line")) }
            let (section, line) = try compute()
            switch output.format {
            case .json: print(try JSONOut.string(section))
            case .geojson: print(SectionOutput.geoJSON(section))
            case .table: print(SectionOutput.table(section))
            }
            if let svgFile {
                try svgFile.write(SectionSVG.draw(section, title: line.string("name")))
                StdErr.write("subterra: section drawing written to \(svgFile.path)\n")
            }
            return ExitStatus.ok
        }
    }

    func compute() throws -> (CrossSection, InputGeometry) {
        try Self.compute(store: store, input: input, filter: filter)
    }

    /// Parses the cut line (refusing anything but a line string), opens the map, cuts.
    static func compute(store: StoreOptions, input: GeometryOptions, filter: FilterOptions) throws -> (CrossSection, InputGeometry) {
        let g = try input.parse(option: "cut line")
        guard case .lineString(let line) = g.geometry else {
            throw CLIError("\(g.origin): a cut line must be a LINESTRING, got \(g.geometry.typeName)")
        }
        let opened = try store.open()
        return (try opened.engine.crossSection(along: line, crs: g.crs, filter: filter.filter(opened.engine)), g)
    }
}

enum SectionOutput {
    static func table(_ s: CrossSection) -> String {
        var out = ["Cross-section: \(Fmt.m(s.length)) m cut, \(s.items.count) crossing\(s.items.count == 1 ? "" : "s") (map CRS \(s.mapCRS))"]
        guard !s.items.isEmpty else { return out[0] }
        let files = s.items.contains { $0.sourceFile != nil }
        let head = ["offset_m", "id"] + (files ? ["source"] : [])
        let tail = ["layer", "owner", "section", "top_depth_m", "bottom_depth_m", "top_elev_m", "x", "y"]
        var t = TextTable(head + tail, numeric: Set([0, 1] + [3, 4, 5, 6, 7].map { $0 + head.count }))
        for i in s.items {
            t.add([Fmt.m(i.offset), HitOutput.shownID(i.pipeID, i.sourceID)] + (files ? [Fmt.file(i.sourceFile)] : []) + [
                i.layer.rawValue + (i.subtype.map { "/\($0.rawValue)" } ?? "") + (i.featureKind.isEnclosure ? " (\(i.featureKind.words))" : ""), i.owner ?? "-",
                i.section ?? "-", Fmt.m(i.depthTop), Fmt.m(i.depthBottom), Fmt.m(i.topElevation), Fmt.coord(i.point.x),
                Fmt.coord(i.point.y),
            ])
        }
        out.append(t.render())
        return out.joined(separator: "\n")
    }

    static func geoJSON(_ s: CrossSection) -> String {
        let features = s.items.map { i in
            GeoJSONFeature(geometry: .point(Point(i.point.x, i.point.y)), properties: HitOutput.properties(i))
        }
        return GeoJSON.write(GeoJSONFeatureCollection(features: features, crs: HitOutput.crsMember(s.mapCRS)))
    }
}
