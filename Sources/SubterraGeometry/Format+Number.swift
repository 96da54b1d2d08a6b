#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Exact powers of ten representable in a double (10^0 … 10^22), for Clinger's fast path.
@usableFromInline
let _exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// Parses a decimal number (JSON grammar, plus a leading `+` and a bare trailing `.` when `lenient`)
/// starting at `i`, advancing `i` past it. Returns `nil` (with `i` unchanged) when no number starts
/// there.
///
/// Correctly rounded: Clinger's fast path (mantissa < 2^53, |power of ten| ≤ 22 — one exact
/// multiply or divide) covers survey coordinates like `3150123.456`; anything else goes to
/// `strtod` on a small stack buffer.
func _parseNumber(_ b: UnsafeBufferPointer<UInt8>, _ i: inout Int, lenient: Bool) -> Double? {
    let start = i
    var j = i
    let n = b.count
    var negative = false
    if j < n && b[j] == UInt8(ascii: "-") {
        negative = true
        j += 1
    } else if lenient && j < n && b[j] == UInt8(ascii: "+") {
        j += 1
    }
    var mantissa: UInt64 = 0
    var digits = 0  // significant digits accumulated in mantissa
    var dropped = 0  // integer digits beyond 19 (scale the exponent)
    var sawDigit = false
    let intStart = j
    while j < n, b[j] &- 48 < 10 {
        if digits < 19 {
            if mantissa != 0 || b[j] != 48 { digits += 1 }
            mantissa = mantissa &* 10 &+ UInt64(b[j] &- 48)
        } else {
            dropped += 1
        }
        j += 1
        sawDigit = true
    }
    // JSON needs an integer part and forbids leading zeros like 012.
    if !lenient && j == intStart { return nil }
    if !lenient && j - intStart > 1 && b[intStart] == 48 { return nil }
    var fracDigits = 0
    var inexact = dropped > 0
    if j < n && b[j] == UInt8(ascii: ".") {
        j += 1
        var sawFrac = false
        while j < n, b[j] &- 48 < 10 {
            if digits < 19 {
                if mantissa != 0 || b[j] != 48 { digits += 1 }
                mantissa = mantissa &* 10 &+ UInt64(b[j] &- 48)
                fracDigits += 1
            } else if b[j] != 48 {
                inexact = true
            }
            j += 1
            sawFrac = true
        }
        if !sawFrac && !lenient { return nil }
        sawDigit = sawDigit || sawFrac
    }
    guard sawDigit else { return nil }
    var exp10 = 0
    if j < n && (b[j] | 0x20) == UInt8(ascii: "e") {
        var k = j + 1
        var expNeg = false
        if k < n && (b[k] == UInt8(ascii: "-") || b[k] == UInt8(ascii: "+")) {
            expNeg = b[k] == UInt8(ascii: "-")
            k += 1
        }
        var sawExp = false
        while k < n, b[k] &- 48 < 10 {
            if exp10 < 100_000 { exp10 = exp10 * 10 + Int(b[k] &- 48) }
            k += 1
            sawExp = true
        }
        guard sawExp else { return nil }
        if expNeg { exp10 = -exp10 }
        j = k
    }
    i = j
    let e = exp10 + dropped - fracDigits
    if !inexact && mantissa < (1 << 53) {
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        if e >= -22 && e <= 22 {
            let m = Double(mantissa)
            let v = e < 0 ? m / _exactPowersOfTen[-e] : m * _exactPowersOfTen[e]
            return negative ? -v : v
        }
    }
    return _strtod(b, start, j)
}

/// `strtod` over `b[from..<to]`, copied to a NUL-terminated stack buffer (heap only for absurdly
/// long numbers).
private func _strtod(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Double {
    let len = to - from
    return withUnsafeTemporaryAllocation(of: CChar.self, capacity: len + 1) { buf in
        for k in 0..<len { buf[k] = CChar(bitPattern: b[from + k]) }
        buf[len] = 0
        guard let p = buf.baseAddress else { return .nan }  // capacity >= 1: never taken
        return strtod(p, nil)
    }
}

/// Shortest text that reads back to exactly `v` (Swift's round-trip printing), without a
/// trailing `.0` on integers; `1e-05` style exponents are valid in WKT and JSON alike.
@inlinable
func _formatNumber(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 {
        if v == 0 { return "0" }
        return String(Int64(v))
    }
    return v.description
}
