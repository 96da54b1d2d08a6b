import SubterraGeometry

extension FieldMapping {
    /// The mapping `.areas` sources get when none is given: common field names for operator
    /// zones in dig-notification deliveries (Dutch IMKL, English, Chinese). `kind` values are
    /// read by ``OperatorArea/Kind/init(source:)``; `layer` may list several codes separated by
    /// `,`, `;`, `/` or spaces.
    public static let operatorAreas = FieldMapping(
        name: "operator areas (precaution zones, interest areas)",
        fields: [
            "id": .field("id", "source_id", "gml_id", "identificatie", "fid"),
            "owner": .field("owner", "operator", "netbeheerder", "beheerder", "bronhoudercode", "权属单位"),
            "kind": .field("kind", "zone_type", "type", "soort"),
            "layer": .field("layer", "layers", "thema", "theme"),
            "note": .field("note", "remark", "opmerking", "toelichting", "备注"),
        ])
}

extension RecordBuilder {
    /// Adds one operator area from a `.areas` source record.
    ///
    /// Ids follow the segment rules: a whole number is the area id; any other text is kept as
    /// the operator's id (`sourceID`) beside a made-up area id. A record without an operator, a
    /// kind that is not a precaution zone or interest area, or a geometry that is not a polygon
    /// is dropped with a `missingField`, `badValue` or `invalidGeometry` issue saying so; a
    /// layer code the catalogue does not know is a warning.
    mutating func addArea(_ r: SourceRecord, mapping: FieldMapping) {
        var m = MappedRecord(r, mapping)
        defer { issues.append(contentsOf: m.issues) }
        func drop(_ check: QualityCheck, _ f: ImportField, _ why: String) {
            m.issue(check, f, why + "; area not imported", outcome: .dropped)
        }
        var sourceID: String?
        var explicit: Int?
        if m.maps(.id), let t = m.text(.id), !t.isEmpty {
            if Self.readsAsNumber(t) { explicit = m.integer(.id) } else { sourceID = t }
        }
        let id: Int64
        if let explicit {
            id = Int64(explicit)
            guard areaIDs.insert(id).inserted else { return drop(.duplicateIdentifier, .id, "area id \(id) is already used") }
        } else {
            var next = Int64(1)
            while areaIDs.contains(next) { next += 1 }
            id = next
            areaIDs.insert(id)
            assignedAreaIDs.insert(id)
        }
        guard let owner = m.text(.owner), !owner.isEmpty else {
            return drop(.missingField, .owner, "an operator area needs its operator")
        }
        let kind: OperatorArea.Kind
        if let k = m.text(.kind), !k.isEmpty {
            guard let parsed = OperatorArea.Kind(source: k) else {
                return drop(.badValue, .kind, "'\(k)' is not an area kind (precaution zone or interest area)")
            }
            kind = parsed
        } else {
            // An area delivered with no kind only says the operator has a stake: notify them.
            kind = .interest
        }
        var layers: [LayerCode] = []
        if let text = m.text(.layer) {
            for code in text.split(whereSeparator: { ",;/ ".contains($0) }) {
                let layer = LayerCode(String(code))
                if !options.catalog.contains(layer) {
                    m.issues.append(QualityIssue(.unknownLayer, .warning, at: m.at(.layer), "layer code '\(code)' is not in the catalogue; kept"))
                }
                if !layers.contains(layer) { layers.append(layer) }
            }
        }
        let geometry: Geometry
        switch r.geometry {
        case .polygon(let p)?:
            geometry = .polygon(p)
        case .multiPolygon(let ps)? where !ps.isEmpty:
            geometry = .multiPolygon(ps)
        case nil:
            return drop(.invalidGeometry, .id, r.geometryError ?? "area has no geometry")
        case let g?:
            return drop(.invalidGeometry, .id, "geometry is a \(Self.typeName(g)), expected a Polygon or MultiPolygon")
        }
        let area: OperatorArea
        do {
            area = try OperatorArea(
                id: id, kind: kind, owner: owner, layers: layers, geometry: geometry, note: m.text(.note),
                sourceID: sourceID, sourceFile: r.location.file)
        } catch {
            return drop(.invalidGeometry, .id, error.message)
        }
        for p in area.polygons {
            for v in p.exterior.points {
                if let why = outsideArea("area vertex", v) { return drop(.invalidGeometry, .id, why) }
            }
        }
        areas.append(area)
    }
}
