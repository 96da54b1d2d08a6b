import SubterraGeometry
import SubterraModel

/// A planned pipe to check against the existing network before it is built.
public struct PlannedPipe: Hashable, Sendable {
    /// Layer, pressure class, burial, diameter (DN mm; its outer size counts in both checks).
    public var profile: PipeProfile
    /// Plan route, in `crs`.
    public var route: LineString
    /// CRS of `route`; nil means the map CRS.
    public var crs: String?
    /// Depth of the pipe top below ground at the route's start and end, metres; linear between.
    public var depthAtStart: Double
    public var depthAtEnd: Double
    /// Where it runs, for the minimum-cover check.
    public var surface: SurfaceKind

    public init(
        profile: PipeProfile, route: LineString, crs: String? = nil, depthAtStart: Double, depthAtEnd: Double,
        surface: SurfaceKind = .carriageway
    ) {
        self.profile = profile
        self.route = route
        self.crs = crs
        self.depthAtStart = depthAtStart
        self.depthAtEnd = depthAtEnd
        self.surface = surface
    }
}

/// One clearance the planned pipe was checked for.
public struct RouteFinding: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Plan clearance to a pipe the route runs near (not across).
        case horizontal
        /// Clearance above or below a pipe the route crosses, at the crossing.
        case vertical
        /// Depth of cover of the planned pipe.
        case cover
    }

    public enum Status: String, Hashable, Sendable, Codable {
        /// `actual >= required` (equal complies: the tables give minimums; compared with
        /// ``UtilityEngine/clearanceTolerance``).
        case ok
        case violation
        /// The existing pipe's depth is not surveyed, so the vertical clearance cannot be checked.
        case unknownDepth
    }

    public var kind: Kind
    public var status: Status
    /// The existing pipe (nil for cover).
    public var pipeID: Int64?
    public var layer: LayerCode?
    public var owner: String?
    /// Where along the planned route (metres from its start) and where in plan (map CRS).
    public var routeOffset: Double
    public var point: PlanPoint
    /// Required clearance (metres) and the rule.
    public var required: Double
    public var rule: ClearanceRule
    /// Actual clearance, outer wall to outer wall (metres; negative: the pipes overlap). For
    /// horizontal: centreline distance − both half widths; for vertical: the gap between one
    /// pipe's bottom and the other's top at the crossing; for cover: the depth. nil when unknown.
    public var actual: Double?
    /// Depth of the existing pipe top at the crossing (vertical), metres.
    public var existingDepth: Double?
    /// Depth of the planned pipe top there, metres.
    public var plannedDepth: Double?
    /// The operator's id of the existing pipe (``PipeSegment/sourceID``), when it has a text id.
    public var sourceID: String? = nil
    /// The feature key when the existing pipe has several parts (``PipeSegment/feature``).
    public var feature: Int64? = nil
    /// What the existing line is (``PipeSegment/featureKind``). A planned pipe must clear a
    /// sleeve's or bed's own wall, so an enclosure near the route is a finding of its own,
    /// marked with its kind, beside the line it carries.
    public var featureKind: FeatureKind = .utilityLine
    /// The file the existing pipe was imported from (``PipeSegment/sourceFile``).
    public var sourceFile: String? = nil
    /// The existing pipe's nominal laying depth (``PipeSegment/nominalDepth``) when no depth
    /// was surveyed (``existingDepth`` nil): shown to the reader, never used as a clearance.
    public var nominalDepth: Double? = nil
    /// The findings of the cable beds, sleeves and casings carrying this line, folded into its
    /// first finding in report order (``EnclosureHits/grouped``); ``status`` is then the worst of
    /// its own and theirs. Empty when separate or there are none.
    public var enclosures: [RouteEnclosure] = []
}

