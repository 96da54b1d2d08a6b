import Foundation
import SubterraEngine
import SubterraGeometry
import SubterraModel

/// SVG plan maps of a dig site or a planned route: pipes in CJJ 61 layer colours, the site and
/// its clearance zone, the operators' precaution zones and interest areas it touches (named by
/// operator), pipes within an operator's precaution distance, conflicts numbered on the map and
/// described in a side panel (so labels never overlap the drawing or each other), legend, scale
/// bar and north arrow.
enum MapSVG {
    static let width = 1380.0
    static let height = 900.0
    /// The map frame; the side panel takes the rest.
    static let frame = (x: 20.0, y: 64.0, w: 860.0, h: 780.0)

    /// One numbered item in the side panel and on the map.
    struct Marker {
        var at: PlanPoint
        var colour: String
        var title: String
        var detail: String
        var severe: Bool
        /// The pipe's source file (``PipeSegment/sourceFile``), named in the marker's tooltip.
        var sourceFile: String? = nil

        /// The tooltip over the marker's disc: title, detail and source file, unclipped.
        var tooltip: String { "\(title)\n\(detail)\(sourceFile.map { "\nsource: \($0)" } ?? "")" }
    }

    /// Maps plan metres to the frame, one scale on both axes, north up.
    struct View {
        var minX: Double, minY: Double, scale: Double, offX: Double, offY: Double

        init(_ e: Envelope) {
            let s = min(frame.w / max(e.width, 1e-6), frame.h / max(e.height, 1e-6))
            scale = s
            minX = e.minX
            minY = e.minY
            offX = frame.x + (frame.w - e.width * s) / 2
            offY = frame.y + (frame.h - e.height * s) / 2 + e.height * s
        }

        func px(_ x: Double, _ y: Double) -> (Double, Double) { (offX + (x - minX) * scale, offY - (y - minY) * scale) }

        /// The plan window the frame shows.
        var window: Envelope {
            let x0 = minX - (offX - frame.x) / scale
            let y1 = minY + (offY - frame.y) / scale
            return Envelope(minX: x0, minY: y1 - frame.h / scale, maxX: x0 + frame.w / scale, maxY: y1)
        }
    }

    /// Fill and outline of an operator area on the map and in the legend.
    static func areaStyle(_ kind: OperatorArea.Kind) -> (fill: String, opacity: Double, stroke: String, dash: String, words: String) {
        kind == .precaution
            ? ("#9400d3", 0.10, "#6a0dad", "10 4 2 4", "precaution zone (operator present)")
            : ("#1e90ff", 0.08, "#1c5fa8", "2 4", "interest area (notify operator)")
    }

    /// The halo of a pipe within an operator's precaution distance.
    static let precautionHalo = "#b266ff"

