import Foundation
import SubterraEngine
import SubterraGEOS
import SubterraGeometry
import SubterraModel
import SubterraPROJ

/// A refused request or input: one line saying what is wrong and where (file, line, feature,
/// field, option, vertex, byte offset).
///
/// Every library error funnels through ``init(_:context:)`` so the line has the same shape
/// whatever module refused; the `subterra` tool prints it as `subterra: error: <where>: <what>`
/// (exit 2) and batch mode puts it in an answer's `"error"`.
public struct RequestError: Error, CustomStringConvertible, Sendable {
    /// The message as given; may hold newlines (a quality report), see ``description``.
    public var message: String

    public init(_ message: String) { self.message = message }

    /// Wraps any error; `context` says what was being done (e.g. `"--store city.gpkg"`,
    /// `"field geometry (WKT)"`).
    public init(_ error: any Error, context: String? = nil) {
        let text: String
        switch error {
        case let e as RequestError: text = e.message
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
    public var description: String { RequestError.oneLine(message) }

    /// `s` with its lines trimmed, blank ones dropped, and the rest joined by `"; "`.
    public static func oneLine(_ s: String) -> String {
        s.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: "; ")
    }
}
