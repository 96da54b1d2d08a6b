import Foundation
import SubterraGeometry
import SubterraPROJ

/// The data families of the side-by-side run. Every peer indexes the same segments of a family
/// and passes the same correctness gate on it; queries (`QuerySet.make`) are anchored on the
/// family's own segments.
public enum DataFamily: String, CaseIterable, Sendable, Codable {
    /// The project's district generator (`SegmentSet.streets`): street grid, cross-section
    /// offsets, shared end points.
    case streets
    /// Segments with uniformly random centres, directions and lengths (`SegmentSet.uniform`).
    case uniform
    /// Segments in Gaussian clusters of varied size and spread (`SegmentSet.clustered`).
    case clustered
    /// A real network, the Vermont sewer lines, tiled with offsets (`SegmentSet.vermont`).
    case vermont

    /// Parses a comma-separated list such as "streets,vermont"; "all" means every family.
    public static func parseList(_ s: String) -> Result<[DataFamily], DataFamilyError> {
        var out = [DataFamily]()
        for part in s.split(separator: ",").map({ String($0).trimmingCharacters(in: .whitespaces) }) {
            if part == "all" {
                out += allCases.filter { !out.contains($0) }
            } else if let f = DataFamily(rawValue: part) {
                if !out.contains(f) { out.append(f) }
            } else {
                return .failure(DataFamilyError(
                    "unknown data family '\(part)'; use \(allCases.map(\.rawValue).joined(separator: ", ")) or all"))
            }
        }
        return out.isEmpty ? .failure(DataFamilyError("no data family named")) : .success(out)
    }
}

/// A data family that cannot be made (the Vermont files missing or unreadable).
public struct DataFamilyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension SegmentSet {
    /// Segments per square kilometre of the street family at 10^6 segments (count over the area
    /// of its bounding box), so the synthetic families are as dense as a street network overall.
    public static let streetLikeDensityPerKm2 = 2_600.0

    /// Lower-left corner of the synthetic families' square: the street family's false-origin
    /// magnitude (EPSG:4549 metres), so every family has coordinates of similar size.
    static let syntheticOrigin = (x: 625_000.0, y: 3_134_000.0)

    /// Side of the square that holds `count` segments at `streetLikeDensityPerKm2`, metres.
    static func syntheticSide(_ count: Int) -> Double {
        (Double(max(count, 1)) / streetLikeDensityPerKm2).squareRoot() * 1000
    }

    /// `count` segments of `family`, deterministically from `seed`.
    /// - Parameter vermontDirectory: where the Vermont `*L.geojson` files are (see
    ///   `vermontDirectory(explicit:)`); used only by `.vermont`.
    /// - Throws: `DataFamilyError` when the Vermont files are missing or unreadable.
    public static func family(_ family: DataFamily, count: Int, seed: UInt64, vermontDirectory: String? = nil)
        throws(DataFamilyError) -> SegmentSet
    {
        switch family {
        case .streets: return streets(count: count, seed: seed)
        case .uniform: return uniform(count: count, seed: seed)
        case .clustered: return clustered(count: count, seed: seed)
        case .vermont:
            return try vermont(count: count, network: VermontNetwork.load(directory: SegmentSet.vermontDirectory(explicit: vermontDirectory)))
        }
    }

    /// A segment with centre `(cx, cy)`, a uniformly random direction and a length uniform in
    /// 2–60 m (a pipe run between fittings).
    static func randomSegment(around cx: Double, _ cy: Double, _ rng: inout SplitMix64, into c: inout [Double]) {
        let a = rng.uniform(0, 2 * Double.pi), half = rng.uniform(2, 60) / 2
        let dx = half * cos(a), dy = half * sin(a)
        c.append(cx - dx)
        c.append(cy - dy)
        c.append(cx + dx)
        c.append(cy + dy)
    }

    /// Uniform random segments: centres uniform in a square sized for street-like density
    /// (`streetLikeDensityPerKm2`), directions uniform, lengths uniform in 2–60 m. No shared end
    /// points and no alignment: the opposite of the street family.
    /// - Complexity: O(count).
    public static func uniform(count: Int, seed: UInt64) -> SegmentSet {
        var rng = SplitMix64(seed: seed ^ 0x0A11_F0A4_0000_0001)
        let side = syntheticSide(count), o = syntheticOrigin
        var c = [Double]()
        c.reserveCapacity(4 * count)
        for _ in 0..<count {
            randomSegment(around: o.x + rng.uniform(0, side), o.y + rng.uniform(0, side), &rng, into: &c)
        }
        return SegmentSet(coordinates: c)
    }

