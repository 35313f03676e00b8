import ForkcastModel

/// Weighs the advice of recommender rules into one `Recommendation`, and says `undecided`
/// or `keep` where the evidence does not support a change of model.
///
/// - `undecided` first, unless an experiment measured the answer: too few working samples,
///   a recording that is mostly idle, or working time mostly in waits Forkcast cannot name.
/// - Each piece of advice with a strategy is a vote of `weight`; the strategy with the most
///   weight wins, and its heaviest advice with a worker count sets the workers.
/// - `keep` when the design is not what limits the program: an event-driven program (its
///   concurrency follows its clients) without model-level evidence (the GIL, IPC costs, a
///   measurement), or no vote at all; the reasons name what does limit it (CPU starvation,
///   a hot lock, a disk flush, a slow peer).
/// - Confidence is the winner's share of all voting weight, scaled down for thin evidence
///   (under 500 working samples), when a lock must be fixed first, and capped where the
///   recording cannot see a cost the change would add (a threads recording cannot see
///   pickling or process start-up).
/// - Observer bias (the samples of working threads disagreed with the kernel's accounting):
///   confidence scales down by half the biased share of the working time; a change of model
///   with most of the working time biased is `undecided`, since the waits the rules weigh come
///   from the biased samples.
/// - Reasons: the winner's first, then the reasons that cast no vote, then dissent.
/// - `fixFirst`: the heaviest advice marked fix-first (a hot lock) is surfaced on its own.
public enum Recommender {
    public static func recommend(analysis: inout Analysis, rules: [any RecommenderRulePlugin],
                                 experiment: ExperimentResult? = nil) -> Recommendation {
        var advice: [Advice] = []
        for r in rules {
            analysis.plugins.append("recommender-rule:\(r.descriptor.name)")
            do {
                advice += try r.advise(RecommendationInput(analysis: analysis, experiment: experiment))
            } catch {
                analysis.errors.append("rule \(r.descriptor.name): \(error)")
            }
        }
        return weigh(advice, analysis: analysis)
    }

    /// Working samples under which the recording cannot tell.
    static let minWorkingSamples = 50
    /// Rules whose votes are evidence about the concurrency *model* itself (not the task type).
    static let modelFactors: Set<DecisionFactor> = [.gil, .ipc, .startup, .measured]

