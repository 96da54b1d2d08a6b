/// A utility layer code (管线大类), e.g. `JS` water supply; CJJ 61-2017 appendix B codes are the
/// constants below, and a city may use its own (`LayerCode("GX")` for a separate fibre layer).
@frozen
public struct LayerCode: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }

    /// 给水 water supply.
    public static let water: LayerCode = "JS"
    /// 排水 drainage (storm, sewage, combined).
    public static let drainage: LayerCode = "PS"
    /// 燃气 gas.
    public static let gas: LayerCode = "RQ"
    /// 热力 district heat.
    public static let heat: LayerCode = "RL"
    /// 电力 power.
    public static let power: LayerCode = "DL"
    /// 通信 telecom.
    public static let telecom: LayerCode = "TX"
    /// 工业 industrial.
    public static let industrial: LayerCode = "GY"
    /// 其他 other (utility tunnels, unidentified lines).
    public static let other: LayerCode = "QT"
    /// 光缆 fibre, for cities that keep it apart from telecom (not a CJJ 61 code).
    public static let fibre: LayerCode = "GX"
}

/// A sub-type code within a layer (管线小类), e.g. `WS` sewage within `PS` drainage.
///
/// Codes are unique within a layer; the standard ones are also unique across layers, so the
/// constants below can be used without naming the layer.
@frozen
public struct SubtypeCode: OpenCode {
    public var rawValue: String
    @inlinable
    public init(rawValue: String) { self.rawValue = rawValue }

    // Water supply (JS).
    public static let rawWater: SubtypeCode = "JY"
    public static let transmission: SubtypeCode = "SS"
    public static let reclaimed: SubtypeCode = "ZS"
    public static let distribution: SubtypeCode = "JP"
    public static let directDrinking: SubtypeCode = "JZ"
    public static let fire: SubtypeCode = "XS"
    public static let irrigation: SubtypeCode = "LS"
    public static let circulating: SubtypeCode = "JH"
    // Drainage (PS).
    public static let storm: SubtypeCode = "YS"
    public static let sewage: SubtypeCode = "WS"
    public static let combined: SubtypeCode = "HS"
    // Gas (RQ).
    public static let townGas: SubtypeCode = "MQ"
    public static let lpg: SubtypeCode = "YH"
    public static let naturalGas: SubtypeCode = "TR"
    // Heat (RL).
    public static let hotWater: SubtypeCode = "RS"
    public static let steam: SubtypeCode = "ZQ"
    // Power (DL).
    public static let powerSupply: SubtypeCode = "GD"
    public static let streetLighting: SubtypeCode = "LD"
    public static let signal: SubtypeCode = "XH"
    public static let tram: SubtypeCode = "DC"
    public static let advertising: SubtypeCode = "GG"
    // Telecom (TX).
    public static let telephone: SubtypeCode = "DH"
    public static let cableTV: SubtypeCode = "DS"
    public static let dataNetwork: SubtypeCode = "XX"
    public static let broadcast: SubtypeCode = "GB"
    // Other (QT).
    public static let utilityTunnel: SubtypeCode = "ZH"
    public static let unidentified: SubtypeCode = "BM"
}

/// An 8-bit sRGB map colour.
@frozen
public struct MapColour: Hashable, Sendable, Codable, CustomStringConvertible {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    @inlinable
    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// `#RRGGBB`.
    public var hex: String {
        let digits = Array("0123456789ABCDEF")
        var s = "#"
        for c in [red, green, blue] {
            s.append(digits[Int(c >> 4)])
            s.append(digits[Int(c & 15)])
        }
        return s
    }

    public var description: String { "\(red),\(green),\(blue)" }
}

/// A named sub-type of a layer.
public struct SubtypeDefinition: Hashable, Sendable, Codable {
    public var code: SubtypeCode
    public var englishName: String
    public var chineseName: String

    public init(code: SubtypeCode, englishName: String, chineseName: String) {
        self.code = code
        self.englishName = englishName
        self.chineseName = chineseName
    }
}

