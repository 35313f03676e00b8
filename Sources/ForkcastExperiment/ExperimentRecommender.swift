import Foundation
import ForkcastModel

/// Picks the configuration to recommend from the measured summary.
///
/// The fastest configuration (lowest median) wins outright only when its 95% interval
/// clears the runner-up's (no overlap). Otherwise every configuration whose interval
/// overlaps the fastest one's is a tie, and the cheapest of them is chosen: fewest
/// processes, then fewest workers, then least memory. Configurations with failed or
/// timed-out runs, or whose output differs from serial's, are never recommended.
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
        case "processes", "hybrid": return max(s.processes, s.workers + 1)
        default: return max(1, s.processes)
        }
    }

    public static func recommend(summary: [ConfigurationSummary], scaling: [ScalingFit] = [],
                                 analyses: [Configuration: Analysis] = [:]) -> ExperimentRecommendation? {
        let candidates = summary.filter { $0.excludedReason == nil && $0.successfulRuns > 0 && $0.medianWallSeconds > 0 }
        guard let fastest = candidates.min(by: { $0.medianWallSeconds < $1.medianWallSeconds }) else { return nil }
        let others = candidates.filter { !same($0, fastest) }
        let runnerUp = others.min { $0.medianWallSeconds < $1.medianWallSeconds }
        // One run has no spread to judge by: a single-run configuration never wins outright.
        let decisive = runnerUp.map { fastest.ciHighSeconds < $0.ciLowSeconds && fastest.successfulRuns >= 2 && $0.successfulRuns >= 2 } ?? true
        let tied = candidates.filter {
            !same($0, fastest) && ($0.ciLowSeconds <= fastest.ciHighSeconds || $0.successfulRuns < 2 || fastest.successfulRuns < 2)
        }
        let chosen = decisive ? fastest : ([fastest] + tied).min(by: cheaper)!
        let comparedWith = same(chosen, fastest) ? runnerUp : fastest
        let margin = comparedWith.map { $0.medianWallSeconds / chosen.medianWallSeconds - 1 } ?? 0
        let strategy = ConcurrencyStrategy(rawValue: chosen.strategy) ?? .serial

        var reasons: [Reason] = []
        let serial = summary.first { $0.strategy == "serial" && $0.successfulRuns > 0 }
        reasons.append(measuredReason(chosen: chosen, fastest: fastest, runnerUp: runnerUp, decisive: decisive, tied: tied, serial: serial))
        if let r = workloadReason(serial: serial, summary: candidates) { reasons.append(r) }
        if let starved = summary.first(where: { $0.strategy == "serial" })?.waitBreakdown?.runnable, starved > 0.3 {
            reasons.append(Reason(factor: .cpuStarvation, text: String(format: "Recorded: serial was runnable but not running %.0f%% of the time — with one thread, that means other work on this machine took the CPUs, so timings are noisy; repeat on a quiet machine.", starved * 100), metrics: ["runnable_share": starved]))
        }
        if let r = memoryReason(chosen: chosen, candidates: candidates) { reasons.append(r) }
        for s in summary where s.excludedReason != nil && s.successfulRuns + s.measuredRuns > 0 {
            reasons.append(Reason(factor: .other, text: "\(name(s)) not recommended: \(s.excludedReason!)."))
        }
        reasons.append(contentsOf: waitReasons(summary: summary, chosen: chosen))
        if let fit = scaling.first(where: { $0.strategy == chosen.strategy }), let p = fit.predictions.last {
            var text = String(format: "Prediction, not measurement: the %@ fit of %@ (σ=%.3f, κ=%.4f) gives %.1f× (90%% interval %.1f–%.1f×) at %d cores",
                              fit.model == "usl" ? "Universal Scalability Law" : "Amdahl", chosen.strategy, fit.sigma, fit.kappa,
                              p.speedup, p.low, p.high, p.cores)
            if let peak = fit.peakWorkers { text += String(format: "; speedup peaks near %.0f workers", peak) }
            reasons.append(Reason(factor: .scaling, text: text + ".", metrics: ["sigma": fit.sigma, "kappa": fit.kappa]))
        }

        // The single-run prediction: the analysis of serial's recording, else the first recorded one.
        var agrees: Bool?
        let predictionSource = summary.first { $0.strategy == "serial" && $0.predictedStrategy != nil } ?? summary.first { $0.predictedStrategy != nil }
        if let src = predictionSource, let predicted = src.predictedStrategy {
            agrees = predicted == chosen.strategy
            if agrees == true {
                reasons.append(Reason(factor: .measured, text: "The single-run analysis (recording of \(name(src))) also predicted \(predicted)."))
            } else {
                reasons.append(Reason(factor: .measured, text: "The single-run analysis (recording of \(name(src))) predicted \(predicted), but the experiment measured \(name(chosen)) \(decisive ? "faster" : "as fast and cheaper"): trust the measurement."))
            }
        }
        let fixFirst = analyses.values.compactMap { $0.recommendation?.fixFirst }.first
        return ExperimentRecommendation(
            strategy: strategy, workers: chosen.workers, margin: margin, decisive: decisive,
            fastest: ref(fastest), runnerUp: runnerUp.map(ref), tiedWith: decisive ? [] : tied.map(ref),
            confidence: decisive ? min(1, 0.6 + min(margin, 0.4)) : 0.5, reasons: reasons, fixFirst: fixFirst, predictionAgrees: agrees)
    }

    static func same(_ a: ConfigurationSummary, _ b: ConfigurationSummary) -> Bool { a.strategy == b.strategy && a.workers == b.workers }
    static func ref(_ s: ConfigurationSummary) -> ConfigurationRef { ConfigurationRef(strategy: s.strategy, workers: s.workers) }
    static func name(_ s: ConfigurationSummary) -> String { s.strategy == "serial" ? "serial" : "\(s.strategy)×\(s.workers)" }
    static func secs(_ s: Double) -> String { Formatting.seconds(s) }

    static func measuredReason(chosen: ConfigurationSummary, fastest: ConfigurationSummary, runnerUp: ConfigurationSummary?, decisive: Bool,
                               tied: [ConfigurationSummary], serial: ConfigurationSummary?) -> Reason {
        var text = "\(name(chosen)) ran in \(secs(chosen.medianWallSeconds)) (median of \(chosen.successfulRuns), 95% CI \(secs(chosen.ciLowSeconds))–\(secs(chosen.ciHighSeconds)))"
        if let serial, !same(serial, chosen) { text += String(format: ", %.2f× serial", chosen.speedup) }
        var metrics = ["median_wall_s": chosen.medianWallSeconds, "ci_low_s": chosen.ciLowSeconds, "ci_high_s": chosen.ciHighSeconds,
                       "speedup": chosen.speedup]
        if decisive, let r = runnerUp {
            text += String(format: "; the runner-up %@ took %@, %.0f%% longer, and the intervals do not overlap", name(r),
                           secs(r.medianWallSeconds), (r.medianWallSeconds / chosen.medianWallSeconds - 1) * 100)
            metrics["runner_up_median_wall_s"] = r.medianWallSeconds
        } else if decisive {
            text += "; it is the only configuration that could be recommended"
        } else {
            let names = ([fastest] + tied).filter { !same($0, chosen) }.map(name).joined(separator: ", ")
            text += "; it ties with \(names) (intervals overlap), and is the cheapest of them (fewest processes, then workers, then memory)"
            if !same(chosen, fastest) {
                text += String(format: "; the fastest, %@, was %.0f%% quicker by median, within the noise", name(fastest),
                               (1 - fastest.medianWallSeconds / chosen.medianWallSeconds) * 100)
            }
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
