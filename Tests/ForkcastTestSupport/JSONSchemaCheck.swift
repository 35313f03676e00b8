import Foundation

/// Validates JSON documents against a JSON Schema (Draft 2020-12) with Python's
/// `jsonschema` — an independent validator, so a schema and a writer cannot agree by
/// sharing a bug. Installed by `scripts/setup.sh --test`.
public enum JSONSchemaCheck {
    public enum Outcome {
        /// One entry per document: nil when valid, else the first error ("path: message").
        case checked([String?])
        /// The validator could not run; the string says why (tests skip with it).
        case unavailable(String)
    }

    public static func validate(_ documents: [Data], schema: URL) throws -> Outcome {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-schema-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var paths: [String] = []
        for (i, d) in documents.enumerated() {
            let url = dir.appendingPathComponent("\(i).json")
            try d.write(to: url)
            paths.append(url.path)
        }
        let script = """
        import json, sys
        try:
            import jsonschema
        except ImportError:
            print("MISSING jsonschema: apt-get install -y python3-jsonschema (or pip install jsonschema)")
            sys.exit(3)
        schema = json.load(open(sys.argv[1]))
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
        for path in sys.argv[2:]:
            errors = sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.path))
            if errors:
                e = errors[0]
                print("ERROR " + "/".join(str(p) for p in e.path) + ": " + e.message.replace("\\n", " ")[:200])
            else:
                print("OK")
        """
        let r = try Fixtures.run("/usr/bin/env", ["python3", "-c", script, schema.path] + paths)
        if r.status == 3 { return .unavailable(r.stdout) }
        guard r.status == 0 else { return .unavailable("the schema check failed to run (status \(r.status)): \(r.stderr)") }
        let lines = r.stdout.split(separator: "\n").map(String.init)
        guard lines.count == documents.count else { return .unavailable("unexpected validator output: \(r.stdout)") }
        return .checked(lines.map { $0 == "OK" ? nil : $0 })
    }
}