    public static func weigh(_ advice: [Advice], analysis: Analysis) -> Recommendation {
        let cores = analysis.cores
        var votes: [ConcurrencyStrategy: Double] = [:]
        for a in advice where a.strategy != nil && a.weight > 0 { votes[a.strategy!, default: 0] += a.weight }
        let fixFirst = advice.filter(\.fixFirst).max { $0.reason.metrics["wait_share"] ?? $0.weight < $1.reason.metrics["wait_share"] ?? $1.weight }
        let allSamples = analysis.profile?.samples ?? analysis.overall?.samples ?? 0
        let workingSamples = analysis.overall?.workingSamples ?? allSamples
        let coverage = min(1, Double(workingSamples) / 500)
        let work = WorkMix(analysis)
        let measured = advice.contains { $0.reason.factor == .measured && $0.weight > 0 }
        let observed = max(1, observedWorkers(analysis))
        let bias = ObserverBias.weight(analysis)
        // Other programs held the CPUs (ExternalLoad): the recording is less sure of anything.
        let external = analysis.machine?.external == true ? work.externalRunnable : 0
        let biasFactor = (1 - 0.5 * (bias?.share ?? 0)) * (1 - 0.5 * min(1, external))

        if !measured, var why = undecided(analysis, workingSamples: workingSamples, allSamples: allSamples, work: work) {
            var first: [Reason] = []
            if let bias {
                // Mostly biased: that is the first reason (the correction may be what left the
                // time unnamed); otherwise one more.
                var b = bias.reason
                b.text = "Undecided: " + b.text.prefix(1).lowercased() + b.text.dropFirst()
                if bias.share >= 0.5 { (why, b) = (b, why) }
                first = [b]
            }
            return Recommendation(strategy: .undecided, workers: observed, confidence: (0.1 + 0.2 * coverage) * biasFactor,
                                  reasons: [why] + first + advice.map(\.reason).filter { $0 != why }, fixFirst: fixFirst?.reason)
        }

        let eventDriven = analysis.findings.contains { $0.id == "design.event-driven" }
        let limits = limiters(analysis, work: work)
        guard let winner = ConcurrencyStrategy.allCases.filter({ votes[$0] != nil })
            .max(by: { votes[$0]! < votes[$1]! }) else {
            return keepWithoutVotes(analysis, advice: advice, limits: limits, bias: bias, observed: observed, coverage: coverage,
                                    biasFactor: biasFactor, fixFirst: fixFirst)
        }
        let total = votes.values.reduce(0, +)
        var confidence = votes[winner]! / max(total, 1e-9)
        // One strong voice is less sure than several agreeing ones.
        let agreeing = advice.filter { $0.strategy == winner && $0.weight > 0 }
        confidence *= min(1, 0.55 + 0.45 * agreeing.map(\.weight).reduce(0, +))
        confidence *= 0.5 + 0.5 * coverage
        if fixFirst != nil && !(fixFirst!.strategy == winner) { confidence *= 0.8 }

        // An event-driven program whose only case for a change is the task type (or a lock,
        // which no model fixes): keep the design, say what limits it.
        let modelEvidence = agreeing.contains { modelFactors.contains($0.reason.factor) }
        if eventDriven && !modelEvidence {
            return keepEventDriven(advice: advice, limits: limits, bias: bias, observed: observed, coverage: coverage,
                                   biasFactor: biasFactor, fixFirst: fixFirst)
        }

        var extra: [Reason] = []
        if !measured, let bias, bias.share >= 0.5, !restsOnUnbiasedPoolWorkers(agreeing, analysis) {
            var why = bias.reason
            why.text = "Undecided: " + why.text.prefix(1).lowercased() + why.text.dropFirst()
            return Recommendation(strategy: .undecided, workers: observed, confidence: rounded((0.1 + 0.2 * coverage) * biasFactor),
                                  reasons: [why] + advice.map(\.reason).filter { $0 != why }, fixFirst: fixFirst?.reason)
        }
        if let bias {
            extra.append(bias.reason)
        }
        confidence *= biasFactor
        // A threads recording sees neither pickling nor process start-up: advising processes
        // from it rests on the task size, which it can only estimate.
        // (Worker processes of any kind ran it on processes: make's compilers.)
        let workerProcesses = max(analysis.multiprocessing?.poolWorkerProcesses ?? 0,
                                  analysis.processes.filter { $0.role == .worker && !$0.idle }.count,
                                  Jobs.runner(in: analysis.processes)?.jobs.count ?? 0)
        if winner == .processes && workerProcesses == 0 && !measured {
            let (cap, reason) = processesFromThreadsCap(analysis)
            if confidence > cap { confidence = cap }
            extra.append(reason)
        }
        confidence = min(0.95, max(0.05, confidence))

        var workers = winner == .serial ? 1 : (agreeing.filter { $0.workers != nil }.max { $0.weight < $1.weight }?.workers ?? cores)
        let ioBound = agreeing.contains { $0.reason.factor == .taskType && ($0.reason.metrics["io_share"] ?? 0) >= 0.5 }
        if winner != .serial && !ioBound, let cap = advice.first(where: { $0.reason.factor == .cpuStarvation })?.workers {
            workers = min(workers, cap)
        }

        var reasons = agreeing.sorted { $0.weight > $1.weight }.map(\.reason)
        reasons += advice.filter { $0.strategy == nil || $0.weight == 0 }.map(\.reason).filter { r in !reasons.contains(r) }
        reasons += extra
        // Advice to run as the program already runs is no change of model: keep, and say
        // that the evidence favours the design it has.
        let perTask = threadPerTask(analysis)
        if !measured, let current = perTask.map({ (strategy: ConcurrencyStrategy.threads, workers: $0.atOnce) }) ?? currentDesign(analysis),
           current.strategy == winner, perTask != nil || current.workers == max(1, workers) {
            return keepCurrentDesign(current, perTask: perTask, winner: winner, limits: limits, reasons: reasons, advice: advice,
                                     confidence: confidence, fixFirst: fixFirst)
        }
        reasons += advice.filter { $0.strategy != nil && $0.strategy != winner && $0.weight > 0 }.sorted { $0.weight > $1.weight }
            .map { a in
                var r = a.reason
                r.text = "Against (\(a.strategy!.rawValue)): " + r.text
                return r
            }
        // A change of model read from a machine other programs kept busy, resting on time
        // shares (the task type: how much it waits, how much it computes): those were the
        // machine's as much as the program's. Model-level evidence (the GIL held, pickling
        // and start-up costs: what the CPU time was spent on) does not depend on who else
        // queued for the cores, and stands. Nor when the program's own threads explain most
        // of its queueing: 8 CPU-bound threads on 2 cores are told to use fewer, whoever else
        // shares the machine.
        if !measured, !modelEvidence, external >= ExternalLoad.undecidedShare, let m = analysis.machine,
           m.ownRunnableShare < ExternalLoad.ownDominates {
            return undecidedExternalLoad(m, external: external, winner: winner, workers: workers, limits: limits, reasons: reasons,
                                         observed: observed, coverage: coverage, biasFactor: biasFactor, fixFirst: fixFirst)
        }
        return Recommendation(strategy: RecommendedStrategy(winner), workers: max(1, workers), confidence: rounded(confidence),
                              reasons: reasons, fixFirst: fixFirst?.reason)
    }

