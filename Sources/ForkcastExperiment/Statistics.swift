import Foundation
import ForkcastModel

/// A small, fast, seedable random number generator (SplitMix64), so bootstrap intervals
/// are the same every time the same runs are summarized.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The statistics an experiment needs: medians, percentiles and bootstrap intervals.
public enum Statistics {
    /// The median (mean of the two middle values for an even count); nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let mid = s.count / 2
        return s.count % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2
    }

    /// The q-quantile (0…1) with linear interpolation between order statistics.
    public static func quantile(_ values: [Double], _ q: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let s = values.sorted()
        let pos = min(max(q, 0), 1) * Double(s.count - 1)
        let lo = Int(pos.rounded(.down)), hi = Int(pos.rounded(.up))
        return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
    }

    /// A percentile-bootstrap confidence interval of the median: `resamples` resamples
    /// with replacement, the (1−level)/2 and (1+level)/2 quantiles of their medians.
    /// Deterministic for a given seed. A single value gives a zero-width interval.
    public static func bootstrapMedianInterval(_ values: [Double], level: Double = 0.95, resamples: Int = 2000,
                                               seed: UInt64) -> (low: Double, high: Double)? {
        guard !values.isEmpty else { return nil }
        if values.count == 1 { return (values[0], values[0]) }
        var rng = SeededRandom(seed: seed)
        var medians = [Double]()
        medians.reserveCapacity(resamples)
        var sample = [Double](repeating: 0, count: values.count)
        for _ in 0..<resamples {
            for i in 0..<values.count { sample[i] = values[Int(rng.next() % UInt64(values.count))] }
            medians.append(median(sample)!)
        }
        let alpha = (1 - level) / 2
        return (quantile(medians, alpha)!, quantile(medians, 1 - alpha)!)
    }

    /// A seed derived from a label, so each configuration gets its own stable stream.
    public static func seed(_ base: UInt64, _ label: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ base
        for b in label.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h
    }
}

extension Statistics {
    /// Per-round ratios `a / b` of two configurations' wall times: only rounds where both
    /// have a successful measured run count, so noise that hits a whole round cancels.
    public static func pairedRatios(_ runs: [ExperimentRun], _ a: ConfigurationRef, _ b: ConfigurationRef) -> [Double] {
        func byRound(_ c: ConfigurationRef) -> [Int: Double] {
            var out: [Int: Double] = [:]
            for r in runs where r.strategy == c.strategy && r.workers == c.workers && r.python == c.python && !r.warmup && r.outcome == .ok {
                if let round = r.round ?? Optional(r.repetition), r.wallSeconds > 0 { out[round] = r.wallSeconds }
            }
            return out
        }
        let x = byRound(a), y = byRound(b)
        return x.keys.sorted().compactMap { k in y[k].map { x[k]! / $0 } }
    }

    /// The median of the paired ratios `a / b` with its seeded 95% bootstrap interval.
    public static func pairedInterval(_ runs: [ExperimentRun], _ a: ConfigurationRef, _ b: ConfigurationRef, seed: UInt64,
                                      resamples: Int = 2000) -> PairedInterval? {
        let ratios = pairedRatios(runs, a, b)
        guard let m = median(ratios),
              let ci = bootstrapMedianInterval(ratios, resamples: resamples, seed: Statistics.seed(seed, "pair-\(a.name)-\(b.name)"))
        else { return nil }
        return PairedInterval(median: m, low: ci.low, high: ci.high, pairs: ratios.count, against: b)
    }
}
