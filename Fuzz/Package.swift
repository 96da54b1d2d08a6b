// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for every parser of untrusted input, one executable per input kind. A separate
// package (it depends on the root package by path) so the sanitizer build never touches the
// root's .build. Build and run them with scripts/fuzz.sh; see Fuzz/README.md.
//
// Every target must be built with `-Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library`:
// libFuzzer supplies `main` and calls `LLVMFuzzerTestOneInput` (declared with `@_cdecl`).
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

// SwiftPM names a path dependency after its folder (lower-cased), and the checkout folder differs
// between developers and CI, so derive the root package's identity from this manifest's path.
let root = String(#filePath.split(separator: "/").dropLast(2).last ?? "main").lowercased()

func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport"] + products.map { .product(name: $0, package: root) },
        path: "Sources/\(name)",
        swiftSettings: swift6)
}

let package = Package(
    name: "SubterraFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: ".."),
    ],
    targets: [
        .target(name: "CFuzzerDriver", path: "Sources/CFuzzerDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CFuzzerDriver", .product(name: "SubterraGeometry", package: root),
                .product(name: "SubterraModel", package: root), .product(name: "SubterraPROJ", package: root),
            ],
            path: "Sources/FuzzSupport",
            swiftSettings: swift6),
        fuzzTarget("fuzz-wkt", ["SubterraGeometry"]),
        fuzzTarget("fuzz-wkb", ["SubterraGeometry", "SubterraModel"]),
        fuzzTarget("fuzz-geojson", ["SubterraGeometry"]),
        fuzzTarget("fuzz-csv", ["SubterraModel", "SubterraGeometry"]),
        fuzzTarget("fuzz-mapping", ["SubterraModel", "SubterraGeometry"]),
        fuzzTarget("fuzz-rules", ["SubterraEngine", "SubterraModel"]),
        fuzzTarget("fuzz-batch", ["SubterraRequests", "SubterraEngine", "SubterraModel", "SubterraGeometry"]),
    ]
)
