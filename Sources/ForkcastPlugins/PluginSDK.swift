import Foundation
import ForkcastSystem

/// The Python plugin SDK (`forkcast_plugin.py`, one real file in assets/sdk/, embedded in
/// forkcast by scripts/gen-assets.py). External plugins get the folder holding it first
/// on their PYTHONPATH, so shipped and third-party plugins `import forkcast_plugin`
/// without carrying a copy; `forkcast plugins sdk-path` prints it for running a plugin by
/// hand. A copy next to a plugin's own script still wins (Python puts the script's folder
/// before PYTHONPATH).
public enum PluginSDK {
    public static let fileName = "forkcast_plugin.py"

    /// The folder holding this forkcast's `forkcast_plugin.py`, written there if it is
    /// missing or differs: `$XDG_CACHE_HOME/forkcast/sdk/<content hash>` (default
    /// `~/.cache/…`), else `<temp>/forkcast-sdk-<uid>/<content hash>`. The hash keeps
    /// different forkcast builds from overwriting each other's SDK.
    public static func folder(environment: [String: String] = Foundation.ProcessInfo.processInfo.environment) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let done = written, done.environment == environment { return done.folder }
        var problems: [String] = []
        for candidate in candidates(environment) {
            do {
                try install(in: candidate)
                written = (environment, candidate)
                return candidate
            } catch {
                problems.append("\(candidate): \((error as? PluginError)?.reason ?? error.localizedDescription)")
            }
        }
        throw PluginError(plugin: "sdk", reason: "cannot write the plugin SDK (\(problems.joined(separator: "; ")))", named: false)
    }

    /// `existing` (a PYTHONPATH, possibly empty) with `sdk` in front, once.
    public static func pythonPath(_ existing: String?, sdk: String) -> String {
        let rest = (existing ?? "").split(separator: ":", omittingEmptySubsequences: true).map(String.init).filter { $0 != sdk }
        return ([sdk] + rest).joined(separator: ":")
    }

    static func candidates(_ environment: [String: String]) -> [String] {
        let hash = contentHash
        var out: [String] = []
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") {
            out.append("\(xdg)/forkcast/sdk/\(hash)")
        } else if let home = environment["HOME"], home.hasPrefix("/") {
            out.append("\(home)/.cache/forkcast/sdk/\(hash)")
        }
        let tmp = environment["TMPDIR"].flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "/tmp"
        out.append("\(tmp)/forkcast-sdk-\(getuid())/\(hash)")
        return out
    }

    /// Writes the SDK into `folder` unless the same bytes are there (`AtomicFile`, so a
    /// plugin starting meanwhile never sees half a file).
    static func install(in folder: String) throws {
        let path = (folder as NSString).appendingPathComponent(fileName)
        let bytes = Data(PluginSDKSource.module.utf8)
        if let current = FileManager.default.contents(atPath: path), current == bytes { return }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        do { try AtomicFile.write(bytes, to: path) } catch { throw PluginError(plugin: "sdk", reason: error.reason, named: false) }
    }

    /// FNV-1a (64 bits) of the embedded SDK, in hex.
    static let contentHash: String = {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in PluginSDKSource.module.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return String(h, radix: 16)
    }()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var written: (environment: [String: String], folder: String)?
}