    static func dig(_ r: DigReport, area: Geometry, engine: any PipeMap, title: String?) throws -> SVG {
        let maxClear = r.conflicts.map(\.requiredClearance).max() ?? 1.0
        let zone = try? engine.bufferZone(of: area, crs: nil, distance: maxClear)
        // The operator areas the report names, with their polygons.
        let areas: [(notice: AreaNotice, geometry: Geometry)] = try r.areas.compactMap { n in
            try engine.area(id: n.areaID).map { (n, $0.geometry) }
        }
        let conflicting = Set(r.conflicts.map(\.featureID))
        // Pipes the dig is within an operator's precaution distance of, and not already a conflict.
        let precautionOnly = r.precautions.filter { !conflicting.contains($0.feature) }
        var markers: [Marker] = []
        for c in r.conflicts {
            markers.append(Marker(
                at: c.closestPoint, colour: LayerStyle.colour(c.layer),
                title: "\(c.layer.rawValue)\(c.subtype.map { "/\($0.rawValue)" } ?? "") #\(c.pipeID)\(c.sourceID.map { " (\($0))" } ?? "") \(c.owner ?? "(unknown owner)")",
                detail: "\(c.severity.rawValue) · clear \(Fmt.m(c.clearDistance)) m (needs \(Fmt.m(c.requiredClearance))) · depth \(c.depth.map { Fmt.m($0) + " m" } ?? c.nominalDepth.map { "~\(Fmt.m($0)) m nominal" } ?? "unknown")\(c.section.map { " · \($0)" } ?? "")",
                severe: c.severity >= .high, sourceFile: c.sourceFile))
        }
        // Where each precaution pipe comes closest to the dig: one exact within-distance query on
        // centrelines, widened past the clear distance by more than any pipe's half width.
        var nearest: [Int64: PlanPoint] = [:]
        if let reach = precautionOnly.map(\.clearDistance).max() {
            for h in try engine.within(distance: reach + 10, of: area, crs: nil, filter: .all, allParts: true) {
                nearest[h.pipe.id] = h.closestPoint
            }
        }
        for p in precautionOnly {
            guard let at = nearest[p.pipeID] else { continue }
            markers.append(Marker(
                at: at, colour: LayerStyle.colour(p.layer),
                title: "precaution: \(p.layer.rawValue) #\(p.pipeID)\(p.sourceID.map { " (\($0))" } ?? "") \(p.owner ?? "(unknown owner)")",
                detail: "at \(Fmt.m(p.clearDistance)) m, within \(Fmt.m(p.requiredDistance)) m · \(p.rule.basis ?? p.rule.table)",
                severe: true, sourceFile: p.sourceFile))
        }
        let consult = Set(r.precautions.map { $0.owner ?? "(unknown owner)" } + r.areas.map(\.owner)).count
        let headline: String
        switch r.result {
        case .violation: headline = "\(r.conflicts.count) conflict\(r.conflicts.count == 1 ? "" : "s") — highest \((r.highestSeverity ?? .low).rawValue.uppercased())"
        case .notChecked: headline = "NOT CHECKED — \(r.unchecked.count) pipe\(r.unchecked.count == 1 ? "" : "s") near the dig with no rule"
        case .ok where consult > 0: headline = "NO CONFLICT — \(consult) operator\(consult == 1 ? "" : "s") to consult first"
        case .ok: headline = "CLEAR — no pipe within its clearance"
        }
        var focus = area.envelope
        if let zone { focus = focus.union(zone.envelope) }
        for m in markers { focus.expand(toInclude: Point(m.at.x, m.at.y)) }
        return try draw(
            title: "Dig check\(title.map { ": \($0)" } ?? "")", headline: headline,
            subtitle: "planned depth \(Fmt.m(r.plannedDepth)) m · clearance zone \(Fmt.m(maxClear)) m · \(r.mapCRS) · \(r.rules)",
            focus: focus, engine: engine, highlight: conflicting, precaution: Set(precautionOnly.map(\.feature)), markers: markers,
            calm: r.result == .ok && consult == 0,
            // The labels give the clear distance the rule is checked against, not the centreline's.
            footnote: "clear distances are exact to the pipe's outer wall (centreline less half the surveyed width)"
        ) { svg, view in
            // Operator areas first (interest areas under precaution zones), each named on the map.
            let ordered = areas.filter { $0.notice.kind != .precaution } + areas.filter { $0.notice.kind == .precaution }
            for a in ordered {
                let st = areaStyle(a.notice.kind)
                svg.open("g", [("class", a.notice.kind == .precaution ? "precaution-zone" : "interest-area")])
                drawArea(&svg, a.geometry, view, fill: st.fill, fillOpacity: st.opacity, stroke: st.stroke, dash: st.dash)
                svg.close("g")
            }
            let window = view.window
            for (i, a) in ordered.enumerated() {
                // The label sits at the top left of the area's visible part, one line per area.
                let e = a.geometry.envelope
                let x = min(max(e.minX, window.minX), window.maxX), y = min(max(e.maxY, window.minY), window.maxY)
                let p = view.px(x, y)
                let label = "\(a.notice.kind == .precaution ? "precaution zone" : "interest area") · \(a.notice.owner)"
                svg.text(min(p.0 + 6, frame.x + frame.w - 200), max(p.1 + 16, frame.y + 16) + 16 * Double(i), clip(label, 40), size: 12,
                         [("fill", areaStyle(a.notice.kind).stroke), ("font-weight", "bold")])
            }
            if let zone { drawArea(&svg, zone, view, fill: "#ff8c00", fillOpacity: 0.12, stroke: "#d2691e", dash: "8 5") }
            drawArea(&svg, area, view, fill: "#e00000", fillOpacity: 0.22, stroke: "#b00000", dash: nil)
        } legendExtras: { svg, x, y in
            var y = y
            svg.rect(x, y - 9, 26, 12, [("fill", "#e00000"), ("fill-opacity", "0.22"), ("stroke", "#b00000")])
            svg.text(x + 34, y + 1, "excavation area", size: 12)
            y += 20
            svg.rect(x, y - 9, 26, 12, [("fill", "#ff8c00"), ("fill-opacity", "0.12"), ("stroke", "#d2691e"), ("stroke-dasharray", "4 3")])
            svg.text(x + 34, y + 1, "clearance zone (\(Fmt.m(maxClear)) m)", size: 12)
            y += 20
            // At most four areas by name (precaution zones first); the report lists them all.
            let legendAreas = 4
            for a in areas.prefix(legendAreas) {
                let st = areaStyle(a.notice.kind)
                svg.rect(x, y - 9, 26, 12, [("fill", st.fill), ("fill-opacity", String(st.opacity * 2)), ("stroke", st.stroke), ("stroke-dasharray", st.dash)])
                svg.text(x + 34, y + 1, clip("\(st.words): \(a.notice.owner)\(a.notice.sourceID.map { " (\($0))" } ?? "")", 62), size: 12)
                y += 20
            }
            if areas.count > legendAreas {
                svg.text(x + 34, y + 1, "… and \(areas.count - legendAreas) more operator areas (see the text report)", size: 12)
                y += 20
            }
            if !precautionOnly.isEmpty {
                svg.line(x, y - 4, x + 26, y - 4, [("stroke", precautionHalo), ("stroke-width", "10"), ("stroke-opacity", "0.8")])
                svg.line(x, y - 4, x + 26, y - 4, [("stroke", "#333333"), ("stroke-width", "3")])
                svg.text(x + 34, y, "pipe within operator precaution distance (numbered)", size: 12)
                y += 20
            }
            return y
        }
    }

