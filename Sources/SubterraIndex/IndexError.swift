/// Everything that can go wrong building, editing, loading or checking an index. Each case says
/// what was wrong and where (item index, id, byte offset), so a planner's log line is actionable.
public enum IndexError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Item `index` of the build input has a NaN, infinite or inverted box.
    case invalidBox(index: Int, box: Box, reason: String)
    /// The node size must be in `2...65535`.
    case invalidNodeSize(Int)
    /// `boxes` and `ids` passed to a build have different lengths.
    case lengthMismatch(boxes: Int, ids: Int)
    /// More items than a `UInt32` position can address.
    case tooManyItems(Int)
    /// An id that must be unique (dynamic index) appears twice.
    case duplicateID(UInt32)
    /// An edit names an id the dynamic index does not hold.
    case unknownID(UInt32)
    /// The bytes are shorter than the header or than the header says.
    case truncated(expected: Int, actual: Int)
    /// The bytes do not start with the Subterra index magic: not an index file.
    case badMagic
    /// The file was written by a format version this code does not read.
    case unsupportedVersion(found: UInt32, supported: UInt32)
    /// The payload checksum does not match: the file is corrupt.
    case checksumMismatch(stored: UInt64, computed: UInt64)
    /// The file's header or payload is inconsistent (says what).
    case corrupt(String)
    /// Reading or writing the file failed.
    case io(String)
    /// `validate()` found a broken invariant (says what and where).
    case invariantViolated(String)

    public var description: String {
        switch self {
        case let .invalidBox(index, box, reason): "item \(index): invalid box \(box): \(reason)"
        case let .invalidNodeSize(n): "node size \(n) is outside 2...65535"
        case let .lengthMismatch(b, i): "\(b) boxes but \(i) ids"
        case let .tooManyItems(n): "\(n) items exceed the UInt32 limit of the index"
        case let .duplicateID(id): "id \(id) is already in the index"
        case let .unknownID(id): "id \(id) is not in the index"
        case let .truncated(e, a): "index data truncated: needs \(e) bytes, has \(a)"
        case .badMagic: "not a Subterra index (magic bytes do not match)"
        case let .unsupportedVersion(f, s): "index format version \(f) is not supported (this build reads \(s))"
        case let .checksumMismatch(s, c):
            "index payload checksum mismatch (stored \(String(s, radix: 16)), computed \(String(c, radix: 16))): corrupt file"
        case let .corrupt(what): "corrupt index: \(what)"
        case let .io(what): "index I/O error: \(what)"
        case let .invariantViolated(what): "index invariant violated: \(what)"
        }
    }
}

/// What a query callback wants next. Returning `.stop` ends the query at once (no further
/// callbacks), which is how "is there any pipe within 0.5 m?" stays O(log n).
@frozen
public enum SearchControl: Sendable {
    case `continue`
    case stop
}

/// One answer of a distance query: the item id and its exact distance (as the caller's
/// `exactDistance` computed it).
@frozen
public struct Neighbor: Hashable, Sendable {
    public var id: UInt32
    public var distance: Double

    @inlinable
    public init(id: UInt32, distance: Double) {
        self.id = id
        self.distance = distance
    }
}
