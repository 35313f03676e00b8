import ForkcastModel

/// Helpers shared by the analyzers.
enum Support {
    /// Makes sure the time breakdown is in `analysis` (an analyzer may run alone) and returns
    /// the seconds one sample stands for.
    static func breakdown(_ profile: Profile, _ analysis: inout Analysis) -> Double {
        if analysis.profile == nil || analysis.overall == nil {
            let b = TimeBreakdown.compute(profile)
            analysis.profile = b.summary
            analysis.overall = b.overall
            analysis.processes = b.processes
            analysis.threads = b.threads
        }
        return analysis.profile?.periodSeconds ?? 1 / profile.recording.rateHz
    }

    /// The `k` most frequent keys, most frequent first (ties broken by key for stable output).
    static func top<K: Comparable>(_ counts: [K: Int], _ k: Int) -> [(key: K, count: Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(k).map { (key: $0.key, count: $0.value) }
    }

    /// Samples of the threads of `pid` that are not mostly idle (pool workers waiting for work,
    /// a main thread joining). Falls back to all the process's samples when every thread is idle.
    static func workingSamples(_ analysis: Analysis, pid: Int32) -> Int {
        let threads = analysis.threads.filter { $0.pid == pid }
        let working = threads.filter { $0.idleShare < 0.8 }.reduce(0) { $0 + $1.samples }
        return working > 0 ? working : threads.reduce(0) { $0 + $1.samples }
    }
}

/// Number formatting for the sentences of findings and reasons.
enum Text {
    static func pct(_ x: Double) -> String {
        let v = (x * 100).rounded()
        return "\(Int(v))%"
    }

    static func secs(_ x: Double) -> String {
        if x >= 10 { return String(Int(x.rounded())) + " s" }
        let v = (x * 100).rounded() / 100
        return "\(v) s"
    }

    static func num(_ x: Double) -> String {
        let v = (x * 10).rounded() / 10
        return "\(v)"
    }

    static func hex(_ x: UInt64) -> String { "0x" + String(x, radix: 16) }
}
