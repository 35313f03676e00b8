import XCTest
import ForkcastModel
@testable import ForkcastSampling
import ForkcastSystem

final class ClassifierTests: XCTestCase {
    func testSyscallsMapToStates() {
        XCTAssertEqual(SyscallClassifier.classify(number: 202, args: [0x1234, 0, 0, 0, 0, 0]).state, .lockWait)
        XCTAssertEqual(SyscallClassifier.classify(number: 202, args: [0x1234, 0, 0, 0, 0, 0]).futexAddress, 0x1234)
        XCTAssertEqual(SyscallClassifier.classify(number: 45, args: [7, 0, 0, 0, 0, 0]).state, .ioWait)
        XCTAssertEqual(SyscallClassifier.classify(number: 45, args: [7, 0, 0, 0, 0, 0]).fd, .firstArgument)
        XCTAssertEqual(SyscallClassifier.classify(number: 7, args: [0, 1, 0, 0, 0, 0]).fd, .pollArray)
        XCTAssertEqual(SyscallClassifier.classify(number: 230, args: []).state, .sleep)
        XCTAssertEqual(SyscallClassifier.classify(number: 61, args: []).state, .childWait)
        XCTAssertEqual(SyscallClassifier.classify(number: 219, args: []).name, "restart_syscall")
        XCTAssertEqual(SyscallClassifier.classify(number: 9999, args: []).state, .other)
    }

    func testRestartSyscallIsClassifiedFromTheStack() {
        let wait = WaitInfo(syscall: "restart_syscall")
        func frames(_ names: String...) -> [Frame] { names.map { Frame(kind: .native, name: $0) } }
        XCTAssertEqual(StackStateRules.refine(.other, wait: wait, frames: frames("__GI___clock_nanosleep", "__nanosleep", "main")), .sleep)
        XCTAssertEqual(StackStateRules.refine(.other, wait: wait, frames: frames("__futex_abstimed_wait_common", "__lll_lock_wait", "pthread_mutex_lock")), .lockWait)
        XCTAssertEqual(StackStateRules.refine(.other, wait: wait, frames: frames("__GI___poll", "sock_recv")), .ioWait)
        XCTAssertEqual(StackStateRules.refine(.other, wait: wait, frames: frames("mystery")), .other)
        // Only restart_syscall is refined.
        XCTAssertEqual(StackStateRules.refine(.lockWait, wait: WaitInfo(syscall: "futex"), frames: frames("nanosleep")), .lockWait)
    }

    func testOnCPUVersusRunnableFromSchedstat() {
        let a = SchedStat(runNs: 1_000, waitNs: 1_000, slices: 1)
        XCTAssertEqual(TraceSession.runState(a, SchedStat(runNs: 9_000_000, waitNs: 2_000, slices: 2)), .onCPU)
        XCTAssertEqual(TraceSession.runState(a, SchedStat(runNs: 2_000, waitNs: 8_000_000, slices: 2)), .runnable)
        XCTAssertEqual(TraceSession.runState(nil, a), .onCPU)
    }

    func testProcParsersTolerateOddNames() throws {
        let stat = "1234 (a) b (c)) S 1 1234 1234 0 -1 4194560 100 0 0 0 7 3 0 0 20 0 1 0 5555 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        let parsed = try XCTUnwrap(ProcParse.stat(Substring(stat)))
        XCTAssertEqual(parsed.comm, "a) b (c)")
        XCTAssertEqual(parsed.state, UInt8(ascii: "S"))
        XCTAssertEqual(parsed.ppid, 1)
        XCTAssertEqual(parsed.utimeTicks, 7)
        XCTAssertEqual(parsed.processor, 1)
        XCTAssertNil(ProcParse.stat("garbage"))
        // The reuse check reads only the state letter, after the name's last ')'.
        XCTAssertEqual(ProcParse.statState(Substring(stat)), UInt8(ascii: "S"))
        XCTAssertEqual(ProcParse.statState("9 (x) R) D 1 2"), UInt8(ascii: "D"))
        XCTAssertNil(ProcParse.statState("garbage"))
        XCTAssertNil(ProcParse.statState("1 (x)"))
        XCTAssertEqual(ProcParse.syscall("running\n"), .running)
        XCTAssertEqual(ProcParse.syscall("202 0x7f00 0x80 0x0 0x0 0x0 0x0 0x7ffd10 0x7f0020\n"),
                       .inSyscall(number: 202, args: [0x7f00, 0x80, 0, 0, 0, 0], sp: 0x7ffd10, pc: 0x7f0020))
        XCTAssertEqual(ProcParse.syscall("-1 0x7ffd10 0x7f0020\n"), .blockedOutsideSyscall(sp: 0x7ffd10, pc: 0x7f0020))
        XCTAssertNil(ProcParse.syscall("nonsense"))
        XCTAssertEqual(ProcParse.schedstat("100 200 3\n"), SchedStat(runNs: 100, waitNs: 200, slices: 3))
    }

    func testSocketAddressDecoding() {
        XCTAssertEqual(FDDescriber.address("0100007F:1F90", family: 4), "127.0.0.1:8080")
        XCTAssertEqual(FDDescriber.address("00000000000000000000000001000000:0050", family: 6), "[::1]:80")
        XCTAssertEqual(FDDescriber.address("0000000000000000FFFF00000100007F:0050", family: 6), "127.0.0.1:80")
    }
}
