import ArgumentParser
import Foundation

/// Terminal output helpers. Everything that comes from the target (thread names,
/// function names, command lines) goes through `sanitize` so a hostile program cannot
/// emit escape sequences to the user's terminal.
public enum Terminal {
    /// Replaces control characters (ESC, CR, newlines, C1 controls, DEL) with visible
    /// escapes like `\x1b`.
    public static func sanitize(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || v == 0x7f || (0x80...0x9f).contains(v) {
                out += "\\x" + String(format: "%02x", v)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    // Every line forkcast writes to stderr goes through one of these, in one format:
    // `forkcast: error: …` (then exit 2), `forkcast: warning: …`, `forkcast: …` for notes.
    // Messages often quote user input or target data (paths, names), so each is sanitized
    // into one line with no escape sequences.

    /// Prints `forkcast: error: MESSAGE` on one line.
    public static func error(_ message: String) {
        write("forkcast: error: " + sanitize(message) + "\n")
    }

    /// Prints `forkcast: warning: MESSAGE` on one line.
    public static func warning(_ message: String) {
        write("forkcast: warning: " + sanitize(message) + "\n")
    }

    /// Prints `forkcast: MESSAGE` on one line.
    public static func note(_ message: String) {
        write("forkcast: " + sanitize(message) + "\n")
    }

    /// Prints a block of lines (a summary), each line sanitized.
    public static func block(_ text: String) {
        write(text.split(separator: "\n", omittingEmptySubsequences: false).map { sanitize(String($0)) }.joined(separator: "\n"))
    }

    /// A progress line: rewritten in place on a terminal (`\r`, erase line), a note
    /// otherwise. `progressDone` ends the in-place line.
    public static func progress(_ line: String) {
        if stderrIsTTY { write("\r\u{1B}[K" + String(sanitize(line).prefix(160))) } else { note(line) }
    }

    public static func progressDone() {
        if stderrIsTTY { write("\n") }
    }

    /// The log every external plugin's stderr goes to: `[plugin NAME] line`, sanitized.
    public static let pluginLog: @Sendable (String, String) -> Void = { plugin, line in
        write(sanitize("[plugin \(plugin)] \(line)") + "\n")
    }

    public static var stderrIsTTY: Bool { isatty(2) == 1 }
    public static var stdoutIsTTY: Bool { isatty(1) == 1 }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    /// Runs a command's body with the one error presentation: any error that is not an
    /// exit request prints `forkcast: error: DESCRIPTION` and exits 2.
    public static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch let clean as CleanExit {
            throw clean
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(2)
        }
    }
}
