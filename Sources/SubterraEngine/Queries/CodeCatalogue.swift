import SubterraModel

/// The layer, sub-type and owner codes a request may name, so that a code matching nothing is
/// refused instead of silently selecting no pipe (a typo in a safety check must never read as
/// "no conflict").
///
/// Valid layers are those of the engine's ``LayerCatalog`` (CJJ 61 plus fibre by default) and any
/// other layer present in the map; valid sub-types are each such layer's catalogue sub-types plus
/// the sub-types present in the map under it; valid owners are the owners present in the map
/// (exact spelling). Layer and sub-type codes are compared after trimming spaces and
/// upper-casing (`" rq"` is `RQ`); owners are compared exactly.
///
/// Every entry point that takes user text (CLI options, batch fields, an HTTP query) builds its
/// filter through here, so all of them refuse the same inputs with the same message:
///
/// ```swift
/// let codes = engine.codes
/// // CLI options: each item may hold a comma-separated list of codes.
/// let f = try PipeFilter(layers: ["RQ,JS"], subtypes: [], owners: ["Wenling Gas"], codes: codes)
/// // Batch fields: the same, naming the JSON fields in the messages.
/// let g = try PipeFilter(layers: q.layers, subtypes: q.subtypes, owners: q.owners, codes: codes,
///                        fields: .batch)
/// // One code, e.g. a planned pipe's layer and sub-type:
/// let layer = try codes.layer("rq", field: "--layer")                         // RQ
/// let sub = try codes.subtype("TR", inLayers: [layer], field: "--subtype")     // TR
/// ```
///
/// Refusals are ``EngineError``s whose location is the field name given (`"--layer"`,
/// `"field layers"`) and whose message names the offending item and the valid codes, e.g.
/// `--layer: unknown layer code "ZZ"; valid codes: JS, PS, RQ, RL, DL, TX, GY, QT, GX`. Refused:
/// an empty item (`""`, `"RQ,,"`, `" "`), an unknown layer or sub-type, a sub-type that is not
/// one of the given layers' sub-types, an owner absent from the map (the message lists up to
/// ``ownersListed`` owners and the total count, and suggests a spelling that differs only in case).
///
/// A value: ``UtilityEngine/codes`` computes it once per map version (O(n) over the segments
/// for the owners, then cached), lookups are O(codes).
public struct CodeCatalogue: Hashable, Sendable {
    /// Valid layer codes: catalogue order, then other layers present in the map, sorted.
    public let layers: [LayerCode]
    /// Valid sub-type codes per layer: catalogue order, then others present in the map, sorted.
    public let subtypes: [LayerCode: [SubtypeCode]]
    /// Owners present in the map, sorted.
    public let owners: [String]
    /// Valid burial method codes: CJJ 61's (``BurialMethod/standard``), then others present in
    /// the map, sorted.
    public let burials: [BurialMethod]

    /// How many owners a refusal lists before giving only the count.
    public static let ownersListed = 20

    /// The codes of `catalog` plus those present in a map, given as its distinct
    /// (layer, sub-type) pairs, its owners and its burial codes. O(n log n) in their counts.
    public init(
        catalog: LayerCatalog = .standardWithFibre, present: some Sequence<(LayerCode, SubtypeCode?)> = [],
        owners: some Sequence<String> = [], burials: some Sequence<BurialMethod> = []
    ) {
        var layers = catalog.codes
        var subtypes: [LayerCode: [SubtypeCode]] = [:]
        for l in catalog.layers { subtypes[l.code] = l.subtypes.map(\.code) }
        var extraLayers = Set<LayerCode>(), extraSubtypes: [LayerCode: Set<SubtypeCode>] = [:]
        for (layer, subtype) in present {
            if subtypes[layer] == nil { extraLayers.insert(layer) }
            if let subtype, !(subtypes[layer]?.contains(subtype) ?? false) {
                extraSubtypes[layer, default: []].insert(subtype)
            }
        }
        layers += extraLayers.sorted()
        for (layer, extra) in extraSubtypes { subtypes[layer, default: []] += extra.sorted() }
        self.layers = layers
        self.subtypes = subtypes
        self.owners = Set(owners).sorted()
        self.burials = BurialMethod.standard + Set(burials).subtracting(BurialMethod.standard).sorted()
    }

