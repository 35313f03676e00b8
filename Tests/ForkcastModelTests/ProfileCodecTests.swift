import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// Round trips: what `encoded(gzip:)` writes, `decode(_:)` reads back unchanged.
final class ProfileCodecTests: XCTestCase {
    func testRoundTripJSONAndGzip() throws {
        for profile in [Fixtures.small(), Fixtures.everyField(), SyntheticProfiles.pythonCPUThreads(ticks: 40)] {
            let json = try profile.encoded(gzip: false)
            let gz = try profile.encoded(gzip: true)
            XCTAssertTrue(Gzip.isGzip(gz))
            XCTAssertFalse(Gzip.isGzip(json))
            XCTAssertEqual(try Profile.decode(json), profile)
            XCTAssertEqual(try Profile.decode(gz), profile)
        }
    }

    func testEmptyProfileRoundTrips() throws {
        let empty = Profile(recording: RecordingInfo(toolVersion: "t", mode: .launch, command: [], rootPid: 1,
                                                     startedAt: "", rateHz: 100))
        XCTAssertEqual(try Profile.decode(empty.encoded(gzip: false)), empty)
        XCTAssertEqual(try Profile.decode(empty.encoded(gzip: true)), empty)
    }

    func testEncodingIsDeterministicAndStartsWithTheFormat() throws {
        let p = Fixtures.everyField()
        let a = try p.encoded(gzip: false), b = try p.encoded(gzip: false)
        XCTAssertEqual(a, b)
        let text = String(decoding: a, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("{\"format\":\"forkcast-profile\",\"format_version\":2,"), String(text.prefix(80)))
        XCTAssertTrue(text.hasSuffix("}}\n"))
        XCTAssertTrue(text.contains("\"file\":\"/usr/lib/module.so\""), "slashes are not escaped")
        XCTAssertFalse(text.contains("\"module\":"), "a frame's module is written once, as its mapping row's file")
    }

    /// The reader accepts any JSON layout of the same data: pretty-printed, keys in any
    /// order, members it does not know (added by a later writer of version 1).
    func testReaderAcceptsOtherLayoutsAndUnknownMembers() throws {
        let p = Fixtures.everyField()
        var tree = try Fixtures.tree(p)
        tree["a_future_member"] = ["nested": [1, 2, ["x": "y"]]]
        Fixtures.setColumn(&tree, "zz_future_column", [1, 2, 3])
        let pretty = try JSONSerialization.data(withJSONObject: tree, options: [.prettyPrinted])
        XCTAssertTrue(pretty.contains(UInt8(ascii: "\n")))
        XCTAssertEqual(try Profile.decode(pretty), p)
        var withBOM = Data([0xef, 0xbb, 0xbf])
        withBOM.append(pretty)
        XCTAssertEqual(try Profile.decode(withBOM), p)
    }

    /// The Codable conformance (for embedding a profile in other messages) reads and writes
    /// the same format as the fast path.
    func testCodableConformanceMatchesTheFastPath() throws {
        let p = Fixtures.everyField()
        XCTAssertEqual(try JSONDecoder().decode(Profile.self, from: p.encoded(gzip: false)), p)
        XCTAssertEqual(try Profile.decode(JSONEncoder().encode(p)), p)
    }

    /// The kernel's CPU accounting per thread: written, read back, optional, all or nothing.
    func testThreadAccountingRoundTripsAndComesWhole() throws {
        let p = Fixtures.everyField()
        let back = try Profile.decode(p.encoded(gzip: false))
        XCTAssertEqual(back.threads[0].cpuNs, 1_500_000_000)
        XCTAssertEqual(back.threads[0].runqueueNs, 120_000_000)
        XCTAssertEqual(back.threads[0].accountedNs, 1_880_000_000)
        XCTAssertEqual(back.threads[0].measuredShares?.onCPU ?? 0, 1.5 / 1.88, accuracy: 1e-9)
        XCTAssertNil(back.threads[1].cpuNs, "a thread without accounting stays without")
        XCTAssertNil(back.threads[1].measuredShares)
        for broken in [(1, 2, nil), (1, nil, 3), (nil, 2, 3), (1, 2, 0)] as [(UInt64?, UInt64?, UInt64?)] {
            var q = p
            (q.threads[0].cpuNs, q.threads[0].runqueueNs, q.threads[0].accountedNs) = broken
            XCTAssertThrowsError(try q.encoded(gzip: false), "\(broken)") { error in
                XCTAssertTrue("\(error)".contains("CPU accounting"), "\(error)")
            }
        }
    }

    func testEncodingRefusesAnInvalidProfileAndWritesNothing() throws {
        var p = Fixtures.small()
        p.samples[3].stack = 99
        var chunks = 0
        XCTAssertThrowsError(try p.write(gzip: true) { _ in chunks += 1 }) { error in
            XCTAssertEqual((error as? ProfileError)?.isInvalid, true, "\(error)")
            XCTAssertTrue("\(error)".contains("sample 3 refers to stack 99"), "\(error)")
        }
        XCTAssertEqual(chunks, 0)
        p = Fixtures.small()
        p.recording.rateHz = .nan
        XCTAssertThrowsError(try p.encoded(gzip: false)) { XCTAssertTrue("\($0)".contains("sampling rate nan")) }
    }

    /// Writing streams: no chunk is large, and the chunks joined are the encoded bytes.
    func testWriteStreamsInBoundedChunks() throws {
        let p = SyntheticProfiles.mutexContention(ticks: 50_000)
        for gzip in [false, true] {
            var joined = Data()
            var largest = 0
            try p.write(gzip: gzip) { chunk in
                largest = max(largest, chunk.count)
                joined.append(contentsOf: chunk)
            }
            XCTAssertLessThanOrEqual(largest, 1 << 18)
            XCTAssertEqual(try Profile.decode(joined), p)
            if !gzip { XCTAssertGreaterThan(joined.count, 4 << 18, "the test should span several chunks") }
        }
    }

    func testGzipRoundTripsAndConcatenatedMembers() throws {
        var rng = SplitMix64(seed: 7)
        let input = Data((0..<300_000).map { _ in UInt8.random(in: 0...20, using: &rng) })
        let gz = try Gzip.compress(input)
        XCTAssertEqual(try Gzip.decompress(gz), input)
        XCTAssertEqual(try Gzip.decompress(Gzip.compress(Data())), Data())
        XCTAssertEqual(try Gzip.decompress(gz + Gzip.compress(Data("tail".utf8))), input + Data("tail".utf8))
        XCTAssertThrowsError(try Gzip.decompress(gz + Data("junk".utf8))) {
            XCTAssertTrue("\($0)".contains("not gzip"), "\($0)")
        }
        XCTAssertThrowsError(try Gzip.decompress(gz.prefix(gz.count / 2))) {
            XCTAssertTrue("\($0)".contains("truncated"), "\($0)")
        }
    }
}
