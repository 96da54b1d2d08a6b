import Foundation
import SubterraGeometry

/// One attribute value as a source file holds it, before mapping.
public enum SourceValue: Hashable, Sendable, CustomStringConvertible {
    case null
    case number(Double)
    case text(String)
    case bool(Bool)

    /// The value as text, nil for null; integers print without a fraction (`3`, not `3.0`).
    public var text: String? {
        switch self {
        case .null: return nil
        case .text(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .number(let v):
            if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
            return String(v)
        }
    }

    /// Whether the value is null or text of only whitespace.
    public var isBlank: Bool {
        switch self {
        case .null: return true
        case .text(let s): return s.allSatisfy(\.isWhitespace)
        default: return false
        }
    }

    public var description: String { text ?? "null" }
}

/// One record of a source file before mapping: where it is, its fields in source order, and its
/// geometry (or why there is none).
public struct SourceRecord: Hashable, Sendable {
    public var location: RecordLocation
    /// Field name → value, in the order the source gives them.
    public var fields: [(String, SourceValue)]
    public var geometry: Geometry?
    /// Why the geometry could not be read, when it could not.
    public var geometryError: String?
    /// The EPSG code the record's own geometry declares (EWKT `SRID=4326;…`), overriding the
    /// file's CRS for this record.
    public var srid: Int32?

    public init(
        location: RecordLocation, fields: [(String, SourceValue)], geometry: Geometry?, geometryError: String? = nil,
        srid: Int32? = nil
    ) {
        self.location = location
        self.fields = fields
        self.geometry = geometry
        self.geometryError = geometryError
        self.srid = srid
    }

    /// The value of field `name`: byte-exact match first, then ASCII case-insensitive.
    ///
    /// Compares UTF-8 bytes without allocating: mappings list several alternative names per
    /// field and most miss, so `lowercased()` here was the largest cost of an import (measured).
    public subscript(name: String) -> SourceValue? {
        // Byte counts first (O(1) for native strings): most names compared differ in length.
        let n = name.utf8.count
        for (k, v) in fields where k.utf8.count == n && k.utf8.elementsEqual(name.utf8) { return v }
        for (k, v) in fields where k.utf8.count == n && Self.equalIgnoringASCIICase(k, name) { return v }
        return nil
    }

    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.elementsEqual(b.utf8) { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A)
        }
    }

    public static func == (a: SourceRecord, b: SourceRecord) -> Bool {
        a.location == b.location && a.geometry == b.geometry && a.geometryError == b.geometryError && a.srid == b.srid
            && a.fields.map(\.0) == b.fields.map(\.0) && a.fields.map(\.1) == b.fields.map(\.1)
    }

    public func hash(into h: inout Hasher) {
        h.combine(location)
        for (k, v) in fields { h.combine(k); h.combine(v) }
    }
}

/// RFC 4180 CSV: comma (or another) separator, double-quoted fields with `""` escapes and
/// embedded newlines, CRLF or LF, an optional UTF-8 byte-order mark.
public enum CSVReader {
    /// One parsed row: its 1-based starting line and its cells.
    public struct Row: Hashable, Sendable {
        public var line: Int
        public var cells: [String]
    }

