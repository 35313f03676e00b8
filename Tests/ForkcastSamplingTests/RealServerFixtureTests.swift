import Foundation
import XCTest
import ForkcastTestSupport

/// The shared real-server fixtures start, take their load, and leave nothing behind.
final class RealServerFixtureTests: XCTestCase {
    private func check(_ start: () throws -> RealServers.Server, minProcesses: Int, minThreads: Int = 1) throws {
        let server: RealServers.Server
        do { server = try start() } catch let e as RealServers.Unavailable { throw XCTSkip(e.description) }
        let pids = server.pids
        let tids = server.tids
        XCTAssertGreaterThanOrEqual(pids.count, minProcesses, "\(server.name): processes \(pids)")
        XCTAssertGreaterThanOrEqual(tids.count, minThreads, "\(server.name): threads \(tids)")
        XCTAssertTrue(RealServers.accepts(port: server.port), "\(server.name) does not accept on \(server.port)")
        let load = try server.load(seconds: 1)
        XCTAssertEqual(load.wait(), 0, "\(server.name): the load generator failed")
        let dir = server.directory
        server.stop()
        server.stop()
        for pid in pids {
            XCTAssertFalse(RealServers.alive(pid), "\(server.name): process \(pid) survived stop()")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path), "\(server.name): \(dir.path) left behind")
    }

    func testPostgres() throws {
        // postmaster + checkpointer, background writer, walwriter, autovacuum launcher,
        // logical replication launcher (Debian's PostgreSQL 15).
        try check({ try RealServers.postgres() }, minProcesses: 5)
    }

    func testNginx() throws {
        try check({ try RealServers.nginx(workers: 3) }, minProcesses: 4)
    }

    func testRedis() throws {
        try check({ try RealServers.redis() }, minProcesses: 1)
    }

    func testMemcached() throws {
        try check({ try RealServers.memcached(threads: 4) }, minProcesses: 1, minThreads: 5)
    }
}
