import Foundation

/// libFuzzer entry: the /proc text parsers (`ProcParse.stat`, `.schedstat`, `.syscall`,
/// `.statusField`, `ProcMaps.parse` + `AddressSpaceMap`) on arbitrary text. They must
/// return nil or skip bad lines, never trap. The first byte picks the parser so one
/// corpus covers them all.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProcParse(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
    switch bytes[0] % 5 {
    case 0:
        if let stat = ProcParse.stat(Substring(text)) {
            // comm is what lies between the first '(' and the last ')', whatever it holds.
            precondition(text.contains("(" + stat.comm + ")"), "comm not taken between the parentheses")
        }
    case 1: _ = ProcParse.schedstat(Substring(text))
    case 2: _ = ProcParse.syscall(Substring(text))
    case 3:
        if let value = ProcParse.statusField(text, "Tgid") {
            precondition(!value.contains("\n"), "a status field ran past its line")
        }
    default:
        let mappings = ProcMaps.parse(text)
        for mapping in mappings {
            precondition(mapping.start <= mapping.end, "a mapping ends before it starts")
            precondition(mapping.permissions.utf8.count == 4, "permissions are not 4 characters")
        }
        let map = AddressSpaceMap(mappings)
        for mapping in mappings.prefix(32) {
            if let found = map.mapping(containing: mapping.start) {
                precondition(found.contains(mapping.start), "lookup returned a mapping not holding the address")
            }
        }
    }
    return 0
}
