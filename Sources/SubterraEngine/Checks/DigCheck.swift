import SubterraGeometry
import SubterraIndex
import SubterraModel

/// How urgent a finding is, lowest first.
public enum Severity: String, Hashable, Sendable, Codable, Comparable, CaseIterable {
    case low, medium, high, critical

    public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }

    private var rank: Int {
        switch self {
        case .low: 0
        case .medium: 1
        case .high: 2
        case .critical: 3
        }
    }
}

/// A dig-before-you-dig request: the excavation area, how deep it goes and, optionally, what for.
public struct DigRequest: Hashable, Sendable {
    /// The excavation area (polygon, multipolygon, or a point/line for a small dig), in `crs`.
    public var area: Geometry
    /// CRS of `area`, e.g. `"EPSG:4326"`; nil means the map CRS.
    public var crs: String?
    /// Planned depth below ground, metres.
    public var plannedDepth: Double
    /// Free text, e.g. `"trench for fibre duct"`. When the rule file has excavation clearances for
    /// this work type (``ClearanceRules/excavationWorkTypes``, matched ignoring case and spacing),
    /// they apply instead of the default excavation rule; otherwise it is only carried into the report.
    public var workType: String?
    /// ISO 8601 dates, carried into the report.
    public var startDate: String?
    public var endDate: String?
    /// When the dig lays a utility, its profile: the clearance then comes from the horizontal table
    /// between it and each existing pipe instead of the excavation rule.
    public var plannedUtility: PipeProfile?

    public init(
        area: Geometry, crs: String? = nil, plannedDepth: Double, workType: String? = nil,
        startDate: String? = nil, endDate: String? = nil, plannedUtility: PipeProfile? = nil
    ) {
        self.area = area
        self.crs = crs
        self.plannedDepth = plannedDepth
        self.workType = workType
        self.startDate = startDate
        self.endDate = endDate
        self.plannedUtility = plannedUtility
    }
}

/// One pipe a dig touches or comes too close to.
///
/// GB 50289 clearances are clear distances to the pipe's outer wall, so the decision uses
/// ``clearDistance`` (centreline distance less half the outer width), not the centreline
/// ``distance``: a DN1000 main or a 2 m culvert is half its width nearer the dig than its
/// centreline. A pipe with no surveyed section counts as having no width (its wall is taken at
/// its centreline), which is all the survey allows.
public struct DigConflict: Hashable, Sendable, Codable {
    public var pipeID: Int64
    public var layer: LayerCode
    public var subtype: SubtypeCode?
    public var owner: String?
    /// Section notation (`"DN300"`, `"800x600"`), when surveyed.
    public var section: String?
    public var gasPressureMPa: Double?
    public var voltageKV: Double?
    /// Exact horizontal distance from the dig area to the pipe **centreline**, metres
    /// (0: the centreline is inside or crosses the area). Given for reference and mapping; the
    /// clearance is checked against ``clearDistance``.
    public var distance: Double
    /// Horizontal clear distance from the dig area to the pipe's outer wall, metres; the figure
    /// the clearance is checked against: `max(0, distance − outerWidth / 2)` (0: the dig reaches
    /// the wall, crossing the pipe).
    public var clearDistance: Double
    /// Outer width of the pipe (diameter, or box width), metres; 0 when no section was surveyed.
    public var outerWidth: Double
    /// The point of the pipe centreline nearest the dig (the shallowest one inside it when the
    /// centreline crosses).
    public var closestPoint: PlanPoint
    /// Depth of the pipe top there; nil when not surveyed.
    public var depth: Double?
    /// Whether the planned depth reaches the pipe top there (widened by the vertical accuracy);
    /// true when the depth is unknown, since then it cannot be ruled out.
    public var reachesPipe: Bool
    /// Clearance the rule asks for, metres, before widening.
    public var ruleClearance: Double
    /// The rule applied: the excavation rule (`"Subterra excavation clearance for power (largest of
    /// GB50289 table 4.1.9 row: heat buried 2 m), 2 m"`), or the table 4.1.9 cell against the planned
    /// utility; nil when no table covers the pipe and the fallback (the largest clearance any
    /// covered pipe of the map gets for this dig) was used.
    public var rule: ClearanceRule?
    /// Horizontal positional accuracy, metres, added to the clearance: the stated one, or the
    /// rule profile's conservative default (``ClearanceRules/unknownHorizontalAccuracy``) when
    /// the record states none (see ``accuracyStated``).
    public var accuracy: Double
    /// `ruleClearance + accuracy`, a clear distance to the pipe's outer wall: the pipe is too close
    /// when `clearDistance < requiredClearance` (by more than ``UtilityEngine/clearanceTolerance``)
    /// or `clearDistance` is 0.
    public var requiredClearance: Double
    public var severity: Severity
    /// Why this severity, in words.
    public var reason: String
    /// The operator's id of the pipe (``PipeSegment/sourceID``), when the source had a text id.
    public var sourceID: String? = nil
    /// The feature key when the pipe has several parts (``PipeSegment/feature``): `pipeID` is then
    /// the part reported, the one most severe and, among those, nearest.
    public var feature: Int64? = nil

