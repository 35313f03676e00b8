import Foundation
import ForkcastAnalysis
import ForkcastModel

/// The short summary `forkcast record` prints when it ends.
enum RecordSummary {
    static func render(_ profile: Profile, path: String) -> String {
        let s = profile.stats
        var out = "\n"
        let seconds = Double(profile.recording.durationNs) / 1e9
        let asked = max(s.samplesExpected, 1)
        out += "forkcast: wrote \(Terminal.sanitize(path))\n"
        out += String(format: "  %.2f s at %@ Hz: %d samples of %d asked (%.0f%%), %d threads in %d processes\n",
                      seconds, Record.formatRate(profile.recording.rateHz), s.samplesTaken, s.samplesExpected,
                      100 * Double(s.samplesTaken) / Double(asked), profile.threads.count, profile.processes.count)
        let withStack = max(s.samplesTaken, 1)
        out += String(format: "  stacks to the root: %.1f%%; unwind errors: %d; stacks moved while read: %d; ticks filled from a late stop: %d\n",
                      100 * Double(s.stacksComplete) / Double(withStack), s.unwindErrors, s.inconsistentStacks, s.missedStops)
        out += String(format: "  cost per sample: median %.0f µs, p99 %.0f µs; tracer CPU %.2f s; reused samples (thread had not run): %d (%d known from scheduler events, with no read)\n",
                      Double(s.sampleCostMedianNs) / 1000, Double(s.sampleCostP99Ns) / 1000, Double(s.tracerCPUNs) / 1e9,
                      s.reusedSamples, s.reusedOnEvents)

        // Per-thread state shares (the analysis module's breakdown).
        let breakdown = TimeBreakdown.compute(profile)
        let shown = ThreadState.allCases
        var rows = [["thread", "samples"] + shown.map(\.rawValue)]
        let threads = breakdown.threads.prefix(40)
        for t in threads {
            let label = Terminal.sanitize("\(t.pid)/\(t.tid) \(t.name)")
            rows.append([String(label.prefix(27)) + (t.measured?.biased == true ? "*" : ""), String(t.samples)] + shown.map { state in
                let share = t.states[state]
                return share == 0 ? "-" : String(format: "%.0f%%", share * 100)
            })
        }
        out += "\n" + TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 1))
        if breakdown.threads.count > threads.count { out += "  … \(breakdown.threads.count - threads.count) more threads\n" }
        for note in AnalysisText.observerBiasNotes(breakdown.threads.map { t in
            var t = t
            t.name = Terminal.sanitize(t.name)
            return t
        }, limit: 40) { out += note + "\n" }
        if let machine = ExternalLoad.usage(profile, breakdown) { out += "  " + AnalysisText.machineLine(machine) + "\n" }

        // Top stacks.
        var stackCounts: [Int32: Int] = [:]
        for sample in profile.samples { stackCounts[sample.stack, default: 0] += 1 }
        let top = stackCounts.sorted { $0.value > $1.value }.prefix(5)
        if !top.isEmpty { out += "\n  top stacks (leaf first):\n" }
        for (stack, count) in top {
            let frames = profile.stacks[Int(stack)].frames.prefix(6).map { Terminal.sanitize(profile.frames[Int($0)].label) }
            let share = 100 * Double(count) / Double(max(profile.samples.count, 1))
            let text = frames.isEmpty ? "(no stack)" : frames.joined(separator: " ← ")
            out += String(format: "  %5.1f%%  ", share) + text + (profile.stacks[Int(stack)].frames.count > 6 ? " ← …" : "") + "\n"
        }
        for note in profile.recording.notes { out += "  note: \(Terminal.sanitize(note))\n" }
        return out
    }
}
