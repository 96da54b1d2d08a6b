import Foundation
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Runs the built `subterra` executable, which SwiftPM puts in the same products directory as
/// the test bundle (`.build-*/debug/`).
enum CLI {
    static let binary: URL = {
        if let env = ProcessInfo.processInfo.environment["SUBTERRA_BIN"] { return URL(fileURLWithPath: env) }
        var candidates: [URL] = []
        let arg0 = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        var dir = arg0.deletingLastPathComponent()
        // arguments[0] may be the bundle itself or a binary inside it (…/X.xctest/Contents/MacOS/X).
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("subterra"))
            dir = dir.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("subterra"))
        for c in candidates where FileManager.default.isExecutableFile(atPath: c.path) { return c }
        return candidates[0]
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        var stderrLines: [String] { stderr.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
        var stdoutLines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) }
    }

    /// Runs `subterra args…` with optional stdin; collects both streams concurrently so a large
    /// output cannot fill a pipe and deadlock.
    static func run(_ args: [String], stdin: Data? = nil) throws -> Result {
        let p = Process()
        p.executableURL = binary
        p.arguments = args
        return try collect(p, stdin: stdin)
    }

    /// Runs `script` with bash (for process substitution and redirections), `$BIN` set to the
    /// tool; kills it after `timeout` seconds (then the status is the signal's, never 0 or 2).
    static func runShell(_ script: String, env: [String: String] = [:], timeout: Double) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        var environment = ProcessInfo.processInfo.environment
        environment["BIN"] = binary.path
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        return try collect(p, stdin: nil, timeout: timeout)
    }

    /// Starts `p`, feeds it `stdin` (else /dev/null) and reads stdout and stderr on two threads;
    /// past `timeout` seconds the process is killed with SIGKILL.
    private static func collect(_ p: Process, stdin: Data?, timeout: Double? = nil) throws -> Result {
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        let inPipe = Pipe()
        p.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try p.run()
        let box = OutputBox()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            box.setOut(out.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            box.setErr(err.fileHandleForReading.readDataToEndOfFile())
            group.leave()
        }
        if let stdin {
            inPipe.fileHandleForWriting.write(stdin)
            try inPipe.fileHandleForWriting.close()
        }
        if let timeout, group.wait(timeout: .now() + timeout) == .timedOut {
            kill(p.processIdentifier, SIGKILL)
        }
        group.wait()
        p.waitUntilExit()
        return Result(
            status: p.terminationStatus, stdout: String(decoding: box.out, as: UTF8.self),
            stderr: String(decoding: box.err, as: UTF8.self))
    }

    final class OutputBox: @unchecked Sendable {
        // Both fields are only touched under `lock`.
        private let lock = NSLock()
        private var o = Data(), e = Data()
        func setOut(_ d: Data) { lock.withLock { o = d } }
        func setErr(_ d: Data) { lock.withLock { e = d } }
        var out: Data { lock.withLock { o } }
        var err: Data { lock.withLock { e } }
    }

    static func object(_ s: String) throws -> [String: Any] {
        let o = try JSONSerialization.jsonObject(with: Data(s.utf8))
        guard let d = o as? [String: Any] else { throw CLITestError("not a JSON object: \(s.prefix(200))") }
        return d
    }

    /// Runs `subterra args…` under a pseudo-terminal (util-linux `script`), so stderr is a
    /// terminal; returns the exit status and everything the terminal saw.
    static func runOnTerminal(_ args: [String], log: String) throws -> (status: Int32, text: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        let command = ([binary.path] + args).map { "'\($0)'" }.joined(separator: " ")
        p.arguments = ["-qec", command, log]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return (p.terminationStatus, try String(contentsOfFile: log, encoding: .utf8))
    }

    /// A character device like `/dev/<name>` (Linux numbers 1:`minor`): as root a private node in
    /// a temporary directory, so a build that renames over its output replaces that node and not
    /// the system's; otherwise the system's, which a non-root rename cannot replace.
    static func device(_ name: String, minor: Int) -> String {
        let p = tempDir("dev-\(name)") + "/" + name
        if geteuid() == 0, mknod(p, S_IFCHR | 0o666, dev_t(1 << 8 | minor)) == 0 { return p }
        return "/dev/" + name
    }

    static func tempDir(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-cli-\(getpid())-\(name)")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }
}

struct CLITestError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// XML well-formedness through FoundationXML's parser, collecting element counts and text.
final class SVGCheck: NSObject, XMLParserDelegate {
    var text = ""
    var elements: [String: Int] = [:]
    var rootName: String?

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        if rootName == nil { rootName = name }
        elements[name, default: 0] += 1
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

    /// Parses `path`; nil when it is missing or not well-formed XML with an `svg` root.
    static func parse(_ path: String) -> SVGCheck? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let p = XMLParser(data: data)
        let c = SVGCheck()
        p.delegate = c
        return p.parse() && c.rootName == "svg" ? c : nil
    }
}
