/// Why `JSONPrecheck.check` refused a JSON document before it reached Foundation's decoder.
public enum JSONPrecheckProblem: Hashable, Sendable, CustomStringConvertible {
    /// The document is larger than `limit` bytes (`ParseLimits.maxBytes`).
    case tooLarge(bytes: Int, limit: Int)
    /// An array or object at byte `offset`, inside the value at `path`, is nested deeper than
    /// `limit` levels (`ParseLimits.maxDepth`).
    case tooDeep(limit: Int, offset: Int, path: String)
    /// The object at `path` (`top level` for the root) has `key` twice.
    case duplicateKey(path: String, key: String)

    /// Where the problem is: a JSON path such as `horizontal.rows`, or `top level`.
    public var path: String {
        switch self {
        case .tooLarge: return "top level"
        case .tooDeep(_, _, let path), .duplicateKey(let path, _): return path
        }
    }

    /// What is wrong, without the path: one line naming the limit or key and the byte offset.
    public var message: String {
        switch self {
        case .tooLarge(let bytes, let limit): return "input of \(bytes) bytes is larger than \(limit) bytes (maxBytes)"
        case .tooDeep(let limit, let offset, _): return "nesting deeper than \(limit) levels (maxDepth) at byte \(offset)"
        case .duplicateKey(_, let key): return "key \"\(key)\" appears twice"
        }
    }

    public var description: String { "\(path): \(message)" }
}

/// A structural pass over JSON that a user wrote (rule files, field mappings) before
/// `JSONDecoder` decodes it, for what the decoder does not say or does badly:
/// - a key written twice in one object, which `JSONDecoder` resolves silently by keeping the last,
///   so a rule row or mapping entry written twice would lose one without a word;
/// - nesting deeper than `ParseLimits.maxDepth`, which `JSONDecoder` refuses only past 512 levels
///   and then with "The given data was not valid JSON", no position; and its recursion depth
///   then depends on the caller's stack;
/// - a document larger than `ParseLimits.maxBytes`.
///
/// The pass is iterative (an explicit stack of open containers), so no input can exhaust the call
/// stack. It only walks the structure: syntax errors are left to `JSONDecoder`, which reports
/// them; on malformed input the pass stops where the decoder will stop too.
public enum JSONPrecheck {
    /// The first problem in `bytes`, or `nil` when the decoder may have them.
    /// - Complexity: O(n) in the byte count; memory O(depth + keys of the open objects).
    public static func check(_ bytes: [UInt8], limits: ParseLimits = .default) -> JSONPrecheckProblem? {
        if bytes.count > limits.maxBytes { return .tooLarge(bytes: bytes.count, limit: limits.maxBytes) }
        return bytes.withUnsafeBufferPointer { buf in
            var scanner = _JSONStructureScanner(lexer: _GeoJSONParser(b: buf, limits: limits))
            return scanner.run()
        }
    }
}

/// The iterative walker behind `JSONPrecheck`; strings and spaces are lexed by the GeoJSON reader.
struct _JSONStructureScanner {
    /// One open array or object: the keys seen so far (objects) and where the walk is inside it.
    struct Frame {
        var isObject: Bool
        var keys: Set<String> = []
        var key = ""
        var index = 0
    }

    var lexer: _GeoJSONParser
    let maxDepth: Int
    var stack: [Frame] = []

    init(lexer: _GeoJSONParser) {
        self.lexer = lexer
        self.maxDepth = lexer.maxDepth
    }

    /// The JSON path of the innermost open container: `horizontal.rows`, `a[3].b`, or `top level`.
    var path: String { path(through: stack.count - 1) }

    /// The path of the value at the current position (one more step than `path`).
    var valuePath: String { path(through: stack.count) }

    /// The path made of the current key or index of the outermost `count` open containers.
    func path(through count: Int) -> String {
        var s = ""
        for f in stack.prefix(max(0, count)) {
            if f.isObject {
                if !s.isEmpty { s += "." }
                s += f.key
            } else {
                s += "[\(f.index)]"
            }
        }
        return s.isEmpty ? "top level" : s
    }

    /// The next byte after spaces, 0 at the end.
    mutating func peek() -> UInt8 { lexer.peek() }

    /// Walks the whole document; `nil` when it is fine or malformed (the decoder reports that).
    mutating func run() -> JSONPrecheckProblem? {
        let b = lexer.b
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { lexer.i = 3 }
        value: while true {
            // One value at the lexer's position.
            let c = peek()
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = c == UInt8(ascii: "{")
                if stack.count >= maxDepth {
                    return .tooDeep(limit: maxDepth, offset: lexer.i, path: valuePath)
                }
                lexer.i += 1
                stack.append(Frame(isObject: isObject))
                if peek() == UInt8(ascii: isObject ? "}" : "]") {
                    lexer.i += 1
                    stack.removeLast()
                } else if isObject {
                    switch key() {
                    case .next: continue value
                    case .stop(let problem): return problem
                    }
                } else {
                    continue value
                }
            case UInt8(ascii: "\""):
                guard (try? lexer.string()) != nil else { return nil }
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "t"), UInt8(ascii: "f"),
                UInt8(ascii: "n"):
                while lexer.i < b.count, !",}] \n\r\t".utf8.contains(b[lexer.i]) { lexer.i += 1 }
            default:
                return nil
            }
            // After a value: close finished containers, or step to the next element or member.
            while let top = stack.last {
                let c = peek()
                if c == UInt8(ascii: ",") {
                    lexer.i += 1
                    if top.isObject {
                        switch key() {
                        case .next: continue value
                        case .stop(let problem): return problem
                        }
                    }
                    stack[stack.count - 1].index += 1
                    continue value
                }
                guard c == UInt8(ascii: top.isObject ? "}" : "]") else { return nil }
                lexer.i += 1
                stack.removeLast()
            }
            return nil
        }
    }

    enum Step {
        case next
        case stop(JSONPrecheckProblem?)
    }

    /// Reads `"key":` of the innermost object, refusing a key it already has.
    mutating func key() -> Step {
        guard peek() == UInt8(ascii: "\""), let k = try? lexer.string() else { return .stop(nil) }
        if !stack[stack.count - 1].keys.insert(k).inserted {
            return .stop(.duplicateKey(path: path, key: k))
        }
        stack[stack.count - 1].key = k
        guard peek() == UInt8(ascii: ":") else { return .stop(nil) }
        lexer.i += 1
        return .next
    }
}
