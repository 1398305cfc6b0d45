// A real kartka-server process on loopback for the binding tests (the binary built by
// scripts/test-bindings, given in KARTKA_SERVER_BIN), and empty books in temporary directories.

import app.kartka.core.ClientBook
import java.nio.file.Files
import java.util.concurrent.TimeUnit
import kotlin.test.assertTrue

class TestServer {
    val process: Process
    val url: String

    init {
        val bin = System.getenv("KARTKA_SERVER_BIN") ?: error("KARTKA_SERVER_BIN is not set")
        val dir = Files.createTempDirectory("kartka-server").toFile()
        val pb = ProcessBuilder(bin, "--bind", "127.0.0.1:0").directory(dir)
        pb.environment()["KARTKA_LOG"] = "warn"
        pb.redirectError(ProcessBuilder.Redirect.INHERIT)
        process = pb.start()
        val line = process.inputStream.bufferedReader().readLine()
        assertTrue(line.startsWith("listening on "), line)
        url = line.removePrefix("listening on ")
    }

    fun stop() {
        process.destroy()
        process.waitFor(30, TimeUnit.SECONDS)
    }
}

fun book(name: String): ClientBook =
    ClientBook.open(Files.createTempDirectory("kartka").resolve("$name.db").toString())
