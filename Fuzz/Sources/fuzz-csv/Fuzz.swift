import FuzzSupport
import SubterraGeometry
import SubterraModel

/// CSV survey tables: the CSV reader never crashes and reads back what it read when the cells are
/// written again; the bytes before the first NUL, as a point table, and after it, as a segment
/// table, import with the sample's mappings without crashing, every imported segment validates,
/// and an import the strict policy accepts gives the same records under the lenient one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCSV(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = fuzzBytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    if let rows = try? CSVReader.parse(text, file: "fuzz.csv") {
        let again = try? CSVReader.parse(csv(rows.map(\.cells)), file: "again.csv")
        invariant(again?.map(\.cells) == rows.map(\.cells), "CSV cells change when written and read again")
    }
    _ = try? CSVReader.records(file: "fuzz.csv", text: text, geometryColumn: "wkt")
    let cut = bytes.firstIndex(of: 0) ?? bytes.count
    let sources = surveySources(
        points: scratchFile("points.csv", bytes[..<cut]),
        segments: scratchFile("segments.csv", bytes[min(cut + 1, bytes.count)...]), mappings: districtMappings)
    let lenient = try? Importer.read(sources, options: ImportOptions(policy: .lenient))
    for s in lenient?.segments ?? [] {
        invariant((try? s.validate()) != nil, "imported segment \(s.id) does not validate")
    }
    if let strict = try? Importer.read(sources, options: ImportOptions(policy: .strict)) {
        invariant(lenient?.segments == strict.segments && lenient?.points == strict.points,
                  "lenient and strict imports of an error-free table differ")
    }
    return 0
}

/// Rows as CSV, quoting every cell that needs it (and any with a byte-order mark, which the
/// reader drops at the start of a file). RFC 4180 quoting is SQL identifier quoting: wrap in
/// `"` and double each `"` scalar (scalars: a `"` before a combining mark is one `Character`).
func csv(_ rows: [[String]]) -> String {
    rows.map { cells in
        cells.map { c in
            c.unicodeScalars.contains(where: { ",\"\r\n\u{FEFF}".unicodeScalars.contains($0) })
                ? GeoPackage.quote(c) : c
        }.joined(separator: ",")
    }.joined(separator: "\n")
}

/// The entry point SwiftPM links this executable with: libFuzzer's driver on `fuzzCSV`.
@_cdecl("fuzz_csv_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc, argv, fuzzCSV) { _ = districtMappings }
}