    /// Clustered segments: about one Gaussian cluster per 1,000 segments, centres uniform in the
    /// uniform family's square, cluster sizes log-normal (a few towns hold many segments, most
    /// hold few), spreads (standard deviation) log-uniform in 40–400 m; each segment has a
    /// Gaussian centre around its cluster's and a uniform direction and 2–60 m length. Dense
    /// cores with heavily overlapping boxes, empty space between clusters.
    /// - Complexity: O(count).
    public static func clustered(count: Int, seed: UInt64) -> SegmentSet {
        var rng = SplitMix64(seed: seed ^ 0xC1A5_7E4D_0000_0003)
        let side = syntheticSide(count), o = syntheticOrigin
        let k = max(1, count / 1000)
        var weights = (0..<k).map { _ in exp(1.2 * gaussian(&rng)) }
        let total = weights.reduce(0, +)
        for i in weights.indices { weights[i] /= total }
        // Whole counts per cluster, summing to `count`: floors, then the remainder one by one.
        var sizes = weights.map { Int((Double(count) * $0).rounded(.down)) }
        var left = count - sizes.reduce(0, +)
        var i = 0
        while left > 0 {
            sizes[i % k] += 1
            left -= 1
            i += 1
        }
        var c = [Double]()
        c.reserveCapacity(4 * count)
        for size in sizes {
            let cx = o.x + rng.uniform(0, side), cy = o.y + rng.uniform(0, side)
            let sigma = exp(rng.uniform(log(40), log(400)))
            for _ in 0..<size {
                randomSegment(around: cx + sigma * gaussian(&rng), cy + sigma * gaussian(&rng), &rng, into: &c)
            }
        }
        return SegmentSet(coordinates: c)
    }

    /// A standard normal deviate (Box–Muller; one of the pair is discarded, for simplicity).
    static func gaussian(_ rng: inout SplitMix64) -> Double {
        let u1 = max(rng.uniform(0, 1), 0x1.0p-53), u2 = rng.uniform(0, 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }

    /// The gap between Vermont tiles, metres: each copy is shifted by the network's extent plus
    /// this, so no two copies overlap and a 5 m query never sees two.
    public static let vermontTileGap = 1_000.0

    /// `count` segments from the Vermont sewer network: copies of `network` (tile 0 is the
    /// network itself) shifted on a grid of `ceil(sqrt(tiles))` columns with a step of the
    /// network's extent plus `vermontTileGap` on each axis, the last copy cut short to make
    /// exactly `count`. Deterministic: the network's segments in file order, tile after tile.
    /// - Complexity: O(count).
    public static func vermont(count: Int, network: VermontNetwork) -> SegmentSet {
        let base = network.segments.coordinates, m = network.segments.count
        guard m > 0 else { return SegmentSet(coordinates: []) }
        let tiles = (count + m - 1) / m
        let cols = max(1, Int(Double(tiles).squareRoot().rounded(.up)))
        let stepX = network.extent.width + vermontTileGap, stepY = network.extent.height + vermontTileGap
        var c = [Double]()
        c.reserveCapacity(4 * count)
        var t = 0
        while c.count < 4 * count {
            let dx = Double(t % cols) * stepX, dy = Double(t / cols) * stepY
            for i in 0..<min(m, count - c.count / 4) {
                c.append(base[4 * i] + dx)
                c.append(base[4 * i + 1] + dy)
                c.append(base[4 * i + 2] + dx)
                c.append(base[4 * i + 3] + dy)
            }
            t += 1
        }
        return SegmentSet(coordinates: c)
    }

    /// Where the Vermont sewer files are: `explicit` when given (`subterra-compare run --vermont
    /// DIR`), else the `SUBTERRA_VERMONT_SEWER` environment variable, else
    /// `../shared/datasets/vermont-sewer` relative to the repository checkout this package is in
    /// (found from this source file's path, so tests and the nightly find it from any directory).
    public static func vermontDirectory(explicit: String? = nil) -> String {
        if let explicit { return explicit }
        if let env = ProcessInfo.processInfo.environment["SUBTERRA_VERMONT_SEWER"], !env.isEmpty { return env }
        // .../<repo>/Benchmarks/Sources/BenchCore/DataFamilies.swift -> .../<repo>
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent("../shared/datasets/vermont-sewer").standardized.path
    }
}

/// The Vermont sewer lines (VTANR, MIT licence, `../shared/datasets/vermont-sewer/*L.geojson`:
/// Barre, Colchester, Montpelier), projected from WGS84 to UTM zone 18N (EPSG:32618) with
/// SubterraPROJ and split into straight segments.
public struct VermontNetwork: Sendable {
    /// The network's segments: files in name order, features in file order, consecutive vertex
    /// pairs of each line; zero-length pairs (repeated vertices) are dropped.
    public var segments: SegmentSet
    /// Bounding box of `segments`, metres.
    public var extent: Envelope
    /// The files read, in order.
    public var files: [String]

