import ArgumentParser
import ForkcastPlugins
import ForkcastWorkflow

/// `--plugin` / `--no-plugin`, the same for every command that runs plugins (record,
/// analyze, experiment, report).
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin"), help: "Use this external plugin: its analyzers and rules analyze the profile, a reporter writes the report instead of --format, a strategy launches the experiment's runs (repeatable; `all` for every one; see `forkcast plugins list`).")
    var plugins: [String] = []

    @Option(name: .customLong("no-plugin"), help: "Skip this plugin, built-in or external (repeatable).")
    var noPlugins: [String] = []

    var selection: PluginRegistry.Selection { PluginRegistry.Selection(enabled: plugins, disabled: noPlugins) }

    /// The report pipeline of this selection; a selection naming an unknown plugin is a
    /// one-line user error.
    func pipeline() throws -> ReportPipeline {
        do { return try ReportPipeline(selection: selection, registry: Plugins.registry()) } catch {
            throw UserError("\(error)")
        }
    }
}
