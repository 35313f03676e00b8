import Foundation

/// A minimal, bounds-checked JSON byte scanner: finds member spans and parses integer
/// arrays. It never recurses (nesting is tracked in an explicit stack), so hostile input
/// cannot overflow the call stack.
struct JSONScanner {
    enum Failure: Error {
        case truncated
        case malformed(at: Int, String)
    }

    let base: UnsafePointer<UInt8>?
    let all: UnsafeRawBufferPointer
    var pos: Int
    let end: Int
    static let maxDepth = 256

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        all = bytes
        base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)
        pos = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    @inline(__always) func byte(_ i: Int) -> UInt8 { base![i] }

    /// Runs `body`, turning scanner failures into one-line `ProfileError`s.
    mutating func catching<T>(_ body: (inout JSONScanner) throws -> T) throws -> T {
        do { return try body(&self) } catch let f as Failure {
            switch f {
            case .truncated:
                throw ProfileError.corrupt("the JSON ends early, after \(all.count) bytes (the file is truncated)")
            case .malformed(let at, let what):
                let (line, column) = lineColumn(at)
                throw ProfileError.corrupt("the JSON is malformed at line \(line), column \(column): \(what)")
            }
        }
    }

    func lineColumn(_ offset: Int) -> (Int, Int) {
        var line = 1, column = 1
        for i in 0..<min(offset, all.count) {
            if all[i] == 0x0a { line += 1; column = 1 } else { column += 1 }
        }
        return (line, column)
    }

    mutating func skipBOM() {
        if end - pos >= 3, byte(pos) == 0xef, byte(pos + 1) == 0xbb, byte(pos + 2) == 0xbf { pos += 3 }
    }

    @inline(__always) mutating func skipWhitespace() {
        while pos < end {
            let c = byte(pos)
            if c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { pos += 1 } else { return }
        }
    }

    @inline(__always) mutating func peek() throws -> UInt8 {
        guard pos < end else { throw Failure.truncated }
        return byte(pos)
    }

    mutating func expect(_ c: UInt8, _ what: String) throws {
        skipWhitespace()
        guard try peek() == c else { throw Failure.malformed(at: pos, "expected \(what)") }
        pos += 1
    }

    /// At a `"`: skips the string and returns its raw bytes' range (between the quotes).
    mutating func string() throws -> Range<Int> {
        guard try peek() == UInt8(ascii: "\"") else { throw Failure.malformed(at: pos, "expected a string") }
        pos += 1
        let start = pos
        while true {
            let c = try peek()
            if c == UInt8(ascii: "\"") {
                pos += 1
                return start..<(pos - 1)
            }
            if c == UInt8(ascii: "\\") {
                pos += 2
                if pos > end { throw Failure.truncated }
            } else if c < 0x20 {
                throw Failure.malformed(at: pos, "control character in a string")
            } else {
                pos += 1
            }
        }
    }

    /// Skips one JSON value of any kind; returns its span.
    mutating func value() throws -> Range<Int> {
        skipWhitespace()
        let start = pos
        var stack: [UInt8] = []
        while true {
            // A value.
            skipWhitespace()
            let c = try peek()
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                guard stack.count < JSONScanner.maxDepth else {
                    throw Failure.malformed(at: pos, "nested more than \(JSONScanner.maxDepth) levels deep")
                }
                stack.append(c)
                pos += 1
                skipWhitespace()
                let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                if try peek() == close {
                    pos += 1
                    stack.removeLast()
                } else {
                    if c == UInt8(ascii: "{") { try memberName() }
                    continue
                }
            case UInt8(ascii: "\""):
                _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case UInt8(ascii: "-"), 0x30...0x39:
                try number()
            default:
                throw Failure.malformed(at: pos, "expected a value")
            }
            // After a value: close containers or move to the next element.
            while true {
                guard let top = stack.last else { return start..<pos }
                skipWhitespace()
                let d = try peek()
                if d == UInt8(ascii: ",") {
                    pos += 1
                    if top == UInt8(ascii: "{") { try memberName() }
                    break
                }
                if (top == UInt8(ascii: "{") && d == UInt8(ascii: "}")) || (top == UInt8(ascii: "[") && d == UInt8(ascii: "]")) {
                    pos += 1
                    stack.removeLast()
                    continue
                }
                throw Failure.malformed(at: pos, top == UInt8(ascii: "{") ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// `"name" :` inside an object.
    private mutating func memberName() throws {
        skipWhitespace()
        _ = try string()
        try expect(UInt8(ascii: ":"), "':'")
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        for i in 0..<n {
            guard try peek() == word.utf8Start[i] else { throw Failure.malformed(at: pos, "expected a value") }
            pos += 1
        }
    }

    private mutating func number() throws {
        let start = pos
        if byte(pos) == UInt8(ascii: "-") { pos += 1 }
        var digits = 0
        while pos < end {
            let c = byte(pos)
            if (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
                || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                if c >= 0x30 && c <= 0x39 { digits += 1 }
                pos += 1
            } else {
                break
            }
        }
        if pos == end && end == all.count && digits == 0 { throw Failure.truncated }
        guard digits > 0 else { throw Failure.malformed(at: start, "expected a number") }
    }

    /// Walks the members of an object whose `{` was just read, up to and including its
    /// `}`: for each member, `member` gets the scanner (at the value, white space skipped),
    /// the name and the name's span, and must read the value. `context` (" in stacks[3]")
    /// ends the message of a missing ',' or '}'; it is built only for that error.
    @inline(__always)
    mutating func members(_ context: @autoclosure () -> String,
                          _ member: (inout JSONScanner, String, Range<Int>) throws -> Void) throws {
        skipWhitespace()
        if try peek() == UInt8(ascii: "}") {
            pos += 1
            return
        }
        while true {
            skipWhitespace()
            let nameRange = try string()
            try expect(UInt8(ascii: ":"), "':'")
            skipWhitespace()
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: all[nameRange]), as: UTF8.self)
            try member(&self, name, nameRange)
            skipWhitespace()
            let c = try peek()
            pos += 1
            if c == UInt8(ascii: "}") { return }
            guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or '}'\(context())") }
        }
    }

    /// The members of the object at `pos`, by name, each as its value's span. The whole
    /// document must be that one object (white space may follow).
    mutating func objectMembers() throws -> [String: Range<Int>] {
        var unused: Result<SampleColumns, Error>?
        return try objectMembers(samples: &unused, parseSamples: false)
    }

    /// Like `objectMembers()`, and parses a member named `samples` as the sample table
    /// on the way, into `samples` (the outcome, success or error).
    mutating func objectMembers(samples: inout Result<SampleColumns, Error>?, parseSamples: Bool = true) throws -> [String: Range<Int>] {
        try expect(UInt8(ascii: "{"), "'{'")
        var members: [String: Range<Int>] = [:]
        try self.members("") { scanner, name, nameRange in
            let span: Range<Int>
            if parseSamples && name == "samples" && samples == nil {
                let start = scanner.pos
                do {
                    samples = .success(try scanner.sampleColumns())
                    span = start..<scanner.pos
                } catch {
                    samples = .failure(error)
                    scanner.pos = start
                    span = try scanner.value()
                }
            } else {
                span = try scanner.value()
            }
            guard members.updateValue(span, forKey: name) == nil else {
                throw Failure.malformed(at: nameRange.lowerBound, "\"\(name.prefix(40))\" appears twice")
            }
        }
        skipWhitespace()
        guard pos == end else { throw Failure.malformed(at: pos, "unexpected data after the end of the JSON") }
        return members
    }

    /// The spans of the elements of the array at `pos`.
    mutating func arrayElements() throws -> [Range<Int>] {
        try expect(UInt8(ascii: "["), "'['")
        var elements: [Range<Int>] = []
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            pos += 1
            return elements
        }
        while true {
            elements.append(try value())
            skipWhitespace()
            let c = try peek()
            pos += 1
            if c == UInt8(ascii: "]") { return elements }
            guard c == UInt8(ascii: ",") else { throw Failure.malformed(at: pos - 1, "expected ',' or ']'") }
        }
    }

    /// Parses an integer at `pos` that must fit `T`; nil when there is none or it does not fit.
    mutating func integer<T: FixedWidthInteger>(as: T.Type) -> T? {
        switch integerResult(as: T.self) {
        case .value(let v): v
        default: nil
        }
    }

    enum IntegerResult<T> { case value(T), notInteger, outOfRange, truncated }

    @inline(__always) mutating func integerResult<T: FixedWidthInteger>(as: T.Type) -> IntegerResult<T> {
        guard pos < end else { return .truncated }
        var negative = false
        if byte(pos) == UInt8(ascii: "-") {
            negative = true
            pos += 1
            guard pos < end else { return .truncated }
        }
        var magnitude: UInt64 = 0
        var digits = 0
        var overflow = false
        while pos < end {
            let d = byte(pos) &- 0x30
            if d > 9 { break }
            let (m, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            overflow = overflow || o1 || o2
            magnitude = a
            digits += 1
            pos += 1
        }
        guard digits > 0 else { return .notInteger }
        if pos < end {
            let c = byte(pos)
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { return .notInteger }
        }
        if overflow { return .outOfRange }
        if negative {
            guard T.isSigned, magnitude <= UInt64(1) << 63 else { return magnitude == 0 ? .value(0) : .outOfRange }
            let v = magnitude == UInt64(1) << 63 ? Int64.min : -Int64(magnitude)
            guard let t = T(exactly: v) else { return .outOfRange }
            return .value(t)
        }
        guard let t = T(exactly: magnitude) else { return .outOfRange }
        return .value(t)
    }

    /// Parses `[int, int, …]` at `pos` into `[T]`.
    mutating func intArray<T: FixedWidthInteger>(_ label: String, as: T.Type, capacity: Int) throws -> [T] {
        try expect(UInt8(ascii: "["), "'[' to open \(label)")
        var out: [T] = []
        out.reserveCapacity(capacity)
        skipWhitespace()
        if try peek() == UInt8(ascii: "]") {
            pos += 1
            return out
        }
        while true {
            skipWhitespace()
            let at = pos
            switch integerResult(as: T.self) {
            case .value(let v): out.append(v)
            case .truncated: throw Failure.truncated
            case .notInteger:
                if pos >= end && end == all.count { throw Failure.truncated }
                throw Failure.malformed(at: at, "\(label)[\(out.count)] is not an integer")
            case .outOfRange:
                throw Failure.malformed(at: at, "\(label)[\(out.count)] is out of range (\(T.min)…\(T.max))")
            }
            // Fast path for the writer's own layout: no white space around commas.
            guard pos < end else { throw Failure.truncated }
            var c = byte(pos)
            if c != UInt8(ascii: ",") && c != UInt8(ascii: "]") {
                skipWhitespace()
                c = try peek()
            }
            pos += 1
            if c == UInt8(ascii: "]") { return out }
            guard c == UInt8(ascii: ",") else {
                throw Failure.malformed(at: pos - 1, "expected ',' or ']' in \(label)")
            }
        }
    }

}
