import ForkcastModel

/// Why one sample is a wait for work rather than work, decided from what the recording
/// shows — the wait's system call, the kind of fd it waits on, the lock it waits in — never
/// from one program's function names.
enum IdleEvidence: UInt8, CaseIterable {
    case none
    /// A condition variable, a queue get, a join, a future: waiting for work or for others.
    case waitsForWork
    /// Waiting for a child process to end.
    case childWait
    /// An event loop's multiplexing wait (epoll_wait, select, pselect) with nothing ready.
    case eventLoop
    /// accept or a poll on a listening socket: waiting for new connections.
    case listening
    /// An eventfd, signalfd or timerfd: waiting for a wake-up.
    case eventFD
    /// pause, sigsuspend, sigtimedwait: waiting for a signal.
    case signal

    var sentence: String {
        switch self {
        case .none: "working"
        case .waitsForWork: "waits for work (a condition, a queue get, a join or a future)"
        case .childWait: "waits for a child process to end"
        case .eventLoop: "an event loop waiting in epoll/select with nothing ready"
        case .listening: "waits for new connections on a listening socket"
        case .eventFD: "waits for a wake-up on an eventfd/signalfd/timerfd"
        case .signal: "waits for a signal"
        }
    }

    static let multiplexing: Set<String> = ["epoll_wait", "epoll_pwait", "epoll_pwait2", "select", "pselect6"]
    static let polls: Set<String> = ["poll", "ppoll"]
    static let signalWaits: Set<String> = ["pause", "rt_sigsuspend", "rt_sigtimedwait", "sigsuspend", "sigwaitinfo"]

    /// What the wait alone says (nil: nothing; the stack decides).
    static func of(_ wait: WaitInfo) -> IdleEvidence? {
        if signalWaits.contains(wait.syscall) { return .signal }
        if let kind = wait.fdKind {
            switch kind {
            case .listeningSocket: return .listening
            case .eventfd, .signalfd, .timerfd: return .eventFD
            case .epoll: return .eventLoop
            default: break
            }
        }
        if multiplexing.contains(wait.syscall) { return .eventLoop }
        // A poll on one connected socket is how a socket with a timeout reads: data, not events.
        if polls.contains(wait.syscall) && (wait.fdKind == nil || wait.fdKind == .other) && wait.fd == nil { return .eventLoop }
        return nil
    }
}

/// The per-thread verdicts the breakdown carries: idle or working (and why), and roles.
struct IdleVerdicts {
    /// A thread is idle when at least this share of its samples waited for work and it was
    /// on a CPU (or runnable) for less than `maxBusyShare`.
    static let minIdleShare = 0.9
    static let maxBusyShare = 0.05
    /// …or when one wait (same stack, same wait) fills this share of its samples and it never ran.
    static let sameWaitShare = 0.95
}

/// Roles from the process tree, command lines, thread names and stacks.
enum Roles {
    /// A command line reduced to what names the kind of process: the words before the first
    /// one with a digit (`postgres: bench bench 127.0.0.1(5021) idle` → `postgres: bench bench`).
    static func commandSignature(_ command: [String]) -> String {
        let words = command.joined(separator: " ").split(separator: " ")
        var kept: [Substring] = []
        for w in words {
            if w.contains(where: \.isNumber) { break }
            kept.append(w)
            if kept.count == 4 { break }
        }
        return kept.joined(separator: " ")
    }

    /// A thread name without its digits (`ThreadPoolExecutor-0_3` → `ThreadPoolExecutor-_`)
    /// and without the target Python (3.10+) appends to a default name
    /// (`Thread-3 (spin_beta)` → `Thread-`): threads started the same way group together
    /// whatever function each runs.
    static func nameSignature(_ name: String) -> String {
        var base = Substring(name)
        if base.hasPrefix("Thread-"), base.hasSuffix(")"), let open = base.range(of: " (") {
            base = base[..<open.lowerBound]
        }
        return String(base.filter { !$0.isNumber })
    }

    /// The family part of a program-given name, up to and including its first `-` or `_`
    /// (`worker-spin_alpha` → `worker-`), nil when there is none.
    static func namePrefix(_ name: String) -> String? {
        guard let cut = name.firstIndex(where: { $0 == "-" || $0 == "_" }), cut > name.startIndex else { return nil }
        return String(name[...cut])
    }

    /// Assigns roles to `processes` and `threads` (breakdown rows, idle already decided).
    /// `startRoutine[tid]` is the outermost non-system frame of the thread (its start routine).
    static func assign(processes: inout [ProcessBreakdown], threads: inout [ThreadBreakdown], rootPid: Int32,
                       executables: [Int32: String], startRoutine: [Int32: String], duration: Double = 0) {
        assignThreadRoles(&threads, startRoutine: startRoutine)
        assignProcessRoles(&processes, rootPid: rootPid, executables: executables, duration: duration)
    }

