import ArgumentParser
import Foundation
import SubterraEngine

/// `subterra render`: SVG drawings without the text report.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw an SVG map of a dig site or planned route, or a cross-section drawing.",
        discussion: """
            Maps show pipes in the CJJ 61 layer colours with a legend, scale bar and north arrow, the excavation area and its \
            clearance zone, and every conflict numbered on the map and labelled (layer, owner, clear distance to the pipe wall, depth) beside it.

            Examples:
              subterra render dig @Datasets/sample/dig-sites.geojson --feature 2 --store Datasets/sample --out out/dig.svg
              subterra render route @Datasets/sample/routes.geojson --feature 1 --store Datasets/sample --out out/route.svg
              subterra render section 'LINESTRING (636700 3140190, 636700 3140240)' --store Datasets/sample --out out/section.svg
            """,
        subcommands: [RenderDig.self, RenderRoute.self, RenderSection.self])
}

struct RenderDig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dig", abstract: "SVG map of a dig site with its conflicts.",
        discussion: "Example: subterra render dig 'POLYGON ((...))' --depth 1.5 --store Datasets/sample --out dig.svg")

    @OptionGroup var store: StoreOptions
    @OptionGroup var dig: DigOptions
    @Option(name: .long, help: ArgumentHelp("The SVG file to write.", valueName: "file.svg"))
    var out: String

    func run() throws {
        try guarded {
            let file = try OutputFile(out, option: "--out", inputs: store.inputs + dig.input.inputs(option: "dig area"))
            let (request, g) = try dig.request()
            let opened = try store.open()
            let report = try opened.engine.digCheck(request, filter: .all)
            try file.write(MapSVG.dig(report, area: toMapCRS(g, opened.engine), engine: opened.engine, title: request.workType))
            print("map written to \(out): \(report.conflicts.count) conflict\(report.conflicts.count == 1 ? "" : "s")")
            return ExitStatus.ok
        }
    }
}

struct RenderRoute: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route", abstract: "SVG map of a planned route with its clearance findings.",
        discussion: "Example: subterra render route @routes.geojson --feature 2 --store Datasets/sample --out route.svg")

    @OptionGroup var store: StoreOptions
    @OptionGroup var route: RouteOptions
    @Option(name: .long, help: ArgumentHelp("The SVG file to write.", valueName: "file.svg"))
    var out: String

    func run() throws {
        try guarded {
            let file = try OutputFile(out, option: "--out", inputs: store.inputs + route.input.inputs(option: "route"))
            let opened = try store.open()
            let (planned, g) = try route.planned(codes: opened.engine.codes)
            let report = try opened.engine.routeCheck(planned, nearMargin: 1.0, filter: .all)
            try file.write(
                MapSVG.route(report, route: toMapCRS(g, opened.engine), planned: planned, engine: opened.engine, title: g.string("name")))
            let unchecked = report.unchecked.isEmpty ? "" : ", \(report.unchecked.count) not checked (no rule)"
            print("map written to \(out): \(report.violations.count) violation\(report.violations.count == 1 ? "" : "s")\(unchecked)")
            return ExitStatus.ok
        }
    }
}

struct RenderSection: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "section", abstract: "SVG cross-section drawing along a cut line.",
        discussion: "Example: subterra render section 'LINESTRING (636700 3140190, 636700 3140240)' --store Datasets/sample --out section.svg")

    @OptionGroup var store: StoreOptions
    @OptionGroup var input: GeometryOptions
    @OptionGroup var filter: FilterOptions
    @Option(name: .long, help: ArgumentHelp("The SVG file to write.", valueName: "file.svg"))
    var out: String

    func run() throws {
        try guarded {
            let file = try OutputFile(out, option: "--out", inputs: store.inputs + input.inputs(option: "cut line"))
            let (section, g) = try SectionCommand.compute(store: store, input: input, filter: filter)
            try file.write(SectionSVG.draw(section, title: g.string("name")))
            print("section drawing written to \(out): \(section.items.count) crossing\(section.items.count == 1 ? "" : "s")")
            return ExitStatus.ok
        }
    }
}