    /// The pipe's key: its feature for a part of a multi-part pipe, else `pipeID`.
    public var featureID: Int64 { feature ?? pipeID }
    /// Whether ``accuracy`` was stated by the record: false for the delivery's default
    /// (``accuracyBasis`` ``AccuracyBasis/sourceDefault``) and for the profile's default for
    /// unknown (``AccuracyBasis/profileDefault``).
    public var accuracyStated: Bool = true
    /// Where ``accuracy`` comes from.
    public var accuracyBasis: AccuracyBasis = .stated
    /// The network's nominal laying depth at the pipe, when only that is known (``depth`` is then
    /// nil): never used to rule out reaching the pipe.
    public var nominalDepth: Double? = nil
    /// Whether the dig reaches the pipe, in words: `"yes"`, `"no"` (a surveyed depth rules it
    /// out), `"possibly"` (only a nominal depth is known) or `"unknown"` (no depth at all). Only
    /// a surveyed depth ever gives `"no"`.
    public var reaches: String = "yes"
    /// What the pipe is (``PipeSegment/featureKind``). A cable bed, sleeve or casing is a
    /// conflict of its own only when no line it carries is one (an empty duct, a sleeve whose
    /// cable was not delivered or stays clear).
    public var featureKind: FeatureKind = .utilityLine
    /// The cable beds, sleeves and casings carrying this line that the dig also conflicts with,
    /// most severe first, then nearest, then by id: grouped here, not reported apart, and their
    /// owner counted once, with the line. ``severity`` is the highest of the line's and theirs.
    public var enclosures: [DigEnclosure] = []
    /// The file the pipe was imported from (``PipeSegment/sourceFile``), as given to the import.
    public var sourceFile: String? = nil
}

/// Where a conflict's positional accuracy comes from.
public enum AccuracyBasis: String, Hashable, Sendable, Codable {
    /// The record's own accuracy.
    case stated
    /// The delivery's accuracy for records that state none (``PipeSegment/accuracyAssumed``, a
    /// mapping's `defaultAccuracy`): assumed, not stated.
    case sourceDefault
    /// Nothing known: the rule profile's conservative default
    /// (``ClearanceRules/unknownHorizontalAccuracy``).
    case profileDefault
}

/// An operator precaution a dig falls within (the rule profile's `precaution` section): the
/// operator must be consulted or present, whether or not the pipe is also a conflict.
public struct PrecautionNotice: Hashable, Sendable, Codable {
    public var pipeID: Int64
    public var layer: LayerCode
    public var owner: String?
    /// Clear distance from the dig to the pipe's outer wall, metres.
    public var clearDistance: Double
    /// The precaution distance widened by the pipe's positional accuracy, metres.
    public var requiredDistance: Double
    /// The profile's rule; its ``ClearanceRule/basis`` is the text shown to the user.
    public var rule: ClearanceRule
    /// The operator's id of the pipe, when delivered.
    public var sourceID: String? = nil
    /// The pipe's feature key (``PipeSegment/featureID``): a multi-part pipe is listed once, at
    /// its nearest part.
    public var feature: Int64 = 0
    /// The file the pipe was imported from (``PipeSegment/sourceFile``), as given to the import.
    public var sourceFile: String? = nil
}

/// Pipes of one layer that a dig affects.
public struct DigLayerSummary: Hashable, Sendable, Codable {
    public var layer: LayerCode
    public var pipeIDs: [Int64]
    public var highestSeverity: Severity
}

/// An operator to notify, with their affected pipes (as dig-notification services answer).
public struct OwnerNotice: Hashable, Sendable, Codable {
    /// Owner as surveyed; `"(unknown owner)"` for pipes with none.
    public var owner: String
    public var pipeIDs: [Int64]
    public var layers: [LayerCode]
    public var highestSeverity: Severity
    /// Ids of the operator's precaution zones and interest areas the dig touches
    /// (``DigReport/areas``); an operator with areas but no conflicting pipes is notified too.
    public var areaIDs: [Int64] = []
}

/// The answer to a ``DigRequest``.
public struct DigReport: Hashable, Sendable, Codable {
    public var plannedDepth: Double
    public var workType: String?
    public var startDate: String?
    public var endDate: String?
    /// The dig area's bounds in the map CRS.
    public var areaBounds: [Double]
    public var mapCRS: String
    public var rules: String
    /// ``CheckResult/violation`` when any pipe conflicts, else ``CheckResult/notChecked`` when
    /// ``unchecked`` is not empty, else ``CheckResult/ok`` (clear).
    public var result: CheckResult
    /// Every affected pipe, most severe first, then nearest by ``DigConflict/clearDistance``, then by
    /// id; a pipe of several parts once, as its most severe part (then the nearest).
    public var conflicts: [DigConflict]
    /// Pipes near the dig that no rule covers and no fallback clearance could judge, by id.
    public var unchecked: [UncheckedPair]
    public var layers: [DigLayerSummary]
    public var owners: [OwnerNotice]
    /// Highest severity found; nil when the dig is clear.
    public var highestSeverity: Severity?
    /// Snapshot version the answer was computed on.
    public var mapVersion: UInt64
    /// Operator precautions the dig falls within, by pipe id (empty when the profile has none).
    public var precautions: [PrecautionNotice] = []
    /// Operators' precaution zones and interest areas the dig touches, precaution zones first,
    /// then by operator and id.
    public var areas: [AreaNotice] = []
}

