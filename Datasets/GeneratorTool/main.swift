import Foundation
import SubterraDatasets
import SubterraModel

/// subterra-gen: writes a deterministic Wenling utility district.
///
///     subterra-gen --segments 3000 --seed 42 --out Datasets/sample --format both [--sites]
///
/// Kept to plain argument parsing: SubterraDatasets is a data tool and the root package's
/// ArgumentParser dependency belongs to the `subterra` CLI.
let usage = """
    usage: subterra-gen --segments N --seed S --out DIR [--format geojson|survey-csv|both] [--sites] [--stats]
           subterra-gen --segments N --seed S --out DIR --geometry-only
      --segments N   exact number of pipe segments (1 ... 100000000)
      --seed S       PRNG seed (unsigned 64-bit); same seed => byte-identical files
      --out DIR      output directory (created if missing)
      --format F     geojson (segments/points.geojson), survey-csv (segments/points.csv) or both (default)
      --sites        also write dig-sites.geojson and routes.geojson (needs the district in memory)
      --stats        print counts per layer
      --geometry-only  write only segments.f64: N x (x0, y0, x1, y1) little-endian Float64, the
                     StreetSegments fast path (same coordinates as the full district's segments)
    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("subterra-gen: " + message + "\n" + usage + "\n").utf8))
    exit(2)
}

var segments: Int? = nil
var seed: UInt64? = nil
var out: String? = nil
var format = DistrictFormat.both
var sites = false
var stats = false
var geometryOnly = false
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    func value() -> String {
        guard let v = args.popFirst() else { fail("\(a) needs a value") }
        return v
    }
    switch a {
    case "--segments":
        let v = value()
        guard let n = Int(v), n >= 1, n <= 100_000_000 else { fail("--segments '\(v)' must be an integer 1...100000000") }
        segments = n
    case "--seed":
        let v = value()
        guard let s = UInt64(v) else { fail("--seed '\(v)' must be an unsigned 64-bit integer") }
        seed = s
    case "--out": out = value()
    case "--format":
        let v = value()
        guard let f = DistrictFormat(rawValue: v) else { fail("--format '\(v)' must be geojson, survey-csv or both") }
        format = f
    case "--sites": sites = true
    case "--stats": stats = true
    case "--geometry-only": geometryOnly = true
    case "-h", "--help":
        print(usage)
        exit(0)
    default: fail("unknown argument '\(a)'")
    }
}
guard let segments, let seed, let out else { fail("--segments, --seed and --out are required") }

if geometryOnly {
    let clock = ContinuousClock()
    let start = clock.now
    let segs = StreetSegments.generate(count: segments, seed: seed)
    let generated = clock.now - start
    do {
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        let path = out + "/segments.f64"
        var data = Data(capacity: segs.count * 32)
        for s in segs {
            for v in [s.x0, s.y0, s.x1, s.y1] { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        guard FileManager.default.createFile(atPath: path, contents: data) else { fail("cannot write \(path)") }
        print("subterra-gen: generated \(segs.count) segments in \(generated), wrote \(path)")
    } catch {
        FileHandle.standardError.write(Data("subterra-gen: \(error)\n".utf8))
        exit(1)
    }
    exit(0)
}

do {
    let generator = DistrictGenerator(segments: segments, seed: seed)
    let (ns, np) = try DistrictFiles.write(generator, to: out, format: format)
    print("subterra-gen: wrote \(ns) segments and \(np) points to \(out) (\(format.rawValue), seed \(seed))")
    if sites || stats {
        let district = generator.district()
        if stats {
            var perLayer: [LayerCode: Int] = [:]
            for s in district.network.segments { perLayer[s.layer, default: 0] += 1 }
            for (layer, n) in perLayer.sorted(by: { $0.key < $1.key }) { print("  \(layer): \(n)") }
            let e = district.extent
            print("  extent: E \(e.minX)...\(e.maxX), N \(e.minY)...\(e.maxY)")
        }
        if sites {
            try SampleSites.write(for: district, to: out)
            print("subterra-gen: wrote dig-sites.geojson and routes.geojson")
        }
    }
} catch {
    FileHandle.standardError.write(Data("subterra-gen: \(error)\n".utf8))
    exit(1)
}
