import Foundation
import XCTest
import ForkcastTestSupport
@testable import ForkcastSystem

/// Builds small C/C++ programs in a temporary directory and runs them, for the
/// symbolization tests.
final class NativeFixture {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-symbols-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    /// Runs a tool found on PATH and fails the test (throws) unless it exits 0; returns its stdout.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let r = try Fixtures.run("/usr/bin/env", [tool] + arguments)
        guard r.status == 0 else {
            throw Fixtures.Failure(description: "\(tool) \(arguments.joined(separator: " ")) failed: \(r.stderr)\(r.stdout)")
        }
        return r.stdout
    }

    /// Compiles `source` (C, or C++ when `cxx`) into `name` with extra flags.
    @discardableResult
    func compile(_ source: String, into name: String, flags: [String], cxx: Bool = false) throws -> String {
        let sourcePath = path(name + (cxx ? ".cpp" : ".c"))
        try source.write(toFile: sourcePath, atomically: true, encoding: .utf8)
        let output = path(name)
        try NativeFixture.run(cxx ? "c++" : "cc", flags + ["-o", output, sourcePath])
        return output
    }

    /// The C program the tests symbolize: prints the addresses of an exported function, a
    /// static function and a global object, then waits until stdin closes.
    static let cSource = """
    #include <stdio.h>
    #include <unistd.h>
    int fc_global_counter = 1;
    __attribute__((noinline)) int fc_exported_work(int x) {
        for (int i = 0; i < x; i++) fc_global_counter += i * 3 + (fc_global_counter >> 3);
        return fc_global_counter;
    }
    static __attribute__((noinline)) int fc_static_work(int x) {
        volatile int y = x;
        for (int i = 0; i < y; i++) y += fc_exported_work(i) & 1;
        return y * 7 + fc_exported_work(x);
    }
    int (*volatile fc_keep)(int) = fc_static_work;
    int main(void) {
        printf("%p %p %p\\n", (void *)fc_exported_work, (void *)fc_static_work, (void *)&fc_global_counter);
        fflush(stdout);
        char buffer[16];
        while (read(0, buffer, sizeof buffer) > 0) {}
        return fc_keep(0) & 0;
    }
    """

    static let cxxSource = """
    #include <cstdio>
    #include <unistd.h>
    namespace ns {
    struct Widget {
        static int state;
        __attribute__((noinline)) static int compute(int x);
    };
    int Widget::state = 3;
    int Widget::compute(int x) { for (int i = 0; i < x; i++) state = state * 31 + i; return state; }
    template <typename T> __attribute__((noinline)) T twice(T value) { return value + value + Widget::state; }
    }
    int main() {
        std::printf("%p %p\\n", reinterpret_cast<void *>(&ns::Widget::compute), reinterpret_cast<void *>(&ns::twice<long>));
        std::fflush(stdout);
        char buffer[16];
        while (read(0, buffer, sizeof buffer) > 0) {}
        return (ns::Widget::compute(0) + static_cast<int>(ns::twice<long>(1))) & 0;
    }
    """
}

/// A running fixture program that printed one line (of hex addresses) and waits for stdin to
/// close. `init` returns once that line is read, so the program is past exec and loading.
final class RunningFixture {
    let program: BackgroundProgram
    let addresses: [UInt64]

    init(executable: String, arguments: [String] = []) throws {
        program = try BackgroundProgram([executable] + arguments, stdout: .pipe, stdinPipe: true)
        addresses = program.readLine()
            .split(whereSeparator: { $0 == " " })
            .compactMap { UInt64($0.hasPrefix("0x") ? $0.dropFirst(2) : $0[...], radix: 16) }
    }

    var pid: Int32 { program.pid }

    func finish() {
        program.closeInput()
        program.wait()
    }
}

extension ProcMaps {
    static func readLinkForTests(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