extension UtilityEngine {
    /// How far below a required clearance a distance may fall and still count as equal to it:
    /// 1 nm, far below survey accuracy (centimetres) and far above the kernels' rounding at
    /// survey coordinates (~1e-10 m), so "exactly at the clearance" is decided the same way
    /// whatever the rounding.
    public static let clearanceTolerance = 1e-9

    /// Every pipe an excavation touches or comes too close to, with its clear distance to the pipe's
    /// outer wall (and the centreline distance), depth at the closest point, whether the dig reaches
    /// it, the clearance that applies, a severity, and the owners to notify.
    ///
    /// Rules, in order:
    /// - **Clearance**: from ``ClearanceRules/horizontal(_:_:)`` against `plannedUtility` when the
    ///   dig lays one, else ``ClearanceRules/excavation(_:workType:)`` with the request's work type
    ///   (a city's per-work-type values when its rule file has them); a pipe no table covers (e.g. gas
    ///   above 1.6 MPa, unmapped layers) gets the largest excavation clearance any covered pipe
    ///   has. The clearance is widened by the pipe's horizontal positional accuracy; a record that
    ///   states none is not taken as exact but gets the rule profile's conservative
    ///   ``ClearanceRules/unknownHorizontalAccuracy`` (1 m unless the profile says otherwise).
    /// - **Not checked**: when that fallback is 0 (no pipe of the map, or none against the planned
    ///   utility, has a rule), a pipe with no rule whose wall is nearer than the largest clearance
    ///   of the rule file (``ClearanceRules/largestExcavationClearance``, widened by its accuracy)
    ///   is an ``UncheckedPair`` ("not checked: no rule for dig–GY ..."), so the report is
    ///   ``CheckResult/notChecked``, never clear.
    /// - **Clear distance**: GB 50289 clearances are clear distances to the pipe's outer wall, so
    ///   each pipe is measured as `clearDistance = max(0, distance − outerWidth / 2)`, the exact
    ///   centreline distance less half the surveyed outer width (0 when no section was surveyed:
    ///   the wall is then taken at the centreline).
    /// - **Too close** means `clearDistance < requiredClearance − 1 nm` (``clearanceTolerance``); a
    ///   pipe whose wall is exactly at the widened clearance is compliant (GB 50289 clearances are
    ///   minimums, so equal satisfies them), also when the kernel's last-ulp rounding lands just
    ///   below it. A pipe at clear distance 0 (the dig reaches its wall) is always reported.
    /// - **Reaches**: `plannedDepth + verticalAccuracy >= depth of the pipe top`; unknown depth
    ///   counts as reached. A nominal depth (``PipeSegment/nominalDepth``) is not a surveyed one:
    ///   the pipe then counts as reached too, reported as `reaches: "possibly"` with the reason.
    /// - **Severity**: critical for critical pipes (``ClearanceRules/criticalReason(_:)``: the rule
    ///   file's `severity.critical` classes, by default gas at or above sub-high B and power at or
    ///   above 10 kV, and a line of those classes whose pressure or voltage was not surveyed); else high when the dig crosses the pipe
    ///   (clear distance 0) and reaches it, medium when it only does one of the two, low when it is
    ///   near but stays above.
    ///
    /// ```swift
    /// let site = Geometry.polygon(try Polygon(exterior: LinearRing(lonLatCorners)))
    /// let report = try engine.digCheck(DigRequest(area: site, crs: "EPSG:4326", plannedDepth: 1.5,
    ///                                             workType: "water service connection"))
    /// for notice in report.owners { print(notice.owner, notice.pipeIDs, notice.highestSeverity) }
    /// ```
    /// - Complexity: O(log n + c) for c segment candidates of the index within the largest
    ///   clearance, the largest accuracy and the largest half width of the area, plus O(v·w) per
    ///   conflicting pipe (v vertices against the area's w) for its closest point and depth.
    /// - Parameter filter: which pipes to consider (default all), e.g. one operator's network.
    public func digCheck(_ request: DigRequest, filter: PipeFilter = .all) throws(EngineError) -> DigReport {
        var scratch = digScratches.withLock { $0.popLast() } ?? _DigScratch()
        defer { digScratches.withLock { if $0.count < Self.digScratchLimit { $0.append(scratch) } } }
        return try digCheck(request, filter: filter, snapshot: snapshot, scratch: &scratch)
    }

