import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Batch input is data, never a path; limits; answers streamed in order; `--batch` and `@file`
/// on directories, FIFOs, devices and process substitution.
@Suite struct BatchSafetyCLITests {
    let fx: Fixture

    init() throws { fx = try Fixture.shared.get() }

    static let point = "POINT (501030 3379030)"
    static let ok = #"{"id":"ok","op":"nearest","geometry":"POINT (501030 3379030)"}"#

    func batch(_ lines: [String], _ extra: [String] = []) throws -> CLI.Result {
        try CLI.run(["query", "--batch", "-", "--store", fx.store] + extra, stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
    }

    func answers(_ r: CLI.Result) throws -> [[String: Any]] { try r.stdoutLines.map(CLI.object) }

    /// A GEOMETRYCOLLECTION nested `depth` deep around a point, as WKT.
    static func deepCollection(_ depth: Int) -> String {
        String(repeating: "GEOMETRYCOLLECTION (", count: depth) + point + String(repeating: ")", count: depth)
    }

    // MARK: Batch input is data

    @Test func batchGeometryStartingWithAtIsRefusedWithoutOpeningTheFile() throws {
        let r = try batch([
            #"{"id":1,"op":"nearest","geometry":"@/etc/passwd"}"#,
            #"{"id":2,"op":"check-dig","geometry":"  @/etc/passwd","depth":1}"#,
            Self.ok,
        ])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try answers(r)
        #expect(a.count == 3)
        for o in a.prefix(2) {
            let error = o["error"] as? String ?? ""
            #expect(o["ok"] as? Bool == false)
            #expect(error.contains("'@' names a file"), "\(error)")
            #expect(!error.lowercased().contains("root"), "no file content in the error: \(error)")
        }
        #expect(!r.stdout.lowercased().contains("root") && !r.stderr.lowercased().contains("root"))
        #expect(a.last?["ok"] as? Bool == true)
    }

    @Test func unknownAndRepeatedFieldsAreRefusedByName() throws {
        let r = try batch([
            #"{"id":1,"op":"nearest","geometry":"POINT (501030 3379030)","kk":3,"Layers":["RQ"]}"#,
            #"{"id":2,"op":"nearest","geometry":"POINT (501030 3379030)","k":"3"}"#,
            #"{"id":3,"op":"nearest","geometry":"POINT (501030 3379030)","perLayer":1}"#,
            #"[1,2]"#,
            #"{"id":5,"op":"nearest","geometry":"@/etc/passwd","geometry":"POINT (501030 3379030)"}"#,
            #"{"id":6,"op":"nearest","geometry":{"type":"Point","coordinates":[501030,3379030],"type":"LineString"}}"#,
            #"{"id":\#(String(repeating: "[", count: 100_000)),"op":"nearest"}"#,
        ])
        let a = try answers(r)
        #expect(a.count == 7)
        guard a.count == 7 else { return }
        #expect((a[4]["error"] as? String ?? "") == "field geometry appears twice", "\(a[4])")
        #expect((a[5]["error"] as? String ?? "") == "field geometry: key \"type\" appears twice", "\(a[5])")
        #expect((a[6]["error"] as? String ?? "") == "the line nests deeper than 64 levels inside its object (at byte 70), the limit (raise it with --max-depth)", "\(a[6])")
        #expect(a[0]["id"] as? Int == 1)
        #expect((a[0]["error"] as? String ?? "").contains("unknown fields 'Layers', 'kk'"), "\(a[0])")
        #expect((a[1]["error"] as? String ?? "") == "field k must be a number")
        #expect((a[2]["error"] as? String ?? "") == "field perLayer must be true or false")
        #expect((a[3]["error"] as? String ?? "") == "not a JSON object")
    }

    @Test func unknownCodesInBatchFieldsAreRefusedNamingTheValidOnes() throws {
        let at = #""op":"nearest","geometry":"POINT (501030 3379030)""#
        let route = #""op":"check-route","geometry":"LINESTRING (501020 3379010, 501040 3379010)","depth":1"#
        let r = try batch([
            #"{"id":1,\#(at),"layers":["ZZ"]}"#,
            #"{"id":2,\#(at),"layers":"RQ,,"}"#,
            #"{"id":3,\#(at),"layers":[]}"#,
            #"{"id":4,\#(at),"owners":["Nobody Inc."]}"#,
            #"{"id":5,\#(route),"layer":"ZZ"}"#,
            #"{"id":6,\#(route),"layer":"RQ","subtype":"XX"}"#,
            #"{"id":7,\#(at),"layers":["rq"],"owners":"Gas Co."}"#,
            #"{"id":8,\#(route),"layer":"RQ","burial":"ZZ"}"#,
        ])
        let a = try answers(r)
        #expect(a.count == 8)
        guard a.count == 8 else { return }
        func error(_ k: Int) -> String { a[k]["error"] as? String ?? "" }
        #expect(error(7).contains("field burial") && error(7).contains("\"ZZ\""), "\(error(7))")
        #expect(error(0).contains("field layers") && error(0).contains("\"ZZ\"") && error(0).contains("RQ"), "\(error(0))")
        #expect(error(1).contains("field layers") && error(1).contains("empty"), "\(error(1))")
        #expect(error(2) == "field layers is an empty list; leave it out for no condition", "\(error(2))")
        #expect(error(3).contains("field owners") && error(3).contains("Nobody Inc."), "\(error(3))")
        #expect(error(4).contains("field layer") && error(4).contains("\"ZZ\""), "\(error(4))")
        #expect(error(5).contains("field subtype") && error(5).contains("\"XX\""), "\(error(5))")
        #expect(a[6]["ok"] as? Bool == true, "\(a[6])")
        #expect(((a[6]["result"] as? [String: Any])?["hits"] as? [[String: Any]])?.first?["layer"] as? String == "RQ")
    }

    // MARK: Limits, each with its own message

    @Test func eachLimitIsRefusedWithItsOwnMessageAndTheRunGoesOn() throws {
        let long = #"{"id":"long","op":"nearest","geometry":"POINT (501030 3379030)","crs":""# + String(repeating: "x", count: 300) + "\""
        let wide = "POINT (501030." + String(repeating: "0", count: 120) + " 3379030)"
        let r = try batch(
            [
                Self.ok,
                long,
                #"{"id":"verts","op":"intersects","geometry":"POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"}"#,
                #"{"id":"depth","op":"nearest","geometry":"GEOMETRYCOLLECTION (GEOMETRYCOLLECTION (POINT (0 0)))"}"#,
                #"{"id":"bytes","op":"nearest","geometry":"\#(wide)"}"#,
                #"{"id":"gjdepth","op":"nearest","geometry":{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[0,0]}]}}"#,
                Self.ok,
            ], ["--max-line-bytes", "200", "--max-vertices", "4", "--max-depth", "2", "--max-geometry-bytes", "120"])
        #expect(r.status == 0, "\(r.stderr)")
        let a = try answers(r)
        #expect(a.count == 7)
        guard a.count == 7 else { return }
        func error(_ k: Int) -> String { a[k]["error"] as? String ?? "" }
        #expect(a[0]["ok"] as? Bool == true)
        #expect(a[1]["line"] as? Int == 2)
        #expect(error(1) == "line 2 is longer than 200 bytes, the limit (raise it with --max-line-bytes)")
        #expect(error(2).contains("more than 4 vertices") && error(2).hasSuffix("the limit (raise it with --max-vertices)"), "\(error(2))")
        #expect(error(3).contains("nested deeper than 2 levels") && error(3).hasSuffix("(raise it with --max-depth)"), "\(error(3))")
        #expect(error(4).contains("the geometry text is \(wide.utf8.count) bytes; the limit is 120"), "\(error(4))")
        #expect(error(5).contains("deeper than 2 levels"), "\(error(5))")
        #expect(a[6]["ok"] as? Bool == true)
        for (option, value, message) in [
            ("--max-depth", "0", "--max-depth 0: a limit must be at least 1"),
            ("--max-depth", "1000", "--max-depth 1000: at most 256 (the parsers' ceiling)"),
            ("--max-line-bytes", "0", "--max-line-bytes 0: a limit must be at least 1"),
        ] {
            let bad = try CLI.run(["query", "--batch", "-", "--store", fx.store, option, value], stdin: Data())
            #expect(bad.status == 2 && bad.stderrLines == ["subterra: error: " + message], "\(bad.stderr)")
        }
    }

    /// 200 MB without a newline, then a good line: one error answer, the good line answered, and
    /// the reader never holds more than the limit (peak memory measured where GNU time exists).
    @Test func anEndlessLineIsSkippedInBoundedMemory() throws {
        let time = FileManager.default.isExecutableFile(atPath: "/usr/bin/time") ? "/usr/bin/time -f 'peak-rss-kb=%M' " : ""
        let r = try CLI.runShell(
            "(head -c 200000000 /dev/zero | tr '\\0' x; echo; echo '\(Self.ok)') | \(time)\"$BIN\" query --batch - --store \"$STORE\" --max-line-bytes 1000000",
            env: ["STORE": fx.store], timeout: 120)
        #expect(r.status == 0, "exit \(r.status): \(r.stderr)")
        let a = try answers(r)
        #expect(a.count == 2)
        #expect(a.first?["error"] as? String == "line 1 is longer than 1000000 bytes, the limit (raise it with --max-line-bytes)")
        #expect(a.last?["line"] as? Int == 2 && a.last?["ok"] as? Bool == true)
        if let kb = r.stderr.components(separatedBy: "peak-rss-kb=").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
            #expect(kb < 150_000, "peak memory \(kb) KB for a 200 MB line")
        }
    }

