import Foundation
import ForkcastModel

/// Aggregates a report's input into the compact data document the HTML page draws from:
/// a call tree of every stack with sample counts per (node, thread, state), per-thread
/// state runs (downsampled to at most `maxLaneBins` per thread), and the analysis and
/// experiment as their JSON contracts. Raw samples are never embedded, so the page stays
/// small and fast for million-sample profiles. The document's shape is in
/// docs/formats/html-report.md.
struct HTMLReportData {
    var maxLaneBins = 1500

    /// The data document as HTML-safe JSON bytes (see `htmlSafeJSON`).
    func build(_ input: ReportInput) throws -> [UInt8] {
        var out = JSONOut(capacity: 1 << 20)
        out.raw("{")
        out.key("generator"); out.string("forkcast")
        out.raw(","); out.key("states"); out.raw("[")
        for (i, s) in ThreadState.byCode.enumerated() { if i > 0 { out.raw(",") }; out.string(s.rawValue) }
        out.raw("]")
        if let profile = input.profile {
            writeProfile(profile, into: &out)
        } else {
            out.raw(",\"meta\":null")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        out.raw(","); out.key("analysis")
        if let a = input.analysis { out.raw(try encoder.encode(a)) } else { out.raw("null") }
        out.raw(","); out.key("experiment")
        if let e = input.experiment { out.raw(try encoder.encode(e)) } else { out.raw("null") }
        out.raw("}")
        return htmlSafeJSON(out.bytes)
    }

    private func writeProfile(_ p: Profile, into out: inout JSONOut) {
        let index = ProfileIndex(p)
        let r = p.recording
        out.raw(","); out.key("meta"); out.raw("{")
        out.key("program"); out.string(Formatting.programName(r.command))
        out.raw(","); out.key("command"); out.string(r.command.joined(separator: " "))
        out.raw(","); out.key("startedAt"); out.string(r.startedAt)
        out.raw(","); out.key("durationNs"); out.int(r.durationNs)
        out.raw(","); out.key("rateHz"); out.double(r.rateHz)
        out.raw(","); out.key("periodNs"); out.int(index.periodNs)
        out.raw(","); out.key("cores"); out.int(r.cores)
        out.raw(","); out.key("hostname"); out.string(r.hostname)
        out.raw(","); out.key("kernel"); out.string(r.kernel)
        out.raw(","); out.key("toolVersion"); out.string(r.toolVersion)
        out.raw(","); out.key("mode"); out.string(r.mode.rawValue)
        out.raw(","); out.key("endReason"); out.string(r.endReason)
        out.raw(","); out.key("rootExit"); out.optionalString(r.rootExit?.description)
        out.raw(","); out.key("samples"); out.int(p.samples.count)
        out.raw(","); out.key("notes"); out.raw("[")
        for (i, n) in r.notes.enumerated() { if i > 0 { out.raw(",") }; out.string(n) }
        out.raw("],"); out.key("stats"); out.raw("{")
        let s = p.stats
        let stats: [(StaticString, Int)] = [
            ("ticks", s.ticks), ("lateTicks", s.lateTicks), ("samplesExpected", s.samplesExpected),
            ("samplesTaken", s.samplesTaken), ("stacksComplete", s.stacksComplete), ("unwindErrors", s.unwindErrors),
            ("inconsistentStacks", s.inconsistentStacks), ("missedStops", s.missedStops),
            ("pythonReadErrors", s.pythonReadErrors), ("sampleCostMedianNs", Int(s.sampleCostMedianNs)),
            ("sampleCostP99Ns", Int(s.sampleCostP99Ns)), ("tracerCPUNs", Int(s.tracerCPUNs)),
        ]
        for (i, kv) in stats.enumerated() { if i > 0 { out.raw(",") }; out.key(kv.0); out.int(kv.1) }
        out.raw("}}")

        // Processes.
        out.raw(","); out.key("processes"); out.raw("[")
        for (i, proc) in p.processes.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{"); out.key("pid"); out.int(proc.pid)
            out.raw(","); out.key("ppid"); out.int(proc.ppid)
            out.raw(","); out.key("command"); out.string(proc.command.joined(separator: " "))
            out.raw(","); out.key("executable"); out.string(proc.executable)
            out.raw(","); out.key("runtime"); out.optionalString(proc.runtime)
            out.raw(","); out.key("origin"); out.string(proc.origin)
            out.raw(","); out.key("startNs"); out.int(proc.startNs)
            out.raw(","); out.key("endNs"); if let e = proc.endNs { out.int(e) } else { out.raw("null") }
            out.raw(","); out.key("exit"); out.optionalString(proc.exit?.description)
            out.raw("}")
        }
        out.raw("]")

        // Threads with their per-state sample counts.
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 8), count: p.threads.count)
        for smp in p.samples { if let t = index.threadIndex[smp.tid] { counts[t][Int(smp.state.code)] += 1 } }
        out.raw(","); out.key("threads"); out.raw("[")
        for (i, t) in p.threads.enumerated() {
            if i > 0 { out.raw(",") }
            out.raw("{"); out.key("pid"); out.int(t.pid)
            out.raw(","); out.key("tid"); out.int(t.tid)
            out.raw(","); out.key("name"); out.string(t.name)
            out.raw(","); out.key("counts"); out.intArray(counts[i])
            out.raw("}")
        }
        out.raw("]")

