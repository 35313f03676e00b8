import Foundation
import ForkcastModel

/// Folded stacks, the text format of Brendan Gregg's FlameGraph and inferno: one line per
/// distinct stack, frames outermost first joined by `;`, a space and the sample count.
/// Python frames read `name (file:line)`. Names are escaped so a line always splits the
/// same way: `\` → `\\`, `;` → `\x3b`, newline → `\n`, other control characters → `\xNN`.
/// Documented in docs/formats/folded.md.
public struct FoldedReporter: ReporterPlugin {
    public let descriptor = PluginDescriptor(
        name: "folded", kind: .reporter, version: "1",
        summary: "folded stacks (a;b;c 42) for FlameGraph and inferno")
    public let fileExtension = "folded"
    /// Only samples in this state; nil for all.
    public var state: ThreadState?
    /// Start each stack with a `process;thread` pair of pseudo-frames.
    public var threadRoots: Bool

    public init(state: ThreadState? = nil, threadRoots: Bool = false) {
        self.state = state
        self.threadRoots = threadRoots
    }

    public func render(_ input: ReportInput) throws -> Data {
        guard let profile = input.profile else { throw ReportError.needsProfile(format: "folded") }
        return Data(Self.fold(profile, state: state, threadRoots: threadRoots).utf8)
    }

    /// One folded document per state that has samples (`--per-state`).
    public func renderPerState(_ input: ReportInput) throws -> [(state: ThreadState, data: Data)] {
        guard let profile = input.profile else { throw ReportError.needsProfile(format: "folded") }
        let present = Set(profile.samples.map(\.state))
        return ThreadState.allCases.filter { present.contains($0) }.map {
            ($0, Data(Self.fold(profile, state: $0, threadRoots: threadRoots).utf8))
        }
    }

    static func fold(_ profile: Profile, state: ThreadState?, threadRoots: Bool) -> String {
        // Count samples per (stack, thread); thread only matters with threadRoots.
        var counts: [Int64: Int] = [:]
        for s in profile.samples where state == nil || s.state == state {
            let key = Int64(s.stack) << 32 | (threadRoots ? Int64(UInt32(bitPattern: s.tid)) : 0)
            counts[key, default: 0] += 1
        }
        var labels = [String?](repeating: nil, count: profile.frames.count)
        func label(_ f: Int32) -> String {
            if let l = labels[Int(f)] { return l }
            let l = escape(profile.frames[Int(f)].label)
            labels[Int(f)] = l
            return l
        }
        var names: [Int32: String] = [:]
        for t in profile.threads {
            let process = profile.processes.first { $0.pid == t.pid }
            let pname = process.map { ($0.executable as NSString).lastPathComponent } ?? "pid"
            names[t.tid] = escape("\(pname) [\(t.pid)]") + ";" + escape("\(t.name) [\(t.tid)]")
        }
        var lines: [String] = []
        lines.reserveCapacity(counts.count)
        for (key, count) in counts {
            let stack = profile.stacks[Int(key >> 32)]
            var parts: [String] = []
            if threadRoots {
                let tid = Int32(bitPattern: UInt32(truncatingIfNeeded: key))
                parts.append(names[tid] ?? "thread [\(tid)]")
            }
            if stack.frames.isEmpty { parts.append("[no stack]") }
            for f in stack.frames.reversed() { parts.append(label(f)) }
            lines.append(parts.joined(separator: ";") + " \(count)")
        }
        lines.sort()
        return lines.isEmpty ? "" : lines.joined(separator: "\n") + "\n"
    }

    /// Escapes a frame name so it cannot break the line format.
    static func escape(_ name: String) -> String {
        var needs = false
        for b in name.utf8 where b == UInt8(ascii: ";") || b == UInt8(ascii: "\\") || b < 0x20 || b == 0x7f {
            needs = true
            break
        }
        if !needs { return name.isEmpty ? "[unnamed]" : name }
        var out = ""
        for scalar in name.unicodeScalars {
            switch scalar {
            case ";": out += "\\x3b"
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
