import Foundation
import ForkcastModel
import ForkcastSystem

/// What one sample of a Python thread adds to its native stack.
struct PythonSample {
    /// Leaf first.
    var frames: [PythonFrame]
    /// Whether the thread held its interpreter's GIL; nil when the process runs without one.
    var holdsGIL: Bool?
    /// The thread had asked for the GIL (3.15+ `gil_requested`).
    var requestsGIL: Bool
    /// Where the GIL of the thread's interpreter lies: a futex wait in there is a GIL wait.
    var gilRange: Range<UInt64>?

    /// Whether a blocked thread with this wait is waiting for the GIL.
    func waitsForGIL(_ wait: WaitInfo?) -> Bool {
        if requestsGIL { return true }
        guard let futex = wait?.futex, let gilRange else { return false }
        return gilRange.contains(futex)
    }
}

/// The recorder's side of Python-aware recording: finds CPython in each traced process,
/// reads the interpreter's threads and GIL holder once per tick, and each thread's
/// Python stack while the thread is stopped (or blocked). Reading failures never lose a
/// sample: the sample keeps its native stack and a Python-read error is counted.
public struct PythonSampling {
    struct ProcessState {
        var inspector: CPythonInspector?
        var attempts = 0
        var lastAttemptNs: UInt64 = 0
        var done = false
        /// The wait before the next attempt: 50 ms while the process may still be loading
        /// libpython; once its loader has run and nothing mapped names Python (an embedder
        /// may still dlopen it later), 500 ms, doubling at each attempt up to 8 s. Each
        /// attempt re-reads the maps: a shell script forking hundreds of short processes paid
        /// for it on every tick, and a program of 2,000 threads (4,000 stack mappings) paid
        /// 15 ms of the tracer's time per attempt.
        var retryAfterNs: UInt64 = 50_000_000
        /// beginTick succeeded this tick.
        var readable = false
    }

    var processes: [Int32: ProcessState] = [:]
    /// What was last read of each CPython process's runtime (kept after it exits).
    var runtimeInfo: [Int32: PythonRuntimeInfo] = [:]
    /// tid → the interpreter whose thread state it last had.
    var interpreterOfTid: [Int32: Int64] = [:]
    /// Version notes already written (once per unsupported version).
    var notedVersions = Set<String>()
    let enabled: Bool

    init(enabled: Bool) { self.enabled = enabled }

    mutating func forget(pid: Int32) { processes[pid] = nil }

    /// The run-time address of an exported symbol of a mapped file: its ELF value plus the
    /// file's load bias in this address space — what `CPythonInspector.detect` needs.
    /// `files`: for a process in another root (`ProcessRoot.files`), where each mapped path
    /// is opened — never the same path here, which names another file or none.
    public static func symbolAddress(_ symbolizer: Symbolizer, _ map: AddressSpaceMap,
                                     files: [String: String]? = nil) -> (String, String) -> UInt64? {
        { path, name in
            guard let file = files == nil ? path : files?[path],
                  let elf = symbolizer.elfFile(atPath: file), let value = elf.symbol(named: name),
                  let mapping = map.mappings(ofFile: path).first, let bias = elf.loadBias(for: mapping) else { return nil }
            return value &+ bias
        }
    }

    /// Detects CPython in a live process from its current mappings (for tools and tests
    /// that inspect a process without recording it).
    public static func detect(pid: Int32, symbolizer: Symbolizer = Symbolizer()) throws -> CPythonDetection {
        let mappings = try ProcMaps.read(pid: pid)
        let maps = mappings.map { PythonMapping(start: $0.start, end: $0.end, offset: $0.offset, path: $0.path) }
        let root = ProcessRoot.foreign(pid: pid)
        root?.openAll(mappings)
        return CPythonInspector.detect(pid: pid, maps: maps, executable: ProcFS.executable(pid: pid),
                                       symbolAddress: symbolAddress(symbolizer, AddressSpaceMap(mappings), files: root?.files))
    }

    func inspector(pid: Int32) -> CPythonInspector? {
        guard let state = processes[pid], state.readable else { return nil }
        return state.inspector
    }
}