    static func route(_ r: RouteReport, route: Geometry, planned: PlannedPipe, engine: any PipeMap, title: String?) throws -> SVG {
        var markers: [Marker] = []
        for f in r.violations {
            let what = f.pipeID.map { "\(f.layer?.rawValue ?? "?") #\($0)\(f.sourceID.map { " (\($0))" } ?? "") \(f.owner ?? "(unknown owner)")" } ?? "cover of the planned pipe"
            markers.append(Marker(
                at: f.point, colour: f.layer.map(LayerStyle.colour) ?? "#000000", title: "\(f.kind.rawValue): \(what)",
                detail: "needs \(Fmt.m(f.required)) m, has \(f.actual.map { Fmt.m($0) + " m" } ?? "unknown") · at \(Fmt.m(f.routeOffset)) m along",
                severe: true, sourceFile: f.sourceFile))
        }
        let v = r.violations.count
        let headline: String
        switch r.result {
        case .violation: headline = "\(v) violation\(v == 1 ? "" : "s") of \(r.findings.count) checks"
        case .notChecked: headline = "NOT CHECKED — \(r.unchecked.count) pair\(r.unchecked.count == 1 ? "" : "s") with no rule or crossings of unknown depth"
        case .ok: headline = "OK — \(r.findings.count) clearances checked"
        }
        let p = planned.profile
        let colour = LayerStyle.colour(p.layer)
        var focus = route.envelope
        for m in markers { focus.expand(toInclude: Point(m.at.x, m.at.y)) }
        return try draw(
            title: "Route check\(title.map { ": \($0)" } ?? "")", headline: headline,
            subtitle: "planned \(p.layer.rawValue)\(p.diameterMM.map { " DN\(String(format: "%.0f", $0))" } ?? "") at \(Fmt.m(planned.depthAtStart))..\(Fmt.m(planned.depthAtEnd)) m · \(r.mapCRS) · \(r.rules)",
            focus: focus, engine: engine, highlight: Set(r.violations.compactMap { f in f.pipeID.map { f.feature ?? $0 } }), markers: markers, overlayOnTop: true
        ) { svg, view in
            if case .lineString(let l) = route {
                let pts = l.points.map { view.px($0.x, $0.y) }
                svg.element("path", [("d", SVG.path(pts)), ("fill", "none"), ("stroke", "#000000"), ("stroke-width", "9"), ("stroke-opacity", "0.25"), ("stroke-linecap", "round")])
                svg.element("path", [("d", SVG.path(pts)), ("fill", "none"), ("stroke", colour), ("stroke-width", "5"), ("stroke-dasharray", "14 6")])
            }
        } legendExtras: { svg, x, y in
            svg.line(x, y - 3, x + 26, y - 3, [("stroke", colour), ("stroke-width", "5"), ("stroke-dasharray", "8 3")])
            svg.text(x + 34, y + 1, "planned route", size: 12)
            return y + 20
        }
    }

