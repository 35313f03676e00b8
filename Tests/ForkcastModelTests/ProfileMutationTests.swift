import Foundation
import XCTest
@testable import ForkcastModel
import ForkcastTestSupport

/// Property: whatever damage a file suffers, `Profile.decode` either throws a one-line
/// `ProfileError` or returns a profile that passes `validate()`. A crash fails the run.
final class ProfileMutationTests: XCTestCase {
    enum Mutation: CaseIterable { case flipBit, setByte, truncate, deleteRange, duplicateRange, insertDigit, swapBytes }

    func mutate(_ data: Data, _ rng: inout SplitMix64) -> Data {
        var bytes = [UInt8](data)
        let rounds = Int.random(in: 1...3, using: &rng)
        for _ in 0..<rounds where !bytes.isEmpty {
            let i = Int.random(in: 0..<bytes.count, using: &rng)
            switch Mutation.allCases.randomElement(using: &rng)! {
            case .flipBit: bytes[i] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case .setByte:
                bytes[i] = [UInt8(ascii: "\""), UInt8(ascii: "-"), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ","),
                            UInt8(ascii: "9"), UInt8(ascii: "\\"), 0, 0xff].randomElement(using: &rng)!
            case .truncate: bytes.removeSubrange(i...)
            case .deleteRange: bytes.removeSubrange(i..<min(bytes.count, i + Int.random(in: 1...40, using: &rng)))
            case .duplicateRange:
                let piece = bytes[i..<min(bytes.count, i + Int.random(in: 1...40, using: &rng))]
                bytes.insert(contentsOf: piece, at: i)
            case .insertDigit: bytes.insert(UInt8(ascii: "0") + UInt8.random(in: 0...9, using: &rng), at: i)
            case .swapBytes:
                let j = Int.random(in: 0..<bytes.count, using: &rng)
                bytes.swapAt(i, j)
            }
        }
        return Data(bytes)
    }

    func check(_ original: Data, count: Int, seed: UInt64, gzipAfter: Bool = false) {
        var rng = SplitMix64(seed: seed)
        var decoded = 0, rejected = 0
        for n in 0..<count {
            var bad = mutate(original, &rng)
            if gzipAfter { bad = try! Gzip.compress(bad) }
            do {
                let p = try Profile.decode(bad)
                XCTAssertNoThrow(try p.validate(), "mutation \(n) decoded to an invalid profile")
                decoded += 1
            } catch let error as ProfileError {
                let text = error.description
                XCTAssertFalse(text.isEmpty || text.contains("\n"), "mutation \(n): not one line: \(text)")
                rejected += 1
            } catch {
                XCTFail("mutation \(n) threw \(type(of: error)), not ProfileError: \(error)")
            }
        }
        XCTAssertEqual(decoded + rejected, count)
        XCTAssertGreaterThan(rejected, count / 2, "most mutations should be caught")
    }

    func testMutatedJSONNeverCrashes() throws {
        check(try Fixtures.everyField().encoded(gzip: false), count: 3000, seed: 1)
        check(try Fixtures.small().encoded(gzip: false), count: 1000, seed: 2)
    }

    func testMutatedGzipNeverCrashes() throws {
        check(try Fixtures.small().encoded(gzip: true), count: 1500, seed: 3)
        // Intact gzip around damaged JSON: the JSON checks run behind decompression too.
        check(try Fixtures.everyField().encoded(gzip: false), count: 500, seed: 4, gzipAfter: true)
    }
}
