package app.kartka.android

/**
 * The real application, with one difference: Robolectric has no `AndroidKeyStore` provider,
 * so the book's key is a fixed one instead of a Keystore-wrapped random one. The book is still
 * the encrypted SQLCipher file on the (Robolectric) device's database path.
 */
open class KartkaTestApp : KartkaApp() {
    override fun bookKey(): ByteArray = ByteArray(32) { it.toByte() }

    /** So that the foreground loop, once stopped, ends within a test. */
    override val syncWaitSeconds = 1
}

/**
 * The test application over a book an older Kartka left: version 6, its cards holding what
 * the old phone reader stored (`scripts/old-reader-book` writes it from the core's upgrade
 * test), in place before the application opens it.
 */
class OldReaderBookApp : KartkaTestApp() {
    override fun onCreate() {
        val book = getDatabasePath("kartka.db").apply { parentFile?.mkdirs() }
        javaClass.getResourceAsStream("/old-reader-book.db")!!.use { from ->
            book.outputStream().use { from.copyTo(it) }
        }
        super.onCreate()
    }
}
