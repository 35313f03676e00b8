import Foundation
import ForkcastSystem

/// A one-line error about what the user asked for (a program that is not there, a file
/// that cannot be used): printed as `forkcast: error: …`, exit status 2.
public struct UserError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Finds the executable for a command name the way a shell would (PATH search), and
/// looks through pyenv's shell-script shims so that the real interpreter is launched
/// (a shim would add bash and pyenv helper processes to the recording).
public enum ProgramResolver {
    public static func resolve(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String {
        let fm = FileManager.default
        var path: String
        if name.contains("/") {
            path = name
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw UserError("no such program: \(name)") }
            if isDir.boolValue { throw UserError("\(name) is a directory, not a program") }
            guard fm.isExecutableFile(atPath: path) else { throw UserError("\(name) is not executable (check its permissions)") }
        } else {
            let dirs = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
            guard let found = dirs.lazy.map({ ($0 as NSString).appendingPathComponent(name) })
                .first(where: { fm.isExecutableFile(atPath: $0) && !isDirectory($0) }) else {
                throw UserError("no such program: \(name) (not found in PATH)")
            }
            path = found
        }
        if PyenvShims.isShim(path), let real = PyenvShims.realExecutable(forShim: path) {
            path = real
        }
        return path
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
