import Foundation

/// Real servers from Debian's packages, started for a test and always cleaned up:
/// PostgreSQL 15, nginx, redis-server and memcached, each on a free 127.0.0.1 port with
/// its files in a temporary folder, plus a bounded load generator for each (pgbench,
/// wrk, redis-benchmark, memaslap). Installed by `scripts/setup.sh --test`.
///
/// ```swift
/// let pg = try RealServers.postgres()
/// defer { pg.stop() }
/// let load = try pg.load(seconds: 5)       // ends by itself
/// … record pg.mainPID …
/// load.wait()
/// ```
///
/// A server that cannot start throws `RealServers.Unavailable` when its program is not
/// installed (tests skip with that message) and `Fixtures.Failure` when it is installed
/// but fails (tests fail: the log is in the message).
public enum RealServers {
    /// The server's program is not installed on this machine.
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// A running server. `stop()` is idempotent and also runs on deinit.
    public final class Server: @unchecked Sendable {
        public let name: String
        /// The server's first process (postmaster, nginx master, redis-server, memcached).
        public let mainPID: Int32
        public let port: UInt16
        /// The temporary folder holding the server's configuration, data and logs.
        public let directory: URL
        private let process: BackgroundProgram?
        private let stopAction: (Server) -> Void
        private let loadCommand: (Server, Double) -> LoadCommand
        private let lock = NSLock()
        private var stopped = false

        init(name: String, mainPID: Int32, port: UInt16, directory: URL, process: BackgroundProgram?,
             stop: @escaping (Server) -> Void, load: @escaping (Server, Double) -> LoadCommand) {
            self.name = name
            self.mainPID = mainPID
            self.port = port
            self.directory = directory
            self.process = process
            self.stopAction = stop
            self.loadCommand = load
        }

        deinit { stop() }

        /// The main process and every descendant (workers, background processes), as
        /// read from /proc now.
        public var pids: [Int32] { [mainPID] + RealServers.descendants(of: mainPID) }

        /// Every thread of every process of the server.
        public var tids: [Int32] {
            pids.flatMap { pid in
                ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []).compactMap { Int32($0) }
            }
        }

        /// Starts the server's load generator for about `seconds` (it ends by itself, and
        /// `Load.wait()` kills it if it overruns).
        public func load(seconds: Double) throws -> Load {
            let command = loadCommand(self, seconds)
            return try Load(command, seconds: seconds)
        }

