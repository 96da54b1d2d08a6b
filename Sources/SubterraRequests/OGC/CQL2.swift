import Foundation
import SubterraGeometry

/// A CQL2 filter (OGC API Features Part 3), the subset ``OGCFeatures`` answers, as one tree
/// whichever encoding it came in: ``CQL2/parseText(_:limits:)`` (cql2-text) and
/// ``CQL2/parseJSON(_:limits:)`` (cql2-json) give equal trees for the same expression.
///
/// Comparisons always have a property on one side and a literal on the other (a literal on the
/// left is turned round); spatial predicates compare the feature's geometry with a literal
/// geometry.
public indirect enum CQL2Expression: Hashable, Sendable {
    case and([CQL2Expression])
    case or([CQL2Expression])
    case not(CQL2Expression)
    /// `TRUE` / `FALSE`.
    case boolean(Bool)
    /// `property op literal`.
    case compare(property: String, CQL2Comparison, CQL2Literal)
    /// `property IN (literals)`.
    case isIn(property: String, [CQL2Literal])
    /// `property BETWEEN low AND high`, both inclusive.
    case between(property: String, CQL2Literal, CQL2Literal)
    /// `property LIKE pattern`: `%` any run of characters, `_` one, `\` escapes the next.
    case like(property: String, pattern: String)
    /// `property IS NULL`.
    case isNull(property: String)
    /// `S_INTERSECTS(geometry, literal)`: the feature's geometry meets the literal (in the
    /// filter CRS), decided exactly by the engine's index.
    case intersects(Geometry)
    /// `S_DWITHIN(geometry, literal, distance[, units])`: the feature lies within `distance`
    /// metres (map units) of the literal, exactly.
    case dwithin(Geometry, distance: Double)
}

/// A comparison operator.
public enum CQL2Comparison: String, Hashable, Sendable, CaseIterable {
    case eq = "=", ne = "<>", lt = "<", le = "<=", gt = ">", ge = ">="

    /// The operator with its sides swapped (`5 < x` is `x > 5`).
    var flipped: CQL2Comparison {
        switch self {
        case .eq, .ne: self
        case .lt: .gt
        case .le: .ge
        case .gt: .lt
        case .ge: .le
        }
    }
}

/// A scalar literal.
public enum CQL2Literal: Hashable, Sendable {
    case string(String)
    case number(Double)
}

/// A refused filter: what is wrong and where (character position and token for text, the JSON
/// path for JSON).
public struct CQL2Error: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    /// 1-based character position in cql2-text, when the error has one.
    public var position: Int?

    public init(_ message: String, position: Int? = nil) {
        self.message = message
        self.position = position
    }

    public var description: String { position.map { "at character \($0): \(message)" } ?? message }
}

/// The CQL2 parsers.
public enum CQL2 {
    /// The WKT geometry keywords a literal may start with.
    static let wktKeywords: Set<String> = [
        "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION",
    ]

    // MARK: Text

    /// Parses cql2-text. Keywords are case-insensitive; properties are plain identifiers or
    /// double-quoted; strings single-quoted (`''` for a quote); geometry literals WKT or
    /// `BBOX(minx, miny, maxx, maxy)`.
    ///
    /// - Parameter limits: nesting (parentheses and `NOT`, at most `maxDepth`) and each geometry
    ///   literal's vertices, depth and size.
    /// - Throws: ``CQL2Error`` naming the character position and the token found.
    /// - Complexity: O(text length) besides the geometry literals' validity checks.
    public static func parseText(_ text: String, limits: RequestLimits) throws(CQL2Error) -> CQL2Expression {
        var p = _CQL2TextParser(text, limits: limits)
        let e = try p.expression()
        let t = try p.lexer.peek()
        guard t.kind == .end else { throw CQL2Error("unexpected \(t.shown) after the end of the expression", position: t.position) }
        return e
    }

    // MARK: JSON

