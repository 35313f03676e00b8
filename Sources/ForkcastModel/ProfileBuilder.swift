/// Builds a `Profile` incrementally, interning frames, stacks and waits so each distinct
/// value is stored once. Used by the recorder and by tests that make synthetic profiles.
public struct ProfileBuilder: Sendable {
    public private(set) var profile: Profile
    private var frameIndex: [Frame: Int32] = [:]
    private var stackIndex: [Stack: Int32] = [:]
    private var waitIndex: [WaitInfo: Int32] = [:]

    public init(recording: RecordingInfo) {
        profile = Profile(recording: recording)
    }

    public mutating func intern(_ frame: Frame) -> Int32 {
        if let i = frameIndex[frame] { return i }
        let i = Int32(profile.frames.count)
        profile.frames.append(frame)
        frameIndex[frame] = i
        return i
    }

    public mutating func intern(_ stack: Stack) -> Int32 {
        if let i = stackIndex[stack] { return i }
        let i = Int32(profile.stacks.count)
        profile.stacks.append(stack)
        stackIndex[stack] = i
        return i
    }

    /// Interns a stack given as frames, leaf first.
    public mutating func intern(frames: [Frame], truncated: Bool) -> Int32 {
        intern(Stack(frames: frames.map { intern($0) }, truncated: truncated))
    }

    public mutating func intern(_ wait: WaitInfo) -> Int32 {
        if let i = waitIndex[wait] { return i }
        let i = Int32(profile.waits.count)
        profile.waits.append(wait)
        waitIndex[wait] = i
        return i
    }

    public mutating func add(_ sample: Sample) { profile.samples.append(sample) }
    public mutating func add(_ process: ProcessInfo) { profile.processes.append(process) }
    public mutating func add(_ thread: ThreadInfo) { profile.threads.append(thread) }
    public mutating func update(_ body: (inout Profile) -> Void) { body(&profile) }
}