    /// No rule voted for a model: keep the design, and say what limits it.
    static func keepWithoutVotes(_ analysis: Analysis, advice: [Advice], limits: [Reason], bias: (share: Double, reason: Reason)?,
                                 observed: Int, coverage: Double, biasFactor: Double, fixFirst: Advice?) -> Recommendation {
        let cores = analysis.cores
        var reasons = limits
        let parallelism = analysis.overall?.parallelism ?? 0
        reasons.append(Reason(factor: .other,
                              text: "No rule found evidence that another concurrency model would speed this up (achieved parallelism "
                                + "\(Text.num(parallelism)) on \(cores) cores); keep the current design"
                                + (limits.isEmpty ? "." : " and work on what limits it."),
                              metrics: ["parallelism": parallelism]))
        reasons += advice.map(\.reason).filter { !reasons.contains($0) }
        if let bias { reasons.append(bias.reason) }
        let strength = limits.first.map { min(1, ($0.metrics["share"] ?? 0) / 0.5) } ?? 0
        return Recommendation(strategy: .keep, workers: observed,
                              confidence: rounded((0.3 + 0.4 * strength) * (0.5 + 0.5 * coverage) * biasFactor),
                              reasons: reasons, fixFirst: fixFirst?.reason)
    }

    /// An event-driven program whose only case for a change is the task type (or a lock,
    /// which no model fixes): keep the design, say what limits it.
    static func keepEventDriven(advice: [Advice], limits: [Reason], bias: (share: Double, reason: Reason)?, observed: Int, coverage: Double,
                                biasFactor: Double, fixFirst: Advice?) -> Recommendation {
        var reasons = limits
        reasons.append(Reason(factor: .other,
                              text: "Event-driven: the workload waits for connections and requests, so its concurrency follows its clients; "
                                + "no evidence here (GIL, IPC cost, a measurement) that another model would do better. Keep the design"
                                + (limits.isEmpty ? "." : " and work on what limits it.")))
        reasons += advice.map { a in
            var r = a.reason
            if a.strategy != nil && a.weight > 0 { r.text = "Not advised (\(a.strategy!.rawValue)): " + r.text }
            return r
        }.filter { !reasons.contains($0) }
        if let bias { reasons.append(bias.reason) }
        let strength = limits.first.map { min(1, ($0.metrics["share"] ?? 0) / 0.5) } ?? 0
        return Recommendation(strategy: .keep, workers: observed,
                              confidence: rounded((0.45 + 0.35 * strength) * (0.5 + 0.5 * coverage) * biasFactor),
                              reasons: reasons, fixFirst: fixFirst?.reason)
    }

