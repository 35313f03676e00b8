import ForkcastModel

/// What a lock wait is, read from the waiting thread's stack.
public enum LockWaitKind: String, Sendable, CaseIterable {
    /// CPython's GIL (`take_gil`).
    case gil
    /// A pthread mutex or rwlock (`pthread_mutex_lock`, `__lll_lock_wait`).
    case pthreadMutex = "pthread-mutex"
    /// A `threading.Lock`/`RLock` taken by user code.
    case pythonLock = "python-lock"
    /// A futex we cannot name further.
    case futex
    /// Waiting for a condition / event: a thread waiting for work or a signal.
    case condition
    /// Joining another thread.
    case threadJoin = "thread-join"
    /// Waiting on a queue for work.
    case queueGet = "queue-get"
    /// Waiting on a future's result.
    case futureWait = "future-wait"

    /// True for waits that are waiting for work or for others to finish, not contention.
    public var isIdle: Bool {
        switch self {
        case .condition, .threadJoin, .queueGet, .futureWait: true
        case .gil, .pthreadMutex, .pythonLock, .futex: false
        }
    }
}

/// What multiprocessing machinery a stack is in.
enum IPCActivity: UInt8 {
    case none, pickle, unpickle, transfer
}

/// Facts about one interned stack, computed once per distinct stack (lazily) so the
/// per-sample loops of the analyzers stay a few array reads.
struct StackFacts {
    var lockKind: LockWaitKind
    /// Where a lock is taken: the frame calling the lock API ("worker", "work.py:12 transfer").
    var lockSite: String?
    /// Where an I/O wait is issued: innermost Python frame, or the first non-system native frame.
    var callSite: String
    var ipc: IPCActivity
    /// Inside multiprocessing's queue/connection code waiting to receive work or results.
    var inQueueGet: Bool
    /// Runs inside a process pool's worker loop (`concurrent.futures.process._process_worker`,
    /// `multiprocessing.pool.worker`): whatever it does, this process is a pool's worker.
    var inPoolLoop: Bool
    /// Contains a Python frame of user code (not the standard library, not `<frozen …>`).
    var inUserPython: Bool
    var hasPython: Bool
    var isGIL: Bool
    /// The innermost Python frame is user code: the thread is doing the program's own work.
    var userLeaf: Bool
    /// The innermost native frame runs in the interpreter (python / libpython): executing
    /// Python bytecode, which needs the GIL. False in C libraries (libcrypto, libz, …).
    var leafInInterpreter: Bool
    /// The innermost native frame is in a system library (libc, …).
    var leafInSystem: Bool
    /// The function that takes the lock (for finding a holder in the same critical section).
    var lockSiteFunction: String?
}

/// The per-stack facts the per-sample loops need, packed in one byte each.
struct StackFlags: OptionSet {
    let rawValue: UInt16
    static let known = StackFlags(rawValue: 1 << 0)
    static let gil = StackFlags(rawValue: 1 << 1)
    static let idleLock = StackFlags(rawValue: 1 << 2)
    static let queueGet = StackFlags(rawValue: 1 << 3)
    static let hasPython = StackFlags(rawValue: 1 << 4)
    static let userLeaf = StackFlags(rawValue: 1 << 5)
    static let leafInInterpreter = StackFlags(rawValue: 1 << 6)
    static let pickle = StackFlags(rawValue: 1 << 7)
    static let unpickle = StackFlags(rawValue: 1 << 8)
    static let transfer = StackFlags(rawValue: 1 << 9)
    static let queueLockKind = StackFlags(rawValue: 1 << 10)
    /// The leaf frame is in a system library (libc, ld.so, libpthread): says nothing about the GIL.
    static let leafInSystem = StackFlags(rawValue: 1 << 11)
    /// A frame of a process pool's worker loop is on the stack (`StackFacts.inPoolLoop`).
    static let poolLoop = StackFlags(rawValue: 1 << 12)

    var ipc: IPCActivity {
        if contains(.pickle) { return .pickle }
        if contains(.unpickle) { return .unpickle }
        if contains(.transfer) { return .transfer }
        return .none
    }
}

/// Classifies the stacks of one profile, caching per stack index: full facts on demand,
/// and a compact flag word per stack for the per-sample loops.
struct StackClassifier {
    let profile: Profile
    private var cache: [StackFacts?]
    private var flagCache: [StackFlags]
    private var baseIDs: [String: Int32] = [:]
    private var frameBaseID: [Int32]
    private var frameFacts: [FrameFacts?]

