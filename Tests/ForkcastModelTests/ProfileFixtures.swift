import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// Profiles and helpers shared by the profile-format tests.
enum Fixtures {
    /// The repository root (three levels above this file).
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A small profile in which every optional field is set and strings need escaping.
    static func everyField() -> Profile {
        var b = ProfileBuilder(recording: RecordingInfo(
            toolVersion: "0.1.0", mode: .attach, command: ["python3", "-c", "print(\"hi\\n\")", "naïve ünïcödé ✓", "tab\there"],
            rootPid: 4242, startedAt: "2026-11-25T03:00:00.123Z", durationNs: 2_000_000_000, rateHz: 99.5,
            hostname: "box", cores: 8, kernel: "6.1.0-18-amd64", endReason: "interrupted",
            rootExit: ExitInfo(signal: 11, signalName: "SIGSEGV", coreDumped: true),
            notes: ["Python frames unavailable for CPython 3.9", "quote \" backslash \\ slash / control \u{01}"]))
        b.add(ProcessInfo(pid: 4242, ppid: 1, command: ["python3", "work.py"], executable: "/usr/bin/python3.11",
                          startNs: 0, endNs: 1_900_000_000, exit: ExitInfo(code: 3), runtime: "CPython 3.11.2", origin: "attached"))
        b.add(ProcessInfo(pid: 4300, ppid: 4242, command: [], executable: "/usr/bin/python3.11", startNs: 5_000, origin: "fork"))
        b.add(ThreadInfo(pid: 4242, tid: 4242, name: "MainThread", startNs: 0, endNs: 1_900_000_000,
                         cpuNs: 1_500_000_000, runqueueNs: 120_000_000, accountedNs: 1_880_000_000))
        b.add(ThreadInfo(pid: 4300, tid: 4300, name: "ForkPoolWorker-1", startNs: 5_000))
        let native = Frame(kind: .native, name: "module.so+0x1f00", module: "/usr/lib/module.so", offset: UInt64.max, symbolized: false)
        let py = Frame(kind: .python, name: "work", file: "/app/work.py", line: 12)
        let s0 = b.intern(frames: [native, py], truncated: true)
        let s1 = b.intern(Stack(frames: [], truncated: true))
        let w0 = b.intern(WaitInfo(syscall: "recvfrom", fd: 7, fdKind: .socket, target: "127.0.0.1:8080", futex: nil))
        let w1 = b.intern(WaitInfo(syscall: "futex", futex: 0x7fff_ffff_ffff_f000))
        b.add(Sample(timeNs: 0, pid: 4242, tid: 4242, stack: s0, state: .onCPU, holdsGIL: true))
        b.add(Sample(timeNs: 10_050_251, pid: 4242, tid: 4242, stack: s0, state: .ioWait, wait: w0, holdsGIL: false))
        b.add(Sample(timeNs: 10_050_251, pid: 4300, tid: 4300, stack: s1, state: .lockWait, wait: w1))
        b.add(Sample(timeNs: UInt64(Int64.max), pid: 4300, tid: 4300, stack: s1, state: .other))
        for state in ThreadState.allCases {
            b.add(Sample(timeNs: 20_000_000, pid: 4300, tid: 4300, stack: s0, state: state))
        }
        b.update { p in
            p.stats.ticks = 3
            p.stats.lateTicks = 1
            p.stats.samplesExpected = 13
            p.stats.samplesTaken = p.samples.count
            p.stats.stacksComplete = 0
            p.stats.unwindErrors = 2
            p.stats.inconsistentStacks = 1
            p.stats.missedStops = 1
            p.stats.sampleCostMedianNs = 41_000
            p.stats.sampleCostP99Ns = 190_000
            p.stats.pythonReadErrors = 0
            p.stats.tracerCPUNs = 12_345_678
        }
        return b.profile
    }

    /// A typical profile: four threads contending on a mutex.
    static func small() -> Profile { SyntheticProfiles.mutexContention(ticks: 25) }

    /// The profile's JSON as a mutable tree.
    static func tree(_ profile: Profile) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: profile.encoded(gzip: false)) as! [String: Any]
    }

    /// JSON bytes of `small()` after `change` edits its tree.
    static func edited(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var t = try tree(small())
        change(&t)
        return try JSONSerialization.data(withJSONObject: t)
    }

    /// The tree of `profile` as format version 1 wrote it: `pid` and `tid` columns instead
    /// of `thread`, each frame's `module` path instead of a `mapping` row, no `mappings`.
    static func v1Tree(_ profile: Profile) throws -> [String: Any] {
        var t = try tree(profile)
        let mappings = t["mappings"] as! [[String: Any]]
        let threads = t["threads"] as! [[String: Any]]
        t["mappings"] = nil
        t["format_version"] = 1
        t["frames"] = (t["frames"] as! [[String: Any]]).map { f in
            var f = f
            if let m = f["mapping"] as? Int {
                f["module"] = mappings[m]["file"]
                f["mapping"] = nil
            }
            return f
        }
        var samples = t["samples"] as! [String: Any]
        let rows = samples["thread"] as! [Int]
        samples["pid"] = rows.map { threads[$0]["pid"]! }
        samples["tid"] = rows.map { threads[$0]["tid"]! }
        samples["thread"] = nil
        t["samples"] = samples
        return t
    }

    /// JSON bytes of `small()` written as format version 1, after `change` edits its tree.
    static func editedV1(_ change: (inout [String: Any]) -> Void) throws -> Data {
        var t = try v1Tree(small())
        change(&t)
        return try JSONSerialization.data(withJSONObject: t)
    }

    /// Replaces one sample column of a tree.
    static func setColumn(_ t: inout [String: Any], _ name: String, _ values: [Any]?) {
        var samples = t["samples"] as! [String: Any]
        samples[name] = values
        t["samples"] = samples
    }

    static func column(_ t: [String: Any], _ name: String) -> [Any] {
        (t["samples"] as! [String: Any])[name] as! [Any]
    }

    /// Edits a nested object of a tree, e.g. `["recording"]`.
    static func setField(_ t: inout [String: Any], _ object: String, _ key: String, _ value: Any?) {
        var o = t[object] as! [String: Any]
        o[key] = value
        t[object] = o
    }
}

/// Asserts that decoding `data` fails with a `ProfileError` whose one-line description
/// contains `fragment`, and that `matches` accepts the case.
func assertDecodeFails(_ data: Data, _ fragment: String, _ matches: (ProfileError) -> Bool = { _ in true },
                       file: StaticString = #filePath, line: UInt = #line) {
    do {
        let p = try Profile.decode(data)
        XCTFail("decoded a bad profile (\(p.samples.count) samples); expected an error containing \"\(fragment)\"", file: file, line: line)
    } catch let error as ProfileError {
        let text = error.description
        XCTAssertTrue(text.contains(fragment), "error \"\(text)\" does not contain \"\(fragment)\"", file: file, line: line)
        XCTAssertFalse(text.contains("\n"), "error is not one line: \(text)", file: file, line: line)
        XCTAssertTrue(matches(error), "unexpected case: \(error)", file: file, line: line)
    } catch {
        XCTFail("threw \(type(of: error)) instead of ProfileError: \(error)", file: file, line: line)
    }
}

extension ProfileError {
    var isNotAProfile: Bool { if case .notAProfile = self { true } else { false } }
    var isCorrupt: Bool { if case .corrupt = self { true } else { false } }
    var isInvalid: Bool { if case .invalid = self { true } else { false } }
    var isVersion: Bool { if case .unsupportedVersion = self { true } else { false } }
}

/// A small deterministic random number generator (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