/// A pair a check should judge but no rule covers (a pipe layer the rule file gives no class, a
/// table cell the file leaves out, gas above the tables' pressure classes): reported as not
/// checked, so a missing rule never reads as compliant.
public struct UncheckedPair: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Plan clearance between the planned pipe and a pipe it runs near.
        case horizontal
        /// Clearance at a crossing.
        case vertical
        /// Minimum cover of the planned pipe.
        case cover
        /// Excavation clearance between a dig and a pipe.
        case excavation
    }

    public var kind: Kind
    /// The existing pipe (nil for cover).
    public var pipeID: Int64?
    public var layer: LayerCode?
    public var owner: String?
    /// One line, e.g. `"not checked: no rule for QT–RQ in GB50289 table 4.1.14"`.
    public var reason: String
    /// The operator's id of the pipe (``PipeSegment/sourceID``), when the source had a text id.
    public var sourceID: String?
    /// The feature key when the pipe has several parts (``PipeSegment/feature``).
    public var feature: Int64?
    /// The file the pipe was imported from (``PipeSegment/sourceFile``).
    public var sourceFile: String?

    public init(
        kind: Kind, pipeID: Int64?, layer: LayerCode?, owner: String?, reason: String, sourceID: String? = nil,
        feature: Int64? = nil, sourceFile: String? = nil
    ) {
        self.kind = kind
        self.pipeID = pipeID
        self.layer = layer
        self.owner = owner
        self.reason = reason
        self.sourceID = sourceID
        self.feature = feature
        self.sourceFile = sourceFile
    }
}

/// The overall answer of a route or dig check, in order of precedence.
public enum CheckResult: String, Hashable, Sendable, Codable {
    /// At least one violation (route) or conflict (dig).
    case violation
    /// None found, but some pair the check should judge had no rule (``UncheckedPair``): the
    /// answer is incomplete and must not be read as clear.
    case notChecked = "not-checked"
    /// Every pair judged, all compliant.
    case ok
}

/// The answer to a route clearance check.
public struct RouteReport: Hashable, Sendable, Codable {
    /// ``CheckResult/violation`` when any finding is a violation, else
    /// ``CheckResult/notChecked`` when ``unchecked`` is not empty or a crossing's depth is
    /// unknown (``RouteFinding/Status/unknownDepth``), else ``CheckResult/ok``.
    public var result: CheckResult
    /// Every check made, violations first, then by offset along the route.
    public var findings: [RouteFinding]
    /// Pairs no rule covers (existing pipes near or across the route, the planned pipe's cover),
    /// by pipe id (cover first).
    public var unchecked: [UncheckedPair]
    /// The existing pipes of ``unchecked``, sorted.
    public var unruledPipeIDs: [Int64]
    public var mapCRS: String
    public var rules: String
    public var mapVersion: UInt64

    /// Only the violations.
    public var violations: [RouteFinding] { findings.filter { $0.status == .violation } }
}

