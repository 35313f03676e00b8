import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// The document protocol: one decoder for any kind (gzip and kind sniffed), one number
/// strategy for every document, one decode-error line.
final class DocumentTests: XCTestCase {
    func testEveryKindIsRecognisedPlainAndGzipped() throws {
        let profile = SyntheticProfiles.mutexContention(ticks: 50)
        let analysis = SyntheticProfiles.sampleAnalysis()
        let experiment = SyntheticProfiles.sampleExperiment()
        let bytes: [(Data, String)] = [(try profile.encodedJSON(), Profile.formatName),
                                       (try analysis.encodedJSON(), Analysis.formatName),
                                       (try experiment.encodedJSON(), ExperimentResult.formatName)]
        for (json, format) in bytes {
            for data in [json, try Gzip.compress(json)] {
                let document = try Document.decode(data, name: "x")
                XCTAssertEqual(document.formatName, format)
                switch document {
                case .profile(let p): XCTAssertEqual(p.samples.count, profile.samples.count)
                case .analysis(let a): XCTAssertEqual(a, analysis)
                case .experiment(let e): XCTAssertEqual(e, experiment)
                }
            }
        }
    }

    func testNonFiniteNumbersRoundTripInEveryCodableDocument() throws {
        var experiment = SyntheticProfiles.sampleExperiment()
        experiment.summary[0].speedup = .infinity
        let json = try experiment.encodedJSON()
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"inf\""))
        guard case .experiment(let back) = try Document.decode(json, name: "e.json") else { return XCTFail("not an experiment") }
        XCTAssertEqual(back.summary[0].speedup, .infinity)
    }

    func testErrorsAreOneLineNamingTheSource() {
        let cases: [(String, String)] = [
            ("", "e.json: the file is empty"),
            ("hello", "e.json: not a Forkcast profile or experiment (not JSON)"),
            ("[1,2]", "e.json: not a Forkcast profile or experiment (the JSON is not an object)"),
            ("{\"format\": \"other\"}", "e.json: is a \"other\" file, not a Forkcast profile or experiment"),
            ("{\"a\": 1}", "e.json: not a Forkcast profile or experiment (no \"format\" key)"),
            ("{\"format\": \"forkcast-experiment\", \"format_version\": 1, \"runs\": [], \"summary\": [], \"scaling\": [], \"notes\": []}",
             "e.json: corrupt experiment result: missing \"interrupted\""),
            ("{\"format\": \"forkcast-analysis\", \"format_version\": \"one\"}",
             "e.json: corrupt analysis: wrong type at \"format_version\""),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try Document.decode(Data(text.utf8), name: "e.json")) { error in
                XCTAssertEqual((error as? DocumentError)?.description, expected)
            }
        }
        XCTAssertThrowsError(try Document.decode(Data([0x1f, 0x8b, 0, 1, 2]), name: "bad.gz")) { error in
            XCTAssertEqual("\(error)", "bad.gz: corrupt gzip data")
        }
    }

    func testDecodeErrorTextNamesThePath() {
        struct Inner: Decodable { var title: String }
        struct Outer: Decodable { var findings: [Inner] }
        func text(_ json: String) -> String {
            do { _ = try JSONDecoder().decode(Outer.self, from: Data(json.utf8)); return "decoded" } catch {
                return DecodeErrorText.describe(error)
            }
        }
        XCTAssertEqual(text(#"{"findings": [{}]}"#), #"missing "findings.0.title""#)
        XCTAssertEqual(text(#"{"findings": [{"title": 3}]}"#), #"wrong type at "findings.0.title""#)
        XCTAssertEqual(text(#"{"findings": [{"title": null}]}"#), #"missing value at "findings.0.title""#)
        XCTAssertEqual(text("{"), "not valid JSON")
    }
}