extension TraceSession {
    /// Detects CPython in processes not yet known, then starts each interpreter's tick.
    /// Detection is retried for a while after start or exec: libpython and the
    /// interpreter appear only once the dynamic loader has run.
    func beginPythonTick(now: UInt64) {
        guard python.enabled else { return }
        for pid in processOrder {
            guard let process = processes[pid], process.endNs == nil, !process.awaitingExec else { continue }
            var state = python.processes[pid] ?? PythonSampling.ProcessState()
            if state.inspector == nil, !state.done, now - state.lastAttemptNs > state.retryAfterNs {
                state.attempts += 1
                state.lastAttemptNs = now
                detectPython(process, &state)
                if state.attempts >= 40 { state.done = true }
            }
            state.readable = false
            if let inspector = state.inspector {
                do {
                    try inspector.beginTick()
                    state.readable = true
                    let info = inspector.runtimeInfo
                    if python.runtimeInfo[pid] != info { python.runtimeInfo[pid] = merged(python.runtimeInfo[pid], info) }
                } catch {
                    stats.pythonReadErrors += 1
                }
            }
            python.processes[pid] = state
        }
        if now - lastPythonNamesNs > 500_000_000 {
            lastPythonNamesNs = now
            refreshPythonNames()
        }
    }

    /// Interpreters seen at any tick, not only the last one (subinterpreters come and go).
    private func merged(_ old: PythonRuntimeInfo?, _ new: PythonRuntimeInfo) -> PythonRuntimeInfo {
        guard let old else { return new }
        var result = new
        if new.gilEnabled == nil { result.gilEnabled = old.gilEnabled }
        // Once enabled during the recording, it counts as enabled.
        if old.gilEnabled == true { result.gilEnabled = true }
        var byId: [Int64: PythonInterpreterInfo] = [:]
        for i in (old.interpreters ?? []) + (new.interpreters ?? []) {
            if byId[i.id]?.ownGIL == nil || i.ownGIL != nil { byId[i.id] = i }
        }
        result.interpreters = byId.isEmpty ? nil : byId.values.sorted { $0.id < $1.id }
        return result
    }

    func detectPython(_ process: TracedProcess, _ state: inout PythonSampling.ProcessState) {
        // Maps read in the last 10 ms (the process was just added or warmed) are current.
        if Clock.now() &- addressSpaces[Int(process.addressSpace)].lastRefreshNs > 10_000_000 {
            addressSpaces[Int(process.addressSpace)].refresh()
        }
        let space = addressSpaces[Int(process.addressSpace)]
        let maps = space.mappings.map { PythonMapping(start: $0.start, end: $0.end, offset: $0.offset, path: $0.path) }
        let detection = CPythonInspector.detect(pid: process.pid, maps: maps, executable: process.executable,
                                                symbolAddress: PythonSampling.symbolAddress(symbolizer, space.map,
                                                                                            files: space.root?.files))
        switch detection {
        case .notCPython:
            // Each file once: a program's thousands of anonymous and stack mappings have no path.
            var paths = Set<String>()
            for m in space.mappings where !m.path.isEmpty { paths.insert(m.path) }
            let loaderRan = paths.contains { $0.contains("/libc.so") || $0.contains("/libc-") }
            if loaderRan && !paths.contains(where: { $0.range(of: "python", options: .caseInsensitive) != nil }) {
                state.retryAfterNs = state.retryAfterNs < 500_000_000 ? 500_000_000 : min(state.retryAfterNs * 2, 8_000_000_000)
            }
        case .unsupported(let version, let note):
            state.done = true
            process.runtime = "CPython \(version)"
            if python.notedVersions.insert(version).inserted { notes.append(note) }
        case .supported(let inspector):
            state.inspector = inspector
            state.done = true
            process.runtime = inspector.runtimeDescription
            python.runtimeInfo[process.pid] = inspector.runtimeInfo
        }
    }

    /// The Python stack of a thread (leaf first) and whether it holds the GIL; nil when
    /// the process is not (readable) CPython or the thread is not a Python thread.
    func pythonSample(_ thread: TracedThread) -> PythonSample? {
        guard let inspector = python.inspector(pid: thread.pid) else { return nil }
        do {
            guard let frames = try inspector.stack(forTid: thread.tid) else { return nil }
            // A thread is labelled with the subinterpreter it ran code of, if any (a pool
            // worker is also a thread of the main interpreter between tasks).
            if let id = inspector.interpreterId(tid: thread.tid), !frames.isEmpty,
               id != 0 || python.interpreterOfTid[thread.tid] == nil {
                python.interpreterOfTid[thread.tid] = id
            }
            return PythonSample(frames: frames, holdsGIL: inspector.holdsGILNow(tid: thread.tid),
                                requestsGIL: inspector.requestsGIL(tid: thread.tid) ?? false,
                                gilRange: inspector.gilAddressRange(tid: thread.tid))
        } catch {
            stats.pythonReadErrors += 1
            return nil
        }
    }

    /// Collects Python thread names (threading.Thread.name) of every live interpreter.
    func refreshPythonNames() {
        for (pid, state) in python.processes {
            guard let inspector = state.inspector, processes[pid]?.endNs == nil else { continue }
            for (tid, name) in inspector.threadNames() { pythonNames[tid] = name }
        }
    }
}
