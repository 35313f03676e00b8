/// The CLI's one terminal table writer: rows as aligned columns two spaces apart, widths
/// from the widest cell, each line `indent` spaces in and without trailing blanks. Used by
/// `analyze`'s sections, `record`'s per-thread summary, `experiment`'s results and
/// `plugins list`. Cells are shown as given: sanitize target text before (`Terminal.sanitize`).
enum TextTable {
    enum Align { case left, right }

    static func render(_ rows: [[String]], indent: Int = 0, align: (Int) -> Align = { _ in .left }) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: columns)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        let margin = String(repeating: " ", count: indent)
        var out = ""
        for r in rows {
            var line = margin
            for (i, c) in r.enumerated() {
                if i > 0 { line += "  " }
                let pad = String(repeating: " ", count: widths[i] - c.count)
                line += align(i) == .right ? pad + c : c + pad
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// Columns from `first` on right-aligned (numbers), except those in `left`.
    static func rightAligned(from first: Int, except left: Set<Int> = []) -> (Int) -> Align {
        { i in i >= first && !left.contains(i) ? .right : .left }
    }
}
