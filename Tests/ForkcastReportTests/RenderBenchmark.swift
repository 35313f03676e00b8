import Foundation
import XCTest
import ForkcastModel
import ForkcastReport
import ForkcastTestSupport

/// Render-only timings for benchmarks/report/run.sh (not a timed test: it asserts nothing
/// about time and runs only when FORKCAST_BENCH is set, preferably with `-c release`).
final class RenderBenchmark: XCTestCase {
    func testRenderMillionSampleProfile() throws {
        guard let env = ProcessInfo.processInfo.environment["FORKCAST_BENCH"] else {
            throw XCTSkip("set FORKCAST_BENCH=SAMPLES (e.g. 1000000) to run the render benchmark")
        }
        let samples = Int(env) ?? 1_000_000
        var t0 = Date()
        let profile = SyntheticProfiles.large(samples: samples, threads: 64)
        print(String(format: "bench: built a %d-sample profile in %.2f s", profile.samples.count, Date().timeIntervalSince(t0)))
        let input = ReportInput(profile: profile, analysis: SyntheticProfiles.sampleAnalysis())
        for reporter in BuiltinReporters.all {
            t0 = Date()
            let data = try reporter.render(input)
            let seconds = Date().timeIntervalSince(t0)
            print(String(format: "bench: %-10@ render %6.2f s  %10d bytes", reporter.descriptor.name as NSString, seconds, data.count))
            if reporter.descriptor.name == "html", let dir = ProcessInfo.processInfo.environment["FORKCAST_BENCH_OUT"] {
                try data.write(to: URL(fileURLWithPath: dir).appendingPathComponent("bench.html"))
            }
        }
        t0 = Date()
        let encoded = try profile.encoded(gzip: true)
        print(String(format: "bench: profile encode %.2f s (%d bytes gz)", Date().timeIntervalSince(t0), encoded.count))
        t0 = Date()
        _ = try Profile.decode(encoded)
        print(String(format: "bench: profile decode %.2f s", Date().timeIntervalSince(t0)))
    }
}
