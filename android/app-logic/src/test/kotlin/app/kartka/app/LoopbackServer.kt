package app.kartka.app

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit

/**
 * A real kartka-server process on 127.0.0.1 (KARTKA_SERVER_BIN, built by scripts/test-android),
 * for app-logic's tests and, through this module's test jar, the Robolectric suite's.
 *
 * [limits] is extra TOML for the server's `[limits]` table (a small `pull_budget` makes a fresh
 * device's first sync take many pages). [kill] and [restart] take the same server away and bring
 * it back on the same address with the same database, as a studio's server going down and up.
 */
class LoopbackServer(private val limits: String = "") : AutoCloseable {
    private var process: Process
    private val dir: File = Files.createTempDirectory("kartka-server").toFile()
    // The server must know its own address to sign confirmation links for clients.
    private val port = java.net.ServerSocket(0).use { it.localPort }
    val url: String

    init {
        dir.resolve("server.toml").writeText(
            "[notify]\npublic_url = \"http://127.0.0.1:$port\"\n" + if (limits.isBlank()) "" else "[limits]\n$limits\n",
        )
        process = start()
        url = "http://127.0.0.1:$port"
    }

    private fun start(): Process {
        val bin = System.getenv("KARTKA_SERVER_BIN") ?: error("KARTKA_SERVER_BIN is not set")
        val pb = ProcessBuilder(bin, "--bind", "127.0.0.1:$port", "--config", dir.resolve("server.toml").path).directory(dir)
        pb.environment()["KARTKA_LOG"] = "warn"
        pb.redirectError(ProcessBuilder.Redirect.INHERIT)
        val p = pb.start()
        val line = p.inputStream.bufferedReader().readLine() ?: error("kartka-server exited")
        check(line == "listening on http://127.0.0.1:$port") { line }
        return p
    }

    /** SIGKILL: the server is gone at once, mid-request or not. */
    fun kill() {
        process.destroyForcibly()
        process.waitFor(30, TimeUnit.SECONDS)
    }

    /** The same server back, on the same address and database. */
    fun restart() {
        check(!process.isAlive) { "the server is still running" }
        process = start()
    }

    override fun close() {
        process.destroy()
        process.waitFor(30, TimeUnit.SECONDS)
    }
}
