import ForkcastModel
import ForkcastTestSupport
import Foundation
import XCTest

/// Not a test: writes synthetic profiles to disk for the benchmark (benchmarks/analyze/run.sh)
/// and for looking at `forkcast analyze` output by hand. Skipped unless asked for:
///
///     FORKCAST_WRITE_PROFILES=/tmp/profiles swift test --filter SyntheticProfileWriter
///     FORKCAST_BENCH_PROFILE=/tmp/big.profile.json.gz FORKCAST_BENCH_SAMPLES=1000000 swift test --filter SyntheticProfileWriter
final class SyntheticProfileWriter: XCTestCase {
    func testWriteSyntheticProfiles() throws {
        guard let dir = ProcessInfo.processInfo.environment["FORKCAST_WRITE_PROFILES"] else {
            throw XCTSkip("set FORKCAST_WRITE_PROFILES=DIR to write the synthetic profiles")
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let profiles: [(String, Profile)] = [
            ("mutex", SyntheticProfiles.mutexContention()), ("python-threads", SyntheticProfiles.pythonCPUThreads()),
            ("serial-python", SyntheticProfiles.serialPythonCPU()), ("gil-release", SyntheticProfiles.gilReleasingThreads()),
            ("socket-io", SyntheticProfiles.socketIO()), ("hot-lock", SyntheticProfiles.pythonHotLock()),
            ("heavy-ipc", SyntheticProfiles.heavyIPC()), ("tiny-tasks", SyntheticProfiles.tinyTasks()),
            ("mixed", SyntheticProfiles.mixedCPUAndIO()),
        ]
        for (name, p) in profiles {
            try p.encoded(gzip: true).write(to: URL(fileURLWithPath: dir).appendingPathComponent("\(name).profile.json.gz"))
        }
    }

    func testWriteBenchmarkProfile() throws {
        let env = ProcessInfo.processInfo.environment
        guard let path = env["FORKCAST_BENCH_PROFILE"] else {
            throw XCTSkip("set FORKCAST_BENCH_PROFILE=FILE to write the benchmark profile")
        }
        let samples = Int(env["FORKCAST_BENCH_SAMPLES"] ?? "") ?? 1_000_000
        let p = SyntheticProfiles.large(samples: samples)
        try p.encoded(gzip: path.hasSuffix(".gz")).write(to: URL(fileURLWithPath: path))
    }
}
