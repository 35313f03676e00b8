import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// Format version 2: samples by thread row, frames by mapping row; version 1 files (as
/// checked in, and as the fuzz seeds hold them) still read, into the same profile.
final class ProfileVersionTests: XCTestCase {
    static let profiles = Fixtures.repoRoot.appendingPathComponent("Tests/Fixtures/profiles")
    static let seeds = Fixtures.repoRoot.appendingPathComponent("fuzz/seeds/profile")

    /// Every checked-in version 1 file reads; each sample lands on a thread row with its
    /// (pid, tid), each frame keeps its module through a mapping row, and written again
    /// (as version 2) it reads back equal.
    func testCheckedInVersion1FilesRead() throws {
        let files = [Self.profiles.appendingPathComponent("v1-example.json"),
                     Self.profiles.appendingPathComponent("v1-tid-reuse.json"),
                     Self.seeds.appendingPathComponent("churn.json"),
                     Self.seeds.appendingPathComponent("sleep.json.gz")]
        for url in files {
            let data = try Data(contentsOf: url)
            let raw = try JSONSerialization.jsonObject(with: Gzip.isGzip(data) ? Gzip.decompress(data) : data) as! [String: Any]
            XCTAssertEqual(raw["format_version"] as? Int, 1, "\(url.lastPathComponent) is meant to be a version 1 file")
            let p = try Profile.decode(data)
            XCTAssertFalse(p.samples.isEmpty, url.lastPathComponent)
            let columns = raw["samples"] as! [String: [Int]]
            for (i, s) in p.samples.enumerated() {
                XCTAssertGreaterThanOrEqual(s.thread, 0)
                XCTAssertEqual(p.threads[Int(s.thread)].pid, s.pid)
                XCTAssertEqual(p.threads[Int(s.thread)].tid, s.tid)
                XCTAssertEqual(Int(s.tid), columns["tid"]![i], "\(url.lastPathComponent) sample \(i)")
            }
            let rawFrames = raw["frames"] as! [[String: Any]]
            for (i, f) in p.frames.enumerated() {
                XCTAssertEqual(f.module, rawFrames[i]["module"] as? String, "\(url.lastPathComponent) frame \(i)")
                if let m = f.mapping { XCTAssertEqual(p.mappings[Int(m)].file, f.module) } else { XCTAssertNil(f.module) }
            }
            XCTAssertEqual(Set(p.mappings.map(\.file)).count, p.mappings.count, "one mapping row per module path")
            let again = try Profile.decode(p.encoded(gzip: false))
            XCTAssertEqual(again, p, url.lastPathComponent)
        }
    }

    /// The fuzz seeds cover both versions, and each reads to the same profile as its
    /// version 1 original (churn-v2.json was made from churn.json).
    func testFuzzSeedsOfBothVersionsRead() throws {
        let v1 = try Profile.decode(Data(contentsOf: Self.seeds.appendingPathComponent("churn.json")))
        let v2data = try Data(contentsOf: Self.seeds.appendingPathComponent("churn-v2.json"))
        XCTAssertTrue(String(decoding: v2data.prefix(60), as: UTF8.self).contains("\"format_version\":2"))
        XCTAssertEqual(try Profile.decode(v2data), v1)
    }

    /// A version 1 file with a reused thread id: each sample goes to the row alive at its
    /// time, and version 2 keeps them apart.
    func testReusedThreadIdKeepsItsTwoRows() throws {
        let p = try Profile.decode(Data(contentsOf: Self.profiles.appendingPathComponent("v1-tid-reuse.json")))
        XCTAssertEqual(p.threads.count, 3)
        XCTAssertEqual(p.samples.map(\.thread), [0, 1, 1, 0, 2, 2])
        XCTAssertEqual(p.samples.map { p.threads[Int($0.thread)].name }, ["demo", "first", "first", "demo", "second", "second"])

        // Written as version 2, the rows are the file's, not found again by time: move the
        // second thread's samples to a time the first thread was alive, and they stay.
        var moved = p
        moved.samples[4].timeNs = 10_000_000
        moved.samples[5].timeNs = 20_000_000
        let back = try Profile.decode(moved.encoded(gzip: false))
        XCTAssertEqual(back.samples.map(\.thread), [0, 1, 1, 0, 2, 2])
        let tree = try JSONSerialization.jsonObject(with: moved.encoded(gzip: false)) as! [String: Any]
        XCTAssertEqual((tree["samples"] as! [String: Any])["thread"] as? [Int], [0, 1, 1, 0, 2, 2])
        XCTAssertNil((tree["samples"] as! [String: Any])["tid"], "version 2 has no tid column")
    }

    /// Samples made in memory with only (pid, tid) get their row when written; a sample
    /// whose row contradicts its ids is refused.
    func testRowsAreResolvedAndChecked() throws {
        var p = try Profile.decode(Data(contentsOf: Self.profiles.appendingPathComponent("v1-tid-reuse.json")))
        for i in p.samples.indices { p.samples[i].thread = -1 }
        XCTAssertEqual(p.normalized().samples.map(\.thread), [0, 1, 1, 0, 2, 2])
        XCTAssertEqual(try Profile.decode(p.encoded(gzip: false)).samples.map(\.thread), [0, 1, 1, 0, 2, 2])
        p.samples[1].thread = 0
        XCTAssertThrowsError(try p.encoded(gzip: false)) { error in
            XCTAssertEqual("\(error)", "invalid profile: sample 1 is of thread 5001 in process 5000, but its thread row 0 is thread 5000 in process 5000")
        }
    }

    /// Mapping rows keep build-id and load bias; the module path is written once.
    func testMappingRowsRoundTrip() throws {
        var p = Fixtures.small()
        let lib = "/usr/lib/x86_64-linux-gnu/libc.so.6"
        let first = Int32(p.mappings.count)
        p.mappings += [MappingInfo(file: lib, buildId: "feedface", loadBias: 0x7f00_0000_0000),
                       MappingInfo(file: lib, buildId: "feedface", loadBias: 0x7f11_0000_0000)]
        p.frames.append(Frame(kind: .native, name: "pthread_mutex_lock", module: lib, offset: 0x9a0, mapping: first))
        p.frames.append(Frame(kind: .native, name: "pthread_mutex_lock", module: lib, offset: 0x9a0, mapping: first + 1))
        let json = try p.encoded(gzip: false)
        let back = try Profile.decode(json)
        XCTAssertEqual(back, p.normalized())
        XCTAssertEqual(back.mappings[Int(first)], MappingInfo(file: lib, buildId: "feedface", loadBias: 0x7f00_0000_0000))
        XCTAssertEqual(back.frames.suffix(2).map(\.module), [lib, lib])
        XCTAssertEqual(back.frames.suffix(2).map(\.mapping), [first, first + 1])
        let text = String(decoding: json, as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "\"\(lib.replacingOccurrences(of: "/", with: "/"))\"").count - 1, 2,
                       "the library's path is written once per mapping row, never per frame")
        // Codable (for messages) reads and writes the same rows.
        XCTAssertEqual(try JSONDecoder().decode(Profile.self, from: JSONEncoder().encode(p)), p.normalized())
    }
}