    /// Parses cql2-json: `{"op": ..., "args": [...]}` with `{"property": name}`, strings,
    /// numbers, `true`/`false`, GeoJSON geometries and `{"bbox": [4 numbers]}` as arguments.
    ///
    /// - Throws: ``CQL2Error`` naming the JSON path (`args[1].args[0]`) of what is refused.
    public static func parseJSON(_ text: String, limits: RequestLimits) throws(CQL2Error) -> CQL2Expression {
        let bytes = Array(text.utf8)
        if let problem = JSONPrecheck.check(bytes, limits: limits.parseLimits) { throw CQL2Error("invalid JSON: \(problem)") }
        let value: JSONValue
        do { value = try JSONDecoder().decode(AnyJSON.self, from: Data(bytes)).value } catch {
            throw CQL2Error("invalid JSON: \(error.localizedDescription)")
        }
        return try json(value, path: "", limits: limits, depth: 1)
    }

    static func json(_ v: JSONValue, path: String, limits: RequestLimits, depth: Int) throws(CQL2Error) -> CQL2Expression {
        let here = path.isEmpty ? "the filter" : path
        guard depth <= limits.maxDepth else { throw CQL2Error("\(here): nested deeper than \(limits.maxDepth) levels, the limit") }
        if case .bool(let b) = v { return .boolean(b) }
        guard case .object(let o) = v else { throw CQL2Error("\(here): expected an object with op and args") }
        for k in o.keys where k != "op" && k != "args" { throw CQL2Error("\(here): unknown member '\(k)'") }
        guard case .string(let opText)? = o["op"] else { throw CQL2Error("\(here): op is missing or not a string") }
        guard case .array(let args)? = o["args"] else { throw CQL2Error("\(here): args is missing or not an array") }
        let op = opText.lowercased()
        func at(_ i: Int) -> String { path.isEmpty ? "args[\(i)]" : "\(path).args[\(i)]" }
        func count(_ n: ClosedRange<Int>) throws(CQL2Error) {
            guard n.contains(args.count) else {
                throw CQL2Error("\(here): \(opText) takes \(n.lowerBound == n.upperBound ? "\(n.lowerBound)" : "\(n.lowerBound) to \(n.upperBound)") arguments, not \(args.count)")
            }
        }
        func property(_ i: Int) throws(CQL2Error) -> String {
            guard case .object(let p) = args[i], p.count == 1, case .string(let name)? = p["property"] else {
                throw CQL2Error("\(at(i)): expected {\"property\": name}")
            }
            return name
        }
        func literal(_ v: JSONValue, _ where_: String) throws(CQL2Error) -> CQL2Literal {
            switch v {
            case .string(let s): return .string(s)
            case .number(let n): return .number(n)
            default: throw CQL2Error("\(where_): expected a string or number literal")
            }
        }
        func isProperty(_ v: JSONValue) -> Bool { if case .object(let p) = v, p["property"] != nil { return true } else { return false } }
        switch op {
        case "and", "or":
            guard args.count >= 2 else { throw CQL2Error("\(here): \(opText) takes at least 2 arguments, not \(args.count)") }
            var parts: [CQL2Expression] = []
            for (i, a) in args.enumerated() { parts.append(try json(a, path: at(i), limits: limits, depth: depth + 1)) }
            return op == "and" ? .and(parts) : .or(parts)
        case "not":
            try count(1...1)
            return .not(try json(args[0], path: at(0), limits: limits, depth: depth + 1))
        case "=", "<>", "<", "<=", ">", ">=":
            try count(2...2)
            let c = CQL2Comparison(rawValue: op)!
            if isProperty(args[0]) {
                if isProperty(args[1]) { throw CQL2Error("\(at(1)): comparing two properties is not supported") }
                return .compare(property: try property(0), c, try literal(args[1], at(1)))
            }
            guard isProperty(args[1]) else { throw CQL2Error("\(here): \(opText) needs a property on one side") }
            return .compare(property: try property(1), c.flipped, try literal(args[0], at(0)))
        case "in":
            try count(2...2)
            guard case .array(let items) = args[1], !items.isEmpty else { throw CQL2Error("\(at(1)): expected a non-empty array") }
            var lits: [CQL2Literal] = []
            for (i, item) in items.enumerated() { lits.append(try literal(item, "\(at(1))[\(i)]")) }
            return .isIn(property: try property(0), lits)
        case "between":
            try count(3...3)
            return .between(property: try property(0), try literal(args[1], at(1)), try literal(args[2], at(2)))
        case "like":
            try count(2...2)
            guard case .string(let pattern) = args[1] else { throw CQL2Error("\(at(1)): expected a pattern string") }
            return .like(property: try property(0), pattern: pattern)
        case "isnull":
            try count(1...1)
            return .isNull(property: try property(0))
        case "s_intersects", "s_dwithin":
            try count(op == "s_intersects" ? 2...2 : 3...4)
            let (gi, li) = isProperty(args[0]) ? (0, 1) : (1, 0)
            let name = try property(gi)
            guard name == OGCProperty.geometryName else {
                throw CQL2Error("\(at(gi)): spatial predicates compare the property '\(OGCProperty.geometryName)', not '\(name)'")
            }
            let g = try geometry(args[li], at(li), limits: limits)
            if op == "s_intersects" { return .intersects(g) }
            guard case .number(let d) = args[2] else { throw CQL2Error("\(at(2)): expected a distance number") }
            if args.count == 4 {
                guard case .string(let u) = args[3] else { throw CQL2Error("\(at(3)): expected a unit string") }
                try checkUnits(u, CQL2Error.self) { CQL2Error("\(at(3)): \($0)") }
            }
            return .dwithin(g, distance: try checkedDistance(d) { CQL2Error("\(at(2)): \($0)") })
        default:
            throw CQL2Error(
                "\(here): unknown op '\(opText)' (supported: and, or, not, =, <>, <, <=, >, >=, in, between, like, isNull, s_intersects, s_dwithin)")
        }
    }

