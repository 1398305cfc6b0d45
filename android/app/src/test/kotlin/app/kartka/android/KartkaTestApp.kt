package app.kartka.android

/**
 * The real application, with one difference: Robolectric has no `AndroidKeyStore` provider,
 * so the book's key is a fixed one instead of a Keystore-wrapped random one. The book is still
 * the encrypted SQLCipher file on the (Robolectric) device's database path.
 */
class KartkaTestApp : KartkaApp() {
    override fun bookKey(): ByteArray = ByteArray(32) { it.toByte() }

    /** So that the foreground loop, once stopped, ends within a test. */
    override val syncWaitSeconds = 1
}