    /// `digCheck` on `snap`, with working buffers from `scratch` (``DigChecker`` keeps them
    /// between checks): the query shape, the candidate rows, each pipe profile's judgement under
    /// this request's rule (`_DigJudgement`, computed once per profile and work type), the reason
    /// texts, and the previous report's arrays (refilled in place when the caller has let that
    /// report go).
    func digCheck(
        _ request: DigRequest, filter: PipeFilter, snapshot snap: _Snapshot, scratch: inout _DigScratch
    ) throws(EngineError) -> DigReport {
        let at = "digCheck"
        try checkRulesApply(at: at)
        try Self.checkPlanned(request.plannedDepth, "planned depth", max: ClearanceRules.Limits.distanceM, unit: "m", at: at)
        try toMapChecked(request.area, crs: request.crs, at: "digCheck area", into: &scratch.shape)
        let q = scratch.shape
        let workType = rules.excavationWorkType(matching: request.workType)
        let (reach, fallback, uncheckedReach) = digReach(request, workType: workType, figures(snap))
        scratch.prepareJudgements(workType: workType, planned: request.plannedUtility)
        // Records without a stated accuracy get the profile's default, never 0.
        let unknownAccuracy = rules.unknownHorizontalAccuracy
        // The previous report's buffers: unique (refilled in place) once its caller let it go.
        var report = scratch.takeReport()
        report.conflicts.removeAll(keepingCapacity: true)
        report.unchecked.removeAll(keepingCapacity: true)
        report.precautions.removeAll(keepingCapacity: true)
        var precautions = report.precautions
        report.precautions = []
        // Row of each conflicting cable bed, sleeve or casing, by pipe id.
        var enclosureRows: [Int64: Int] = [:]
        // The segment index gives every pipe within reach with its exact centreline distance;
        // the row is read for its rule, and measured for its closest point and depth only when
        // it conflicts.
        rows(snap, q, within: reach, filter, into: &scratch.hits)
        // A fresh report's list is made once, as long as it can get (no regrowing).
        if report.conflicts.capacity == 0 { report.conflicts.reserveCapacity(scratch.hits.count) }
        // The row's table is lent, not retained, per candidate: a shared table's reference
        // count is one cache line that every thread of a batch would write.
        for n in scratch.hits {
            let r = Int(n.id), distance = n.distance
            snap.withRow(r) { table, local in
                // The judgement is read in place: only a conflict copies its rule and texts.
                let ji = scratch.judgement(table, local, self, planned: request.plannedUtility, workType: workType)
                let (ruleDistance, precautionDistance, unconstrained) = scratch.judgedFigures[ji]
                let ruleClearance = ruleDistance ?? fallback
                let stated = _Snapshot.statedAccuracy(table, local)
                let acc = stated ?? unknownAccuracy
                let required = ruleClearance + acc
                let outerWidth = table.width(local)
                let clearDistance = max(0, distance - outerWidth / 2)
                if let prd = precautionDistance,
                    clearDistance < prd + acc - Self.clearanceTolerance || clearDistance == 0,
                    let pr = scratch.judgements[ji].precaution
                {
                    let k = table.kindOf(local)
                    precautions.append(PrecautionNotice(
                        pipeID: table.ids[local], layer: k.layer, owner: k.owner, clearDistance: clearDistance,
                        requiredDistance: pr.distance + acc, rule: pr, sourceID: table.sourceIDOf(local),
                        feature: table.feature[local], sourceFile: k.sourceFile))
                }
                guard clearDistance == 0 || clearDistance < required - Self.clearanceTolerance else {
                    if ruleDistance == nil, clearDistance < uncheckedReach + acc, !unconstrained {
                        let k = table.kindOf(local)
                        let other = request.plannedUtility.map(\.layer.rawValue) ?? "dig"
                        let tableID = request.plannedUtility == nil ? rules.excavationTableID : rules.horizontalTableID
                        report.unchecked.append(UncheckedPair(
                            kind: .excavation, pipeID: table.ids[local], layer: k.layer, owner: k.owner,
                            reason: "not checked: no rule for \(other)–\(k.layer) in \(tableID)",
                            sourceID: table.sourceIDOf(local), feature: table.featureOf(local), sourceFile: k.sourceFile))
                    }
                    return
                }
                let c = snap.closest(row: r, to: q, distance: distance, buffers: &scratch.closest)
                // The record's and the judgement's fields are read in place (both are big to copy).
                // The row's attribute combination is read in place (big to copy).
                let kind = table.kindIndex(local)
                let vAcc = table.kinds.withUnsafeBufferPointer { $0[kind].accuracy?.verticalM ?? 0 }
                let nominalDepth = table.nominalDepthOf(local)
                let (critical, rule) = scratch.judgements.withUnsafeBufferPointer { ($0[ji].critical, $0[ji].rule) }
                let basis: AccuracyBasis = stated == nil
                    ? .profileDefault : table.kinds.withUnsafeBufferPointer { $0[kind].accuracyAssumed } ? .sourceDefault : .stated
                let reaches = c.depth.map { request.plannedDepth + vAcc >= $0 } ?? true
                let nominal = c.depth == nil ? nominalDepth : nil
                let (severity, reason) = scratch.severity(
                    critical: critical, touches: clearDistance == 0, reaches: reaches, depthKnown: c.depth != nil,
                    nominalDepth: nominal, accuracy: basis == .stated ? nil : (basis, acc), self)
                let owner = table.kinds.withUnsafeBufferPointer { scratch.own($0[kind].owner) }
                let sourceID = table.sourceIDOf(local), feature = table.featureOf(local)
                let conflict = table.kinds.withUnsafeBufferPointer { b in
                    DigConflict(
                        pipeID: table.ids[local], layer: b[kind].layer, subtype: b[kind].subtype, owner: owner,
                        section: b[kind].section?.notation, gasPressureMPa: b[kind].gasPressureMPa,
                        voltageKV: b[kind].voltageKV, distance: c.distance, clearDistance: clearDistance, outerWidth: outerWidth,
                        closestPoint: PlanPoint(x: c.point.x, y: c.point.y), depth: c.depth, reachesPipe: reaches,
                        ruleClearance: ruleClearance, rule: rule, accuracy: acc, requiredClearance: required,
                        severity: severity, reason: reason, sourceID: sourceID, feature: feature,
                        accuracyStated: basis == .stated, accuracyBasis: basis, nominalDepth: nominal,
                        reaches: c.depth == nil ? (nominal == nil ? "unknown" : "possibly") : reaches ? "yes" : "no",
                        featureKind: b[kind].featureKind, sourceFile: b[kind].sourceFile)
                }
                if conflict.featureKind.isEnclosure { enclosureRows[conflict.pipeID] = r }
                report.conflicts.append(conflict)
            }
        }
        // Report order: most severe, then nearest, then by id (a total order: ids are unique).
        // The small keys are sorted, not the conflicts, which are big to move.
        scratch.order.removeAll(keepingCapacity: true)
        report.conflicts.withUnsafeBufferPointer { cs in
            for i in cs.indices { scratch.order.append((cs[i].severity, cs[i].clearDistance, cs[i].pipeID, i)) }
        }
        scratch.order.sort { ($1.0, $0.1, $0.2) < ($0.0, $1.1, $1.2) }
        scratch.permutation.removeAll(keepingCapacity: true)
        for k in scratch.order { scratch.permutation.append(k.3) }
        scratch.permute(&report.conflicts)
        report.unchecked.sort { ($0.pipeID ?? -1) < ($1.pipeID ?? -1) }
        if snap.multiPart {
            // A pipe of several parts is one conflict: its first part in report order (most
            // severe, then nearest), and not also "not checked" for another part.
            var seen = Set<Int64>()
            report.conflicts = report.conflicts.filter { seen.insert($0.featureID).inserted }
            report.unchecked = report.unchecked.filter { u in u.pipeID.map { seen.insert(u.feature ?? $0).inserted } ?? true }
        }
        if !enclosureRows.isEmpty { report.conflicts = groupEnclosures(snap, report.conflicts, rows: enclosureRows) }
        if snap.multiPart, !precautions.isEmpty {
            // One notice per pipe: its nearest part.
            precautions.sort { ($0.feature, $0.clearDistance, $0.pipeID) < ($1.feature, $1.clearDistance, $1.pipeID) }
            var seen = Set<Int64>()
            precautions = precautions.filter { seen.insert($0.feature).inserted }
        }
        precautions.sort { $0.pipeID < $1.pipeID }
        report.plannedDepth = request.plannedDepth
        report.workType = request.workType
        report.startDate = request.startDate
        report.endDate = request.endDate
        report.areaBounds.removeAll(keepingCapacity: true)
        report.areaBounds.append(q.envelope.minX)
        report.areaBounds.append(q.envelope.minY)
        report.areaBounds.append(q.envelope.maxX)
        report.areaBounds.append(q.envelope.maxY)
        report.mapCRS = crs
        report.rules = scratch.own(rules.name) ?? rules.name
        report.result = !report.conflicts.isEmpty ? .violation : report.unchecked.isEmpty ? .ok : .notChecked
        var highest: Severity? = nil
        report.conflicts.withUnsafeBufferPointer { cs in
            for i in cs.indices { highest = max(highest ?? cs[i].severity, cs[i].severity) }
        }
        report.highestSeverity = highest
        report.mapVersion = snap.version
        report.precautions = precautions
        scratch.summarize(&report)
        Self.attachPrecautionOwners(to: &report)
        report.areas.removeAll(keepingCapacity: true)
        if !snap.areaSet.areas.isEmpty { Self.attachAreas(snap.areaSet.touching(q).map(\.area), to: &report) }
        scratch.keep(report)
        return report
    }

