import Foundation
import ForkcastModel

/// Why a report could not be rendered. `description` is one line for the user.
public enum ReportError: Error, CustomStringConvertible, Equatable {
    /// The format draws on a recorded profile and the input has none (e.g. an experiment result).
    case needsProfile(format: String)
    /// Nothing to report: no profile, no analysis, no experiment.
    case emptyInput

    public var description: String {
        switch self {
        case .needsProfile(let format):
            "the \(format) format needs a recorded profile, and the input has none (give a profile file)"
        case .emptyInput:
            "nothing to report: the input has no profile, analysis or experiment"
        }
    }
}

/// The fast JSON byte writer, shared with the profile writer (`ForkcastModel.JSONWriter`).
typealias JSONOut = JSONWriter

/// Makes JSON safe to embed in an HTML `<script>` element: `<`, `>` and `&` (which can
/// only occur inside JSON strings) and U+2028/U+2029 become `\uXXXX` escapes, so the
/// text cannot close the element or start a comment, whatever the target's names hold.
func htmlSafeJSON(_ json: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(json.count + json.count / 64)
    var i = 0
    let n = json.count
    while i < n {
        let b = json[i]
        switch b {
        case UInt8(ascii: "<"): out.append(contentsOf: Array("\\u003c".utf8))
        case UInt8(ascii: ">"): out.append(contentsOf: Array("\\u003e".utf8))
        case UInt8(ascii: "&"): out.append(contentsOf: Array("\\u0026".utf8))
        case 0xE2 where i + 2 < n && json[i + 1] == 0x80 && (json[i + 2] == 0xA8 || json[i + 2] == 0xA9):
            out.append(contentsOf: Array((json[i + 2] == 0xA8 ? "\\u2028" : "\\u2029").utf8))
            i += 2
        default: out.append(b)
        }
        i += 1
    }
    return out
}

/// Profile facts every reporter needs, computed once: the sampling period and where
/// each thread is in the thread table.
struct ProfileIndex {
    let profile: Profile
    /// Nanoseconds one sample stands for.
    let periodNs: UInt64
    /// Thread-table position by tid.
    let threadIndex: [Int32: Int]

    init(_ profile: Profile) {
        self.profile = profile
        let rate = profile.recording.rateHz
        periodNs = rate > 0 && rate.isFinite ? max(1, UInt64((1e9 / rate).rounded())) : 10_000_000
        var idx: [Int32: Int] = [:]
        for (i, t) in profile.threads.enumerated() where idx[t.tid] == nil { idx[t.tid] = i }
        threadIndex = idx
    }
}

extension ThreadState {
    /// States in code order (index = `code`).
    static let byCode: [ThreadState] = (0..<8).map { ThreadState(code: UInt8($0))! }
}
