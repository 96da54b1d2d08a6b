/// A failure reported by PROJ: an unknown or malformed coordinate system, no transformation
/// between two systems, or a point that cannot be transformed.
public struct PROJError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was being done, e.g. `"create coordinate system from 'EPSG:99999'"`.
    public var operation: String
    /// PROJ's message (`proj_context_errno_string`, plus its last log line when it adds detail).
    public var message: String
    /// PROJ's error number (`proj_context_errno`), 0 when Subterra found the problem itself.
    public var code: Int32
    /// For a transform, the index of the first point that failed.
    public var pointIndex: Int?

    public init(operation: String, message: String, code: Int32 = 0, pointIndex: Int? = nil) {
        self.operation = operation
        self.message = message
        self.code = code
        self.pointIndex = pointIndex
    }

    public var description: String {
        let at = pointIndex.map { " at point \($0)" } ?? ""
        return "PROJ \(operation) failed\(at): \(message)"
    }
}
