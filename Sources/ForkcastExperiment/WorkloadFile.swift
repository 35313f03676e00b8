import Foundation
import ForkcastModel
import Yams

/// A workload file (`forkcast experiment workload.yml`), documented in
/// docs/workload-file.md. Parsing reports the first problem as
/// "FILE:LINE: reason".
public struct WorkloadFile: Sendable, Equatable {
    /// The command (may hold {strategy}/{workers}); empty when every strategy has its own.
    public var command: [String] = []
    /// Strategy → its own command (with {workers}) and environment.
    public var perStrategy: [String: StrategyCommand] = [:]
    public var strategies: [ConcurrencyStrategy]?
    public var workers: [Int]?
    public var repeatCount: Int?
    public var warmup: Int?
    public var timeout: Double?
    public var environment: [String: String] = [:]
    /// Absolute; relative paths in the file are taken from the file's folder.
    public var workingDirectory: String?
    public var setup: [String] = []
    public var teardown: [String] = []
    public var check: OutputCheck?
    public var record: Bool?
    public var hybridThreads: Int?

    public struct StrategyCommand: Sendable, Equatable {
        public var command: [String]
        public var environment: [String: String]
    }

    public init() {}

    static let topKeys: Set<String> = ["command", "strategies", "workers", "repeat", "warmup", "timeout", "env", "environment", "cwd",
                                       "setup", "teardown", "check", "record", "hybrid_threads", "name", "description"]

