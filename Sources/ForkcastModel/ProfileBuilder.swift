/// Builds a `Profile` incrementally, interning frames, stacks and waits so each distinct
/// value is stored once. Used by the recorder and by tests that make synthetic profiles.
public struct ProfileBuilder: Sendable {
    private var storage: Profile
    /// The profile built so far, `normalized()`: each sample refers to its thread row
    /// (found from its pid, tid and time where not given) and each frame with a module
    /// to a mapping row — as the writer writes it and the reader returns it.
    public var profile: Profile { storage.normalized() }
    private var frameIndex: [Frame: Int32] = [:]
    private var stackIndex: [Stack: Int32] = [:]
    private var waitIndex: [WaitInfo: Int32] = [:]
    private var mappingIndex: [MappingInfo: Int32] = [:]

    public init(recording: RecordingInfo) {
        storage = Profile(recording: recording)
    }

    public mutating func intern(_ frame: Frame) -> Int32 {
        if let i = frameIndex[frame] { return i }
        let i = Int32(storage.frames.count)
        storage.frames.append(frame)
        frameIndex[frame] = i
        return i
    }

    public mutating func intern(_ stack: Stack) -> Int32 {
        if let i = stackIndex[stack] { return i }
        let i = Int32(storage.stacks.count)
        storage.stacks.append(stack)
        stackIndex[stack] = i
        return i
    }

    /// Interns a stack given as frames, leaf first.
    public mutating func intern(frames: [Frame], truncated: Bool) -> Int32 {
        intern(Stack(frames: frames.map { intern($0) }, truncated: truncated))
    }

    public mutating func intern(_ wait: WaitInfo) -> Int32 {
        if let i = waitIndex[wait] { return i }
        let i = Int32(storage.waits.count)
        storage.waits.append(wait)
        waitIndex[wait] = i
        return i
    }

    /// Interns a mapping row; set the index as `Frame.mapping` of the frames from it.
    public mutating func intern(_ mapping: MappingInfo) -> Int32 {
        if let i = mappingIndex[mapping] { return i }
        let i = Int32(storage.mappings.count)
        storage.mappings.append(mapping)
        mappingIndex[mapping] = i
        return i
    }

    public mutating func add(_ sample: Sample) { storage.samples.append(sample) }
    public mutating func add(_ process: ProcessInfo) { storage.processes.append(process) }
    public mutating func add(_ thread: ThreadInfo) { storage.threads.append(thread) }
    public mutating func update(_ body: (inout Profile) -> Void) { body(&storage) }
}