    /// `conflicts` (in report order) with every cable bed, sleeve or casing that carries a
    /// conflicting line (``carriedFeatures(_:row:)``) moved into that line's
    /// ``DigConflict/enclosures``, raising its severity to the enclosure's when higher; an
    /// enclosure carrying no conflicting line stays a conflict of its own, its reason naming the
    /// lines it carries. Re-sorted into report order. O(e·(log n + c + v·w)) for e enclosures.
    func groupEnclosures(_ snap: _Snapshot, _ conflicts: [DigConflict], rows: [Int64: Int]) -> [DigConflict] {
        var out = foldEnclosures(
            snap, conflicts, lineKey: { $0.featureKind.isEnclosure ? nil : $0.featureID },
            enclosureRow: { rows[$1.pipeID] },
            fold: { line, c in
                line.enclosures.append(DigEnclosure(
                    pipeID: c.pipeID, kind: c.featureKind, sourceID: c.sourceID, clearDistance: c.clearDistance,
                    severity: c.severity, sourceFile: c.sourceFile))
                if c.severity > line.severity {
                    line.severity = c.severity
                    line.reason += "; its \(c.featureKind.words) \(c.pipeID) is \(c.severity.rawValue): \(c.reason)"
                }
            },
            unhosted: { c, carried in
                guard !carried.isEmpty else { return }
                c.reason += "; the \(c.featureKind.words) of line\(carried.count == 1 ? "" : "s") \(carried.map(String.init).joined(separator: ", ")), which the dig does not conflict with"
            })
        out.sort { ($1.severity, $0.clearDistance, $0.pipeID) < ($0.severity, $1.clearDistance, $1.pipeID) }
        return out
    }