    /// Reads every `*L.geojson` file in `directory`.
    /// - Throws: `DataFamilyError` naming the directory and how to point at it when there are no
    ///   such files, or the file and reason when one cannot be read or projected.
    public static func load(directory: String) throws(DataFamilyError) -> VermontNetwork {
        let hint = "pass --vermont DIR or set SUBTERRA_VERMONT_SEWER; the default is ../shared/datasets/vermont-sewer "
            + "next to the repository checkout"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
            .filter { $0.hasSuffix("L.geojson") }.sorted()
        guard !names.isEmpty else {
            throw DataFamilyError("vermont family: no *L.geojson sewer-line files in \(directory) (\(hint))")
        }
        let toUTM: Transformer
        do {
            toUTM = try Transformer(from: "EPSG:4326", to: "EPSG:32618")
        } catch {
            throw DataFamilyError("vermont family: cannot create the EPSG:4326 → EPSG:32618 transformation: \(error)")
        }
        var c = [Double]()
        var files = [String]()
        for name in names {
            let path = directory + "/" + name
            var lines = [[Point]]()
            do {
                _ = try GeoJSON.forEachFeature(inFile: path) { _, feature in
                    switch feature.geometry {
                    case .lineString(let l)?: lines.append(l.points)
                    case .multiLineString(let ls)?: lines += ls.map(\.points)
                    default: break
                    }
                }
                for line in lines {
                    var x = line.map(\.x), y = line.map(\.y)
                    try toUTM.transform(x: &x, y: &y)
                    for i in 1..<max(x.count, 1) where x[i - 1] != x[i] || y[i - 1] != y[i] {
                        c += [x[i - 1], y[i - 1], x[i], y[i]]
                    }
                }
            } catch {
                throw DataFamilyError("vermont family: cannot read \(path): \(error)")
            }
            files.append(path)
        }
        var e = Envelope.empty
        for i in stride(from: 0, to: c.count, by: 2) { e.expand(toInclude: Point(c[i], c[i + 1])) }
        return VermontNetwork(segments: SegmentSet(coordinates: c), extent: e, files: files)
    }
}

/// `data` and `queries` in the layout `PeerForms/forms-data.h` reads (little-endian): u64 n,
/// n × (x0, y0, x1, y1); u64 m, m windows, m points, m radii, then m polygons as a u64 vertex
/// count and that many (x, y) pairs.
public func dumpBytes(_ data: SegmentSet, _ q: QuerySet) -> [UInt8] {
    var b = [UInt8]()
    b.reserveCapacity(8 * (2 + data.coordinates.count + q.points.count * 20))
    func u64(_ v: Int) { withUnsafeBytes(of: UInt64(v).littleEndian) { b += $0 } }
    func f64(_ v: Double) { withUnsafeBytes(of: v.bitPattern.littleEndian) { b += $0 } }
    u64(data.count)
    data.coordinates.forEach(f64)
    u64(q.points.count)
    for w in q.windows { [w.0, w.1, w.2, w.3].forEach(f64) }
    for p in q.points { [p.0, p.1].forEach(f64) }
    q.radii.forEach(f64)
    for ring in q.polygons {
        u64(ring.count / 2)
        ring.forEach(f64)
    }
    return b
}

/// Writes `bytes` to `path`, replacing it.
public func writeBinary(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}
