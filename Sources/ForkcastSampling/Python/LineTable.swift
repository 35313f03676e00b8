/// Decodes CPython's line tables: instruction offset → source line.
public enum PythonLineTable {
    /// The line of the code unit at `codeUnit` (an index in 2-byte code units, as
    /// `prev_instr - _co_code_adaptive` gives it) in a 3.11+ location table
    /// (Objects/locations.md). nil when the instruction has no line, or past the table.
    ///
    /// Each entry starts with a byte `1 cccc lll`: code `c`, and `l + 1` code units
    /// covered. Codes 0–9: short form, same line (one more byte of columns); 10–12:
    /// one-line form, line delta `c - 10` (two bytes of columns); 13: line delta as a
    /// signed varint, no columns; 14: long form (signed varint line delta, then end-line
    /// delta, column and end column as varints); 15: no location.
    public static func line311(table: [UInt8], firstLine: Int, codeUnit: Int) -> Int? {
        var line = firstLine
        var address = 0
        var index = 0
        while index < table.count {
            let first = table[index]
            guard first & 0x80 != 0 else { return nil }  // lost sync: corrupt table
            index += 1
            let code = Int((first >> 3) & 0x0F)
            let length = Int(first & 0x07) + 1
            var delta = 0
            var hasLine = true
            switch code {
            case 15:
                hasLine = false
            case 14:
                guard let d = readSignedVarint(table, &index) else { return nil }
                delta = d
                for _ in 0..<3 { guard readVarint(table, &index) != nil else { return nil } }
            case 13:
                guard let d = readSignedVarint(table, &index) else { return nil }
                delta = d
            case 10...12:
                delta = code - 10
                index += 2
            default:
                index += 1
            }
            line += delta
            if codeUnit < address + length {
                return codeUnit >= address && hasLine ? line : nil
            }
            address += length
        }
        return nil
    }

    /// 6-bit little-endian groups, bit 6 set on all but the last.
    static func readVarint(_ table: [UInt8], _ index: inout Int) -> Int? {
        var result = 0
        var shift = 0
        while index < table.count, shift < 63 {
            let byte = table[index]
            index += 1
            result |= Int(byte & 0x3F) << shift
            shift += 6
            if byte & 0x40 == 0 { return result }
        }
        return nil
    }

    /// A varint whose low bit is the sign.
    static func readSignedVarint(_ table: [UInt8], _ index: inout Int) -> Int? {
        guard let value = readVarint(table, &index) else { return nil }
        return value & 1 != 0 ? -(value >> 1) : value >> 1
    }
}
