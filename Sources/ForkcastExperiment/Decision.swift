import Foundation
import ForkcastModel

/// Where a configuration stands against the leader, from the interval of its paired
/// time ratio (its time / the leader's, per round).
public enum PairStanding: String, Sendable, Equatable {
    /// The interval lies within 1 ± equivalence: practically equal.
    case equivalent
    /// The interval lies above 1: the leader is faster.
    case separated
    /// The leader is cheaper, and the interval shows this configuration at most
    /// `equivalence` faster: whichever way more rounds went, the leader would stay the answer.
    case dominated
    /// Not enough paired rounds, or the interval straddles 1 or the equivalence bound.
    case open
}

/// One configuration compared with the leader.
public struct PairComparison: Sendable, Equatable {
    public var configuration: ConfigurationRef
    public var ratio: PairedInterval?
    public var standing: PairStanding
    /// Rounds more that would likely decide this pair; nil when decided or hopeless.
    public var roundsLikelyNeeded: Int?
}

/// What the runs so far say: the leader, the chosen configuration (nil while undecided),
/// and every other configuration's standing against the leader.
public struct Decision: Sendable, Equatable {
    public var leader: ConfigurationRef
    /// The cheapest of the leader and the configurations practically equivalent to it;
    /// nil while a comparison is open.
    public var chosen: ConfigurationRef?
    public var comparisons: [PairComparison]

    public var open: [PairComparison] { comparisons.filter { $0.standing == .open } }
    public var equivalents: [ConfigurationRef] { comparisons.filter { $0.standing == .equivalent }.map(\.configuration) }
    public var decided: Bool { chosen != nil }
    /// The configurations that still need rounds: the leader and the open ones.
    public var contenders: [ConfigurationRef] { [leader] + open.map(\.configuration) }
    /// The open comparison closest to the leader (lowest median ratio): the runner-up candidate.
    public var closestOpen: PairComparison? { open.min { ($0.ratio?.median ?? .infinity) < ($1.ratio?.median ?? .infinity) } }
    /// Rounds more likely needed to close every open comparison (the largest estimate).
    public var roundsLikelyNeeded: Int? { open.compactMap(\.roundsLikelyNeeded).max() }
}

/// Decides between configurations from paired ratios, with practical equivalence.
///
/// The leader is the configuration with the lowest median wall time, replaced by any
/// configuration whose paired ratio against it lies wholly below 1. Each other
/// configuration is then `equivalent` (ratio interval within 1 ± equivalence; for a
/// configuration cheaper than the leader, an interval below 1 + equivalence is enough:
/// at most that much slower), `separated` (interval above 1), `dominated` (costlier than
/// the leader and its interval above 1 − equivalence) or `open`. With nothing open the choice is the cheapest of the
/// leader and its equivalents; otherwise there is no choice yet. A configuration with too
/// few rounds beside the leader is separated through an intermediate that ran with both
/// (`separatedThroughChains`), so one added late does not send the others back into rounds.
public enum ExperimentDecider {
    /// Fewer paired rounds than this decide nothing. With n ≤ 5 the percentile bootstrap of
    /// a median spans [min, max] of the ratios, so "separated" means every round agreed:
    /// a 1-in-32 chance for two equal configurations at n = 5, but 1 in 8 at n = 3.
    public static let minimumPairs = 5

    public static func decide(summary: [ConfigurationSummary], runs: [ExperimentRun], equivalence: Double, seed: UInt64) -> Decision? {
        let eligible = summary.filter { $0.excludedReason == nil && $0.successfulRuns > 0 && $0.medianWallSeconds > 0 }
        guard var leader = eligible.min(by: { $0.medianWallSeconds < $1.medianWallSeconds }) else { return nil }
        var comparisons: [PairComparison] = []
        // The leader by median may not be the leader by pairs; at most one switch per configuration.
        for _ in 0...eligible.count {
            comparisons = eligible.filter { ref($0) != ref(leader) }.map { compare($0, leader, runs: runs, equivalence: equivalence, seed: seed) }
            guard let better = comparisons.first(where: { ($0.ratio?.high ?? 1) < 1 && ($0.ratio?.pairs ?? 0) >= minimumPairs }),
                  let next = eligible.first(where: { ref($0) == better.configuration }) else { break }
            leader = next
        }
        // A configuration that never ran in a round with the leader (the leader was added by
        // the worker-count extension after it had dropped out) is compared through one that
        // ran with both.
        let unpaired = comparisons.filter { $0.standing == .open && ($0.ratio?.pairs ?? 0) < minimumPairs }.map(\.configuration)
        if !unpaired.isEmpty {
            let via = separatedThroughChains(unpaired, leader: ref(leader), eligible: eligible, runs: runs, seed: seed)
            for i in comparisons.indices {
                if let r = via[comparisons[i].configuration] {
                    comparisons[i] = PairComparison(configuration: comparisons[i].configuration, ratio: r, standing: .separated, roundsLikelyNeeded: nil)
                }
            }
        }
        var decision = Decision(leader: ref(leader), chosen: nil, comparisons: comparisons)
        if decision.open.isEmpty {
            let tie = [leader] + eligible.filter { decision.equivalents.contains(ref($0)) }
            decision.chosen = ref(tie.min(by: ExperimentRecommender.cheaper)!)
        }
        return decision
    }

