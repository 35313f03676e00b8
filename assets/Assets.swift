// The embedded files, as text. `PackageResources` is written by SwiftPM at build time from
// the `.embedInCode` resources in Package.swift: the bytes of each file under assets/.

/// The files under assets/ that forkcast carries inside its binary (see assets/README.md).
public enum Assets {
    /// `report/report.js`: the HTML report's script, inlined into every report.
    public static let reportScript = text(PackageResources.report_js)
    /// `report/report.css`: the HTML report's stylesheet, inlined into every report.
    public static let reportStyle = text(PackageResources.report_css)
    /// `swap/forkcast_swap.py`: the replacement executors of `forkcast experiment`'s swap.
    public static let swapModule = text(PackageResources.forkcast_swap_py)
    /// `swap/sitecustomize.py`: the start-up hook that installs the swap.
    public static let swapSiteCustomize = text(PackageResources.sitecustomize_py)
    /// `sdk/forkcast_plugin.py`: the Python plugin SDK put on every plugin's PYTHONPATH.
    public static let pluginSDK = text(PackageResources.forkcast_plugin_py)

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
