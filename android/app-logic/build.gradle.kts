// Plain Kotlin: the view-models and everything else that is not Android UI, with the generated
// bindings compiled in. JNA is compileOnly here: the app supplies its Android build (the aar
// with the native dispatch libraries), the JVM tests the jar.
plugins {
    kotlin("jvm")
}

kotlin { jvmToolchain(17) }

sourceSets["main"].kotlin.srcDir("../../bindings/generated/kotlin")

dependencies {
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-core:1.10.1")
    compileOnly("net.java.dev.jna:jna:5.15.0")
    testImplementation("net.java.dev.jna:jna:5.15.0")
    testImplementation(kotlin("test-junit5"))
    testImplementation("org.junit.jupiter:junit-jupiter:5.11.4")
}

tasks.test {
    useJUnitPlatform()
    // The host build of the library: `cargo build -p kartka-ffi -p kartka-server` first.
    systemProperty("jna.library.path", rootDir.resolve("../target/debug").path)
    environment("KARTKA_SERVER_BIN", rootDir.resolve("../target/debug/kartka-server").path)
}
