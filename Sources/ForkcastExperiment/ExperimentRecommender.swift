import Foundation
import ForkcastModel

/// Picks the configuration to recommend from the measured summary and the runs.
///
/// Configurations are compared by the ratio of their times within a round (paired), not
/// by overlapping intervals of medians: see `ExperimentDecider`. The leader wins outright
/// when every other configuration's ratio interval lies above 1; configurations whose
/// interval lies within 1 ± equivalence tie with it, and the cheapest of the tie is chosen
/// (fewest processes, then fewest workers, then least memory). When the runs can neither
/// separate nor equate the leader and a contender, the answer is `undecided`, never a
/// silent pick. Configurations with failed or timed-out runs, or whose output differs
/// from serial's, are never recommended.
public enum ExperimentRecommender {
    /// The cost order used to break ties: fewer processes, fewer workers, less memory.
    static func cheaper(_ a: ConfigurationSummary, _ b: ConfigurationSummary) -> Bool {
        let pa = processCount(a), pb = processCount(b)
        if pa != pb { return pa < pb }
        let wa = a.strategy == "serial" ? 1 : a.workers, wb = b.strategy == "serial" ? 1 : b.workers
        if wa != wb { return wa < wb }
        return a.peakRSSBytes < b.peakRSSBytes
    }

    /// Processes a configuration runs: measured when known, else implied by the strategy.
    static func processCount(_ s: ConfigurationSummary) -> Int {
        switch s.strategy {
        case "processes": return max(s.processes, s.workers + 1)
        case "hybrid": return max(s.processes, (s.hybridProcesses ?? s.workers) + 1)
        default: return max(1, s.processes)
        }
    }

