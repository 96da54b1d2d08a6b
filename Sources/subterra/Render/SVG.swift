import Foundation
import SubterraGeometry
import SubterraModel

/// A small SVG writer: elements appended as text, attributes escaped, numbers rounded to 0.01 px.
struct SVG {
    let width: Double
    let height: Double
    private(set) var body: [String] = []
    private var defs: [String] = []

    init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// XML-escapes `s` scalar by scalar. Working on scalars, not `Character`s, matters: a `<`
    /// or `"` followed by a combining mark is one grapheme that compares unequal to `"<"`, and
    /// would otherwise pass through unescaped.
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                // XML 1.0 forbids most control characters even escaped; drop them.
                if c.value < 0x20, c.value != 0x09, c.value != 0x0A, c.value != 0x0D { continue }
                out.unicodeScalars.append(c)
            }
        }
        return out
    }

    private static func attrs(_ a: [(String, String)]) -> String {
        a.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }

    mutating func raw(_ s: String) { body.append(s) }

    mutating func def(_ s: String) { defs.append(s) }

    mutating func open(_ tag: String, _ a: [(String, String)] = []) { body.append("<\(tag)\(Self.attrs(a))>") }

    mutating func close(_ tag: String) { body.append("</\(tag)>") }

    /// A `<title>` child: the tooltip viewers show over its parent element.
    mutating func title(_ s: String) { body.append("<title>\(Self.escape(s))</title>") }

    mutating func element(_ tag: String, _ a: [(String, String)]) { body.append("<\(tag)\(Self.attrs(a))/>") }

    mutating func rect(_ x: Double, _ y: Double, _ w: Double, _ h: Double, _ a: [(String, String)] = []) {
        element("rect", [("x", Fmt.px(x)), ("y", Fmt.px(y)), ("width", Fmt.px(w)), ("height", Fmt.px(h))] + a)
    }

    mutating func line(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ a: [(String, String)] = []) {
        element("line", [("x1", Fmt.px(x1)), ("y1", Fmt.px(y1)), ("x2", Fmt.px(x2)), ("y2", Fmt.px(y2))] + a)
    }

    mutating func circle(_ cx: Double, _ cy: Double, _ r: Double, _ a: [(String, String)] = []) {
        element("circle", [("cx", Fmt.px(cx)), ("cy", Fmt.px(cy)), ("r", Fmt.px(r))] + a)
    }

    mutating func text(_ x: Double, _ y: Double, _ s: String, size: Double = 12, _ a: [(String, String)] = []) {
        body.append("<text x=\"\(Fmt.px(x))\" y=\"\(Fmt.px(y))\" font-size=\"\(Fmt.px(size))\"\(Self.attrs(a))>\(Self.escape(s))</text>")
    }

    /// `points` as an SVG path `d` (one subpath), closed when `close`.
    static func path(_ points: [(Double, Double)], close: Bool = false) -> String {
        guard let f = points.first else { return "" }
        var d = "M\(Fmt.px(f.0)) \(Fmt.px(f.1))"
        for p in points.dropFirst() { d += "L\(Fmt.px(p.0)) \(Fmt.px(p.1))" }
        if close { d += "Z" }
        return d
    }

    var document: String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Fmt.px(width))\" height=\"\(Fmt.px(height))\" viewBox=\"0 0 \(Fmt.px(width)) \(Fmt.px(height))\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n"
        if !defs.isEmpty { out += "<defs>\n" + defs.joined(separator: "\n") + "\n</defs>\n" }
        out += body.joined(separator: "\n")
        out += "\n</svg>\n"
        return out
    }
}

extension OutputFile {
    /// Writes the drawing's document (UTF-8), by the rules of ``OutputFile``.
    func write(_ svg: SVG) throws { try write(Data(svg.document.utf8)) }
}

/// CJJ 61 layer colours and names for drawing. Pure yellow-green-cyan lines vanish on white, so
/// lines get a thin dark casing (drawn by the caller) rather than altered colours.
enum LayerStyle {
    static let catalog = LayerCatalog.standardWithFibre

    static func colour(_ layer: LayerCode) -> String { catalog[layer]?.colour.hex ?? "#800080" }

    static func name(_ layer: LayerCode) -> String {
        guard let d = catalog[layer] else { return layer.rawValue }
        return "\(layer.rawValue) \(d.englishName)"
    }
}

/// A round number of metres near `target` (1, 2 or 5 × 10^k), for scale bars and ticks.
func niceStep(_ target: Double) -> Double {
    guard target > 0, target.isFinite else { return 1 }
    let p = pow(10, floor(log10(target)))
    let f = target / p
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p
}
