import Foundation
import ForkcastModel
import ForkcastSystem

/// The self-contained HTML report: one file with inline CSS, JS and data (no network,
/// no external fonts), light and dark. The data is aggregated in Swift (see
/// `HTMLReportData`) and embedded as HTML-safe JSON in a
/// `<script type="application/json">` element. Documented in docs/formats/html-report.md.
public struct HTMLReporter: ReporterPlugin {
    public let descriptor = PluginDescriptor(
        name: "html", kind: .reporter, version: "1",
        summary: "self-contained HTML report: recommendation, flame graph, timeline, locks, I/O, experiment charts")
    public let fileExtension = "html"
    /// At most this many state runs per thread lane in the timeline.
    public var maxLaneBins: Int

    public init(maxLaneBins: Int = 1500) { self.maxLaneBins = maxLaneBins }

    public func render(_ input: ReportInput) throws -> Data {
        guard input.profile != nil || input.analysis != nil || input.experiment != nil else { throw ReportError.emptyInput }
        let data = try HTMLReportData(maxLaneBins: maxLaneBins).build(input)
        let title: String
        if let p = input.profile {
            title = "Forkcast — " + Formatting.programName(p.recording.command)
        } else {
            title = "Forkcast — experiment"
        }
        var page = [UInt8]()
        page.reserveCapacity(data.count + HTMLAssets.css.utf8.count + HTMLAssets.js.utf8.count + 2048)
        func add(_ s: String) { page.append(contentsOf: s.utf8) }
        add("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        add("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        add("<meta name=\"color-scheme\" content=\"light dark\">\n")
        add("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n")
        add("<title>\(Self.escapeHTML(title))</title>\n<style>\n")
        add(HTMLAssets.css)
        add("\n</style>\n</head>\n<body>\n<main>\n<header class=\"top\" id=\"hdr\"></header>\n<div id=\"content\"></div>\n<footer id=\"ftr\"></footer>\n</main>\n")
        add("<div id=\"tooltip\" role=\"tooltip\"></div>\n")
        add("<noscript><p>This report draws its charts with JavaScript; enable it to see them.</p></noscript>\n")
        add("<script type=\"application/json\" id=\"forkcast-data\">")
        page.append(contentsOf: data)
        add("</script>\n<script>\n")
        add(HTMLAssets.js)
        add("\n</script>\n</body>\n</html>\n")
        return Data(page)
    }

    /// Escapes text for HTML element content and attribute values.
    static func escapeHTML(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if ch.value < 0x20 && ch != "\n" && ch != "\t" { out += "\u{FFFD}" } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }
}

/// Writing the HTML report to disk: what `record`/`analyze`/`experiment --report` call.
public enum HTMLReport {
    /// Renders `input` as HTML and writes it to `path`, or, when `path` is nil, to
    /// `reports/<program>-<timestamp>.html` under the current directory (created when
    /// missing). Returns the path written.
    @discardableResult
    public static func write(_ input: ReportInput, to path: String? = nil) throws -> String {
        try ReportWriter.write(input, reporter: HTMLReporter(), to: path)
    }
}

/// Why a report could not be written. `description` is one line for the user.
public struct ReportWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write the report to \(path): \(reason)" }
}

/// Renders with a reporter and writes the bytes to a file.
public enum ReportWriter {
    /// The default output path: `reports/<program>-<UTC timestamp>.<ext>`.
    public static func defaultPath(for input: ReportInput, fileExtension: String, directory: String = "reports", now: Date = Date()) -> String {
        let program: String
        if let p = input.profile {
            program = Formatting.programName(p.recording.command)
        } else if input.experiment != nil {
            program = "experiment"
        } else {
            program = "report"
        }
        return "\(directory)/\(program)-\(Formatting.fileTimestamp(now)).\(fileExtension)"
    }

    /// Renders `input` with `reporter` and writes it to `path` (default: `defaultPath`).
    /// Returns the path written.
    @discardableResult
    public static func write(_ input: ReportInput, reporter: any ReporterPlugin, to path: String? = nil) throws -> String {
        let target = path ?? defaultPath(for: input, fileExtension: reporter.fileExtension)
        let data = try reporter.render(input)
        try writeBytes(data, to: target, createDirectory: path == nil)
        return target
    }

    /// Writes bytes, turning every failure into one readable line.
    public static func writeBytes(_ data: Data, to path: String, createDirectory: Bool) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            if createDirectory {
                do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
                    throw ReportWriteError(path: path, reason: "cannot create the directory \(dir)")
                }
            } else {
                throw ReportWriteError(path: path, reason: "the directory \(dir) does not exist")
            }
        } else if !isDir.boolValue {
            throw ReportWriteError(path: path, reason: "\(dir) is not a directory")
        }
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue {
            throw ReportWriteError(path: path, reason: "it is a directory")
        }
        // Atomic: a reader never sees half a report, and a failed write leaves the old file alone.
        do { try AtomicFile.write(data, to: path) } catch {
            var reason = error.errno.message
            if let first = reason.first { reason = first.lowercased() + reason.dropFirst() }
            throw ReportWriteError(path: path, reason: reason)
        }
    }
}

/// Every built-in reporter, in the order `forkcast plugins list` shows them.
public enum BuiltinReporters {
    public static var all: [any ReporterPlugin] {
        [HTMLReporter(), JSONReporter(), SpeedscopeReporter(), FoldedReporter(), ChromeTraceReporter(), PprofReporter()]
    }

    /// The reporter for a `--format` name.
    public static func named(_ name: String) -> (any ReporterPlugin)? {
        all.first { $0.descriptor.name == name }
    }
}