    /// A cql2-json geometry argument: a GeoJSON geometry or `{"bbox": [minx, miny, maxx, maxy]}`.
    static func geometry(_ v: JSONValue, _ path: String, limits: RequestLimits) throws(CQL2Error) -> Geometry {
        if case .object(let o) = v, case .array(let b)? = o["bbox"] {
            let ns = b.compactMap(\.numberValue)
            guard ns.count == 4, b.count == 4 else { throw CQL2Error("\(path): bbox needs 4 numbers") }
            return try box(ns) { CQL2Error("\(path): \($0)") }
        }
        guard case .object = v else { throw CQL2Error("\(path): expected a GeoJSON geometry or {\"bbox\": [...]}") }
        do { return try GeometryInput.parse(GeoJSON.write(v), crs: nil, feature: nil, limits: limits, origin: path).geometry } catch {
            throw CQL2Error(error.description)
        }
    }

    /// The polygon of a box `[minx, miny, maxx, maxy]`, refusing NaN and inverted boxes.
    static func box<E: Error>(_ b: [Double], _ fail: (String) -> E) throws(E) -> Geometry {
        guard b.allSatisfy(\.isFinite) else { throw fail("box coordinates must be finite numbers") }
        guard b[0] <= b[2], b[1] <= b[3] else { throw fail("box minimum is above its maximum (\(b.map { "\($0)" }.joined(separator: ",")))") }
        let ring = [Point(b[0], b[1]), Point(b[2], b[1]), Point(b[2], b[3]), Point(b[0], b[3]), Point(b[0], b[1])]
        if b[0] == b[2] || b[1] == b[3] {
            // A degenerate box is a line or a point: still a place to test against.
            if b[0] == b[2] && b[1] == b[3] { return .point(Point(b[0], b[1])) }
            guard let l = try? LineString([Point(b[0], b[1]), Point(b[2], b[3])]) else { throw fail("box is degenerate") }
            return .lineString(l)
        }
        guard let r = try? LinearRing(ring) else { throw fail("box is degenerate") }
        return .polygon(Polygon(exterior: r))
    }

    static func checkUnits<E: Error>(_ u: String, _: E.Type, _ fail: (String) -> E) throws(E) {
        guard ["m", "meter", "meters", "metre", "metres"].contains(u.lowercased()) else {
            throw fail("unit '\(u)' is not supported; distances are in metres (meters)")
        }
    }

    static func checkedDistance<E: Error>(_ d: Double, _ fail: (String) -> E) throws(E) -> Double {
        guard d.isFinite, d >= 0 else { throw fail("distance \(d) must be finite and >= 0") }
        return d
    }
}

// MARK: - Text lexer and parser

struct _CQL2Token {
    enum Kind: Equatable { case identifier, quoted, string, number, punct, end }
    var kind: Kind
    var text: String
    /// 1-based character position.
    var position: Int
    /// Character offset of the token's start (0-based) and just past its end.
    var start: Int
    var end: Int