    /// Each configuration's time over the leader's through a chain of configurations that
    /// ran in enough rounds pairwise (C/L = (C/X)·(X/Y)·…·(Y/L), bounds multiplied: each
    /// interval one-sided at once, so conservative), for those with too few rounds beside
    /// the leader. Only chains whose lower bound is above 1 are returned — C is slower than
    /// the leader — the one with the highest lower bound; `pairs` is the fewest pairs of any
    /// link and `against` names the leader.
    static func separatedThroughChains(_ targets: [ConfigurationRef], leader: ConfigurationRef, eligible: [ConfigurationSummary],
                                       runs: [ExperimentRun], seed: UInt64) -> [ConfigurationRef: PairedInterval] {
        let refs = eligible.map(ref)
        var known: [ConfigurationRef: PairedInterval] = [leader: PairedInterval(median: 1, low: 1, high: 1, pairs: Int.max, against: leader)]
        var links: [String: PairedInterval?] = [:]
        func link(_ a: ConfigurationRef, _ b: ConfigurationRef) -> PairedInterval? {
            let k = a.name + "\u{1}" + (a.python ?? "") + "\u{1}" + b.name + "\u{1}" + (b.python ?? "")
            if let cached = links[k] { return cached }
            let r = Statistics.pairedInterval(runs, a, b, seed: seed).flatMap { $0.pairs >= minimumPairs ? $0 : nil }
            links[k] = r
            return r
        }
        // Relax: a configuration's best known bound improves through any known one it ran with.
        for _ in 0..<refs.count {
            var changed = false
            for c in refs where c != leader {
                for (x, xl) in known where x != c {
                    guard let cx = link(c, x) else { continue }
                    let low = cx.low * xl.low
                    if low > (known[c]?.low ?? -.infinity) {
                        known[c] = PairedInterval(median: cx.median * xl.median, low: low, high: cx.high * xl.high,
                                                  pairs: min(cx.pairs, xl.pairs), against: leader)
                        changed = true
                    }
                }
            }
            if !changed { break }
        }
        var out: [ConfigurationRef: PairedInterval] = [:]
        for t in targets { if let k = known[t], k.low > 1 { out[t] = k } }
        return out
    }

    static func compare(_ c: ConfigurationSummary, _ leader: ConfigurationSummary, runs: [ExperimentRun], equivalence eq: Double,
                        seed: UInt64) -> PairComparison {
        let ratio = Statistics.pairedInterval(runs, ref(c), ref(leader), seed: seed)
        guard let r = ratio, r.pairs >= minimumPairs else {
            let have = ratio?.pairs ?? 0
            return PairComparison(configuration: ref(c), ratio: ratio, standing: .open, roundsLikelyNeeded: max(1, minimumPairs - have))
        }
        let standing: PairStanding
        let leaderCheaper = ExperimentRecommender.cheaper(leader, c)
        if r.low >= 1 - eq && r.high <= 1 + eq { standing = .equivalent }
        // A cheaper configuration at most `eq` slower than the leader (and maybe faster) ties
        // with it just as well: the cheapest of the tie is the answer either way.
        else if !leaderCheaper && r.high <= 1 + eq { standing = .equivalent }
        else if r.low > 1 { standing = .separated }
        else if leaderCheaper && r.low >= 1 - eq { standing = .dominated }
        else { standing = .open }
        return PairComparison(configuration: ref(c), ratio: r, standing: standing,
                              roundsLikelyNeeded: standing == .open ? roundsNeeded(r, equivalence: eq, leaderCheaper: ExperimentRecommender.cheaper(leader, c)) : nil)
    }

    /// How many more paired rounds would likely close an open comparison, assuming the
    /// median stays put and the interval narrows as 1/√n: the fewest rounds for any of
    /// separation (low > 1, or high < 1 for a contender that may be faster), equivalence (inside 1 ± eq) or, when the leader is cheaper,
    /// dominance (low ≥ 1 − eq). Nil when the median sits on a bound (no count would do).
    public static func roundsNeeded(_ r: PairedInterval, equivalence eq: Double, leaderCheaper: Bool) -> Int? {
        let half = max((r.high - r.low) / 2, 1e-9)
        let m = r.median
        var distances: [Double] = []
        if m > 1 { distances.append(m - 1) }
        if m < 1 { distances.append(1 - m) }
        let inside = min(1 + eq - m, m - (1 - eq))
        if inside > 0 { distances.append(inside) }
        if leaderCheaper && m > 1 - eq { distances.append(m - (1 - eq)) }
        if !leaderCheaper && m < 1 + eq { distances.append(1 + eq - m) }
        guard let d = distances.max(), d > 1e-4 else { return nil }
        let n = Double(r.pairs)
        let total = n * (half / d) * (half / d)
        return max(1, Int((total - n).rounded(.up)))
    }

    static func ref(_ s: ConfigurationSummary) -> ConfigurationRef { ConfigurationRef(strategy: s.strategy, workers: s.workers, python: s.python) }
}
