// swift-tools-version: 6.0
// The profile file benchmark: a package of its own so that it is never part of
// `swift test` and the main package needs no benchmark target. Run it with ./run.sh.
import PackageDescription

let package = Package(
    name: "ProfileIOBench",
    dependencies: [.package(name: "Forkcast", path: "../..")],
    targets: [
        // SyntheticProfiles.swift is a symlink to Tests/ForkcastTestSupport: the same
        // deterministic profiles the tests use.
        .executableTarget(
            name: "ProfileIOBench",
            dependencies: [.product(name: "ForkcastModel", package: "Forkcast")]
        ),
    ]
)
