import Dispatch
import ForkcastModel

/// The entry point of analysis: run analyzers over a profile, then weigh the advice of
/// recommender rules into one recommendation. Pure computation; no I/O.
public enum Analyzer {
    /// The built-in analyzers, in the order they run (later ones read what earlier ones filled).
    public static func builtinAnalyzers() -> [any AnalyzerPlugin] {
        [TimeBreakdownAnalyzer(), LockContentionAnalyzer(), IOWaitAnalyzer(), GILAnalyzer(), MultiprocessingAnalyzer()]
    }

    /// The built-in recommender rules.
    public static func builtinRules() -> [any RecommenderRulePlugin] {
        [TaskTypeRule(), GILRule(), LockContentionRule(), IPCCostRule(), StartupRule(), CPUStarvationRule(), MeasuredRule()]
    }

    /// Analyzes `profile` with `analyzers`, then recommends with `rules`. An analyzer or rule
    /// that throws is recorded in `Analysis.errors` and the others still run. `timing`, when
    /// given, is called with each analyzer's name and the milliseconds it took.
    public static func analyze(_ profile: Profile,
                               analyzers: [any AnalyzerPlugin] = builtinAnalyzers(),
                               rules: [any RecommenderRulePlugin] = builtinRules(),
                               experiment: ExperimentResult? = nil,
                               timing: ((String, Double) -> Void)? = nil) -> Analysis {
        var analysis = Analysis()
        // Built once: the classifier's caches and the breakdown serve every built-in analyzer.
        var context: AnalysisContext?
        for a in analyzers {
            analysis.plugins.append("analyzer:\(a.descriptor.name)")
            let start = DispatchTime.now().uptimeNanoseconds
            do {
                if let builtin = a as? any ContextAnalyzer {
                    let c = context ?? AnalysisContext(profile)
                    context = c
                    if !(builtin is TimeBreakdownAnalyzer) && (analysis.profile == nil || analysis.overall == nil) {
                        var base = AnalysisPart()
                        base.breakdown = c.breakdown
                        base.merge(into: &analysis)
                    }
                    builtin.part(c).merge(into: &analysis)
                } else {
                    try a.analyze(profile, into: &analysis)
                }
            } catch {
                analysis.errors.append("analyzer \(a.descriptor.name): \(error)")
            }
            timing?(a.descriptor.name, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        analysis.recommendation = Recommender.recommend(analysis: &analysis, rules: rules, experiment: experiment)
        return analysis
    }
}