    /// A threads recording sees neither pickling nor process start-up: advice for processes
    /// from it rests on the task size, which it can only estimate. The most confidence it
    /// may have, and the reason saying so.
    static func processesFromThreadsCap(_ analysis: Analysis) -> (cap: Double, reason: Reason) {
        // The task size, where the pool's queue traffic shows it, says how much a round
        // trip per task would weigh; the bytes pickled per task are not visible here.
        let tasks = analysis.findings.first { $0.id == "pool.tasks" }
        let perTask = tasks?.metrics["task_seconds"]
        let cap: Double
        var text = "This recording ran the work on threads: it cannot see what processes would add (pickling arguments and "
            + "results, starting workers, a round trip per task)"
        if let perTask, (tasks?.metrics["tasks_lower_bound"] ?? 0) > 0 {
            // An upper bound on the task size says nothing about how small the tasks were.
            cap = 0.7
            text += "; its workers seldom waited for work, so its tasks were not all seen: at most \(Text.secs(perTask)) of work each"
        } else if let perTask, let seen = tasks?.metrics["tasks_seen"] {
            if perTask < 0.02 {
                cap = 0.5
                text += "; its \(Int(seen)) tasks did about \(Text.secs(perTask)) of work each — short enough that a pickle round trip per task can cost as much"
            } else if perTask >= 0.1 {
                cap = 0.85
                text += "; its \(Int(seen)) tasks did about \(Text.secs(perTask)) of work each, long next to a round trip, but what each passes is not visible"
            } else {
                cap = 0.7
                text += "; its \(Int(seen)) tasks did about \(Text.secs(perTask)) of work each"
            }
        } else {
            cap = 0.6
            text += "; the task size is not visible either"
        }
        text += ". `forkcast experiment` measures it."
        return (cap, Reason(factor: .startup, text: text, metrics: ["confidence_cap": cap].merging(perTask.map { ["task_seconds": $0] } ?? [:]) { a, _ in a }))
    }

    /// A change of model read from a machine other programs kept busy, resting on time
    /// shares only: undecided, and why.
    static func undecidedExternalLoad(_ m: MachineUsage, external: Double, winner: ConcurrencyStrategy, workers: Int, limits: [Reason],
                                      reasons: [Reason], observed: Int, coverage: Double, biasFactor: Double,
                                      fixFirst: Advice?) -> Recommendation {
        let why = Reason(factor: .cpuStarvation,
                         text: "Undecided: other programs held the CPUs — they used \(Text.num(m.otherCores)) of \(m.cores) cores — and kept the "
                            + "working threads from a CPU \(Text.pct(external)) of their time, so the evidence for \(winner.rawValue) × \(max(1, workers)) "
                            + "comes from a machine that was not the program's alone. Re-record on a quieter machine, or run `forkcast experiment`, "
                            + "which measures each design side by side.",
                         metrics: ["external_runnable_share": external, "other_share": m.otherShare])
        return Recommendation(strategy: .undecided, workers: observed, confidence: rounded((0.1 + 0.2 * coverage) * biasFactor),
                              reasons: [why] + limits.filter { !reasons.contains($0) } + reasons, fixFirst: fixFirst?.reason)
    }

    /// Advice to run as the program already runs is no change of model: keep, and say
    /// that the evidence favours the design it has.
    static func keepCurrentDesign(_ current: (strategy: ConcurrencyStrategy, workers: Int), perTask: (started: Int, atOnce: Int)?,
                                  winner: ConcurrencyStrategy, limits: [Reason], reasons: [Reason], advice: [Advice],
                                  confidence: Double, fixFirst: Advice?) -> Recommendation {
        var reasons = reasons
        let design = winner == .serial ? "serially (one working thread)"
            : perTask.map { "a thread per task (\($0.started) threads started, about \($0.atOnce) at once: the count follows the load)" }
            ?? "as \(winner.rawValue) × \(current.workers)"
        let keepReason = Reason(factor: .other,
                                text: "It already runs \(design), which is what the evidence favours; keep the design"
                                    + (limits.isEmpty ? "." : " and work on what limits it."),
                                metrics: ["current_workers": Double(current.workers)])
        reasons = [keepReason] + limits.filter { !reasons.contains($0) } + reasons
        reasons += advice.filter { $0.strategy != nil && $0.strategy != winner && $0.weight > 0 }.map(\.reason)
            .filter { !reasons.contains($0) }
        return Recommendation(strategy: .keep, workers: current.workers, confidence: rounded(confidence),
                              reasons: reasons, fixFirst: fixFirst?.reason)
    }

    /// The winning advice rests on the pool workers' own samples only — the start-up rule's
    /// tasks too small: their useful work against their lifetime — and the check found every
    /// thread of theirs unbiased. The bias of the parent's dispatching threads
    /// (examples/tiny_tasks.py: its main and manager threads, 50-60% of the working time)
    /// does not touch that evidence, so it lowers the confidence but is no reason to be
    /// undecided (measured: serial ran tiny_tasks 17× faster than the pool).
    static func restsOnUnbiasedPoolWorkers(_ agreeing: [Advice], _ a: Analysis) -> Bool {
        guard let mp = a.multiprocessing, !mp.poolWorkerPids.isEmpty, !agreeing.isEmpty,
              agreeing.allSatisfy({ $0.rule == "startup-overhead" && ($0.reason.metrics["worker_busy_share"] ?? 1) < 0.3 })
        else { return false }
        let pool = Set(mp.poolWorkerPids)
        let workers = a.threads.filter { pool.contains($0.pid) }
        return !workers.isEmpty && workers.allSatisfy { $0.measured.map { !$0.biased } ?? false }
    }