    /// Parses `text` into rows; blank lines are skipped.
    ///
    /// - Throws: `ImportError` for an unterminated quoted field, naming the line it started on.
    /// - Complexity: O(n) in characters.
    public static func parse(_ text: String, separator: Character = ",", file: String) throws(ImportError) -> [Row] {
        var rows: [Row] = []
        var cells: [String] = []
        var cell = ""
        var inQuotes = false
        var line = 1
        var rowLine = 1
        var quoteLine = 1
        var chars = text.unicodeScalars.makeIterator()
        var pending: Unicode.Scalar? = nil
        var first = true
        func endRow() {
            cells.append(cell)
            cell = ""
            if !(cells.count == 1 && cells[0].isEmpty) { rows.append(Row(line: rowLine, cells: cells)) }
            cells = []
        }
        while let c = pending ?? chars.next() {
            pending = nil
            if first {
                first = false
                if c == "\u{FEFF}" { continue }
            }
            if inQuotes {
                if c == "\"" {
                    let n = chars.next()
                    if n == "\"" { cell.unicodeScalars.append("\"") } else { inQuotes = false; pending = n }
                } else {
                    if c == "\n" { line += 1 }
                    cell.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case "\"" where cell.isEmpty:
                inQuotes = true
                quoteLine = line
            case "\r":
                let n = chars.next()
                if n != "\n" { pending = n }
                endRow()
                line += 1
                rowLine = line
            case "\n":
                endRow()
                line += 1
                rowLine = line
            default:
                if Character(c) == separator { cells.append(cell); cell = "" } else { cell.unicodeScalars.append(c) }
            }
        }
        if inQuotes { throw ImportError("quoted field never closed", file: file, record: quoteLine) }
        if !cell.isEmpty || !cells.isEmpty { endRow() }
        return rows
    }

    /// Reads a CSV file into source records: the first row is the header; each later row is a
    /// record located by its line number. Cells are text; an empty cell is null.
    ///
    /// - Parameter geometryColumn: a column holding WKT (or EWKT); nil for none.
    /// - Throws: `ImportError` for an unreadable file, a missing header or geometry column, or a
    ///   duplicated header name.
    public static func records(
        file: String, text: String, geometryColumn: String?, separator: Character = ","
    ) throws(ImportError) -> [SourceRecord] {
        let rows = try parse(text, separator: separator, file: file)
        guard let header = rows.first else { throw ImportError("file is empty: no header row", file: file) }
        let names = header.cells.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen = Set<String>()
        for n in names where !n.isEmpty && !seen.insert(n).inserted {
            throw ImportError("header names column '\(n)' twice", file: file, record: header.line, field: n)
        }
        var geomIndex: Int?
        if let g = geometryColumn {
            geomIndex = names.firstIndex(of: g) ?? names.firstIndex { $0.lowercased() == g.lowercased() }
            guard geomIndex != nil else {
                throw ImportError("no geometry column '\(g)' in header (\(names.joined(separator: ", ")))",
                                  file: file, record: header.line, field: g)
            }
        }
        var out: [SourceRecord] = []
        out.reserveCapacity(rows.count - 1)
        for row in rows.dropFirst() {
            var fields: [(String, SourceValue)] = []
            for (i, name) in names.enumerated() where i != geomIndex {
                let v = i < row.cells.count ? row.cells[i] : ""
                fields.append((name, v.isEmpty ? .null : .text(v)))
            }
            let loc = RecordLocation(file: file, unit: .line, index: row.line)
            var geometry: Geometry?
            var geometryError: String?
            var srid: Int32?
            if let gi = geomIndex {
                let wkt = gi < row.cells.count ? row.cells[gi] : ""
                if wkt.allSatisfy(\.isWhitespace) {
                    geometryError = "geometry cell is empty"
                } else {
                    do { (geometry, srid) = try WKT.parseWithSRID(wkt) } catch { geometryError = "WKT: \(error)" }
                }
            }
            var rec = SourceRecord(location: loc, fields: fields, geometry: geometry, geometryError: geometryError, srid: srid)
            if row.cells.count != names.count {
                // Keep the record; the builder reports it so a shifted row is not read silently.
                rec.fields.append(("__cellCountMismatch", .text("\(row.cells.count) cells, header has \(names.count)")))
            }
            out.append(rec)
        }
        return out
    }
}

extension SourceValue {
    /// Converts a GeoJSON property value; arrays and objects become their JSON text.
    init(_ v: JSONValue) {
        switch v {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let d): self = .number(d)
        case .string(let s): self = .text(s)
        case .array, .object: self = .text(GeoJSON.write(v))
        }
    }
}
