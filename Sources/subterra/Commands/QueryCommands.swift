import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry

/// `subterra nearest`: the k pipes nearest a geometry, with exact distances.
struct NearestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nearest",
        abstract: "The k pipes nearest a point, line or area, with exact distance and depth at the closest point.",
        discussion: """
            Distances are exact plan distances to the pipe centreline (never bounding boxes), in metres.

            Examples:
              subterra nearest 'POINT (636900 3140200)' --store Datasets/sample -k 3
              subterra nearest 'POINT (121.37 28.37)' --crs EPSG:4326 --layer RQ --layer JS --per-layer --store out/city.gpkg
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var input: GeometryOptions
    @OptionGroup var filter: FilterOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .customShort("k"), help: "How many pipes (per layer with --per-layer).")
    var k: Int = 1

    @Option(name: .long, help: ArgumentHelp("Ignore pipes farther than this, metres.", valueName: "metres"))
    var maxDistance: Double?

    @Flag(name: .long, help: "The k nearest of each layer (e.g. the nearest gas and the nearest water main).")
    var perLayer = false

    @Flag(name: .long, help: "Report cable beds, sleeves and casings as hits of their own, not with the line they carry.")
    var separateEnclosures = false

    func run() throws {
        try guarded {
            let g = try input.parse()
            let map = try store.open()
            let hits = try map.engine.nearest(
                to: g.geometry, crs: g.crs, k: k, maxDistance: maxDistance ?? .infinity, perLayer: perLayer,
                filter: filter.filter(map.engine), enclosures: separateEnclosures ? .separate : .grouped)
            try HitOutput.print(hits, query: "nearest k=\(k)\(perLayer ? " per layer" : "")", engine: map.engine, format: output.format)
            return ExitStatus.ok
        }
    }
}

/// `subterra intersects`: pipes crossing, touching or inside a geometry.
struct IntersectsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "intersects",
        abstract: "Pipes that cross, touch or lie inside a geometry, decided exactly.",
        discussion: """
            Examples:
              subterra intersects 'POLYGON ((636800 3140140, 636830 3140140, 636830 3140160, 636800 3140160, 636800 3140140))' --store Datasets/sample
              subterra intersects @area.geojson --layer DL --format geojson --store out/city.gpkg > cut.geojson
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var input: GeometryOptions
    @OptionGroup var filter: FilterOptions
    @OptionGroup var output: OutputOptions

    @Flag(name: .long, help: "Report cable beds, sleeves and casings as hits of their own, not with the line they carry.")
    var separateEnclosures = false

    func run() throws {
        try guarded {
            let g = try input.parse()
            let map = try store.open()
            let hits = try map.engine.intersecting(
                g.geometry, crs: g.crs, filter: filter.filter(map.engine), allParts: false,
                enclosures: separateEnclosures ? .separate : .grouped)
            try HitOutput.print(hits, query: "intersects", engine: map.engine, format: output.format)
            return ExitStatus.ok
        }
    }
}

/// `subterra within`: pipes within a distance (a buffer query, answered by exact distances).
struct WithinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "within",
        abstract: "Pipes within a distance of a geometry (buffer query), nearest first.",
        discussion: """
            The distance is measured exactly to each pipe centreline; the buffer polygon is only drawn, never used to decide.

            Examples:
              subterra within 'LINESTRING (636600 3140210, 636700 3140220)' --distance 2.5 --store Datasets/sample
              subterra within 'POINT (121.37 28.37)' --crs EPSG:4326 --distance 10 --owner 'Wenling Gas' --format json --store out/city.gpkg
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var input: GeometryOptions
    @OptionGroup var filter: FilterOptions
    @OptionGroup var output: OutputOptions

    @Option(name: .long, help: ArgumentHelp("Search distance, metres (inclusive).", valueName: "metres"))
    var distance: Double

    @Flag(name: .long, help: "Report cable beds, sleeves and casings as hits of their own, not with the line they carry.")
    var separateEnclosures = false

    func run() throws {
        try guarded {
            let g = try input.parse()
            let map = try store.open()
            let hits = try map.engine.within(
                distance: distance, of: g.geometry, crs: g.crs, filter: filter.filter(map.engine), allParts: false,
                enclosures: separateEnclosures ? .separate : .grouped)
            try HitOutput.print(hits, query: "within \(Fmt.m(distance)) m", engine: map.engine, format: output.format)
            return ExitStatus.ok
        }
    }
}
