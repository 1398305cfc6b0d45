// swift-tools-version:5.9
// The iOS app's code as a Swift package: view-models and SwiftUI screens that mirror the
// Android app flow for flow (android/app-logic, android/app), over the KartkaCore package (the
// Rust core as an XCFramework plus its generated Swift bindings). App/ holds the @main entry and
// the Info.plist an Xcode iOS app target uses (README, "iOS").
//
// NOT COMPILED on this project's CI machine: it has no Swift toolchain. Written to the Swift
// 5.9 / iOS 16 APIs, kept small and regular so that review can stand in for a compiler.
import PackageDescription

let package = Package(
    name: "KartkaApp",
    defaultLocalization: "en",
    platforms: [.iOS(.v16)],
    products: [
        .library(name: "KartkaApp", targets: ["KartkaApp"]),
    ],
    dependencies: [
        .package(path: "../KartkaCore"),
    ],
    targets: [
        .target(
            name: "KartkaApp",
            dependencies: [.product(name: "KartkaCore", package: "KartkaCore")],
            path: "Sources/KartkaApp",
            // uk, ru, pl, en: generated from android/app-logic's tables (StringsTest).
            resources: [.process("Resources")]
        ),
    ]
)
