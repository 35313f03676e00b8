import ForkcastModel

/// Weighs the advice of recommender rules into one `Recommendation`.
///
/// - Each piece of advice with a strategy is a vote of `weight`; the strategy with the most
///   weight wins, and its heaviest advice with a worker count sets the workers.
/// - Confidence is the winner's share of all voting weight, scaled down for thin evidence
///   (under 500 samples) and when a lock must be fixed first.
/// - Reasons: the winner's first, then the reasons that cast no vote, then dissent.
/// - `fixFirst`: the heaviest advice marked fix-first (a hot lock) is surfaced on its own.
/// - With no vote at all: serial, at low confidence (nothing shows parallelism would pay).
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

    public static func weigh(_ advice: [Advice], analysis: Analysis) -> Recommendation {
        let cores = analysis.cores
        var votes: [ConcurrencyStrategy: Double] = [:]
        for a in advice where a.strategy != nil && a.weight > 0 { votes[a.strategy!, default: 0] += a.weight }
        let fixFirst = advice.filter(\.fixFirst).max { $0.reason.metrics["wait_share"] ?? $0.weight < $1.reason.metrics["wait_share"] ?? $1.weight }
        let samples = analysis.profile?.samples ?? analysis.overall?.samples ?? 0
        let coverage = min(1, Double(samples) / 500)

        guard let winner = ConcurrencyStrategy.allCases.filter({ votes[$0] != nil })
            .max(by: { votes[$0]! < votes[$1]! }) else {
            var reasons = advice.map(\.reason)
            let parallelism = analysis.overall?.parallelism ?? 0
            reasons.append(Reason(factor: .other,
                                  text: "No rule found work that parallelism would speed up (achieved parallelism \(Text.num(parallelism))); "
                                    + "keep it serial until a profile shows CPU-bound or waiting work.",
                                  metrics: ["parallelism": parallelism]))
            return Recommendation(strategy: .serial, workers: 1, confidence: max(0.05, 0.3 * coverage), reasons: reasons,
                                  fixFirst: fixFirst?.reason)
        }
        let total = votes.values.reduce(0, +)
        var confidence = votes[winner]! / max(total, 1e-9)
        // One strong voice is less sure than several agreeing ones.
        let agreeing = advice.filter { $0.strategy == winner && $0.weight > 0 }
        confidence *= min(1, 0.55 + 0.45 * agreeing.map(\.weight).reduce(0, +))
        confidence *= 0.5 + 0.5 * coverage
        if fixFirst != nil && !(fixFirst!.strategy == winner) { confidence *= 0.8 }
        confidence = min(0.99, max(0.05, confidence))

        var workers = winner == .serial ? 1 : (agreeing.filter { $0.workers != nil }.max { $0.weight < $1.weight }?.workers ?? cores)
        let ioBound = agreeing.contains { $0.reason.factor == .taskType && ($0.reason.metrics["io_share"] ?? 0) >= 0.5 }
        if winner != .serial && !ioBound, let cap = advice.first(where: { $0.reason.factor == .cpuStarvation })?.workers {
            workers = min(workers, cap)
        }

        var reasons = agreeing.sorted { $0.weight > $1.weight }.map(\.reason)
        reasons += advice.filter { $0.strategy == nil || $0.weight == 0 }.map(\.reason).filter { r in !reasons.contains(r) }
        reasons += advice.filter { $0.strategy != nil && $0.strategy != winner && $0.weight > 0 }.sorted { $0.weight > $1.weight }
            .map { a in
                var r = a.reason
                r.text = "Against (\(a.strategy!.rawValue)): " + r.text
                return r
            }
        return Recommendation(strategy: winner, workers: max(1, workers), confidence: (confidence * 100).rounded() / 100,
                              reasons: reasons, fixFirst: fixFirst?.reason)
    }
}