extension UtilityEngine {
    /// Checks a planned pipe against the existing network: horizontal clearance to every pipe the
    /// route runs near, vertical clearance at every crossing (depths interpolated at the crossing
    /// point on both pipes, both pipes' outer sizes), and minimum cover at both ends (depth is
    /// linear, so the ends bound it), against the clearance tables.
    ///
    /// A pipe the route crosses is checked vertically at each crossing and not horizontally; a
    /// pipe the route overlaps collinearly is a horizontal finding with centreline distance 0.
    /// Compliant means `actual >= required`. Horizontal findings are listed for every pipe whose
    /// outer-wall clearance is below the rule plus `nearMargin` metres (violations and near misses).
    ///
    /// A pair no rule covers is an ``UncheckedPair`` (and the report's result
    /// ``CheckResult/notChecked`` unless there are violations): a pipe the route crosses with no
    /// vertical rule, a pipe nearer than the largest horizontal clearance of the rule file plus
    /// `nearMargin` with no horizontal rule, and the planned pipe's cover when no cover rule
    /// covers it. Pairs the file declares unconstrained (``ClearanceRules/isUnconstrained(_:_:vertical:)``)
    /// are not unchecked.
    ///
    /// ```swift
    /// let main = PlannedPipe(profile: PipeProfile(layer: .gas, pressureClass: .mediumA, diameterMM: 200),
    ///                        route: try LineString([a, b]), depthAtStart: 1.0, depthAtEnd: 1.2)
    /// for v in try engine.routeCheck(main).violations { print(v.pipeID!, v.required, v.actual!) }
    /// ```
    /// - Complexity: O(log n + c) for c segment candidates of the index within the largest
    ///   clearance of the route, plus O(v·w) per pipe found (v vertices against the route's w)
    ///   for its crossings or closest point.
    /// With ``EnclosureHits/grouped`` (the default), a finding of a cable bed, sleeve or casing
    /// that carries a line with a finding of its own (``carriedFeatures(_:row:)``) is folded into
    /// that line's first finding (``RouteFinding/enclosures``), raising its status when worse; an
    /// enclosure carrying no line with a finding keeps its findings.
    /// - Parameter filter: which existing pipes to check against (default all).
    public func routeCheck(
        _ planned: PlannedPipe, nearMargin: Double = 1.0, filter: PipeFilter = .all, enclosures: EnclosureHits = .grouped
    ) throws(EngineError) -> RouteReport {
        let at = "routeCheck"
        try checkRulesApply(at: at)
        try Self.checkDistance(nearMargin, "nearMargin", at: at)
        typealias Limits = ClearanceRules.Limits
        for (name, d) in [("depthAtStart", planned.depthAtStart), ("depthAtEnd", planned.depthAtEnd)] {
            try Self.checkPlanned(d, name, max: Limits.distanceM, unit: "m", at: at)
        }
        if let dn = planned.profile.diameterMM {
            try Self.checkPlanned(dn, "diameterMM", max: Limits.diameterMM, unit: "mm", at: at)
        }
        if let kv = planned.profile.voltageKV {
            try Self.checkPlanned(kv, "voltageKV", max: Limits.voltageKV, unit: "kV", at: at)
        }
        let route = try toMap(.lineString(planned.route), crs: planned.crs, at: "\(at) route")
        let snap = snapshot
        let size = (planned.profile.diameterMM ?? 0) / 1000
        var routeAlong = [0.0]
        var along = 0.0
        for (a, b) in route.segments {
            along += Kernel.distance(a, b)
            routeAlong.append(along)
        }
        let routeLength = along
        func plannedDepth(at offset: Double) -> Double {
            routeLength > 0 ? planned.depthAtStart + (planned.depthAtEnd - planned.depthAtStart) * offset / routeLength
                : planned.depthAtStart
        }
        // Pairs with no rule are judged "not checked" within the largest clearance the file gives.
        let unruledReach = rules.largestHorizontalClearance
        let reach = routeReach(planned, nearMargin: nearMargin, figures(snap))

        var findings: [RouteFinding] = []
        var unchecked: [UncheckedPair] = []
        func noRule(_ kind: UncheckedPair.Kind, _ s: PipeSegment, table: String) {
            unchecked.append(UncheckedPair(
                kind: kind, pipeID: s.id, layer: s.layer, owner: s.owner,
                reason: "not checked: no rule for \(planned.profile.layer)–\(s.layer) in \(table)", sourceID: s.sourceID,
                feature: s.feature, sourceFile: s.sourceFile))
        }
        // The segment index gives every pipe within reach with its exact distance to the route;
        // only the pipes it answers with are read, and only those at distance 0 (a shared point)
        // are walked for crossings.
        for n in rows(snap, route, within: reach, filter) {
            let r = Int(n.id), distance = n.distance
            let s = snap.record(r)
            let profile = snap.profile(r)
            // Crossings: proper or touching points shared with the route; collinear overlaps are
            // parallel runs at distance 0 and go to the horizontal check.
            var crossings: [(offset: Double, point: Point, u: Double)] = []
            var overlaps = false
            if distance == 0 {
                let line = _PipeLine(s)
                for (i, (a, b)) in route.segments.enumerated() {
                    for v in line.segmentStarts {
                        let p0 = line.point(v), p1 = line.point(v + 1)
                        switch Kernel.intersection(a, b, p0, p1) {
                        case .none: break
                        case .overlap: overlaps = true
                        case .point(let p):
                            let t = Kernel.project(p, ontoSegment: a, b).t
                            let tp = Kernel.project(p, ontoSegment: p0, p1).t
                            crossings.append((routeAlong[i] + t * (routeAlong[i + 1] - routeAlong[i]), p,
                                              line.parameter(vertex: v, t: tp)))
                        }
                    }
                }
            }
            if !crossings.isEmpty && !overlaps {
                guard let rule = rules.vertical(planned.profile, profile) else {
                    if !rules.isUnconstrained(planned.profile, profile, vertical: true) {
                        noRule(.vertical, s, table: rules.verticalTableID)
                    }
                    continue
                }
                // A crossing at a shared vertex of two route (or pipe) segments is found twice.
                crossings.sort { $0.offset < $1.offset }
                var last = -Double.infinity
                for x in crossings where x.offset - last > 1e-9 {
                    last = x.offset
                    let dP = plannedDepth(at: x.offset)
                    let dE = snap.depth(row: r, at: x.u)
                    let hE = snap.height(r).isNaN ? 0 : snap.height(r)
                    let gap = dE.map { max(dP - ($0 + hE), $0 - (dP + size)) }
                    findings.append(RouteFinding(
                        kind: .vertical, status: gap.map { $0 >= rule.distance - Self.clearanceTolerance ? .ok : .violation } ?? .unknownDepth,
                        pipeID: s.id, layer: s.layer, owner: s.owner, routeOffset: x.offset,
                        point: PlanPoint(x: x.point.x, y: x.point.y), required: rule.distance, rule: rule, actual: gap,
                        existingDepth: dE, plannedDepth: dP, sourceID: s.sourceID, feature: s.feature,
                        featureKind: s.featureKind, sourceFile: s.sourceFile,
                        nominalDepth: dE == nil ? s.nominalDepth : nil))
                }
                continue
            }
            let actual = distance - size / 2 - snap.width(r) / 2
            guard let rule = rules.horizontal(planned.profile, profile) else {
                if actual < unruledReach + nearMargin, !rules.isUnconstrained(planned.profile, profile, vertical: false) {
                    noRule(.horizontal, s, table: rules.horizontalTableID)
                }
                continue
            }
            // Only pipes the route runs near: outer walls closer than the rule plus the margin.
            guard actual < rule.distance + nearMargin else { continue }
            let c = snap.closest(row: r, to: route, distance: distance)
            let offset = Self.offset(of: c.point, along: route.segments, routeAlong)
            findings.append(RouteFinding(
                kind: .horizontal, status: actual >= rule.distance - Self.clearanceTolerance ? .ok : .violation, pipeID: s.id, layer: s.layer,
                owner: s.owner, routeOffset: offset, point: PlanPoint(x: c.point.x, y: c.point.y),
                required: rule.distance, rule: rule, actual: actual, existingDepth: c.depth,
                plannedDepth: plannedDepth(at: offset), sourceID: s.sourceID, feature: s.feature,
                featureKind: s.featureKind, sourceFile: s.sourceFile,
                nominalDepth: c.depth == nil ? s.nominalDepth : nil))
        }
        // A LineString has at least two points, so the route has a segment; checked, not assumed.
        guard let routeStart = route.segments.first?.0, let routeEnd = route.segments.last?.1 else {
            throw EngineError("the route has no segment", at: "\(at) route")
        }
        if let rule = rules.minimumCover(planned.profile, under: planned.surface) {
            for (offset, depth) in [(0.0, planned.depthAtStart), (routeLength, planned.depthAtEnd)] {
                let p = offset == 0 ? routeStart : routeEnd
                findings.append(RouteFinding(
                    kind: .cover, status: depth >= rule.distance - Self.clearanceTolerance ? .ok : .violation, pipeID: nil, layer: nil, owner: nil,
                    routeOffset: offset, point: PlanPoint(x: p.x, y: p.y), required: rule.distance, rule: rule,
                    actual: depth, existingDepth: nil, plannedDepth: depth))
            }
        } else {
            unchecked.append(UncheckedPair(
                kind: .cover, pipeID: nil, layer: planned.profile.layer, owner: nil,
                reason: "not checked: no rule for \(planned.profile.layer) cover under \(planned.surface.rawValue) in \(rules.minimumCoverTableID)"))
        }
        findings.sort {
            ($0.status == .violation ? 0 : 1, $0.routeOffset, $0.pipeID ?? -1)
                < ($1.status == .violation ? 0 : 1, $1.routeOffset, $1.pipeID ?? -1)
        }
        unchecked.sort { ($0.pipeID ?? -1, $0.kind.rawValue) < ($1.pipeID ?? -1, $1.kind.rawValue) }
        if snap.multiPart { (findings, unchecked) = Self.oncePerFeature(findings, unchecked) }
        if enclosures == .grouped, snap.enclosures { findings = groupEnclosures(snap, findings) }
        // A crossing whose depth was not surveyed is not a pass either: the safe reading.
        let result: CheckResult = findings.contains { $0.status == .violation } ? .violation
            : unchecked.isEmpty && !findings.contains { $0.status == .unknownDepth } ? .ok : .notChecked
        return RouteReport(
            result: result, findings: findings, unchecked: unchecked,
            unruledPipeIDs: Array(Set(unchecked.compactMap(\.pipeID))).sorted(), mapCRS: crs, rules: rules.name,
            mapVersion: snap.version)
    }

