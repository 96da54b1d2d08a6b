/// A failure reported by GEOS or found while converting to or from GEOS.
///
/// `operation` names what was being done (for example `"buffer"` or `"read WKT"`), `message`
/// carries GEOS's own text where GEOS gave one (its error handler, else its last notice), so a
/// caller can tell *what* went wrong and *where* without a debugger.
public struct GEOSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done when the failure happened, e.g. `"intersection"`.
    public var operation: String
    /// GEOS's message, or Subterra's own explanation for conversion failures.
    public var message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "GEOS \(operation) failed: \(message)" }
}
