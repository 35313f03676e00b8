/// One Python function call read from a thread's interpreter frame chain.
public struct PythonFrame: Sendable, Hashable, CustomStringConvertible {
    /// The qualified name (`co_qualname`: `Worker.run`, `main.<locals>.spin`).
    public var name: String
    /// The source file (`co_filename`), as the interpreter knows it.
    public var file: String
    /// The line being executed (from the location table); the function's first line
    /// when the frame has not started yet.
    public var line: Int
    /// True for the outermost frame of one `_PyEval_EvalFrameDefault` call: the frame
    /// was entered from C (the thread's root, a callback, a C function calling back
    /// into Python). Marks the boundaries used to merge with native stacks.
    public var isEntry: Bool

    public init(name: String, file: String, line: Int, isEntry: Bool) {
        self.name = name
        self.file = file
        self.line = line
        self.isEntry = isEntry
    }

    public var description: String { "\(name) (\(file):\(line))\(isEntry ? " [entry]" : "")" }
}

/// Why Python state could not be read. The recorder counts each as a Python-read
/// error, keeps the native stack, and goes on.
public enum PythonReadError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Reading the target's memory failed (the process exited, a pointer was stale).
    case memory(RemoteMemoryError)
    /// What was read makes no sense (a cycle, an absurd length, a wrong type): memory
    /// changed under the reader, or the layout table does not match the interpreter.
    case inconsistent(String)

    public var description: String {
        switch self {
        case .memory(let error): "Python state unreadable: \(error)"
        case .inconsistent(let what): "Python state inconsistent: \(what)"
        }
    }
}