    /// Names used in refusals for the three kinds of filter item.
    public struct FieldNames: Hashable, Sendable {
        public var layers: String
        public var subtypes: String
        public var owners: String

        public init(layers: String, subtypes: String, owners: String) {
            self.layers = layers
            self.subtypes = subtypes
            self.owners = owners
        }

        /// The command-line options `--layer`, `--subtype`, `--owner`.
        public static let options = FieldNames(layers: "--layer", subtypes: "--subtype", owners: "--owner")
        /// Batch / service request fields `layers`, `subtypes`, `owners`.
        public static let batch = FieldNames(
            layers: "field layers", subtypes: "field subtypes", owners: "field owners")
    }

    // MARK: Single codes

    /// The layer code `text` names (trimmed, upper-cased); refused when empty or unknown.
    public func layer(_ text: String, field: String) throws(EngineError) -> LayerCode {
        let code = LayerCode(rawValue: try Self.code(text, field: field))
        guard layers.contains(code) else {
            throw EngineError(
                "unknown layer code \"\(code)\"; valid codes: \(Self.list(layers))", at: field)
        }
        return code
    }

    /// The sub-type code `text` names (trimmed, upper-cased); refused when empty, unknown, or
    /// (when `inLayers` is given and not empty) not a sub-type of any of those layers.
    public func subtype(_ text: String, inLayers: [LayerCode]? = nil, field: String) throws(EngineError) -> SubtypeCode {
        let code = SubtypeCode(rawValue: try Self.code(text, field: field))
        if let inLayers, !inLayers.isEmpty {
            let valid = Self.unique(inLayers.flatMap { subtypes[$0] ?? [] })
            guard valid.contains(code) else {
                let names = inLayers.map(\.rawValue).joined(separator: ", ")
                let validText = valid.isEmpty ? "none" : Self.list(valid)
                throw EngineError(
                    "sub-type code \"\(code)\" is not a sub-type of \(names); valid codes: \(validText)", at: field)
            }
            return code
        }
        let all = Self.unique(layers.flatMap { subtypes[$0] ?? [] })
        guard all.contains(code) else {
            throw EngineError("unknown sub-type code \"\(code)\"; valid codes: \(Self.list(all))", at: field)
        }
        return code
    }

    /// The burial method code `text` names (trimmed, upper-cased); refused when empty or unknown.
    public func burial(_ text: String, field: String) throws(EngineError) -> BurialMethod {
        let code = BurialMethod(rawValue: try Self.code(text, field: field))
        guard burials.contains(code) else {
            throw EngineError("unknown burial code \"\(code)\"; valid codes: \(Self.list(burials))", at: field)
        }
        return code
    }

    /// The owner `text` names, exactly as surveyed; refused when empty or absent from the map.
    public func owner(_ text: String, field: String) throws(EngineError) -> String {
        guard !text.allSatisfy(\.isWhitespace) else { throw EngineError("empty owner name", at: field) }
        guard owners.contains(text) else {
            let hint = owners.first { $0.lowercased() == text.lowercased() }.map { " (did you mean \"\($0)\"?)" } ?? ""
            let shown = owners.prefix(Self.ownersListed).map { "\"\($0)\"" }.joined(separator: ", ")
            let more = owners.count > Self.ownersListed ? ", ..." : ""
            let known = owners.isEmpty ? "the map records no owner" : "the map has \(owners.count) owner\(owners.count == 1 ? "" : "s"): \(shown)\(more)"
            throw EngineError("no pipe has owner \"\(text)\"\(hint); \(known)", at: field)
        }
        return text
    }

    // MARK: Lists

    /// The layer codes of `items`, each item one code or a comma-separated list; duplicates
    /// dropped, order kept; nil when `items` is empty (no layer condition).
    public func layers(_ items: [String], field: String) throws(EngineError) -> [LayerCode]? {
        guard !items.isEmpty else { return nil }
        var out: [LayerCode] = []
        for item in items {
            for part in try Self.split(item, field: field) { out.append(try layer(part, field: field)) }
        }
        return Self.unique(out)
    }