    init(_ profile: Profile) {
        self.profile = profile
        cache = Array(repeating: nil, count: profile.stacks.count)
        flagCache = Array(repeating: [], count: profile.stacks.count)
        frameBaseID = Array(repeating: -1, count: profile.frames.count)
        frameFacts = Array(repeating: nil, count: profile.frames.count)
    }

    mutating func facts(_ stack: Int32) -> StackFacts {
        let i = Int(stack)
        if let f = cache[i] { return f }
        var ff: [FrameFacts] = []
        ff.reserveCapacity(profile.stacks[i].frames.count)
        for f in profile.stacks[i].frames {
            let k = Int(f)
            if let known = frameFacts[k] {
                ff.append(known)
            } else {
                let computed = FrameFacts(profile.frames[k])
                frameFacts[k] = computed
                ff.append(computed)
            }
        }
        let f = Self.classify(ff)
        cache[i] = f
        return f
    }

    /// The stack's flags (computing its facts the first time).
    @inline(__always)
    mutating func flags(_ stack: Int32) -> StackFlags {
        let f = flagCache[Int(stack)]
        if f.contains(.known) { return f }
        return computeFlags(stack)
    }

    private mutating func computeFlags(_ stack: Int32) -> StackFlags {
        let f = facts(stack)
        var flags: StackFlags = .known
        if f.isGIL { flags.insert(.gil) }
        if f.lockKind.isIdle { flags.insert(.idleLock) }
        if f.inQueueGet { flags.insert(.queueGet) }
        if f.hasPython { flags.insert(.hasPython) }
        if f.userLeaf { flags.insert(.userLeaf) }
        if f.leafInInterpreter { flags.insert(.leafInInterpreter) }
        if f.leafInSystem { flags.insert(.leafInSystem) }
        if f.lockKind == .queueGet { flags.insert(.queueLockKind) }
        if f.inPoolLoop { flags.insert(.poolLoop) }
        switch f.ipc {
        case .pickle: flags.insert(.pickle)
        case .unpickle: flags.insert(.unpickle)
        case .transfer: flags.insert(.transfer)
        case .none: break
        }
        flagCache[Int(stack)] = flags
        return flags
    }

    /// A small integer per distinct function name (compiler suffixes ignored), for fast matching.
    mutating func baseID(_ name: String) -> Int32 {
        if let id = baseIDs[name] { return id }
        let id = Int32(baseIDs.count)
        baseIDs[name] = id
        return id
    }

    /// True when a frame of the stack is the function with base-name id `id`.
    mutating func stack(_ stack: Int32, containsBase id: Int32) -> Bool {
        for f in profile.stacks[Int(stack)].frames {
            let i = Int(f)
            var fid = frameBaseID[i]
            if fid < 0 {
                fid = baseID(String(Self.base(profile.frames[i].name)))
                frameBaseID[i] = fid
            }
            if fid == id { return true }
        }
        return false
    }

    /// The thread's start routine as this stack shows it: the outermost frame outside the
    /// system libraries (`main`, a pthread's start function, the interpreter's thread entry).
    mutating func startRoutine(_ stack: Int32) -> String? {
        for f in profile.stacks[Int(stack)].frames.reversed() {
            let frame = profile.frames[Int(f)]
            guard frame.kind == .native, frame.symbolized, !Self.isSystemNative(frame) else { continue }
            let b = Self.base(frame.name)
            if b == "_start" || b == "clone" || b == "clone3" || b == "start_thread" { continue }
            return String(b)
        }
        return nil
    }

    /// Up to `depth` frames above the system libraries, innermost first (the lock library's
    /// entry and its callers): the identity of a lock taken through a per-waiter futex.
    func callerKey(_ stack: Int32, depth: Int) -> [String] {
        var out: [String] = []
        for f in profile.stacks[Int(stack)].frames {
            let frame = profile.frames[Int(f)]
            if frame.kind == .native && (Self.isSystemNative(frame) || !frame.symbolized) && out.isEmpty { continue }
            out.append(frame.kind == .python ? Self.pythonSite(frame) : String(Self.base(frame.name)))
            if out.count == depth { break }
        }
        return out
    }

