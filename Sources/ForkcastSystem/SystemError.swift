import Foundation

/// A failed system call: which call, on what, and the errno. No raw -1 or errno leaves
/// this module; callers switch on `code` (e.g. `.ESRCH` for a thread that is gone).
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let call: String
    public let code: Int32

    public init(_ call: String, _ code: Int32) {
        self.call = call
        self.code = code
    }

    /// From a C wrapper's negative-errno result.
    public init(_ call: String, negated result: Int32) {
        self.init(call, -result)
    }

    public var message: String { String(cString: strerror(code)) }
    public var description: String { "\(call): \(message)" }

    public var isNoSuchProcess: Bool { code == ESRCH || code == ENOENT }
    public var isPermission: Bool { code == EPERM || code == EACCES }
}

/// Signal names for messages ("SIGSEGV").
public enum SignalNames {
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGHUP: "SIGHUP"
        case SIGINT: "SIGINT"
        case SIGQUIT: "SIGQUIT"
        case SIGILL: "SIGILL"
        case SIGTRAP: "SIGTRAP"
        case SIGABRT: "SIGABRT"
        case SIGBUS: "SIGBUS"
        case SIGFPE: "SIGFPE"
        case SIGKILL: "SIGKILL"
        case SIGUSR1: "SIGUSR1"
        case SIGSEGV: "SIGSEGV"
        case SIGUSR2: "SIGUSR2"
        case SIGPIPE: "SIGPIPE"
        case SIGALRM: "SIGALRM"
        case SIGTERM: "SIGTERM"
        case SIGCHLD: "SIGCHLD"
        case SIGCONT: "SIGCONT"
        case SIGSTOP: "SIGSTOP"
        case SIGTSTP: "SIGTSTP"
        case SIGTTIN: "SIGTTIN"
        case SIGTTOU: "SIGTTOU"
        case SIGXCPU: "SIGXCPU"
        case SIGSYS: "SIGSYS"
        default: "signal \(signal)"
        }
    }
}
