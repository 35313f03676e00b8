import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An errno value with a readable name, matchable with `==` or in a `switch`
/// (`case .ESRCH:`). The one way an OS error number is represented above this module.
public struct Errno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public init(_ code: Int32) { self.rawValue = code }

    /// The errno of the last failed call on this thread.
    public static var current: Errno { Errno(Glibc.errno) }

    public static let EPERM = Errno(Glibc.EPERM)
    public static let ENOENT = Errno(Glibc.ENOENT)
    public static let ESRCH = Errno(Glibc.ESRCH)
    public static let EINTR = Errno(Glibc.EINTR)
    public static let EIO = Errno(Glibc.EIO)
    public static let ENOEXEC = Errno(Glibc.ENOEXEC)
    public static let EBADF = Errno(Glibc.EBADF)
    public static let ECHILD = Errno(Glibc.ECHILD)
    public static let EAGAIN = Errno(Glibc.EAGAIN)
    public static let ENOMEM = Errno(Glibc.ENOMEM)
    public static let EACCES = Errno(Glibc.EACCES)
    public static let EFAULT = Errno(Glibc.EFAULT)
    public static let EBUSY = Errno(Glibc.EBUSY)
    public static let EEXIST = Errno(Glibc.EEXIST)
    public static let EXDEV = Errno(Glibc.EXDEV)
    public static let ENOTDIR = Errno(Glibc.ENOTDIR)
    public static let EISDIR = Errno(Glibc.EISDIR)
    public static let EINVAL = Errno(Glibc.EINVAL)
    public static let EMFILE = Errno(Glibc.EMFILE)
    public static let ENOSPC = Errno(Glibc.ENOSPC)
    public static let EROFS = Errno(Glibc.EROFS)
    public static let EPIPE = Errno(Glibc.EPIPE)
    public static let ENAMETOOLONG = Errno(Glibc.ENAMETOOLONG)
    public static let ENOSYS = Errno(Glibc.ENOSYS)
    public static let ELOOP = Errno(Glibc.ELOOP)
    public static let ETXTBSY = Errno(Glibc.ETXTBSY)
    public static let EDQUOT = Errno(Glibc.EDQUOT)

    private static let names: [Int32: String] = [
        Glibc.EPERM: "EPERM", Glibc.ENOENT: "ENOENT", Glibc.ESRCH: "ESRCH", Glibc.EINTR: "EINTR", Glibc.EIO: "EIO",
        Glibc.ENOEXEC: "ENOEXEC", Glibc.EBADF: "EBADF", Glibc.ECHILD: "ECHILD", Glibc.EAGAIN: "EAGAIN",
        Glibc.ENOMEM: "ENOMEM", Glibc.EACCES: "EACCES", Glibc.EFAULT: "EFAULT", Glibc.EBUSY: "EBUSY",
        Glibc.EEXIST: "EEXIST", Glibc.EXDEV: "EXDEV", Glibc.ENOTDIR: "ENOTDIR", Glibc.EISDIR: "EISDIR",
        Glibc.EINVAL: "EINVAL", Glibc.EMFILE: "EMFILE", Glibc.ENOSPC: "ENOSPC", Glibc.EROFS: "EROFS",
        Glibc.EPIPE: "EPIPE", Glibc.ENAMETOOLONG: "ENAMETOOLONG", Glibc.ENOSYS: "ENOSYS", Glibc.ELOOP: "ELOOP",
        Glibc.ETXTBSY: "ETXTBSY", Glibc.EDQUOT: "EDQUOT",
    ]

    /// The symbolic name ("ESRCH"), or "errno N" for one without a name here.
    public var name: String { Errno.names[rawValue] ?? "errno \(rawValue)" }
    /// The C library's text ("No such process").
    public var message: String { String(cString: strerror(rawValue)) }
    public var description: String { message }

    /// Calls `body` until it does not fail with EINTR; returns its result (a negative
    /// result leaves `Errno.current` set by the failed call).
    @inline(__always)
    public static func retryingEINTR<T: SignedInteger>(_ body: () -> T) -> T {
        while true {
            let r = body()
            if r >= 0 || Glibc.errno != Glibc.EINTR { return r }
        }
    }

    /// Calls `body` until it does not fail with EINTR and throws the errno of a failure
    /// (`body` returns -1 and sets errno, as the C library does).
    @discardableResult
    public static func check<T: SignedInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(SystemError) -> T {
        let r = retryingEINTR(body)
        if r < 0 { throw SystemError(call(), Glibc.errno) }
        return r
    }
}

/// A failed system call: which call, on what, and the errno. No raw -1 or errno leaves
/// this module; callers match `errno` (e.g. `.ESRCH` for a thread that is gone).
public struct SystemError: Error, CustomStringConvertible, Equatable, Sendable {
    public let call: String
    public let code: Int32
    /// `code` as a typed, matchable value.
    public var errno: Errno { Errno(code) }

    public init(_ call: String, _ code: Int32) {
        self.call = call
        self.code = code
    }

    public init(_ call: String, _ errno: Errno) {
        self.init(call, errno.rawValue)
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
    /// The C library's description ("Segmentation fault").
    public static func text(_ signal: Int32) -> String { String(cString: strsignal(signal)) }

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
