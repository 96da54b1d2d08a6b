import SubterraGeometry

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// geojson-parse: parse-only measure of Subterra's streaming GeoJSON reader, the Subterra side
/// of `Benchmarks/geojson-vs-gdal.sh`.
///
///     geojson-parse FILE.geojson
///
/// Streams every feature of FILE through `GeoJSON.forEachFeature(inFile:)` (memory-mapped,
/// one feature's values alive at a time; geometry and properties fully decoded) and prints the
/// feature and vertex counts, so the work cannot be optimised away and the counts can be
/// compared with `ogrinfo`'s. Nothing is indexed, transformed or stored. Exit status 2 with one
/// line on stderr for a parse error (path, feature index, byte offset).
/// One line on stderr (fd 2: the C `stderr` global is not concurrency-safe to touch) and exit 2.
func fail(_ message: String) -> Never {
    var line = Array((message + "\n").utf8)
    _ = line.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let args = CommandLine.arguments
guard args.count == 2, !args[1].hasPrefix("-") else { fail("usage: geojson-parse FILE.geojson") }

/// Vertex count of a geometry, parts included.
func vertices(_ g: Geometry) -> Int {
    switch g {
    case .point: 1
    case .lineString(let l): l.points.count
    case .polygon(let p): p.holes.reduce(p.exterior.points.count) { $0 + $1.points.count }
    case .multiPoint(let ps): ps.count
    case .multiLineString(let ls): ls.reduce(0) { $0 + $1.points.count }
    case .multiPolygon(let ps): ps.reduce(0) { $0 + vertices(.polygon($1)) }
    case .collection(let gs): gs.reduce(0) { $0 + vertices($1) }
    }
}

var features = 0, points = 0, propertyMembers = 0
do {
    _ = try GeoJSON.forEachFeature(inFile: args[1]) { _, f in
        features += 1
        if let g = f.geometry { points += vertices(g) }
        propertyMembers += f.properties?.keys.count ?? 0
    }
} catch {
    fail("geojson-parse: \(args[1]): \(error)")
}
print("\(features) features, \(points) vertices, \(propertyMembers) property values")
