import Foundation
import ForkcastModel
import ForkcastSystem

extension TraceSession {
    /// Turns the raw recording into a `Profile`: symbolizes every distinct program
    /// counter once per address space, refines states from the symbolized stacks, and
    /// fills the process and thread tables.
    func finish(durationNs: UInt64, reason: EndReason) -> Profile {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var info = RecordingInfo(
            toolVersion: ForkcastVersion.current, mode: mode, command: rootCommand, rootPid: rootPid,
            startedAt: formatter.string(from: startWall), durationNs: durationNs, rateHz: options.rateHz,
            hostname: ProcFS.hostname, cores: ProcFS.onlineCores, kernel: ProcFS.kernelRelease,
            endReason: reason.rawValue, rootExit: rootExit, notes: notes)
        if info.command.isEmpty { info.command = processes[rootPid]?.command ?? [] }
        info.machine = machine.load(cores: info.cores)
        var builder = ProfileBuilder(recording: info)

        addProcessesAndThreads(to: &builder)
        let (stackMap, stackFrames, waitMap) = symbolizeStacks(into: &builder)
        for t in allThreads where t.runOf != nil { closeRun(of: t) }
        let raw = store.allSamples()
        store.samples = RawStore.SampleLog()
        var samples: [Sample] = []
        samples.reserveCapacity(raw.count)
        for s in raw {
            let wait = s.wait >= 0 ? store.waits[Int(s.wait)] : nil
            let native = stackFrames[Int(s.stack)]
            let state = PythonStateRules.refine(StackStateRules.refine(s.state, wait: wait, frames: native), nativeStack: native)
            samples.append(Sample(timeNs: s.timeNs, pid: s.pid, tid: s.tid, stack: stackMap[Int(s.stack)], state: state,
                                  wait: s.wait >= 0 ? waitMap[Int(s.wait)] : -1, holdsGIL: s.holdsGIL, thread: s.thread))
        }

        let stats = finalStats(durationNs: durationNs)
        builder.update { p in
            p.samples = samples
            p.stats = stats
        }
        return builder.profile
    }

    /// The process and thread tables, in `allProcesses` and `allThreads` order.
    private func addProcessesAndThreads(to builder: inout ProfileBuilder) {
        for p in allProcesses {
            // A forked server child retitles itself after the fork (`postgres: walwriter`,
            // `nginx: worker process`): re-read the command line of those still alive, so
            // roles can tell them apart.
            var command = p.command
            if p.endNs == nil, p.origin != "launched", p.origin != "attached" {
                let now = ProcFS.commandLine(pid: p.pid)
                if !now.isEmpty { command = now }
            }
            builder.add(ProcessInfo(pid: p.pid, ppid: p.ppid, command: command, executable: p.executable,
                                    startNs: p.startNs, endNs: p.endNs, exit: p.exit, runtime: p.runtime, origin: p.origin,
                                    python: python.runtimeInfo[p.pid],
                                    root: addressSpaces[Int(p.addressSpace)].root?.description))
        }
        let pythonNames = self.pythonNames
        // In `allThreads` order: a thread's row is its index there (`TracedThread.row`).
        for t in allThreads {
            var info = ThreadInfo(pid: t.pid, tid: t.tid, name: pythonNames[t.tid] ?? t.name, startNs: t.startNs, endNs: t.endNs,
                                  interpreter: python.interpreterOfTid[t.tid])
            if let a = t.account.totals(quietUntil: t.quietAtNs) { (info.cpuNs, info.runqueueNs, info.accountedNs) = (a.cpuNs, a.runqueueNs, a.accountedNs) }
            builder.add(info)
        }
    }

    /// Symbolizes every distinct program counter once per address space and interns the
    /// stacks (Python frames merged in) and waits: the recorder's stack and wait numbers
    /// mapped to the profile's rows, and each stack's native frames.
    private func symbolizeStacks(into builder: inout ProfileBuilder) -> (stackMap: [Int32], stackFrames: [[Frame]], waitMap: [Int32]) {
        struct PCKey: Hashable { var pc: UInt64; var isReturn: Bool }
        var frameCache: [Int32: [PCKey: Frame]] = [:]
        var stackMap = [Int32](repeating: 0, count: store.stacks.count)
        var stackFrames = [[Frame]](repeating: [], count: store.stacks.count)
        for (i, key) in store.stacks.enumerated() {
            let space = addressSpaces[Int(key.addressSpace)]
            let files = space.root?.files
            var frames: [Frame] = []
            frames.reserveCapacity(key.pcs.count)
            for (depth, pc) in key.pcs.enumerated() {
                let isReturn = depth > 0
                let cacheKey = PCKey(pc: pc, isReturn: isReturn)
                if let f = frameCache[key.addressSpace]?[cacheKey] {
                    frames.append(f)
                } else {
                    var f = symbolizer.frame(for: pc, in: space.map, isReturnAddress: isReturn, files: files)
                    // Which mapping the frame came from (file, build-id, load bias): its row.
                    if let module = f.module,
                       var mapping = symbolizer.mappingInfo(for: pc, in: space.map, isReturnAddress: isReturn, files: files) {
                        mapping.file = module
                        f.mapping = builder.intern(mapping)
                    }
                    frameCache[key.addressSpace, default: [:]][cacheKey] = f
                    frames.append(f)
                }
            }
            stackFrames[i] = frames
            let merged = key.python.isEmpty ? frames : PythonStackMerger.merge(native: frames, python: key.python)
            stackMap[i] = builder.intern(frames: merged, truncated: key.truncated)
        }
        var waitMap = [Int32](repeating: -1, count: store.waits.count)
        for (i, w) in store.waits.enumerated() { waitMap[i] = builder.intern(w) }

        return (stackMap, stackFrames, waitMap)
    }

    /// The recorder's stats with the samples asked for (every thread, every period of its
    /// life within the recording) and the sample cost's median and 99th percentile.
    private func finalStats(durationNs: UInt64) -> RecordingStats {
        var stats = self.stats
        // Asked: every thread, every period of its life within the recording.
        var expected = 0.0
        for t in allThreads {
            let end = min(t.endNs ?? durationNs, durationNs)
            if end > t.startNs { expected += Double(end - t.startNs) / Double(periodNs) }
        }
        stats.samplesExpected = Int(expected.rounded())
        let costs = sampleCosts.sorted()
        if !costs.isEmpty {
            stats.sampleCostMedianNs = UInt64(costs[costs.count / 2])
            stats.sampleCostP99Ns = UInt64(costs[min(costs.count - 1, costs.count * 99 / 100)])
        }
        return stats
    }
}
