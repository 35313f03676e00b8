import XCTest
@testable import ForkcastSystem

final class SymbolDemanglerTests: XCTestCase {
    func testCxx() {
        XCTAssertEqual(Demangler.demangle("_ZN2ns6Widget7computeEi"), "ns::Widget::compute(int)")
        XCTAssertEqual(Demangler.demangle("_ZNSt6vectorIiSaIiEE9push_backERKi"), "std::vector<int, std::allocator<int> >::push_back(int const&)")
        XCTAssertEqual(Demangler.demangle("_ZN3foo3barEv.cold"), "foo::bar() [clone .cold]")
    }

    func testSwift() {
        XCTAssertEqual(Demangler.demangle("$s4main3fooyyF"), "main.foo() -> ()")
        XCTAssertEqual(Demangler.demangle("$sSS5countSivg"), "Swift.String.count.getter : Swift.Int")
    }

    func testNotMangledIsUnchanged() {
        for name in ["malloc", "take_gil.lto_priv.0", "_start", "_Zgarbage!", "$notswift", "", "__libc_start_main"] {
            XCTAssertEqual(Demangler.demangle(name), name)
        }
    }

    func testCleanName() {
        XCTAssertEqual(Demangler.cleanName("take_gil.lto_priv.0"), "take_gil")
        XCTAssertEqual(Demangler.cleanName("_PyEval_EvalFrameDefault.cold"), "_PyEval_EvalFrameDefault")
        XCTAssertEqual(Demangler.cleanName("foo.constprop.0.isra.0"), "foo")
        XCTAssertEqual(Demangler.cleanName("_ZN3foo3barEv.cold"), "foo::bar()")
        XCTAssertEqual(Demangler.cleanName("malloc"), "malloc")
        XCTAssertEqual(Demangler.cleanName(".hidden"), ".hidden")
    }
}
