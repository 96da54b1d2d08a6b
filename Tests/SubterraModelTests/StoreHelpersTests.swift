import Foundation
import SubterraDatasets
import SubterraGeometry
@testable import SubterraModel

/// A fresh temporary directory per call, removed by the caller with `cleanup`.
func storeTempDir() -> URL {
    let u = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-store-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: u, withIntermediateDirectories: true)
    return u
}

/// `segments` with ``PipeSegment/sourceFile`` cleared: for comparing the same features read
/// from different files, where that one field must differ.
func withoutSourceFiles(_ segments: [PipeSegment]) -> [PipeSegment] {
    segments.map { var s = $0; s.sourceFile = nil; return s }
}

/// Deterministic random numbers (the datasets generator's SplitMix64) so failures reproduce.
typealias StoreRNG = SplitMix64

extension SplitMix64 {
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func range(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }
}

/// A random network near Wenling in EPSG:4549 (x = easting ~ 5.0e5, y = northing ~ 3.38e6):
/// `n` segments in chains of points, with every attribute kind filled on some records.
func randomNetwork(segments n: Int, seed: UInt64) -> (segments: [PipeSegment], points: [FeaturePoint]) {
    var rng = StoreRNG(seed: seed)
    let layers: [LayerCode] = [.water, .drainage, .gas, .heat, .power, .telecom]
    var points: [FeaturePoint] = []
    var segments: [PipeSegment] = []
    var prev: FeaturePoint?
    for i in 0..<n {
        let layer = layers[i % layers.count]
        if prev == nil || i % 7 == 0 {
            let p = FeaturePoint(
                number: PointNumber("\(layer)\(points.count)"), layer: layer, kind: .manhole,
                position: Point(rng.range(500_000, 503_000), rng.range(3_378_000, 3_381_000)),
                groundElevation: rng.range(3, 6), depth: rng.range(0.5, 3))
            points.append(p)
            prev = p
        }
        let a = prev!
        let b = FeaturePoint(
            number: PointNumber("\(layer)\(points.count)"), layer: layer, kind: i % 3 == 0 ? .valve : .bend,
            position: Point(a.position.x + rng.range(-40, 40), a.position.y + rng.range(-40, 40), i % 5 == 0 ? 4.5 : nil),
            groundElevation: i % 4 == 0 ? nil : rng.range(3, 6), depth: rng.range(0.5, 3), owner: "Owner \(i % 3)",
            road: i % 2 == 0 ? "人民路" : nil, status: "existing")
        points.append(b)
        let section: PipeSection? = i % 3 == 0 ? .circular(diameterMM: 300) : i % 3 == 1 ? .rectangular(widthMM: 800, heightMM: 600) : nil
        let line = try! LineString([a.position, Point(b.position.x, b.position.y, b.position.z)])
        segments.append(PipeSegment(
            id: Int64(i + 1), layer: layer, subtype: layer == .drainage ? .sewage : nil,
            startPoint: a.number, endPoint: b.number, geometry: line,
            startDepth: rng.range(0.5, 3), endDepth: i % 6 == 0 ? nil : rng.range(0.5, 3),
            startElevation: rng.range(1, 4), endElevation: rng.range(1, 4),
            elevationReference: i % 2 == 0 ? .top : .bottom, section: section,
            ductHoles: layer == .telecom ? 16 : nil, ductHolesOccupied: layer == .telecom ? 4 : nil,
            cableCount: layer == .power ? 3 : nil, material: i % 2 == 0 ? "PE" : "DI", burial: "ZM",
            gasPressureMPa: layer == .gas ? 0.3 : nil, voltageKV: layer == .power ? 10 : nil,
            owner: "城投", road: "人民路", layingDate: "2015-06", status: "existing",
            accuracy: i % 4 == 0 ? PositionalAccuracy(horizontalM: 0.1, verticalM: 0.05, qualityLevel: .b) : nil))
        prev = b
    }
    return (segments, points)
}

/// Runs a program, returning exit status and combined output; nil when it cannot start.
func runTool(_ path: String, _ args: [String]) -> (status: Int32, output: String)? {
    guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: path)
    p.arguments = args
    let pipe = Pipe()
    p.standardOutput = pipe
    p.standardError = pipe
    do { try p.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}