/// One layer: code, names, map colour and sub-types.
public struct LayerDefinition: Hashable, Sendable, Codable {
    public var code: LayerCode
    public var englishName: String
    public var chineseName: String
    public var colour: MapColour
    public var subtypes: [SubtypeDefinition]
    /// Whether the layer is one of the eight of CJJ 61-2017 appendix B.
    public var isStandard: Bool

    public init(
        code: LayerCode, englishName: String, chineseName: String, colour: MapColour,
        subtypes: [SubtypeDefinition] = [], isStandard: Bool = false
    ) {
        self.code = code
        self.englishName = englishName
        self.chineseName = chineseName
        self.colour = colour
        self.subtypes = subtypes
        self.isStandard = isStandard
    }

    /// The sub-type with `code`, if this layer has it. O(number of sub-types), at most a dozen.
    public func subtype(_ code: SubtypeCode) -> SubtypeDefinition? {
        subtypes.first { $0.code == code }
    }
}

/// The layers a city uses: the CJJ 61 standard ones plus its own, in display order.
///
/// A value, so each snapshot of a map carries the catalog it was surveyed with; `Codable` so a city
/// keeps its catalog in a JSON file next to its data.
public struct LayerCatalog: Hashable, Sendable, Codable {
    /// All layers in display order; codes are unique.
    public private(set) var layers: [LayerDefinition]

    /// Builds a catalog, refusing a duplicate layer code or a duplicate sub-type code within a layer.
    public init(layers: [LayerDefinition]) throws(ModelError) {
        self.layers = []
        for layer in layers { try add(layer) }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let layers = try c.decode([LayerDefinition].self, forKey: .layers)
        do {
            try self.init(layers: layers)
        } catch {
            throw DecodingError.dataCorruptedError(
                forKey: .layers, in: c, debugDescription: error.description)
        }
    }

