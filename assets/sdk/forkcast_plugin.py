"""forkcast_plugin — the Forkcast external plugin protocol (version 1) in one file.

`import forkcast_plugin` and call `serve(handler, name, version)`. Standard library only.
forkcast puts this module on every external plugin's PYTHONPATH; to run a plugin by hand,
`PYTHONPATH=$(forkcast plugins sdk-path) python3 my_plugin.py`. Its one copy lives in
assets/sdk/ of the Forkcast repository, embedded into forkcast by scripts/gen-assets.py.

The protocol (docs/plugins.md): forkcast writes one JSON object per line on the plugin's
stdin and reads one per line from its stdout:

    forkcast → plugin   {"type": "hello", "protocol_version": 1, "kind": ..., ...}
    plugin → forkcast   {"type": "hello", "protocol_version": 1, "name": ..., "version": ...}
    forkcast → plugin   the request of the plugin's kind ("analyze", "advise", "render", "launch")
    plugin → forkcast   its response ("findings", "advice", "rendered", "launch_specs")
                        or {"type": "error", "message": "..."}

stdout carries only protocol messages; print anything else to stderr (forkcast shows it
to the user, prefixed with the plugin's name).
"""

import json
import sys
import traceback

PROTOCOL_VERSION = 1

STATE_NAMES = ["on_cpu", "runnable", "gil_wait", "lock_wait", "io_wait", "sleep", "child_wait", "other"]


def log(*parts):
    """A line for the user's log (forkcast's stderr)."""
    print(*parts, file=sys.stderr, flush=True)


def _send(message):
    sys.stdout.write(json.dumps(message, separators=(",", ":"), allow_nan=False) + "\n")
    sys.stdout.flush()


def serve(handler, name, version):
    """Runs one exchange: the handshake, then `handler(request) -> response dict`.

    Returns the process exit status (use `sys.exit(serve(...))`). An exception in the
    handler becomes an "error" message (and its traceback goes to stderr)."""
    line = sys.stdin.readline()
    if not line:
        return 0
    try:
        hello = json.loads(line)
    except ValueError:
        _send({"type": "error", "message": "expected a hello message"})
        return 2
    if hello.get("protocol_version") != PROTOCOL_VERSION:
        log(f"forkcast speaks protocol {hello.get('protocol_version')}, this plugin {PROTOCOL_VERSION}")
    _send({"type": "hello", "protocol_version": PROTOCOL_VERSION, "name": name, "version": version})
    line = sys.stdin.readline()
    if not line:  # a handshake-only check
        return 0
    try:
        request = json.loads(line)
        response = handler(request)
    except Exception as e:  # noqa: BLE001 — every failure must reach forkcast as one message
        traceback.print_exc(file=sys.stderr)
        _send({"type": "error", "message": f"{type(e).__name__}: {e}"})
        return 1
    _send(response)
    return 0


class Profile:
    """A Forkcast profile (docs/profile-format.md) with its sample columns and stacks
    decoded for convenient iteration. Stacks are leaf-first lists of frame dicts."""

    def __init__(self, doc):
        self.doc = doc
        self.recording = doc["recording"]
        self.cores = int(self.recording.get("cores", 1))
        self.rate_hz = float(self.recording.get("rateHz", 100.0))
        self.period_s = 1.0 / self.rate_hz if self.rate_hz > 0 else 0.01
        self.processes = doc.get("processes", [])
        self.threads = doc.get("threads", [])
        self.mappings = doc.get("mappings", [])
        # Format version 2 names a frame's mapping row instead of its module path, and a
        # sample's thread row instead of its pid and tid: fill in both, so plugins read
        # `frame["module"]` and the `pid`/`tid` columns whatever the version.
        self.frames = [dict(f, module=self.mappings[f["mapping"]]["file"]) if "mapping" in f and "module" not in f else f
                       for f in doc.get("frames", [])]
        self.stacks = [[self.frames[i] for i in s["frames"]] for s in doc.get("stacks", [])]
        self.waits = doc.get("waits", [])
        cols = dict(doc["samples"])
        if "thread" in cols and "tid" not in cols:
            cols["pid"] = [self.threads[r]["pid"] for r in cols["thread"]]
            cols["tid"] = [self.threads[r]["tid"] for r in cols["thread"]]
        self.columns = cols
        self.count = len(cols["t"])

    def samples(self):
        """Yields (time_ns, pid, tid, stack_index, state_name, wait_index, gil_code)."""
        c = self.columns
        for i in range(self.count):
            yield (c["t"][i], c["pid"][i], c["tid"][i], c["stack"][i], STATE_NAMES[c["state"][i]], c["wait"][i], c["gil"][i])

    def thread_names(self):
        return {(t["pid"], t["tid"]): t.get("name", "") for t in self.threads}


def frame_label(frame):
    """How forkcast prints a frame: `name (file:line)` for Python, `name` otherwise."""
    if frame.get("kind") == "python" and frame.get("file"):
        return f"{frame['name']} ({frame['file'].rsplit('/', 1)[-1]}:{frame.get('line', 0)})"
    return frame.get("name", "?")


def stack_labels(stack, limit=12):
    """A stack outermost first (as findings carry them)."""
    return [frame_label(f) for f in reversed(stack[:limit])]
