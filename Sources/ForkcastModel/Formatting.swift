import Foundation

/// Small pure text helpers that several modules print with, kept once so the same value
/// reads the same everywhere (a program's name in a file name and in a report title, a
/// duration in an error line, a stack on one line, a UTC time in a file name).
public enum Formatting {
    /// Words skipped when naming a program: interpreters and launchers, whose script or
    /// target is the telling name (`python3 work.py` → `work`). Any `python…` counts
    /// (python3.13, python3.13t).
    static let launchers: Set<String> = ["env", "node", "ruby", "perl", "bash", "sh"]
    /// Interpreter options whose value is not the program (`python3 -X dev work.py`).
    static let optionsWithValue: Set<String> = ["-X", "-W"]
    static let scriptExtensions = [".py", ".sh", ".rb", ".js", ".pl"]

    /// A short program name for file names and titles: the base name of the command's
    /// first word that is not an interpreter, an option or a `KEY=VALUE` setting, without a
    /// script extension; only letters, digits, `-`, `_` and `.` (others become `_`), at
    /// most 60 characters, `program` when nothing is left.
    public static func programName(_ command: [String]) -> String {
        var pick = command.first ?? "program"
        var skipNext = false
        for word in command {
            let base = (word as NSString).lastPathComponent
            if skipNext { skipNext = false; continue }
            if optionsWithValue.contains(word) { skipNext = true; continue }
            if word.hasPrefix("-") || word.contains("=") || launchers.contains(base) || base.hasPrefix("python") { continue }
            pick = word
            break
        }
        var base = (pick as NSString).lastPathComponent
        for ext in scriptExtensions where base.hasSuffix(ext) && base.count > ext.count { base.removeLast(ext.count) }
        let safe = base.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == "." ? Character($0) : "_" }
        let name = String(safe).trimmingCharacters(in: CharacterSet(charactersIn: "."))
        return name.isEmpty ? "program" : String(name.prefix(60))
    }

    /// A duration with its unit: `250 ms`, `1.5 s`, `60 s`, `123 s` (two decimals at most,
    /// none from 100 s; milliseconds below one second).
    public static func seconds(_ s: Double) -> String {
        guard s.isFinite else { return "\(s) s" }
        if s < 1 { return trimmed(s * 1000, decimals: s < 0.01 ? 2 : 0) + " ms" }
        return trimmed(s, decimals: s >= 100 ? 0 : 2) + " s"
    }

    /// A stack on one line, outermost first and nearest the leaf last, at most `limit`
    /// frames (`… → ` when some were left out). Mixed Python/native stacks show their
    /// innermost Python frames and the native leaf: the interpreter's own frames between
    /// them say little to a reader.
    public static func stackLine(_ stack: [String], limit: Int = 6) -> String {
        let python = stack.indices.filter { stack[$0].contains(".py:") || stack[$0].contains(".py)") }
        if let lastPython = python.last, lastPython < stack.count - 1, limit > 1 {
            let shown = python.suffix(limit - 1).map { stack[$0] } + [stack[stack.count - 1]]
            return (stack.count > shown.count ? "… → " : "") + shown.joined(separator: " → ")
        }
        return (stack.count > limit ? "… → " : "") + stack.suffix(limit).joined(separator: " → ")
    }

    /// A UTC time for file and folder names: `20261130-014502`.
    public static func fileTimestamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(format: "%04d%02d%02d-%02d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
    }

    static func trimmed(_ x: Double, decimals: Int) -> String {
        var text = String(format: "%.\(decimals)f", x)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}