    /// `findings` (in report order) with each finding of an enclosure that carries a line with a
    /// finding moved into that line's first finding, whose status becomes the worst of both
    /// (violation, unknown depth, ok); then in report order again. O(f log f) plus
    /// ``carriedFeatures(_:row:)`` per enclosure finding.
    func groupEnclosures(_ snap: _Snapshot, _ findings: [RouteFinding]) -> [RouteFinding] {
        func rank(_ s: RouteFinding.Status) -> Int { s == .violation ? 2 : s == .unknownDepth ? 1 : 0 }
        var out = foldEnclosures(
            snap, findings,
            lineKey: { f in f.featureKind.isEnclosure ? nil : f.pipeID.map { f.feature ?? $0 } },
            enclosureRow: { _, f in f.featureKind.isEnclosure ? f.pipeID.flatMap { snap.rowOfID[$0] } : nil },
            fold: { line, f in
                line.enclosures.append(RouteEnclosure(
                    pipeID: f.pipeID!, kind: f.featureKind, sourceID: f.sourceID, findingKind: f.kind, status: f.status,
                    required: f.required, actual: f.actual, sourceFile: f.sourceFile))
                if rank(f.status) > rank(line.status) { line.status = f.status }
            })
        guard out.count < findings.count else { return findings }
        out.sort {
            ($0.status == .violation ? 0 : 1, $0.routeOffset, $0.pipeID ?? -1)
                < ($1.status == .violation ? 0 : 1, $1.routeOffset, $1.pipeID ?? -1)
        }
        return out
    }

