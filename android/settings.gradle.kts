// The Android app's Gradle build: needs the Android SDK (Android Studio) and, for the native
// library, the NDK through scripts/build-android. Not run in this project's CI, which has
// neither; there, pom.xml compiles the same sources (see README, "Android").
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}
dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}
rootProject.name = "kartka"
include(":app-logic", ":app")
