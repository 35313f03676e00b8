import Foundation

/// libFuzzer entry: `Profile.decode` on arbitrary bytes (JSON, gzip, or neither).
/// The reader's contract: it returns a validated profile or throws a `ProfileError`;
/// it never traps, never reads out of bounds, never hangs.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProfileDecode(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    do {
        let profile = try Profile.decode(data)
        // Whatever decodes must survive a round trip through the writer and reader.
        let again = try Profile.decode(try profile.encoded(gzip: false))
        precondition(again.samples.count == profile.samples.count && again.threads.count == profile.threads.count
                     && again.stacks.count == profile.stacks.count, "a decoded profile did not survive write + read")
    } catch let error as ProfileError {
        // The error must describe itself on one line.
        precondition(!error.description.contains("\n"), "multi-line error: \(error.description)")
    } catch {
        preconditionFailure("Profile.decode threw a non-ProfileError: \(error)")
    }
    return 0
}
