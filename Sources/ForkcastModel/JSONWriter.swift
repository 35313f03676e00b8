import Foundation

/// A fast JSON writer into a byte buffer, for outputs with millions of values where
/// `JSONEncoder` would be the bottleneck: the profile writer (`Profile.write(gzip:to:)`)
/// and the report formats (ForkcastReport) share it. It writes exactly what it is told:
/// callers put the commas.
///
/// It either collects everything (`bytes`, `data`) or, for streaming, is drained by
/// its owner whenever it grows past a threshold (`drain(over:to:)`), so memory stays at
/// one chunk whatever the output's size.
public struct JSONWriter {
    /// The bytes written so far (since the last drain).
    public var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    /// The bytes written so far, as `Data`.
    public var data: Data { Data(bytes) }

    // MARK: raw bytes

    @inlinable public mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    public mutating func raw(_ data: Data) { bytes.append(contentsOf: data) }

    public mutating func raw(_ buffer: UnsafeRawBufferPointer) { bytes.append(contentsOf: buffer) }

    /// Text written as is (not quoted or escaped): for member names and literals built at run time.
    public mutating func raw(text: String) { bytes.append(contentsOf: text.utf8) }

    @inlinable public mutating func byte(_ b: UInt8) { bytes.append(b) }

    // MARK: values

    @inlinable public mutating func int<T: BinaryInteger>(_ v: T) {
        if v >= 0 && v < 10 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v))
        } else if let x = Int64(exactly: v) {
            int64(x)
        } else if let x = UInt64(exactly: v) {
            uint64(x, negative: false)
        } else {
            bytes.append(contentsOf: String(v).utf8)
        }
    }

    @inlinable public mutating func int64(_ v: Int64) {
        uint64(v.magnitude, negative: v < 0)
    }

    /// The decimal digits of `v`, with a leading '-' when `negative`.
    @inlinable public mutating func uint64(_ v: UInt64, negative: Bool = false) {
        if v < 10 && !negative {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v))
            return
        }
        // 20 digits and a sign fit in 24 bytes, written from the end.
        var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &scratch) { p in
            var i = 24
            var x = v
            repeat {
                i -= 1
                p[i] = UInt8(truncatingIfNeeded: x % 10) &+ 48
                x /= 10
            } while x != 0
            if negative {
                i -= 1
                p[i] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: p[i..<24]))
        }
    }

    /// A finite double with at most `digits` decimals, trailing zeros trimmed; NaN and
    /// infinities become `null` (JSON has neither).
    public mutating func double(_ v: Double, digits: Int = 3) {
        guard v.isFinite else { raw("null"); return }
        if v == v.rounded() && abs(v) < 1e15 { int64(Int64(v)); return }
        var s = String(format: "%.\(digits)f", v)
        if s.contains(".") {
            while s.hasSuffix("0") { s.removeLast() }
            if s.hasSuffix(".") { s.removeLast() }
        }
        bytes.append(contentsOf: s.utf8)
    }

    public mutating func bool(_ v: Bool) { v ? raw("true") : raw("false") }

    /// A JSON string. Control characters (including ANSI escapes) are written as `\uXXXX`.
    public mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(b)
            case 0x0a: raw("\\n")
            case 0x0d: raw("\\r")
            case 0x09: raw("\\t")
            case 0..<0x20, 0x7f:
                raw("\\u00")
                bytes.append(Self.hex[Int(b >> 4)])
                bytes.append(Self.hex[Int(b & 0xf)])
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }

    /// `"k":`
    @inlinable public mutating func key(_ k: StaticString) {
        bytes.append(UInt8(ascii: "\""))
        raw(k)
        raw("\":")
    }

    /// A comma-separated array of integers.
    @inlinable public mutating func intArray<C: Collection>(_ values: C) where C.Element: BinaryInteger {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for v in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            int(v)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    // MARK: streaming

    /// Hands the bytes written so far to `sink` and empties the buffer (keeping its
    /// capacity) when there are at least `threshold` of them.
    @inlinable public mutating func drain(over threshold: Int, to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard bytes.count >= threshold else { return }
        try flush(to: sink)
    }

    /// Hands whatever was written to `sink` and empties the buffer.
    @inlinable public mutating func flush(to sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try sink($0) }
        bytes.removeAll(keepingCapacity: true)
    }

    public static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}
