import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// Every kind of bad input gets one clear `ProfileError` line, never a crash.
final class ProfileDecodeErrorTests: XCTestCase {
    // MARK: Not a profile

    func testEmptyFile() throws {
        assertDecodeFails(Data(), "the file is empty") { $0.isNotAProfile }
        assertDecodeFails(Data(" \n\t ".utf8), "only white space") { $0.isNotAProfile }
        assertDecodeFails(try Gzip.compress(Data()), "gzip of nothing") { $0.isNotAProfile }
    }

    func testNotJSON() {
        assertDecodeFails(Data([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), "it is not JSON (it starts with bytes 7f 45 4c 46)") { $0.isNotAProfile }
        assertDecodeFails(Data("Hello, world".utf8), "it is not JSON") { $0.isNotAProfile }
        assertDecodeFails(Data("[1, 2, 3]".utf8), "top level is not a JSON object") { $0.isNotAProfile }
    }

    func testJSONButNotAProfile() {
        assertDecodeFails(Data(#"{"hello": "world"}"#.utf8), #"has no "format": "forkcast-profile" member"#) { $0.isNotAProfile }
        assertDecodeFails(Data(#"{"$schema": "https://www.speedscope.app/file-format-schema.json", "format": "speedscope"}"#.utf8),
                          #"its "format" is "speedscope""#) { $0.isNotAProfile }
        assertDecodeFails(Data(#"{"format": 7}"#.utf8), "not a string") { $0.isNotAProfile }
    }

    // MARK: Versions

    func testNewerVersionIsRejectedWithAdvice() throws {
        // A future version may change anything else; the version is still reported.
        let future = Data(#"{"format":"forkcast-profile","format_version":3,"samples":"elsewhere"}"#.utf8)
        assertDecodeFails(future, "profile format version 3 is newer than this forkcast reads (version 2); upgrade forkcast") {
            $0 == .unsupportedVersion(found: 3, supported: 2)
        }
        assertDecodeFails(try Gzip.compress(future), "version 3 is newer") { $0.isVersion }
    }

    func testOlderVersionIsRejected() throws {
        let old = try Fixtures.edited { $0["format_version"] = 0 }
        assertDecodeFails(old, "profile format version 0 is not supported (this forkcast reads versions 1 to 2)") {
            $0 == .unsupportedVersion(found: 0, supported: 2)
        }
    }

    func testVersionMustBeAnInteger() throws {
        assertDecodeFails(try Fixtures.edited { $0["format_version"] = "1" }, #""format_version" is not an integer"#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { $0["format_version"] = 1.5 }, #""format_version" is not an integer"#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { $0["format_version"] = nil }, #"missing "format_version""#) { $0.isCorrupt }
    }

    // MARK: Damaged bytes

    func testTruncatedJSON() throws {
        let json = try Fixtures.small().encoded(gzip: false)
        // Inside the header, inside a string, inside the sample columns, and just before the end.
        for length in [1, 20, 35, json.count / 3, json.count / 2, json.count - 40, json.count - 3, json.count - 2] {
            assertDecodeFails(json.prefix(length), "truncated") { $0.isCorrupt }
        }
    }

    func testTruncatedGzip() throws {
        let gz = try Fixtures.small().encoded(gzip: true)
        for length in [2, 10, gz.count / 2, gz.count - 4, gz.count - 1] {
            assertDecodeFails(gz.prefix(length), "corrupt profile: gzip data ends early (the file is truncated)") { $0.isCorrupt }
        }
    }

    func testBitFlippedGzip() throws {
        let gz = try Fixtures.small().encoded(gzip: true)
        // In the compressed data, and in the CRC of the trailer.
        for (offset, bit) in [(gz.count / 2, 0), (gz.count / 3, 5), (gz.count - 7, 3)] {
            var bad = gz
            bad[offset] ^= 1 << bit
            assertDecodeFails(bad, "corrupt profile: gzip data is damaged") { $0.isCorrupt }
        }
    }

    func testMalformedJSONNamesTheLine() throws {
        let pretty = try JSONSerialization.data(withJSONObject: Fixtures.tree(Fixtures.small()), options: [.prettyPrinted, .sortedKeys])
        var text = String(decoding: pretty, as: UTF8.self)
        let range = text.range(of: "\"processes\" : [")!
        text.replaceSubrange(range, with: "\"processes\" : [}")
        let line = text[..<range.lowerBound].filter { $0 == "\n" }.count + 1
        assertDecodeFails(Data(text.utf8), "the JSON is malformed at line \(line), column") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.small().encoded(gzip: false) + Data("{}".utf8), "unexpected data after the end of the JSON")
        assertDecodeFails(Data(#"{"format":"forkcast-profile","format":"forkcast-profile"}"#.utf8), #""format" appears twice"#)
        assertDecodeFails(Data(#"{"format":"forkcast-profile","format_version":1,"recording":NaN}"#.utf8), "expected a value")
    }

    func testDeepNestingIsRejectedWithoutCrashing() {
        let deep = #"{"format":"forkcast-profile","format_version":1,"x":"# + String(repeating: "[", count: 200_000) + "}"
        assertDecodeFails(Data(deep.utf8), "nested more than 256 levels deep") { $0.isCorrupt }
    }

    // MARK: Wrong shape

    func testMissingMembersAndWrongTypesNameThePath() throws {
        assertDecodeFails(try Fixtures.edited { $0["stats"] = nil }, #"corrupt profile: missing "stats""#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { $0["samples"] = nil }, #"corrupt profile: missing "samples""#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { Fixtures.setField(&$0, "recording", "cores", "two") },
                          "corrupt profile: wrong type at recording.cores") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { Fixtures.setField(&$0, "recording", "rootPid", nil) },
                          #"corrupt profile: missing "rootPid" at recording"#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { t in
            var frames = t["frames"] as! [[String: Any]]
            frames[1]["kind"] = "ruby"
            t["frames"] = frames
        }, "at frames[1].kind") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { $0["samples"] = [1, 2] }, #""samples" is not an object"#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { t in
            var s = t["samples"] as! [String: Any]
            s["gil"] = nil
            t["samples"] = s
        }, #"missing sample column "samples.gil""#) { $0.isCorrupt }
    }

    /// The stack table is parsed by hand (it can be large); its errors name the stack.
    func testBadStacks() throws {
        func withStack(_ stack: Any) throws -> Data {
            try Fixtures.edited { t in
                var stacks = t["stacks"] as! [Any]
                stacks[1] = stack
                t["stacks"] = stacks
            }
        }
        assertDecodeFails(try withStack(["frames": [0, 1]]), #"missing "truncated" at stacks[1]"#) { $0.isCorrupt }
        assertDecodeFails(try withStack(["truncated": false]), #"missing "frames" at stacks[1]"#) { $0.isCorrupt }
        assertDecodeFails(try withStack(["frames": [0, "x"], "truncated": false]), "stacks[1].frames[1] is not an integer") { $0.isCorrupt }
        assertDecodeFails(try withStack(["frames": [0], "truncated": 1]), "stacks[1].truncated is not true or false") { $0.isCorrupt }
        assertDecodeFails(try withStack([0, 1]), "stacks[1] is not an object") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { $0["stacks"] = ["frames": []] }, #""stacks" is not an array"#) { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { $0["stacks"] = nil }, #"corrupt profile: missing "stacks""#) { $0.isCorrupt }
        // Unknown members of a stack are ignored, as everywhere.
        let p = try Profile.decode(withStack(["frames": [0], "truncated": true, "future": ["x": 1]]))
        XCTAssertEqual(p.stacks[1], Stack(frames: [0], truncated: true))
    }

    func testColumnsOfDifferentLengths() throws {
        let data = try Fixtures.edited { t in Fixtures.setColumn(&t, "thread", Fixtures.column(t, "thread").dropLast()) }
        assertDecodeFails(data, #"sample columns have different lengths ("t" has 100 values, "thread" has 99)"#) { $0.isCorrupt }
        let v1 = try Fixtures.editedV1 { t in Fixtures.setColumn(&t, "tid", Fixtures.column(t, "tid").dropLast()) }
        assertDecodeFails(v1, #"sample columns have different lengths ("t" has 100 values, "tid" has 99)"#) { $0.isCorrupt }
        // Each version's own columns are required.
        assertDecodeFails(try Fixtures.edited { t in Fixtures.setColumn(&t, "thread", nil) }, #"missing sample column "samples.thread""#)
        assertDecodeFails(try Fixtures.editedV1 { t in Fixtures.setColumn(&t, "pid", nil) }, #"missing sample column "samples.pid""#)
        assertDecodeFails(try Fixtures.edited { $0["mappings"] = nil }, #"missing "mappings""#) { $0.isCorrupt }
    }

    func testColumnValuesOfTheWrongKind() throws {
        for (value, message) in [(1.5 as Any, "samples.pid[4] is not an integer"), ("x", "samples.pid[4] is not an integer"),
                                 (NSNull(), "samples.pid[4] is not an integer"),
                                 (3_000_000_000 as Any, "samples.pid[4] is out of range (-2147483648…2147483647)")] {
            let data = try Fixtures.editedV1 { t in
                var col = Fixtures.column(t, "pid")
                col[4] = value
                Fixtures.setColumn(&t, "pid", col)
            }
            assertDecodeFails(data, message) { $0.isCorrupt }
            let v2 = try Fixtures.edited { t in
                var col = Fixtures.column(t, "thread")
                col[4] = value
                Fixtures.setColumn(&t, "thread", col)
            }
            assertDecodeFails(v2, message.replacingOccurrences(of: "pid", with: "thread")) { $0.isCorrupt }
        }
    }

    // MARK: Inconsistent content

    func testOutOfRangeIndices() throws {
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "stack")
            col[7] = 99
            Fixtures.setColumn(&t, "stack", col)
        }, "invalid profile: sample 7 refers to stack 99, but there are 2 stacks") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "stack")
            col[0] = -1
            Fixtures.setColumn(&t, "stack", col)
        }, "sample 0 refers to stack -1") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "wait")
            col[2] = 5
            Fixtures.setColumn(&t, "wait", col)
        }, "sample 2 refers to wait 5, but there are 2 waits") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var stacks = t["stacks"] as! [[String: Any]]
            stacks[1]["frames"] = [0, 1, 1000]
            t["stacks"] = stacks
        }, "stack 1 refers to frame 1000") { $0.isInvalid }
        assertDecodeFails(try Fixtures.editedV1 { t in
            var col = Fixtures.column(t, "tid")
            col[9] = 999
            Fixtures.setColumn(&t, "tid", col)
        }, "sample 9 is of thread 999 in process 100, which is not in the thread table") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "thread")
            col[9] = 4
            Fixtures.setColumn(&t, "thread", col)
        }, "sample 9 refers to thread row 4, but there are 4 threads") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "thread")
            col[9] = -1
            Fixtures.setColumn(&t, "thread", col)
        }, "sample 9 refers to thread row -1") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var frames = t["frames"] as! [[String: Any]]
            frames[0]["mapping"] = 7
            t["frames"] = frames
        }, "frame 0 refers to mapping 7, but there are 2 mappings") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var frames = t["frames"] as! [[String: Any]]
            frames[0]["module"] = "/somewhere/else.so"
            t["frames"] = frames
        }, "frame 0 is in module /somewhere/else.so but refers to mapping 0 of /lib/libc.so.6") { $0.isInvalid }
    }

    func testUnknownStateAndGILCodes() throws {
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "state")
            col[5] = 9
            Fixtures.setColumn(&t, "state", col)
        }, "samples.state[5] is 9, not a known state code (0–7)") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "state")
            col[5] = 300
            Fixtures.setColumn(&t, "state", col)
        }, "samples.state[5] is out of range (0…255)") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "gil")
            col[1] = 3
            Fixtures.setColumn(&t, "gil", col)
        }, "samples.gil[1] is 3, not a known GIL code (0–2)") { $0.isCorrupt }
    }

    func testAbsurdValues() throws {
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "t")
            col[3] = -10
            Fixtures.setColumn(&t, "t", col)
        }, "samples.t[3] is out of range (0…18446744073709551615)") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { t in
            var col = Fixtures.column(t, "t")
            col[3] = UInt64.max
            Fixtures.setColumn(&t, "t", col)
        }, "sample 3 has an absurd time") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { Fixtures.setField(&$0, "recording", "durationNs", -5) },
                          "bad value at recording.durationNs") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { t in
            var frames = t["frames"] as! [[String: Any]]
            frames[1]["offset"] = -3
            t["frames"] = frames
        }, "at frames[1].offset") { $0.isCorrupt }
        let huge = String(decoding: try Fixtures.small().encoded(gzip: false), as: UTF8.self)
            .replacingOccurrences(of: "\"rateHz\":100", with: "\"rateHz\":1e400")
        assertDecodeFails(Data(huge.utf8), "corrupt profile: bad value at recording.rateHz") { $0.isCorrupt }
        for rate in [0, -100, 5e9] as [Any] {
            assertDecodeFails(try Fixtures.edited { Fixtures.setField(&$0, "recording", "rateHz", rate) },
                              "invalid profile: sampling rate") { $0.isInvalid }
        }
        // JSON has no NaN; a writer that printed one made malformed JSON.
        let nan = String(decoding: try Fixtures.small().encoded(gzip: false), as: UTF8.self)
            .replacingOccurrences(of: "\"rateHz\":100", with: "\"rateHz\":NaN")
        assertDecodeFails(Data(nan.utf8), "corrupt profile:") { $0.isCorrupt }
        assertDecodeFails(try Fixtures.edited { Fixtures.setField(&$0, "recording", "cores", 0) }, "has 0 cores") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { Fixtures.setField(&$0, "stats", "ticks", -1) }, "stats.ticks is negative") { $0.isInvalid }
        assertDecodeFails(try Fixtures.edited { t in
            var threads = t["threads"] as! [[String: Any]]
            threads[0]["endNs"] = 5
            threads[0]["startNs"] = 10
            t["threads"] = threads
        }, "thread 101 ends (5 ns) before it starts (10 ns)") { $0.isInvalid }
    }
}
