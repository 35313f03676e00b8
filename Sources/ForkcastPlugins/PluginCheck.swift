import ForkcastAnalysis
import ForkcastModel
import Foundation

/// `forkcast plugins check DIR`: validates a plugin under development — its manifest, its
/// handshake, and one sample request of its kind — and says what it answered.
public enum PluginCheck {
    /// One checked step: passed or not, and a line saying what was seen.
    public struct Step: Sendable, Equatable {
        public var name: String
        public var ok: Bool
        public var detail: String
    }

    /// Runs the checks in order and stops at the first failure.
    public static func run(folder: String, log: @escaping PluginLog = PluginLogs.discard) -> [Step] {
        var steps: [Step] = []
        let manifest: PluginManifest
        do {
            manifest = try PluginManifest.load(folder: folder)
        } catch {
            return [Step(name: "manifest", ok: false, detail: "\(error)")]
        }
        steps.append(Step(name: "manifest", ok: true,
                          detail: "\(manifest.name) \(manifest.version), \(manifest.kind.rawValue), protocol \(manifest.protocolVersion), command \(manifest.command.joined(separator: " "))"))
        let plugin = ExternalPlugin(manifest: manifest, folder: folder, source: .explicit, log: log)
        do {
            let hello = try plugin.handshake()
            steps.append(Step(name: "handshake", ok: true, detail: "protocol \(hello.protocolVersion)"
                              + (hello.name.map { ", says it is \($0)" } ?? "") + (hello.version.map { " \($0)" } ?? "")))
        } catch {
            steps.append(Step(name: "handshake", ok: false, detail: "\(error)"))
            return steps
        }
        let profile = SampleInputs.profile()
        let analysis = Analyzer.analyze(profile)
        do {
            let detail: String
            switch manifest.kind {
            case .analyzer:
                var a = analysis
                let before = a.findings.count
                try ExternalAnalyzer(plugin: plugin).analyze(profile, into: &a)
                let new = a.findings[before...]
                detail = "\(new.count) finding\(new.count == 1 ? "" : "s") on the sample profile"
                    + (new.isEmpty ? "" : ": " + new.map { "[\($0.severity.rawValue)] \($0.title)" }.joined(separator: "; "))
            case .recommenderRule:
                let advice = try ExternalRecommenderRule(plugin: plugin).advise(RecommendationInput(analysis: analysis, experiment: SampleInputs.experiment()))
                detail = "\(advice.count) piece\(advice.count == 1 ? "" : "s") of advice on the sample analysis"
                    + (advice.isEmpty ? "" : ": " + advice.map { "\($0.strategy?.rawValue ?? "no vote") (weight \($0.weight)): \($0.reason.text)" }.joined(separator: "; "))
            case .reporter:
                let data = try ExternalReporter(plugin: plugin).render(ReportInput(profile: profile, analysis: analysis, experiment: SampleInputs.experiment()))
                let text = String(data: data, encoding: .utf8).map { " — first line: " + ($0.split(separator: "\n").first.map(String.init) ?? "") } ?? ""
                detail = "rendered \(data.count) bytes of .\(manifest.fileExtension ?? "?")\(text)"
            case .strategy:
                let s = ExternalStrategy(plugin: plugin)
                var parts: [String] = []
                for name in s.strategies {
                    let specs = try s.launchSpecs(for: SampleInputs.workload, strategy: name, workers: 2)
                    parts.append("\(name)×2 → \(specs.count) launch spec\(specs.count == 1 ? "" : "s") (\(specs[0].command.joined(separator: " "))"
                                 + (specs[0].environment.isEmpty ? "" : "; " + specs[0].environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) + ")")
                }
                detail = parts.joined(separator: "; ")
            }
            steps.append(Step(name: "sample \(manifest.kind.rawValue) request", ok: true, detail: detail))
        } catch {
            steps.append(Step(name: "sample \(manifest.kind.rawValue) request", ok: false, detail: "\(error)"))
        }
        return steps
    }
}

extension ExternalPlugin {
    /// The handshake alone: hello, the plugin's hello, then end of input (a plugin must exit
    /// cleanly when its input ends).
    func handshake() throws -> Wire.Hello {
        let name = manifest.name
        if manifest.protocolVersion != pluginProtocolVersion {
            throw PluginError(plugin: name, reason: "manifest says protocol_version \(manifest.protocolVersion); this forkcast speaks \(pluginProtocolVersion)")
        }
        let process = try PluginProcess(name: name, argv: manifest.command, directory: folder, timeoutSeconds: timeoutSeconds, log: log)
        defer { process.kill() }
        process.send(try Wire.line(Wire.Hello(type: "hello", protocolVersion: pluginProtocolVersion, forkcastVersion: ForkcastVersion.current,
                                              kind: manifest.kind.rawValue, name: name, version: nil)))
        let line = try process.receiveLine(expecting: "handshake")
        _ = try Self.envelope(line, plugin: name, expecting: "hello", what: "handshake")
        let hello = try Self.decode(Wire.Hello.self, line, plugin: name, what: "handshake")
        guard hello.protocolVersion == pluginProtocolVersion else {
            throw PluginError(plugin: name, reason: "speaks protocol version \(hello.protocolVersion); this forkcast speaks \(pluginProtocolVersion)")
        }
        process.finish()
        return hello
    }
}

