import Foundation
import SubterraEngine
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// A refusal the tool reports as one line on stderr and exit status 2: what is wrong and where
/// (file, line, feature, field, option).
///
/// Every library error funnels through ``CLIError/init(_:context:)`` so the line always has the
/// same shape, `subterra: error: <where>: <what>`, whatever module refused.
struct CLIError: Error, CustomStringConvertible {
    var message: String

    init(_ message: String) { self.message = message }

    /// Wraps any error; `context` says what the tool was doing (e.g. `"--store city.gpkg"`).
    init(_ error: any Error, context: String? = nil) {
        let text: String
        switch error {
        case let e as CLIError: text = e.message
        case let e as EngineError: text = e.description
        case let e as ImportError: text = e.description
        case let e as StoreError: text = e.description
        case let e as GeometryError: text = e.description
        case let e as PROJError: text = "\(e)"
        case let e as GEOSError: text = "\(e)"
        case let e as ModelError: text = e.description
        case let e as ClearanceRulesError: text = e.description
        default: text = "\(error)"
        }
        message = context.map { "\($0): \(text)" } ?? text
    }

    /// The message on one line: a multi-line library message (e.g. a quality report) is folded
    /// so scripts can rely on one line per error.
    var description: String { CLIError.oneLine(message) }

    static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}

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

/// Buffered stdout: batch mode writes 10^5 lines, and `print` per line costs a lock and a flush.
final class StdOut {
    private var buffer: [UInt8] = []

    init() { buffer.reserveCapacity(1 << 16) }

    func write(_ s: String) {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func line(_ s: String) {
        write(s)
        buffer.append(0x0A)
    }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            guard var p = raw.baseAddress else { return }
            var left = raw.count
            while left > 0 {
                let n = Foundation.write(1, p, left)
                if n <= 0 { break }
                p += n
                left -= n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}