    static func rounded(_ x: Double) -> Double { (min(0.95, max(0.05, x)) * 100).rounded() / 100 }

    /// How many workers run now, at a time: a runner's jobs (make -j2: 2, not the 16 gcc it
    /// started nor their cc1 and as), else worker processes, else worker threads, else
    /// working threads. (Counting every worker process the recording saw gave `keep × 48`
    /// for make -j2 whenever no rule voted — on a loaded machine.)
    static func observedWorkers(_ a: Analysis) -> Int {
        if let jobs = Jobs.runner(in: a.processes)?.jobs { return peakAlive(jobs) }
        let processes = a.processes.filter { $0.role == .worker }
        if !processes.isEmpty { return peakAlive(processes) }
        let threads = a.threads.filter { $0.role == .worker && !$0.idle }.count
        if threads > 0 { return threads }
        return a.threads.filter { !$0.idle }.count
    }

    /// The concurrency design the recording shows, when it shows one: worker processes
    /// (hybrid when they run several working threads each), else working threads in one
    /// process, else one working thread (serial).
    static func currentDesign(_ a: Analysis) -> (strategy: ConcurrencyStrategy, workers: Int)? {
        func working(_ pid: Int32) -> Int { a.threads.filter { $0.pid == pid && !$0.idle && $0.role != .helper }.count }
        // A runner's jobs (make -j2's compilers): as many processes as run at a time.
        if let jobs = Jobs.runner(in: a.processes)?.jobs { return (.processes, peakAlive(jobs)) }
        let workerProcesses = a.processes.filter { $0.role == .worker && !$0.idle }
        if workerProcesses.count >= 2 {
            // Worker processes at a time, not in all: make -j2 runs 16 compilers two at a time.
            let atOnce = peakAlive(workerProcesses)
            let perProcess = workerProcesses.map { working($0.pid) }.max() ?? 1
            return perProcess >= 2 ? (.hybrid, atOnce * perProcess) : (.processes, atOnce)
        }
        // The worker threads that carry the work: a pool member busy less than half as
        // much as the busiest (zstd -T2's reader and writer threads, from the same pool as
        // its two compressing threads) is not one of the workers the design counts.
        let pool = a.threads.filter { $0.role == .worker && !$0.idle }
        let busiest = pool.map { 1 - $0.idleShare }.max() ?? 0
        // (Half: zstd -T2's main thread, reading and dispatching, is busy 0.28-0.42 of its
        // compressing threads; xz -T2's slower worker on a loaded machine 0.57.)
        let threads = pool.filter { 1 - $0.idleShare >= busiest / 2 }
        let processes = Set(threads.map(\.pid))
        guard processes.count <= 1 else { return nil }
        if threads.count >= 2 { return (.threads, threads.count) }
        // Threads that kept the process's name and were not grouped as a pool (git
        // pack-objects' two delta threads under git gc): the busy threads of the process that
        // did most of the CPU, counted as above.
        if threads.isEmpty, let busiest = a.processes.filter({ $0.role != .helper }).max(by: { $0.cpuSeconds < $1.cpuSeconds }) {
            let own = a.threads.filter { $0.pid == busiest.pid && !$0.idle && $0.role != .helper }
            let top = own.map { 1 - $0.idleShare }.max() ?? 0
            let busy = own.filter { 1 - $0.idleShare >= top / 2 }
            if busy.count >= 2 { return (.threads, busy.count) }
        }
        let working = a.threads.filter { !$0.idle && $0.role != .helper }
        return working.count == 1 ? (.serial, 1) : nil
    }