    /// Distance along a polyline (given as segments with cumulative lengths) to its point nearest `p`.
    /// A pipe of several parts judged as one: its horizontal finding once, from the part nearest
    /// the route (findings are sorted, so a violation comes first); a crossing once where two of
    /// its parts meet at the crossing point; a "not checked" pair once per kind. Sorted inputs
    /// stay sorted. O(f + u).
    static func oncePerFeature(_ findings: [RouteFinding], _ unchecked: [UncheckedPair])
        -> ([RouteFinding], [UncheckedPair])
    {
        var horizontal: [Int64: Int] = [:]
        for (i, f) in findings.enumerated() where f.kind == .horizontal {
            guard let id = f.pipeID else { continue }
            let key = f.feature ?? id
            if let j = horizontal[key] {
                let g = findings[j]
                if (f.actual ?? .infinity, id) < (g.actual ?? .infinity, g.pipeID ?? -1) { horizontal[key] = i }
            } else {
                horizontal[key] = i
            }
        }
        var crossings = Set<String>()
        let kept = findings.enumerated().filter { i, f in
            guard let id = f.pipeID else { return true }
            let key = f.feature ?? id
            switch f.kind {
            case .horizontal: return horizontal[key] == i
            case .vertical:
                guard f.feature != nil else { return true }
                // Offsets within 1 nm are one crossing, as for a pipe crossed at its own vertex.
                return crossings.insert("\(key)@\((f.routeOffset * 1e9).rounded())").inserted
            case .cover: return true
            }
        }.map(\.element)
        var seen = Set<String>()
        let pairs = unchecked.filter { u in
            guard let id = u.pipeID else { return true }
            return seen.insert("\(u.feature ?? id)/\(u.kind.rawValue)").inserted
        }
        return (kept, pairs)
    }

    static func offset(of p: Point, along segments: [(Point, Point)], _ cumulative: [Double]) -> Double {
        var best = (Double.infinity, 0.0)
        for (i, (a, b)) in segments.enumerated() {
            let pr = Kernel.project(p, ontoSegment: a, b)
            if pr.distance < best.0 { best = (pr.distance, cumulative[i] + pr.t * (cumulative[i + 1] - cumulative[i])) }
        }
        return best.1
    }
}
