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

    /// Prints `forkcast: error: MESSAGE` on one line. The message often quotes user input
    /// (a program path, an output path), so it is sanitized: one line, no escape sequences.
    public static func error(_ message: String) {
        FileHandle.standardError.write(Data(("forkcast: error: " + sanitize(message) + "\n").utf8))
    }

    public static func note(_ message: String) {
        FileHandle.standardError.write(Data(("forkcast: " + sanitize(message) + "\n").utf8))
    }

    public static func stderr(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }

    public static var stderrIsTTY: Bool { isatty(2) == 1 }
}

/// An error already explained to the user; carries the exit status.
public struct ExitWithStatus: Error {
    public let status: Int32
}