    /// A thread per task (`python3 -m http.server`'s ThreadingHTTPServer starts one per
    /// request): a process that started at least 20 threads, ten times as many as were alive
    /// at once, all but two of them (the acceptor, a helper) seen for under a tenth of the
    /// recording — no pool beside them. Its thread count
    /// follows the load, so threads × N is the design it has, not a change.
    static func threadPerTask(_ a: Analysis) -> (started: Int, atOnce: Int)? {
        guard let o = a.overall, o.ticks > 0 else { return nil }
        // The workload's processes only: a local server the program talks to is a helper.
        let helpers = Set(a.processes.filter { $0.role == .helper }.map(\.pid))
        let byPid = Dictionary(grouping: a.threads.filter { !helpers.contains($0.pid) }, by: \.pid)
        guard let (_, threads) = byPid.max(by: { $0.value.count < $1.value.count }), threads.count >= 20 else { return nil }
        let samples = threads.reduce(0) { $0 + $1.samples }
        let atOnce = max(1, Int((Double(samples) / Double(o.ticks)).rounded()))
        let brief = threads.filter { Double($0.samples) < 0.1 * Double(o.ticks) }.count
        // …and no pool beside them: at most the acceptor and one helper were seen for a
        // tenth of the recording or more (a ThreadPoolExecutor of 8 talking to a thread-per-connection server in
        // the same process is a pool of 8).
        guard threads.count >= 10 * atOnce, threads.count - brief <= 2 else { return nil }
        return (threads.count, atOnce)
    }

    /// The most of `processes` alive at one time (a process still alive at the end counts to the end).
    static func peakAlive(_ processes: [ProcessBreakdown]) -> Int {
        // Ends before starts at the same instant: a job replaced by the next is not two at once.
        var events: [(at: Double, change: Int)] = []
        for p in processes {
            events.append((p.startSeconds, 1))
            events.append((p.endSeconds ?? Double.infinity, -1))
        }
        events.sort { a, b in a.at != b.at ? a.at < b.at : a.change < b.change }
        var alive = 0, peak = 0
        for e in events {
            alive += e.change
            peak = max(peak, alive)
        }
        return max(1, peak)
    }

    /// Why the recording cannot tell, or nil when it can.
    static func undecided(_ a: Analysis, workingSamples: Int, allSamples: Int, work: WorkMix) -> Reason? {
        // How idle the workload was: background helpers parked all along do not make a busy
        // program "mostly idle".
        let helpers = Set(a.processes.filter { $0.role == .helper }.map(\.pid))
        let workload = a.threads.filter { !helpers.contains($0.pid) && $0.role != .helper }
        let n = workload.reduce(0) { $0 + $1.samples }
        let idle = n > 0 ? workload.reduce(0.0) { $0 + Double($1.samples) * $1.idleShare } / Double(n) : (a.overall?.idleShare ?? 0)
        if workingSamples < minWorkingSamples {
            return Reason(factor: .other,
                          text: "Undecided: too few working samples (\(workingSamples) of \(allSamples)"
                            + (idle > 0 ? "; \(Text.pct(idle)) of thread time waited for work" : "")
                            + ") to tell what limits the program. Record longer, or under load.",
                          metrics: ["working_samples": Double(workingSamples), "idle_share": idle])
        }
        if idle >= 0.9 && workingSamples < 1000 {
            return Reason(factor: .other,
                          text: "Undecided: mostly idle — the workload's threads waited for work \(Text.pct(idle)) of their time (\(workingSamples) working samples). "
                            + "Record it while it does the work in question (under load).",
                          metrics: ["working_samples": Double(workingSamples), "idle_share": idle])
        }
        if work.other >= 0.4 {
            return Reason(factor: .other,
                          text: "Undecided: \(Text.pct(work.other)) of the working time was in waits Forkcast cannot name "
                            + "(page faults, unknown system calls, stopped threads).",
                          metrics: ["unknown_share": work.other])
        }
        return nil
    }