    /// Reads and parses `path`; one-line errors with the line number.
    public static func load(_ path: String) throws -> WorkloadFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError("cannot read workload file \(path)")
        }
        let dir = (URL(fileURLWithPath: path).deletingLastPathComponent().path as NSString).standardizingPath
        return try parse(String(decoding: data, as: UTF8.self), name: path, directory: dir)
    }

    /// Parses YAML text. `directory` anchors a relative `cwd`.
    /// Deeper nesting than any workload needs; Yams' parser recurses per level and a
    /// file nested ~10,000 deep overflowed the stack (found by fuzzing).
    static let maxNesting = 64

    /// An upper bound of the file's nesting depth: open flow brackets, and per line the
    /// indentation plus the `- ` sequence markers that start it.
    static func nestingDepth(_ text: String) -> (depth: Int, line: Int) {
        var worst = (depth: 0, line: 0)
        var brackets = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var indent = 0
            var dashes = 0
            var atStart = true
            var previous: Character = " "
            for c in line {
                if atStart {
                    if c == " " { indent += 1; previous = c; continue }
                    if c == "-" { dashes += 1; previous = c; continue }
                    if previous == "-" && c != " " { dashes -= 1 }
                    atStart = false
                }
                if c == "#" { break }
                if c == "[" || c == "{" { brackets += 1 } else if c == "]" || c == "}" { brackets = max(0, brackets - 1) }
                previous = c
            }
            let depth = max(brackets, indent / 2 + dashes)
            if depth > worst.depth { worst = (depth, number + 1) }
        }
        return worst
    }

    public static func parse(_ text: String, name: String = "workload", directory: String? = nil) throws -> WorkloadFile {
        let nesting = nestingDepth(text)
        if nesting.depth > maxNesting {
            throw ExperimentError("\(name):\(nesting.line): nested more than \(maxNesting) levels deep")
        }
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else { throw ExperimentError("\(name): the workload file is empty") }
            root = node
        } catch let error as YamlError {
            throw ExperimentError("\(name):\(describe(error))")
        }
        func fail(_ node: Node?, _ reason: String) -> ExperimentError {
            if let mark = node?.mark { return ExperimentError("\(name):\(mark.line): \(reason)") }
            return ExperimentError("\(name): \(reason)")
        }
        guard let map = root.mapping else { throw fail(root, "expected a mapping of settings (command:, workers:, …) at the top") }

        var w = WorkloadFile()
        for (keyNode, value) in map {
            guard let key = keyNode.string else { throw fail(keyNode, "keys must be plain words") }
            guard topKeys.contains(key) else {
                throw fail(keyNode, "unknown setting \"\(key)\" (known: \(topKeys.sorted().joined(separator: ", ")))")
            }
            switch key {
            case "command":
                w.command = try commandLine(value, fail)
            case "strategies":
                try strategies(value, fail, into: &w)
            case "workers":
                w.workers = try workers(value, fail)
            case "repeat":
                guard let i = value.int, i >= 1 else { throw fail(value, "repeat: expected a whole number ≥ 1") }
                w.repeatCount = i
            case "warmup":
                guard let i = value.int, i >= 0 else { throw fail(value, "warmup: expected a whole number ≥ 0") }
                w.warmup = i
            case "hybrid_threads":
                guard let i = value.int, i >= 1 else { throw fail(value, "hybrid_threads: expected a whole number ≥ 1") }
                w.hybridThreads = i
            case "timeout":
                guard let f = value.float, f > 0 else { throw fail(value, "timeout: expected a positive number of seconds") }
                w.timeout = f
            case "env", "environment":
                w.environment = try env(value, fail)
            case "cwd":
                w.workingDirectory = try workingDirectory(value, relativeTo: directory, fail)
            case "setup", "teardown":
                let list = try shellCommands(key, value, fail)
                if key == "setup" { w.setup = list } else { w.teardown = list }
            case "check":
                w.check = try outputCheck(value, fail)
            case "record":
                guard let b = value.bool else { throw fail(value, "record: expected true or false") }
                w.record = b
            default:
                break
            }
        }
        if w.command.isEmpty && w.perStrategy.isEmpty {
            throw fail(root, "no command: give command: (with {strategy}/{workers}, or a Python program) or one command per strategy under strategies:")
        }
        if !w.command.isEmpty && !w.perStrategy.isEmpty {
            throw fail(map["command"], "give either command: or one command per strategy under strategies:, not both")
        }
        return w
    }

    private typealias Fail = (Node?, String) -> ExperimentError

    /// `strategies:` as a list of names, a comma-separated string, or a mapping of strategy
    /// to its own command (and env).
    private static func strategies(_ value: Node, _ fail: Fail, into w: inout WorkloadFile) throws {
        if let seq = value.sequence {
            w.strategies = try seq.map { n in
                guard let s = n.string, let st = ConcurrencyStrategy(rawValue: s) else {
                    throw fail(n, "unknown strategy \"\(n.string ?? "?")\" (known: serial, threads, processes, hybrid, interpreters)")
                }
                return st
            }
        } else if let m = value.mapping {
            var order: [ConcurrencyStrategy] = []
            for (sk, sv) in m {
                guard let s = sk.string, let st = ConcurrencyStrategy(rawValue: s) else {
                    throw fail(sk, "unknown strategy \"\(sk.string ?? "?")\" (known: serial, threads, processes, hybrid, interpreters)")
                }
                if let sm = sv.mapping {
                    guard let c = sm["command"] else { throw fail(sv, "strategy \(s) needs a command:") }
                    for (k, _) in sm where !["command", "env", "environment"].contains(k.string ?? "") {
                        throw fail(k, "unknown setting \"\(k.string ?? "?")\" for strategy \(s) (known: command, env)")
                    }
                    w.perStrategy[s] = StrategyCommand(command: try commandLine(c, fail),
                                                       environment: try env(sm["env"] ?? sm["environment"], fail))
                } else {
                    w.perStrategy[s] = StrategyCommand(command: try commandLine(sv, fail), environment: [:])
                }
                order.append(st)
            }
            w.strategies = order
        } else if let s = value.string {
            do { w.strategies = try parseStrategies(s) } catch let e as ExperimentError { throw fail(value, e.description) }
        } else {
            throw fail(value, "strategies: expected a list of names or a mapping of strategy to command")
        }
    }

    /// `workers:` as a list, one number or a comma-separated string.
    private static func workers(_ value: Node, _ fail: Fail) throws -> [Int] {
        if let seq = value.sequence {
            return try seq.map { n in
                guard let i = n.int, i >= 1 else { throw fail(n, "workers: \"\(n.string ?? "?")\" is not a whole number ≥ 1") }
                return i
            }
        } else if let i = value.int, i >= 1 {
            return [i]
        } else if let s = value.string {
            do { return try parseWorkers(s) } catch let e as ExperimentError { throw fail(value, e.description) }
        } else { throw fail(value, "workers: expected a list like [1, 2, 4]") }
    }

    /// `cwd:`, relative to the workload file's folder; it must exist.
    private static func workingDirectory(_ value: Node, relativeTo directory: String?, _ fail: Fail) throws -> String {
        guard let s = value.string else { throw fail(value, "cwd: expected a path") }
        let path = s.hasPrefix("/") || directory == nil ? s : (directory! as NSString).appendingPathComponent(s)
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue else {
            throw fail(value, "cwd: no such directory \(path)")
        }
        return (path as NSString).standardizingPath
    }

    /// `setup:`/`teardown:`: one shell command or a list of them.
    private static func shellCommands(_ key: String, _ value: Node, _ fail: Fail) throws -> [String] {
        let list: [String]
        if let s = value.string { list = [s] } else if let seq = value.sequence {
            list = try seq.map { n in guard let s = n.string else { throw fail(n, "\(key): expected shell commands") }; return s }
        } else { throw fail(value, "\(key): expected a shell command or a list of them") }
        return list
    }

    /// `check:` as true/false or a mapping (output, ignore, sort_lines); nil: no check.
    private static func outputCheck(_ value: Node, _ fail: Fail) throws -> OutputCheck? {
        if let b = value.bool {
            return b ? OutputCheck() : nil
        } else if let m = value.mapping {
            var check = OutputCheck()
            var enabled = true
            for (k, v) in m {
                switch k.string ?? "" {
                case "output":
                    guard let b = v.bool else { throw fail(v, "check.output: expected true or false") }
                    enabled = b
                case "ignore":
                    let list: [String]
                    if let s = v.string { list = [s] } else if let seq = v.sequence { list = seq.compactMap(\.string) } else {
                        throw fail(v, "check.ignore: expected a regular expression or a list of them")
                    }
                    for p in list where (try? NSRegularExpression(pattern: p)) == nil {
                        throw fail(v, "check.ignore: \"\(p)\" is not a valid regular expression")
                    }
                    check.ignore = list
                case "sort_lines":
                    guard let b = v.bool else { throw fail(v, "check.sort_lines: expected true or false") }
                    check.sortLines = b
                default:
                    throw fail(k, "unknown setting \"\(k.string ?? "?")\" under check (known: output, ignore, sort_lines)")
                }
            }
            return enabled ? check : nil
        } else { throw fail(value, "check: expected true/false or a mapping (output, ignore, sort_lines)") }
    }

    private static func commandLine(_ node: Node, _ fail: (Node?, String) -> ExperimentError) throws -> [String] {
        if let seq = node.sequence {
            let parts = try seq.map { n -> String in
                guard let s = n.string else { throw fail(n, "command: every element must be a string") }
                return s
            }
            guard !parts.isEmpty else { throw fail(node, "command: empty") }
            return parts
        }
        guard let s = node.string else { throw fail(node, "command: expected a command line or a list of arguments") }
        do {
            let parts = try ShellWords.split(s)
            guard !parts.isEmpty else { throw fail(node, "command: empty") }
            return parts
        } catch let e as ExperimentError { throw fail(node, e.description) }
    }

    private static func env(_ node: Node?, _ fail: (Node?, String) -> ExperimentError) throws -> [String: String] {
        guard let node else { return [:] }
        guard let m = node.mapping else { throw fail(node, "env: expected a mapping of NAME: value") }
        var out: [String: String] = [:]
        for (k, v) in m {
            guard let name = k.string, name.range(of: #"^[A-Za-z_][A-Za-z0-9_]*$"#, options: .regularExpression) != nil else {
                throw fail(k, "env: \"\(k.string ?? "?")\" is not a valid variable name")
            }
            guard let value = v.string else { throw fail(v, "env: the value of \(name) must be a string or number") }
            out[name] = value
        }
        return out
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case let .scanner(context, problem, mark, _):
            return "\(mark.line): \(problem)\(context.map { " \($0.text)" } ?? "")"
        case let .parser(context, problem, mark, _):
            return "\(mark.line): \(problem)\(context.map { " \($0.text)" } ?? "")"
        case let .composer(context, problem, mark, _):
            return "\(mark.line): \(problem)\(context.map { " \($0.text)" } ?? "")"
        default:
            return " " + ("\(error)".split(separator: "\n").first.map(String.init) ?? "invalid YAML")
        }
    }
}

/// POSIX-shell-like word splitting for command strings: spaces separate words, single
/// quotes keep everything, double quotes keep spaces (\" and \\ escape), a backslash
/// outside quotes escapes the next character. No expansion of any kind.
public enum ShellWords {
    public static func split(_ s: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var it = s.makeIterator()
        while let c = it.next() {
            if let q = quote {
                if c == q { quote = nil; continue }
                if q == "\"" && c == "\\" {
                    guard let n = it.next() else { break }
                    if n != "\"" && n != "\\" && n != "$" && n != "`" { current.append("\\") }
                    current.append(n)
                    continue
                }
                current.append(c)
                continue
            }
            switch c {
            case " ", "\t", "\n":
                if inWord { words.append(current); current = ""; inWord = false }
            case "'", "\"":
                quote = c
                inWord = true
            case "\\":
                if let n = it.next() { current.append(n) }
                inWord = true
            default:
                current.append(c)
                inWord = true
            }
        }
        if quote != nil { throw ExperimentError("unterminated \(quote!) quote in \"\(s)\"") }
        if inWord { words.append(current) }
        return words
    }
}
