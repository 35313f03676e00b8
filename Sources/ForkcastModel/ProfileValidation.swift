import Foundation

// MARK: - Validation

extension Profile {
    /// The largest time or duration a profile may hold, in nanoseconds (`Int64.max`, about
    /// 292 years), so that readers can convert any time to `Int` without trapping.
    public static let maxTimeNs = UInt64(Int64.max)
    /// The highest sampling rate a profile may claim, in Hz.
    public static let maxRateHz = 1_000_000.0

    /// Checks every cross-reference (stack → frame, frame → mapping, sample →
    /// stack/wait/thread) and every
    /// value with a range (times, rate, ids), so that a profile that passes can be indexed
    /// without bounds checks and its numbers converted without overflow. Called before
    /// writing and after reading.
    public func validate() throws {
        guard Profile.readableFormatVersions.contains(formatVersion) else {
            throw ProfileError.unsupportedVersion(found: formatVersion, supported: Profile.currentFormatVersion)
        }
        try validateRecording()
        let knownThreads = try validateProcessesAndThreads()
        try validateFramesAndStacks()
        try validateSamples(knownThreads: knownThreads)
    }

    /// The rate, duration, cores, the machine's figures and the stats are in range.
    func validateRecording() throws {
        let r = recording
        guard r.rateHz.isFinite, r.rateHz > 0, r.rateHz <= Profile.maxRateHz else {
            throw ProfileError.invalid("sampling rate \(r.rateHz) Hz is not between 0 and \(Int(Profile.maxRateHz)) Hz")
        }
        guard r.durationNs <= Profile.maxTimeNs else {
            throw ProfileError.invalid("recording duration \(r.durationNs) ns is absurd")
        }
        guard r.cores >= 1 else { throw ProfileError.invalid("recording says the machine has \(r.cores) cores") }
        if let m = r.machine {
            // Times only: /proc/stat's counters are the kernel's and may be a little off
            // (idle can lag on some kernels), so no cross-check against cores × window.
            guard m.cores >= 1, m.windowNs <= Profile.maxTimeNs, m.busyNs <= Profile.maxTimeNs, m.idleNs <= Profile.maxTimeNs,
                  m.iowaitNs <= Profile.maxTimeNs, m.stealNs <= m.busyNs,
                  m.samples.allSatisfy({ $0.timeNs <= Profile.maxTimeNs && $0.intervalNs <= Profile.maxTimeNs
                                            && $0.busyNs <= Profile.maxTimeNs && $0.stealNs <= $0.busyNs && ($0.running ?? 0) >= 0 })
            else { throw ProfileError.invalid("recording.machine has absurd figures (cores ≥ 1, times ≤ 2^63−1 ns, steal within busy)") }
        }
        let statsFields: [(String, Int)] = [
            ("ticks", stats.ticks), ("lateTicks", stats.lateTicks), ("samplesExpected", stats.samplesExpected),
            ("samplesTaken", stats.samplesTaken), ("stacksComplete", stats.stacksComplete),
            ("unwindErrors", stats.unwindErrors), ("inconsistentStacks", stats.inconsistentStacks),
            ("missedStops", stats.missedStops), ("pythonReadErrors", stats.pythonReadErrors),
            ("reusedSamples", stats.reusedSamples),
            ("reusedOnEvents", stats.reusedOnEvents),
        ]
        for (name, value) in statsFields where value < 0 {
            throw ProfileError.invalid("stats.\(name) is negative (\(value))")
        }
    }

