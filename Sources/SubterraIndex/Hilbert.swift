/// Hilbert curve index of a cell on a 2^16 × 2^16 grid.
///
/// Branch-free bit twiddling after "Fast Hilbert curve generation" (rawrunprotected), the same
/// routine flatbush uses. Sorting box centres by this key puts boxes that are close in the plane
/// close in the array, so each packed node covers a compact area. O(1).
@inlinable
func _hilbert(_ x: UInt32, _ y: UInt32) -> UInt32 {
    var a = x ^ y
    var b = 0xFFFF ^ a
    var c = 0xFFFF ^ (x | y)
    var d = x & (y ^ 0xFFFF)

    var A = a | (b >> 1)
    var B = (a >> 1) ^ a
    var C = ((c >> 1) ^ (b & (d >> 1))) ^ c
    var D = ((a & (c >> 1)) ^ (d >> 1)) ^ d

    a = A; b = B; c = C; d = D
    A = (a & (a >> 2)) ^ (b & (b >> 2))
    B = (a & (b >> 2)) ^ (b & ((a ^ b) >> 2))
    C ^= (a & (c >> 2)) ^ (b & (d >> 2))
    D ^= (b & (c >> 2)) ^ ((a ^ b) & (d >> 2))

    a = A; b = B; c = C; d = D
    A = (a & (a >> 4)) ^ (b & (b >> 4))
    B = (a & (b >> 4)) ^ (b & ((a ^ b) >> 4))
    C ^= (a & (c >> 4)) ^ (b & (d >> 4))
    D ^= (b & (c >> 4)) ^ ((a ^ b) & (d >> 4))

    a = A; b = B; c = C; d = D
    C ^= (a & (c >> 8)) ^ (b & (d >> 8))
    D ^= (b & (c >> 8)) ^ ((a ^ b) & (d >> 8))

    a = C ^ (C >> 1)
    b = D ^ (D >> 1)

    var i0 = x ^ y
    var i1 = b | (0xFFFF ^ (i0 | a))

    i0 = (i0 | (i0 << 8)) & 0x00FF_00FF
    i0 = (i0 | (i0 << 4)) & 0x0F0F_0F0F
    i0 = (i0 | (i0 << 2)) & 0x3333_3333
    i0 = (i0 | (i0 << 1)) & 0x5555_5555

    i1 = (i1 | (i1 << 8)) & 0x00FF_00FF
    i1 = (i1 | (i1 << 4)) & 0x0F0F_0F0F
    i1 = (i1 | (i1 << 2)) & 0x3333_3333
    i1 = (i1 | (i1 << 1)) & 0x5555_5555

    return (i1 << 1) | i0
}

/// Stable LSD radix sort of `keys` by their upper 32 bits (the Hilbert value; the lower 32 bits
/// carry the input position, so equal keys keep input order and the build is deterministic).
///
/// Three passes of 11 bits. A full O(n) radix sort measured faster than flatbush's "quicksort that
/// stops once a range fits in one node" at 10^6..10^7 items, since it streams memory instead of
/// recursing, and it needs no random pivots. `scratch` must have the same count as `keys`.
func _radixSortByHighWord(_ keys: inout [UInt64], scratch: inout [UInt64]) {
    let n = keys.count
    guard n > 1 else { return }
    let bits = 11
    let buckets = 1 << bits
    let mask = UInt64(buckets - 1)
    var counts = [Int](repeating: 0, count: buckets * 3)
    keys.withUnsafeBufferPointer { k in
        counts.withUnsafeMutableBufferPointer { c in
            // One read pass builds all three histograms.
            for v in k {
                let h = v >> 32
                c[Int(h & mask)] &+= 1
                c[buckets + Int((h >> 11) & mask)] &+= 1
                c[2 * buckets + Int((h >> 22) & mask)] &+= 1
            }
        }
    }
    var inKeys = true  // where the current data lives
    for pass in 0..<3 {
        let base = pass * buckets
        let shift = UInt64(32 + pass * bits)
        // Skip a pass whose digit is the same for all keys (common: the top digit of a small set).
        var skip = false
        for b in 0..<buckets where counts[base + b] != 0 {
            skip = counts[base + b] == n
            break
        }
        if skip { continue }
        var sum = 0
        for b in 0..<buckets {
            let c = counts[base + b]
            counts[base + b] = sum
            sum += c
        }
        counts.withUnsafeMutableBufferPointer { c in
            keys.withUnsafeMutableBufferPointer { k in
                scratch.withUnsafeMutableBufferPointer { s in
                    let src = inKeys ? k : s
                    let dst = inKeys ? s : k
                    for v in UnsafeBufferPointer(src) {
                        let digit = base + Int((v >> shift) & mask)
                        dst[c[digit]] = v
                        c[digit] &+= 1
                    }
                }
            }
        }
        inKeys.toggle()
    }
    if !inKeys { swap(&keys, &scratch) }
}
