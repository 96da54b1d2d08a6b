/// The state of a valve as the operator records it, for isolation (which valves a crew can shut
/// when a main bursts).
///
/// An isolation trace treats ``closed`` valves as barriers already in place, ``open`` ones as the
/// valves to shut, and passes through ``inoperable`` and ``inaccessible`` ones (they cannot be
/// shut in time). A point without a status (an older store, a source that does not say) is
/// unknown: the network room takes it as open and operable, and says so.
public enum ValveStatus: String, Hashable, Sendable, Codable, CaseIterable {
    /// Open and operable: can be shut to isolate a break.
    case open
    /// Already shut (a normally-closed boundary valve, or one shut earlier): a barrier.
    case closed
    /// Seized, broken or missing its spindle: cannot be shut.
    case inoperable
    /// Buried under paving, in a flooded chamber, on private land: cannot be reached in time.
    case inaccessible

    /// Whether a crew can shut it: only an open valve.
    public var canBeClosed: Bool { self == .open }

    /// Reads a mapped value: a raw value ignoring case, spaces, `_` and `-`, or a common
    /// synonym (`normally-open`, `shut`, `seized`, `broken`, `buried`; 开 / 常开, 关 / 常闭,
    /// 损坏 / 失灵, 无法操作 / 被埋). O(length).
    public init?(parsing text: String) {
        let key = String(text.lowercased().unicodeScalars.filter { !" _-\t".unicodeScalars.contains($0) })
        switch key {
        case "open", "normallyopen", "no", "开", "常开", "开启": self = .open
        case "closed", "shut", "normallyclosed", "nc", "关", "常闭", "关闭": self = .closed
        case "inoperable", "seized", "broken", "failed", "损坏", "失灵", "故障": self = .inoperable
        case "inaccessible", "buried", "unreachable", "无法操作", "被埋", "不可达": self = .inaccessible
        default: return nil
        }
    }
}

/// Who a service connection supplies, in the order a crew notifies them: hospitals first, then
/// schools, households, industry (``allCases`` and `<` follow this order).
public enum CustomerCategory: String, Hashable, Sendable, Codable, CaseIterable, Comparable {
    case hospital
    case school
    case household
    case industry

    /// Notification priority: 0 for hospitals (first).
    public var priority: Int { Self.allCases.firstIndex(of: self)! }

    public static func < (a: CustomerCategory, b: CustomerCategory) -> Bool { a.priority < b.priority }

    /// Reads a mapped value: a raw value ignoring case, spaces, `_` and `-`, a plural, or a
    /// common word (`residential`, `domestic`, `clinic`, `factory`; 医院, 学校, 居民 / 住户, 工业 /
    /// 工厂). O(length).
    public init?(parsing text: String) {
        let key = String(text.lowercased().unicodeScalars.filter { !" _-\t".unicodeScalars.contains($0) })
        switch key {
        case "hospital", "hospitals", "clinic", "医院": self = .hospital
        case "school", "schools", "kindergarten", "学校": self = .school
        case "household", "households", "residential", "domestic", "居民", "住户", "居民用户": self = .household
        case "industry", "industrial", "factory", "commercial", "工业", "工厂", "工业用户": self = .industry
        default: return nil
        }
    }
}

/// The customers a service connection point supplies: one category and how many customers
/// (households in a block, or 1 for a hospital).
public struct ServiceConnection: Hashable, Sendable, Codable {
    public var category: CustomerCategory
    /// Customers behind the connection, >= 1.
    public var count: Int

    public init(category: CustomerCategory, count: Int = 1) {
        self.category = category
        self.count = count
    }
}

extension PointKind {
    /// Whether a point of this kind is an isolation valve: ``valve`` or ``valveChamber`` (a
    /// chamber is surveyed at its valve). Air valves and hydrants are not.
    public var isIsolationValve: Bool { self == .valve || self == .valveChamber }

    /// Whether a point of this kind feeds its network: a ``plant`` (water works, gas gate
    /// station, heat plant), a ``regulatorStation`` or a ``pumpStation``.
    public var isSource: Bool { self == .plant || self == .regulatorStation || self == .pumpStation }
}