    // MARK: Drawing

    static func draw(
        title: String, headline: String, subtitle: String, focus: Envelope, engine: any PipeMap, highlight: Set<Int64>,
        precaution: Set<Int64> = [], markers: [Marker], calm: Bool? = nil, overlayOnTop: Bool = false,
        footnote: String = "plan distances are exact to pipe centrelines",
        overlay: (inout SVG, View) -> Void, legendExtras: (inout SVG, Double, Double) -> Double
    ) throws -> SVG {
        // Show the site with context around it: at least 30 m, and a third of its size each side.
        let pad = max(15, max(focus.width, focus.height) / 3)
        let view = View(focus.expanded(by: pad))
        let window = view.window
        let ring = [
            Point(window.minX, window.minY), Point(window.maxX, window.minY), Point(window.maxX, window.maxY),
            Point(window.minX, window.maxY), Point(window.minX, window.minY),
        ]
        let pipes = try engine.intersecting(.polygon(Polygon(rings: [ring])), crs: nil, filter: .all, allParts: true)

        var svg = SVG(width: width, height: height)
        svg.rect(0, 0, width, height, [("fill", "#ffffff")])
        svg.def("<clipPath id=\"frame\"><rect x=\"\(Fmt.px(frame.x))\" y=\"\(Fmt.px(frame.y))\" width=\"\(Fmt.px(frame.w))\" height=\"\(Fmt.px(frame.h))\"/></clipPath>")
        svg.text(frame.x, 28, title, size: 20, [("font-weight", "bold")])
        svg.text(frame.x, 50, subtitle, size: 12, [("fill", "#444444")])
        svg.rect(frame.x, frame.y, frame.w, frame.h, [("fill", "#f7f6f2"), ("stroke", "#888888")])

        svg.open("g", [("clip-path", "url(#frame)")])
        // Grid lines every nice step, labelled in the margins would crowd them: faint only.
        let step = niceStep(window.width / 6)
        var gx = (window.minX / step).rounded(.up) * step
        while gx < window.maxX {
            let a = view.px(gx, window.minY), b = view.px(gx, window.maxY)
            svg.line(a.0, a.1, b.0, b.1, [("stroke", "#e4e2da"), ("stroke-width", "1")])
            gx += step
        }
        var gy = (window.minY / step).rounded(.up) * step
        while gy < window.maxY {
            let a = view.px(window.minX, gy), b = view.px(window.maxX, gy)
            svg.line(a.0, a.1, b.0, b.1, [("stroke", "#e4e2da"), ("stroke-width", "1")])
            gy += step
        }
        if !overlayOnTop { overlay(&svg, view) }
        // Ordinary pipes first, conflicts on top with a yellow halo.
        // `highlight` holds feature keys: every part of a multi-part pipe is lit.
        // Pipes within a precaution distance between the two, with a violet halo.
        func rank(_ h: PipeHit) -> Int { highlight.contains(h.pipe.featureID) ? 2 : precaution.contains(h.pipe.featureID) ? 1 : 0 }
        let ordered = pipes.filter { rank($0) == 0 } + pipes.filter { rank($0) == 1 } + pipes.filter { rank($0) == 2 }
        for h in ordered {
            let d = SVG.path(h.pipe.geometry.points.map { view.px($0.x, $0.y) })
            let hot = highlight.contains(h.pipe.featureID)
            let w = hot ? 4.0 : 2.5
            if hot {
                svg.element("path", [("d", d), ("fill", "none"), ("stroke", "#ffd400"), ("stroke-width", Fmt.px(w + 8)), ("stroke-opacity", "0.85"), ("stroke-linecap", "round")])
            } else if precaution.contains(h.pipe.featureID) {
                svg.element("path", [("d", d), ("fill", "none"), ("stroke", precautionHalo), ("stroke-width", Fmt.px(w + 8)), ("stroke-opacity", "0.8"), ("stroke-linecap", "round"), ("class", "precaution-pipe")])
            }
            svg.element("path", [("d", d), ("fill", "none"), ("stroke", "#333333"), ("stroke-width", Fmt.px(w + 1.5)), ("stroke-linecap", "round")])
            svg.element("path", [("d", d), ("fill", "none"), ("stroke", LayerStyle.colour(h.pipe.layer)), ("stroke-width", Fmt.px(w)), ("stroke-linecap", "round")])
        }
        if overlayOnTop { overlay(&svg, view) }
        // Numbered markers, nudged apart so none covers another; a leader shows the true point.
        var placed: [(Double, Double)] = []
        for m in markers {
            let target = view.px(m.at.x, m.at.y)
            var p = target
            var k = 0
            while placed.contains(where: { hypot($0.0 - p.0, $0.1 - p.1) < 22 }) && k < 200 {
                k += 1
                let angle = Double(k) * 0.9
                let radius = 16 + 3.0 * Double(k)
                p = (target.0 + radius * cos(angle), target.1 - radius * sin(angle))
            }
            placed.append(p)
            if k > 0 { svg.line(target.0, target.1, p.0, p.1, [("stroke", "#000000"), ("stroke-width", "1")]) }
            svg.circle(target.0, target.1, 3, [("fill", "#000000")])
        }
        // Discs after all leaders, so no leader crosses a number.
        for (i, (m, p)) in zip(markers, placed).enumerated() {
            svg.open("g")
            svg.title(m.tooltip)
            svg.circle(p.0, p.1, 10, [("fill", m.severe ? "#c00000" : "#ffffff"), ("stroke", "#000000"), ("stroke-width", "1.5")])
            svg.text(p.0, p.1 + 4, String(i + 1), size: 11, [("text-anchor", "middle"), ("font-weight", "bold"), ("fill", m.severe ? "#ffffff" : "#000000")])
            svg.close("g")
        }
        svg.close("g")

        drawNorthArrow(&svg, x: frame.x + frame.w - 34, y: frame.y + 18)
        drawScaleBar(&svg, view: view)

        // Side panel: headline, numbered conflict labels, legend.
        let px = frame.x + frame.w + 24
        var y = frame.y + 14
        svg.text(px, y, headline, size: 15, [("font-weight", "bold"), ("fill", (calm ?? markers.isEmpty) ? "#006400" : "#b00000")])
        y += 26
        let maxShown = 14
        for (i, m) in markers.prefix(maxShown).enumerated() {
            svg.circle(px + 10, y - 4, 10, [("fill", m.severe ? "#c00000" : "#ffffff"), ("stroke", "#000000"), ("stroke-width", "1.5")])
            svg.text(px + 10, y, String(i + 1), size: 11, [("text-anchor", "middle"), ("font-weight", "bold"), ("fill", m.severe ? "#ffffff" : "#000000")])
            svg.line(px + 26, y - 4, px + 44, y - 4, [("stroke", "#333333"), ("stroke-width", "5.5")])
            svg.line(px + 26, y - 4, px + 44, y - 4, [("stroke", m.colour), ("stroke-width", "4")])
            svg.text(px + 50, y, clip(m.title, 46), size: 12, [("font-weight", "bold")])
            svg.text(px + 50, y + 15, clip(m.detail, 64), size: 10.5, [("fill", "#333333")])
            y += 36
        }
        if markers.count > maxShown {
            svg.text(px, y, "… and \(markers.count - maxShown) more (see the text report)", size: 12)
            y += 24
        }
        y = max(y + 10, frame.y + frame.h - 260)
        svg.text(px, y, "Legend", size: 14, [("font-weight", "bold")])
        y += 22
        let layers = Set(pipes.map(\.pipe.layer)).sorted()
        for l in layers {
            svg.line(px, y - 4, px + 26, y - 4, [("stroke", "#333333"), ("stroke-width", "4")])
            svg.line(px, y - 4, px + 26, y - 4, [("stroke", LayerStyle.colour(l)), ("stroke-width", "2.5")])
            svg.text(px + 34, y, LayerStyle.name(l), size: 12)
            y += 18
        }
        y = legendExtras(&svg, px, y + 4)
        svg.line(px, y - 4, px + 26, y - 4, [("stroke", "#ffd400"), ("stroke-width", "10"), ("stroke-opacity", "0.85")])
        svg.line(px, y - 4, px + 26, y - 4, [("stroke", "#333333"), ("stroke-width", "3")])
        svg.text(px + 34, y, "conflicting pipe (numbered)", size: 12)
        svg.text(frame.x, height - 16, "Subterra · \(footnote) · grid \(Fmt.m(step)) m", size: 10, [("fill", "#666666")])
        return svg
    }