    /// The recommendation from the summary and the runs (paired by round).
    ///
    /// - `equivalence`: two configurations tie only when their paired-ratio interval lies
    ///   within 1 ± this fraction; only then is the cheapest of the tie chosen.
    /// - `limit`: why no more rounds were added ("after 20 rounds, --max-repeat"), quoted
    ///   when the answer is `undecided`.
    public static func recommend(summary: [ConfigurationSummary], runs: [ExperimentRun], equivalence: Double = 0.05,
                                 seed: UInt64 = 0x5EED, scaling: [ScalingFit] = [], analyses: [Configuration: Analysis] = [:],
                                 limit: String? = nil) -> ExperimentRecommendation? {
        let candidates = summary.filter { $0.excludedReason == nil && $0.successfulRuns > 0 && $0.medianWallSeconds > 0 }
        guard var decision = ExperimentDecider.decide(summary: summary, runs: runs, equivalence: equivalence, seed: seed),
              let leader = candidates.first(where: { ref($0) == decision.leader }) else { return nil }
        let serial = summary.first { $0.strategy == "serial" && $0.successfulRuns > 0 }
        var reasons: [Reason] = []

        // Open only on the worker count: every open contender is the leader's strategy (and
        // interpreter). The strategy is decided; the count is the cheapest of the leader and
        // the configurations practically equivalent to it (the tie rule), said to be unsettled.
        var countOpen: PairComparison?
        if decision.chosen == nil, let other = decision.closestOpen,
           decision.open.allSatisfy({ $0.configuration.strategy == decision.leader.strategy && $0.configuration.python == decision.leader.python }) {
            countOpen = other
            let tie = [leader] + candidates.filter { decision.equivalents.contains(ref($0)) }
            decision.chosen = ref(tie.min(by: cheaper)!)
        }
        guard let chosenRef = decision.chosen, let chosen = candidates.first(where: { ref($0) == chosenRef }) else {
            return undecided(decision, leader: leader, serial: serial, candidates: candidates, summary: summary,
                             analyses: analyses, equivalence: equivalence, limit: limit)
        }

        let others = decision.comparisons.filter { $0.configuration != chosenRef }
        let runnerUp = others.min { ($0.ratio?.median ?? .infinity) < ($1.ratio?.median ?? .infinity) }
        let allSeparated = others.allSatisfy { (c: PairComparison) -> Bool in c.standing == PairStanding.separated }
        let decisive = chosenRef == decision.leader && decision.equivalents.isEmpty && !others.isEmpty && allSeparated
        var margin = 0.0
        if chosenRef == decision.leader {
            margin = (runnerUp?.ratio?.median ?? 1) - 1
        } else if let r = decision.comparisons.first(where: { $0.configuration == chosenRef })?.ratio, r.median > 0 {
            margin = 1 / r.median - 1
        }
        var tied = decision.equivalents.filter { $0 != chosenRef }
        if chosenRef != decision.leader { tied.insert(decision.leader, at: 0) }

        reasons.append(measuredReason(chosen: chosen, decision: decision, runnerUp: runnerUp, decisive: decisive, tied: tied,
                                      equivalence: equivalence, serial: serial))
        if let other = countOpen, let r = other.ratio {
            var text = String(format: "The strategy is settled but the worker count is not%@: %@ took %.2f× %@'s time (95%% interval %.2f–%.2f×, %d rounds), neither separated nor within ±%.0f%%; %@ is the faster by median",
                              limit.map { " " + $0 } ?? "", other.configuration.name, r.median, name(leader), r.low, r.high, r.pairs, equivalence * 100, name(leader))
            if let n = other.roundsLikelyNeeded { text += "; about \(n) more rounds would likely settle it" }
            reasons.append(Reason(factor: .measured, text: text + ".", metrics: ["ratio": r.median, "ratio_low": r.low, "ratio_high": r.high]))
        }
        if let r = workloadReason(serial: serial, summary: candidates) { reasons.append(r) }
        if let starved = summary.first(where: { $0.strategy == "serial" })?.waitBreakdown?.runnable, starved > 0.3 {
            reasons.append(Reason(factor: .cpuStarvation, text: String(format: "Recorded: serial was runnable but not running %.0f%% of the time — with one thread, that means other work on this machine took the CPUs, so timings are noisy; repeat on a quiet machine.", starved * 100), metrics: ["runnable_share": starved]))
        }
        if let r = memoryReason(chosen: chosen, candidates: candidates) { reasons.append(r) }
        reasons.append(contentsOf: exclusionReasons(summary))
        reasons.append(contentsOf: waitReasons(summary: summary, chosen: chosen))
        if let r = scalingReason(scaling, chosen: chosen) { reasons.append(r) }
        let (prediction, agrees) = predictionReason(summary, chosen: chosen, decisive: decisive)
        if let prediction { reasons.append(prediction) }
        let fixFirst = analyses.values.compactMap { $0.recommendation?.fixFirst }.first
        let strategy = RecommendedStrategy(rawValue: chosen.strategy) ?? .undecided
        return ExperimentRecommendation(
            strategy: strategy, workers: chosen.workers, margin: margin, decisive: decisive,
            fastest: decision.leader, runnerUp: runnerUp?.configuration, tiedWith: tied,
            confidence: decisive ? min(1, 0.6 + min(margin, 0.4)) : countOpen != nil ? 0.4 : 0.5, reasons: reasons, fixFirst: fixFirst, predictionAgrees: agrees,
            equivalence: equivalence)
    }

