import ForkcastModel
import Foundation

/// An external plugin found on disk: its manifest, folder, and how to talk to it.
/// One exchange = one process: handshake, one request, one response (docs/plugins.md).
public struct ExternalPlugin: Sendable {
    public var manifest: PluginManifest
    /// The plugin's folder (absolute).
    public var folder: String
    public var source: PluginSource
    /// Seconds one exchange may take; the manifest's `timeout_s`, overridden by
    /// `$FORKCAST_PLUGIN_TIMEOUT`, default 60.
    public var timeoutSeconds: Double
    public var log: PluginLog

    public init(manifest: PluginManifest, folder: String, source: PluginSource, timeoutSeconds: Double? = nil,
                log: @escaping PluginLog = PluginLogs.discard) {
        self.manifest = manifest
        self.folder = folder
        self.source = source
        let env = Foundation.ProcessInfo.processInfo.environment["FORKCAST_PLUGIN_TIMEOUT"].flatMap(Double.init)
        self.timeoutSeconds = timeoutSeconds ?? env ?? manifest.timeoutSeconds ?? 60
        self.log = log
    }

    public var descriptor: PluginDescriptor {
        PluginDescriptor(name: manifest.name, kind: manifest.kind, version: manifest.version, summary: manifest.description,
                         origin: folder, protocolVersion: manifest.protocolVersion)
    }

    /// The Swift wrapper implementing the protocol of its kind.
    public func wrapped() -> any ForkcastPlugin {
        switch manifest.kind {
        case .analyzer: ExternalAnalyzer(plugin: self)
        case .recommenderRule: ExternalRecommenderRule(plugin: self)
        case .reporter: ExternalReporter(plugin: self)
        case .strategy: ExternalStrategy(plugin: self)
        }
    }

    /// Runs one exchange: handshake, then `request` (a JSON object of the given type), and
    /// returns the response line after checking it is a `responseType` message.
    func exchange(request: Data, responseType: String) throws -> Data {
        do {
            return try exchangeNamed(request: request, responseType: responseType)
        } catch let e as PluginError {
            throw e.unnamed
        }
    }

    func exchangeNamed(request: Data, responseType: String) throws -> Data {
        let name = manifest.name
        if manifest.protocolVersion != pluginProtocolVersion {
            throw PluginError(plugin: name, reason: "manifest says protocol_version \(manifest.protocolVersion); this forkcast speaks \(pluginProtocolVersion)")
        }
        let process = try PluginProcess(name: name, argv: manifest.command, directory: folder, timeoutSeconds: timeoutSeconds, log: log)
        defer { process.kill() }

        let hello = Wire.Hello(type: "hello", protocolVersion: pluginProtocolVersion, forkcastVersion: ForkcastVersion.current,
                               kind: manifest.kind.rawValue, name: name, version: nil)
        process.send(try Wire.line(hello))
        let helloLine = try process.receiveLine(expecting: "handshake")
        let reply = try Self.envelope(helloLine, plugin: name, expecting: "hello", what: "handshake")
        guard let version = reply.protocolVersion else {
            throw PluginError(plugin: name, reason: "handshake lacks \"protocol_version\"")
        }
        guard version == pluginProtocolVersion else {
            throw PluginError(plugin: name, reason: "speaks protocol version \(version); this forkcast speaks \(pluginProtocolVersion)")
        }
        process.send(request)
        let responseLine = try process.receiveLine(expecting: "\(responseType) response")
        _ = try Self.envelope(responseLine, plugin: name, expecting: responseType, what: "\(responseType) response")
        process.finish()
        return responseLine
    }

    /// Decodes the `type` of a message, turning `error` messages and garbage into one line.
    static func envelope(_ line: Data, plugin: String, expecting type: String, what: String) throws -> Wire.Envelope {
        guard let e = try? JSONDecoder().decode(Wire.Envelope.self, from: line) else {
            throw PluginError(plugin: plugin, reason: "sent garbage instead of its \(what): \(preview(line))")
        }
        if e.type == "error" {
            throw PluginError(plugin: plugin, reason: "reported an error: \(e.message ?? "(no message)")")
        }
        guard e.type == type else {
            throw PluginError(plugin: plugin, reason: "sent a \"\(e.type)\" message where its \(what) (\"\(type)\") was expected")
        }
        return e
    }

    static func decode<T: Decodable>(_ type: T.Type, _ line: Data, plugin: String, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: line)
        } catch {
            throw PluginError(plugin: plugin, reason: "malformed \(what): \(DecodeErrorText.describe(error))", named: false)
        }
    }

    static func preview(_ line: Data) -> String {
        let s = String(decoding: line.prefix(60), as: UTF8.self)
            .unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? "." : String($0) }.joined()
        return "\"\(s)\(line.count > 60 ? "…" : "")\""
    }
}

