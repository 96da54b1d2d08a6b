import SubterraModel

/// An operator's precaution zone or interest area that a dig touches.
public struct AreaNotice: Hashable, Sendable, Codable {
    public var areaID: Int64
    /// The operator's own id for the area, when delivered.
    public var sourceID: String?
    public var kind: OperatorArea.Kind
    public var owner: String
    public var layers: [LayerCode]
    /// The operator's remark, as delivered.
    public var note: String?
    /// What the digger must do, in words.
    public var action: String
    /// How the owner notice ranks this area: ``Severity/high`` for a precaution zone (work may
    /// not start without the operator), ``Severity/low`` for an interest area (notify only).
    public var severity: Severity
    /// The file the area was imported from (``OperatorArea/sourceFile``).
    public var sourceFile: String? = nil
}

extension UtilityEngine {
    /// Adds the operators whose pipes the dig comes within a precaution distance of
    /// (``DigReport/precautions``: the profile says to consult them) to the owners to notify, at
    /// least ``Severity/high``, joined to their pipe notice when there is one.
    static func attachPrecautionOwners(to report: inout DigReport) {
        guard !report.precautions.isEmpty else { return }
        for p in report.precautions {
            let owner = p.owner ?? "(unknown owner)"
            if let i = report.owners.firstIndex(where: { $0.owner == owner }) {
                if !report.owners[i].pipeIDs.contains(p.pipeID) { report.owners[i].pipeIDs.append(p.pipeID) }
                report.owners[i].highestSeverity = max(report.owners[i].highestSeverity, .high)
                report.owners[i].layers = Set(report.owners[i].layers + [p.layer]).sorted()
            } else {
                report.owners.append(OwnerNotice(owner: owner, pipeIDs: [p.pipeID], layers: [p.layer], highestSeverity: .high))
            }
        }
        for i in report.owners.indices { report.owners[i].pipeIDs.sort() }
        report.owners.sort { ($1.highestSeverity, $0.owner) < ($0.highestSeverity, $1.owner) }
    }

    /// Adds the touched areas to a report: an ``AreaNotice`` each, and their operators to the
    /// owners to notify (joined to the operator's pipe notice when the names match exactly,
    /// else a notice of its own with no pipes). Owners are re-sorted, most severe first.
    static func attachAreas(_ touched: [OperatorArea], to report: inout DigReport) {
        guard !touched.isEmpty else { return }
        report.areas = touched.map { a in
            AreaNotice(
                areaID: a.id, sourceID: a.sourceID, kind: a.kind, owner: a.owner, layers: a.layers, note: a.note,
                action: a.kind == .precaution
                    ? "inside \(a.owner)'s precaution zone: agree the work with the operator and have them present before digging"
                    : "inside \(a.owner)'s interest area: notify the operator before digging",
                severity: a.kind == .precaution ? .high : .low, sourceFile: a.sourceFile)
        }.sorted { ($0.kind == .precaution ? 0 : 1, $0.owner, $0.areaID) < ($1.kind == .precaution ? 0 : 1, $1.owner, $1.areaID) }
        for n in report.areas {
            if let i = report.owners.firstIndex(where: { $0.owner == n.owner }) {
                report.owners[i].areaIDs.append(n.areaID)
                report.owners[i].highestSeverity = max(report.owners[i].highestSeverity, n.severity)
                report.owners[i].layers = Set(report.owners[i].layers + n.layers).sorted()
            } else {
                report.owners.append(OwnerNotice(
                    owner: n.owner, pipeIDs: [], layers: n.layers.sorted(), highestSeverity: n.severity,
                    areaIDs: [n.areaID]))
            }
        }
        for i in report.owners.indices { report.owners[i].areaIDs.sort() }
        report.owners.sort { ($1.highestSeverity, $0.owner) < ($0.highestSeverity, $1.owner) }
    }
}
