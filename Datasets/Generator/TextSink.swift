import Foundation

/// A buffered UTF-8 file writer: districts of millions of records are streamed, never held as one
/// string. Bytes are written in 1 MiB chunks.
public final class TextSink {
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    public let path: String

    /// Creates (or truncates) the file at `path`.
    public init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw DatasetError("cannot create file", at: path)
        }
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw DatasetError("cannot open file for writing", at: path)
        }
        self.path = path
        handle = h
        buffer.reserveCapacity(1 << 20)
    }

    public func write(_ s: String) throws {
        buffer.append(contentsOf: s.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes; call once at the end.
    public func close() throws {
        try flush()
        try handle.close()
    }
}

/// Why a dataset file could not be written or read: what and where (file, line, feature).
public struct DatasetError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String
    public var location: String
    public init(_ message: String, at location: String = "") {
        self.message = message
        self.location = location
    }
    public var description: String { location.isEmpty ? message : "\(location): \(message)" }
}

/// Shortest round-trip decimal text of a Double ("3140242.867", "0.0035"); identical on every
/// platform for the same value, so output files are byte-identical.
@inlinable
func _num(_ v: Double) -> String {
    if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
    return v.description
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
func _csv(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}
