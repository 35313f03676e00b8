import Foundation
import ForkcastModel

/// Turns runs into the summary, the scaling fits and the recommendation. Pure: no I/O,
/// deterministic for a given seed.
public enum ExperimentSummarizer {
    /// Bootstrap resamples for each median's interval and for the scaling refits.
    public static let intervalResamples = 2000
    public static let scalingRefits = 200

    /// What is said, at the start and in place of advice, when the executor swap replaced nothing.
    public static let notVariedSwapReason = "the program's concurrency could not be varied: the executor swap replaced no executor (the program created no ThreadPoolExecutor, ProcessPoolExecutor, multiprocessing.Pool or ThreadPool), so every strategy would run the same code; add {strategy}/{workers} placeholders or a workload file"

    /// The summary, the scaling fits and the recommendation.
    ///
    /// When the program's concurrency was not varied (`notVaried`), every run failed, or
    /// every configuration's output differs from the baseline's, the recommendation is
    /// `undecided` with the reason and no scaling fit is made: identical or broken runs
    /// differ by noise alone.
    public static func assemble(setup: ExperimentSetup?, configurations: [Configuration], runs: [ExperimentRun],
                                analyses: [Configuration: Analysis] = [:], seed: UInt64, interrupted: Bool = false,
                                notes: [String] = [], equivalence: Double = 0.05, limit: String? = nil, notVaried: Bool = false,
                                hybrid: ((Int) -> (processes: Int, threads: Int))? = nil) -> ExperimentResult {
        var summary = summarize(configurations: configurations, runs: runs, analyses: analyses, seed: seed)
        if let hybrid {
            for i in summary.indices where summary[i].strategy == "hybrid" {
                let split = hybrid(summary[i].workers)
                summary[i].hybridProcesses = split.processes
                summary[i].hybridThreads = split.threads
            }
        }
        var notes = notes
        let measured = runs.filter { !$0.warmup && !$0.recorded }
        let compared = summary.filter { $0.successfulRuns > 0 }
        var blocked: ExperimentRecommendation?
        if notVaried {
            blocked = ExperimentRecommender.notVaried(kind: "not_varied", reason: notVariedSwapReason)
        } else if !measured.isEmpty && !measured.contains(where: { $0.outcome == .ok }) && !interrupted {
            let why = summary.compactMap(\.excludedReason).first ?? "every run failed"
            blocked = ExperimentRecommender.notVaried(kind: "all_failed", reason: "every run failed, so nothing can be compared: \(why)")
        } else if compared.count > 1, compared.filter({ $0.excludedReason == nil }).count <= 1,
                  compared.contains(where: { $0.outputMatchesBaseline == false }) {
            blocked = ExperimentRecommender.notVaried(kind: "output_differs", reason: "the outputs differ from the baseline's under every other configuration (--check-output), so no strategy can be compared with it; make the output deterministic or filter it (a workload file's check: ignore / sort_lines)")
        }
        if let blocked {
            notes.insert("No advice: " + (blocked.undecided?.reason ?? ""), at: 0)
            var r = ExperimentResult(runs: runs, summary: summary, recommendation: blocked, setup: setup, scaling: [],
                                     interrupted: interrupted, notes: notes)
            r.varied = false
            return r
        }
        let rec0 = ExperimentDecider.decide(summary: summary, runs: runs, equivalence: equivalence, seed: seed)
        if let leader = rec0?.leader {
            for i in summary.indices {
                let me = ExperimentDecider.ref(summary[i])
                if me != leader { summary[i].ratioToLeader = rec0?.comparisons.first { $0.configuration == me }?.ratio }
            }
        }
        let cores = setup?.cores ?? Foundation.ProcessInfo.processInfo.activeProcessorCount
        let scaling = fitScaling(summary: summary, runs: runs, cores: cores, seed: seed)
        let rec = ExperimentRecommender.recommend(summary: summary, runs: runs, equivalence: equivalence, seed: seed, scaling: scaling,
                                                  analyses: analyses, limit: limit)
        var r = ExperimentResult(runs: runs, summary: summary, recommendation: rec, setup: setup, scaling: scaling,
                                 interrupted: interrupted, notes: notes)
        r.varied = true
        return r
    }

    /// Wall times of a configuration's successful measured runs.
    static func wallTimes(_ runs: [ExperimentRun], _ c: ConfigurationRef) -> [Double] {
        runs.filter { $0.strategy == c.strategy && $0.workers == c.workers && $0.python == c.python && !$0.warmup && $0.outcome == .ok }.map(\.wallSeconds)
    }