    /// Threads within each process: a lone thread is main; threads alike by name (and,
    /// for those that kept the process's name, start routine) are workers; the main
    /// thread beside them a supervisor when it mostly waits; the rest helpers.
    static func assignThreadRoles(_ threads: inout [ThreadBreakdown], startRoutine: [Int32: String]) {
        var byPid: [Int32: [Int]] = [:]
        for (i, t) in threads.enumerated() { byPid[t.pid, default: []].append(i) }
        for (pid, rows) in byPid {
            if rows.count == 1 {
                threads[rows[0]].role = .main
                continue
            }
            // Threads named by the program (`mc-worker`, `ThreadPoolExecutor-0_1`) group by
            // name; threads that kept the process's name group by name and start routine.
            let mainName = rows.first { threads[$0].tid == pid }.map { threads[$0].name }
            var groups: [String: [Int]] = [:]
            for r in rows {
                let t = threads[r]
                let named = mainName != nil && t.name != mainName
                groups[nameSignature(t.name) + (named ? "" : "|" + (startRoutine[t.tid] ?? "?")), default: []].append(r)
            }
            // Idle or not: a pool of identical threads with nothing to do is idle workers.
            var workerRows = Set(groups.values.filter { $0.count >= 2 }.flatMap { $0 })
            if workerRows.isEmpty, mainName != nil {
                // No two names alike: busy threads the program named as one family
                // (`worker-alpha`, `worker-beta`) are its workers. (Idle ones are left as they
                // were: redis's `bio_close_file`, `bio_aof` … are background helpers.)
                var families: [String: [Int]] = [:]
                for r in rows where threads[r].tid != pid && threads[r].name != mainName
                    && !threads[r].idle && threads[r].idleShare < 0.5 {
                    if let prefix = namePrefix(threads[r].name) { families[prefix, default: []].append(r) }
                }
                workerRows = Set(families.values.filter { $0.count >= 2 }.flatMap { $0 })
            }
            for r in rows {
                if workerRows.contains(r) {
                    threads[r].role = .worker
                } else if threads[r].tid == pid {
                    // The main thread: the program itself, or (with workers) the one that started them
                    // — a supervisor when it mostly waits for work, or barely runs while they do
                    // (sleeping until a deadline, polling, joining).
                    let s = threads[r].workingStates
                    let mostlyWaiting = threads[r].idle || threads[r].idleShare >= 0.5
                        || s.onCPU + s.runnable + s.gilWait < 0.25
                    threads[r].role = workerRows.isEmpty ? .main : (mostlyWaiting ? .supervisor : .main)
                } else {
                    threads[r].role = workerRows.isEmpty && !threads[r].idle && !rows.contains(where: { threads[$0].tid == pid && !threads[$0].idle })
                        ? .main : .helper
                }
            }
        }
    }