    /// What limits the program, strongest first, each with `share` in its metrics: CPU
    /// starvation, a hot lock, a disk flush, a slow peer.
    static func limiters(_ a: Analysis, work: WorkMix) -> [Reason] {
        var out: [Reason] = []
        let cores = a.cores
        // (Runnable time left after taking out what other programs caused, when the
        // program's own threads did not exceed the cores either, is the same queueing seen
        // through a loaded machine — threads that would have finished overlap while starved:
        // the other programs' limiter below says it.)
        if let o = a.overall, work.runnable >= 0.15, ExternalLoad.ownStarvation(a) || a.machine?.external != true {
            // Runnable without a CPU: either the program alone has more runnable work than
            // cores, or other programs (a load generator, a build) hold the cores. With the
            // machine's record, runnable time other programs caused is already out of
            // `work` (ExternalLoad) and has its own limiter below.
            let own = ExternalLoad.ownStarvation(a)
            let others: String
            if let m = a.machine {
                others = "The recorded threads alone did not fill the cores, and other programs used only \(Text.num(m.otherCores)) of the \(m.cores) "
                    + "on average (measured), too little to put the queueing on them (bursts of theirs, threads woken together, or forkcast's "
                    + "own \(Text.num(m.forkcastCores)) cores: the recording cannot tell which)."
            } else {
                others = "The recorded threads alone did not fill the cores: other programs on the machine (a load generator?) held them."
            }
            out.append(Reason(factor: .cpuStarvation,
                              text: "CPU starvation limits it: the working threads were runnable without a CPU \(Text.pct(work.runnable)) of their time "
                                + "(\(Text.num(o.runnableThreads)) waiting on average while \(Text.num(o.parallelism)) ran on \(o.cores) cores). "
                                + (own ? "More runnable work than cores: fewer concurrent workers or connections (about \(cores)) would queue less." : others),
                              metrics: ["share": work.runnable, "starved_tick_share": o.starvedTickShare]))
        }
        if let m = a.machine, m.external, work.externalRunnable >= ExternalLoad.limiterShare {
            let steal = m.stealCores >= 0.05 ? "; \(Text.num(m.stealCores)) of it stolen by the hypervisor" : ""
            out.append(Reason(factor: .cpuStarvation,
                              text: "Other programs on the machine held the CPUs: they used \(Text.num(m.otherCores)) of the \(m.cores) cores "
                                + "(\(Text.pct(m.otherShare))\(steal)), and the working threads were runnable without a CPU \(Text.pct(work.externalRunnable)) "
                                + "of their time while the program's own threads did not exceed the cores. That is the machine, not the program's design "
                                + "(fewer workers would not help): re-record on a quieter machine, or run `forkcast experiment`.",
                              metrics: ["share": work.externalRunnable, "other_share": m.otherShare, "other_cores": m.otherCores,
                                        "steal_cores": m.stealCores, "external": 1]))
        }
        if let hot = a.locks.first(where: { !$0.idle && $0.kind != LockWaitKind.gil.rawValue && $0.isContention }), hot.waitShare >= 0.15 {
            out.append(Reason(factor: .locks,
                              text: "A hot lock limits it: \(hot.waiters) thread\(hot.waiters == 1 ? "" : "s") waited \(Text.pct(hot.waitShare)) of their working time on "
                                + "\(hot.kind) \(hot.lock)" + (hot.site.map { " taken in \($0)" } ?? "")
                                + (hot.holder.map { "; held by \($0)" } ?? "") + ".",
                              metrics: ["share": hot.waitShare, "waiters": Double(hot.waiters)], stack: hot.topStacks.first))
        }
        let working = Double(max(a.overall?.workingSamples ?? 0, 1))
        let flushCalls: Set<String> = ["fsync", "fdatasync", "sync_file_range", "write", "pwrite64", "writev", "pwritev", "pwritev2"]
        let flush = a.io.filter { $0.kind == .file && $0.syscalls.contains(where: flushCalls.contains) }
        // Seconds over the period: samples weighed for observer bias, like `working`.
        let period = a.profile?.periodSeconds ?? 0
        func weighted(_ g: IOWaitGroup) -> Double { period > 0 ? g.waitSeconds / period : Double(g.samples) }
        let flushShare = flush.reduce(0.0) { $0 + weighted($1) } / working
        if flushShare >= 0.1, let top = flush.first {
            out.append(Reason(factor: .taskType,
                              text: "Disk flushes limit it: \(Text.pct(flushShare)) of the working time waited on "
                                + "\(top.syscalls.joined(separator: "/")) at \(top.callSite)" + (top.targets.first.map { " (\($0))" } ?? "")
                                + ". More workers do not make the disk faster.",
                              metrics: ["share": flushShare], stack: top.stack))
        }
        let peers = a.io.filter { $0.kind == .socket }
        let peerShare = peers.reduce(0.0) { $0 + weighted($1) } / working
        if peerShare >= 0.2, let top = peers.first {
            out.append(Reason(factor: .taskType,
                              text: "A slow peer limits it: \(Text.pct(peerShare)) of the working time waited on sockets, most at \(top.callSite)"
                                + (top.targets.first.map { " (\($0))" } ?? "") + ".",
                              metrics: ["share": peerShare], stack: top.stack))
        }
        return out.sorted { ($0.metrics["share"] ?? 0) > ($1.metrics["share"] ?? 0) }
    }
}