    /// The sub-type codes of `items` (as ``layers(_:field:)``), each checked against `inLayers`
    /// when given (see ``subtype(_:inLayers:field:)``).
    public func subtypes(_ items: [String], inLayers: [LayerCode]? = nil, field: String) throws(EngineError) -> [SubtypeCode]? {
        guard !items.isEmpty else { return nil }
        var out: [SubtypeCode] = []
        for item in items {
            for part in try Self.split(item, field: field) {
                out.append(try subtype(part, inLayers: inLayers, field: field))
            }
        }
        return Self.unique(out)
    }

    /// The owners of `items`, each one whole name (owner names may hold commas, so items are not
    /// split); nil when `items` is empty.
    public func owners(_ items: [String], field: String) throws(EngineError) -> [String]? {
        guard !items.isEmpty else { return nil }
        var out: [String] = []
        for item in items { out.append(try owner(item, field: field)) }
        return Self.unique(out)
    }

    // MARK: Helpers

    /// `item` split at commas; refused when any part is empty (`""`, `"RQ,,"`, `",RQ"`).
    static func split(_ item: String, field: String) throws(EngineError) -> [String] {
        let parts = item.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for (i, p) in parts.enumerated() where p.allSatisfy(\.isWhitespace) {
            let which = parts.count == 1 ? "" : " (item \(i + 1) of \"\(item)\")"
            throw EngineError("empty code\(which); give a code or leave the option out", at: field)
        }
        return parts
    }

    static func code(_ text: String, field: String) throws(EngineError) -> String {
        let t = text.trimmingCharacters(in: .whitespaces)
        guard !t.isEmpty else { throw EngineError("empty code; give a code or leave the option out", at: field) }
        return t.uppercased()
    }

    static func list<C: OpenCode>(_ codes: [C]) -> String { codes.map(\.rawValue).joined(separator: ", ") }

    static func unique<T: Hashable>(_ xs: [T]) -> [T] {
        var seen = Set<T>()
        return xs.filter { seen.insert($0).inserted }
    }
}

extension PipeFilter {
    /// A filter from user text, every item checked against `codes` (see ``CodeCatalogue`` for
    /// what is refused and how the message reads). Empty arrays set no condition; layer and
    /// sub-type items may be comma-separated lists; sub-types must belong to one of the layers
    /// when layers are given.
    ///
    /// ```swift
    /// let f = try PipeFilter(layers: ["RQ"], subtypes: ["TR"], owners: [], codes: engine.codes)
    /// ```
    /// - Throws: ``EngineError`` located at the field name from `fields`.
    public init(
        layers: [String], subtypes: [String], owners: [String], codes: CodeCatalogue,
        fields: CodeCatalogue.FieldNames = .options
    ) throws(EngineError) {
        let ls = try codes.layers(layers, field: fields.layers)
        let ss = try codes.subtypes(subtypes, inLayers: ls, field: fields.subtypes)
        let os = try codes.owners(owners, field: fields.owners)
        self.init(layers: ls.map(Set.init), owners: os.map(Set.init), subtypes: ss.map(Set.init))
    }
}

extension UtilityEngine {
    /// The codes requests against the current map may name: the engine's catalogue plus the
    /// layers, sub-types and owners present. O(1) when asked before for this map version, else
    /// O(profiles + owners) from the counts the snapshot keeps under edits (then kept with it).
    public var codes: CodeCatalogue { snapshot.codes(catalog: catalog) }
}

extension _Snapshot {
    /// ``CodeCatalogue`` of this version, built on first request and kept.
    func codes(catalog: LayerCatalog) -> CodeCatalogue {
        codeCache.withLock { cached in
            if let cached { return cached }
            let c = CodeCatalogue(
                catalog: catalog, present: distinctProfiles.map { ($0.layer, $0.subtype) },
                owners: ownerCounts.keys, burials: distinctProfiles.compactMap(\.burial))
            cached = c
            return c
        }
    }
}
