import ForkcastModel
import Foundation

/// Where external plugins are looked for, in this order (the first plugin of a name wins):
///
/// 1. every folder of `$FORKCAST_PLUGIN_PATH` (colon-separated);
/// 2. the user's data directory: `$XDG_DATA_HOME/forkcast/plugins`, default
///    `~/.local/share/forkcast/plugins`;
/// 3. the `plugins/` folder of the Forkcast checkout the executable was built in (its
///    ancestors holding `Package.swift` and `plugins/`: the binary lives in
///    `.build/<triple>/debug/`), or `../share/forkcast/plugins` next to an installed
///    binary, and the checkout around the current directory.
///
/// Each of these holds one folder per plugin, with a `plugin.json`.
public enum PluginDiscovery {
    public struct Folder: Sendable, Equatable {
        public var path: String
        public var source: PluginSource
        public init(path: String, source: PluginSource) {
            self.path = path
            self.source = source
        }
    }

    /// What a scanned plugin folder turned out to be.
    public enum Found: Sendable {
        case plugin(PluginManifest, folder: String, source: PluginSource)
        case broken(PluginError)
    }

    public static func searchFolders(environment: [String: String] = Foundation.ProcessInfo.processInfo.environment,
                                     executable: String? = executablePath(),
                                     currentDirectory: String = FileManager.default.currentDirectoryPath) -> [Folder] {
        var out: [Folder] = []
        for p in (environment["FORKCAST_PLUGIN_PATH"] ?? "").split(separator: ":") where !p.isEmpty {
            out.append(Folder(path: absolute(String(p), from: currentDirectory), source: .pluginPath))
        }
        if let xdg = environment["XDG_DATA_HOME"], xdg.hasPrefix("/") {
            out.append(Folder(path: xdg + "/forkcast/plugins", source: .user))
        } else if let home = environment["HOME"], !home.isEmpty {
            out.append(Folder(path: home + "/.local/share/forkcast/plugins", source: .user))
        }
        var starts: [String] = []
        if let exe = executable {
            let dir = (exe as NSString).deletingLastPathComponent
            starts.append(dir)
            let installed = ((dir as NSString).deletingLastPathComponent as NSString).appendingPathComponent("share/forkcast/plugins")
            if isDirectory(installed) { out.append(Folder(path: installed, source: .repository)) }
        }
        starts.append(currentDirectory)
        for start in starts {
            if let repo = checkout(around: start) { out.append(Folder(path: repo + "/plugins", source: .repository)) }
        }
        // The same folder reached twice (symlinks, cwd inside the checkout) is scanned once.
        var seen = Set<String>()
        return out.filter { seen.insert(realPath($0.path)).inserted }
    }

    /// Every plugin folder under `folders` (folders that do not exist are skipped).
    public static func scan(_ folders: [Folder]) -> [Found] {
        var found: [Found] = []
        for f in folders {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: f.path) else { continue }
            for e in entries.sorted() where !e.hasPrefix(".") {
                let dir = (f.path as NSString).appendingPathComponent(e)
                guard isDirectory(dir) else { continue }
                // Folders without a manifest (a README, a tests folder) are not plugins.
                guard FileManager.default.fileExists(atPath: (dir as NSString).appendingPathComponent(PluginManifest.fileName)) else { continue }
                found.append(load(folder: dir, source: f.source))
            }
        }
        return found
    }

    /// Loads one plugin folder.
    public static func load(folder: String, source: PluginSource) -> Found {
        do {
            return .plugin(try PluginManifest.load(folder: folder), folder: folder, source: source)
        } catch let e as PluginError {
            return .broken(e)
        } catch {
            return .broken(PluginError(plugin: (folder as NSString).lastPathComponent, reason: "\(error)"))
        }
    }

    /// The running executable, symlinks resolved.
    public static func executablePath() -> String? {
        if let p = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return p }
        return CommandLine.arguments.first.map { realPath($0) }
    }

    /// The nearest ancestor of `start` (itself included) holding `Package.swift` and `plugins/`.
    static func checkout(around start: String) -> String? {
        var url = URL(fileURLWithPath: realPath(start))
        while true {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path),
               isDirectory(url.appendingPathComponent("plugins").path) {
                return url.path
            }
            if url.path == "/" || url.path.isEmpty { return nil }
            url.deleteLastPathComponent()
        }
    }

    static func isDirectory(_ path: String) -> Bool {
        var d: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &d) && d.boolValue
    }

    static func absolute(_ path: String, from cwd: String) -> String {
        path.hasPrefix("/") ? path : (cwd as NSString).appendingPathComponent(path)
    }

    static func realPath(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
