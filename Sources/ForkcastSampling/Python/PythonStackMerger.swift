import ForkcastModel

/// Merges a thread's Python stack into its native stack, as `py-spy --native` does.
///
/// Both stacks are **leaf first**. Each native `_PyEval_EvalFrameDefault` frame is one
/// call of the interpreter loop; the Python frames it was running are the run of the
/// Python stack that ends (towards the root) at a frame marked `isEntry`. So the Python
/// stack is split after each entry frame into groups, and the i-th eval frame (counted
/// from the root) is replaced by the i-th group (counted from the root). Native frames
/// that are not eval frames — C extensions, the runtime, libc — stay where they are.
///
/// When the counts differ (a truncated native unwind, a frame chain read a moment
/// apart from the native stack), groups and eval frames are paired from the root:
/// - more eval frames than groups: the leaf-most surplus eval frames stay as native frames;
/// - more groups than eval frames: the leaf-most eval frame takes all remaining groups;
/// - no eval frame at all: the Python frames go after the native frames (root side),
///   or replace an empty native stack.
public enum PythonStackMerger {
    /// True for the interpreter loop's frame (also with a compiler suffix such as
    /// `_PyEval_EvalFrameDefault.cold`).
    public static func isEvalFrame(_ frame: Frame) -> Bool {
        frame.kind == .native && hasName(frame.name, "_PyEval_EvalFrameDefault")
    }

    /// `name` is `base`, or `base` followed by a `.suffix` (LTO and hot/cold splits).
    static func hasName(_ name: String, _ base: String) -> Bool {
        name == base || (name.hasPrefix(base) && name.dropFirst(base.count).first == ".")
    }

    /// The merged stack, leaf first.
    public static func merge(native: [Frame], python: [PythonFrame]) -> [Frame] {
        guard !python.isEmpty else { return native }
        // Groups, leaf first; each ends with its entry frame (the last may lack one if
        // the chain was cut).
        var groups: [[Frame]] = [[]]
        for frame in python {
            groups[groups.count - 1].append(Frame(kind: .python, name: frame.name, file: frame.file, line: frame.line))
            if frame.isEntry { groups.append([]) }
        }
        if groups.last?.isEmpty == true { groups.removeLast() }

        let evalIndices = native.indices.filter { isEvalFrame(native[$0]) }
        if evalIndices.isEmpty {
            return native + groups.flatMap { $0 }
        }
        // Pair from the root: the outermost eval frame gets the outermost group.
        var replacement: [Int: [Frame]] = [:]
        let pairs = min(evalIndices.count, groups.count)
        for k in 0..<pairs {
            let evalIndex = evalIndices[evalIndices.count - 1 - k]
            replacement[evalIndex] = groups[groups.count - 1 - k]
        }
        if groups.count > evalIndices.count {
            // The leaf-most paired eval frame also takes the leaf-side groups left over.
            let leafMostEval = evalIndices[evalIndices.count - pairs]
            let extra = groups[0..<(groups.count - pairs)].flatMap { $0 }
            replacement[leafMostEval] = extra + (replacement[leafMostEval] ?? [])
        }
        var merged: [Frame] = []
        merged.reserveCapacity(native.count + python.count)
        for (index, frame) in native.enumerated() {
            if let frames = replacement[index] { merged.append(contentsOf: frames) } else { merged.append(frame) }
        }
        return merged
    }
}
