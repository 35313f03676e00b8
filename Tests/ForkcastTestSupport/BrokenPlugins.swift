import Foundation

/// Deliberately broken (and one working) external plugins, written as small Python
/// scripts into a folder for a test: each misbehaves in one way at one step. (The plugin
/// host's tests and the CLI's plugin tests both use them.)
public enum BrokenPlugins {
    /// Reads the hello, answers it: the common start of each script.
    public static let prelude = """
    import json, os, signal, sys, time
    hello = json.loads(sys.stdin.readline())
    def send(m):
        sys.stdout.write(json.dumps(m) + "\\n"); sys.stdout.flush()

    """
    public static let answerHello = "send({'type': 'hello', 'protocol_version': 1})\nrequest = sys.stdin.readline()\n"

    public static let all: [(name: String, kind: String, script: String)] = [
        // Works: one finding from the profile, and a line on stderr.
        ("echo-analyzer", "analyzer", prelude + answerHello + """
        p = json.loads(request)["profile"]
        n = len(p["threads"])
        print(f"echo: looked at {n} threads", file=sys.stderr)
        send({'type': 'findings', 'findings': [{'title': f'echo: {n} threads', 'severity': 'info'}]})
        """),
        // Dies of SIGSEGV mid-request.
        ("crasher", "analyzer", prelude + answerHello + "os.kill(os.getpid(), signal.SIGSEGV)\n"),
        // Never answers the request; leaves a child in its process group that never exits either.
        ("hang", "analyzer", prelude + answerHello + """
        pid = os.fork()
        if pid == 0:
            while True: time.sleep(1)
        open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "child.pid"), "w").write(str(pid))
        while True: time.sleep(1)
        """),
        // Quits at once, reading nothing.
        ("quitter", "analyzer", "import sys\nsys.exit(3)\n"),
        // Prints to stdout what belongs on stderr.
        ("garbage", "analyzer", prelude + "print('hello from a print statement'); sys.stdout.flush()\ntime.sleep(0.2)\n"),
        // Speaks a protocol from the future.
        ("wrong-version", "analyzer", prelude + "send({'type': 'hello', 'protocol_version': 2})\nsys.stdin.readline()\n"),
        // Says what is wrong, in protocol.
        ("complainer", "recommender-rule", prelude + answerHello + "send({'type': 'error', 'message': 'cannot advise without an experiment'})\n"),
        // A findings message missing a required member.
        ("half-answer", "analyzer", prelude + answerHello + "send({'type': 'findings', 'findings': [{'detail': 'no title'}]})\n"),
    ]

    /// Writes the plugins (or only those named) into `folder`, plus `bad-manifest`
    /// (plugin.json that is not JSON).
    public static func make(in folder: URL, only: Set<String>? = nil) throws {
        let fm = FileManager.default
        for p in all where only?.contains(p.name) ?? true {
            let dir = folder.appendingPathComponent(p.name)
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            let script = p.script.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).joined(separator: "\n")
            try script.write(to: dir.appendingPathComponent("plugin.py"), atomically: true, encoding: .utf8)
            let manifest: [String: Any] = ["name": p.name, "kind": p.kind, "version": "0.1", "protocol_version": 1,
                                           "command": ["python3", "plugin.py"], "description": "test plugin: \(p.name)"]
            try JSONSerialization.data(withJSONObject: manifest).write(to: dir.appendingPathComponent("plugin.json"))
        }
        if only?.contains("bad-manifest") ?? true {
            let dir = folder.appendingPathComponent("bad-manifest")
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            try Data("{\"name\": \"bad-manifest\", \"kind\": \"analyzer\",".utf8).write(to: dir.appendingPathComponent("plugin.json"))
        }
    }
}