    /// `s` cut to `n` display columns (a Han character counts two, as it is drawn twice as wide),
    /// with an ellipsis when cut.
    static func clip(_ s: String, _ n: Int) -> String {
        guard DisplayWidth.of(s) > n else { return s }
        var out = "", w = 0
        for ch in s {
            let cw = DisplayWidth.of(ch)
            if w + cw > n - 1 { break }
            out.append(ch)
            w += cw
        }
        return out + "…"
    }

    static func drawArea(_ svg: inout SVG, _ g: Geometry, _ view: View, fill: String, fillOpacity: Double, stroke: String, dash: String?) {
        var polys: [Polygon] = []
        switch g {
        case .polygon(let p): polys = [p]
        case .multiPolygon(let ps): polys = ps
        case .collection(let gs):
            for x in gs { drawArea(&svg, x, view, fill: fill, fillOpacity: fillOpacity, stroke: stroke, dash: dash) }
        case .lineString(let l):
            svg.element("path", [("d", SVG.path(l.points.map { view.px($0.x, $0.y) })), ("fill", "none"), ("stroke", stroke), ("stroke-width", "3")])
        case .point(let p):
            let c = view.px(p.x, p.y)
            svg.circle(c.0, c.1, 6, [("fill", fill), ("fill-opacity", "0.5"), ("stroke", stroke)])
        default: break
        }
        for p in polys {
            let d = p.rings.map { SVG.path($0.points.map { view.px($0.x, $0.y) }, close: true) }.joined(separator: " ")
            var a: [(String, String)] = [("d", d), ("fill", fill), ("fill-opacity", String(fillOpacity)), ("fill-rule", "evenodd"), ("stroke", stroke), ("stroke-width", "2")]
            if let dash { a.append(("stroke-dasharray", dash)) }
            svg.element("path", a)
        }
    }

