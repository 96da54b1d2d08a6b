import Foundation
import SubterraRequests

/// A refusal the tool reports as one line on stderr and exit status 2: what is wrong and where
/// (file, line, feature, field, option). The same type batch answers carry (see `RequestError`,
/// which funnels every library error into that one line).
typealias CLIError = RequestError

/// Exit statuses: scripts branch on them.
enum ExitStatus {
    static let ok: Int32 = 0
    /// `--fail-on-conflict` and the check found a conflict or violation.
    static let conflict: Int32 = 1
    /// Bad input, unreadable file, corrupt store: nothing was answered.
    static let error: Int32 = 2
}

/// Writes to stderr without buffering, so progress and errors interleave correctly with stdout.
enum StdErr {
    static func write(_ s: String) {
        // Whatever the report printed so far goes first, so a terminal shows them in order.
        fflush(nil)
        FileHandle.standardError.write(Data(s.utf8))
    }

    static var isTerminal: Bool { isatty(2) == 1 }
}

/// Standard output for batch answers: each call writes its lines at once with `write(2)`, so an
/// answer is out of the process (in the pipe or file) when the call returns, and nothing the tool
/// has answered is held back in a buffer.
enum StdOut {
    /// Writes `lines`, each followed by a newline, retrying interrupted and partial writes.
    /// - Throws: `CLIError` when standard output cannot take them (a full disk, a closed file).
    static func write(lines: [String]) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(0) { $0 + $1.utf8.count + 1 })
        for l in lines {
            bytes.append(contentsOf: l.utf8)
            bytes.append(0x0A)
        }
        try bytes.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = Foundation.write(1, p, left)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw CLIError("writing answers to standard output: \(String(cString: strerror(errno)))") }
                p += n
                left -= n
            }
        }
    }
}
