// swift-tools-version: 6.1
import PackageDescription

// Module layout (data flows one way, each stage its own module):
//   SubterraIndex     pure-Swift R-trees, knows nothing of pipes or geometry types
//   SubterraGeometry  pure-Swift value types, exact kernels, WKT/WKB/GeoJSON, the segment index
//   SubterraGEOS      GEOS bridge (constructions, validity, oracle in tests)
//   SubterraPROJ      PROJ bridge (coordinate systems)
//   SubterraModel     CJJ 61 utility model, quality checks, importers, GeoPackage store
//   SubterraPostGIS   the city's store of record: PostGIS through postgres-nio (EWKB, COPY, edits),
//                     and engines that follow it (PostGISFollower)
//   SubterraGDAL      optional GDAL bridge: Shapefile, DXF, GML, KML, FileGDB … as source records
//   SubterraDatasets  deterministic district generator (lives in Datasets/)
//   SubterraEngine    snapshot + index + exact queries + clearance rules + reports
//   SubterraRequests  query requests as data: decoding, limits, answers (batch lines, later HTTP)
//   SubterraNetwork   pipe network topology, its quality checks, valve isolation (no I/O)
//   SubterraAccess    who may see what: grants, scopes, API-key hashes (no HTTP)
//   SubterraService   the HTTP service (`subterra serve`): Hummingbird routes, auth, audit, metrics
//   subterra          the command-line tool
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "Subterra",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SubterraIndex", targets: ["SubterraIndex"]),
        .library(name: "SubterraGeometry", targets: ["SubterraGeometry"]),
        .library(name: "SubterraGEOS", targets: ["SubterraGEOS"]),
        .library(name: "SubterraPROJ", targets: ["SubterraPROJ"]),
        .library(name: "SubterraModel", targets: ["SubterraModel"]),
        .library(name: "SubterraGDAL", targets: ["SubterraGDAL"]),
        .library(name: "SubterraPostGIS", targets: ["SubterraPostGIS"]),
        .library(name: "SubterraDatasets", targets: ["SubterraDatasets"]),
        .library(name: "SubterraEngine", targets: ["SubterraEngine"]),
        .library(name: "SubterraRequests", targets: ["SubterraRequests"]),
        .library(name: "SubterraNetwork", targets: ["SubterraNetwork"]),
        .library(name: "SubterraAccess", targets: ["SubterraAccess"]),
        .library(name: "SubterraService", targets: ["SubterraService"]),
        .executable(name: "subterra", targets: ["subterra"]),
        .executable(name: "subterra-gen", targets: ["subterra-gen"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/apple/swift-crypto", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.0"),
    ],
    targets: [
        .target(name: "SubterraIndex", swiftSettings: swift6),
        .systemLibrary(name: "CGEOS", pkgConfig: "geos", providers: [.apt(["libgeos-dev"])]),
        .systemLibrary(name: "CPROJ", pkgConfig: "proj", providers: [.apt(["libproj-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // GDAL is loaded on first use (dlopen, see Sources/CGDAL/shim.h), so no pkg-config libs.
        .systemLibrary(name: "CGDAL", providers: [.apt(["libgdal-dev"])]),
        .target(name: "SubterraGeometry", dependencies: ["SubterraIndex"], swiftSettings: swift6),
        .target(name: "SubterraGEOS", dependencies: ["SubterraGeometry", "CGEOS"], swiftSettings: swift6),
        .target(name: "SubterraPROJ", dependencies: ["SubterraGeometry", "CPROJ"], swiftSettings: swift6),
        .target(
            name: "SubterraModel",
            dependencies: ["SubterraGeometry", "SubterraPROJ", "CSQLite"],
            swiftSettings: swift6),
        // The only module that links GDAL; the core modules above stay GDAL-free.
        .target(name: "SubterraGDAL", dependencies: ["SubterraModel", "SubterraGeometry", "CGDAL"], swiftSettings: swift6),
        // The only module that links postgres-nio; the model and the engine stay free of it.
        .target(
            name: "SubterraPostGIS",
            dependencies: [
                "SubterraModel", "SubterraGeometry", "SubterraEngine",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swift6),
        .target(
            name: "SubterraDatasets",
            dependencies: ["SubterraModel", "SubterraGeometry", "SubterraPROJ"],
            path: "Datasets/Generator",
            swiftSettings: swift6),
        .executableTarget(
            name: "subterra-gen",
            dependencies: ["SubterraDatasets", "SubterraModel"],
            path: "Datasets/GeneratorTool",
            swiftSettings: swift6),
        .target(
            name: "SubterraEngine",
            dependencies: ["SubterraIndex", "SubterraGeometry", "SubterraGEOS", "SubterraPROJ", "SubterraModel"],
            resources: [.copy("Resources/clearance-rules.json"), .copy("Resources/clearance-rules-uk-hsg47.json")],
            swiftSettings: swift6),
        .target(
            name: "SubterraRequests",
            dependencies: ["SubterraEngine", "SubterraNetwork", "SubterraModel", "SubterraGeometry", "SubterraGEOS", "SubterraPROJ"],
            swiftSettings: swift6),
        // Knows the model, not the store: topology, valve isolation, tracing.
        .target(
            name: "SubterraNetwork", dependencies: ["SubterraModel", "SubterraGeometry", "SubterraIndex"],
            swiftSettings: swift6),
        // Access control as data: no HTTP, so the OGC code and tests can use it.
        .target(
            name: "SubterraAccess",
            dependencies: [
                "SubterraEngine", "SubterraModel", "SubterraGeometry", "SubterraGEOS", "SubterraPROJ",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swift6),
        // The HTTP service. Nothing below it depends on it.
        .target(
            name: "SubterraService",
            dependencies: [
                "SubterraAccess", "SubterraRequests", "SubterraNetwork", "SubterraEngine", "SubterraModel", "SubterraGeometry",
                "SubterraGEOS", "SubterraPROJ",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            // The planners' page (served at /map/) with Leaflet from Debian's libjs-leaflet.
            // and the OpenAPI document served at /openapi.json.
            resources: [.copy("Public"), .copy("openapi.json")],
            swiftSettings: swift6),
        .executableTarget(
            name: "subterra",
            dependencies: [
                "SubterraService", "SubterraAccess", "SubterraRequests", "SubterraNetwork", "SubterraEngine", "SubterraModel", "SubterraGeometry", "SubterraPROJ", "SubterraGEOS",
                "SubterraGDAL", "SubterraPostGIS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swift6),
        .testTarget(name: "SubterraIndexTests", dependencies: ["SubterraIndex", "SubterraDatasets"], swiftSettings: swift6),
        .testTarget(
            name: "SubterraGeometryTests",
            dependencies: ["SubterraGeometry", "SubterraIndex", "SubterraGEOS", "SubterraPROJ", "CGEOS"],
            swiftSettings: swift6),
        .testTarget(
            name: "SubterraModelTests",
            dependencies: ["SubterraModel", "SubterraDatasets", "SubterraGeometry", "SubterraPROJ"],
            swiftSettings: swift6),
        .testTarget(
            name: "SubterraEngineTests",
            dependencies: [
                "SubterraEngine", "SubterraDatasets", "SubterraModel", "SubterraGeometry", "SubterraIndex",
                "SubterraGEOS", "SubterraPROJ",
            ],
            swiftSettings: swift6),
        .testTarget(
            name: "SubterraGDALTests", dependencies: ["SubterraGDAL", "SubterraModel", "SubterraGeometry"],
            swiftSettings: swift6),
        .testTarget(
            name: "SubterraServiceTests",
            dependencies: [
                "SubterraService", "SubterraDatasets", "SubterraAccess", "SubterraRequests", "SubterraNetwork", "SubterraEngine",
                "SubterraModel", "SubterraGeometry", "SubterraGEOS",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swift6),
        .testTarget(
            name: "SubterraRequestsTests",
            dependencies: [
                "SubterraRequests", "SubterraNetwork", "SubterraGeometry", "SubterraEngine", "SubterraModel", "SubterraDatasets",
                "SubterraGEOS", "SubterraPROJ",
            ],
            swiftSettings: swift6),
        // Runs against SUBTERRA_PG_PRIMARY / SUBTERRA_PG_REPLICA (scripts/with-postgres.sh); skipped without.
        .testTarget(
            name: "SubterraPostGISTests",
            dependencies: [
                "SubterraPostGIS", "SubterraModel", "SubterraGeometry", "SubterraEngine", "SubterraDatasets",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swift6),
        .testTarget(
            name: "SubterraNetworkTests",
            dependencies: ["SubterraNetwork", "SubterraModel", "SubterraGeometry", "SubterraDatasets"],
            swiftSettings: swift6),
        // SubterraModel: to damage a store's pages in the corrupt-store tests.
        .testTarget(name: "SubterraCLITests", dependencies: ["subterra", "SubterraModel"], swiftSettings: swift6),
    ]
)
