import ForkcastModel

/// What a blocked thread's system call says about its state (x86_64 syscall numbers).
/// Refined after symbolization by `StackStateRules` (restart_syscall, GIL, …).
public enum SyscallClassifier {
    public enum FDSource: Equatable {
        case none
        /// The fd is the syscall's first argument.
        case firstArgument
        /// The fd is in the first `struct pollfd` the first argument points at.
        case pollArray
    }

    public struct Classification: Equatable {
        public var state: ThreadState
        public var name: String
        public var fd: FDSource
        public var futexAddress: UInt64?
    }

    public static func classify(number: Int, args: [UInt64]) -> Classification {
        let arg0 = args.first ?? 0
        switch number {
        case 202: // futex
            return Classification(state: .lockWait, name: "futex", fd: .none, futexAddress: arg0)
        case 449: return Classification(state: .lockWait, name: "futex_waitv", fd: .none, futexAddress: arg0)
        case 35: return Classification(state: .sleep, name: "nanosleep", fd: .none)
        case 230: return Classification(state: .sleep, name: "clock_nanosleep", fd: .none)
        case 61: return Classification(state: .childWait, name: "wait4", fd: .none)
        case 247: return Classification(state: .childWait, name: "waitid", fd: .none)
        case 7: return Classification(state: .ioWait, name: "poll", fd: .pollArray)
        case 271: return Classification(state: .ioWait, name: "ppoll", fd: .pollArray)
        case 23: return Classification(state: .ioWait, name: "select", fd: .none)
        case 270: return Classification(state: .ioWait, name: "pselect6", fd: .none)
        case 232: return Classification(state: .ioWait, name: "epoll_wait", fd: .firstArgument)
        case 281: return Classification(state: .ioWait, name: "epoll_pwait", fd: .firstArgument)
        case 441: return Classification(state: .ioWait, name: "epoll_pwait2", fd: .firstArgument)
        case 219: return Classification(state: .other, name: "restart_syscall", fd: .none)
        case 34: return Classification(state: .other, name: "pause", fd: .none)
        case 128: return Classification(state: .other, name: "rt_sigtimedwait", fd: .none)
        case 130: return Classification(state: .other, name: "rt_sigsuspend", fd: .none)
        case 2: return Classification(state: .ioWait, name: "open", fd: .none)
        case 257: return Classification(state: .ioWait, name: "openat", fd: .none)
        default:
            if let name = fdSyscalls[number] {
                return Classification(state: .ioWait, name: name, fd: .firstArgument)
            }
            return Classification(state: .other, name: "syscall_\(number)", fd: .none)
        }
    }

    /// System calls that block on the file descriptor in their first argument.
    static let fdSyscalls: [Int: String] = [
        0: "read", 1: "write", 17: "pread64", 18: "pwrite64", 19: "readv", 20: "writev", 40: "sendfile",
        42: "connect", 43: "accept", 44: "sendto", 45: "recvfrom", 46: "sendmsg", 47: "recvmsg",
        74: "fsync", 75: "fdatasync", 275: "splice", 276: "tee", 277: "sync_file_range", 288: "accept4",
        295: "preadv", 296: "pwritev", 299: "recvmmsg", 307: "sendmmsg", 327: "preadv2", 328: "pwritev2",
        72: "fcntl", 73: "flock",
    ]
}

/// Refines a state from the symbolized stack, for what the syscall number cannot tell:
/// `restart_syscall` after an interrupted wait, and lock waits that are really sleeps.
/// Frames are leaf first.
public enum StackStateRules {
    public static func refine(_ state: ThreadState, wait: WaitInfo?, frames: [Frame]) -> ThreadState {
        guard state == .other, wait?.syscall == "restart_syscall" else { return state }
        for frame in frames.prefix(12) where frame.kind == .native {
            let n = frame.name
            if n.contains("nanosleep") || n.hasPrefix("sleep") || n.hasPrefix("usleep") { return .sleep }
            if n.contains("futex") || n.contains("pthread_cond") || n.contains("sem_") || n.contains("lll_lock")
                || n.contains("pthread_mutex") || n.contains("PyThread_acquire_lock") { return .lockWait }
            if n.contains("poll") || n.contains("select") || n.hasPrefix("recv") || n.hasPrefix("__libc_read") || n == "read" { return .ioWait }
            if n.contains("wait4") || n.contains("waitpid") || n.contains("waitid") { return .childWait }
        }
        return state
    }
}
