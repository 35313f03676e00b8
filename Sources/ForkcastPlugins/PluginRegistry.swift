import ForkcastAnalysis
import ForkcastExperiment
import ForkcastModel
import ForkcastReport
import Foundation

/// The one place plugins are found, listed and called. Built-ins and external plugins
/// register the same way and are looked up the same way: external ones are wrapped in
/// types implementing the same protocols (`ExternalAnalyzer`, …).
public struct PluginRegistry: Sendable {
    public private(set) var analyzers: [any AnalyzerPlugin] = []
    public private(set) var recommenderRules: [any RecommenderRulePlugin] = []
    public private(set) var reporters: [any ReporterPlugin] = []
    public private(set) var strategies: [any StrategyPlugin] = []
    /// Every external plugin found (usable ones), by name.
    public private(set) var external: [String: ExternalPlugin] = [:]
    /// Built-ins that need per-run configuration (a workload file's commands, the Python
    /// hook's folder): the command that uses them builds them; the registry lists them.
    public private(set) var configuredBuiltins: [PluginDescriptor] = []
    /// Plugin folders that could not be loaded (broken manifest, duplicate name), one line each.
    public private(set) var problems: [PluginError] = []

    public init() {}

    public mutating func register(_ plugin: any ForkcastPlugin) {
        if let p = plugin as? any AnalyzerPlugin { analyzers.append(p) }
        if let p = plugin as? any RecommenderRulePlugin { recommenderRules.append(p) }
        if let p = plugin as? any ReporterPlugin { reporters.append(p) }
        if let p = plugin as? any StrategyPlugin { strategies.append(p) }
    }

    /// Registers an external plugin (wrapped), unless its name is taken.
    public mutating func register(external plugin: ExternalPlugin) {
        let name = plugin.manifest.name
        if let existing = descriptors.first(where: { $0.name == name }) {
            problems.append(PluginError(plugin: name, reason: "\(plugin.folder) ignored: the name is taken by \(existing.origin == "builtin" ? "a built-in plugin" : existing.origin)"))
            return
        }
        external[name] = plugin
        register(plugin.wrapped())
    }

    mutating func record(problem: PluginError) { problems.append(problem) }

    /// Every registered plugin's descriptor, in registration order per kind.
    public var descriptors: [PluginDescriptor] {
        analyzers.map(\.descriptor) + recommenderRules.map(\.descriptor) + reporters.map(\.descriptor)
            + strategies.map(\.descriptor) + configuredBuiltins
    }

    public func descriptor(named name: String) -> PluginDescriptor? {
        descriptors.first { $0.name == name }
    }

    public func reporter(named name: String) -> (any ReporterPlugin)? {
        reporters.first { $0.descriptor.name == name }
    }

    public func strategy(named name: String) -> (any StrategyPlugin)? {
        strategies.first { $0.descriptor.name == name || $0.strategies.contains(name) }
    }

    /// Whether the plugin is external (from a folder) rather than built in.
    public func isExternal(_ name: String) -> Bool { external[name] != nil }

    // MARK: the standard registry

    /// The built-in plugins of every module that has landed.
    public static func builtins() -> [any ForkcastPlugin] {
        var all: [any ForkcastPlugin] = []
        all += Analyzer.builtinAnalyzers() as [any ForkcastPlugin]
        all += Analyzer.builtinRules() as [any ForkcastPlugin]
        all += BuiltinReporters.all as [any ForkcastPlugin]
        all.append(CommandTemplateStrategy())
        return all
    }

    /// Built-ins listed but configured by the command that runs them (`forkcast experiment`).
    public static func configuredBuiltinDescriptors() -> [PluginDescriptor] {
        [PythonExecutorSwapStrategy(hookDirectory: URL(fileURLWithPath: "/")).descriptor,
         PerStrategyCommandStrategy(commands: [:]).descriptor]
    }

    /// Built-ins, then the external plugins found in `folders` (see `PluginDiscovery`).
    public static func standard(folders: [PluginDiscovery.Folder] = PluginDiscovery.searchFolders(),
                                log: @escaping PluginLog = PluginLogs.discard) -> PluginRegistry {
        var r = PluginRegistry()
        for b in builtins() { r.register(b) }
        r.configuredBuiltins = configuredBuiltinDescriptors()
        for found in PluginDiscovery.scan(folders) {
            switch found {
            case .plugin(let manifest, let folder, let source):
                r.register(external: ExternalPlugin(manifest: manifest, folder: folder, source: source, log: log))
            case .broken(let error):
                r.record(problem: error)
            }
        }
        return r
    }

    // MARK: selection

    /// Which plugins run: built-ins by default, external plugins when named.
    public struct Selection: Sendable, Equatable {
        /// `--plugin NAME` (repeatable; `all` = every external plugin), plus `$FORKCAST_PLUGINS`.
        public var enabled: [String]
        /// `--no-plugin NAME` (repeatable): built-in or external.
        public var disabled: [String]
        /// The names given on the command line (not from the environment): a reporter or
        /// strategy plugin takes over only when named there.
        public var named: [String]

        public init(enabled: [String] = [], disabled: [String] = [], environment: [String: String] = Foundation.ProcessInfo.processInfo.environment) {
            let fromEnv = (environment["FORKCAST_PLUGINS"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " }).map(String.init)
            named = enabled.flatMap { $0.split(separator: ",").map(String.init) }
            self.enabled = named + fromEnv
            self.disabled = disabled.flatMap { $0.split(separator: ",").map(String.init) }
        }
    }

    /// The result of applying a selection: what to run, and the one-line problems of
    /// selected plugins that cannot run (broken manifests named by the selection).
    public struct Selected: Sendable {
        public var registry: PluginRegistry
        public var problems: [PluginError]
    }

    /// Keeps the built-ins not disabled and the external plugins enabled and not
    /// disabled. Names that match no plugin (nor a broken plugin folder) are an error.
    public func selecting(_ s: Selection) throws -> Selected {
        let all = s.enabled.contains("all")
        let known = Set(descriptors.map(\.name))
        let brokenNames = Set(problems.map(\.plugin))
        for n in s.enabled + s.disabled where n != "all" && !known.contains(n) && !brokenNames.contains(n) {
            throw PluginError(plugin: n, reason: "no such plugin (see `forkcast plugins list`)")
        }
        func keep(_ d: PluginDescriptor) -> Bool {
            if s.disabled.contains(d.name) { return false }
            if external[d.name] == nil { return true }
            return all || s.enabled.contains(d.name)
        }
        var r = PluginRegistry()
        r.external = external.filter { keep($0.value.descriptor) }
        r.analyzers = analyzers.filter { keep($0.descriptor) }
        r.recommenderRules = recommenderRules.filter { keep($0.descriptor) }
        r.reporters = reporters.filter { keep($0.descriptor) }
        r.strategies = strategies.filter { keep($0.descriptor) }
        r.configuredBuiltins = configuredBuiltins.filter(keep)
        let named = problems.filter { all || s.enabled.contains($0.plugin) }
        r.problems = named
        return Selected(registry: r, problems: named)
    }
}
