import Foundation

/// Number formatting for tables, labels and SVG: fixed decimals, `-` for unknown.
enum Fmt {
    /// Metres with two decimals (centimetre, the survey's resolution), `"-"` when unknown;
    /// magnitudes of 10^9 m and more (a "cover everything" query distance) in `%g` form, so a
    /// distance of 1e308 prints as `1e+308`, not as 309 digits.
    static func m(_ v: Double?) -> String {
        guard let v, v.isFinite else { return "-" }
        return abs(v) >= 1e9 ? String(format: "%g", v) : String(format: "%.2f", v)
    }

    /// A depth in metres as ``m(_:)``; when no depth was surveyed but the network states a
    /// nominal one, that one marked as such (`~0.80 nominal`), so it is never read as surveyed.
    static func depth(_ v: Double?, nominal: Double?) -> String {
        if v == nil, let n = nominal, n.isFinite { return "~\(m(n)) nominal" }
        return m(v)
    }

    /// The file name of a feature's source file (``PipeSegment/sourceFile``) for tables and
    /// labels, where the whole path is too wide: `kabels.geojson`; `"-"` when not known.
    static func file(_ path: String?) -> String {
        guard let path, !path.isEmpty else { return "-" }
        return URL(fileURLWithPath: path).lastPathComponent
    }

    /// Map coordinates to the millimetre.
    static func coord(_ v: Double) -> String { String(format: "%.3f", v) }

    /// A number for SVG attributes: two decimals are sub-pixel, and shorter files parse faster.
    static func px(_ v: Double) -> String {
        let r = (v * 100).rounded() / 100
        return r == r.rounded() ? String(Int(r)) : String(format: "%.2f", r)
    }
}

/// A plain-text table with aligned columns, for the default output format.
///
/// Widths are terminal columns (`DisplayWidth`): owner names, roads and remarks as surveyed are
/// often Chinese, and a Han character takes two columns.
struct TextTable {
    var headers: [String]
    var rows: [[String]] = []
    /// Columns to right-align (numbers).
    var numeric: Set<Int> = []

    init(_ headers: [String], numeric: Set<Int> = []) {
        self.headers = headers
        self.numeric = numeric
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    func render() -> String {
        var widths = headers.map(DisplayWidth.of)
        for r in rows {
            for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], DisplayWidth.of(c)) }
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { i, c in
                let pad = String(repeating: " ", count: max(0, widths[i] - DisplayWidth.of(c)))
                return numeric.contains(i) ? pad + c : c + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var out = [line(headers), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}