        /// Stops the server (gracefully, then SIGKILL for whatever is left) and removes
        /// its folder. Safe to call more than once.
        public func stop() {
            lock.lock()
            if stopped { lock.unlock(); return }
            stopped = true
            lock.unlock()
            let all = pids
            stopAction(self)
            RealServers.killAll(all)
            process?.stop()
            try? FileManager.default.removeItem(at: directory)
        }
    }

    /// How to run a server's load generator.
    struct LoadCommand {
        var executable: String
        var arguments: [String]
        /// False for a generator that has no duration option and runs until stopped
        /// (redis-benchmark -l): `Load` stops it with SIGTERM after its seconds. A
        /// request count is no duration: on a fast machine it ends before the recording
        /// starts.
        var endsByItself = true
    }

    /// A load generator running against a server for about `seconds`.
    public final class Load: @unchecked Sendable {
        public let process: BackgroundProgram
        public let seconds: Double
        private let started = Date()
        private let stopper = NSLock()
        private var stoppedOnTime = false

        init(_ command: LoadCommand, seconds: Double) throws {
            let executable = command.executable
            guard FileManager.default.isExecutableFile(atPath: executable) else {
                throw Unavailable(description: "\(executable) is not installed (scripts/setup.sh --test installs it)")
            }
            // Its output is not read: to /dev/null, so a chatty generator never blocks.
            process = try BackgroundProgram([executable] + command.arguments, stdout: .null, stderr: .null)
            self.seconds = seconds
            if !command.endsByItself {
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [weak self] in self?.stopOnTime() }
            }
        }

        private func stopOnTime() {
            stopper.lock()
            defer { stopper.unlock() }
            guard process.isRunning else { return }
            stoppedOnTime = true
            process.signal(SIGTERM)
        }

        /// Waits for the generator to end; kills it when it runs 10 s past its time.
        /// Returns its exit status (0 for a generator stopped on time by its SIGTERM).
        @discardableResult
        public func wait() -> Int32 {
            let deadline = started.addingTimeInterval(seconds + 10)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            let status = process.isRunning ? { process.stop(); return process.wait() }() : process.wait()
            stopper.lock()
            defer { stopper.unlock() }
            if stoppedOnTime && status == 128 + SIGTERM { return 0 }
            return status
        }

        deinit { process.stop() }
    }

    // MARK: - PostgreSQL

    static let postgresBin = "/usr/lib/postgresql/15/bin"

    /// PostgreSQL 15: initdb in a temp folder, pg_ctl start on a free port (Unix socket
    /// in the folder too), run as the `postgres` user when we are root (it refuses
    /// root), and `pgbench -i` so `load` has tables. `load(seconds:)` runs pgbench with
    /// 2 clients for that many seconds.
    public static func postgres() throws -> Server {
        let bin = postgresBin
        for tool in ["initdb", "pg_ctl", "postgres", "pgbench"] where !FileManager.default.isExecutableFile(atPath: "\(bin)/\(tool)") {
            throw Unavailable(description: "PostgreSQL 15 is not installed (\(bin)/\(tool); apt-get install postgresql-15 postgresql-contrib)")
        }
        let asRoot = getuid() == 0
        var owner: passwd?
        if asRoot {
            guard let pw = getpwnam("postgres") else {
                throw Unavailable(description: "there is no `postgres` user (apt-get install postgresql creates it)")
            }
            owner = pw.pointee
        }
        let dir = try makeDirectory("postgres")
        if let owner { chown(dir.path, owner.pw_uid, owner.pw_gid) }
        let data = dir.appendingPathComponent("data").path
        let log = dir.appendingPathComponent("server.log").path
        let port = try freePort()
        func asOwner(_ exe: String, _ args: [String]) throws -> Fixtures.RunResult {
            asRoot ? try runBounded("/usr/sbin/runuser", ["-u", "postgres", "--", exe] + args, in: dir)
                   : try runBounded(exe, args, in: dir)
        }
        func fail(_ what: String, _ r: Fixtures.RunResult) -> Fixtures.Failure {
            let serverLog = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: dir)
            return Fixtures.Failure(description: "PostgreSQL: \(what) failed (\(r.status)): \(r.stderr)\(r.stdout)\n\(serverLog)")
        }
        let initdb = try asOwner("\(bin)/initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        guard initdb.status == 0 else { throw fail("initdb", initdb) }
        let options = "-p \(port) -k \(dir.path) -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB -c max_connections=20"
        let start = try asOwner("\(bin)/pg_ctl", ["start", "-w", "-t", "30", "-D", data, "-l", log, "-o", options])
        guard start.status == 0 else { throw fail("pg_ctl start", start) }
        let pidLine = (try? String(contentsOfFile: "\(data)/postmaster.pid", encoding: .utf8))?.split(separator: "\n").first
        guard let pidLine, let postmaster = Int32(pidLine) else {
            _ = try? asOwner("\(bin)/pg_ctl", ["stop", "-m", "immediate", "-D", data])
            throw fail("reading postmaster.pid", start)
        }
        let server = Server(
            name: "postgres", mainPID: postmaster, port: port, directory: dir, process: nil,
            stop: { _ in _ = try? asOwner("\(bin)/pg_ctl", ["stop", "-m", "immediate", "-w", "-t", "10", "-D", data]) },
            load: { s, seconds in
                LoadCommand(executable: "\(bin)/pgbench",
                            arguments: ["-h", "127.0.0.1", "-p", "\(s.port)", "-U", "postgres", "-c", "2", "-j", "1",
                                        "-T", "\(max(1, Int(seconds.rounded())))", "-n", "postgres"])
            })
        let bench = try runBounded("\(bin)/pgbench", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-i", "-s", "1", "-q", "postgres"], in: dir)
        guard bench.status == 0 else { server.stop(); throw fail("pgbench -i", bench) }
        return server
    }

    // MARK: - nginx

    /// nginx with a master and `workers` worker processes answering `GET /` with a
    /// short body; `load(seconds:)` runs wrk (1 thread, 4 connections) for that long.
    public static func nginx(workers: Int = 2) throws -> Server {
        let exe = "/usr/sbin/nginx"
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw Unavailable(description: "nginx is not installed (apt-get install nginx-light)")
        }
        let dir = try makeDirectory("nginx")
        let port = try freePort()
        let p = dir.path
        let conf = """
        daemon off;
        master_process on;
        worker_processes \(workers);
        pid \(p)/nginx.pid;
        error_log \(p)/error.log;
        events { worker_connections 128; }
        http {
            access_log off;
            client_body_temp_path \(p)/body;
            proxy_temp_path \(p)/proxy;
            fastcgi_temp_path \(p)/fastcgi;
            uwsgi_temp_path \(p)/uwsgi;
            scgi_temp_path \(p)/scgi;
            server {
                listen 127.0.0.1:\(port);
                location / { return 200 "forkcast\\n"; }
            }
        }
        """
        try conf.write(to: dir.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let process = try launch(exe, ["-p", p, "-e", "\(p)/error.log", "-c", "\(p)/nginx.conf"], log: dir.appendingPathComponent("stdout.log"))
        let server = Server(
            name: "nginx", mainPID: process.pid, port: port, directory: dir, process: process,
            stop: { s in kill(s.mainPID, SIGQUIT); _ = waitGone(s.mainPID, seconds: 5) },
            load: { s, seconds in
                LoadCommand(executable: "/usr/bin/wrk",
                            arguments: ["-t", "1", "-c", "4", "-d", "\(max(1, Int(seconds.rounded())))s", "http://127.0.0.1:\(s.port)/"])
            })
        try waitReady(server, port: port, log: dir.appendingPathComponent("error.log")) {
            descendants(of: server.mainPID).count >= workers
        }
        return server
    }

    // MARK: - redis

    /// redis-server without persistence; `load(seconds:)` runs redis-benchmark on
    /// SET/GET for about that long (bounded by request count and a kill at overrun).
    public static func redis() throws -> Server {
        let exe = "/usr/bin/redis-server"
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw Unavailable(description: "redis-server is not installed (apt-get install redis-server redis-tools)")
        }
        let dir = try makeDirectory("redis")
        let port = try freePort()
        let process = try launch(exe, ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                       "--daemonize", "no", "--dir", dir.path, "--logfile", "\(dir.path)/redis.log"],
                                 log: dir.appendingPathComponent("stdout.log"))
        let server = Server(
            name: "redis", mainPID: process.pid, port: port, directory: dir, process: process,
            stop: { s in kill(s.mainPID, SIGTERM); _ = waitGone(s.mainPID, seconds: 5) },
            load: { s, seconds in
                // redis-benchmark has no duration option, and a request count is over in
                // a second on a fast machine: loop (-l) and let Load stop it on time.
                LoadCommand(executable: "/usr/bin/redis-benchmark",
                            arguments: ["-h", "127.0.0.1", "-p", "\(s.port)", "-c", "4", "-q", "-t", "set,get", "-l"],
                            endsByItself: false)
            })
        try waitReady(server, port: port, log: dir.appendingPathComponent("redis.log")) { true }
        return server
    }

    // MARK: - memcached

    /// memcached with `threads` worker threads (`-t`); `load(seconds:)` runs memaslap
    /// (Debian's `memcaslap`) for that many seconds.
    public static func memcached(threads: Int = 4) throws -> Server {
        let exe = "/usr/bin/memcached"
        guard FileManager.default.isExecutableFile(atPath: exe) else {
            throw Unavailable(description: "memcached is not installed (apt-get install memcached libmemcached-tools)")
        }
        let dir = try makeDirectory("memcached")
        let port = try freePort()
        var args = ["-p", "\(port)", "-l", "127.0.0.1", "-U", "0", "-t", "\(threads)", "-m", "32", "-c", "256"]
        if getuid() == 0 { args += ["-u", "nobody"] }
        let process = try launch(exe, args, log: dir.appendingPathComponent("stdout.log"))
        let slap = ["/usr/bin/memcaslap", "/usr/bin/memaslap"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/bin/memcaslap"
        let server = Server(
            name: "memcached", mainPID: process.pid, port: port, directory: dir, process: process,
            stop: { s in kill(s.mainPID, SIGTERM); _ = waitGone(s.mainPID, seconds: 5) },
            load: { s, seconds in
                LoadCommand(executable: slap,
                            arguments: ["-s", "127.0.0.1:\(s.port)", "-T", "1", "-c", "4", "-t", "\(max(1, Int(seconds.rounded())))s"])
            })
        try waitReady(server, port: port, log: dir.appendingPathComponent("stdout.log")) { true }
        return server
    }

    // MARK: - Helpers

    /// Processes descended from `pid` (any of its threads' children, recursively).
    public static func descendants(of pid: Int32) -> [Int32] {
        var result: [Int32] = []
        var queue = [pid]
        while let p = queue.popLast() {
            let tids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(p)/task")) ?? []
            for tid in tids {
                let kids = (try? String(contentsOfFile: "/proc/\(p)/task/\(tid)/children", encoding: .utf8))?
                    .split(separator: " ").compactMap { Int32($0) } ?? []
                for k in kids where !result.contains(k) {
                    result.append(k)
                    queue.append(k)
                }
            }
        }
        return result
    }

    /// A TCP port on 127.0.0.1 nobody listens on now (bound to port 0, then released).
    public static func freePort() throws -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Fixtures.Failure(description: "socket: errno \(errno)") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                bind(fd, sa, len) == 0 && getsockname(fd, sa, &len) == 0
            }
        }
        guard ok else { throw Fixtures.Failure(description: "bind 127.0.0.1:0: errno \(errno)") }
        return UInt16(bigEndian: addr.sin_port)
    }

    /// Whether something accepts TCP connections on 127.0.0.1:port.
    public static func accepts(port: UInt16) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        return withUnsafePointer(to: &addr) { ptr in
            ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// Runs a set-up command to completion (killed after `seconds`), its output in a
    /// file. A BackgroundProgram (posix_spawn + waitpid) rather than Foundation's Process:
    /// pg_ctl under runuser left Process.waitUntilExit waiting forever on an exited child.
    static func runBounded(_ exe: String, _ args: [String], in dir: URL, seconds: Double = 60) throws -> Fixtures.RunResult {
        let log = dir.appendingPathComponent("cmd-\(UUID().uuidString.prefix(6)).log").path
        let program: BackgroundProgram
        do {
            program = try BackgroundProgram([exe] + args, stdout: .file(log), stderr: .stdout)
        } catch {
            throw Fixtures.Failure(description: "posix_spawn \(exe): \(error)")
        }
        if !waitUntil(seconds, { !program.isRunning }) { program.stop() }
        let status = program.wait()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: log)
        return Fixtures.RunResult(status: status, stdout: output, stderr: "")
    }

    static func makeDirectory(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("forkcast-\(name)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        return dir
    }

    static func launch(_ exe: String, _ args: [String], log: URL) throws -> BackgroundProgram {
        try BackgroundProgram([exe] + args, stdout: .file(log.path), stderr: .stdout)
    }

    /// Waits (up to 20 s) until the server accepts connections on `port` and `extra`
    /// holds; otherwise stops it and throws with its log.
    static func waitReady(_ server: Server, port: UInt16, log: URL, _ extra: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if kill(server.mainPID, 0) != 0 { break }
            if accepts(port: port) && extra() { return }
            usleep(20_000)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        server.stop()
        throw Fixtures.Failure(description: "\(server.name) did not start on 127.0.0.1:\(port): \(text.suffix(2000))")
    }

    /// Waits until `pid` no longer exists (or is a zombie); returns whether it went.
    @discardableResult
    static func waitGone(_ pid: Int32, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if !alive(pid) { return true }
            usleep(20_000)
        }
        return !alive(pid)
    }

    /// Whether `pid` exists and is not a zombie.
    public static func alive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state != "Z" && state != "X"
    }

    /// SIGCONT + SIGKILL whatever of `pids` is still alive (SIGCONT first: a process
    /// left stopped would otherwise linger until continued).
    static func killAll(_ pids: [Int32]) {
        for pid in pids where alive(pid) {
            kill(pid, SIGCONT)
            kill(pid, SIGKILL)
        }
    }
}