    private enum CodingKeys: String, CodingKey { case layers }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(layers, forKey: .layers)
    }

    /// Adds a city layer, refusing an empty or duplicate code or duplicate sub-type codes.
    public mutating func add(_ layer: LayerDefinition) throws(ModelError) {
        guard !layer.code.rawValue.allSatisfy(\.isWhitespace) else {
            throw ModelError("layer code is empty", at: "layer catalog")
        }
        guard self[layer.code] == nil else {
            throw ModelError("layer code \(layer.code) is defined twice", at: "layer catalog")
        }
        var seen = Set<SubtypeCode>()
        for s in layer.subtypes where !seen.insert(s.code).inserted {
            throw ModelError("sub-type code \(s.code) is defined twice", at: "layer \(layer.code)")
        }
        layers.append(layer)
    }

    /// The layer with `code`. O(layers), a dozen at most.
    public subscript(code: LayerCode) -> LayerDefinition? {
        layers.first { $0.code == code }
    }

    /// Whether `code` names a layer of this catalog.
    public func contains(_ code: LayerCode) -> Bool { self[code] != nil }

    /// The layer a survey table names in words instead of a code, as CJJ 61 tables' 管线类别
    /// column often does: a layer's Chinese name (给水, 排水, 燃气, 热力, 电力, 通信, 工业, 其他,
    /// 光缆), or a sub-type's (雨水, 污水, 天然气, 路灯, 有线电视 …: that layer with that
    /// sub-type), each also with 管线 after it (给水管线). A sub-type name several layers share
    /// (有线电视 under 通信 and 光缆) gives the first in catalogue order. Nil for anything else,
    /// codes included. O(layers × sub-types).
    public func layer(named name: String) -> (layer: LayerCode, subtype: SubtypeCode?)? {
        let given = name.trimmingCharacters(in: .whitespaces)
        // As given first (不明管线 is a sub-type's whole name), then without 管线.
        var names = [given]
        if given.hasSuffix("管线"), given.count > 2 { names.append(String(given.dropLast(2))) }
        for n in names {
            if let l = layers.first(where: { $0.chineseName == n }) { return (l.code, nil) }
            for l in layers {
                if let s = l.subtypes.first(where: { $0.chineseName == n }) { return (l.code, s.code) }
            }
        }
        return nil
    }

    /// All layer codes in display order.
    public var codes: [LayerCode] { layers.map(\.code) }

    /// The eight layers of CJJ 61-2017 appendix B with their sub-types and map colours. The
    /// standard gives no RGB for industrial (black) and other (purple); 0,0,0 and 128,0,128 are used.
    public static let standard: LayerCatalog = {
        func s(_ c: SubtypeCode, _ en: String, _ zh: String) -> SubtypeDefinition {
            SubtypeDefinition(code: c, englishName: en, chineseName: zh)
        }
        let layers: [LayerDefinition] = [
            LayerDefinition(
                code: .water, englishName: "water supply", chineseName: "给水", colour: MapColour(0, 255, 255),
                subtypes: [
                    s(.rawWater, "raw water", "原水"), s(.transmission, "transmission", "输水"),
                    s(.reclaimed, "reclaimed water", "中水"), s(.distribution, "distribution", "配水"),
                    s(.directDrinking, "direct drinking water", "直饮水"), s(.fire, "fire water", "消防水"),
                    s(.irrigation, "irrigation", "绿化水"), s(.circulating, "circulating water", "循环水"),
                ], isStandard: true),
            LayerDefinition(
                code: .drainage, englishName: "drainage", chineseName: "排水", colour: MapColour(76, 57, 38),
                subtypes: [
                    s(.storm, "storm", "雨水"), s(.sewage, "sewage", "污水"), s(.combined, "combined", "雨污合流"),
                ], isStandard: true),
            LayerDefinition(
                code: .gas, englishName: "gas", chineseName: "燃气", colour: MapColour(255, 0, 255),
                subtypes: [
                    s(.townGas, "town gas", "煤气"), s(.lpg, "liquefied petroleum gas", "液化气"),
                    s(.naturalGas, "natural gas", "天然气"),
                ], isStandard: true),
            LayerDefinition(
                code: .heat, englishName: "heat", chineseName: "热力", colour: MapColour(255, 127, 0),
                subtypes: [s(.hotWater, "hot water", "热水"), s(.steam, "steam", "蒸汽")], isStandard: true),
            LayerDefinition(
                code: .power, englishName: "power", chineseName: "电力", colour: MapColour(255, 0, 0),
                subtypes: [
                    s(.powerSupply, "power supply", "供电"), s(.streetLighting, "street lighting", "路灯"),
                    s(.signal, "traffic signal", "信号灯"), s(.tram, "tram", "电车"),
                    s(.advertising, "advertising", "广告"),
                ], isStandard: true),
            LayerDefinition(
                code: .telecom, englishName: "telecom", chineseName: "通信", colour: MapColour(0, 255, 0),
                subtypes: [
                    s(.telephone, "telephone", "电话"), s(.cableTV, "cable TV", "有线电视"),
                    s(.dataNetwork, "data network", "信息网络"), s(.broadcast, "broadcast", "广播"),
                ], isStandard: true),
            LayerDefinition(
                code: .industrial, englishName: "industrial", chineseName: "工业", colour: MapColour(0, 0, 0),
                isStandard: true),
            LayerDefinition(
                code: .other, englishName: "other", chineseName: "其他", colour: MapColour(128, 0, 128),
                subtypes: [s(.utilityTunnel, "utility tunnel", "综合管沟"), s(.unidentified, "unidentified", "不明管线")],
                isStandard: true),
        ]
        // The table above is checked by tests; a failure here is a programming error in this file.
        return try! LayerCatalog(layers: layers)
    }()

    /// The fibre layer (`GX`, 光缆) for cities that survey fibre apart from telecom, with the
    /// telecom sub-types fibre carries; its colour (0,128,0, darker than telecom green) is this
    /// library's choice, not a standard one.
    public static let fibreLayer = LayerDefinition(
        code: .fibre, englishName: "fibre", chineseName: "光缆", colour: MapColour(0, 128, 0),
        subtypes: [
            SubtypeDefinition(code: .dataNetwork, englishName: "data network", chineseName: "信息网络"),
            SubtypeDefinition(code: .cableTV, englishName: "cable TV", chineseName: "有线电视"),
        ])

    /// `standard` plus `fibreLayer`.
    public static let standardWithFibre: LayerCatalog = {
        var c = standard
        try! c.add(fibreLayer)
        return c
    }()
}
