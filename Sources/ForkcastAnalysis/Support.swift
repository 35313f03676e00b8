import ForkcastModel

/// Helpers shared by the analyzers.
enum Support {
    /// The `k` most frequent keys, most frequent first (ties broken by key for stable output).
    static func top<K: Comparable>(_ counts: [K: Int], _ k: Int) -> [(key: K, count: Int)] {
        counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            .prefix(k).map { (key: $0.key, count: $0.value) }
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