    /// The stack's labels outermost first, as people read stacks.
    func labels(_ stack: Int32) -> [String] {
        profile.stacks[Int(stack)].frames.reversed().map { profile.frames[Int($0)].label }
    }

    // MARK: classification

    static let lockAPINames: [String] = [
        "pthread_mutex_lock", "pthread_mutex_timedlock", "pthread_mutex_clocklock", "__pthread_mutex_lock",
        "__pthread_mutex_lock_full", "___pthread_mutex_lock", "__lll_lock_wait", "__lll_lock_wait_private",
        "pthread_rwlock_rdlock", "pthread_rwlock_wrlock", "__pthread_rwlock_rdlock", "__pthread_rwlock_wrlock",
        "pthread_spin_lock",
    ]
    static let conditionNames: [String] = ["pthread_cond_wait", "pthread_cond_timedwait", "pthread_cond_clockwait",
                                           "___pthread_cond_wait", "___pthread_cond_timedwait", "__pthread_cond_wait",
                                           "__pthread_cond_timedwait", "__pthread_cond_wait_common"]
    static let joinNames: [String] = ["pthread_join", "__pthread_join", "__pthread_clockjoin_ex", "pthread_timedjoin_np",
                                      "___pthread_join", "pthread_clockjoin_np"]
    static let lockAcquireNames: [String] = ["PyThread_acquire_lock_timed", "PyThread_acquire_lock", "acquire_timed",
                                             "lock_PyThread_acquire_lock", "rlock_acquire", "sem_wait", "sem_timedwait",
                                             "sem_clockwait", "__new_sem_wait_slow64", "__new_sem_wait_slow",
                                             "do_futex_wait", "__futex_abstimed_wait_common", "__futex_abstimed_wait_common64",
                                             "futex_wait", "syscall"]
    static let systemModules: [String] = ["/libc.so", "/libc-", "/ld-linux", "/libpthread", "/libm.so", "/libstdc++",
                                          "/libgcc_s", "/libdl", "/librt", "[vdso]", "linux-vdso"]

    /// Matches `name` against a list, tolerating compiler suffixes (`take_gil.lto_priv.0`, `foo.cold`).
    static func base(_ name: String) -> Substring {
        if let dot = name.firstIndex(of: ".") { return name[..<dot] }
        return name[...]
    }

    /// A Python frame's function name without its class: `Condition.wait` → `wait`
    /// (CPython 3.11+ reports qualified names).
    static func shortPythonName(_ name: String) -> String {
        if let dot = name.lastIndex(of: ".") { return String(name[name.index(after: dot)...]) }
        return name
    }

    static func isStdlibPython(_ file: String) -> Bool {
        if file.hasPrefix("<") { return true } // <frozen importlib._bootstrap>, <string>
        if file.contains("/site-packages/") || file.contains("/dist-packages/") { return false }
        return file.contains("/lib/python3") || file.contains("/lib64/python3") || file.contains("/multiprocessing/")
            || file.contains("/concurrent/futures/") || file.hasPrefix("/usr/lib/python")
    }

    static func isSystemNative(_ frame: Frame) -> Bool {
        guard let module = frame.module else { return false }
        return systemModules.contains { module.contains($0) }
    }

    static func shortFile(_ file: String) -> String {
        // Keep the last two path components: "multiprocessing/connection.py", "app/work.py".
        let parts = file.split(separator: "/", omittingEmptySubsequences: true)
        return parts.suffix(2).joined(separator: "/")
    }

    static func pythonSite(_ frame: Frame) -> String {
        let file = frame.file.map(shortFile) ?? "?"
        let line = frame.line.map { ":\($0)" } ?? ""
        return "\(file)\(line) \(frame.name)"
    }