    /// `critical` is ``ClearanceRules/criticalReason(_:)`` of the pipe.
    /// A nominal depth (`nominalDepth`, with no surveyed one) is named but counts as unknown:
    /// the pipe is taken as possibly reached, never cleared in depth.
    static func severity(
        critical: String?, touches: Bool, reaches: Bool, depthKnown: Bool, nominalDepth: Double? = nil
    ) -> (Severity, String) {
        let whereText = touches ? "the dig crosses the pipe" : "the dig is within the clearance"
        let unknownText = nominalDepth.map {
            "only a nominal depth of \(_metres($0)) m is known, not a surveyed one: the dig possibly reaches the pipe"
        } ?? "pipe depth unknown, taken as reached"
        let depthText = !depthKnown ? unknownText : reaches ? "the dig reaches the pipe" : "the dig stays above the pipe"
        let text = "\(whereText); \(depthText)"
        if let critical { return (.critical, "\(critical): \(text)") }
        switch (touches, reaches) {
        case (true, true): return (.high, text)
        case (false, false): return (.low, text)
        default: return (.medium, text)
        }
    }

    static func layerSummaries(_ conflicts: [DigConflict]) -> [DigLayerSummary] {
        // Grouping never makes an empty group; `.low` only satisfies the type checker.
        Dictionary(grouping: conflicts, by: \.layer).map { layer, cs in
            DigLayerSummary(layer: layer, pipeIDs: cs.map(\.pipeID).sorted(), highestSeverity: cs.map(\.severity).max() ?? .low)
        }.sorted { $0.layer < $1.layer }
    }

    static func ownerNotices(_ conflicts: [DigConflict]) -> [OwnerNotice] {
        Dictionary(grouping: conflicts, by: { $0.owner ?? "(unknown owner)" }).map { owner, cs in
            OwnerNotice(
                owner: owner, pipeIDs: cs.map(\.pipeID).sorted(), layers: Set(cs.map(\.layer)).sorted(),
                highestSeverity: cs.map(\.severity).max() ?? .low)
        }.sorted { ($1.highestSeverity, $0.owner) < ($0.highestSeverity, $1.owner) }
    }
}

/// A dig check's working buffers (see ``DigChecker``): reused between checks, never shared
/// between threads. Every member is cleared or keyed before use, so a check's answer never
/// depends on what the buffers held.
struct _DigScratch {
    /// The request's area in the map CRS.
    var shape = _QueryShape()
    /// The rows within reach, each once.
    var hits: [Neighbor] = []
    /// The conflicts' sort keys (severity, clear distance, id, position).
    var order: [(Severity, Double, Int64, Int)] = []
    /// A reordering to apply (`permute`): position j gets the element at `permutation[j]`;
    /// `current` and `origin` track where elements are while it is applied.
    var permutation: [Int] = []
    var current: [Int] = []
    var origin: [Int] = []
    /// Working storage for measuring one row (`_Snapshot.closest`).
    var closest = _ClosestBuffers()
    /// The rule judgement of each pipe profile met, under `judgedFor`'s work type and planned
    /// utility (the engine's rules are fixed for its life).
    var judgements: [_DigJudgement] = []
    /// Each judgement's figures (rule distance, precaution distance, unconstrained), apart, so
    /// a candidate that does not conflict reads them without copying the judgement.
    var judgedFigures: [(Double?, Double?, Bool)] = []
    var judgedIndex: [PipeProfile: Int] = [:]
    var judgedFor: (workType: String?, planned: PipeProfile?)? = nil
    /// Severity and reason text by what decides them (the texts repeat from site to site).
    var reasons: [_ReasonKey: (Severity, String)] = [:]
    /// The last report handed out: its arrays are refilled by the next check when the caller
    /// has let it go (else copied on write, leaving the caller's report as it was).
    var last: DigReport? = nil
    /// Emptied id and layer arrays of earlier layer and owner summaries, for the next ones.
    var idPool: [[Int64]] = []
    var layerPool: [[LayerCode]] = []

    /// Forgets the judgements when the request's rule differs from the last one's. O(1), or
    /// O(profiles judged) when it changes.
    mutating func prepareJudgements(workType: String?, planned: PipeProfile?) {
        if let f = judgedFor, f.workType == workType, f.planned == planned { return }
        judgements.removeAll(keepingCapacity: true)
        judgedFigures.removeAll(keepingCapacity: true)
        judgedIndex.removeAll(keepingCapacity: true)
        judgedFor = (workType, planned)
    }

