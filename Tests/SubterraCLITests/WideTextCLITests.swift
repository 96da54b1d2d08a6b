import Foundation
import Testing

/// Tables pad by terminal columns: a Han character takes two, so a Chinese owner name must not
/// push the columns after it out of line.
@Suite struct WideTextCLITests {
    /// Terminal columns of `s`, counted independently of the tool: CJK unified ideographs and
    /// fullwidth forms take two, everything else in these tables one.
    static func columns(_ s: Substring) -> Int {
        s.unicodeScalars.reduce(0) { w, u in
            w + ((0x4E00...0x9FFF).contains(u.value) || (0xFF00...0xFF60).contains(u.value) ? 2 : 1)
        }
    }

    /// The character of `line` that starts at terminal column `col`, nil past the end or inside
    /// a wide character.
    static func character(of line: String, atColumn col: Int) -> Character? {
        var c = 0
        for ch in line {
            if c == col { return ch }
            c += columns(Substring(String(ch)))
            if c > col { return nil }
        }
        return nil
    }

    @Test func chineseOwnerNamesKeepTheColumnsAligned() throws {
        let fx = try Fixture.shared.get()
        let dir = CLI.tempDir("wide-text")
        for f in ["segments.geojson", "points.geojson"] {
            var text = try String(contentsOfFile: fx.dir + "/" + f, encoding: .utf8)
            text = text.replacingOccurrences(of: "\"Water Co.\"", with: "\"温岭市自来水有限公司\"")
                .replacingOccurrences(of: "\"Gas Co.\"", with: "\"温岭市天然气有限公司（城东）\"")
            try text.write(toFile: dir + "/" + f, atomically: true, encoding: .utf8)
        }
        let store = dir + "/wide.gpkg"
        let imported = try CLI.run(["import", dir, "--store", store])
        #expect(imported.status == 0, "\(imported.stderr)")

        let r = try CLI.run(["nearest", "POINT (501000 3379000)", "-k", "10", "--store", store])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdoutLines
        let header = try #require(lines.firstIndex { $0.contains("owner") })
        let rule = lines[header + 1]
        #expect(rule.allSatisfy { $0 == "-" || $0 == " " }, "\(rule)")
        let rows = lines[(header + 2)...].prefix { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(rows.contains { $0.contains("温岭市自来水有限公司") }, "\(r.stdout)")
        #expect(rows.contains { $0.contains("温岭市天然气有限公司（城东）") }, "\(r.stdout)")
        // Every column starts where the rule's dashes start, in every row: the character at that
        // terminal column is not a space, and the one before it is.
        var starts: [Int] = [0]
        var col = 0, previous: Character = " "
        for ch in rule {
            if ch == "-" && previous == " " && col > 0 { starts.append(col) }
            previous = ch
            col += 1
        }
        #expect(starts.count >= 5, "\(rule)")
        for row in rows {
            for s in starts.dropFirst() {
                let before = Self.character(of: row, atColumn: s - 1)
                #expect(before == " ", "column at \(s) is not preceded by a gap in: \(row)")
            }
            #expect(Self.columns(Substring(row)) <= Self.columns(Substring(rule)), "row wider than its rule: \(row)")
        }
    }
}
