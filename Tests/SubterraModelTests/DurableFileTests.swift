import Foundation
import SubterraModel
import Testing

@Suite struct DurableFileTests {
    @Test func replacesWholeWithTheModeAndLeavesNoTemporaryFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("subterra-durable-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/out.txt"
        try DurableFile.replace(path, mode: 0o600, with: Array("first\n".utf8))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first\n")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        let big = [UInt8](repeating: 0x41, count: 3 << 20)
        try DurableFile.replace(path, mode: 0o644, with: big)
        #expect(FileManager.default.contents(atPath: path) == Data(big))
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o644)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.txt"])
    }

    @Test func aMissingFolderIsAnErrorNamingTheStepAndReason() {
        let path = "/nonexistent-subterra-dir/out.txt"
        #expect {
            try DurableFile.replace(path, mode: 0o600, with: [UInt8(1)])
        } throws: { error in
            guard let e = error as? DurableFileError else { return false }
            return e.code == ENOENT && e.description.hasPrefix("cannot create a temporary file in /nonexistent-subterra-dir")
                && e.description.contains("No such file or directory")
        }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