/// The sample inputs `plugins check` sends: a small recording of a NumPy program whose
/// OpenBLAS threads outnumber the cores (every analyzer has something to look at), its
/// analysis, and a small experiment.
public enum SampleInputs {
    public static let workload = Workload(command: ["python3", "work.py"], environment: [:], workingDirectory: nil)

    public static func profile(ticks: Int = 200) -> Profile {
        let rate = 100.0
        let period = UInt64(1e9 / rate)
        let python = "/usr/bin/python3.11"
        let blas = "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0"
        let libc = "/lib/x86_64-linux-gnu/libc.so.6"
        var b = ProfileBuilder(recording: RecordingInfo(
            toolVersion: ForkcastVersion.current, mode: .launch, command: ["python3", "train.py"], rootPid: 4100,
            startedAt: "2026-01-01T00:00:00.000Z", durationNs: UInt64(ticks) * period, rateHz: rate,
            hostname: "sample", cores: 2, kernel: "sample", endReason: "target-exited", rootExit: ExitInfo(code: 0)))
        b.add(ForkcastModel.ProcessInfo(pid: 4100, ppid: 1, command: ["python3", "train.py"], executable: python, startNs: 0,
                                        endNs: UInt64(ticks) * period, exit: ExitInfo(code: 0), runtime: "CPython 3.11", origin: "launched"))
        let dgemm = b.intern(frames: [
            Frame(kind: .native, name: "dgemm_kernel_HASWELL", module: blas, offset: 0x1200),
            Frame(kind: .native, name: "cblas_dgemm", module: blas, offset: 0x300),
            Frame(kind: .python, name: "matmul", file: "/app/train.py", line: 14),
            Frame(kind: .python, name: "<module>", file: "/app/train.py", line: 30),
        ], truncated: false)
        let server = b.intern(frames: [
            Frame(kind: .native, name: "dgemm_kernel_HASWELL", module: blas, offset: 0x1280),
            Frame(kind: .native, name: "blas_thread_server", module: blas, offset: 0x900),
            Frame(kind: .native, name: "start_thread", module: libc, offset: 0x8a0),
        ], truncated: false)
        let yielding = b.intern(frames: [
            Frame(kind: .native, name: "sched_yield", module: libc, offset: 0x40),
            Frame(kind: .native, name: "blas_thread_server", module: blas, offset: 0x980),
            Frame(kind: .native, name: "start_thread", module: libc, offset: 0x8a0),
        ], truncated: false)
        b.add(ThreadInfo(pid: 4100, tid: 4100, name: "python3", startNs: 0, endNs: UInt64(ticks) * period))
        for k in 1...3 {
            b.add(ThreadInfo(pid: 4100, tid: 4100 + Int32(k), name: "python3", startNs: 0, endNs: UInt64(ticks) * period))
        }
        var samples: [Sample] = []
        for t in 0..<ticks {
            let time = UInt64(t) * period
            samples.append(Sample(timeNs: time, pid: 4100, tid: 4100, stack: dgemm, state: t % 4 == 0 ? .runnable : .onCPU, holdsGIL: false))
            for k in 1...3 {
                let busy = (t + k) % 3 != 0
                samples.append(Sample(timeNs: time, pid: 4100, tid: 4100 + Int32(k), stack: busy ? server : yielding,
                                      state: busy ? ((t + k) % 2 == 0 ? .onCPU : .runnable) : .runnable))
            }
        }
        b.update { p in
            p.samples = samples
            p.stats.ticks = ticks
            p.stats.samplesExpected = samples.count
            p.stats.samplesTaken = samples.count
            p.stats.stacksComplete = samples.count
        }
        return b.profile
    }

    public static func experiment() -> ExperimentResult {
        let rows: [(String, Int, Double)] = [("serial", 1, 10.0), ("threads", 2, 9.6), ("processes", 2, 5.4)]
        return ExperimentResult(
            runs: rows.map { ExperimentRun(strategy: $0.0, workers: $0.1, repetition: 0, wallSeconds: $0.2, cpuSeconds: $0.2 * Double($0.1),
                                           peakRSSBytes: 50 << 20, exit: ExitInfo(code: 0), failed: false) },
            summary: rows.map { ConfigurationSummary(strategy: $0.0, workers: $0.1, medianWallSeconds: $0.2, ciLowSeconds: $0.2 * 0.98,
                                                      ciHighSeconds: $0.2 * 1.02, speedup: 10.0 / $0.2, cpuSeconds: $0.2 * Double($0.1),
                                                      peakRSSBytes: 50 << 20) })
    }
}
