import Foundation

/// How the text of a dBase table (a Shapefile's `.dbf`, or a bare `.dbf` survey table) is to be
/// decoded, decided in this order:
///
/// 1. A `.cpg` file beside the table names the code page: GDAL reads it (`UTF-8`, `936`, `GBK`, …).
/// 2. A non-zero language-driver byte (LDID, byte 29 of the DBF header) names it: GDAL maps it
///    (0x4D and 0x7A are CP936, 0x57 ANSI …).
/// 3. Neither: the raw bytes of every field name and every character field are decoded as strict
///    UTF-8. If all decode, the table is UTF-8 (pure ASCII included); if any does not, it is
///    CP936 (GBK), the code page of Chinese ArcGIS/CASS/EPS output, which is what such a table
///    nearly always is. A UTF-8 sequence cut off by the field width at the very end of a field
///    counts as UTF-8 (dBase truncates by bytes).
///
/// Step 3 is why Chinese attribute tables no longer arrive garbled: GDAL alone leaves such
/// bytes undecoded.
public enum DBFEncoding {
    /// The outcome for one table.
    public struct Decision: Hashable, Sendable, CustomStringConvertible {
        /// The encoding to force with the Shapefile driver's `ENCODING` open option; nil means
        /// GDAL's own reading of the `.cpg` or the LDID.
        public var encoding: String?
        /// Why, for messages and reports.
        public var reason: String

        public var description: String { (encoding ?? "as declared") + " (\(reason))" }
    }

    /// Decides the encoding of the DBF at `dbfPath` (see the type's rule).
    ///
    /// - Throws: `CocoaError` when the file cannot be read.
    /// - Complexity: O(n) in the file size when there is neither `.cpg` nor LDID, O(1) otherwise.
    public static func decide(dbfPath: String) throws -> Decision {
        let url = URL(fileURLWithPath: dbfPath)
        let base = url.deletingPathExtension()
        for ext in ["cpg", "CPG"] {
            let cpg = base.appendingPathExtension(ext)
            if let text = try? String(contentsOf: cpg, encoding: .utf8) {
                return Decision(encoding: nil, reason: "code page '\(text.trimmingCharacters(in: .whitespacesAndNewlines))' from \(cpg.lastPathComponent)")
            }
        }
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count >= 32 else { return Decision(encoding: nil, reason: "not a DBF table: \(bytes.count) bytes") }
        let ldid = bytes[29]
        if ldid != 0 {
            return Decision(encoding: nil, reason: "language driver byte 0x\(String(ldid, radix: 16, uppercase: true))")
        }
        let undecodable = undecodableTexts(bytes)
        if undecodable == 0 {
            return Decision(encoding: "UTF-8", reason: "no .cpg, LDID 0, every text is valid UTF-8")
        }
        return Decision(encoding: "CP936", reason: "no .cpg, LDID 0, \(undecodable) texts are not UTF-8: read as CP936 (GBK)")
    }

    /// The number of field names and character values in `dbf` (a whole DBF file) that are not
    /// strict UTF-8.
    static func undecodableTexts(_ dbf: [UInt8]) -> Int {
        func u16(_ i: Int) -> Int { Int(dbf[i]) | Int(dbf[i + 1]) << 8 }
        func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
        let records = u32(4), headerLength = u16(8), recordLength = u16(10)
        var bad = 0
        // Field descriptors: 32 bytes each from offset 32, ended by 0x0D.
        var fields: [(offset: Int, length: Int)] = []
        var offset = 1  // each record starts with its deletion flag
        var d = 32
        while d + 32 <= min(headerLength, dbf.count), dbf[d] != 0x0D {
            let name = dbf[d..<d + 11].prefix { $0 != 0 }
            if !isUTF8(name) { bad += 1 }
            let length = Int(dbf[d + 16])
            if dbf[d + 11] == UInt8(ascii: "C") { fields.append((offset, length)) }
            offset += length
            d += 32
        }
        guard recordLength > 0 else { return bad }
        for r in 0..<records {
            let start = headerLength + r * recordLength
            guard start + recordLength <= dbf.count else { break }
            for f in fields where f.offset + f.length <= recordLength {
                var value = dbf[start + f.offset..<start + f.offset + f.length]
                while let last = value.last, last == 0x20 || last == 0 { value = value.dropLast() }
                if !isUTF8(value) { bad += 1 }
            }
        }
        return bad
    }

    /// Strict UTF-8, except that a multi-byte sequence cut short by the end of `bytes` is allowed.
    static func isUTF8(_ bytes: ArraySlice<UInt8>) -> Bool {
        if bytes.allSatisfy({ $0 < 0x80 }) { return true }
        if String(validating: bytes, as: UTF8.self) != nil { return true }
        // A cut-off tail: the last lead byte announces more continuation bytes than follow.
        guard let lead = bytes.lastIndex(where: { $0 & 0xC0 != 0x80 }) else { return false }
        let b = bytes[lead]
        let needed = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1
        guard bytes.endIndex - lead < needed else { return false }
        return String(validating: bytes[bytes.startIndex..<lead], as: UTF8.self) != nil
    }
}