    @Test func aSixtyThousandDeepCollectionDoesNotKillTheBatch() throws {
        let deep = Self.deepCollection(60_000)
        let r = try batch([Self.ok, #"{"id":"deep","op":"nearest","geometry":"\#(deep)"}"#, Self.ok])
        #expect(r.status == 0, "exit \(r.status): \(r.stderr.prefix(300))")
        let a = try answers(r)
        #expect(a.count == 3)
        #expect(a.first?["ok"] as? Bool == true && a.last?["ok"] as? Bool == true)
        if a.count == 3 { #expect((a[1]["error"] as? String ?? "").contains("nested deeper than 64 levels"), "\(a[1])") }
        // The same input on the command line (from a file: one argument may not be 1 MB): one
        // line, exit 2.
        let file = CLI.tempDir("deep") + "/deep.wkt"
        try deep.write(toFile: file, atomically: true, encoding: .utf8)
        let arg = try CLI.run(["nearest", "@" + file, "--store", fx.store])
        #expect(arg.status == 2 && arg.stderrLines.count == 1, "exit \(arg.status): \(arg.stderr.prefix(300))")
        #expect(arg.stderr.contains("nested deeper than 64 levels"))
    }

    // MARK: Answers are streamed in order

    @Test func eachAnswerIsWrittenBeforeTheNextLineIsSent() throws {
        let p = try Spawned(["query", "--batch", "-", "--store", fx.store, "--threads", "2"])
        defer { p.stop() }
        for k in 1...3 {
            p.send(#"{"id":\#(k),"op":"nearest","geometry":"POINT (501030 3379030)"}"# + "\n")
            let line = p.readLine(timeout: 20)
            #expect(line != nil, "answer \(k) arrives while stdin is still open")
            guard let line else { return }
            #expect(try CLI.object(line)["id"] as? Int == k)
        }
        p.closeInput()
        #expect(p.readLine(timeout: 20) == nil, "nothing more after EOF")
        #expect(p.wait() == 0)
    }

    @Test func aFailedWriteOfAnswersExits2WithTheReason() throws {
        let r = try CLI.runShell(
            "printf '%s\\n' '\(Self.ok)' '\(Self.ok)' | \"$BIN\" query --batch - --store \"$STORE\" > /dev/full",
            env: ["STORE": fx.store], timeout: 60)
        #expect(r.status == 2, "exit \(r.status)")
        #expect(r.stderrLines == ["subterra: error: writing answers to standard output: No space left on device"], "\(r.stderr)")
    }

    @Test func outputOrderIsTheSameWithOneTwoAndFourThreads() throws {
        var rng = SplitMix(state: 11)
        let e = fx.extent
        var lines: [String] = []
        for q in 0..<400 {
            let p = (rng.half(e.minX, e.maxX), rng.half(e.minY, e.maxY))
            switch q % 8 {
            case 0: lines.append(#"{"id":\#(q),"op":"check-dig","geometry":"POLYGON ((\#(p.0) \#(p.1), \#(p.0 + 20) \#(p.1), \#(p.0 + 20) \#(p.1 + 20), \#(p.0) \#(p.1 + 20), \#(p.0) \#(p.1)))","depth":1.5}"#)
            case 1: lines.append("not json \(q)")
            case 2: lines.append(#"{"id":\#(q),"op":"within","geometry":"POINT (\#(p.0) \#(p.1))","distance":\#(rng.half(0, 30))}"#)
            case 3: lines.append("")
            case 4: lines.append(#"{"id":\#(q),"op":"section","geometry":"LINESTRING (\#(p.0) \#(p.1), \#(p.0 + 40) \#(p.1 + 30))"}"#)
            case 5: lines.append(#"{"id":\#(q),"op":"nearest","geometry":"@x"}"#)
            default: lines.append(#"{"id":\#(q),"op":"nearest","geometry":"POINT (\#(p.0) \#(p.1))","k":\#(1 + q % 5)}"#)
            }
        }
        let one = try batch(lines, ["--threads", "1"])
        let two = try batch(lines, ["--threads", "2"])
        let four = try batch(lines, ["--threads", "4"])
        #expect(one.status == 0 && two.status == 0 && four.status == 0)
        #expect(one.stdoutLines.count == 350)
        #expect(one.stdout == two.stdout && one.stdout == four.stdout)
        let numbers = try one.stdoutLines.map { try CLI.object($0)["line"] as? Int ?? 0 }
        #expect(numbers == numbers.sorted() && Set(numbers).count == numbers.count)
    }

    // MARK: --batch on directories, devices, FIFOs

    @Test func batchOnADirectoryOrADeviceIsOneLineAndExit2() throws {
        for (path, needle) in [("/tmp", "--batch /tmp: is a directory"), ("/dev/zero", "--batch /dev/zero: is a character device")] {
            let r = try CLI.run(["query", "--batch", path, "--store", fx.store])
            #expect(r.status == 2, "\(path): exit \(r.status)")
            #expect(r.stderrLines.count == 1 && r.stderr.contains(needle), "\(path): \(r.stderr)")
        }
    }

    @Test func batchFromStdinOnDevZeroIsRefused() throws {
        let r = try CLI.runShell("exec \"$BIN\" query --batch - --store \"$STORE\" < /dev/zero", env: ["STORE": fx.store], timeout: 30)
        #expect(r.status == 2, "exit \(r.status)")
        #expect(r.stderrLines == ["subterra: error: --batch -: is a character device, not a file or pipe (its input may never end)"], "\(r.stderr)")
        let null = try CLI.runShell("exec \"$BIN\" query --batch - --store \"$STORE\" < /dev/null", env: ["STORE": fx.store], timeout: 30)
        #expect(null.status == 0 && null.stdout.isEmpty, "\(null.stderr)")
    }

    @Test func batchOnAFIFOWorks() throws {
        let dir = CLI.tempDir("fifo-batch")
        let fifo = dir + "/q.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let lines = (1...50).map { #"{"id":\#($0),"op":"nearest","geometry":"POINT (501030 3379030)"}"# }
        let writer = Thread {
            if let h = FileHandle(forWritingAtPath: fifo) {
                h.write(Data((lines.joined(separator: "\n") + "\n").utf8))
                try? h.close()
            }
        }
        writer.start()
        let r = try CLI.run(["query", "--batch", fifo, "--store", fx.store])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try r.stdoutLines.map { try CLI.object($0)["id"] as? Int ?? 0 } == Array(1...50))
    }

    // MARK: @file on the command line

    @Test func atFileTakesFIFOsAndProcessSubstitution() throws {
        let sub = try CLI.runShell(
            "exec \"$BIN\" nearest @<(echo '\(Self.point)') --store \"$STORE\" --format json", env: ["STORE": fx.store], timeout: 60)
        #expect(sub.status == 0, "\(sub.stderr)")
        #expect((try? CLI.object(sub.stdout))?["count"] as? Int == 1)
        let dir = CLI.tempDir("fifo-at")
        let fifo = dir + "/g.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread {
            if let h = FileHandle(forWritingAtPath: fifo) {
                h.write(Data(Self.point.utf8))
                try? h.close()
            }
        }
        writer.start()
        let r = try CLI.run(["nearest", "@" + fifo, "--store", fx.store, "--format", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try? CLI.object(r.stdout))?["count"] as? Int == 1)
    }

    @Test func atFileOverTheSizeLimitOrADirectoryIsRefused() throws {
        let dir = CLI.tempDir("at-limit")
        let file = dir + "/big.wkt"
        try ("POINT (501030 3379030)" + String(repeating: " ", count: 200)).write(toFile: file, atomically: true, encoding: .utf8)
        let big = try CLI.run(["nearest", "@" + file, "--store", fx.store, "--max-geometry-bytes", "100"])
        #expect(big.status == 2)
        #expect(big.stderrLines == ["subterra: error: geometry @\(file): the file is larger than 100 bytes, the limit (raise it with --max-geometry-bytes)"], "\(big.stderr)")
        let raised = try CLI.run(["nearest", "@" + file, "--store", fx.store, "--max-geometry-bytes", "1000"])
        #expect(raised.status == 0, "\(raised.stderr)")
        // A pipe has no size to check first: it is refused once it has sent more than the limit.
        let piped = try CLI.runShell(
            "exec \"$BIN\" nearest @<(yes 'POINT (501030 3379030)') --store \"$STORE\" --max-geometry-bytes 100000",
            env: ["STORE": fx.store], timeout: 60)
        #expect(piped.status == 2)
        #expect(piped.stderr.contains("the file is larger than 100000 bytes, the limit"), "\(piped.stderr)")
        let d = try CLI.run(["nearest", "@" + dir, "--store", fx.store])
        #expect(d.status == 2 && d.stderrLines == ["subterra: error: geometry @\(dir): is a directory, not a file"], "\(d.stderr)")
        let z = try CLI.run(["nearest", "@/dev/zero", "--store", fx.store])
        #expect(z.status == 2 && z.stderr.contains("is a character device"), "\(z.stderr)")
    }
}

/// The tool running with a pipe on stdin that the test writes to line by line, and stdout read
/// line by line with a timeout: proves answers arrive before input ends.
final class Spawned {
    let process = Process()
    let input = Pipe(), output = Pipe()
    private var pending: [UInt8] = []

    init(_ args: [String]) throws {
        process.executableURL = CLI.binary
        process.arguments = args
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    func send(_ s: String) { input.fileHandleForWriting.write(Data(s.utf8)) }

    func closeInput() { try? input.fileHandleForWriting.close() }

    /// The next stdout line, or nil at end of output or after `timeout` seconds without one.
    func readLine(timeout: Double) -> String? {
        let fd = output.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<nl], as: UTF8.self)
                pending.removeSubrange(...nl)
                return line
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left * 1000)) > 0 else { return nil }
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            let n = read(fd, &buf, buf.count)
            guard n > 0 else { return nil }
            pending.append(contentsOf: buf[0..<n])
        }
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    func stop() {
        closeInput()
        if process.isRunning { process.terminate() }
    }
}
