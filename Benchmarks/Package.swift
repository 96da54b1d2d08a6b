// swift-tools-version: 6.1
import PackageDescription

// A separate package so library users never build benchmark dependencies. It depends on the
// root package by path and on package-benchmark; the peers (Boost.Geometry, GEOS) are system
// C/C++ libraries already on the machine (libboost-dev, libgeos-dev).
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// SwiftPM names a path dependency after its folder (lower-cased), and the checkout folder differs
// between developers and CI, so derive the root package's identity from this manifest's path.
let root = String(#filePath.split(separator: "/").dropLast(2).last ?? "main").lowercased()

let package = Package(
    name: "SubterraBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
        .package(path: ".."),
    ],
    targets: [
        // Boost.Geometry rtree behind a plain C interface; header-only Boost, so -O3 here is the
        // whole peer's optimisation level.
        .target(
            name: "PeerBoost",
            path: "Sources/PeerBoost",
            cxxSettings: [.unsafeFlags(["-O3", "-DNDEBUG"])]),
        // GEOS STRtree through the reentrant C API.
        .target(
            name: "PeerGEOS",
            dependencies: ["CGEOSPeer"],
            path: "Sources/PeerGEOS",
            cSettings: [.unsafeFlags(["-O3", "-DNDEBUG"])]),
        .systemLibrary(name: "CGEOSPeer", path: "Sources/CGEOSPeer", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .target(name: "CBenchSupport", path: "Sources/CBenchSupport"),
        // subterra-compare's malloc-family wrappers (allocations per query for every peer). Only
        // that executable links it: package-benchmark brings its own interposer.
        // Exported by name: otherwise the linker's dead stripping drops them (nothing in the
        // executable calls them directly) and every library binds to glibc's.
        .target(
            name: "CMallocCount",
            dependencies: ["CBenchSupport"],
            path: "Sources/CMallocCount",
            linkerSettings: [.unsafeFlags(["malloc", "calloc", "realloc", "memalign", "aligned_alloc", "posix_memalign"]
                .flatMap { ["-Xlinker", "--export-dynamic-symbol=\($0)"] }, .when(platforms: [.linux]))]),
        // libpq for the PostGIS peer of the dig-check workload (the server itself is started by
        // run-nightly.sh on a loopback port).
        .systemLibrary(name: "CPostgres", path: "Sources/CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        .target(
            name: "BenchCore",
            dependencies: [
                "PeerBoost", "PeerGEOS", "CBenchSupport", "CPostgres",
                .product(name: "SubterraIndex", package: root),
                .product(name: "SubterraEngine", package: root),
                .product(name: "SubterraModel", package: root),
                .product(name: "SubterraDatasets", package: root),
                .product(name: "SubterraGeometry", package: root),
                .product(name: "SubterraPROJ", package: root),
            ],
            swiftSettings: swift6),
        .executableTarget(
            name: "subterra-compare",
            dependencies: ["BenchCore", "CMallocCount"],
            swiftSettings: swift6),
        // Edit latency of the engine, upkeep inline against background (NOTES.md, issue 14).
        .executableTarget(
            name: "edit-latency",
            dependencies: [
                "CBenchSupport",
                .product(name: "SubterraEngine", package: root),
                .product(name: "SubterraModel", package: root),
                .product(name: "SubterraDatasets", package: root),
                .product(name: "SubterraGeometry", package: root),
            ],
            swiftSettings: swift6),
        .testTarget(
            name: "BenchCoreTests",
            dependencies: [
                "BenchCore",
                .product(name: "SubterraEngine", package: root),
                .product(name: "SubterraDatasets", package: root),
                .product(name: "SubterraModel", package: root),
            ],
            swiftSettings: swift6),
        .executableTarget(
            name: "SubterraIndexBenchmarks",
            dependencies: [
                "BenchCore",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "SubterraIndex", package: root),
                .product(name: "SubterraGeometry", package: root),
            ],
            path: "Benchmarks/SubterraIndexBenchmarks",
            swiftSettings: swift6,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // Network operations at 10^6 segments against WNTR (network-speed.sh, issue 16).
        .executableTarget(
            name: "network-speed",
            dependencies: [
                "BenchCore",
                .product(name: "SubterraNetwork", package: root),
                .product(name: "SubterraDatasets", package: root),
                .product(name: "SubterraModel", package: root),
            ],
            swiftSettings: swift6),
        // Parse-only GeoJSON reader for geojson-vs-gdal.sh (Subterra vs ogrinfo / ogr2ogr).
        .executableTarget(
            name: "geojson-parse",
            dependencies: [.product(name: "SubterraGeometry", package: root)],
            swiftSettings: swift6),
    ]
)
