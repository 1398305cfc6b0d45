package app.kartka.app

import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.runBlocking
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull

class LaunchTest {
    @Test
    fun everyLinkTheCoreBuildsOpensWithTheRightIntent(): Unit = runBlocking {
        val book = newBook()
        val c = book.client("Олена", "067 123 45 67", email = "olena@example.com")
        for (ch in listOf("sms", "whatsapp", "telegram", "viber", "email")) book.setConsent(c.id, ch, true, "written", "")
        val card = ClientCardViewModel(book, c.id, Dispatchers.IO)
        val kinds = listOf("sms", "whatsapp", "telegram", "viber", "email").associateWith { card.prepare(it, "Привіт")!! }
        assertEquals(LaunchSpec.Kind.SEND_TO, kinds["sms"]!!.kind)
        assertEquals("sms:+380671234567?body=%D0%9F%D1%80%D0%B8%D0%B2%D1%96%D1%82", kinds["sms"]!!.uri)
        assertEquals(LaunchSpec.Kind.VIEW, kinds["whatsapp"]!!.kind)
        assertEquals(LaunchSpec.Kind.VIEW, kinds["telegram"]!!.kind)
        assertEquals(LaunchSpec.Kind.VIEW, kinds["viber"]!!.kind)
        assertEquals(LaunchSpec.Kind.SEND_TO, kinds["email"]!!.kind)
        assertEquals("android.intent.action.SENDTO", kinds["email"]!!.androidAction)
        assertFailsWith<IllegalArgumentException> { LaunchSpec.of("javascript:alert(1)") }
    }

    @Test
    fun pairingCodesComeFromAQrCodeOrAreTyped() {
        val qr = PairingCode("https://sync.example.com:8443", "K7QX2M9PTA").toUri()
        assertEquals(PairingCode("https://sync.example.com:8443", "K7QX2M9PTA"), PairingCode.parse(qr))
        assertEquals(PairingCode(null, "k7qx2m9pta"), PairingCode.parse(" k7qx2 m9pta "))
        assertNull(PairingCode.parse("kartka://pair?server=ftp://x&code=ABC"))
        assertNull(PairingCode.parse("kartka://pair?code=ABCDEF"))
        assertNull(PairingCode.parse("12"))
    }
}
