import Foundation
import ForkcastSystem

/// Finds the interpreters named by `--python A,B` and the command words that run each.
///
/// An interpreter is looked up, in order: as a path; on PATH; under the Forkcast cache
/// (`~/.cache/forkcast/*/bin/NAME` or `*/*/bin/NAME`, where scripts/assets/cpython-3.13.sh
/// builds 3.13 and 3.13t from Debian's sources); in the cached Debian sid chroot (`~/.cache/forkcast/sid-chroot`, made by
/// scripts/assets/sid-chroot.sh). An interpreter inside the chroot runs in a private
/// mount namespace where the working directory, the experiment's folder (the swap hook,
/// the run reports) and the folders of the command's absolute paths are bind-mounted
/// at the same paths, so the program and the hook see the files they see outside.
public enum PythonInterpreters {
    /// The cache Forkcast's set-up scripts fill (FORKCAST_CACHE overrides ~/.cache/forkcast).
    public static var cacheDirectory: String {
        if let c = ProcessInfo.processInfo.environment["FORKCAST_CACHE"], !c.isEmpty { return c }
        return (ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()) + "/.cache/forkcast"
    }

    /// Parses `python3.13,python3.13t` (at least one name; no duplicates).
    public static func parseList(_ text: String) throws -> [String] {
        var out: [String] = []
        for part in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !part.isEmpty {
            if part.contains(" ") { throw ExperimentError("bad interpreter \"\(part)\" in --python: give names or paths, comma-separated") }
            if !out.contains(part) { out.append(part) }
        }
        if out.isEmpty { throw ExperimentError("no interpreter given in --python \"\(text)\"") }
        return out
    }

    /// The command words that run `name`, with `binds` (absolute folders) visible inside a chroot.
    public static func resolve(_ name: String, binds: [String]) throws -> [String] {
        let fm = FileManager.default
        if name.contains("/") {
            guard fm.isExecutableFile(atPath: name) else { throw ExperimentError("--python \(name): no such executable") }
            return [name]
        }
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/\(name)"
            guard fm.isExecutableFile(atPath: p) else { continue }
            // A pyenv shim for a version that is installed but not selected runs nothing
            // (exit 127): look through it, or keep searching.
            if PyenvShims.isShim(p) {
                if let real = PyenvShims.realExecutable(forShim: p) { return [real] }
                continue
            }
            return [p]
        }
        let cache = cacheDirectory
        // cache/NAME/bin and one level deeper (cache/cpython-3.13/ft/bin/python3.13t).
        for sub in ((try? fm.contentsOfDirectory(atPath: cache)) ?? []).sorted() where sub != "sid-chroot" {
            let p = "\(cache)/\(sub)/bin/\(name)"
            if fm.isExecutableFile(atPath: p) { return [p] }
            for inner in ((try? fm.contentsOfDirectory(atPath: "\(cache)/\(sub)")) ?? []).sorted() {
                let q = "\(cache)/\(sub)/\(inner)/bin/\(name)"
                if fm.isExecutableFile(atPath: q) { return [q] }
            }
        }
        let root = "\(cache)/sid-chroot"
        if fm.isExecutableFile(atPath: "\(root)/usr/bin/\(name)") {
            return chrootCommand(root: root, binds: binds, program: name)
        }
        throw ExperimentError("--python \(name): not found on PATH, under \(cache)/*/bin, \(cache)/*/*/bin or in the sid chroot (scripts/assets/sid-chroot.sh builds python3.13–3.15)")
    }

    /// `unshare` into a private mount namespace, bind the folders, mount /proc and /dev,
    /// then chroot and run `program` in the same working directory.
    static func chrootCommand(root: String, binds: [String], program: String) -> [String] {
        let script = """
        root=$1; shift
        while [ "$1" != "--" ]; do
          mkdir -p "$root$1" && mount --bind "$1" "$root$1" || { echo "forkcast: cannot bind $1 into $root" >&2; exit 125; }
          shift
        done
        shift
        mount -t proc proc "$root/proc" 2>/dev/null || mount --rbind /proc "$root/proc"
        mount --rbind /dev "$root/dev"
        exec chroot "$root" /bin/sh -c 'cd "$0" 2>/dev/null || cd /; exec "$@"' "$PWD" "$@"
        """
        let folders = Array(Set(binds.filter { $0.hasPrefix("/") && $0 != "/" && !$0.hasPrefix(root) })).sorted()
        return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "forkcast-chroot", root]
            + folders + ["--", program]
    }

    /// The words that start the interpreter of a Python command: `python3 x.py` → `python3`;
    /// a chroot prefix up to and including the interpreter; a script run directly → `python3`.
    public static func interpreterWords(_ command: [String]) -> [String] {
        if let i = command.firstIndex(where: { (($0 as NSString).lastPathComponent).range(of: #"^(python|pypy)[0-9.]*[a-z]*$"#, options: .regularExpression) != nil }) {
            return Array(command[...i])
        }
        return ["python3"]
    }

    /// The command with its interpreter replaced: `python3 x.py` → `PREFIX x.py`; a script
    /// run directly (`./x.py`, `x.py`) → `PREFIX ./x.py`.
    public static func substitute(_ command: [String], interpreter prefix: [String]) -> [String] {
        guard let first = command.first else { return prefix }
        let base = (first as NSString).lastPathComponent
        if base.range(of: #"^(python|pypy)[0-9.]*[a-z]*$"#, options: .regularExpression) != nil { return prefix + command.dropFirst() }
        return prefix + command
    }
}
