/// Finds the first object key that appears twice in one JSON object.
///
/// `JSONDecoder` keeps the last of two equal keys without a word, so a rule file with a row or an
/// entry written twice would silently lose one; this pass runs before decoding so the loader can
/// name the duplicate. It only walks the structure: syntax errors are left to `JSONDecoder`, which
/// reports them with a position. O(n) in the file size.
///
/// - Returns: the path of the object (`horizontal.rows`) and the duplicated key, or `nil`.
func _firstDuplicateJSONKey(in bytes: [UInt8]) -> (path: String, key: String)? {
    var scanner = _JSONKeyScanner(bytes: bytes)
    return scanner.run()
}

struct _JSONKeyScanner {
    let bytes: [UInt8]
    var i = 0
    var found: (path: String, key: String)?

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func run() -> (path: String, key: String)? {
        value(path: "")
        return found
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
            i += 1
        }
    }

    /// Walks one value; stops early (leaving `found` set or the input malformed) on the first problem.
    private mutating func value(path: String) {
        skipSpace()
        guard i < bytes.count, found == nil else { return }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var seen = Set<String>()
            while found == nil {
                skipSpace()
                guard i < bytes.count else { return }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                guard bytes[i] == UInt8(ascii: "\"") else { return }
                let key = string()
                if !seen.insert(key).inserted {
                    found = (path.isEmpty ? "top level" : path, key)
                    return
                }
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return }
                i += 1
                value(path: path.isEmpty ? key : "\(path).\(key)")
            }
        case UInt8(ascii: "["):
            i += 1
            var index = 0
            while found == nil {
                skipSpace()
                guard i < bytes.count else { return }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return }
                if bytes[i] == UInt8(ascii: ",") { i += 1; index += 1; continue }
                let before = i
                value(path: "\(path)[\(index)]")
                if i == before { return }  // malformed: let JSONDecoder report it
            }
        case UInt8(ascii: "\""):
            _ = string()
        default:
            // Number, true, false, null: skip to the next delimiter.
            while i < bytes.count, !",}] \n\r\t".utf8.contains(bytes[i]) { i += 1 }
        }
    }

    /// Reads a string literal at `i` (on the opening quote) and decodes its escapes.
    private mutating func string() -> String {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count {
                let e = bytes[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "u"):
                    // Keys in rule files are ASCII or plain UTF-8; an escaped code unit is kept as
                    // its hex text, which still compares equal to the same escape written twice.
                    let end = min(i + 4, bytes.count)
                    out.append(contentsOf: "\\u".utf8)
                    out.append(contentsOf: bytes[i..<end])
                    i = end
                default: out.append(e)
                }
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        i += 1
        return String(decoding: out, as: UTF8.self)
    }
}
