import ForkcastModel

extension Symbolizer {
    /// The mapping row of the frame `frame(for: address, in: map, isReturnAddress:)`
    /// returns: the mapped file, its build-id (when it is an ELF file with one) and the
    /// load bias that `Frame.offset` is relative to. Nil where the frame has no module
    /// (anonymous memory, no mapping).
    /// `files`: as in `frame(for:in:isReturnAddress:files:)` (a process in another root).
    public func mappingInfo(for address: UInt64, in map: AddressSpaceMap, isReturnAddress: Bool,
                            files: [String: String]? = nil) -> MappingInfo? {
        let probe = isReturnAddress && address > 0 ? address - 1 : address
        guard let mapping = map.mapping(containing: probe), !mapping.path.isEmpty else { return nil }
        let module = resolvedModule(for: mapping, files: files)
        // As in frame(for:): the ELF file's own bias, else the file offset's.
        let bias = module?.elf.loadBias(for: mapping) ?? (mapping.start &- mapping.offset)
        return MappingInfo(file: mapping.path, buildId: module?.elf.buildID, loadBias: bias)
    }
}
