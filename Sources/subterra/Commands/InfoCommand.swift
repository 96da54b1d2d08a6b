import ArgumentParser
import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// `subterra info`: what a store holds.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "What a store holds: layers, counts, lengths, extent, CRS, owners and data-quality warnings.",
        discussion: """
            Examples:
              subterra info --store out/city.gpkg
              subterra info --store Datasets/sample --format json
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct LayerInfo: Codable {
        var code: String
        var name: String
        var colour: String
        var segments: Int
        var lengthM: Double
    }

    struct OwnerInfo: Codable {
        var owner: String
        var segments: Int
        var layers: [String]
    }

    struct Info: Codable {
        var source: String
        var crs: String
        var segments: Int
        /// Pipes and cables: a multi-part line counts once however many segments it has.
        var pipes: Int
        var points: Int
        /// Operators' precaution zones and interest areas.
        var areas: Int
        /// minX, minY, maxX, maxY in the map CRS.
        var extent: [Double]
        /// min lon, min lat, max lon, max lat (nil when the CRS cannot be converted).
        var extentWGS84: [Double]?
        var layers: [LayerInfo]
        var owners: [OwnerInfo]
        /// The files the store's features were imported from, as given to the imports (empty for
        /// a store from before source files were kept); for a map read straight from files, the
        /// files its features came from.
        var sourceFiles: [String]
        /// Checks run on the loaded map, and the last import's quality summary.
        var warnings: [String]
        var metadata: [String: String]
    }

    func run() throws {
        try guarded {
            let opened = try store.open()
            let info = try Self.collect(opened)
            switch output.format {
            case .json: print(try JSONOut.string(info))
            case .geojson:
                let e = info.extent
                let ring = [Point(e[0], e[1]), Point(e[2], e[1]), Point(e[2], e[3]), Point(e[0], e[3]), Point(e[0], e[1])]
                let g: Geometry? = info.segments > 0 ? (try? Polygon(rings: [ring])).map { .polygon($0) } : nil
                var props = HitOutput.properties(info)
                props.append("kind", .string("extent"))
                print(GeoJSON.write(GeoJSONFeatureCollection(
                    features: [GeoJSONFeature(geometry: g, properties: props)], crs: HitOutput.crsMember(info.crs))))
            case .table: print(Self.table(info))
            }
            return ExitStatus.ok
        }
    }

    static func collect(_ opened: OpenedMap) throws -> Info {
        let sum = opened.summary
        let catalog = LayerCatalog.standardWithFibre
        let layers = sum.layers.map { l in
            LayerInfo(
                code: l.code.rawValue, name: catalog[l.code]?.englishName ?? "(not in the standard catalogue)",
                colour: catalog[l.code]?.colour.hex ?? "#800080", segments: l.segments,
                lengthM: (l.lengthM * 100).rounded() / 100)
        }
        let owners = sum.owners.map { OwnerInfo(owner: $0.owner ?? "(unknown owner)", segments: $0.segments, layers: $0.layers.map(\.rawValue)) }
            .sorted { ($1.segments, $0.owner) < ($0.segments, $1.owner) }
        // Computed when the summary was (the snapshot file keeps it): no PROJ transformation
        // is built for a one-shot `info`.
        let extentWGS84 = sum.extentWGS84?.map { ($0 * 1e6).rounded() / 1e6 }
        var warnings: [String] = []
        if sum.withoutDepth > 0 { warnings.append("\(sum.withoutDepth) segments lack a depth or elevation at one end: dig checks treat them as reachable") }
        if sum.withoutOwner > 0 { warnings.append("\(sum.withoutOwner) segments have no owner") }
        let dangling = sum.danglingEnds
        if dangling > 0 { warnings.append("\(dangling) segment ends name a point that is not in the survey") }
        var metadata: [String: String] = [:]
        var sourceFiles: [String] = []
        if let store = opened.store {
            metadata = (try? store.metadata()) ?? [:]
            sourceFiles = try store.sourceFiles()
            if let errs = metadata["subterra.quality.errors"], let warns = metadata["subterra.quality.warnings"],
                errs != "0" || warns != "0" || (metadata["subterra.quality.dropped"] ?? "0") != "0"
            {
                warnings.append("last import: \(errs) errors, \(warns) warnings, \(metadata["subterra.quality.dropped"] ?? "0") dropped (\(metadata["subterra.quality.counts"] ?? ""))")
            }
        } else {
            if let pg = opened.postgis { metadata = (try? pg.metadata()) ?? [:] }
            if let engine = opened.engine as? UtilityEngine {
                // Files read into memory: the files their features name (O(n), as the read was).
                let net = engine.network
                sourceFiles = Set(net.segments.compactMap(\.sourceFile) + net.areas.compactMap(\.sourceFile)).sorted()
            }
            if let q = opened.quality, !q.issues.isEmpty {
                let counts = q.countsByCheck.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue)=\($0.value)" }
                warnings.append("reading the files: \(q.errors.count) errors, \(q.warnings.count) warnings, \(q.dropped.count) dropped (\(counts.joined(separator: ",")))")
            }
        }
        return Info(
            source: opened.source, crs: opened.engine.crs, segments: sum.segments,
            pipes: sum.pipes, points: sum.points, areas: sum.areas, extent: sum.extent,
            extentWGS84: extentWGS84, layers: layers, owners: owners, sourceFiles: sourceFiles, warnings: warnings,
            metadata: metadata)
    }

    static func table(_ i: Info) -> String {
        var out = ["Store       \(i.source)", "CRS         \(i.crs)", "Segments    \(i.segments)"]
        if i.pipes != i.segments { out.append("Pipes       \(i.pipes) (multi-part lines count once)") }
        out.append("Points      \(i.points)")
        if i.areas > 0 { out.append("Areas       \(i.areas) (operators' precaution zones and interest areas)") }
        if i.extent.count == 4 {
            out.append("Extent      E \(Fmt.coord(i.extent[0]))..\(Fmt.coord(i.extent[2])), N \(Fmt.coord(i.extent[1]))..\(Fmt.coord(i.extent[3]))")
        }
        if let w = i.extentWGS84 {
            out.append("            lon \(w[0])..\(w[2]), lat \(w[1])..\(w[3]) (WGS84)")
        }
        out.append("")
        var t = TextTable(["layer", "name", "colour", "segments", "length_m"], numeric: [3, 4])
        for l in i.layers { t.add([l.code, l.name, l.colour, String(l.segments), Fmt.m(l.lengthM)]) }
        out.append(t.render())
        out.append("")
        var o = TextTable(["owner", "segments", "layers"], numeric: [1])
        for x in i.owners { o.add([x.owner, String(x.segments), x.layers.joined(separator: ",")]) }
        out.append(o.render())
        if !i.sourceFiles.isEmpty {
            out.append("")
            out.append("Imported from \(i.sourceFiles.count) file\(i.sourceFiles.count == 1 ? "" : "s"):")
            for f in i.sourceFiles { out.append("  \(f)") }
        }
        out.append("")
        out.append(i.warnings.isEmpty ? "Quality: no warnings." : "Quality warnings:")
        for w in i.warnings { out.append("  - \(w)") }
        return out.joined(separator: "\n")
    }
}