    /// Pids and tids are positive, times in range and in order, CPU accounting complete;
    /// returns the (pid, tid) keys of the thread table.
    func validateProcessesAndThreads() throws -> Set<UInt64> {
        for (i, p) in processes.enumerated() {
            guard p.pid > 0 else { throw ProfileError.invalid("process \(i) has pid \(p.pid)") }
            guard p.startNs <= Profile.maxTimeNs, (p.endNs ?? 0) <= Profile.maxTimeNs else {
                throw ProfileError.invalid("process \(p.pid) has an absurd start or end time")
            }
            if let end = p.endNs, end < p.startNs {
                throw ProfileError.invalid("process \(p.pid) ends (\(end) ns) before it starts (\(p.startNs) ns)")
            }
        }
        var knownThreads = Set<UInt64>()
        knownThreads.reserveCapacity(threads.count)
        for (i, t) in threads.enumerated() {
            guard t.pid > 0, t.tid > 0 else { throw ProfileError.invalid("thread \(i) has pid \(t.pid), tid \(t.tid)") }
            guard t.startNs <= Profile.maxTimeNs, (t.endNs ?? 0) <= Profile.maxTimeNs else {
                throw ProfileError.invalid("thread \(t.tid) has an absurd start or end time")
            }
            if let end = t.endNs, end < t.startNs {
                throw ProfileError.invalid("thread \(t.tid) ends (\(end) ns) before it starts (\(t.startNs) ns)")
            }
            if t.cpuNs != nil || t.runqueueNs != nil || t.accountedNs != nil {
                guard let c = t.cpuNs, let q = t.runqueueNs, let a = t.accountedNs, a > 0,
                      c <= Profile.maxTimeNs, q <= Profile.maxTimeNs, a <= Profile.maxTimeNs else {
                    throw ProfileError.invalid("thread \(t.tid) has incomplete or absurd CPU accounting (cpuNs, runqueueNs, accountedNs go together, accountedNs > 0)")
                }
            }
            knownThreads.insert(ThreadRows.key(t.pid, t.tid))
        }
        return knownThreads
    }

    /// Frames refer to existing mappings of their own module, stacks to existing frames.
    func validateFramesAndStacks() throws {
        let mappingCount = mappings.count
        for (i, f) in frames.enumerated() {
            if let line = f.line, line < 0 { throw ProfileError.invalid("frame \(i) has line number \(line)") }
            if let m = f.mapping {
                guard m >= 0, Int(m) < mappingCount else {
                    throw ProfileError.invalid("frame \(i) refers to mapping \(m), but there are \(mappingCount) mappings")
                }
                if let module = f.module, module != mappings[Int(m)].file {
                    throw ProfileError.invalid("frame \(i) is in module \(module.prefix(80)) but refers to mapping \(m) of \(mappings[Int(m)].file.prefix(80))")
                }
            }
        }
        let frameCount = frames.count
        for (i, stack) in stacks.enumerated() {
            for f in stack.frames where f < 0 || Int(f) >= frameCount {
                throw ProfileError.invalid("stack \(i) refers to frame \(f), but there are \(frameCount) frames")
            }
        }
    }

    /// Each sample refers to an existing stack, wait and thread (its row, or a (pid, tid)
    /// of the thread table), at a time in range.
    func validateSamples(knownThreads: Set<UInt64>) throws {
        let stackCount = stacks.count
        let waitCount = waits.count
        let threadCount = threads.count
        var lastKey: UInt64 = 0
        for i in samples.indices {
            let s = samples[i]
            if s.stack < 0 || Int(s.stack) >= stackCount {
                throw ProfileError.invalid("sample \(i) refers to stack \(s.stack), but there are \(stackCount) stacks")
            }
            if s.wait < -1 || Int(s.wait) >= waitCount {
                throw ProfileError.invalid("sample \(i) refers to wait \(s.wait), but there are \(waitCount) waits")
            }
            if s.timeNs > Profile.maxTimeNs {
                throw ProfileError.invalid("sample \(i) has an absurd time (\(s.timeNs) ns)")
            }
            if s.thread >= 0 {
                guard Int(s.thread) < threadCount else {
                    throw ProfileError.invalid("sample \(i) refers to thread row \(s.thread), but there are \(threadCount) threads")
                }
                let row = threads[Int(s.thread)]
                guard row.pid == s.pid, row.tid == s.tid else {
                    throw ProfileError.invalid("sample \(i) is of thread \(s.tid) in process \(s.pid), but its thread row \(s.thread) is thread \(row.tid) in process \(row.pid)")
                }
                continue
            }
            guard s.thread == -1 else {
                throw ProfileError.invalid("sample \(i) refers to thread row \(s.thread)")
            }
            let key = ThreadRows.key(s.pid, s.tid)
            if key != lastKey {
                guard knownThreads.contains(key) else {
                    throw ProfileError.invalid("sample \(i) is of thread \(s.tid) in process \(s.pid), which is not in the thread table")
                }
                lastKey = key
            }
        }
    }
}