    /// Where in `judgements` the judgement of row `l` of `t`'s pipe profile under the prepared
    /// rule is: computed once, then found (the profile hashed in place, not copied). O(1)
    /// amortised.
    mutating func judgement(
        _ t: _Table, _ l: Int, _ engine: UtilityEngine, planned: PipeProfile?, workType: String?
    ) -> Int {
        let k = t.kindIndex(l)
        if let i = t.kindProfiles.withUnsafeBufferPointer({ judgedIndex[$0[k]] }) { return i }
        let profile = t.kindProfiles[k]
        let rules = engine.rules
        var rule = planned.map { rules.horizontal($0, profile) } ?? rules.excavation(profile, workType: workType)
        // The rule's texts come from the rule file, shared by every thread: this checker's reports
        // get copies of their own (see `own`).
        if let r = rule { rule = ClearanceRule(distance: r.distance, table: own(r.table) ?? r.table, keys: r.keys, basis: own(r.basis)) }
        let j = _DigJudgement(
            rule: rule, precaution: rules.precaution(profile), critical: rules.criticalReason(profile),
            unconstrained: planned.map { rules.isUnconstrained($0, profile, vertical: false) } ?? false)
        judgements.append(j)
        judgedFigures.append((j.rule?.distance, j.precaution?.distance, j.unconstrained))
        judgedIndex[profile] = judgements.count - 1
        return judgements.count - 1
    }

    /// `UtilityEngine.severity` with an "accuracy not stated" note when `accuracy` (where the
    /// accuracy came from and its value) is given, remembered by its inputs. O(1) amortised.
    mutating func severity(
        critical: String?, touches: Bool, reaches: Bool, depthKnown: Bool, nominalDepth: Double?,
        accuracy assumed: (AccuracyBasis, Double)?, _ engine: UtilityEngine
    ) -> (Severity, String) {
        let key = _ReasonKey(
            critical: critical, touches: touches, reaches: reaches, depthKnown: depthKnown, nominalDepth: nominalDepth,
            assumedBasis: assumed?.0, assumedM: assumed?.1)
        if let v = reasons[key] { return v }
        var (severity, reason) = UtilityEngine.severity(
            critical: critical, touches: touches, reaches: reaches, depthKnown: depthKnown, nominalDepth: nominalDepth)
        if let (basis, m) = assumed {
            let rules = engine.rules
            reason += basis == .sourceDefault
                ? "; position accuracy not stated, the delivery's default of \(_metres(m)) m assumed"
                : "; position accuracy not stated, \(_metres(m)) m assumed (\(rules.name))"
        }
        // Nominal depths are few per map, but bound the table all the same.
        if reasons.count > 4096 { reasons.removeAll(keepingCapacity: true) }
        reasons[key] = (severity, reason)
        return (severity, reason)
    }

    /// This scratch's own copy of each long text its reports share with the map or the rules.
    var ownTexts: [String: String] = [:]

    /// `text` itself when it is stored inline (15 UTF-8 bytes or fewer: no reference count), else
    /// this scratch's own copy of it (equal, in storage of its own). A text shared by every
    /// record of an operator (its name) or by the rule file is otherwise retained and released
    /// by every thread of a batch for every conflict, and its one reference count, written
    /// from both cores, costs more than the check. O(length) the first time, then one lookup.
    mutating func own(_ text: String?) -> String? {
        guard let text, text.utf8.count > 15 else { return text }
        if let mine = ownTexts[text] { return mine }
        let mine = String(decoding: Array(text.utf8), as: UTF8.self)
        if ownTexts.count > 4096 { ownTexts.removeAll(keepingCapacity: true) }
        ownTexts[text] = mine
        return mine
    }

    /// Whether the last report is kept to be refilled (a caller that keeps every report, as
    /// `digChecks` does, would only make each next check copy it first).
    var reuseReports = true

    /// The last report (to refill), or an empty one; the scratch lets go of it.
    mutating func takeReport() -> DigReport {
        guard reuseReports, var r = last else {
            return DigReport(
                plannedDepth: 0, workType: nil, startDate: nil, endDate: nil, areaBounds: [], mapCRS: "", rules: "",
                result: .ok, conflicts: [], unchecked: [], layers: [], owners: [], highestSeverity: nil, mapVersion: 0)
        }
        last = nil
        // Keep the summaries' inner arrays for the next summaries.
        for i in r.layers.indices { recycle(&r.layers[i].pipeIDs) }
        for i in r.owners.indices {
            recycle(&r.owners[i].pipeIDs)
            recycle(&r.owners[i].areaIDs)
            var layers: [LayerCode] = []
            swap(&layers, &r.owners[i].layers)
            layers.removeAll(keepingCapacity: true)
            if layerPool.count < 64 { layerPool.append(layers) }
        }
        r.layers.removeAll(keepingCapacity: true)
        r.owners.removeAll(keepingCapacity: true)
        return r
    }

    private mutating func recycle(_ ids: inout [Int64]) {
        var taken: [Int64] = []
        swap(&taken, &ids)
        taken.removeAll(keepingCapacity: true)
        if idPool.count < 128 { idPool.append(taken) }
    }