        writeFlame(p, index: index, into: &out)
        writeTimeline(p, index: index, into: &out)
    }

    /// The call tree: node 0 is the root; node k has `parent[k]` (< k) and `frame[k]`
    /// (an index into `frames`); `cells` holds (node, thread, state, count) quadruples
    /// for the samples whose stack ends at that node.
    private func writeFlame(_ p: Profile, index: ProfileIndex, into out: inout JSONOut) {
        let noStack = Int32(p.frames.count)
        var parent: [Int32] = [-1]
        var frame: [Int32] = [-1]
        var child: [Int64: Int32] = [:]
        var stackNode = [Int32](repeating: -1, count: p.stacks.count)
        func nodeFor(stack: Int) -> Int32 {
            if stackNode[stack] >= 0 { return stackNode[stack] }
            var node: Int32 = 0
            let frames = p.stacks[stack].frames
            let path: [Int32] = frames.isEmpty ? [noStack] : frames.reversed()
            for f in path {
                let key = Int64(node) << 32 | Int64(f)
                if let c = child[key] { node = c; continue }
                let c = Int32(parent.count)
                parent.append(node)
                frame.append(f)
                child[key] = c
                node = c
            }
            stackNode[stack] = node
            return node
        }
        var cells: [Int64: Int] = [:]
        var order: [Int64] = []
        for s in p.samples {
            guard let t = index.threadIndex[s.tid] else { continue }
            let node = nodeFor(stack: Int(s.stack))
            let key = Int64(node) << 28 | Int64(t) << 4 | Int64(s.state.code)
            if let c = cells[key] { cells[key] = c + 1 } else { cells[key] = 1; order.append(key) }
        }
        // Frames: name, kind (0 native, 1 python), where (file:line or module).
        out.raw(","); out.key("frames"); out.raw("{\"name\":[")
        for (i, f) in p.frames.enumerated() { if i > 0 { out.raw(",") }; out.string(f.name) }
        if !p.frames.isEmpty { out.raw(",") }
        out.raw("\"[no stack]\"],\"kind\":[")
        for (i, f) in p.frames.enumerated() { if i > 0 { out.raw(",") }; out.int(f.kind == .python ? 1 : 0) }
        if !p.frames.isEmpty { out.raw(",") }
        out.raw("2],\"where\":[")
        for (i, f) in p.frames.enumerated() {
            if i > 0 { out.raw(",") }
            if f.kind == .python {
                out.string((f.file ?? "?") + (f.line.map { ":\($0)" } ?? ""))
            } else {
                let module = f.module ?? ""
                out.string(f.symbolized ? module : module + (f.offset.map { "+0x" + String($0, radix: 16) } ?? ""))
            }
        }
        if !p.frames.isEmpty { out.raw(",") }
        out.raw("\"\"]}")
        out.raw(","); out.key("flame"); out.raw("{")
        out.key("parent"); out.intArray(parent)
        out.raw(","); out.key("frame"); out.intArray(frame)
        out.raw(","); out.key("cells"); out.raw("[")
        for (i, key) in order.enumerated() {
            if i > 0 { out.raw(",") }
            out.int(key >> 28); out.raw(",")
            out.int((key >> 4) & 0xFF_FFFF); out.raw(",")
            out.int(key & 0xF); out.raw(",")
            out.int(cells[key]!)
        }
        out.raw("]}")
    }

    /// A run of one thread's timeline: [start, end) ns in one state, GIL held 0/1/2 unknown.
    struct TimelineRun { var start: UInt64; var end: UInt64; var state: UInt8; var gil: UInt8 }

    /// One lane per thread: runs of (start µs, end µs, state code, holds GIL 0/1/2 unknown),
    /// merged from consecutive samples; lanes with more runs than `maxLaneBins` are
    /// resampled into equal time bins, each showing the state it spent most time in.
    private func writeTimeline(_ p: Profile, index: ProfileIndex, into out: inout JSONOut) {
        let (lanes, endNs) = Self.timelineLanes(p, index: index)
        let bins = max(16, maxLaneBins)
        let binNs = max(1, (endNs + UInt64(bins) - 1) / UInt64(bins))
        out.raw(","); out.key("timeline"); out.raw("{")
        out.key("endUs"); out.int(endNs / 1000)
        out.raw(","); out.key("lanes"); out.raw("[")
        for (t, runsIn) in lanes.enumerated() {
            let resampled = runsIn.count > bins
            let runs = resampled ? Self.resample(runsIn, bins: bins, binNs: binNs) : runsIn
            if t > 0 { out.raw(",") }
            out.raw("{"); out.key("thread"); out.int(t)
            out.raw(","); out.key("resampled"); out.bool(resampled)
            out.raw(","); out.key("runs"); out.raw("[")
            for (i, r) in runs.enumerated() {
                if i > 0 { out.raw(",") }
                out.int(r.start / 1000); out.raw(",")
                out.int(r.end / 1000); out.raw(",")
                out.int(r.state); out.raw(",")
                out.int(r.gil)
            }
            out.raw("]}")
        }
        out.raw("]}")
    }

    /// Each thread's samples merged into runs (consecutive samples in the same state and
    /// GIL holding, at most 1.5 periods apart), and where the timeline ends.
    static func timelineLanes(_ p: Profile, index: ProfileIndex) -> (lanes: [[TimelineRun]], endNs: UInt64) {
        let period = index.periodNs
        let gap = period + period / 2
        var lanes = [[TimelineRun]](repeating: [], count: p.threads.count)
        var endNs = p.recording.durationNs
        for s in p.samples {
            guard let t = index.threadIndex[s.tid] else { continue }
            let gil: UInt8 = s.holdsGIL.map { $0 ? 1 : 0 } ?? 2
            let code = s.state.code
            endNs = max(endNs, s.timeNs + period)
            if var last = lanes[t].last {
                let lastAt = last.end - period
                let contiguous = s.timeNs >= lastAt && s.timeNs - lastAt <= gap
                if contiguous && last.state == code && last.gil == gil {
                    last.end = s.timeNs + period
                    lanes[t][lanes[t].count - 1] = last
                    continue
                }
                if contiguous && s.timeNs > lastAt { lanes[t][lanes[t].count - 1].end = s.timeNs }
            }
            lanes[t].append(TimelineRun(start: s.timeNs, end: s.timeNs + period, state: code, gil: gil))
        }
        return (lanes, endNs)
    }

    /// A lane with too many runs, resampled into `bins` equal bins of `binNs`: each shows
    /// the state it spent most time in (GIL held when it was held over half the bin), and
    /// neighbouring bins alike merge.
    static func resample(_ runsIn: [TimelineRun], bins: Int, binNs: UInt64) -> [TimelineRun] {
        var time = [UInt64](repeating: 0, count: bins * 8)
        var gilTime = [UInt64](repeating: 0, count: bins)
        for r in runsIn {
            var a = r.start
            while a < r.end {
                let b = Int(a / binNs)
                if b >= bins { break }
                let binEnd = UInt64(b + 1) * binNs
                let piece = min(r.end, binEnd) - a
                time[b * 8 + Int(r.state)] += piece
                if r.gil == 1 { gilTime[b] += piece }
                a += piece
            }
        }
        var runs: [TimelineRun] = []
        for b in 0..<bins {
            var best = -1
            var bestTime: UInt64 = 0
            var total: UInt64 = 0
            for st in 0..<8 {
                let v = time[b * 8 + st]
                total += v
                if v > bestTime { bestTime = v; best = st }
            }
            if best < 0 { continue }
            let gil: UInt8 = gilTime[b] * 2 > total ? 1 : 0
            let start = UInt64(b) * binNs, end = UInt64(b + 1) * binNs
            if var last = runs.last, last.end == start, last.state == UInt8(best), last.gil == gil {
                last.end = end
                runs[runs.count - 1] = last
            } else {
                runs.append(TimelineRun(start: start, end: end, state: UInt8(best), gil: gil))
            }
        }
        return runs
    }
}
