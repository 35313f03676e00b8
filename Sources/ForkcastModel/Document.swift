import Foundation

/// The version of forkcast: printed by `--version`, written into profiles
/// (`recording.forkcastVersion`) and sent to plugins in the handshake.
public enum ForkcastVersion {
    public static let current = "0.1.0"
}

/// The three files forkcast writes and reads back: a recorded `Profile`, an `Analysis`
/// (`forkcast analyze --json`) and an `ExperimentResult` (`experiment.json`). Each names its
/// format and version in its JSON and encodes and decodes through one set of rules; a
/// reader that does not know which one it holds uses `Document.decode`.
public protocol ForkcastDocument: Sendable {
    /// The `"format"` value ("forkcast-profile").
    static var formatName: String { get }
    /// The `"format_version"` this build writes.
    static var currentFormatVersion: Int { get }
    /// How messages name it ("profile", "analysis", "experiment result").
    static var documentLabel: String { get }
    /// Decodes the JSON form (not gzip). Throws one-line errors.
    static func decode(_ data: Data) throws -> Self
    /// The JSON form.
    func encodedJSON() throws -> Data
}

/// The JSON rules every document shares: sorted keys, pretty-printed, slashes unescaped,
/// and the non-finite numbers JSON cannot hold written as the strings "inf", "-inf", "nan"
/// (and read back from them).
public enum DocumentCoding {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}

/// A `DecodingError` (or any error from decoding) as one short line: `missing "a.0.b"`,
/// `wrong type at "a.b"`, `missing value at "a.b"`, `bad value at "a.b"`, `not valid JSON`.
/// Used for analyses, experiment results, plugin manifests and plugin messages.
public enum DecodeErrorText {
    public static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let c):
            return "missing \"\(codingPath(c.codingPath + [key]))\""
        case DecodingError.typeMismatch(_, let c):
            return "wrong type at \"\(codingPath(c.codingPath))\""
        case DecodingError.valueNotFound(_, let c):
            return "missing value at \"\(codingPath(c.codingPath))\""
        case DecodingError.dataCorrupted(let c):
            return c.codingPath.isEmpty ? "not valid JSON" : "bad value at \"\(codingPath(c.codingPath))\""
        default:
            let flat = "\(error)".split(whereSeparator: \.isNewline).joined(separator: " ")
            return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
        }
    }

    /// "findings.0.title".
    public static func codingPath(_ path: [CodingKey]) -> String {
        path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

extension Profile: ForkcastDocument {
    public static var documentLabel: String { "profile" }
    public func encodedJSON() throws -> Data { try encoded(gzip: false) }
}

extension Analysis: ForkcastDocument {
    public static var documentLabel: String { "analysis" }
}

extension ExperimentResult: ForkcastDocument {
    public static var documentLabel: String { "experiment result" }

    /// The JSON form (`experiment.json`, `--json`).
    public func encodedJSON() throws -> Data { try DocumentCoding.encoder().encode(self) }

    /// Reads the JSON form back.
    public static func decode(_ data: Data) throws -> ExperimentResult {
        try DocumentCoding.decoder().decode(ExperimentResult.self, from: data)
    }
}

/// Why bytes could not be read as a document: one line, `NAME: reason`.
public struct DocumentError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file (or other source) the bytes came from.
    public var name: String
    public var reason: String
    /// The profile reader's error, when the bytes were a damaged profile.
    public var profileError: ProfileError?

    public init(name: String, reason: String, profileError: ProfileError? = nil) {
        self.name = name
        self.reason = reason
        self.profileError = profileError
    }

    public var description: String { "\(name): \(reason)" }
}

/// Any document, as read from a file whose kind is not known in advance.
public enum Document: Sendable {
    case profile(Profile)
    case analysis(Analysis)
    case experiment(ExperimentResult)

    /// The document's `formatName`.
    public var formatName: String {
        switch self {
        case .profile: Profile.formatName
        case .analysis: Analysis.formatName
        case .experiment: ExperimentResult.formatName
        }
    }

    /// Decodes bytes of any kind: gzip is detected by content, the kind by the `"format"`
    /// key (an experiment result written before it had one by its `runs` and `summary`).
    /// `name` labels the errors.
    public static func decode(_ data: Data, name: String) throws(DocumentError) -> Document {
        if data.isEmpty { throw DocumentError(name: name, reason: "the file is empty") }
        var json = data
        if Gzip.isGzip(data) {
            do { json = try Gzip.decompress(data) } catch {
                throw DocumentError(name: name, reason: "corrupt gzip data")
            }
        }
        // A profile is decoded directly: parsing a million-sample file twice (once to find
        // its kind) would double the time. Its "format" key sits near the start.
        if json.prefix(65_536).range(of: Data("\"\(Profile.formatName)\"".utf8)) != nil {
            return .profile(try decodeProfile(json, name: name))
        }
        switch try format(of: json, name: name) {
        case Profile.formatName:
            return .profile(try decodeProfile(json, name: name))
        case Analysis.formatName:
            do { return .analysis(try Analysis.decode(json)) } catch {
                throw DocumentError(name: name, reason: "corrupt analysis: \(DecodeErrorText.describe(error))")
            }
        case ExperimentResult.formatName:
            do { return .experiment(try ExperimentResult.decode(json)) } catch {
                throw DocumentError(name: name, reason: "corrupt experiment result: \(DecodeErrorText.describe(error))")
            }
        case let other?:
            throw DocumentError(name: name, reason: "is a \"\(other)\" file, not a Forkcast profile or experiment")
        case nil:
            throw DocumentError(name: name, reason: "not a Forkcast profile or experiment (no \"format\" key)")
        }
    }

    private static func decodeProfile(_ json: Data, name: String) throws(DocumentError) -> Profile {
        do { return try Profile.decode(json) } catch let error as ProfileError {
            throw DocumentError(name: name, reason: error.description, profileError: error)
        } catch {
            throw DocumentError(name: name, reason: "\(error)")
        }
    }

    /// The `"format"` of a JSON object (or "forkcast-experiment" for an old experiment result).
    private static func format(of json: Data, name: String) throws(DocumentError) -> String? {
        let top: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
                throw DocumentError(name: name, reason: "not a Forkcast profile or experiment (the JSON is not an object)")
            }
            top = object
        } catch let error as DocumentError {
            throw error
        } catch {
            let first = json.first { !($0 == 0x20 || $0 == 0x0a || $0 == 0x0d || $0 == 0x09) }
            if first != UInt8(ascii: "{") && first != UInt8(ascii: "[") {
                throw DocumentError(name: name, reason: "not a Forkcast profile or experiment (not JSON)")
            }
            throw DocumentError(name: name, reason: "not a Forkcast profile or experiment (the JSON is damaged or truncated)")
        }
        if let format = top["format"] as? String { return format }
        if top["runs"] != nil && top["summary"] != nil { return ExperimentResult.formatName }
        return nil
    }
}
