/// Terminal display width of text, so tables line up when a cell holds CJK text.
///
/// A terminal gives East Asian wide and fullwidth characters (UAX #11 classes W and F: Han
/// ideographs, kana, Hangul syllables, fullwidth forms, CJK punctuation) two columns, and
/// combining marks and format characters none. Owner names such as 温岭市自来水有限公司 are ten
/// characters but twenty columns; padding by `count` misaligns every column after them.
///
/// The width of a `Character` (an extended grapheme cluster) is decided by its first scalar,
/// with an emoji presentation selector (U+FE0F) or an emoji-presentation scalar making it wide.
/// The wide ranges are those of UAX #11 for the blocks that occur in survey text (the same
/// table as Markus Kuhn's `wcwidth`, with the Unicode 15 CJK extensions). O(n) in scalars.
enum DisplayWidth {
    /// Columns `text` occupies in a terminal.
    static func of(_ text: String) -> Int {
        var w = 0
        for ch in text { w += of(ch) }
        return w
    }

    /// Columns one grapheme cluster occupies: 0, 1 or 2.
    static func of(_ ch: Character) -> Int {
        guard let first = ch.unicodeScalars.first else { return 0 }
        if isZeroWidth(first) { return 0 }
        if isWide(first.value) { return 2 }
        if ch.unicodeScalars.count > 1, ch.unicodeScalars.contains(where: { $0.value == 0xFE0F }) { return 2 }
        if first.properties.isEmojiPresentation { return 2 }
        return 1
    }

    /// Controls, combining marks and format characters (zero-width joiner, byte-order mark),
    /// and Hangul medial vowels and final consonants (they join the preceding syllable).
    private static func isZeroWidth(_ s: Unicode.Scalar) -> Bool {
        switch s.properties.generalCategory {
        case .control, .nonspacingMark, .enclosingMark, .format: return s.value != 0x00AD
        default: return (0x1160...0x11FF).contains(s.value)
        }
    }

    /// UAX #11 East Asian Wide (W) and Fullwidth (F) ranges.
    private static func isWide(_ v: UInt32) -> Bool {
        guard v >= 0x1100 else { return false }
        switch v {
        case 0x1100...0x115F,  // Hangul Jamo initial consonants
            0x2329...0x232A,  // angle brackets
            0x2E80...0x303E,  // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
            0x3041...0x33FF,  // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed, compatibility
            0x3400...0x4DBF,  // CJK extension A
            0x4E00...0x9FFF,  // CJK unified ideographs
            0xA000...0xA4CF,  // Yi
            0xA960...0xA97F,  // Hangul Jamo extended A
            0xAC00...0xD7A3,  // Hangul syllables
            0xF900...0xFAFF,  // CJK compatibility ideographs
            0xFE10...0xFE19,  // vertical forms
            0xFE30...0xFE6F,  // CJK compatibility forms, small form variants
            0xFF00...0xFF60,  // fullwidth forms
            0xFFE0...0xFFE6,  // fullwidth signs
            0x1F300...0x1F64F,  // pictographs, emoticons
            0x1F900...0x1F9FF,  // supplemental symbols and pictographs
            0x20000...0x2FFFD,  // CJK extensions B–F, compatibility supplement
            0x30000...0x3FFFD:  // CJK extensions G–H
            return true
        default:
            return false
        }
    }
}