    /// Processes: siblings alike that lasted are workers, their parent a supervisor (when it
    /// worked less than they did) or main; a runner's jobs are workers; a process that did
    /// most of the CPU work is main; other children help.
    static func assignProcessRoles(_ processes: inout [ProcessBreakdown], rootPid: Int32, executables: [Int32: String],
                                   duration: Double) {
        guard processes.count > 1 else {
            if !processes.isEmpty { processes[0].role = .main }
            return
        }
        let pids = Set(processes.map(\.pid))
        func signature(_ p: ProcessBreakdown) -> String {
            (executables[p.pid] ?? "") + "|" + commandSignature(p.command)
        }
        var siblings: [String: [Int]] = [:]
        for (i, p) in processes.enumerated() where p.pid != rootPid || !pids.contains(p.ppid) {
            siblings["\(p.ppid)|" + signature(p), default: []].append(i)
        }
        // Workers live: a burst of short-lived siblings (a launcher's shims, `sh -c` helpers
        // that ended at once) is not a pool.
        func lasting(_ p: ProcessBreakdown) -> Bool {
            duration <= 0 || ((p.endSeconds ?? duration) - p.startSeconds) >= 0.25 * duration
        }
        let workerRows = Set(siblings.values.filter { g in g.count >= 2 && g.contains { lasting(processes[$0]) } }.flatMap { $0 })
        let work = Dictionary(processes.map { ($0.pid, Double($0.samples) * ($0.states.onCPU + $0.states.runnable)) },
                              uniquingKeysWith: { a, _ in a })
        for i in processes.indices {
            let p = processes[i]
            let children = processes.filter { $0.ppid == p.pid && $0.pid != p.pid }
            let supervises = children.contains { c in workerRows.contains(processes.firstIndex { $0.pid == c.pid } ?? -1) }
            if workerRows.contains(i) {
                processes[i].role = .worker
            } else if supervises {
                let childWork = children.reduce(0.0) { $0 + (work[$1.pid] ?? 0) }
                let own = work[p.pid] ?? 0
                processes[i].role = (p.idle || own < childWork) ? .supervisor : .main
            } else if p.pid == rootPid {
                processes[i].role = .main
            } else {
                // A child that is neither a worker nor starts workers: a helper (a local server
                // a test program talks to, a launcher, a background process).
                processes[i].role = .helper
            }
        }
        // A runner's jobs (make's gcc drivers) and what they start (cc1, as) are the work, and
        // the runner supervises them — however short each job lived.
        if let (runner, jobs) = Jobs.runner(in: processes) {
            var children: [Int32: [Int]] = [:]
            for (i, p) in processes.enumerated() where p.pid != p.ppid { children[p.ppid, default: []].append(i) }
            var stack = jobs.compactMap { j in processes.firstIndex { $0.pid == j.pid } }
            var seen = Set<Int>()
            while let i = stack.popLast() {
                guard seen.insert(i).inserted else { continue }
                processes[i].role = .worker
                stack += children[processes[i].pid] ?? []
            }
            if let r = processes.firstIndex(where: { $0.pid == runner }) { processes[r].role = .supervisor }
        }
        // A process that did most of the recording's CPU work is the work, not a helper:
        // git gc → git repack → git pack-objects (5 s of CPU, the rest none) is the program.
        // "Most" of next to nothing is no work: an I/O-bound client's local server (net_io.py's
        // slow_server, 0.02 s of CPU in 1 s) stays a helper — it must have kept a fifth of a
        // core busy over the recording.
        let totalCPU = processes.reduce(0.0) { $0 + $1.cpuSeconds }
        let meaningful = duration > 0 ? 0.2 * duration : 0
        for i in processes.indices where processes[i].role == .helper && totalCPU > 0 && processes[i].cpuSeconds >= 0.5 * totalCPU
            && processes[i].cpuSeconds >= meaningful {
            processes[i].role = .main
        }
        // With no worker and no supervisor, the root is the program; other processes help it.
        if !processes.contains(where: { $0.role == .worker || $0.role == .supervisor || $0.role == .main }),
           let root = processes.firstIndex(where: { $0.pid == rootPid }) {
            processes[root].role = .main
        }
    }
}

/// Jobs a runner starts (make's compilers, a script's commands, xargs's workers): the work
/// is done by other programs, which are processes by construction — never threads of the
/// runner — and the runner's waits are for its own jobs, not for clients.
enum Jobs {
    /// A command's program: the base name of its first word, without the `:` a process
    /// that rewrote its title adds (`/usr/lib/postgresql/15/bin/postgres`, `postgres: bench` → `postgres`).
    static func programName(_ command: [String]) -> String {
        let first = command.first?.split(separator: " ").first.map(String.init) ?? ""
        var name = first.split(separator: "/").last.map(String.init) ?? first
        while name.hasSuffix(":") { name.removeLast() }
        return name
    }

    /// The children of `pid` that run another program than it, when there are at least two
    /// and they with their descendants used at least half of the recording's CPU time
    /// (make -j2: 16 gcc drivers whose cc1 and as do the work). Empty otherwise — a server's
    /// fork of itself (redis's BGSAVE, PostgreSQL's backends) is the same program.
    static func otherPrograms(of pid: Int32, in processes: [ProcessBreakdown]) -> [ProcessBreakdown] {
        guard let runner = processes.first(where: { $0.pid == pid }) else { return [] }
        let name = programName(runner.command)
        var children: [Int32: [ProcessBreakdown]] = [:]
        for p in processes where p.pid != p.ppid { children[p.ppid, default: []].append(p) }
        let jobs = (children[pid] ?? []).filter { let n = programName($0.command); return !n.isEmpty && n != name }
        guard jobs.count >= 2 else { return [] }
        var cpu = 0.0
        var stack = jobs
        var seen = Set<Int32>()
        while let p = stack.popLast() {
            guard seen.insert(p.pid).inserted else { continue }
            cpu += p.cpuSeconds
            stack += children[p.pid] ?? []
        }
        let total = processes.reduce(0.0) { $0 + $1.cpuSeconds }
        return total > 0 && cpu >= 0.5 * total ? jobs : []
    }

    /// The runner of the recording and its jobs: of the processes with jobs, the one that
    /// started the most (`sh -c 'find | xargs -P2 gzip'`: xargs's 8 gzip, not sh's find and
    /// xargs; make's 16 gcc, not each gcc's cc1 and as), the first of equals. Nil when none.
    static func runner(in processes: [ProcessBreakdown]) -> (pid: Int32, jobs: [ProcessBreakdown])? {
        var best: (pid: Int32, jobs: [ProcessBreakdown])?
        for p in processes {
            let jobs = otherPrograms(of: p.pid, in: processes)
            if !jobs.isEmpty && jobs.count > (best?.jobs.count ?? 0) { best = (p.pid, jobs) }
        }
        return best
    }
}