    /// The answer when two candidates were not separated: which two, the margin seen, and
    /// the rounds likely needed to decide.
    static func undecided(_ decision: Decision, leader: ConfigurationSummary, serial: ConfigurationSummary?,
                          candidates: [ConfigurationSummary], summary: [ConfigurationSummary],
                          analyses: [Configuration: Analysis], equivalence: Double, limit: String?) -> ExperimentRecommendation {
        let other = decision.closestOpen!
        let otherName = other.configuration.name
        var reasons: [Reason] = []
        var text = "\(name(leader)) vs \(otherName) undecided"
        if let limit { text += " \(limit)" }
        if let r = other.ratio {
            text += String(format: ": %@ took %.2f× %@'s time in paired rounds (95%% interval %.2f–%.2f×, %d rounds), which neither separates them nor shows them within ±%.0f%%",
                           otherName, r.median, name(leader), r.low, r.high, r.pairs, equivalence * 100)
        } else {
            text += ": too few rounds with both completed to compare them"
        }
        if let n = decision.roundsLikelyNeeded {
            text += "; about \(n) more round\(n == 1 ? "" : "s") would likely decide it (raise --max-repeat or --budget)"
        } else {
            text += "; the difference sits on the equivalence bound, so more rounds are unlikely to decide it: either is a defensible choice"
        }
        reasons.append(Reason(factor: .measured, text: text + ".", metrics: [
            "ratio": other.ratio?.median ?? 0, "ratio_low": other.ratio?.low ?? 0, "ratio_high": other.ratio?.high ?? 0,
        ]))
        if let r = workloadReason(serial: serial, summary: candidates) { reasons.append(r) }
        reasons.append(contentsOf: exclusionReasons(summary))
        reasons.append(contentsOf: waitReasons(summary: summary, chosen: leader))
        let undecided = UndecidedComparison(kind: "not_separated", reason: text, candidates: [decision.leader, other.configuration],
                                            ratio: other.ratio, roundsLikelyNeeded: decision.roundsLikelyNeeded)
        return ExperimentRecommendation(strategy: .undecided, workers: 0, margin: (other.ratio?.median ?? 1) - 1, decisive: false,
                                        fastest: decision.leader, runnerUp: other.configuration, tiedWith: decision.equivalents,
                                        confidence: 0, reasons: reasons, fixFirst: analyses.values.compactMap { $0.recommendation?.fixFirst }.first,
                                        equivalence: equivalence, undecided: undecided)
    }

    /// The scaling fit's prediction for the chosen strategy, said to be one.
    static func scalingReason(_ scaling: [ScalingFit], chosen: ConfigurationSummary) -> Reason? {
        guard let fit = scaling.first(where: { $0.strategy == chosen.strategy }), let p = fit.predictions.last else { return nil }
        var text = String(format: "Prediction, not measurement: the %@ fit of %@ (σ=%.3f, κ=%.4f) gives %.1f× (90%% interval %.1f–%.1f×) at %d cores",
                          fit.model == "usl" ? "Universal Scalability Law" : "Amdahl", chosen.strategy, fit.sigma, fit.kappa,
                          p.speedup, p.low, p.high, p.cores)
        if let peak = fit.peakWorkers { text += String(format: "; speedup peaks near %.0f workers", peak) }
        return Reason(factor: .scaling, text: text + ".", metrics: ["sigma": fit.sigma, "kappa": fit.kappa])
    }

    /// Whether the single-run analysis (of serial's recording, else the first recorded one)
    /// predicted the strategy the experiment chose, and the reason that says so.
    static func predictionReason(_ summary: [ConfigurationSummary], chosen: ConfigurationSummary, decisive: Bool) -> (Reason?, Bool?) {
        let predictionSource = summary.first { $0.strategy == "serial" && $0.predictedStrategy != nil } ?? summary.first { $0.predictedStrategy != nil }
        guard let src = predictionSource, let predicted = src.predictedStrategy else { return (nil, nil) }
        if predicted == chosen.strategy {
            return (Reason(factor: .measured, text: "The single-run analysis (recording of \(name(src))) also predicted \(predicted)."), true)
        }
        return (Reason(factor: .measured, text: "The single-run analysis (recording of \(name(src))) predicted \(predicted), but the experiment measured \(name(chosen)) \(decisive ? "faster" : "as fast and cheaper"): trust the measurement."), false)
    }

    /// The answer when the runs cannot support any advice: the program's concurrency was
    /// not varied, every run failed, or every configuration's output differs.
    public static func notVaried(kind: String, reason: String) -> ExperimentRecommendation {
        ExperimentRecommendation(strategy: .undecided, workers: 0, margin: 0, decisive: false, confidence: 0,
                                 reasons: [Reason(factor: .measured, text: reason + ".")],
                                 undecided: UndecidedComparison(kind: kind, reason: reason))
    }

