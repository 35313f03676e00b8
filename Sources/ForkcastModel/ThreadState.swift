/// What a thread was doing at one sample instant.
///
/// Raw values are the names used in every file format (`on_cpu`, `lock_wait`, …).
public enum ThreadState: String, Codable, CaseIterable, Sendable, Hashable {
    /// Executing on a CPU.
    case onCPU = "on_cpu"
    /// Ready to run but waiting for a CPU (starved).
    case runnable
    /// Blocked taking CPython's GIL.
    case gilWait = "gil_wait"
    /// Blocked on a lock: a futex wait (pthread mutex, condition, semaphore, `threading.Lock`).
    case lockWait = "lock_wait"
    /// Blocked in I/O: read/write/recv/send/poll on a socket, file, pipe or tty.
    case ioWait = "io_wait"
    /// Sleeping on purpose: nanosleep, clock_nanosleep, `time.sleep`.
    case sleep
    /// Waiting for a child process: wait4, waitid.
    case childWait = "child_wait"
    /// Blocked for another reason (page fault, job-control stop, signal wait, unknown syscall).
    case other

    /// Stable small code used in the compact sample table; never reorder.
    public var code: UInt8 {
        switch self {
        case .onCPU: 0
        case .runnable: 1
        case .gilWait: 2
        case .lockWait: 3
        case .ioWait: 4
        case .sleep: 5
        case .childWait: 6
        case .other: 7
        }
    }

    public init?(code: UInt8) {
        switch code {
        case 0: self = .onCPU
        case 1: self = .runnable
        case 2: self = .gilWait
        case 3: self = .lockWait
        case 4: self = .ioWait
        case 5: self = .sleep
        case 6: self = .childWait
        case 7: self = .other
        default: return nil
        }
    }

    /// True for the states in which the thread is off CPU by its own doing (waiting).
    public var isWaiting: Bool {
        switch self {
        case .onCPU, .runnable: false
        default: true
        }
    }
}

/// The kind of file a blocked thread's file descriptor refers to.
///
/// The finer kinds say a wait is for *events*, not for data: a listening socket waits for
/// new connections, an eventfd / signalfd / timerfd for a wake-up, an epoll set for any of
/// the fds registered in it.
public enum FDKind: String, Codable, CaseIterable, Sendable, Hashable {
    case socket, file, pipe, tty, other
    /// A socket in the LISTEN state (accept, or a poll on it): waiting for new connections.
    case listeningSocket = "listening_socket"
    case eventfd, signalfd, timerfd
    /// An epoll instance (`anon_inode:[eventpoll]`).
    case epoll

    /// True for fds whose readiness is an event, not data arriving from a peer or a file.
    public var isEventSource: Bool {
        switch self {
        case .listeningSocket, .eventfd, .signalfd, .timerfd, .epoll: true
        case .socket, .file, .pipe, .tty, .other: false
        }
    }
}
