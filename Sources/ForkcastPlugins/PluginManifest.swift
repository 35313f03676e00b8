import ForkcastModel
import Foundation

/// The protocol version this Forkcast speaks with external plugins (docs/plugins.md).
public let pluginProtocolVersion = 1

/// `plugin.json`: what an external plugin folder declares about itself.
/// Schema: docs/plugin-schemas/manifest.schema.json.
public struct PluginManifest: Codable, Sendable, Equatable {
    public var name: String
    public var kind: PluginKind
    public var version: String
    public var protocolVersion: Int
    /// argv to run, relative to the plugin's folder (argv[0] found in the folder when it
    /// contains a slash, in PATH otherwise: `["python3", "plugin.py"]`).
    public var command: [String]
    public var description: String
    /// Seconds a whole exchange may take before the plugin's process group is killed.
    public var timeoutSeconds: Double?
    /// Strategy plugins: the strategy names they launch.
    public var strategies: [String]?
    /// Reporter plugins: the extension of what they write ("md").
    public var fileExtension: String?

    enum CodingKeys: String, CodingKey {
        case name, kind, version, protocolVersion = "protocol_version", command, description,
             timeoutSeconds = "timeout_s", strategies, fileExtension = "extension"
    }

    public static let fileName = "plugin.json"

    /// Reads and checks `folder/plugin.json`; every failure is one line.
    public static func load(folder: String) throws -> PluginManifest {
        let label = (folder as NSString).lastPathComponent
        let path = (folder as NSString).appendingPathComponent(fileName)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PluginError(plugin: label, reason: "no readable \(fileName) in \(folder)")
        }
        let m: PluginManifest
        do {
            m = try JSONDecoder().decode(PluginManifest.self, from: data)
        } catch {
            var what = DecodeErrorText.describe(error)
            if case DecodingError.dataCorrupted(let c) = error, !c.codingPath.isEmpty {
                what += " (kind must be one of \(PluginKind.allCases.map(\.rawValue).joined(separator: ", ")))"
            }
            throw PluginError(plugin: label, reason: "broken manifest \(path): \(what)")
        }
        try m.validate(path: path)
        return m
    }

    /// Checks what the types cannot.
    public func validate(path: String) throws {
        let bad = { (why: String) in PluginError(plugin: name.isEmpty ? (path as NSString).deletingLastPathComponent : name, reason: "broken manifest \(path): \(why)") }
        guard name.range(of: "^[a-z0-9][a-z0-9._-]{0,63}$", options: .regularExpression) != nil else {
            throw bad("name \"\(name)\" must be 1–64 of a-z 0-9 . _ - (starting with a letter or digit)")
        }
        guard !version.isEmpty else { throw bad("version is empty") }
        guard !command.isEmpty, !command[0].isEmpty else { throw bad("command is empty") }
        guard protocolVersion >= 1 else { throw bad("protocol_version must be ≥ 1") }
        if let t = timeoutSeconds, !(t > 0 && t <= 3600) { throw bad("timeout_s must be in (0, 3600]") }
        if kind == .strategy && (strategies ?? []).isEmpty { throw bad("a strategy plugin must list its \"strategies\"") }
        if kind == .reporter && (fileExtension ?? "").isEmpty { throw bad("a reporter plugin must give its file \"extension\"") }
    }
}

/// Where an external plugin was found.
public enum PluginSource: String, Codable, Sendable, CaseIterable {
    /// `$FORKCAST_PLUGIN_PATH`.
    case pluginPath = "FORKCAST_PLUGIN_PATH"
    /// `~/.local/share/forkcast/plugins` (or `$XDG_DATA_HOME/forkcast/plugins`).
    case user
    /// The `plugins/` folder of the Forkcast checkout (or `share/forkcast/plugins` of an install).
    case repository
    /// A folder named on the command line (`forkcast plugins check DIR`).
    case explicit
}