    static func classify(_ frames: [FrameFacts]) -> StackFacts {
        let scan = FrameScan(frames)
        let (kind, site, siteFunction) = lockWait(frames, scan)
        // I/O call site: innermost user Python frame, any Python frame, else the first native
        // frame outside the system libraries, else the leaf.
        let callSite: String
        if let py = scan.firstUserPython ?? scan.firstPython {
            callSite = pythonSite(py.frame)
        } else if let user = frames.first(where: { !$0.bits.contains(.systemModule) && $0.frame.symbolized }) {
            callSite = user.frame.label
        } else {
            callSite = frames.first?.frame.label ?? "(no stack)"
        }
        return StackFacts(lockKind: kind, lockSite: site, callSite: callSite, ipc: scan.ipc, inQueueGet: scan.inQueueGet,
                          inPoolLoop: scan.inPoolLoop,
                          inUserPython: scan.inUserPython, hasPython: scan.hasPython, isGIL: scan.isGIL,
                          userLeaf: scan.firstPython.map { !$0.bits.contains(.stdlib) } ?? false,
                          leafInInterpreter: frames.first?.bits.contains(.interpreterModule) ?? false,
                          leafInSystem: frames.first?.bits.contains(.systemModule) ?? false, lockSiteFunction: siteFunction)
    }

    /// What one pass over a stack's frames (leaf first) finds: Python frames, lock and
    /// wait APIs, pickling and transfer.
    struct FrameScan {
        var isGIL = false
        var hasPython = false
        var inUserPython = false
        var firstPython: FrameFacts?
        var firstUserPython: FrameFacts?
        var outermostLockAPI = -1
        var outermostCond = -1
        var isJoin = false
        var acquiresLock = false
        var ipc = IPCActivity.none
        var inQueueGet = false
        var inPoolLoop = false
        var simpleQueueGet = false
        var hasNative = false
        var semLock = false

        init(_ frames: [FrameFacts]) {
            var pickleSeen = IPCActivity.none
            var mpNative = false
            for (i, f) in frames.enumerated() {
                let bits = f.bits
                if f.frame.kind == .python {
                    hasPython = true
                    if firstPython == nil { firstPython = f }
                    if !bits.contains(.stdlib) {
                        inUserPython = true
                        if firstUserPython == nil { firstUserPython = f }
                    }
                    if bits.contains(.connectionPy) {
                        if ipc == .none { ipc = .transfer }
                    }
                    if pickleSeen == .none {
                        if bits.contains(.unpickle) { pickleSeen = .unpickle } else if bits.contains(.pickle) { pickleSeen = .pickle }
                    }
                    if bits.contains(.waitsForWork) && firstUserPython == nil { inQueueGet = true }
                    if bits.contains(.poolLoop) { inPoolLoop = true }
                } else {
                    hasNative = true
                    if bits.contains(.takeGIL) { isGIL = true }
                    if bits.contains(.lockAPI) { outermostLockAPI = i }
                    if bits.contains(.condition) { outermostCond = i }
                    if bits.contains(.join) { isJoin = true }
                    if bits.contains(.acquire) { acquiresLock = true }
                    if bits.contains(.simpleQueueGet) { simpleQueueGet = true }
                    if bits.contains(.semLock) { semLock = true }
                    if bits.contains(.mpNative) { mpNative = true }
                    if pickleSeen == .none {
                        if bits.contains(.unpickle) { pickleSeen = .unpickle } else if bits.contains(.pickle) { pickleSeen = .pickle }
                    }
                }
            }
            if pickleSeen != .none { ipc = pickleSeen }
            if ipc == .none && mpNative { ipc = .transfer }
        }
    }

    /// What a lock wait on this stack waits for (its kind), where (the site) and in which
    /// function the lock is taken.
    static func lockWait(_ frames: [FrameFacts], _ scan: FrameScan) -> (LockWaitKind, String?, String?) {
        var kind = LockWaitKind.futex
        var site: String?
        var siteFunction: String?
        if scan.isGIL {
            kind = .gil
        } else if scan.simpleQueueGet {
            // queue.SimpleQueue.get in C waits for an item, whoever calls it (a pool
            // worker, an executor's feeder thread, user code): waiting for work.
            kind = .queueGet
            site = "queue.SimpleQueue.get"
        } else if let py = scan.firstPython,
                  scan.acquiresLock || scan.outermostLockAPI >= 0 || scan.outermostCond >= 0 || !scan.hasNative {
            // (A Python-only stack in a lock wait: the innermost Python frame is where it waits.)
            return pythonLockWait(frames, py, scan)
        } else if scan.semLock {
            // Pool workers take the task queue's lock in turn to read the next task.
            kind = .queueGet
            site = "multiprocessing queue lock"
        } else if scan.acquiresLock {
            // A Python-level lock.acquire seen without Python frames: it may be a contended
            // threading.Lock or a Condition/future wait; the futex address names it.
            kind = .futex
            site = "Python lock.acquire"
        } else if scan.isJoin {
            kind = .threadJoin
        } else if scan.outermostLockAPI >= 0 {
            kind = .pthreadMutex
            if frames.indices.contains(scan.outermostLockAPI + 1) {
                site = frames[scan.outermostLockAPI + 1].frame.label
                siteFunction = frames[scan.outermostLockAPI + 1].base
            }
        } else if scan.outermostCond >= 0 {
            kind = .condition
            site = frames.indices.contains(scan.outermostCond + 1) ? frames[scan.outermostCond + 1].frame.label : nil
        } else if let user = frames.dropFirst().first(where: { !$0.bits.contains(.systemModule) && !$0.bits.contains(.lowLevelWait) }) {
            site = user.frame.label
            if user.frame.symbolized { siteFunction = user.base }
        }
        return (kind, site, siteFunction)
    }

