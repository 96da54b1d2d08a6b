import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// An SVG cross-section: ground line, every crossed pipe at its depth as a circle (DN) or
/// rectangle (W×H) in its layer colour, labels above the ground with leaders, depth scale.
///
/// Depth is exaggerated against offset so that pipes a few decimetres apart stay apart; the
/// caption states the exaggeration, and sizes are drawn at the vertical scale on both axes'
/// own scales (an ellipse is a circle seen exaggerated).
enum SectionSVG {
    static let width = 1200.0
    static let height = 720.0
    static let plot = (x: 90.0, y: 250.0, w: 920.0, h: 380.0)

    static func draw(_ s: CrossSection, title: String?) -> SVG {
        var svg = SVG(width: width, height: height)
        svg.rect(0, 0, width, height, [("fill", "#ffffff")])
        svg.text(20, 30, "Cross-section\(title.map { ": \($0)" } ?? "")", size: 20, [("font-weight", "bold")])
        let length = max(s.length, 1e-6)
        let deepest = s.items.compactMap { item in item.depthBottom ?? item.depthTop.map { $0 + (item.heightM ?? 0) } }.max() ?? 1.5
        let maxDepth = max(2.0, (deepest + 0.5).rounded(.up))
        let sx = plot.w / length
        let sy = plot.h / maxDepth
        svg.text(20, 52, "\(Fmt.m(s.length)) m cut · \(s.items.count) crossing\(s.items.count == 1 ? "" : "s") · \(s.mapCRS) · vertical exaggeration ×\(String(format: "%.1f", sy / sx))", size: 12, [("fill", "#444444")])

        func X(_ offset: Double) -> Double { plot.x + offset * sx }
        func Y(_ depth: Double) -> Double { plot.y + depth * sy }

        // Soil and ground line.
        svg.rect(plot.x, plot.y, plot.w, plot.h, [("fill", "#efe6d8"), ("stroke", "none")])
        svg.line(plot.x, plot.y, plot.x + plot.w, plot.y, [("stroke", "#5a3d1e"), ("stroke-width", "3")])
        var hx = plot.x
        while hx < plot.x + plot.w {
            svg.line(hx, plot.y, hx + 8, plot.y - 8, [("stroke", "#5a3d1e"), ("stroke-width", "1")])
            hx += 14
        }
        svg.text(plot.x + plot.w + 6, plot.y + 4, "ground", size: 11, [("fill", "#5a3d1e")])

        // Depth scale on the left, with faint horizontal lines.
        let dStep = niceStep(maxDepth / 8)
        var d = 0.0
        while d <= maxDepth + 1e-9 {
            svg.line(plot.x - 6, Y(d), plot.x, Y(d), [("stroke", "#000000")])
            if d > 0 { svg.line(plot.x, Y(d), plot.x + plot.w, Y(d), [("stroke", "#d8ccb8"), ("stroke-width", "1"), ("stroke-dasharray", "3 4")]) }
            svg.text(plot.x - 10, Y(d) + 4, String(format: "%.1f", d), size: 11, [("text-anchor", "end")])
            d += dStep
        }
        svg.line(plot.x, plot.y, plot.x, plot.y + plot.h, [("stroke", "#000000")])
        svg.text(30, plot.y + plot.h / 2, "depth below ground (m)", size: 12, [("transform", "rotate(-90 30 \(Fmt.px(plot.y + plot.h / 2)))"), ("text-anchor", "middle")])

        // Offset axis along the bottom.
        let oStep = niceStep(length / 10)
        var o = 0.0
        let axisY = plot.y + plot.h
        svg.line(plot.x, axisY, plot.x + plot.w, axisY, [("stroke", "#000000")])
        while o <= length + 1e-9 {
            svg.line(X(o), axisY, X(o), axisY + 6, [("stroke", "#000000")])
            svg.text(X(o), axisY + 20, Fmt.m(o).replacingOccurrences(of: ".00", with: ""), size: 11, [("text-anchor", "middle")])
            o += oStep
        }
        svg.text(plot.x + plot.w / 2, axisY + 42, "offset along the cut line (m)", size: 12, [("text-anchor", "middle")])

        // Pipes, then labels above the ground with leaders; labels are spread so none overlaps.
        let labelGap = 15.0
        var labelX: [Double] = []
        var lastX = -Double.infinity
        for item in s.items {
            let want = X(item.offset)
            let x = max(want, lastX + labelGap)
            labelX.append(x)
            lastX = x
        }
        // When spreading pushed labels past the right edge, pull the run back from the end.
        if let last = labelX.last, last > plot.x + plot.w {
            var limit = plot.x + plot.w
            for i in stride(from: labelX.count - 1, through: 0, by: -1) {
                labelX[i] = min(labelX[i], limit)
                limit = labelX[i] - labelGap
            }
        }
        for (i, item) in s.items.enumerated() {
            let colour = LayerStyle.colour(item.layer)
            let cx = X(item.offset)
            let h = item.heightM ?? 0.1
            let w = item.widthM ?? h
            var anchorY = plot.y
            if let top = item.depthTop {
                let cy = Y(top + h / 2)
                let rx = max(w / 2 * sx, 3), ry = max(h / 2 * sy, 3)
                let isRect: Bool
                if let sec = item.section, sec.contains("x") || sec.contains("×") { isRect = true } else { isRect = false }
                if isRect {
                    svg.rect(cx - rx, cy - ry, 2 * rx, 2 * ry, [("fill", colour), ("stroke", "#222222"), ("stroke-width", "1.5")])
                } else {
                    svg.element("ellipse", [("cx", Fmt.px(cx)), ("cy", Fmt.px(cy)), ("rx", Fmt.px(rx)), ("ry", Fmt.px(ry)), ("fill", colour), ("stroke", "#222222"), ("stroke-width", "1.5")])
                }
                anchorY = cy - ry
                svg.line(cx, plot.y, cx, anchorY, [("stroke", "#555555"), ("stroke-width", "0.8"), ("stroke-dasharray", "2 3")])
            } else {
                svg.element("path", [("d", "M\(Fmt.px(cx - 6)) \(Fmt.px(plot.y + 14))L\(Fmt.px(cx + 6)) \(Fmt.px(plot.y + 14))L\(Fmt.px(cx)) \(Fmt.px(plot.y + 4))Z"), ("fill", colour), ("stroke", "#222222")])
            }
            // Leader from the label foot to the ground above the pipe.
            let lx = labelX[i]
            svg.line(lx, plot.y - 26, cx, plot.y - 2, [("stroke", "#333333"), ("stroke-width", "0.8")])
            let label = "\(item.layer.rawValue)\(item.subtype.map { "/\($0.rawValue)" } ?? "") \(item.section ?? "") · \(item.depthTop.map { Fmt.m($0) + " m" } ?? "depth ?") · #\(item.pipeID)\(item.sourceID.map { " (\($0))" } ?? "")"
            // The tooltip names the source file, too long for the rotated label.
            svg.open("g")
            svg.title(label + (item.sourceFile.map { "\nsource: \($0)" } ?? ""))
            svg.text(lx + 4, plot.y - 30, label, size: 11, [("transform", "rotate(-60 \(Fmt.px(lx + 4)) \(Fmt.px(plot.y - 30)))"), ("fill", "#000000")])
            svg.close("g")
        }

        // Legend of layers present.
        var lx = plot.x
        let ly = height - 24
        for l in Set(s.items.map(\.layer)).sorted() {
            svg.circle(lx + 6, ly - 4, 6, [("fill", LayerStyle.colour(l)), ("stroke", "#222222")])
            let name = LayerStyle.name(l)
            svg.text(lx + 16, ly, name, size: 12)
            lx += 26 + Double(DisplayWidth.of(name)) * 7
        }
        if s.items.isEmpty { svg.text(plot.x + plot.w / 2, plot.y + plot.h / 2, "the cut line crosses no pipe", size: 16, [("text-anchor", "middle")]) }
        return svg
    }
}
