import Foundation
import SubterraGeometry
import SubterraModel
import SubterraNetwork

/// SVG plan of an isolation plan, in the frame, scale bar and north arrow of ``MapSVG``: the
/// layer's pipes, the isolated part in red, the break, the valves to close (green squares),
/// closed barriers (black), valves that cannot be closed (orange crosses), sources, and the
/// connections cut off (discs, hospitals red). A side panel lists the valves and customers.
enum IsolationSVG {
    static func draw(_ plan: IsolationPlan, topology t: NetworkTopology, location: BreakLocation, title: String) -> SVG {
        let frame = MapSVG.frame
        var focus = Envelope.empty
        let isolated = Set(plan.isolatedPipes.map(\.segmentID))
        for s in t.segments where isolated.contains(s.id) { focus = focus.union(s.geometry.envelope) }
        for v in plan.valvesToClose + plan.closedBarriers { focus.expand(toInclude: Point(v.position[0], v.position[1])) }
        let pad = max(20, max(focus.width, focus.height) / 8)
        let view = MapSVG.View(focus.expanded(by: pad))
        let window = view.window

        var svg = SVG(width: MapSVG.width, height: MapSVG.height)
        svg.rect(0, 0, MapSVG.width, MapSVG.height, [("fill", "#ffffff")])
        svg.def("<clipPath id=\"frame\"><rect x=\"\(Fmt.px(frame.x))\" y=\"\(Fmt.px(frame.y))\" width=\"\(Fmt.px(frame.w))\" height=\"\(Fmt.px(frame.h))\"/></clipPath>")
        svg.text(frame.x, 28, "Isolation: \(title)", size: 20, [("font-weight", "bold")])
        svg.text(frame.x, 50, "layer \(plan.scope) · \(plan.isolatedPipes.count) pipes isolated, \(Fmt.m(plan.isolatedLength)) m, \(Fmt.m(plan.isolatedVolume)) m³", size: 12, [("fill", "#444444")])
        svg.rect(frame.x, frame.y, frame.w, frame.h, [("fill", "#f7f6f2"), ("stroke", "#888888")])
        svg.open("g", [("clip-path", "url(#frame)")])
        let colour = LayerStyle.colour(t.scope.layer)
        func path(_ s: PipeSegment) -> String { SVG.path(s.geometry.points.map { view.px($0.x, $0.y) }) }
        for s in t.segments where !isolated.contains(s.id) && s.geometry.envelope.intersects(window) {
            svg.element("path", [("d", path(s)), ("fill", "none"), ("stroke", "#333333"), ("stroke-width", "3.5")])
            svg.element("path", [("d", path(s)), ("fill", "none"), ("stroke", colour), ("stroke-width", "2")])
        }
        for s in t.segments where isolated.contains(s.id) {
            svg.open("g", [("class", "isolated")])
            svg.title("isolated pipe \(s.displayID), \(Fmt.m(s.length)) m")
            svg.element("path", [("d", path(s)), ("fill", "none"), ("stroke", "#d00000"), ("stroke-width", "6"), ("stroke-linecap", "round")])
            svg.close("g")
        }
        // The break.
        let at: Point
        switch location {
        case .edge(let e): at = t.segments[e].point(atParameter: 0.5)
        case .node(let v): at = t.nodePositions[v]
        }
        let b = view.px(at.x, at.y)
        svg.open("g", [("class", "break")])
        svg.title("break")
        svg.element("path", [("d", "M\(Fmt.px(b.0 - 9)) \(Fmt.px(b.1 - 9))L\(Fmt.px(b.0 + 9)) \(Fmt.px(b.1 + 9))M\(Fmt.px(b.0 + 9)) \(Fmt.px(b.1 - 9))L\(Fmt.px(b.0 - 9)) \(Fmt.px(b.1 + 9))"), ("stroke", "#000000"), ("stroke-width", "4")])
        svg.close("g")
        func square(_ v: IsolationValve, fill: String, cls: String, words: String) {
            let c = view.px(v.position[0], v.position[1])
            svg.open("g", [("class", cls)])
            svg.title("\(words) \(v.number)")
            svg.rect(c.0 - 6, c.1 - 6, 12, 12, [("fill", fill), ("stroke", "#000000"), ("stroke-width", "1.5")])
            svg.close("g")
        }
        for v in plan.valvesToClose { square(v, fill: "#00a000", cls: "valve-to-close", words: "close valve") }
        for v in plan.closedBarriers { square(v, fill: "#000000", cls: "valve-closed", words: "already closed") }
        for v in plan.passedValves { square(v, fill: "#ff8c00", cls: "valve-inoperable", words: "cannot close (\(v.status?.rawValue ?? "?"))") }
        for c in plan.cutOffConnections {
            let p = view.px(c.position[0], c.position[1])
            svg.open("g", [("class", "connection-cut")])
            svg.title("\(c.number): \(c.category.rawValue) × \(c.count)\(c.alreadyWithoutSupply ? " (already without supply)" : "")")
            svg.circle(p.0, p.1, 5, [("fill", categoryColour(c.category)), ("stroke", "#000000")])
            svg.close("g")
        }
        svg.close("g")
        MapSVG.drawNorthArrow(&svg, x: frame.x + frame.w - 34, y: frame.y + 18)
        MapSVG.drawScaleBar(&svg, view: view)

        // Side panel.
        let px = frame.x + frame.w + 24
        var y = frame.y + 14
        func line(_ s: String, bold: Bool = false, size: Double = 12) {
            svg.text(px, y, MapSVG.clip(s, 60), size: size, bold ? [("font-weight", "bold")] : [])
            y += size + 6
        }
        line("Valves to close: \(plan.valvesToClose.count)", bold: true, size: 15)
        for v in plan.valvesToClose.prefix(12) { line("  \(v.number)" + (v.status == nil ? " (status unknown)" : "")) }
        if !plan.closedBarriers.isEmpty { line("Already closed: " + plan.closedBarriers.map(\.number.rawValue).joined(separator: ", ")) }
        if !plan.passedValves.isEmpty { line("Cannot close: " + plan.passedValves.map(\.number.rawValue).joined(separator: ", ")) }
        if !plan.sourcesToShut.isEmpty { line("Sources to shut: " + plan.sourcesToShut.map(\.rawValue).joined(separator: ", ")) }
        y += 8
        line("Customers cut off: \(plan.customersCutOffTotal)", bold: true, size: 15)
        for c in plan.customersCutOff { line("  \(c.category.rawValue): \(c.customers) (\(c.connections) connections)") }
        y = max(y + 10, frame.y + frame.h - 160)
        line("Legend", bold: true, size: 14)
        let legend: [(String, String)] = [
            ("#d00000", "isolated pipe"), ("#00a000", "valve to close"), ("#000000", "valve already closed"),
            ("#ff8c00", "valve that cannot be closed"), (categoryColour(.hospital), "hospital cut off"),
            (categoryColour(.household), "other customers cut off"),
        ]
        for (c, words) in legend {
            svg.rect(px, y - 10, 12, 12, [("fill", c), ("stroke", "#000000")])
            svg.text(px + 20, y, words, size: 12)
            y += 18
        }
        svg.text(frame.x, MapSVG.height - 16, "Subterra · isolation over the pipe topology (snapping \(Fmt.m(t.tolerance)) m)", size: 10, [("fill", "#666666")])
        return svg
    }

    static func categoryColour(_ c: CustomerCategory) -> String {
        switch c {
        case .hospital: "#e00000"
        case .school: "#ffb000"
        case .household: "#1e90ff"
        case .industry: "#808080"
        }
    }
}
