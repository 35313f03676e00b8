import ForkcastModel

/// What every analyzer of one analysis shares, built once: the profile, the stack
/// classifier (with its per-stack and per-frame caches) and the time breakdown.
///
/// Built-in analyzers read it and return an `AnalysisPart`; `Analyzer.analyze` merges the
/// parts into the `Analysis` and the recommender weighs the result. A class, so the
/// classifier's caches fill once for all analyzers.
public final class AnalysisContext {
    public let profile: Profile
    /// Where the time went, per thread, process and run.
    public let breakdown: TimeBreakdown
    var classifier: StackClassifier

    public init(_ profile: Profile) {
        self.profile = profile
        var classifier = StackClassifier(profile)
        breakdown = TimeBreakdown.compute(profile, classifier: &classifier)
        self.classifier = classifier
    }

    /// Seconds one sample stands for.
    public var period: Double { breakdown.summary.periodSeconds }

    /// Working samples of the threads of `pid`: idle threads left out, and the others' waits
    /// for work. Falls back to all the process's samples when it never worked.
    func workingSamples(pid: Int32) -> Int {
        let threads = breakdown.threads.filter { $0.pid == pid }
        let working = threads.filter { !$0.idle }.reduce(0) { $0 + Int((Double($1.samples) * (1 - $1.idleShare)).rounded()) }
        return working > 0 ? working : threads.reduce(0) { $0 + $1.samples }
    }

    /// What one sample counts for when waits are added up: 1, or for an off-CPU sample of
    /// a thread corrected for observer bias, the factor its waits were scaled by.
    func weight(_ s: Sample) -> Double {
        if breakdown.offCPUScale.isEmpty || s.state == .onCPU || s.state == .runnable { return 1 }
        return breakdown.offCPUScale[s.tid] ?? 1
    }

    /// Threads the breakdown found idle for the whole recording.
    lazy var idleTids: Set<Int32> = Set(breakdown.threads.filter(\.idle).map(\.tid))
    /// What each wait alone says about idleness.
    lazy var waitEvidence: [IdleEvidence?] = profile.waits.map { IdleEvidence.of($0) }

    /// True when the sample waited for work (the same verdict the breakdown used): its
    /// thread is idle, or the wait is for work or events rather than data.
    func isIdle(_ s: Sample, flags: StackFlags) -> Bool {
        if idleTids.contains(s.tid) { return true }
        switch s.state {
        case .onCPU, .runnable, .gilWait: return false
        case .childWait: return true
        case .lockWait:
            if flags.contains(.gil) { return false }
            if flags.contains(.idleLock) || flags.contains(.queueGet) { return true }
        case .ioWait:
            if flags.contains(.queueGet) { return true }
        default: break
        }
        return s.wait >= 0 && waitEvidence[Int(s.wait)] != nil
    }
}

/// What one built-in analyzer adds to an analysis. A nil section is left as it is.
public struct AnalysisPart: Sendable {
    public var breakdown: TimeBreakdown?
    public var locks: [LockContention]?
    public var io: [IOWaitGroup]?
    public var gil: [GILUsage]?
    /// Set (to a value or to nil) by the multiprocessing analyzer only.
    public var multiprocessing: MultiprocessingCosts??
    /// Set by the time-breakdown analyzer only (nil without the profile's machine record).
    public var machine: MachineUsage??
    public var findings: [Finding] = []

    public init() {}

    /// Writes the sections this part holds into `analysis` and appends its findings.
    public func merge(into analysis: inout Analysis) {
        if let b = breakdown {
            analysis.profile = b.summary
            analysis.overall = b.overall
            analysis.processes = b.processes
            analysis.threads = b.threads
        }
        if let locks { analysis.locks = locks }
        if let io { analysis.io = io }
        if let gil { analysis.gil = gil }
        if let multiprocessing { analysis.multiprocessing = multiprocessing }
        if let machine { analysis.machine = machine }
        analysis.findings += findings
    }
}

/// A built-in analyzer: reads the shared context, returns its part.
protocol ContextAnalyzer: AnalyzerPlugin {
    func part(_ context: AnalysisContext) -> AnalysisPart
}

/// A built-in analyzer that classifies stacks as it goes: it borrows the context's
/// classifier (whose caches then serve the next analyzer) and fills a part.
protocol ClassifyingAnalyzer: ContextAnalyzer {
    func fill(_ part: inout AnalysisPart, from context: AnalysisContext, classifier: inout StackClassifier)
}

extension ClassifyingAnalyzer {
    func part(_ context: AnalysisContext) -> AnalysisPart {
        var part = AnalysisPart()
        var classifier = context.classifier
        defer { context.classifier = classifier }
        fill(&part, from: context, classifier: &classifier)
        return part
    }
}

extension ContextAnalyzer {
    /// The `AnalyzerPlugin` entry point: the analyzer run on its own (`analyzeAlone`).
    public func analyze(_ profile: Profile, into analysis: inout Analysis) throws {
        analyzeAlone(profile, into: &analysis)
    }

    /// The `AnalyzerPlugin` entry point for an analyzer run on its own: builds a context,
    /// fills the breakdown when the analysis has none yet, and merges this analyzer's part.
    func analyzeAlone(_ profile: Profile, into analysis: inout Analysis) {
        let context = AnalysisContext(profile)
        if analysis.profile == nil || analysis.overall == nil {
            var base = AnalysisPart()
            base.breakdown = context.breakdown
            base.merge(into: &analysis)
        }
        part(context).merge(into: &analysis)
    }
}