    static func exclusionReasons(_ summary: [ConfigurationSummary]) -> [Reason] {
        summary.filter { $0.excludedReason != nil && $0.successfulRuns + $0.measuredRuns > 0 }.map {
            Reason(factor: .other, text: "\(name($0)) not recommended: \($0.excludedReason!).")
        }
    }

    static func same(_ a: ConfigurationSummary, _ b: ConfigurationSummary) -> Bool { ref(a) == ref(b) }
    static func ref(_ s: ConfigurationSummary) -> ConfigurationRef { ConfigurationRef(strategy: s.strategy, workers: s.workers, python: s.python) }
    static func name(_ s: ConfigurationSummary) -> String { ref(s).name }
    static func secs(_ s: Double) -> String { Formatting.seconds(s) }

    static func measuredReason(chosen: ConfigurationSummary, decision: Decision, runnerUp: PairComparison?, decisive: Bool,
                               tied: [ConfigurationRef], equivalence: Double, serial: ConfigurationSummary?) -> Reason {
        var text = "\(name(chosen)) ran in \(secs(chosen.medianWallSeconds)) (median of \(chosen.successfulRuns))"
        if let serial, !same(serial, chosen) {
            if let p = chosen.pairedSpeedup {
                text += String(format: ", %.2f× serial (paired over %d rounds, 95%% interval %.2f–%.2f×)", p.median, p.pairs, p.low, p.high)
            } else {
                text += String(format: ", %.2f× serial by median", chosen.speedup)
            }
        }
        var metrics = ["median_wall_s": chosen.medianWallSeconds, "ci_low_s": chosen.ciLowSeconds, "ci_high_s": chosen.ciHighSeconds,
                       "speedup": chosen.pairedSpeedup?.median ?? chosen.speedup]
        if decisive, let r = runnerUp, let ratio = r.ratio {
            text += String(format: "; the runner-up %@ took %.2f× its time in the same rounds (95%% interval %.2f–%.2f×): separated", r.configuration.name,
                           ratio.median, ratio.low, ratio.high)
            metrics["runner_up_ratio"] = ratio.median
        } else if decisive || (runnerUp == nil && tied.isEmpty) {
            text += "; it is the only configuration that could be recommended"
        } else if !tied.isEmpty {
            let names = tied.map(\.name).joined(separator: ", ")
            text += String(format: "; it is practically equivalent to %@ (paired ratios within ±%.0f%%) and the cheapest of them (fewest processes, then workers, then memory)", names, equivalence * 100)
            if chosen.strategy != decision.leader.strategy || chosen.workers != decision.leader.workers,
               let r = decision.comparisons.first(where: { $0.configuration == ExperimentDecider.ref(chosen) })?.ratio {
                text += String(format: "; the fastest, %@, was %.1f%% quicker in paired rounds", decision.leader.name, (1 - 1 / r.median) * 100)
            }
        } else {
            text += "; every other configuration is slower or, being costlier, at best practically equal"
        }
        return Reason(factor: .measured, text: text + ".", metrics: metrics)
    }

    /// CPU- vs I/O-bound, from serial's CPU time over its wall time.
    static func workloadReason(serial: ConfigurationSummary?, summary: [ConfigurationSummary]) -> Reason? {
        guard let s = serial, s.medianWallSeconds > 0 else { return nil }
        let busy = s.cpuSeconds / s.medianWallSeconds
        if busy < 0.5 {
            return Reason(factor: .taskType, text: String(format: "Serially the program keeps a CPU busy only %.0f%% of its wall time: it mostly waits (I/O-bound, unless other work starved it of CPU), so overlapping the waits pays and more cores matter less.", busy * 100), metrics: ["cpu_per_wall": busy])
        }
        if busy > 0.85 {
            var text = String(format: "Serially the program keeps a CPU busy %.0f%% of the time: it is CPU-bound", busy * 100)
            if let t = summary.filter({ $0.strategy == "threads" && $0.workers > 1 }).max(by: { $0.workers < $1.workers }), t.speedup < 1.2 {
                text += String(format: ", and threads×%d gained only %.2f× — the work holds a lock (in Python, the GIL)", t.workers, t.speedup)
            }
            return Reason(factor: .taskType, text: text + ".", metrics: ["cpu_per_wall": busy])
        }
        return Reason(factor: .taskType, text: String(format: "Serially the program keeps a CPU busy %.0f%% of the time: part computing, part waiting.", busy * 100), metrics: ["cpu_per_wall": busy])
    }

