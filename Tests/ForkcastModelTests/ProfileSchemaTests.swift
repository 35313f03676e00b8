import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// What the writer produces matches docs/profile.schema.json, checked by an independent
/// validator (Python's `jsonschema`, Draft 2020-12), and the schema rejects broken files.
final class ProfileSchemaTests: XCTestCase {
    static let schema = Fixtures.repoRoot.appendingPathComponent("docs/profile.schema.json")
    static let formatDoc = Fixtures.repoRoot.appendingPathComponent("docs/profile-format.md")

    /// Validates each document; returns nil for valid ones and the first error otherwise.
    func validate(_ documents: [Data]) throws -> [String?] {
        switch try JSONSchemaCheck.validate(documents, schema: Self.schema) {
        case .checked(let results): return results
        case .unavailable(let why): throw XCTSkip(why)
        }
    }

    func testWrittenProfilesMatchTheSchema() throws {
        let profiles = [Fixtures.everyField(), Fixtures.small(), SyntheticProfiles.pythonCPUThreads(ticks: 20)]
        let results = try validate(profiles.map { try $0.encoded(gzip: false) })
        for (i, r) in results.enumerated() { XCTAssertNil(r, "profile \(i) does not match the schema") }
    }

    /// The schema can fail: broken documents are rejected, each for its own reason.
    func testSchemaRejectsBrokenFiles() throws {
        let broken: [(String, Data)] = [
            ("missing stats", try Fixtures.edited { $0["stats"] = nil }),
            ("pid as a string", try Fixtures.edited { Fixtures.setField(&$0, "recording", "rootPid", "100") }),
            ("state code 9", try Fixtures.edited { t in
                var col = Fixtures.column(t, "state")
                col[0] = 9
                Fixtures.setColumn(&t, "state", col)
            }),
            ("format version 3", try Fixtures.edited { $0["format_version"] = 3 }),
            ("a version 1 file (the schema is of the version written)", try Fixtures.editedV1 { _ in }),
            ("a frame's mapping that is negative", try Fixtures.edited { t in
                var frames = t["frames"] as! [[String: Any]]
                frames[0]["mapping"] = -1
                t["frames"] = frames
            }),
            ("unknown frame kind", try Fixtures.edited { t in
                var frames = t["frames"] as! [[String: Any]]
                frames[0]["kind"] = "ruby"
                t["frames"] = frames
            }),
            ("negative time", try Fixtures.edited { t in
                var col = Fixtures.column(t, "t")
                col[0] = -1
                Fixtures.setColumn(&t, "t", col)
            }),
            ("typo in a member name", try Fixtures.edited { t in
                t["format_verison"] = t["format_version"]
                t["format_version"] = nil
            }),
        ]
        let results = try validate(broken.map(\.1))
        for (i, r) in results.enumerated() { XCTAssertNotNil(r, "the schema accepted a file with \(broken[i].0)") }
    }

    /// The complete example in docs/profile-format.md is a valid profile, by the schema
    /// and by the reader, so the documentation cannot drift from the format.
    func testTheDocumentedExampleIsValid() throws {
        let doc = try String(contentsOf: Self.formatDoc, encoding: .utf8)
        guard let start = doc.range(of: "<!-- example:begin -->"), let end = doc.range(of: "<!-- example:end -->") else {
            return XCTFail("docs/profile-format.md has no example between <!-- example:begin --> and <!-- example:end -->")
        }
        var block = String(doc[start.upperBound..<end.lowerBound])
        block = block.replacingOccurrences(of: "```json", with: "").replacingOccurrences(of: "```", with: "")
        let data = Data(block.utf8)
        let profile = try Profile.decode(data)
        XCTAssertGreaterThan(profile.samples.count, 0)
        XCTAssertEqual(try validate([data]), [nil])
    }
}