    public static func summarize(configurations: [Configuration], runs: [ExperimentRun], analyses: [Configuration: Analysis] = [:],
                                 seed: UInt64) -> [ConfigurationSummary] {
        var out: [ConfigurationSummary] = []
        for c in configurations {
            let measured = runs.filter { $0.strategy == c.strategy.rawValue && $0.workers == c.workers && $0.python == c.python && !$0.warmup }
            let ok = measured.filter { $0.outcome == .ok }
            let walls = ok.map(\.wallSeconds)
            let median = Statistics.median(walls) ?? 0
            let ci = Statistics.bootstrapMedianInterval(walls, resamples: intervalResamples, seed: Statistics.seed(seed, c.description)) ?? (0, 0)
            var s = ConfigurationSummary(
                strategy: c.strategy.rawValue, workers: c.workers, medianWallSeconds: median, ciLowSeconds: ci.low, ciHighSeconds: ci.high,
                speedup: 0, cpuSeconds: Statistics.median(ok.map(\.cpuSeconds)) ?? 0,
                peakRSSBytes: UInt64(Statistics.median(ok.map { Double($0.peakRSSBytes) }) ?? 0), measuredRuns: measured.count,
                successfulRuns: ok.count, processes: Int((Statistics.median(ok.map { Double($0.peakProcesses) }) ?? 1).rounded()),
                voluntaryContextSwitches: Int(Statistics.median(ok.map { Double($0.voluntaryContextSwitches) }) ?? 0),
                involuntaryContextSwitches: Int(Statistics.median(ok.map { Double($0.involuntaryContextSwitches) }) ?? 0))
            s.python = c.python
            let checked = measured.compactMap(\.outputMatchesBaseline)
            if !checked.isEmpty { s.outputMatchesBaseline = checked.allSatisfy { $0 } }
            s.excludedReason = exclusion(measured: measured, outputMatches: s.outputMatchesBaseline)
            if let a = analyses[c] {
                s.waitBreakdown = waitBreakdown(a)
                s.predictedStrategy = a.recommendation?.strategy.rawValue
            }
            out.append(s)
        }
        // Speedup against serial's median (or, without serial, the first configuration's), and
        // paired: the median over rounds of serial's time / this configuration's.
        // Under --python each interpreter's configurations are compared with its own serial.
        for i in out.indices where out[i].medianWallSeconds > 0 {
            let py = out[i].python
            let base = out.first { $0.strategy == "serial" && $0.successfulRuns > 0 && $0.python == py }
                ?? out.first { $0.strategy == "serial" && $0.successfulRuns > 0 } ?? out.first { $0.successfulRuns > 0 }
            guard let b = base, b.medianWallSeconds > 0 else { continue }
            out[i].speedup = b.medianWallSeconds / out[i].medianWallSeconds
            if b.strategy == "serial" && !(b.strategy == out[i].strategy && b.python == out[i].python) {
                out[i].pairedSpeedup = Statistics.pairedInterval(runs, ExperimentDecider.ref(b), ExperimentDecider.ref(out[i]), seed: seed)
            }
        }
        return out
    }

    static func exclusion(measured: [ExperimentRun], outputMatches: Bool?) -> String? {
        if measured.isEmpty { return "no measured run" }
        if outputMatches == false { return "stdout differs from the baseline's" }
        let bad = measured.filter { $0.outcome != .ok && $0.outcome != .interrupted }
        if bad.isEmpty { return measured.contains { $0.outcome == .ok } ? nil : "no completed run (interrupted)" }
        let timedOut = bad.filter { $0.outcome == .timedOut }.count
        let what = timedOut == bad.count ? "timed out" : timedOut > 0 ? "failed or timed out" : "failed"
        var line = "\(bad.count) of \(measured.count) runs \(what)"
        if let e = bad.first?.error { line += " (\(e))" }
        return line
    }

    /// A minimal analysis of a profile: each thread's share of samples in each state.
    /// Used when no analyzer from ForkcastAnalysis is wired in; pure counting, no I/O.
    public static func stateBreakdown(_ profile: Profile) -> Analysis {
        var counts: [Int64: (pid: Int32, tid: Int32, n: Int, by: [ThreadState: Int])] = [:]
        for s in profile.samples {
            let key = Int64(s.pid) << 32 | Int64(UInt32(bitPattern: s.tid))
            var e = counts[key] ?? (s.pid, s.tid, 0, [:])
            e.n += 1
            e.by[s.state, default: 0] += 1
            counts[key] = e
        }
        let names = Dictionary(profile.threads.map { ($0.tid, $0.name) }, uniquingKeysWith: { a, _ in a })
        var analysis = Analysis()
        analysis.threads = counts.values.sorted { ($0.pid, $0.tid) < ($1.pid, $1.tid) }.map { e in
            var shares = StateShares()
            for (state, n) in e.by { shares[state] = Double(n) / Double(e.n) }
            return ThreadBreakdown(pid: e.pid, tid: e.tid, name: names[e.tid] ?? "", samples: e.n, states: shares)
        }
        return analysis
    }

