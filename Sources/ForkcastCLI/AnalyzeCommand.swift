import ArgumentParser
import ForkcastAnalysis
import ForkcastModel
import ForkcastWorkflow
import ForkcastPlugins
import ForkcastReport
import ForkcastSystem
import Foundation

/// `forkcast analyze PROFILE` — where the time went, the hot locks, the I/O waits, the
/// cost of processes, and a recommendation; `--json` prints the same as JSON
/// (docs/analysis-format.md).
public struct Analyze: ParsableCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Analyze a recorded profile: time breakdown, locks, GIL, I/O, IPC costs, and a recommendation.",
        discussion: """
        Reads a profile written by `forkcast record` (.json or .json.gz) and prints a summary.
        --json prints the full analysis (format: docs/analysis-format.md) for scripts and CI.
        """
    )

    @Argument(help: "The profile to analyze (.json or .json.gz).")
    public var profile: String

    @Flag(help: "Print the analysis as JSON instead of the terminal summary.")
    public var json = false

    @Option(help: "Rows to show per table in the terminal summary (threads, locks, I/O).")
    public var limit: Int = 12

    @Flag(help: "Also write the HTML report (reports/<program>-<time>.html).")
    var report = false

    @Flag(help: "Never use colors (also: NO_COLOR in the environment, or output not a terminal).")
    public var noColor = false

    @OptionGroup var pluginOptions: PluginOptions

    public init() {}

    public func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1 (got \(limit))") }
    }

    public func run() throws {
        let timing = ProcessInfo.processInfo.environment["FORKCAST_TIMING"] != nil
        let t0 = DispatchTime.now().uptimeNanoseconds
        let loaded: Profile
        do {
            loaded = try Self.load(path: profile)
        } catch let error as UserError {
            Self.fail(error.description)
        }
        let t1 = DispatchTime.now().uptimeNanoseconds
        var timings: [(String, Double)] = []
        let pipeline: ReportPipeline
        do { pipeline = try pluginOptions.pipeline() } catch { Self.fail("\(error)") }
        let analysis = pipeline.analyze(loaded, timing: timing ? { timings.append(($0, $1)) } : nil)
        // Failed plugins are named in the summary; with --json, say so on stderr too.
        if json { for e in analysis.errors { Terminal.warning(e) } }
        let t2 = DispatchTime.now().uptimeNanoseconds
        if timing {
            Terminal.note("analyze timing: load \((t1 - t0) / 1_000_000) ms, analyze \((t2 - t1) / 1_000_000) ms (\(loaded.samples.count) samples; "
                          + timings.map { "\($0.0) \(Int($0.1)) ms" }.joined(separator: ", ") + ")")
        }
        if json {
            do {
                var data = try analysis.encodedJSON()
                data.append(0x0a)
                FileHandle.standardOutput.write(data)
            } catch {
                Self.fail("cannot encode the analysis as JSON: \(error)")
            }
        } else {
            let color = !noColor && Terminal.stdoutIsTTY && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
            print(AnalysisText.render(Self.terminalSafe(analysis), limit: limit, color: color), terminator: "")
        }
        if report {
            do {
                let path = try pipeline.writeHTML(ReportInput(profile: loaded, analysis: analysis))
                Terminal.note("report: \(path)")
            } catch {
                Self.fail("\(error)")
            }
        }
    }

    /// The analysis with every string that came from the target (names, stacks, command
    /// lines, paths) passed through `Terminal.sanitize`, so the summary cannot carry the
    /// target's escape sequences or newlines; the summary's own colours are added after.
    static func terminalSafe(_ analysis: Analysis) -> Analysis {
        func clean(_ value: Any) -> Any {
            switch value {
            case let s as String: return Terminal.sanitize(s)
            case let a as [Any]: return a.map(clean)
            case let d as [String: Any]: return d.mapValues(clean)
            default: return value
            }
        }
        guard let data = try? analysis.encodedJSON(), let tree = try? JSONSerialization.jsonObject(with: data),
              let cleaned = try? JSONSerialization.data(withJSONObject: clean(tree)),
              let safe = try? Analysis.decode(cleaned) else { return analysis }
        return safe
    }

    /// Reads and decodes a profile file (through `ProfileFiles`); every failure becomes one
    /// line for the user.
    static func load(path: String) throws -> Profile {
        do {
            return try ProfileFiles.read(path: path)
        } catch let error as ProfileFileError {
            throw UserError(error.description)
        } catch {
            throw UserError("cannot read profile '\(path)': \(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        Terminal.error(message)
        Analyze.exit(withError: ExitCode(2))
    }
}

/// The terminal summary of an `Analysis`: aligned plain-text tables, colors only when asked.
/// Presentation only: every number comes from the analysis.
public enum AnalysisText {
    public static func render(_ a: Analysis, limit: Int = 12, color: Bool = false) -> String {
        var w = Writer(color: color)
        header(a, into: &w)
        recommendation(a, into: &w)
        timeShares(a, limit: limit, into: &w)
        threads(a, limit: limit, into: &w)
        locks(a, limit: limit, into: &w)
        ioWaits(a, limit: limit, into: &w)
        gil(a, limit: limit, into: &w)
        multiprocessing(a, into: &w)
        findings(a, into: &w)
        for e in a.errors { w.line(w.warn("error: \(e)")) }
        return w.out
    }

    /// The summary being written: lines, and bold or yellow text when color is asked.
    struct Writer {
        var out = ""
        let color: Bool
        mutating func line(_ s: String = "") { out += s + "\n" }
        func bold(_ s: String) -> String { color ? "\u{1B}[1m\(s)\u{1B}[0m" : s }
        func warn(_ s: String) -> String { color ? "\u{1B}[33m\(s)\u{1B}[0m" : s }
    }

    static let stateHeader = ["ON-CPU", "RUNNABLE", "GIL", "LOCK", "I/O", "SLEEP", "CHILD", "OTHER"]
    static func stateCells(_ s: StateShares) -> [String] {
        ThreadState.allCases.map { pct(s[$0]) }
    }

    /// The command, how long and how it was recorded, and the recording's notes.
    static func header(_ a: Analysis, into w: inout Writer) {
        if let p = a.profile {
            w.line(w.bold("forkcast analyze") + " — " + p.command.joined(separator: " "))
            w.line("  \(fixed(p.durationSeconds, 2)) s recorded at \(fixed(p.rateHz, 0)) Hz on \(p.cores) core\(p.cores == 1 ? "" : "s") · "
                 + "\(p.samples) samples · \(p.threads) thread\(p.threads == 1 ? "" : "s") in \(p.processes) process\(p.processes == 1 ? "" : "es")"
                 + (p.truncatedShare >= 0.05 ? " · \(pct(p.truncatedShare)) truncated stacks" : ""))
            for n in p.notes { w.line("  note: \(n)") }
            w.line()
        }
    }

    /// The recommendation, what to fix first, and the reasons with their stacks.
    static func recommendation(_ a: Analysis, into w: inout Writer) {
        if let r = a.recommendation {
            let workers = r.strategy == .serial || !r.strategy.isModel ? "" : " × \(r.workers) workers"
            w.line(w.bold("Recommendation: \(r.strategy.rawValue)\(workers)") + "  (confidence \(fixed(r.confidence, 2)))")
            if let f = r.fixFirst {
                w.line(w.warn("  ! \(f.text)"))
                if let s = f.stack { w.line("      at \(Formatting.stackLine(s))") }
            }
            for reason in r.reasons where reason != r.fixFirst {
                w.line("  • \(reason.text)")
                if let s = reason.stack, !s.isEmpty { w.line("      at \(Formatting.stackLine(s))") }
            }
            w.line()
        }
    }

    /// Where the time went: state shares overall and per process, parallelism, starvation, the machine.
    static func timeShares(_ a: Analysis, limit: Int, into w: inout Writer) {
        if let o = a.overall {
            w.line(w.bold("Where the time went"))
            var rows = [["", "SAMPLES"] + Self.stateHeader]
            rows.append(["all threads", "\(o.samples)"] + Self.stateCells(o.states))
            if a.processes.count > 1 {
                for p in a.processes.sorted(by: { $0.samples > $1.samples }).prefix(limit) {
                    let name = (p.command.first.map { ($0 as NSString).lastPathComponent } ?? "?")
                    rows.append(["pid \(p.pid) \(name)", "\(p.samples)"] + Self.stateCells(p.states))
                }
            }
            w.out += TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 1))
            w.line("  Parallelism: \(fixed(o.parallelism, 2)) threads on CPU on average (peak \(o.peakParallelism)) of \(o.cores) cores — "
                 + "\(pct(o.coreUtilization)) of the machine; \(fixed(o.liveThreads, 1)) threads alive.")
            w.line("  CPU starvation: runnable threads with every core busy at \(pct(o.starvedTickShare)) of ticks "
                 + "(\(fixed(o.runnableThreads, 2)) runnable on average).")
            if let m = a.machine { w.line("  " + Self.machineLine(m)) }
            w.line()
        }
    }

    /// One row per thread (up to `limit`), observer-bias notes.
    static func threads(_ a: Analysis, limit: Int, into w: inout Writer) {
        if !a.threads.isEmpty {
            w.line(w.bold("Threads"))
            var rows = [["PID", "TID", "NAME", "SAMPLES"] + Self.stateHeader + ["IDLE"]]
            let sorted = a.threads.sorted { $0.samples != $1.samples ? $0.samples > $1.samples : $0.tid < $1.tid }
            for t in sorted.prefix(limit) {
                let mark = t.measured?.biased == true ? "*" : ""
                rows.append(["\(t.pid)", "\(t.tid)", clip(t.name, 16) + mark, "\(t.samples)"] + Self.stateCells(t.states) + [pct(t.idleShare)])
            }
            w.out += TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 3, except: [2]))
            if sorted.count > limit { w.line("  … \(sorted.count - limit) more threads (--limit, or --json for all)") }
            for note in Self.observerBiasNotes(a.threads, limit: limit) { w.line(note) }
            w.line()
        }
    }

    /// Contended locks (1% of the waiters' time or more) and the waits for work.
    static func locks(_ a: Analysis, limit: Int, into w: inout Writer) {
        let allContended = a.locks.filter { !$0.idle }
        // Locks under 1% of the waiters' time are noise in a summary (all are in --json).
        let contended = allContended.filter { $0.waitShare >= 0.01 }
        if !contended.isEmpty {
            w.line(w.bold("Lock contention"))
            var rows = [["LOCK", "KIND", "PID", "WAIT", "SHARE", "WAITERS", "HOLDER"]]
            for l in contended.prefix(limit) {
                rows.append([clip(l.lock, 40), l.kind, "\(l.pid)", "\(fixed(l.waitSeconds, 2)) s", pct(l.waitShare), "\(l.waiters)",
                             l.holder.map { h in h + (l.holderShare.map { " (\(pct($0)))" } ?? "") } ?? "-"])
            }
            w.out += TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 2, except: [6]))
            let hidden = allContended.count - min(contended.count, limit)
            if hidden > 0 { w.line("  … \(hidden) more locks (smaller or beyond --limit; --json for all)") }
            for l in contended.prefix(3) {
                if let s = l.topStacks.first { w.line("  \(clip(l.lock, 40)): \(Formatting.stackLine(s))") }
            }
            w.line()
        }
        let idle = a.locks.filter(\.idle)
        if !idle.isEmpty {
            let total = idle.reduce(0) { $0 + $1.waitSeconds }
            let kinds = Set(idle.map(\.kind)).sorted().joined(separator: ", ")
            w.line("  Waits for work, not contention: \(fixed(total, 2)) s (\(kinds)).")
            w.line()
        }
    }

    /// I/O waits by kind and call site.
    static func ioWaits(_ a: Analysis, limit: Int, into w: inout Writer) {
        if !a.io.isEmpty {
            w.line(w.bold("I/O waits"))
            var rows = [["KIND", "CALL SITE", "WAIT", "SHARE", "THREADS", "CALLS", "TARGETS"]]
            for g in a.io.prefix(limit) {
                rows.append([g.kind.rawValue, clip(g.callSite, 48), "\(fixed(g.waitSeconds, 2)) s", pct(g.waitShare), "\(g.threads)",
                             g.syscalls.joined(separator: ","), clip(g.targets.prefix(2).joined(separator: ", "), 40)])
            }
            w.out += TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 2, except: [5, 6]))
            w.line()
        }
    }

    /// GIL held/released and waits per Python process.
    static func gil(_ a: Analysis, limit: Int, into w: inout Writer) {
        if !a.gil.isEmpty {
            w.line(w.bold("GIL"))
            var rows = [["PID", "THREADS", "CPU", "HELD", "EVIDENCE", "WAIT", "WAIT SHARE", "PARALLELISM"]]
            for g in a.gil.prefix(limit) {
                rows.append(["\(g.pid)", "\(g.pythonThreads)", "\(fixed(g.cpuSeconds, 2)) s", pct(g.heldShare), g.heldEvidence,
                             "\(fixed(g.waitSeconds, 2)) s", pct(g.waitShare), fixed(g.parallelism, 2)])
            }
            w.out += TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 1, except: [4]))
            w.line()
        }
    }

    /// What running in several processes cost.
    static func multiprocessing(_ a: Analysis, into w: inout Writer) {
        if let m = a.multiprocessing {
            w.line(w.bold("Multiprocessing"))
            w.line("  \(m.processes) processes, \(m.workerProcesses) workers; workers busy \(pct(m.workerBusyShare)) of their lifetime "
                 + "(\(fixed(m.workerComputeSeconds, 2)) s of work).")
            w.line("  Pickling \(fixed(m.pickleSeconds, 2)) s, unpickling \(fixed(m.unpickleSeconds, 2)) s, pipe/queue transfer "
                 + "\(fixed(m.ipcCPUSeconds, 2)) s on CPU — \(pct(m.serializationShare)) of all CPU time.")
            w.line("  Blocked on pipes: reading \(fixed(m.pipeReadWaitSeconds, 2)) s, writing \(fixed(m.pipeWriteWaitSeconds, 2)) s; "
                 + "queue locks \(fixed(m.queueLockWaitSeconds, 2)) s.")
            w.line("  Start-up: \(fixed(m.startupSeconds, 2)) s over the workers (\(pct(m.startupShare)) of their life); "
                 + "overhead \(fixed(m.overheadRatio, 2))× the useful work.")
            if let s = m.topStacks.first { w.line("  at \(Formatting.stackLine(s))") }
            w.line()
        }
    }

    /// The findings, critical first.
    static func findings(_ a: Analysis, into w: inout Writer) {
        if !a.findings.isEmpty {
            w.line(w.bold("Findings"))
            let order: [Finding.Severity: Int] = [.critical: 0, .warning: 1, .info: 2]
            for f in a.findings.sorted(by: { order[$0.severity]! < order[$1.severity]! }) {
                let tag = "[\(f.severity.rawValue)]"
                w.line("  \(f.severity == .info ? tag : w.warn(tag)) \(f.title)")
                w.line("      \(f.detail)")
            }
            w.line()
        }
    }

    // MARK: formatting

    static func pct(_ x: Double) -> String { "\(Int((x * 100).rounded()))%" }

    static func fixed(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

    static func clip(_ s: String, _ n: Int) -> String { s.count <= n ? s : String(s.prefix(n - 1)) + "…" }

    /// Under a thread table: the threads marked `*`, whose shares were corrected for
    /// The machine's load next to the program's, one line (docs/analysis.md, "Other programs on the machine").
    static func machineLine(_ m: MachineUsage) -> String {
        "Machine: \(fixed(m.busyCores, 1)) of \(m.cores) cores busy on average — this program \(fixed(m.programCores, 1)), "
            + "forkcast \(fixed(m.forkcastCores, 2)), other programs \(fixed(m.otherCores, 1))"
            + (m.stealCores >= 0.05 ? " (steal \(fixed(m.stealCores, 1)))" : "")
            + (m.external ? "; they kept the working threads from a CPU \(pct(m.externalRunnableShare)) of their time." : ".")
    }

    /// observer bias, with the sampled and the kernel-measured figures side by side.
    static func observerBiasNotes(_ threads: [ThreadBreakdown], limit: Int) -> [String] {
        let biased = threads.filter { $0.measured?.biased == true }
        guard !biased.isEmpty else { return [] }
        var lines = ["  * corrected for observer bias: the samples disagreed with the kernel's CPU accounting (docs/analysis.md)"]
        for t in biased.prefix(limit) {
            let m = t.measured!
            let sampled = t.sampledStates ?? t.states
            lines.append("    tid \(t.tid) \(clip(t.name, 24)): on CPU + runnable sampled \(pct(m.sampledRunning)) "
                         + "(\(pct(sampled.onCPU)) + \(pct(sampled.runnable))), kernel \(pct(m.running)) "
                         + "(\(pct(m.onCPU)) + \(pct(m.runnable)))")
        }
        if biased.count > limit { lines.append("    … \(biased.count - limit) more") }
        return lines
    }
}
