/// Builds a `Profile` incrementally, interning frames, stacks and waits so each distinct
/// value is stored once. Used by the recorder and by tests that make synthetic profiles.
public struct ProfileBuilder: Sendable {
    private var storage: Profile
    /// The profile built so far, `normalized()`: each sample refers to its thread row
    /// (found from its pid, tid and time where not given) and each frame with a module
    /// to a mapping row — as the writer writes it and the reader returns it.
    public var profile: Profile { storage.normalized() }
    private var frameIndex = InternIndex<Frame>()
    private var stackIndex = InternIndex<Stack>()
    private var waitIndex = InternIndex<WaitInfo>()
    private var mappingIndex = InternIndex<MappingInfo>()

    public init(recording: RecordingInfo) {
        storage = Profile(recording: recording)
    }

    public mutating func intern(_ frame: Frame) -> Int32 {
        frameIndex.intern(frame, into: &storage.frames)
    }

    public mutating func intern(_ stack: Stack) -> Int32 {
        stackIndex.intern(stack, into: &storage.stacks)
    }

    /// Interns a stack given as frames, leaf first.
    public mutating func intern(frames: [Frame], truncated: Bool) -> Int32 {
        intern(Stack(frames: frames.map { intern($0) }, truncated: truncated))
    }

    public mutating func intern(_ wait: WaitInfo) -> Int32 {
        waitIndex.intern(wait, into: &storage.waits)
    }

    /// Interns a mapping row; set the index as `Frame.mapping` of the frames from it.
    public mutating func intern(_ mapping: MappingInfo) -> Int32 {
        mappingIndex.intern(mapping, into: &storage.mappings)
    }

    public mutating func add(_ sample: Sample) { storage.samples.append(sample) }
    public mutating func add(_ process: ProcessInfo) { storage.processes.append(process) }
    public mutating func add(_ thread: ThreadInfo) { storage.threads.append(thread) }
    public mutating func update(_ body: (inout Profile) -> Void) { body(&storage) }
}

/// Row numbers of distinct values appended to a table: each value is stored once.
struct InternIndex<Element: Hashable & Sendable>: Sendable {
    private var rows: [Element: Int32] = [:]

    /// The row of `value` in `table`, appending it the first time it is seen.
    mutating func intern(_ value: Element, into table: inout [Element]) -> Int32 {
        if let row = rows[value] { return row }
        let row = Int32(table.count)
        table.append(value)
        rows[value] = row
        return row
    }
}
