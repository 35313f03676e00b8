import Foundation

// The process helpers these tests use (`Proc`, `spawn`, `reap`, `waitUntil`) live in
// ForkcastTestSupport/Processes.swift, shared with every test target.

/// A set-up step of a hardening test failed (a fixture did not build, a tool is missing).
struct HardeningFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
