import Foundation

/// Turns C++ (Itanium ABI, `_Z…`) and Swift (`$s…`, `_T0…`) symbol names into readable
/// ones, with libstdc++'s `__cxa_demangle` and the Swift runtime's `swift_demangle`, both
/// looked up at run time so that nothing extra is linked. Anything else is returned
/// unchanged.
public enum Demangler {
    /// The demangled form of `mangled`, or `mangled` itself when it is not a mangled name
    /// (plain C names) or cannot be demangled.
    public static func demangle(_ mangled: String) -> String {
        if mangled.hasPrefix("_Z") {
            return demangleCxx(mangled) ?? mangled
        }
        if isSwiftMangled(mangled) {
            return demangleSwift(mangled) ?? mangled
        }
        return mangled
    }

    /// A name without the suffixes compilers add to clones and partitions of a function:
    /// `take_gil.lto_priv.0` → `take_gil`, `foo.cold` → `foo`, `bar.constprop.0.isra.0` →
    /// `bar`, and for demangled C++ `f() [clone .cold]` → `f()`. Demangles first.
    public static func cleanName(_ raw: String) -> String {
        let demangled = demangle(raw)
        if demangled != raw {
            var name = demangled
            while name.hasSuffix("]"), let clone = name.range(of: " [clone ", options: .backwards) {
                name = String(name[..<clone.lowerBound])
            }
            return name
        }
        if let dot = raw.firstIndex(of: "."), dot != raw.startIndex {
            return String(raw[..<dot])
        }
        return raw
    }

    static func isSwiftMangled(_ name: String) -> Bool {
        name.hasPrefix("$s") || name.hasPrefix("$S") || name.hasPrefix("$e") || name.hasPrefix("_T0")
            || name.hasPrefix("_$s") || name.hasPrefix("_$S") || name.hasPrefix("@__swiftmacro_")
    }

    private typealias CxaDemangle = @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?
    ) -> UnsafeMutablePointer<CChar>?
    private typealias SwiftDemangle = @convention(c) (
        UnsafePointer<CChar>?, Int, UnsafeMutablePointer<CChar>?, UnsafeMutablePointer<Int>?, UInt32
    ) -> UnsafeMutablePointer<CChar>?

    private static func lookup(_ symbol: String, libraries: [String]) -> UnsafeMutableRawPointer? {
        if let own = dlopen(nil, RTLD_NOW), let found = dlsym(own, symbol) { return found }
        for library in libraries {
            if let handle = dlopen(library, RTLD_NOW | RTLD_GLOBAL), let found = dlsym(handle, symbol) { return found }
        }
        return nil
    }

    private static let cxaDemangle: CxaDemangle? =
        lookup("__cxa_demangle", libraries: ["libstdc++.so.6"]).map { unsafeBitCast($0, to: CxaDemangle.self) }
    private static let swiftDemangle: SwiftDemangle? =
        lookup("swift_demangle", libraries: ["libswiftCore.so"]).map { unsafeBitCast($0, to: SwiftDemangle.self) }

    private static func demangleCxx(_ mangled: String) -> String? {
        guard let function = cxaDemangle else { return nil }
        var status: Int32 = 0
        guard let result = function(mangled, nil, nil, &status) else { return nil }
        defer { free(result) }
        return status == 0 ? String(cString: result) : nil
    }

    private static func demangleSwift(_ mangled: String) -> String? {
        guard let function = swiftDemangle else { return nil }
        let name = mangled.hasPrefix("_$") ? String(mangled.dropFirst()) : mangled
        return name.withCString { cString -> String? in
            guard let result = function(cString, strlen(cString), nil, nil, 0) else { return nil }
            defer { free(result) }
            return String(cString: result)
        }
    }
}
