plugins {
    id("com.android.application")
    kotlin("android")
}

android {
    namespace = "app.kartka.android"
    compileSdk = 35
    defaultConfig {
        applicationId = "app.kartka"
        minSdk = 26
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }
    // libkartka_ffi.so per ABI, written by scripts/build-android.
    sourceSets["main"].jniLibs.srcDir("src/main/jniLibs")
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
    // The Robolectric suite (src/test), as Maven runs it: the host libkartka_ffi through JNA.
    testOptions.unitTests.all {
        it.systemProperty("jna.library.path", rootProject.file("../target/debug").path)
    }
    buildTypes {
        release {
            isMinifyEnabled = true
            // JNA finds the bindings' structures and callbacks by reflection.
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }
}

dependencies {
    implementation(project(":app-logic"))
    implementation("net.java.dev.jna:jna:5.15.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.1")
    testImplementation("org.robolectric:robolectric:4.17")
    testImplementation("junit:junit:4.13.2")
    testImplementation("org.jetbrains.kotlin:kotlin-test-junit")
    // The host build of the core for the JVM tests (the aar above carries Android's).
    testImplementation("net.java.dev.jna:jna:5.15.0")
}