    static func drawNorthArrow(_ svg: inout SVG, x: Double, y: Double) {
        svg.circle(x, y + 22, 20, [("fill", "#ffffff"), ("fill-opacity", "0.85"), ("stroke", "#888888")])
        svg.element("path", [("d", "M\(Fmt.px(x)) \(Fmt.px(y + 6))L\(Fmt.px(x + 8)) \(Fmt.px(y + 32))L\(Fmt.px(x)) \(Fmt.px(y + 26))Z"), ("fill", "#000000")])
        svg.element("path", [("d", "M\(Fmt.px(x)) \(Fmt.px(y + 6))L\(Fmt.px(x - 8)) \(Fmt.px(y + 32))L\(Fmt.px(x)) \(Fmt.px(y + 26))Z"), ("fill", "#ffffff"), ("stroke", "#000000")])
        svg.text(x, y + 4, "N", size: 13, [("text-anchor", "middle"), ("font-weight", "bold")])
    }

    static func drawScaleBar(_ svg: inout SVG, view: View) {
        let metres = niceStep(frame.w / view.scale / 5)
        let len = metres * view.scale
        let x = frame.x + 20, y = frame.y + frame.h - 24
        svg.rect(x - 8, y - 26, len + 70, 40, [("fill", "#ffffff"), ("fill-opacity", "0.85"), ("stroke", "#888888")])
        svg.rect(x, y - 4, len / 2, 6, [("fill", "#000000")])
        svg.rect(x + len / 2, y - 4, len / 2, 6, [("fill", "#ffffff"), ("stroke", "#000000")])
        svg.text(x, y - 9, "0", size: 11, [("text-anchor", "middle")])
        svg.text(x + len / 2, y - 9, Fmt.m(metres / 2).replacingOccurrences(of: ".00", with: ""), size: 11, [("text-anchor", "middle")])
        svg.text(x + len, y - 9, Fmt.m(metres).replacingOccurrences(of: ".00", with: "") + " m", size: 11, [("text-anchor", "start")])
        svg.text(x + len + 6, y + 8, "1:\(Int((1 / (view.scale * 0.0254 / 96)).rounded())) @96dpi", size: 9, [("fill", "#555555")])
    }
}
