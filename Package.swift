// swift-tools-version: 6.0
// Forkcast — a concurrency profiler for Linux.
//
// Data flows one way: system → samples → profile → analysis → recommendation → report.
// Each target below owns one step; see the README.md inside each Sources/ folder and
// docs/architecture.md. Every target lists exactly the modules it imports, so this
// manifest is the dependency graph:
//
//   ForkcastModel        ← CZlib                                  (pure data, no I/O)
//   ForkcastSystem       ← Model, CForkcastSys, CElf              (the only one touching the OS)
//   ForkcastSampling     ← Model, System                          (the recorder)
//   ForkcastAnalysis     ← Model                                  (pure)
//   ForkcastExperiment   ← Model, System, Yams                    (runs through Subprocess)
//   ForkcastReport       ← Model, System                          (writes through AtomicFile)
//   ForkcastPlugins      ← Model, System, Analysis, Report, Experiment (built-ins + external)
//   ForkcastWorkflow     ← all of the above                       (plans, pipelines)
//   ForkcastCLI          ← Workflow and the libraries it prints   (parsing, terminal)
import PackageDescription

let package = Package(
    name: "Forkcast",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "forkcast", targets: ["forkcast"]),
        .library(name: "ForkcastModel", targets: ["ForkcastModel"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // libunwind's remote (ptrace) API. Its names are C macros, so shim.h wraps them.
        .systemLibrary(
            name: "CUnwind",
            pkgConfig: "libunwind-ptrace",
            providers: [.apt(["libunwind-dev", "liblzma-dev"])]
        ),
        // libelf/gelf, for reading symbol tables, build-ids and debug links.
        .systemLibrary(
            name: "CElf",
            pkgConfig: "libelf",
            providers: [.apt(["libelf-dev"])]
        ),
        // zlib, for gzip profiles and pprof output.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // C wrappers for what Swift cannot call directly: variadic ptrace/syscall,
        // the wait-status macros, fork+stop+exec, and libunwind's accessor callbacks
        // (the remote unwinder runs entirely in C on the sampling hot path).
        .target(
            name: "CForkcastSys",
            dependencies: ["CUnwind"],
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [
                .linkedLibrary("unwind-ptrace"), .linkedLibrary("unwind-generic"),
                .linkedLibrary("unwind"), .linkedLibrary("lzma"),
            ]
        ),
        // Pure data: profile, samples, frames, states, findings, recommendation, and
        // the plugin protocols. Codable, validated, no I/O.
        .target(name: "ForkcastModel", dependencies: ["CZlib"], exclude: ["README.md"]),
        // The files forkcast carries inside its binary — the report's JS/CSS, the executor
        // swap's Python, the plugin SDK — kept as real files in assets/ (linted and tested in
        // their own language) and embedded by the build itself (`.embedInCode`): one copy of
        // each, nothing generated to drift, nothing looked up at run time.
        .target(name: "ForkcastAssets", path: "assets",
                exclude: ["README.md", "swap/test_forkcast_swap.py"],
                resources: [
                    .embedInCode("report/report.js"), .embedInCode("report/report.css"),
                    .embedInCode("swap/forkcast_swap.py"), .embedInCode("swap/sitecustomize.py"),
                    .embedInCode("sdk/forkcast_plugin.py"),
                ]),
        // The only module that touches the OS: ptrace, waitpid, /proc, process_vm_readv,
        // ELF symbols, unwinding (libunwind through CForkcastSys), starting processes
        // (Subprocess), writing output files (AtomicFile), typed errno.
        .target(name: "ForkcastSystem", dependencies: ["ForkcastModel", "CForkcastSys", "CElf"], exclude: ["README.md"]),
        // Samplers: the ptrace tracer thread, thread-state classification, native stacks,
        // Python frames. Produces a Profile; never formats output.
        .target(name: "ForkcastSampling", dependencies: ["ForkcastModel", "ForkcastSystem"], exclude: ["README.md", "Python/README.md"]),
        // Analyzers and recommender rules: profile → findings → recommendation. No I/O.
        .target(name: "ForkcastAnalysis", dependencies: ["ForkcastModel"], exclude: ["README.md"]),
        // Strategies, the run matrix, statistics and scaling-model fits; runs are launched
        // through ForkcastSystem's Subprocess. The recorder and the analyzers are injected
        // (RunRecorder, ProfileAnalyzer) by ForkcastWorkflow, not imported.
        .target(name: "ForkcastExperiment", dependencies: [
            "ForkcastModel", "ForkcastSystem", "ForkcastAssets",
            .product(name: "Yams", package: "Yams"),
        ], exclude: ["README.md"]),
        // Reporters: HTML, JSON, speedscope, folded, Chrome trace, pprof. No analysis;
        // files written through ForkcastSystem's AtomicFile.
        .target(name: "ForkcastReport", dependencies: ["ForkcastModel", "ForkcastSystem", "ForkcastAssets"], exclude: ["README.md"]),
        // The registry of built-in and external plugins, and the external JSON protocol.
        .target(name: "ForkcastPlugins", dependencies: ["ForkcastModel", "ForkcastSystem", "ForkcastAssets", "ForkcastAnalysis", "ForkcastReport", "ForkcastExperiment"], exclude: ["README.md"]),
        // The workflows that join the libraries: an experiment planned from a request and
        // run with the recorder and the analyzers; the report pipeline every `--report` and
        // `forkcast report` share. Its own module so that the plugin registry stays a
        // registry and the CLI stays parsing and terminal output.
        .target(name: "ForkcastWorkflow", dependencies: [
            "ForkcastModel", "ForkcastSystem", "ForkcastSampling", "ForkcastAnalysis",
            "ForkcastExperiment", "ForkcastReport", "ForkcastPlugins",
        ], exclude: ["README.md"]),
        // Argument parsing and terminal output; every command is a thin layer over the libraries.
        .target(name: "ForkcastCLI", dependencies: [
            "ForkcastModel", "ForkcastSystem", "ForkcastSampling", "ForkcastAnalysis",
            "ForkcastExperiment", "ForkcastReport", "ForkcastPlugins", "ForkcastWorkflow",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], exclude: ["README.md"]),
        // The executable: a few lines that call ForkcastCLI.
        .executableTarget(name: "forkcast", dependencies: ["ForkcastCLI"]),

        // Helpers every test target shares: finding and running the `forkcast` binary (CLI),
        // running a program to completion (Fixtures.run) or in the background while a test
        // watches it (BackgroundProgram), fixtures, real servers, schema checks.
        .target(name: "ForkcastTestSupport", dependencies: ["ForkcastModel"], path: "Tests/ForkcastTestSupport"),
        .testTarget(name: "ForkcastModelTests", dependencies: ["ForkcastModel", "ForkcastTestSupport"]),
        .testTarget(name: "ForkcastSystemTests", dependencies: ["ForkcastModel", "ForkcastSystem", "ForkcastTestSupport"]),
        .testTarget(name: "ForkcastSamplingTests", dependencies: ["ForkcastModel", "ForkcastSystem", "ForkcastSampling", "ForkcastTestSupport"]),
        .testTarget(name: "ForkcastAnalysisTests", dependencies: ["ForkcastModel", "ForkcastAnalysis", "ForkcastTestSupport"]),
        .testTarget(name: "ForkcastReportTests", dependencies: ["ForkcastModel", "ForkcastReport", "ForkcastTestSupport"], exclude: ["Fixtures", "browser"]),
        .testTarget(name: "ForkcastExperimentTests", dependencies: ["ForkcastModel", "ForkcastExperiment", "ForkcastTestSupport"]),
        // Every test that drives the `forkcast` binary as a user does (record, analyze, report,
        // experiment, plugins), through ForkcastTestSupport's CLI.run.
        .testTarget(name: "ForkcastCLITests", dependencies: ["ForkcastModel", "ForkcastAnalysis", "ForkcastPlugins", "ForkcastCLI", "ForkcastTestSupport"]),
        .testTarget(name: "ForkcastWorkflowTests", dependencies: ["ForkcastModel", "ForkcastExperiment", "ForkcastReport", "ForkcastPlugins", "ForkcastWorkflow", "ForkcastTestSupport"]),
        .testTarget(name: "ForkcastPluginsTests", dependencies: ["ForkcastModel", "ForkcastAssets", "ForkcastAnalysis", "ForkcastPlugins", "ForkcastTestSupport"]),
        // Fuzz-regression replays, reader properties, soak, hostile targets, SIGKILL.
        .testTarget(name: "ForkcastHardeningTests", dependencies: ["ForkcastModel", "ForkcastSystem", "ForkcastExperiment", "ForkcastTestSupport"]),
    ]
)