    /// A lock wait seen from its innermost Python frame `py`: a join, a future, a queue, a
    /// condition (whose waiter decides what it is), else a Python lock taken there.
    static func pythonLockWait(_ frames: [FrameFacts], _ py: FrameFacts, _ scan: FrameScan) -> (LockWaitKind, String?, String?) {
        var kind = LockWaitKind.futex
        var site: String?
        var siteFunction: String?
        let file = py.frame.file ?? ""
        let name = Self.shortPythonName(py.frame.name)
        let hasFutures = frames.contains { $0.bits.contains(.futuresBase) }
        if file.hasSuffix("/threading.py") && (name == "join" || name == "_wait_for_tstate_lock") {
            kind = .threadJoin
        } else if py.bits.contains(.futuresBase) {
            kind = .futureWait
        } else if file.hasSuffix("/queue.py") || file.hasSuffix("multiprocessing/queues.py") || scan.inQueueGet
                    || file.hasSuffix("concurrent/futures/thread.py") || file.hasSuffix("multiprocessing/pool.py") {
            kind = .queueGet
        } else if file.hasSuffix("/threading.py") && (name == "wait" || name == "wait_for") {
            // Condition.wait / Event.wait: who waits decides (a future, a queue, user code).
            kind = .condition
            if hasFutures {
                kind = .futureWait
            } else if scan.firstUserPython == nil && frames.contains(where: { ($0.frame.file ?? "").hasSuffix("/queue.py") }) {
                kind = .queueGet
            }
            if let user = scan.firstUserPython { site = pythonSite(user.frame) }
        } else {
            kind = .pythonLock
            site = pythonSite(py.frame)
            siteFunction = name
        }
        if site == nil { site = pythonSite(py.frame) }
        return (kind, site, siteFunction)
    }
}

/// What one frame tells the classifier, computed once per frame of the profile.
struct FrameFacts {
    struct Bits: OptionSet {
        let rawValue: UInt32
        static let takeGIL = Bits(rawValue: 1 << 0)
        static let lockAPI = Bits(rawValue: 1 << 1)
        static let condition = Bits(rawValue: 1 << 2)
        static let join = Bits(rawValue: 1 << 3)
        static let acquire = Bits(rawValue: 1 << 4)
        static let pickle = Bits(rawValue: 1 << 5)
        static let unpickle = Bits(rawValue: 1 << 6)
        static let stdlib = Bits(rawValue: 1 << 7)
        static let systemModule = Bits(rawValue: 1 << 8)
        static let interpreterModule = Bits(rawValue: 1 << 9)
        static let connectionPy = Bits(rawValue: 1 << 10)
        static let waitsForWork = Bits(rawValue: 1 << 11)
        static let futuresBase = Bits(rawValue: 1 << 12)
        static let lowLevelWait = Bits(rawValue: 1 << 13)
        /// `queue.SimpleQueue.get` in C (ThreadPoolExecutor workers waiting for work).
        static let simpleQueueGet = Bits(rawValue: 1 << 14)
        /// A multiprocessing SemLock acquire (`_multiprocessing.SemLock`): a queue's lock in a pool.
        static let semLock = Bits(rawValue: 1 << 15)
        /// Native multiprocessing machinery (`_multiprocessing` module): moving work between processes.
        static let mpNative = Bits(rawValue: 1 << 16)
        /// A process pool's worker loop: `_process_worker` (concurrent/futures/process.py) or
        /// `worker` (multiprocessing/pool.py).
        static let poolLoop = Bits(rawValue: 1 << 17)
    }

