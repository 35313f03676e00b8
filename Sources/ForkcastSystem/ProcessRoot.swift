import Glibc

/// A process whose files are not ours to open by name: it runs in a chroot or in
/// another mount namespace (a container), so the paths in its /proc/PID/maps name files
/// inside its own root. Every mapped file is opened through `/proc/PID/root/…` (checked
/// against the mapping's inode) or, failing that, `/proc/PID/map_files/START-END` — the
/// way perf and py-spy read containers — and kept open, so symbolization after the
/// recording (or after the process exited) reads the very file that was mapped.
public final class ProcessRoot {
    /// How the root reads in the profile: the path /proc/PID/root links to (a chroot:
    /// `/srv/jail`), or `mnt:[ID]` when the process is in another mount namespace whose
    /// root the link cannot name from here.
    public let description: String
    public let pid: Int32
    private var descriptors: [String: Int32] = [:]
    private var failed = Set<String>()

    /// The root of `pid` when it is not the recorder's own (nil when it is, or when the
    /// process is gone).
    public static func foreign(pid: Int32) -> ProcessRoot? {
        var theirs = stat(), ours = stat()
        guard stat("/proc/\(pid)/root/", &theirs) == 0, stat("/", &ours) == 0 else { return nil }
        let link = ProcFS.readLink("/proc/\(pid)/root") ?? "/"
        let theirNS = ProcFS.readLink("/proc/\(pid)/ns/mnt")
        let ourNS = ProcFS.readLink("/proc/self/ns/mnt")
        let sameRoot = theirs.st_dev == ours.st_dev && theirs.st_ino == ours.st_ino
        let sameNamespace = theirNS == nil || theirNS == ourNS
        if sameRoot && sameNamespace { return nil }
        if link != "/" { return ProcessRoot(pid: pid, description: link) }
        return ProcessRoot(pid: pid, description: theirNS ?? "/proc/\(pid)/root")
    }

    init(pid: Int32, description: String) {
        self.pid = pid
        self.description = description
    }

    deinit { for fd in descriptors.values { close(fd) } }

    /// A path the recorder can open that holds the file `mapping` maps (as the process
    /// sees it), or nil when it cannot be opened and verified. Call while the process
    /// lives; the answer stays valid after it exits.
    public func openPath(for mapping: MemoryMapping) -> String? {
        guard mapping.isFileBacked else { return nil }
        if let fd = descriptors[mapping.path] { return "/proc/self/fd/\(fd)" }
        if failed.contains(mapping.path) { return nil }
        var fd = open("/proc/\(pid)/root\(mapping.path)", O_RDONLY | O_CLOEXEC)
        if fd >= 0 {
            var st = stat()
            if fstat(fd, &st) != 0 || (mapping.inode != 0 && UInt64(st.st_ino) != mapping.inode) {
                close(fd)   // another file by that name now: not the one mapped
                fd = -1
            }
        }
        if fd < 0 {
            let name = "/proc/\(pid)/map_files/\(String(mapping.start, radix: 16))-\(String(mapping.end, radix: 16))"
            fd = open(name, O_RDONLY | O_CLOEXEC)
        }
        guard fd >= 0 else {
            failed.insert(mapping.path)
            return nil
        }
        descriptors[mapping.path] = fd
        return "/proc/self/fd/\(fd)"
    }

    /// Opens every file-backed mapping of `mappings` now (while the process lives).
    public func openAll(_ mappings: [MemoryMapping]) {
        for m in mappings where m.isFileBacked && m.permissions.contains("x") { _ = openPath(for: m) }
    }

    /// Mapping path (as the process sees it) → path to open, for the symbolizer.
    public var files: [String: String] {
        descriptors.mapValues { "/proc/self/fd/\($0)" }
    }
}
