import Foundation

/// The result of analyzing one profile. Built-in analyzers fill the typed sections;
/// any analyzer (built-in or external) may append findings. Its JSON form is the
/// `forkcast analyze --json` contract documented in docs/analysis-format.md.
public struct Analysis: Codable, Sendable, Equatable {
    public var threads: [ThreadBreakdown] = []
    public var locks: [LockContention] = []
    public var io: [IOWaitGroup] = []
    public var findings: [Finding] = []
    public var recommendation: Recommendation?

    public init() {}
}

/// Shares (0–1) of a thread's samples in each state.
public struct StateShares: Codable, Sendable, Equatable {
    public var onCPU = 0.0, runnable = 0.0, gilWait = 0.0, lockWait = 0.0, ioWait = 0.0, sleep = 0.0, childWait = 0.0, other = 0.0
    private enum CodingKeys: String, CodingKey {
        case onCPU = "on_cpu", runnable, gilWait = "gil_wait", lockWait = "lock_wait", ioWait = "io_wait", sleep, childWait = "child_wait", other
    }
    public init() {}
    public subscript(state: ThreadState) -> Double {
        get {
            switch state {
            case .onCPU: onCPU
            case .runnable: runnable
            case .gilWait: gilWait
            case .lockWait: lockWait
            case .ioWait: ioWait
            case .sleep: sleep
            case .childWait: childWait
            case .other: other
            }
        }
        set {
            switch state {
            case .onCPU: onCPU = newValue
            case .runnable: runnable = newValue
            case .gilWait: gilWait = newValue
            case .lockWait: lockWait = newValue
            case .ioWait: ioWait = newValue
            case .sleep: sleep = newValue
            case .childWait: childWait = newValue
            case .other: other = newValue
            }
        }
    }
}

/// One thread's time breakdown.
public struct ThreadBreakdown: Codable, Sendable, Equatable {
    public var pid: Int32
    public var tid: Int32
    public var name: String
    public var samples: Int
    public var states: StateShares
    public init(pid: Int32, tid: Int32, name: String, samples: Int, states: StateShares) {
        self.pid = pid
        self.tid = tid
        self.name = name
        self.samples = samples
        self.states = states
    }
}

/// Waits on one lock.
public struct LockContention: Codable, Sendable, Equatable {
    /// "futex:0x7f…", "gil", "python:file.py:42", …
    public var lock: String
    public var kind: String
    public var waitSeconds: Double
    public var waiters: Int
    /// The waiters' most common stacks, outermost first.
    public var topStacks: [[String]]
    public var holder: String?
    public init(lock: String, kind: String, waitSeconds: Double, waiters: Int, topStacks: [[String]], holder: String? = nil) {
        self.lock = lock
        self.kind = kind
        self.waitSeconds = waitSeconds
        self.waiters = waiters
        self.topStacks = topStacks
        self.holder = holder
    }
}

/// I/O waits of one kind at one call site.
public struct IOWaitGroup: Codable, Sendable, Equatable {
    public var kind: FDKind
    public var callSite: String
    public var targets: [String]
    public var waitSeconds: Double
    public var threads: Int
    public init(kind: FDKind, callSite: String, targets: [String], waitSeconds: Double, threads: Int) {
        self.kind = kind
        self.callSite = callSite
        self.targets = targets
        self.waitSeconds = waitSeconds
        self.threads = threads
    }
}

/// Something an analyzer noticed, with the evidence behind it.
public struct Finding: Codable, Sendable, Equatable {
    public enum Severity: String, Codable, Sendable { case info, warning, critical }
    /// The plugin that produced it.
    public var source: String
    public var id: String
    public var severity: Severity
    public var factor: DecisionFactor
    public var title: String
    public var detail: String
    public var metrics: [String: Double]
    /// Supporting stacks, outermost first.
    public var stacks: [[String]]

    public init(source: String, id: String, severity: Severity, factor: DecisionFactor, title: String, detail: String,
                metrics: [String: Double] = [:], stacks: [[String]] = []) {
        self.source = source
        self.id = id
        self.severity = severity
        self.factor = factor
        self.title = title
        self.detail = detail
        self.metrics = metrics
        self.stacks = stacks
    }
}