    let frame: Frame
    let base: String
    let bits: Bits

    init(_ f: Frame) {
        frame = f
        let b = StackClassifier.base(f.name)
        base = String(b)
        var bits: Bits = []
        if f.kind == .python {
            bits.insert(.interpreterModule)
            let file = f.file ?? ""
            if StackClassifier.isStdlibPython(file) { bits.insert(.stdlib) }
            let name = StackClassifier.shortPythonName(f.name)
            // A module's own top-level code (`<module>`) is its import, not its use: every
            // interpreter imports copyreg at start-up, and `import multiprocessing` runs
            // connection.py — neither moves work between processes.
            let importing = name == "<module>"
            if file.hasSuffix("multiprocessing/connection.py") && !importing { bits.insert(.connectionPy) }
            if !importing && (file.hasSuffix("multiprocessing/reduction.py") || file.hasSuffix("/pickle.py") || file.hasSuffix("/copyreg.py")) {
                bits.insert(f.name.contains("load") || f.name.contains("Unpickler") ? .unpickle : .pickle)
            }
            let poolLoop = (file.hasSuffix("multiprocessing/pool.py") && name == "worker")
                || (file.hasSuffix("concurrent/futures/process.py") && name == "_process_worker")
            if poolLoop { bits.insert(.poolLoop) }
            // `multiprocessing.connection.wait`: until one of the connections has a message —
            // a multiplexed get (the executor's manager thread waiting for the workers' results
            // in `wait_result_broken_or_wakeup`), not I/O the work does.
            if poolLoop || (file.hasSuffix("multiprocessing/queues.py") && (name == "get" || name == "_recv_bytes"))
                || (file.hasSuffix("multiprocessing/connection.py") && f.name == "wait") {
                bits.insert(.waitsForWork)
            }
            if file.hasSuffix("concurrent/futures/_base.py") { bits.insert(.futuresBase) }
        } else {
            if let module = f.module {
                let moduleName = module.split(separator: "/").last.map(String.init) ?? module
                if moduleName.hasPrefix("python") || moduleName.hasPrefix("libpython") { bits.insert(.interpreterModule) }
                if StackClassifier.systemModules.contains(where: { module.contains($0) }) { bits.insert(.systemModule) }
            }
            if b == "take_gil" { bits.insert(.takeGIL) }
            if b.hasPrefix("_queue_SimpleQueue_get") { bits.insert(.simpleQueueGet) }
            // `with lock:` enters through `SemLock.__enter__`, whose C function inlines the
            // acquire in Debian's LTO build: `_multiprocessing_SemLock___enter__` is the frame.
            let semLockAcquire = b.hasPrefix("_multiprocessing_SemLock_acquire") || b.hasPrefix("_multiprocessing_SemLock___enter__")
                || b == "semlock_acquire"
            if semLockAcquire { bits.insert(.semLock) }
            if b.hasPrefix("_multiprocessing") || (f.module?.contains("_multiprocessing") ?? false) { bits.insert(.mpNative) }
            if StackClassifier.lockAPINames.contains(where: { $0 == b }) { bits.insert(.lockAPI) }
            if StackClassifier.conditionNames.contains(where: { $0 == b }) { bits.insert(.condition) }
            if StackClassifier.joinNames.contains(where: { $0 == b }) { bits.insert(.join) }
            if StackClassifier.lockAcquireNames.contains(where: { $0 == b }) { bits.insert(.lowLevelWait) }
            if b.hasPrefix("PyThread_acquire_lock") || b == "acquire_timed" || b == "lock_PyThread_acquire_lock"
                || b == "rlock_acquire" || semLockAcquire {
                bits.insert(.acquire)
            }
            // C pickle module: _pickle.cpython-*.so, or the functions of Modules/_pickle.c.
            let inPickleModule = f.module?.contains("_pickle") ?? false
            let lower = b.lowercased()
            if (inPickleModule || lower.contains("pickle")) && !b.hasPrefix("PyInit_") {  // not its import
                bits.insert(lower.contains("load") || lower.contains("unpickler") ? .unpickle : .pickle)
            }
        }
        self.bits = bits
    }
}
