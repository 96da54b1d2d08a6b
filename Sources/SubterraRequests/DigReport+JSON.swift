import SubterraEngine
import SubterraGeometry
import SubterraModel

/// A dig report as a `JSONValue`, written member by member: the value
/// `JSONValueEncoder().encode(report)` gives (keys sorted, absent optionals left out, non-finite
/// numbers as `"inf"`, `"-inf"`, `"nan"`), without the `Encodable` machinery.
///
/// Why: the service turns every dig report into a value to mask it, and the generic encoder (a
/// node object, a dynamic cast and a sort per nested value) was 14 % of a dig check's time under
/// load (Benchmarks/NOTES.md, "subterra serve"). Invariant: equal to the generic encoding for
/// every report; `DigReportJSONTests` checks that on the dig checks of several maps, so a member
/// added to a report type and not here fails there.
extension DigReport {
    /// This report as `JSONValueEncoder` encodes it.
    public var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 16)
        o.add("areaBounds", .array(areaBounds.map(_num)))
        o.add("areas", .array(areas.map(\.jsonValue)))
        o.add("conflicts", .array(conflicts.map(\.jsonValue)))
        o.add("endDate", endDate.map(JSONValue.string))
        o.add("highestSeverity", highestSeverity.map { .string($0.rawValue) })
        o.add("layers", .array(layers.map(\.jsonValue)))
        o.add("mapCRS", .string(mapCRS))
        o.add("mapVersion", .number(Double(mapVersion)))
        o.add("owners", .array(owners.map(\.jsonValue)))
        o.add("plannedDepth", _num(plannedDepth))
        o.add("precautions", .array(precautions.map(\.jsonValue)))
        o.add("result", .string(result.rawValue))
        o.add("rules", .string(rules))
        o.add("startDate", startDate.map(JSONValue.string))
        o.add("unchecked", .array(unchecked.map(\.jsonValue)))
        o.add("workType", workType.map(JSONValue.string))
        return o.value
    }
}

extension DigConflict {
    /// This conflict as `JSONValueEncoder` encodes it.
    public var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 28)
        o.add("accuracy", _num(accuracy))
        o.add("accuracyBasis", .string(accuracyBasis.rawValue))
        o.add("accuracyStated", .bool(accuracyStated))
        o.add("clearDistance", _num(clearDistance))
        o.add("closestPoint", closestPoint.jsonValue)
        o.add("depth", depth.map(_num))
        o.add("distance", _num(distance))
        o.add("enclosures", .array(enclosures.map(\.jsonValue)))
        o.add("feature", feature.map(_int))
        o.add("featureKind", .string(featureKind.rawValue))
        o.add("gasPressureMPa", gasPressureMPa.map(_num))
        o.add("layer", .string(layer.rawValue))
        o.add("nominalDepth", nominalDepth.map(_num))
        o.add("outerWidth", _num(outerWidth))
        o.add("owner", owner.map(JSONValue.string))
        o.add("pipeID", _int(pipeID))
        o.add("reaches", .string(reaches))
        o.add("reachesPipe", .bool(reachesPipe))
        o.add("reason", .string(reason))
        o.add("requiredClearance", _num(requiredClearance))
        o.add("rule", rule?.jsonValue)
        o.add("ruleClearance", _num(ruleClearance))
        o.add("section", section.map(JSONValue.string))
        o.add("severity", .string(severity.rawValue))
        o.add("sourceFile", sourceFile.map(JSONValue.string))
        o.add("sourceID", sourceID.map(JSONValue.string))
        o.add("subtype", subtype.map { .string($0.rawValue) })
        o.add("voltageKV", voltageKV.map(_num))
        return o.value
    }
}

extension ClearanceRule {
    /// This rule as `JSONValueEncoder` encodes it.
    public var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 4)
        o.add("basis", basis.map(JSONValue.string))
        o.add("distance", _num(distance))
        o.add("keys", .array(keys.map(JSONValue.string)))
        o.add("table", .string(table))
        return o.value
    }
}

extension PlanPoint {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 2)
        o.add("x", _num(x))
        o.add("y", _num(y))
        return o.value
    }
}

extension DigEnclosure {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 6)
        o.add("clearDistance", _num(clearDistance))
        o.add("kind", .string(kind.rawValue))
        o.add("pipeID", _int(pipeID))
        o.add("severity", .string(severity.rawValue))
        o.add("sourceFile", sourceFile.map(JSONValue.string))
        o.add("sourceID", sourceID.map(JSONValue.string))
        return o.value
    }
}

extension UncheckedPair {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 8)
        o.add("feature", feature.map(_int))
        o.add("kind", .string(kind.rawValue))
        o.add("layer", layer.map { .string($0.rawValue) })
        o.add("owner", owner.map(JSONValue.string))
        o.add("pipeID", pipeID.map(_int))
        o.add("reason", .string(reason))
        o.add("sourceFile", sourceFile.map(JSONValue.string))
        o.add("sourceID", sourceID.map(JSONValue.string))
        return o.value
    }
}

extension AreaNotice {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 9)
        o.add("action", .string(action))
        o.add("areaID", _int(areaID))
        o.add("kind", .string(kind.rawValue))
        o.add("layers", .array(layers.map { .string($0.rawValue) }))
        o.add("note", note.map(JSONValue.string))
        o.add("owner", .string(owner))
        o.add("severity", .string(severity.rawValue))
        o.add("sourceFile", sourceFile.map(JSONValue.string))
        o.add("sourceID", sourceID.map(JSONValue.string))
        return o.value
    }
}

extension PrecautionNotice {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 9)
        o.add("clearDistance", _num(clearDistance))
        o.add("feature", _int(feature))
        o.add("layer", .string(layer.rawValue))
        o.add("owner", owner.map(JSONValue.string))
        o.add("pipeID", _int(pipeID))
        o.add("requiredDistance", _num(requiredDistance))
        o.add("rule", rule.jsonValue)
        o.add("sourceFile", sourceFile.map(JSONValue.string))
        o.add("sourceID", sourceID.map(JSONValue.string))
        return o.value
    }
}

extension DigLayerSummary {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 3)
        o.add("highestSeverity", .string(highestSeverity.rawValue))
        o.add("layer", .string(layer.rawValue))
        o.add("pipeIDs", .array(pipeIDs.map(_int)))
        return o.value
    }
}

extension OwnerNotice {
    var jsonValue: JSONValue {
        var o = _SortedMembers(capacity: 5)
        o.add("areaIDs", .array(areaIDs.map(_int)))
        o.add("highestSeverity", .string(highestSeverity.rawValue))
        o.add("layers", .array(layers.map { .string($0.rawValue) }))
        o.add("owner", .string(owner))
        o.add("pipeIDs", .array(pipeIDs.map(_int)))
        return o.value
    }
}

/// An object's members, added in ascending key order (checked in debug builds); a nil value
/// is left out, as `encodeIfPresent` leaves it.
struct _SortedMembers {
    private var object = JSONObject()
    #if DEBUG
    private var last = ""
    #endif

    init(capacity: Int) { object.reserveCapacity(capacity) }

    mutating func add(_ key: String, _ value: JSONValue?) {
        #if DEBUG
        precondition(last.isEmpty || last < key, "members out of order: \(last) before \(key)")
        last = key
        #endif
        if let value { object.append(key, value) }
    }

    var value: JSONValue { .object(object) }
}

/// A number as `JSONValueEncoder` stores it.
@inline(__always) func _num(_ d: Double) -> JSONValue { .encodedNumber(d) }

@inline(__always) func _int(_ i: Int64) -> JSONValue { .number(Double(i)) }
