/// Read-only contiguous elements held either in a Swift array or in memory another object keeps
/// alive (a memory-mapped file), so an index loaded from a file can answer from the file's pages
/// without copying them.
///
/// ## Invariants
/// - Borrowed memory is never written, and stays valid for as long as `owner` lives: every copy of
///   the buffer holds `owner` strongly.
/// - Borrowed memory is aligned for `Element` (`borrowingOrCopying` copies when it is not; the
///   snapshot file refuses a misaligned column).
/// - Every read keeps `owner` alive until it returns, so the memory cannot be unmapped under it.
///
/// `withUnsafeBufferPointer` costs one branch per call (once per query in the trees' loops); the
/// subscript adds a bounds check per element read.
@frozen
public struct _Buffer<Element>: @unchecked Sendable {
    // @unchecked: the array is a value; borrowed memory is immutable and kept alive by `_owner`.
    @usableFromInline let _array: [Element]
    @usableFromInline let _borrowed: UnsafeBufferPointer<Element>?
    @usableFromInline let _owner: AnyObject?

    /// Elements in an array.
    @inlinable
    public init(_ array: [Element]) {
        _array = array
        _borrowed = nil
        _owner = nil
    }

    /// Elements in memory `owner` keeps alive and nobody writes.
    @inlinable
    public init(borrowing memory: UnsafeBufferPointer<Element>, owner: AnyObject) {
        _array = []
        _borrowed = memory
        _owner = owner
    }

    /// `count` elements stored in `region`: borrowed in place when the region is aligned for
    /// `Element`, else copied into an array (same contents either way).
    public static func borrowingOrCopying(_ region: UnsafeRawBufferPointer, count: Int, owner: AnyObject) -> _Buffer {
        precondition(region.count == count * MemoryLayout<Element>.stride, "region of \(region.count) bytes for \(count) elements")
        if let base = region.baseAddress, Int(bitPattern: base) % MemoryLayout<Element>.alignment == 0 {
            return _Buffer(borrowing: UnsafeBufferPointer(start: base.assumingMemoryBound(to: Element.self), count: count), owner: owner)
        }
        return _Buffer([Element](unsafeUninitializedCapacity: count) { buf, initialized in
            UnsafeMutableRawBufferPointer(buf).copyMemory(from: region)
            initialized = count
        })
    }

    @inlinable public var count: Int { _borrowed?.count ?? _array.count }
    @inlinable public var isEmpty: Bool { count == 0 }
    /// True when the elements are borrowed, not held in an array.
    @inlinable public var isBorrowed: Bool { _borrowed != nil }

    @inlinable
    public subscript(i: Int) -> Element {
        if let b = _borrowed {
            precondition(i >= 0 && i < b.count, "index \(i) outside 0..<\(b.count)")
            return withExtendedLifetime(_owner) { b[i] }
        }
        return _array[i]
    }

    @inlinable @inline(__always)
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        if let b = _borrowed { return try withExtendedLifetime(_owner) { try body(b) } }
        return try _array.withUnsafeBufferPointer(body)
    }

    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
    }

    /// The elements as an array (a copy when borrowed). O(n).
    public var array: [Element] {
        withUnsafeBufferPointer { b in _borrowed == nil ? _array : Array(b) }
    }
}
