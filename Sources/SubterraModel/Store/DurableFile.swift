import Foundation

/// Replacing a file's whole content so that a crash or power cut leaves the old content or the
/// new, never a mix or a part: the one implementation the CLI's outputs (`--map`, `--svg`,
/// `--out`) and the service's compacted dig-check file share.
///
/// Steps: the bytes go to a new file beside the target, `.<name>.subterra-XXXXXX` (`mkstemp`,
/// so two writers never share it), which gets the given permission bits, is `fsync`ed and then
/// `rename(2)`d over the target (atomic within a file system); last the folder is `fsync`ed,
/// which makes the rename itself durable. A folder that cannot be opened or flushed (some file
/// systems) leaves that to the kernel's next writeback. On any failure the temporary file is
/// removed and the target is as it was; a process killed between the steps can leave the
/// temporary file behind.
///
/// ```swift
/// try DurableFile.replace("/srv/subterra/checks.jsonl", mode: 0o600, with: Array(text.utf8))
/// ```
public enum DurableFile {
    /// Replaces `path` (which need not exist; its folder must) with `bytes`.
    /// - Parameter mode: the permission bits of the new file.
    /// - Throws: ``DurableFileError`` with the step that failed and its `errno`.
    public static func replace<C: ContiguousBytes>(_ path: String, mode: mode_t, with bytes: C) throws(DurableFileError) {
        let dir = folder(of: path)
        var template = Array("\(dir)/.\((path as NSString).lastPathComponent).subterra-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { buf in buf.baseAddress.map { mkstemp($0) } ?? -1 }
        guard fd >= 0 else { throw DurableFileError(step: "cannot create a temporary file in \(dir)", code: errno) }
        let temp = template.withUnsafeBufferPointer { buf in buf.baseAddress.map { String(cString: $0) } ?? "" }
        var renamed = false
        defer { if !renamed { unlink(temp) } }
        let failed: DurableFileError? = bytes.withUnsafeBytes { raw in
            var at = 0
            while at < raw.count {
                let n = write(fd, raw.baseAddress! + at, raw.count - at)
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return DurableFileError(step: "cannot write", code: n < 0 ? errno : EIO) }
                at += n
            }
            guard fchmod(fd, mode) == 0 else { return DurableFileError(step: "cannot set the file mode", code: errno) }
            guard fsync(fd) == 0 else { return DurableFileError(step: "cannot flush to disk", code: errno) }
            return nil
        }
        if let failed {
            close(fd)
            throw failed
        }
        guard close(fd) == 0 else { throw DurableFileError(step: "cannot write", code: errno) }
        guard rename(temp, path) == 0 else { throw DurableFileError(step: "cannot move the new file into place", code: errno) }
        renamed = true
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    /// The folder part of `path` ("." for a bare name).
    static func folder(of path: String) -> String {
        let p = (path as NSString).deletingLastPathComponent
        return p.isEmpty ? "." : p
    }
}

/// Why ``DurableFile/replace(_:mode:with:)`` failed: the step, and the system's reason.
public struct DurableFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What could not be done, e.g. `"cannot flush to disk"`.
    public var step: String
    /// The `errno` of the failed call.
    public var code: Int32

    public init(step: String, code: Int32) {
        self.step = step
        self.code = code
    }

    /// `step: strerror(code)`.
    public var description: String { "\(step): \(String(cString: strerror(code)))" }
}