    mutating func keep(_ report: DigReport) { if reuseReports { last = report } }

    /// An empty id list with room for the ids of `n` conflicts (made once, never regrown).
    static func ids(for n: Int) -> [Int64] {
        var a: [Int64] = []
        a.reserveCapacity(n)
        return a
    }

    /// Reorders `a` in place so that position j holds the element that was at `permutation[j]`
    /// (a permutation of `a.indices`), by swaps only: big elements are moved, never copied.
    /// O(n).
    mutating func permute<T>(_ a: inout [T]) {
        let n = a.count
        current.removeAll(keepingCapacity: true)
        origin.removeAll(keepingCapacity: true)
        for i in 0..<n {
            current.append(i)  // where the element first at i is now
            origin.append(i)  // which element (by first position) is at i now
        }
        for j in 0..<n {
            let want = permutation[j]
            let p = current[want]
            guard p != j else { continue }
            a.swapAt(j, p)
            let displaced = origin[j]
            origin[p] = displaced
            current[displaced] = p
            origin[j] = want
            current[want] = j
        }
    }

    /// The report's layer summaries and owner notices from its conflicts, as
    /// `UtilityEngine.layerSummaries` and `ownerNotices` give them: per layer its pipe ids sorted
    /// and highest severity, by layer; per owner (`"(unknown owner)"` for none) its pipe ids
    /// sorted, layers sorted, highest severity, most severe first then by owner. O(c²) for c
    /// conflicts (a handful per dig).
    mutating func summarize(_ report: inout DigReport) {
        report.layers.removeAll(keepingCapacity: true)
        report.owners.removeAll(keepingCapacity: true)
        if report.layers.capacity == 0 { report.layers.reserveCapacity(report.conflicts.count) }
        if report.owners.capacity == 0 { report.owners.reserveCapacity(report.conflicts.count) }
        // The conflicts' fields are read in place (a conflict is big to copy).
        let conflicts = report.conflicts
        conflicts.withUnsafeBufferPointer { cs in
            for k in cs.indices {
                let layer = cs[k].layer, pipeID = cs[k].pipeID, severity = cs[k].severity
                if let i = report.layers.firstIndex(where: { $0.layer == layer }) {
                    report.layers[i].pipeIDs.append(pipeID)
                    report.layers[i].highestSeverity = max(report.layers[i].highestSeverity, severity)
                } else {
                    var ids = idPool.popLast() ?? Self.ids(for: cs.count)
                    ids.append(pipeID)
                    report.layers.append(DigLayerSummary(layer: layer, pipeIDs: ids, highestSeverity: severity))
                }
                let owner = cs[k].owner ?? "(unknown owner)"
                if let i = report.owners.firstIndex(where: { $0.owner == owner }) {
                    report.owners[i].pipeIDs.append(pipeID)
                    if !report.owners[i].layers.contains(layer) { report.owners[i].layers.append(layer) }
                    report.owners[i].highestSeverity = max(report.owners[i].highestSeverity, severity)
                } else {
                    var ids = idPool.popLast() ?? Self.ids(for: cs.count)
                    ids.append(pipeID)
                    var layers = layerPool.popLast() ?? []
                    layers.append(layer)
                    report.owners.append(OwnerNotice(
                        owner: owner, pipeIDs: ids, layers: layers, highestSeverity: severity, areaIDs: idPool.popLast() ?? []))
                }
            }
        }
        for i in report.layers.indices { report.layers[i].pipeIDs.sort() }
        // Sorted by moving the summaries (swaps), their keys compared by position.
        permutation.removeAll(keepingCapacity: true)
        permutation.append(contentsOf: report.layers.indices)
        report.layers.withUnsafeBufferPointer { l in permutation.sort { l[$0].layer < l[$1].layer } }
        permute(&report.layers)
        for i in report.owners.indices {
            report.owners[i].pipeIDs.sort()
            report.owners[i].layers.sort()
        }
        permutation.removeAll(keepingCapacity: true)
        permutation.append(contentsOf: report.owners.indices)
        report.owners.withUnsafeBufferPointer { o in
            permutation.sort { (o[$1].highestSeverity, o[$0].owner) < (o[$0].highestSeverity, o[$1].owner) }
        }
        permute(&report.owners)
    }
}

/// How the rules judge one pipe profile for a dig (see ``UtilityEngine/digCheck(_:filter:)``).
struct _DigJudgement {
    /// The clearance rule: the horizontal table against the planned utility, else the
    /// excavation rule of the work type; nil when none covers the pipe.
    var rule: ClearanceRule?
    var precaution: ClearanceRule?
    var critical: String?
    /// Whether the pair (planned utility, pipe) is unconstrained horizontally.
    var unconstrained: Bool
}

/// What a conflict's severity and reason text depend on.
struct _ReasonKey: Hashable {
    var critical: String?
    var touches: Bool
    var reaches: Bool
    var depthKnown: Bool
    var nominalDepth: Double?
    var assumedBasis: AccuracyBasis?
    var assumedM: Double?
}
