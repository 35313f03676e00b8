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

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Runs `body` `repeats` times; returns the last result and the median time in seconds.
@MainActor func measure<T>(_ runs: Int = repeats, _ body: () throws -> T) rethrows -> (T, Double) {
    var times: [Double] = []
    var result: T?
    for _ in 0..<runs {
        let t0 = now()
        result = try body()
        times.append(now() - t0)
    }
    times.sort()
    return (result!, times[times.count / 2])
}

func mib(_ bytes: Int) -> String { String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
func ms(_ s: Double) -> String { String(format: "%7.0f ms", s * 1000) }
func maxRSS() -> Int {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return u.ru_maxrss * 1024
}

let ticks = (sampleCount + 3) / 4
let profile = SyntheticProfiles.mutexContention(ticks: ticks)
let n = profile.samples.count
print("profile-io benchmark: \(n) samples (4 threads × \(ticks) ticks), \(profile.stacks.count) stacks, median of \(repeats) runs")
print("  in memory (samples array): \(mib(n * MemoryLayout<Sample>.stride))")

let rssBefore = maxRSS()
let (json, encodeJSON) = try measure { try profile.encoded(gzip: false) }
let (gz, encodeGzip) = try measure { try profile.encoded(gzip: true) }
print("  file size: JSON \(mib(json.count)), gzip \(mib(gz.count)) (\(String(format: "%.1f", Double(json.count) / Double(gz.count)))× smaller)")
print("  encode JSON  \(ms(encodeJSON))")
print("  encode gzip  \(ms(encodeGzip))")

let (fromJSON, decodeJSON) = try measure { try Profile.decode(json) }
let (fromGzip, decodeGzip) = try measure { try Profile.decode(gz) }
print("  decode JSON  \(ms(decodeJSON))")
print("  decode gzip  \(ms(decodeGzip))")
let (_, validate) = try measure { try profile.validate() }
print("  validate()   \(ms(validate))  (included in both encode and decode)")
print("  peak RSS grew by \(mib(max(0, maxRSS() - rssBefore))) during encode+decode")
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
    print(String(format: "  speed-up over Codable: encode %.1f×, decode %.1f×", codableEncode / encodeJSON, codableDecode / decodeJSON))
}
