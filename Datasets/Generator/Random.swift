/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator used to seed `Xoshiro256` and to derive
/// independent sub-streams from a key. Deterministic on every platform, unlike
/// `SystemRandomNumberGenerator`, so a seed reproduces a district byte for byte.
@frozen
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    @inlinable
    public init(seed: UInt64) { state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// xoshiro256** (Blackman, Vigna 2018): the generator behind every random choice in a district.
/// Seeded through SplitMix64 as its authors recommend, so nearby seeds give unrelated streams.
@frozen
public struct Xoshiro256: RandomNumberGenerator, Sendable {
    @usableFromInline var s0, s1, s2, s3: UInt64

    @inlinable
    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s0 = sm.next()
        s1 = sm.next()
        s2 = sm.next()
        s3 = sm.next()
    }

    /// A stream for one part of the district (an edge, a node, a line), independent of the order
    /// in which parts are generated: the same key always gives the same stream.
    @inlinable
    public init(seed: UInt64, key: UInt64, salt: UInt64) {
        self.init(seed: _mix(_mix(seed, key), salt))
    }

    @inlinable
    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = (s3 << 45) | (s3 >> 19)
        return result
    }
}

/// Hashes two words into one (a SplitMix64 finaliser over a combination); for keying sub-streams.
@inlinable
public func _mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
    var sm = SplitMix64(seed: a ^ (b &* 0xD6E8_FEB8_6659_FD93))
    return sm.next()
}

extension RandomNumberGenerator {
    /// Uniform in [0, 1) from the top 53 bits; our own so the bits-to-double mapping cannot change
    /// with the standard library.
    @inlinable
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Uniform in [a, b).
    @inlinable
    public mutating func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * unit() }

    /// `true` with probability `p`.
    @inlinable
    public mutating func chance(_ p: Double) -> Bool { unit() < p }

    /// Uniform integer in `range` (Lemire's multiply-high, bias below 2^-64 · count).
    @inlinable
    public mutating func integer(in range: ClosedRange<Int>) -> Int {
        let n = UInt64(range.upperBound - range.lowerBound + 1)
        return range.lowerBound + Int(next().multipliedFullWidth(by: n).high)
    }

    /// One element of a non-empty array.
    @inlinable
    public mutating func pick<T>(_ items: [T]) -> T { items[integer(in: 0...(items.count - 1))] }
}
