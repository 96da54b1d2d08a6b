import CFuzzerDriver
import Foundation
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// Stops the fuzzed process when an invariant of the code under test does not hold, so libFuzzer
/// records the input as a crash (`crash-<sha1>`) and prints `message` with it.
///
/// `abort()` is the point here: this module is linked only into the fuzz targets, never into the
/// library or the `subterra` tool.
public func invariant(_ condition: Bool, _ message: @autoclosure () -> String) {
    if condition { return }
    let text = "invariant failed: " + message() + "\n"
    _ = text.withCString { write(2, $0, strlen($0)) }
    abort()
}

/// The fuzz input as bytes.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: data == nil ? 0 : size))
}

/// The limits a target parses with: the defaults for even-sized inputs, small ones for odd
/// sizes, so the limit paths are reached by small inputs too.
public func fuzzLimits(_ size: Int) -> ParseLimits {
    size % 2 == 0 ? .default : ParseLimits(maxDepth: 4, maxVertices: 16, maxBytes: 512)
}

/// `limits` without the byte limit, for reading back what was written (a writer may spell a
/// number longer than the input did).
public func relaxed(_ limits: ParseLimits) -> ParseLimits {
    var l = limits
    l.maxBytes = .max
    return l
}

/// Whether every vertex has a z or none has: then the writers keep every coordinate (they write
/// z only when all vertices have one).
public func uniformZ(_ g: Geometry) -> Bool {
    var with = 0, without = 0
    g.forEachPoint { if $0.z == nil { without += 1 } else { with += 1 } }
    return with == 0 || without == 0
}

/// The repository checkout this target was built from (for sample files and mappings).
public let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A private scratch directory for files the importers must read from disk.
public let scratchDirectory: URL = {
    let base = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
    let dir = URL(fileURLWithPath: base).appendingPathComponent("subterra-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}()

/// Writes `bytes` to `name` in the scratch directory and returns its path.
public func scratchFile(_ name: String, _ bytes: some Collection<UInt8>) -> String {
    let url = scratchDirectory.appendingPathComponent(name)
    invariant((try? Data(bytes).write(to: url)) != nil, "cannot write scratch file \(url.path)")
    return url.path
}

/// Runs libFuzzer with `target`; what each target's SwiftPM entry point (`<module>_main`) calls.
///
/// `setUp` runs once before the driver starts: a target builds what every input shares there
/// (an engine over the sample district, parsed mappings), not in a lazy global that the first
/// input would pay for. libFuzzer's per-input timeout (scripts/fuzz.sh) must measure inputs, not
/// start-up: on a loaded 2-core CI box under ASan the sample district's import took over 10 s
/// inside the first (empty) input of fuzz-batch, which was then reported as a timeout.
public func runFuzzer(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
    setUp: () -> Void = {}
) -> CInt {
    var argc = argc
    var argv = argv
    // One-time PROJ set-up: opening proj.db and projecting the default map CRS's area of use
    // (cached afterwards) takes about 0.1 s, but seconds on a loaded CI box next to ASan.
    _ = try? CoordinateSystem("EPSG:4549").areaBounds(check: .standard)
    setUp()
    return LLVMFuzzerRunDriver(&argc, &argv, target)
}

/// The sample district's survey-table mappings (`Fuzz/Resources/district-*.json`, the same
/// fields as the `subterra` tool's built-in ones), as the CSV target imports with.
public let districtMappings: (points: FieldMapping, segments: FieldMapping) = {
    func load(_ name: String) -> FieldMapping {
        let url = repositoryRoot.appendingPathComponent("Fuzz/Resources/\(name)")
        do { return try FieldMapping.load(contentsOf: url) } catch {
            invariant(false, "cannot load \(url.path): \(error)")
            return FieldMapping(fields: [:])
        }
    }
    return (load("district-points.json"), load("district-segments.json"))
}()

/// Both survey tables as one source list: the point table at `points`, the segments at `segments`.
public func surveySources(points: String, segments: String, mappings: (points: FieldMapping, segments: FieldMapping))
    -> [ImportSource]
{
    [
        ImportSource(path: points, format: .csv(geometryColumn: nil), content: .points, mapping: mappings.points),
        ImportSource(path: segments, format: .csv(geometryColumn: nil), content: .segments, mapping: mappings.segments),
    ]
}
