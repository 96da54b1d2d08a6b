import ArgumentParser
import Foundation
import SubterraGDAL
import SubterraModel

/// The reader `subterra import --format` asks for; without it the file's extension decides.
enum ImportFormat: String, CaseIterable, ExpressibleByArgument {
    case geojson, csv, gpkg
    /// Through GDAL (SubterraGDAL): any vector format GDAL reads, a foreign GeoPackage included.
    case gdal, shp, dbf, dxf, gml, kml, gdb

    /// Extensions read through GDAL when no `--format` is given (`.gpkg` stays native: a
    /// Subterra store is read whole, other GeoPackages by their feature tables).
    static let gdalExtensions: Set<String> = ["shp", "dbf", "dxf", "gml", "kml", "kmz", "gdb"]

    /// Whether `path` goes through GDAL under `format` (nil: by its extension).
    static func usesGDAL(_ path: String, format: ImportFormat?) -> Bool {
        guard let format else {
            return gdalExtensions.contains(URL(fileURLWithPath: path).pathExtension.lowercased())
        }
        return ![.geojson, .csv, .gpkg].contains(format)
    }
}

/// Import sources read through GDAL for `subterra import`.
enum GDALSources {
    /// The sources of one GDAL-readable file: the named `layer`, or with `content` the layer
    /// fitting it, or else one source per layer holding points or segments (a FileGDB or
    /// GeoPackage with a point and a line feature class gives two). A file whose layers say
    /// nothing (a DXF's mixed entities) holds segments.
    static func sources(
        _ path: String, content: ImportSource.Content?, layer: String?, encoding: String?,
        mapping: (ImportSource.Content) -> FieldMapping
    ) throws -> [ImportSource] {
        func source(_ c: ImportSource.Content, _ layer: String?) throws -> ImportSource {
            do { return try GDALReader.source(path: path, content: c, mapping: mapping(c), layer: layer, encoding: encoding) } catch {
                throw CLIError(error)
            }
        }
        let layers: [GDALReader.LayerInfo]
        do { layers = try GDALReader.layers(path: path, encoding: encoding) } catch { throw CLIError(error) }
        if let layer {
            let c = content ?? layers.first { $0.name == layer }?.content ?? .segments
            return [try source(c, layer)]
        }
        if let content { return [try source(content, nil)] }
        let typed = layers.filter { $0.content != nil }
        if typed.count <= 1 || layers.count == 1 { return [try source(typed.first?.content ?? .segments, nil)] }
        return try typed.map { try source($0.content ?? .segments, $0.name) }
    }
}
