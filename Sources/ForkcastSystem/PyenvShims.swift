import Foundation

/// pyenv's shims are shell scripts that pick an interpreter at run time. Launching one
/// adds bash and pyenv helper processes to a recording, and a shim for a version that is
/// installed but not selected exits 127 ("… to be found at the same time"). Callers look
/// through a shim to the interpreter it would run, or skip it when it would run none.
public enum PyenvShims {
    /// True when `path` is one of pyenv's shims.
    public static func isShim(_ path: String) -> Bool { path.contains("/.pyenv/shims/") }

    /// The executable the shim at `path` runs now (`pyenv which NAME`), or nil when it
    /// would run none.
    public static func realExecutable(forShim path: String) -> String? {
        let name = (path as NSString).lastPathComponent
        let options = Subprocess.Options(standardInput: .null, standardOutput: .pipe, standardError: .null, newProcessGroup: false)
        guard let child = try? Subprocess.spawn(["/usr/bin/env", "pyenv", "which", name], options: options),
              let out = child.standardOutput else { return nil }
        var bytes = [UInt8]()
        while out.readAvailable(into: &bytes) {}
        out.close()
        guard child.wait()?.0 == .exited(0) else { return nil }
        let real = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: real) ? real : nil
    }
}
