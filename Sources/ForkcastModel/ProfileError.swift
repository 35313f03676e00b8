import Foundation

// The profile file format (docs/profile-format.md, docs/profile.schema.json):
//
//   { "format": "forkcast-profile", "format_version": 2,
//     "frames": [...], "mappings": [...], "processes": [...], "recording": {...},
//     "stacks": [...], "stats": {...}, "threads": [...], "waits": [...],
//     "samples": { "t": [...], "thread": [...], "stack": [...],
//                  "state": [...], "wait": [...], "gil": [...] } }
//
// Version 1 (still read) had "pid" and "tid" columns instead of "thread", no
// "mappings", and a "module" path in every native frame.
//
// The small tables go through Foundation's JSONEncoder/JSONDecoder. The sample columns
// (millions of integers) and the stack table (tens of thousands of integer arrays) are
// written and read by hand: JSONDecoder takes seconds on a million samples, the byte
// scanner below a tenth of that. The Codable conformance reads and writes the same
// format (slowly), and the reader's errors are one line either way.
//
// The codec, one concern per file:
//   ProfileError.swift       the one-line errors (this file)
//   ProfileCodable.swift     Codable conformance (for embedding a profile in messages)
//   ProfileRows.swift        thread rows and mapping rows: `normalized()`, version 1 → 2
//   ProfileValidation.swift  `validate()`: every index in range, every value sane
//   ProfileWriter.swift      `encoded(gzip:)`, the streaming `write(gzip:to:)`
//   ProfileReader.swift      `Profile.decode(_:)`: finds the members, decodes the tables
//   JSONScanner.swift        the bounds-checked byte scanner the reader uses
//   JSONWriter.swift         the byte writer shared with ForkcastReport's formats

/// Why a profile could not be read or written. `description` is one line for the user.
public enum ProfileError: Error, CustomStringConvertible, Equatable {
    /// The bytes are not a Forkcast profile at all (empty, not JSON, JSON of something else).
    case notAProfile(String)
    /// A Forkcast profile of another format version.
    case unsupportedVersion(found: Int, supported: Int)
    /// A profile whose bytes are damaged: truncated, malformed JSON or gzip, wrong types.
    case corrupt(String)
    /// Well-formed, but its content is inconsistent or absurd (an index out of range, a
    /// negative rate); `validate()` throws this.
    case invalid(String)

    public var description: String {
        switch self {
        case .notAProfile(let why): "not a Forkcast profile: \(why)"
        case .unsupportedVersion(let found, let supported) where found > supported:
            "profile format version \(found) is newer than this forkcast reads (version \(supported)); upgrade forkcast to read it"
        case .unsupportedVersion(let found, let supported):
            "profile format version \(found) is not supported (this forkcast reads versions \(Profile.readableFormatVersions.lowerBound) to \(supported))"
        case .corrupt(let why): "corrupt profile: \(why)"
        case .invalid(let why): "invalid profile: \(why)"
        }
    }
}

func oneLine(_ error: Error) -> String {
    let text: String
    switch error {
    case let e as DecodingError:
        switch e {
        case .dataCorrupted(let c), .keyNotFound(_, let c), .typeMismatch(_, let c), .valueNotFound(_, let c):
            text = c.debugDescription
        @unknown default: text = "\(e)"
        }
    case let e as EncodingError:
        switch e {
        case .invalidValue(_, let c): text = c.debugDescription
        @unknown default: text = "\(e)"
        }
    default: text = "\(error)"
    }
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
}