    static func memoryReason(chosen: ConfigurationSummary, candidates: [ConfigurationSummary]) -> Reason? {
        guard let most = candidates.max(by: { $0.peakRSSBytes < $1.peakRSSBytes }), most.peakRSSBytes > 0, chosen.peakRSSBytes > 0 else { return nil }
        let mib = { (b: UInt64) in String(format: "%.0f MiB", Double(b) / 1_048_576) }
        if same(most, chosen) || Double(most.peakRSSBytes) < 1.3 * Double(chosen.peakRSSBytes) {
            return Reason(factor: .memory, text: "\(name(chosen)) peaked at \(mib(chosen.peakRSSBytes)) resident over \(processCount(chosen)) process(es).",
                          metrics: ["peak_rss_bytes": Double(chosen.peakRSSBytes)])
        }
        return Reason(factor: .memory, text: "\(name(chosen)) peaked at \(mib(chosen.peakRSSBytes)) resident, against \(mib(most.peakRSSBytes)) for \(name(most)) (\(processCount(most)) processes).",
                      metrics: ["peak_rss_bytes": Double(chosen.peakRSSBytes), "max_peak_rss_bytes": Double(most.peakRSSBytes)])
    }

    /// What the recordings say about why: the GIL, lock and I/O waits per strategy.
    static func waitReasons(summary: [ConfigurationSummary], chosen: ConfigurationSummary) -> [Reason] {
        let recorded = summary.filter { $0.waitBreakdown != nil }
        guard !recorded.isEmpty else { return [] }
        var out: [Reason] = []
        func pct(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }
        let gil = recorded.map { ($0, $0.waitBreakdown!.gilWait) }
        if let worst = gil.max(by: { $0.1 < $1.1 }), worst.1 > 0.1 {
            let mine = chosen.waitBreakdown?.gilWait
            var text = "Recorded: under \(name(worst.0)) threads spent \(pct(worst.1)) of their time waiting for the GIL"
            if let mine, !same(worst.0, chosen) { text += "; under \(name(chosen)) \(pct(mine))" }
            out.append(Reason(factor: .gil, text: text + ".", metrics: ["gil_wait_share": worst.1]))
        }
        let locks = recorded.map { ($0, $0.waitBreakdown!.lockWait) }
        if let worst = locks.max(by: { $0.1 < $1.1 }), worst.1 > 0.1 {
            out.append(Reason(factor: .locks, text: "Recorded: under \(name(worst.0)), \(pct(worst.1)) of thread time was spent blocked on locks or queues (idle pool threads waiting for work count here too).", metrics: ["lock_wait_share": worst.1]))
        }
        if let b = chosen.waitBreakdown {
            out.append(Reason(factor: .measured, text: "Recorded under \(name(chosen)): \(pct(b.onCPU)) on CPU, \(pct(b.runnable)) runnable but starved, \(pct(b.ioWait + b.sleep)) in I/O or sleep, \(pct(b.gilWait + b.lockWait)) waiting for the GIL or locks, \(pct(b.childWait)) waiting for children.",
                              metrics: ["on_cpu": b.onCPU, "io_wait": b.ioWait, "gil_wait": b.gilWait, "lock_wait": b.lockWait]))
        }
        return out
    }
}
