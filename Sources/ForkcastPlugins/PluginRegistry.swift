import ForkcastModel

/// The one place plugins are found, listed and called. Built-ins and external plugins
/// register the same way and are looked up the same way.
public struct PluginRegistry: Sendable {
    public private(set) var analyzers: [any AnalyzerPlugin] = []
    public private(set) var recommenderRules: [any RecommenderRulePlugin] = []
    public private(set) var reporters: [any ReporterPlugin] = []
    public private(set) var strategies: [any StrategyPlugin] = []

    public init() {}

    public mutating func register(_ plugin: any ForkcastPlugin) {
        if let p = plugin as? any AnalyzerPlugin { analyzers.append(p) }
        if let p = plugin as? any RecommenderRulePlugin { recommenderRules.append(p) }
        if let p = plugin as? any ReporterPlugin { reporters.append(p) }
        if let p = plugin as? any StrategyPlugin { strategies.append(p) }
    }

    /// Every registered plugin's descriptor, in registration order per kind.
    public var descriptors: [PluginDescriptor] {
        analyzers.map(\.descriptor) + recommenderRules.map(\.descriptor) + reporters.map(\.descriptor) + strategies.map(\.descriptor)
    }

    public func reporter(named name: String) -> (any ReporterPlugin)? {
        reporters.first { $0.descriptor.name == name }
    }
}
