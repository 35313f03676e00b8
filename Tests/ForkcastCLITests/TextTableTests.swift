import XCTest
@testable import ForkcastCLI

/// The CLI's one table writer (analyze, record, experiment, plugins list).
final class TextTableTests: XCTestCase {
    func testColumnsAlignAndLinesEndWithoutBlanks() {
        let rows = [["name", "samples", "note"], ["worker-1", "7", ""], ["main", "1234", "hot"]]
        XCTAssertEqual(TextTable.render(rows, indent: 2, align: TextTable.rightAligned(from: 1, except: [2])), """
              name      samples  note
              worker-1        7
              main         1234  hot

            """)
        XCTAssertEqual(TextTable.render([["a", "bb"], ["ccc", "d"]]), "a    bb\nccc  d\n")
        XCTAssertEqual(TextTable.render([]), "")
    }

    /// Ragged rows and wide characters: widths are counted in characters.
    func testRaggedRowsAndUnicode() {
        XCTAssertEqual(TextTable.render([["▶ threads×4", "1.5 s"], ["  serial"]]), "▶ threads×4  1.5 s\n  serial\n")
    }
}
