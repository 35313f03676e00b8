// Measures writing and reading a large profile: file sizes, and the median time of
// `Profile.encoded(gzip:)` and `Profile.decode(_:)` over several runs, next to
// Foundation's JSONEncoder/JSONDecoder on the same format (the baseline the fast path
// replaces). Usage: ProfileIOBench [--samples N] [--repeat R] [--no-baseline]
import ForkcastModel
import Foundation
#if canImport(Glibc)
import Glibc
#endif

var sampleCount = 1_000_000
var repeats = 5
var baseline = true
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    switch a {
    case "--samples": sampleCount = Int(args.popFirst() ?? "") ?? sampleCount
    case "--repeat": repeats = max(1, Int(args.popFirst() ?? "") ?? repeats)
    case "--no-baseline": baseline = false
    default:
        FileHandle.standardError.write(Data("usage: ProfileIOBench [--samples N] [--repeat R] [--no-baseline]\n".utf8))
        exit(2)
    }
}

func clock(_ id: clockid_t) -> Double {
    var ts = timespec()
    clock_gettime(id, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// One measurement: the median wall time, and the CPU time of that run. The code
/// measured is single-threaded, so on a shared, busy machine the CPU time is the
/// steadier figure.
struct Timing {
    var wall: Double
    var cpu: Double
}

/// Runs `body` `runs` times; returns the last result and the median run's times.
@MainActor func measure<T>(_ runs: Int = repeats, _ body: () throws -> T) rethrows -> (T, Timing) {
    var times: [Timing] = []
    var result: T?
    for _ in 0..<runs {
        let w0 = clock(CLOCK_MONOTONIC), c0 = clock(CLOCK_PROCESS_CPUTIME_ID)
        result = try body()
        times.append(Timing(wall: clock(CLOCK_MONOTONIC) - w0, cpu: clock(CLOCK_PROCESS_CPUTIME_ID) - c0))
    }
    times.sort { $0.wall < $1.wall }
    return (result!, times[times.count / 2])
}

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
func ms(_ t: Timing) -> String { String(format: "%5.0f ms (cpu %4.0f ms)", t.wall * 1000, t.cpu * 1000) }
func maxRSS() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_maxrss * 1024
}

/// A profile shaped like a real recording of a busy program: 4 processes × 4 threads,
/// 3,000 frames, 5,000 stacks 8–40 deep, 200 waits, all states; pseudo-random but
/// deterministic. Compresses far less than the repetitive synthetic scripts.
func realisticProfile(samples: Int) -> Profile {
    var rng = UInt64(0x5eed)
    func next(_ bound: Int) -> Int {
        rng = rng &* 6364136223846793005 &+ 1442695040888963407
        return Int((rng >> 33) % UInt64(bound))
    }
    var b = ProfileBuilder(recording: RecordingInfo(
        toolVersion: "bench", mode: .launch, command: ["python3", "work.py"], rootPid: 1000,
        startedAt: "2026-01-01T00:00:00.000Z", durationNs: UInt64(samples / 16) * 10_000_000, rateHz: 100,
        hostname: "bench", cores: 2, kernel: "bench", endReason: "target-exited"))
    var threads: [(Int32, Int32)] = []
    for p in 0..<4 {
        let pid = Int32(1000 + p * 100)
        b.add(ProcessInfo(pid: pid, ppid: p == 0 ? 1 : 1000, command: ["python3", "work.py"], executable: "/usr/bin/python3.11",
                          startNs: 0, origin: p == 0 ? "launched" : "fork"))
        for t in 0..<4 {
            b.add(ThreadInfo(pid: pid, tid: pid + Int32(t), name: "worker-\(t)", startNs: 0))
            threads.append((pid, pid + Int32(t)))
        }
    }
    let frames = (0..<3000).map { i in
        i % 3 == 0 ? Frame(kind: .python, name: "func_\(i)", file: "/app/module_\(i % 40).py", line: 10 + i % 500)
                   : Frame(kind: .native, name: "native_function_\(i)", module: "/usr/lib/x86_64-linux-gnu/lib\(i % 25).so",
                           offset: UInt64(0x1000 + i * 0x40))
    }
    let stacks = (0..<5000).map { _ in (0..<(8 + next(33))).map { _ in frames[next(frames.count)] } }
    let stackIDs = stacks.map { b.intern(frames: $0, truncated: next(50) == 0) }
    var waitIDs: [Int32] = []
    for i in 0..<200 {
        let wait: WaitInfo
        if i % 2 == 0 {
            wait = WaitInfo(syscall: "futex", futex: UInt64(0x7f00_0000_0000 + i * 64))
        } else {
            wait = WaitInfo(syscall: "recvfrom", fd: Int32(3 + i % 20), fdKind: .socket, target: "10.0.0.\(i % 250):443")
        }
        waitIDs.append(b.intern(wait))
    }
    var out: [Sample] = []
    out.reserveCapacity(samples)
    for i in 0..<samples {
        let (pid, tid) = threads[i % threads.count]
        let state = ThreadState.allCases[next(8)]
        out.append(Sample(timeNs: UInt64(i / threads.count) * 10_000_000, pid: pid, tid: tid,
                          stack: stackIDs[next(stackIDs.count)], state: state,
                          wait: state.isWaiting ? waitIDs[next(waitIDs.count)] : -1,
                          holdsGIL: next(3) == 0 ? nil : next(2) == 0))
    }
    b.update { $0.samples = out }
    return b.profile
}

@MainActor func run(_ title: String, _ profile: Profile) throws {
    let n = profile.samples.count
    print("\(title): \(n) samples, \(profile.threads.count) threads, \(profile.frames.count) frames, \(profile.stacks.count) stacks, median of \(repeats) runs")
    print("  in memory (samples array): \(mib(n * MemoryLayout<Sample>.stride))")
    let (json, encodeJSON) = try measure { try profile.encoded(gzip: false) }
    let (gz, encodeGzip) = try measure { try profile.encoded(gzip: true) }
    print("  file size: JSON \(mib(json.count)), gzip \(mib(gz.count)) (\(String(format: "%.1f", Double(json.count) / Double(gz.count)))× smaller)")
    print("  encode JSON  \(ms(encodeJSON))")
    print("  encode gzip  \(ms(encodeGzip))")
    let (fromJSON, decodeJSON) = try measure { try Profile.decode(json) }
    let (fromGzip, decodeGzip) = try measure { try Profile.decode(gz) }
    print("  decode JSON  \(ms(decodeJSON))")
    print("  decode gzip  \(ms(decodeGzip))")
    var tablesOnly = profile
    tablesOnly.samples = []
    let tablesJSON = try tablesOnly.encoded(gzip: false)
    let (_, encodeTables) = try measure { try tablesOnly.encoded(gzip: false) }
    let (_, decodeTables) = try measure { try Profile.decode(tablesJSON) }
    print("  of which the tables (no samples, \(mib(tablesJSON.count))): encode \(ms(encodeTables)), decode \(ms(decodeTables))")
    let (_, validate) = try measure { try profile.validate() }
    print("  validate()   \(ms(validate))  (part of both encode and decode)")
    guard fromJSON == profile, fromGzip == profile else {
        print("ERROR: the decoded profile differs from the original")
        exit(1)
    }
    if baseline {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let (codableJSON, codableEncode) = try measure(1) { try encoder.encode(profile) }
        let (_, codableDecode) = try measure(1) { try JSONDecoder().decode(Profile.self, from: codableJSON) }
        print("  baseline, Foundation Codable (1 run): encode \(ms(codableEncode)), decode \(ms(codableDecode))")
        print(String(format: "  speed-up over Codable (cpu time): encode %.1f×, decode %.1f×", codableEncode.cpu / encodeJSON.cpu, codableDecode.cpu / decodeJSON.cpu))
    }
}

try run("mutex fixture (SyntheticProfiles.mutexContention)", SyntheticProfiles.mutexContention(ticks: (sampleCount + 3) / 4))
try run("realistic mix (many stacks, all states, random)", realisticProfile(samples: sampleCount))
print("  peak RSS of the whole run: \(mib(maxRSS()))")
