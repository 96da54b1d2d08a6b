import Crypto
import Foundation

/// API keys as the service stores them: never the key, only a salted SHA-256 of it.
///
/// A key is 32 random bytes (256 bits) written as 64 hex digits with the prefix `stk_`, so it
/// is recognisable in a leaked log. Because a key has full entropy, a single round of SHA-256
/// over a random 128-bit salt and the key is enough (a slow password hash adds nothing against
/// a 2^256 search, and would cost every request milliseconds). The stored form is
/// `sha256:<salt hex>:<digest hex>`; verification compares digests in constant time.
public enum APIKey {
    /// The prefix every key this tool makes starts with.
    public static let prefix = "stk_"

    /// A new random key (`stk_` + 64 hex digits), from the system's secure generator.
    public static func generate() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return prefix + hex(bytes)
    }

    /// The stored form of `key` with a fresh random 128-bit salt.
    public static func hash(_ key: String) -> String {
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return hash(key, salt: salt)
    }

    /// The stored form of `key` with `salt` (tests pin the salt).
    public static func hash(_ key: String, salt: [UInt8]) -> String {
        "sha256:\(hex(salt)):\(hex(digest(key, salt: salt)))"
    }

    /// A parsed stored hash: the salt and the digest.
    public struct Stored: Hashable, Sendable {
        public var salt: [UInt8]
        public var digest: [UInt8]

        /// Parses `sha256:<32 hex>:<64 hex>`; nil when malformed.
        public init?(_ text: String) {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3, parts[0] == "sha256", let s = APIKey.bytes(hex: parts[1]), s.count == 16,
                let d = APIKey.bytes(hex: parts[2]), d.count == 32
            else { return nil }
            salt = s
            digest = d
        }

        /// Whether `key` hashes to this digest. Constant time in the digest comparison (every
        /// byte is visited whatever differs), so timing tells nothing of how much matched.
        public func matches(_ key: String) -> Bool {
            let d = APIKey.digest(key, salt: salt)
            var diff: UInt8 = 0
            for (a, b) in zip(d, digest) { diff |= a ^ b }
            return diff == 0 && d.count == digest.count
        }
    }

    static func digest(_ key: String, salt: [UInt8]) -> [UInt8] {
        var h = SHA256()
        h.update(data: salt)
        h.update(data: Array(key.utf8))
        return Array(h.finalize())
    }

    /// Lower-case hex of `bytes` (digests in key hashes, request fingerprints, asset tags).
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes<S: StringProtocol>(hex: S) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func v(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        var i = 0
        while i < u.count {
            guard let hi = v(u[i]), let lo = v(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}