    var upper: String { kind == .identifier ? text.uppercased() : "" }

    var shown: String {
        switch kind {
        case .end: "the end of the filter"
        case .string: "string '\(text)'"
        case .quoted: "property \"\(text)\""
        default: "'\(text)'"
        }
    }
}

struct _CQL2Lexer {
    let chars: [Character]
    var offset = 0
    private var peeked: _CQL2Token?

    init(_ text: String) { chars = Array(text) }

    mutating func peek() throws(CQL2Error) -> _CQL2Token {
        if let peeked { return peeked }
        let t = try scan()
        peeked = t
        return t
    }

    mutating func next() throws(CQL2Error) -> _CQL2Token {
        let t = try peek()
        peeked = nil
        return t
    }

    private mutating func scan() throws(CQL2Error) -> _CQL2Token {
        while offset < chars.count, chars[offset].isWhitespace { offset += 1 }
        let start = offset
        func token(_ kind: _CQL2Token.Kind, _ text: String) -> _CQL2Token {
            _CQL2Token(kind: kind, text: text, position: start + 1, start: start, end: offset)
        }
        guard offset < chars.count else { return token(.end, "") }
        let c = chars[offset]
        if c.isLetter || c == "_" {
            while offset < chars.count, chars[offset].isLetter || chars[offset].isNumber || "_:.".contains(chars[offset]) { offset += 1 }
            return token(.identifier, String(chars[start..<offset]))
        }
        if c.isNumber || (c == "." && offset + 1 < chars.count && chars[offset + 1].isNumber) {
            while offset < chars.count, chars[offset].isNumber || chars[offset] == "." { offset += 1 }
            if offset < chars.count, "eE".contains(chars[offset]) {
                offset += 1
                if offset < chars.count, "+-".contains(chars[offset]) { offset += 1 }
                while offset < chars.count, chars[offset].isNumber { offset += 1 }
            }
            return token(.number, String(chars[start..<offset]))
        }
        if c == "'" || c == "\"" {
            var s = ""
            offset += 1
            while true {
                guard offset < chars.count else {
                    throw CQL2Error("unterminated \(c == "'" ? "string" : "quoted property")", position: start + 1)
                }
                if chars[offset] == c {
                    if offset + 1 < chars.count, chars[offset + 1] == c {
                        s.append(c)
                        offset += 2
                        continue
                    }
                    offset += 1
                    break
                }
                s.append(chars[offset])
                offset += 1
            }
            return token(c == "'" ? .string : .quoted, s)
        }
        for op in ["<>", "<=", ">=", "=", "<", ">", "(", ")", ",", "-", "+"] where chars[offset...].starts(with: op) {
            offset += op.count
            return token(.punct, op)
        }
        throw CQL2Error("unexpected character '\(c)'", position: start + 1)
    }

    /// The raw text of a WKT literal starting at `t` (its keyword), through the parenthesis
    /// closing its first one (or `EMPTY`).
    mutating func wkt(from t: _CQL2Token) throws(CQL2Error) -> String {
        peeked = nil
        offset = t.end
        var depth = 0
        while offset < chars.count {
            let c = chars[offset]
            offset += 1
            if c == "(" { depth += 1 }
            if c == ")" {
                depth -= 1
                if depth == 0 { return String(chars[t.start..<offset]) }
                if depth < 0 { break }
            }
            if depth == 0, c.isLetter {
                // `Z`, `M`, `ZM` or `EMPTY` between keyword and coordinates.
                var word = String(c)
                while offset < chars.count, chars[offset].isLetter {
                    word.append(chars[offset])
                    offset += 1
                }
                if word.uppercased() == "EMPTY" { return String(chars[t.start..<offset]) }
            }
        }
        throw CQL2Error("unterminated \(t.upper) literal", position: t.position)
    }
}

struct _CQL2TextParser {
    var lexer: _CQL2Lexer
    let limits: RequestLimits
    var depth = 0

    init(_ text: String, limits: RequestLimits) {
        lexer = _CQL2Lexer(text)
        self.limits = limits
    }

    mutating func enter(_ t: _CQL2Token) throws(CQL2Error) {
        depth += 1
        guard depth <= limits.maxDepth else {
            throw CQL2Error("nested deeper than \(limits.maxDepth) levels, the limit", position: t.position)
        }
    }

