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
        try resolveCommand([name], environment: environment).executable
    }

    /// The executable and the argument vector to launch `command` with. Where a pyenv shim
    /// was looked through, argv[0] becomes the interpreter's path, as `pyenv exec` does:
    /// CPython derives `sys.executable` from argv[0], and a bare `python3` found again on
    /// PATH would send every child interpreter (`subprocess`, `multiprocessing`) back
    /// through the shim's bash helpers.
    public static func resolveCommand(_ command: [String],
                                      environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (executable: String, arguments: [String]) {
        guard let name = command.first else { throw UserError("no program to run") }
        let found = try locate(name, environment: environment)
        guard PyenvShims.isShim(found), let real = PyenvShims.realExecutable(forShim: found) else { return (found, command) }
        return (real, [real] + command.dropFirst())
    }

    /// The file a shell would run for `name` (PATH search when it has no slash).
    private static func locate(_ name: String, environment: [String: String]) throws -> String {
        let fm = FileManager.default
        if name.contains("/") {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: name, isDirectory: &isDir) else { throw UserError("no such program: \(name)") }
            if isDir.boolValue { throw UserError("\(name) is a directory, not a program") }
            guard fm.isExecutableFile(atPath: name) else { throw UserError("\(name) is not executable (check its permissions)") }
            return name
        }
        let dirs = (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":").map(String.init)
        guard let found = dirs.lazy.map({ ($0 as NSString).appendingPathComponent(name) })
            .first(where: { fm.isExecutableFile(atPath: $0) && !isDirectory($0) }) else {
            throw UserError("no such program: \(name) (not found in PATH)")
        }
        return found
    }

    private static func isDirectory(_ path: String) -> Bool {
        var isDir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDir) && isDir.boolValue
    }
}
