/// A sorted, de-duplicated table of function symbols for address lookup by binary search.
///
/// Symbols of size 0 (hand-written assembly, some linker-made symbols) cover the space up
/// to the next symbol or the end of their section, whichever comes first. Where several
/// symbols share an address one is kept: sized over unsized, global over local, then the
/// name with fewer leading underscores, then the shorter name (`malloc` over `__libc_malloc`).
public struct SymbolTable: Sendable {
    private let starts: [UInt64]
    private let ends: [UInt64]
    private let sizes: [UInt64]
    /// Raw (mangled) names, parallel to the address arrays.
    public let names: [String]

    public init(_ symbols: [ElfSymbol]) {
        let sorted = symbols.sorted { a, b in
            a.address != b.address ? a.address < b.address : SymbolTable.better(a, than: b)
        }
        var starts: [UInt64] = [], ends: [UInt64] = [], sizes: [UInt64] = [], names: [String] = []
        starts.reserveCapacity(sorted.count)
        for symbol in sorted where starts.last != symbol.address {
            starts.append(symbol.address)
            sizes.append(symbol.size)
            ends.append(symbol.size > 0 ? symbol.address &+ symbol.size : symbol.sectionEnd)
            names.append(symbol.name)
        }
        self.starts = starts
        self.ends = ends
        self.sizes = sizes
        self.names = names
    }

    private static func better(_ a: ElfSymbol, than b: ElfSymbol) -> Bool {
        if (a.size > 0) != (b.size > 0) { return a.size > 0 }
        if a.isLocal != b.isLocal { return !a.isLocal }
        let ua = a.name.prefix { $0 == "_" }.count, ub = b.name.prefix { $0 == "_" }.count
        if ua != ub { return ua < ub }
        if a.name.utf8.count != b.name.utf8.count { return a.name.utf8.count < b.name.utf8.count }
        return a.name < b.name
    }

    public var count: Int { starts.count }
    public var isEmpty: Bool { starts.isEmpty }

    /// The index of the symbol covering the file virtual address `address`, or nil.
    public func index(containing address: UInt64) -> Int? {
        var low = 0, high = starts.count
        while low < high {
            let mid = (low &+ high) >> 1
            if starts[mid] <= address { low = mid &+ 1 } else { high = mid }
        }
        guard low > 0 else { return nil }
        let nearest = low - 1
        if address < ends[nearest] { return nearest }
        // A larger sized symbol may enclose a smaller one that ended before `address`.
        var j = nearest - 1
        while j >= 0, j >= nearest - 16 {
            if sizes[j] > 0, address < ends[j] { return j }
            j -= 1
        }
        return nil
    }

    /// The start (file virtual address) of symbol `index`.
    public func address(at index: Int) -> UInt64 { starts[index] }
    /// The size of symbol `index` (0 when unknown).
    public func size(at index: Int) -> UInt64 { sizes[index] }
}
