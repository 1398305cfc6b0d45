// swift-tools-version:5.9
// The core for the iOS app: the XCFramework scripts/build-ios builds (Rust, the `mobile`
// profile) and the Swift bindings UniFFI generates for it (bindings/generated/swift, copied into
// Sources/KartkaCore by the same script). Not built on this project's CI machine (no Swift).
import PackageDescription

let package = Package(
    name: "KartkaCore",
    platforms: [.iOS(.v15)],
    products: [
        .library(name: "KartkaCore", targets: ["KartkaCore"]),
    ],
    targets: [
        .binaryTarget(name: "KartkaCoreFFI", path: "KartkaCoreFFI.xcframework"),
        .target(name: "KartkaCore", dependencies: ["KartkaCoreFFI"], path: "Sources/KartkaCore"),
    ]
)
