package app.kartka.app

import java.nio.file.Files
import java.util.concurrent.TimeUnit

/**
 * A real kartka-server process on 127.0.0.1 (KARTKA_SERVER_BIN, built by scripts/test-android),
 * for app-logic's tests and, through this module's test jar, the Robolectric suite's.
 */
class LoopbackServer : AutoCloseable {
    private val process: Process
    val url: String

    init {
        val bin = System.getenv("KARTKA_SERVER_BIN") ?: error("KARTKA_SERVER_BIN is not set")
        val dir = Files.createTempDirectory("kartka-server").toFile()
        // The server must know its own address to sign confirmation links for clients.
        val port = java.net.ServerSocket(0).use { it.localPort }
        dir.resolve("server.toml").writeText("[notify]\npublic_url = \"http://127.0.0.1:$port\"\n")
        val pb = ProcessBuilder(bin, "--bind", "127.0.0.1:$port", "--config", dir.resolve("server.toml").path).directory(dir)
        pb.environment()["KARTKA_LOG"] = "warn"
        pb.redirectError(ProcessBuilder.Redirect.INHERIT)
        process = pb.start()
        val line = process.inputStream.bufferedReader().readLine() ?: error("kartka-server exited")
        check(line.startsWith("listening on ")) { line }
        url = line.removePrefix("listening on ")
    }

    override fun close() {
        process.destroy()
        process.waitFor(30, TimeUnit.SECONDS)
    }
}