    mutating func expect(_ text: String) throws(CQL2Error) {
        let t = try lexer.next()
        guard t.kind == .punct, t.text == text else { throw CQL2Error("expected '\(text)', found \(t.shown)", position: t.position) }
    }

    mutating func keyword(_ word: String) throws(CQL2Error) -> Bool {
        let t = try lexer.peek()
        guard t.upper == word else { return false }
        _ = try lexer.next()
        return true
    }

    mutating func expression() throws(CQL2Error) -> CQL2Expression {
        var parts = [try conjunction()]
        while try keyword("OR") { parts.append(try conjunction()) }
        return parts.count == 1 ? parts[0] : .or(parts)
    }

    mutating func conjunction() throws(CQL2Error) -> CQL2Expression {
        var parts = [try negation()]
        while try keyword("AND") { parts.append(try negation()) }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    mutating func negation() throws(CQL2Error) -> CQL2Expression {
        let t = try lexer.peek()
        if t.upper == "NOT" {
            _ = try lexer.next()
            try enter(t)
            defer { depth -= 1 }
            return .not(try negation())
        }
        return try predicate()
    }

    /// A scalar operand: a property name, a string or a (signed) number.
    enum Operand { case property(String, _CQL2Token), literal(CQL2Literal, _CQL2Token) }

    mutating func operand() throws(CQL2Error) -> Operand {
        let t = try lexer.next()
        switch t.kind {
        case .quoted: return .property(t.text, t)
        case .identifier where !Self.reserved.contains(t.upper): return .property(t.text, t)
        case .string: return .literal(.string(t.text), t)
        case .number: return .literal(.number(try number(t, negative: false)), t)
        case .punct where t.text == "-" || t.text == "+":
            let n = try lexer.next()
            guard n.kind == .number else { throw CQL2Error("expected a number after '\(t.text)', found \(n.shown)", position: n.position) }
            return .literal(.number(try number(n, negative: t.text == "-")), t)
        default: throw CQL2Error("expected a property or a literal, found \(t.shown)", position: t.position)
        }
    }

    static let reserved: Set<String> = ["AND", "OR", "NOT", "IN", "BETWEEN", "LIKE", "IS", "NULL", "TRUE", "FALSE"]

    func number(_ t: _CQL2Token, negative: Bool) throws(CQL2Error) -> Double {
        guard let v = Double(t.text), v.isFinite else { throw CQL2Error("invalid number \(t.shown)", position: t.position) }
        return negative ? -v : v
    }

    mutating func literal() throws(CQL2Error) -> CQL2Literal {
        switch try operand() {
        case .literal(let l, _): return l
        case .property(_, let t): throw CQL2Error("expected a literal, found \(t.shown)", position: t.position)
        }
    }

    mutating func predicate() throws(CQL2Error) -> CQL2Expression {
        let t = try lexer.peek()
        if t.kind == .punct, t.text == "(" {
            _ = try lexer.next()
            try enter(t)
            let e = try expression()
            depth -= 1
            try expect(")")
            return e
        }
        if t.upper == "TRUE" || t.upper == "FALSE" {
            _ = try lexer.next()
            return .boolean(t.upper == "TRUE")
        }
        if t.upper == "S_INTERSECTS" || t.upper == "S_DWITHIN" {
            _ = try lexer.next()
            return try spatial(t)
        }
        let left = try operand()
        let name: String
        switch left {
        case .property(let n, _): name = n
        case .literal(let l, _):
            // `5 < x`: only a comparison may have its literal first.
            let op = try lexer.next()
            guard op.kind == .punct, let c = CQL2Comparison(rawValue: op.text) else {
                throw CQL2Error("expected a comparison operator, found \(op.shown)", position: op.position)
            }
            switch try operand() {
            case .property(let n, _): return .compare(property: n, c.flipped, l)
            case .literal(_, let r): throw CQL2Error("a comparison needs a property on one side, found \(r.shown)", position: r.position)
            }
        }
        let op = try lexer.next()
        if op.kind == .punct, let c = CQL2Comparison(rawValue: op.text) {
            switch try operand() {
            case .literal(let l, _): return .compare(property: name, c, l)
            case .property(_, let r): throw CQL2Error("comparing two properties is not supported, found \(r.shown)", position: r.position)
            }
        }
        var negated = false
        var word = op
        if op.upper == "NOT" {
            negated = true
            word = try lexer.next()
        }
        let e: CQL2Expression
        switch word.upper {
        case "IN":
            try expect("(")
            var items = [try literal()]
            while try Self.isComma(lexer.peek()) {
                _ = try lexer.next()
                items.append(try literal())
            }
            try expect(")")
            e = .isIn(property: name, items)
        case "BETWEEN":
            let lo = try literal()
            let and = try lexer.next()
            guard and.upper == "AND" else { throw CQL2Error("expected AND in BETWEEN, found \(and.shown)", position: and.position) }
            e = .between(property: name, lo, try literal())
        case "LIKE":
            let p = try lexer.next()
            guard p.kind == .string else { throw CQL2Error("expected a pattern string after LIKE, found \(p.shown)", position: p.position) }
            e = .like(property: name, pattern: p.text)
        case "IS" where !negated:
            let not = try keyword("NOT")
            let n = try lexer.next()
            guard n.upper == "NULL" else { throw CQL2Error("expected NULL, found \(n.shown)", position: n.position) }
            return not ? .not(.isNull(property: name)) : .isNull(property: name)
        default:
            throw CQL2Error(
                "expected a comparison operator, IN, BETWEEN, LIKE or IS, found \(word.shown)", position: word.position)
        }
        return negated ? .not(e) : e
    }

    mutating func spatial(_ fn: _CQL2Token) throws(CQL2Error) -> CQL2Expression {
        try expect("(")
        var geometry: Geometry?
        var sawProperty = false
        for i in 0..<2 {
            if i == 1 { try expect(",") }
            let t = try lexer.peek()
            if Self.isGeometryStart(t) {
                guard geometry == nil else { throw CQL2Error("expected the property '\(OGCProperty.geometryName)', found \(t.shown)", position: t.position) }
                geometry = try geometryLiteral()
            } else {
                _ = try lexer.next()
                guard t.kind == .identifier || t.kind == .quoted, t.text == OGCProperty.geometryName, !sawProperty else {
                    throw CQL2Error(
                        "\(fn.upper) compares the property '\(OGCProperty.geometryName)' with a geometry literal; found \(t.shown)",
                        position: t.position)
                }
                sawProperty = true
            }
        }
        guard let geometry else { throw CQL2Error("\(fn.upper) needs a geometry literal", position: fn.position) }
        if fn.upper == "S_INTERSECTS" {
            try expect(")")
            return .intersects(geometry)
        }
        try expect(",")
        let dt = try lexer.peek()
        guard case .number(let d) = try literal() else { throw CQL2Error("expected a distance, found \(dt.shown)", position: dt.position) }
        let distance = try CQL2.checkedDistance(d) { CQL2Error($0, position: dt.position) }
        if try Self.isComma(lexer.peek()) {
            _ = try lexer.next()
            let u = try lexer.next()
            guard u.kind == .identifier || u.kind == .string else { throw CQL2Error("expected a unit, found \(u.shown)", position: u.position) }
            try CQL2.checkUnits(u.text, CQL2Error.self) { CQL2Error($0, position: u.position) }
        }
        try expect(")")
        return .dwithin(geometry, distance: distance)
    }

    static func isComma(_ t: _CQL2Token) -> Bool { t.kind == .punct && t.text == "," }

    static func isGeometryStart(_ t: _CQL2Token) -> Bool { CQL2.wktKeywords.contains(t.upper) || t.upper == "BBOX" }

    mutating func geometryLiteral() throws(CQL2Error) -> Geometry {
        let t = try lexer.next()
        if t.upper == "BBOX" {
            try expect("(")
            var ns: [Double] = []
            for i in 0..<4 {
                if i > 0 { try expect(",") }
                guard case .number(let v) = try literal() else { throw CQL2Error("BBOX takes 4 numbers", position: t.position) }
                ns.append(v)
            }
            try expect(")")
            return try CQL2.box(ns) { CQL2Error("BBOX: \($0)", position: t.position) }
        }
        let text = try lexer.wkt(from: t)
        do {
            return try GeometryInput.parse(text, crs: nil, feature: nil, limits: limits, origin: "\(t.upper) literal").geometry
        } catch {
            throw CQL2Error(error.description, position: t.position)
        }
    }
}