/// An external analyzer: gets the profile and the analysis so far, returns findings that
/// are appended to `Analysis.findings` (source = the plugin's name).
public struct ExternalAnalyzer: AnalyzerPlugin {
    public let plugin: ExternalPlugin
    public var descriptor: PluginDescriptor { plugin.descriptor }

    public func analyze(_ profile: Profile, into analysis: inout Analysis) throws {
        let line = try plugin.exchange(request: try Self.request(profile, analysis), responseType: "findings")
        let response = try ExternalPlugin.decode(Wire.FindingsResponse.self, line, plugin: plugin.manifest.name, what: "findings response")
        for (i, f) in response.findings.enumerated() {
            analysis.findings.append(Finding(source: plugin.manifest.name, id: f.id ?? "\(plugin.manifest.name).\(i)",
                                             severity: f.severity ?? .info, factor: f.factor ?? .other, title: f.title,
                                             detail: f.detail ?? "", metrics: f.metrics ?? [:], stacks: f.stacks ?? []))
        }
    }
}

extension ExternalAnalyzer {
    /// The `analyze` message (one line, no newline).
    public static func request(_ profile: Profile, _ analysis: Analysis) throws -> Data {
        var request = Data(#"{"type":"analyze","profile":"#.utf8)
        request.append(Wire.flatten(try profile.encoded(gzip: false)))
        request.append(Data(#","analysis":"#.utf8))
        request.append(try Wire.json(analysis))
        request.append(0x7d)
        return request
    }
}

extension ExternalRecommenderRule {
    /// The `advise` message (one line, no newline).
    public static func request(_ input: RecommendationInput) throws -> Data {
        var request = Data(#"{"type":"advise","analysis":"#.utf8)
        request.append(try Wire.json(input.analysis))
        request.append(Data(#","experiment":"#.utf8))
        request.append(try input.experiment.map { try Wire.json($0) } ?? Data("null".utf8))
        request.append(0x7d)
        return request
    }
}

extension ExternalReporter {
    /// The `render` message (one line, no newline).
    public static func request(_ input: ReportInput, fileExtension: String) throws -> Data {
        var request = Data(#"{"type":"render","extension":"#.utf8)
        request.append(try Wire.json(fileExtension))
        request.append(Data(#","profile":"#.utf8))
        request.append(try input.profile.map { Wire.flatten(try $0.encoded(gzip: false)) } ?? Data("null".utf8))
        request.append(Data(#","analysis":"#.utf8))
        request.append(try input.analysis.map { try Wire.json($0) } ?? Data("null".utf8))
        request.append(Data(#","experiment":"#.utf8))
        request.append(try input.experiment.map { try Wire.json($0) } ?? Data("null".utf8))
        request.append(0x7d)
        return request
    }
}

extension ExternalStrategy {
    /// The `launch` message (one line, no newline).
    public static func request(_ workload: Workload, strategy: String, workers: Int) throws -> Data {
        try Wire.line(Wire.LaunchRequest(workload: Wire.WireWorkload(workload), strategy: strategy, workers: workers))
    }
}

/// The `hello` forkcast sends first (one line, no newline).
public func pluginHello(kind: PluginKind, name: String) throws -> Data {
    try Wire.line(Wire.Hello(type: "hello", protocolVersion: pluginProtocolVersion, forkcastVersion: ForkcastVersion.current,
                             kind: kind.rawValue, name: name, version: nil))
}

/// An external recommender rule: gets the analysis (and experiment results), returns advice.
public struct ExternalRecommenderRule: RecommenderRulePlugin {
    public let plugin: ExternalPlugin
    public var descriptor: PluginDescriptor { plugin.descriptor }

    public func advise(_ input: RecommendationInput) throws -> [Advice] {
        let line = try plugin.exchange(request: try Self.request(input), responseType: "advice")
        let response = try ExternalPlugin.decode(Wire.AdviceResponse.self, line, plugin: plugin.manifest.name, what: "advice response")
        return try response.advice.map { a in
            guard a.weight.isFinite, a.weight >= 0, a.weight <= 1 else {
                throw PluginError(plugin: plugin.manifest.name, reason: "malformed advice response: weight \(a.weight) is not in 0…1", named: false)
            }
            return Advice(rule: plugin.manifest.name, strategy: a.strategy, weight: a.weight, workers: a.workers.map { max(1, $0) },
                          fixFirst: a.fixFirst ?? false,
                          reason: Reason(factor: a.reason.factor ?? .other, text: a.reason.text, metrics: a.reason.metrics ?? [:],
                                         stack: a.reason.stack))
        }
    }
}

/// An external reporter: gets the report model, returns the bytes of its format.
public struct ExternalReporter: ReporterPlugin {
    public let plugin: ExternalPlugin
    public var descriptor: PluginDescriptor { plugin.descriptor }
    public var fileExtension: String { plugin.manifest.fileExtension ?? "out" }

    public func render(_ input: ReportInput) throws -> Data {
        let line = try plugin.exchange(request: try Self.request(input, fileExtension: fileExtension), responseType: "rendered")
        let r = try ExternalPlugin.decode(Wire.RenderedResponse.self, line, plugin: plugin.manifest.name, what: "rendered response")
        if let b64 = r.contentBase64 {
            guard let data = Data(base64Encoded: b64) else {
                throw PluginError(plugin: plugin.manifest.name, reason: "malformed rendered response: content_base64 is not base64", named: false)
            }
            return data
        }
        if let text = r.content { return Data(text.utf8) }
        throw PluginError(plugin: plugin.manifest.name, reason: "malformed rendered response: neither \"content\" nor \"content_base64\"", named: false)
    }
}

/// An external strategy: gets the workload and (strategy, workers), returns launch specs.
public struct ExternalStrategy: StrategyPlugin {
    public let plugin: ExternalPlugin
    public var descriptor: PluginDescriptor { plugin.descriptor }
    public var strategies: [String] { plugin.manifest.strategies ?? [] }

    public func launchSpecs(for workload: Workload, strategy: String, workers: Int) throws -> [LaunchSpec] {
        let line = try plugin.exchange(request: try Self.request(workload, strategy: strategy, workers: workers), responseType: "launch_specs")
        let r = try ExternalPlugin.decode(Wire.LaunchResponse.self, line, plugin: plugin.manifest.name, what: "launch_specs response")
        guard !r.specs.isEmpty, r.specs.allSatisfy({ !$0.command.isEmpty }) else {
            throw PluginError(plugin: plugin.manifest.name, reason: "malformed launch_specs response: no spec, or a spec with an empty command", named: false)
        }
        return r.specs.map { LaunchSpec(command: $0.command, environment: $0.environment ?? [:], workingDirectory: $0.workingDirectory) }
    }
}

/// The messages of the external protocol (docs/plugins.md, docs/plugin-schemas/).
enum Wire {
    struct Envelope: Decodable {
        var type: String
        var message: String?
        var protocolVersion: Int?
        enum CodingKeys: String, CodingKey { case type, message, protocolVersion = "protocol_version" }
    }

    struct Hello: Codable {
        var type: String
        var protocolVersion: Int
        var forkcastVersion: String?
        var kind: String?
        var name: String?
        var version: String?
        enum CodingKeys: String, CodingKey {
            case type, protocolVersion = "protocol_version", forkcastVersion = "forkcast_version", kind, name, version
        }
    }

    struct WireFinding: Decodable {
        var id: String?
        var severity: Finding.Severity?
        var factor: DecisionFactor?
        var title: String
        var detail: String?
        var metrics: [String: Double]?
        var stacks: [[String]]?
    }
    struct FindingsResponse: Decodable { var findings: [WireFinding] }

    struct WireReason: Decodable {
        var factor: DecisionFactor?
        var text: String
        var metrics: [String: Double]?
        var stack: [String]?
    }
    struct WireAdvice: Decodable {
        var strategy: ConcurrencyStrategy?
        var weight: Double
        var workers: Int?
        var fixFirst: Bool?
        var reason: WireReason
        enum CodingKeys: String, CodingKey { case strategy, weight, workers, fixFirst = "fix_first", reason }
    }
    struct AdviceResponse: Decodable { var advice: [WireAdvice] }

    struct RenderedResponse: Decodable {
        var content: String?
        var contentBase64: String?
        enum CodingKeys: String, CodingKey { case content, contentBase64 = "content_base64" }
    }

    struct WireWorkload: Codable {
        var command: [String]
        var environment: [String: String]?
        var workingDirectory: String?
        enum CodingKeys: String, CodingKey { case command, environment, workingDirectory = "working_directory" }
        init(_ w: Workload) {
            command = w.command
            environment = w.environment
            workingDirectory = w.workingDirectory
        }
    }
    struct LaunchRequest: Encodable {
        var type = "launch"
        var workload: WireWorkload
        var strategy: String
        var workers: Int
    }
    struct LaunchResponse: Decodable { var specs: [WireWorkload] }

    /// Compact JSON, no newline inside.
    static func json<T: Encodable>(_ value: T) throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return flatten(try e.encode(value))
    }

    static func line<T: Encodable>(_ value: T) throws -> Data { try json(value) }

    /// JSON text with its newlines turned into spaces: valid JSON has raw newlines only
    /// between tokens (inside strings they are escaped), so this keeps the meaning and
    /// makes the message one line.
    static func flatten(_ data: Data) -> Data {
        guard data.contains(0x0a) else { return data }
        var d = data
        d.withUnsafeMutableBytes { buf in
            for i in buf.indices where buf[i] == 0x0a || buf[i] == 0x0d { buf[i] = 0x20 }
        }
        return d
    }
}