    /// Thread time shares over every thread of a recorded run, weighted by samples.
    public static func waitBreakdown(_ analysis: Analysis) -> StateShares? {
        let total = analysis.threads.reduce(0) { $0 + $1.samples }
        guard total > 0 else { return nil }
        var shares = StateShares()
        for t in analysis.threads {
            let w = Double(t.samples) / Double(total)
            for state in ThreadState.allCases { shares[state] += t.states[state] * w }
        }
        return shares
    }

    /// Fits USL/Amdahl to each non-serial strategy's speedups over its own one-worker
    /// median (serial's when it has none), with bootstrap refits for the intervals.
    public static func fitScaling(summary: [ConfigurationSummary], runs: [ExperimentRun], cores: Int, seed: UInt64) -> [ScalingFit] {
        // Under --python, the fit is of the first interpreter's runs (the others are compared in the summary).
        let py = summary.first?.python
        let summary = summary.filter { $0.python == py }
        let serial = summary.first { $0.strategy == "serial" && $0.successfulRuns > 0 }
        var fits: [ScalingFit] = []
        let targets = Array(Set([max(1, cores), 8, 16, 32])).sorted()
        for strategy in ConcurrencyStrategy.allCases where strategy != .serial {
            let rows = summary.filter { $0.strategy == strategy.rawValue && $0.successfulRuns > 0 }.sorted { $0.workers < $1.workers }
            guard rows.contains(where: { $0.workers > 1 }) else { continue }
            let baseRow = rows.first { $0.workers == 1 } ?? serial
            guard let baseRow, baseRow.medianWallSeconds > 0 else { continue }
            var points = rows.map { ScalingPoint(workers: $0.workers, speedup: baseRow.medianWallSeconds / $0.medianWallSeconds) }
            if !points.contains(where: { $0.workers == 1 }) { points.insert(ScalingPoint(workers: 1, speedup: 1), at: 0) }
            guard let fit = ScalingModel.fit(points.map { ($0.workers, $0.speedup) }) else { continue }

            // Bootstrap: resample each configuration's runs, recompute the speedups, refit.
            var rng = SeededRandom(seed: Statistics.seed(seed, "scaling-" + strategy.rawValue))
            let baseRef = ConfigurationRef(strategy: baseRow.strategy, workers: baseRow.workers, python: py)
            let samples = Dictionary(uniqueKeysWithValues: rows.map { row in
                (row.workers, wallTimes(runs, ConfigurationRef(strategy: row.strategy, workers: row.workers, python: py)))
            })
            let baseSamples = wallTimes(runs, baseRef)
            var predicted: [Int: [Double]] = [:]
            func resampledMedian(_ xs: [Double]) -> Double {
                guard !xs.isEmpty else { return 0 }
                return Statistics.median((0..<xs.count).map { _ in xs[Int(rng.next() % UInt64(xs.count))] })!
            }
            for _ in 0..<scalingRefits {
                let b = resampledMedian(baseSamples)
                guard b > 0 else { break }
                var pts: [(workers: Int, speedup: Double)] = []
                for row in rows {
                    if row.workers == 1 && baseRef.strategy == strategy.rawValue { pts.append((1, 1)); continue }
                    let m = resampledMedian(samples[row.workers] ?? [])
                    if m > 0 { pts.append((row.workers, b / m)) }
                }
                if !pts.contains(where: { $0.workers == 1 }) { pts.append((1, 1)) }
                guard let refit = ScalingModel.fit(pts, amdahl: fit.model == "amdahl") else { continue }
                for n in targets { predicted[n, default: []].append(ScalingModel.usl(Double(n), sigma: refit.sigma, kappa: refit.kappa)) }
            }
            let predictions = targets.map { n -> ScalingPrediction in
                let point = ScalingModel.usl(Double(n), sigma: fit.sigma, kappa: fit.kappa)
                let boot = predicted[n] ?? []
                return ScalingPrediction(cores: n, speedup: point, low: Statistics.quantile(boot, 0.05) ?? point,
                                         high: Statistics.quantile(boot, 0.95) ?? point)
            }
            fits.append(ScalingFit(strategy: strategy.rawValue, model: fit.model, sigma: fit.sigma, kappa: fit.kappa, points: points,
                                   rmsError: fit.rmsError, peakWorkers: ScalingModel.peakWorkers(sigma: fit.sigma, kappa: fit.kappa),
                                   predictions: predictions))
        }
        return fits
    }
}
