// The Kotlin bindings on the JVM, calling the real library: thin checks that the API, records
// and typed errors work from Kotlin. The behaviour itself is tested in Rust.

import app.kartka.core.ApiException
import app.kartka.core.ChangeListener
import app.kartka.core.NewVisitRec
import app.kartka.core.ServiceRec
import app.kartka.core.ClientBook
import app.kartka.core.ContactPhoneRec
import app.kartka.core.ContactRec
import app.kartka.core.NewBusinessRec
import app.kartka.core.NewClientRec
import java.nio.file.Files
import kotlin.test.Test
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

class ClientBookTest {
    private fun book(): ClientBook {
        val dir = Files.createTempDirectory("kartka")
        val b = ClientBook.open(dir.resolve("book.db").toString())
        b.initBusiness(NewBusinessRec("Студія", "UA", "Europe/Kyiv", "UAH", "uk"))
        return b
    }

    private fun client(name: String, vararg phones: String, email: String? = null) =
        NewClientRec(name, phones.toList(), email, null, null, null, emptyList())

    @Test
    fun cyrillicClientsAreAddedAndFound() {
        val b = book()
        val c = b.addClient(client("Олена Коваленко", "067 123 45 67"))
        assertEquals("+380671234567", c.phones[0].e164)
        assertEquals(listOf("Олена Коваленко"), b.search("олен", 0u, 50u).map { it.name })
        assertEquals(listOf(c.id), b.search("067 123", 0u, 50u).map { it.id })
    }

    @Test
    fun consentGatesTheWhatsAppLink() {
        val b = book()
        val c = b.addClient(client("Anna", "0671234567"))
        val e = assertFailsWith<ApiException.NoConsent> { b.quickMessage(c.id, "whatsapp", "Привіт", "android") }
        assertEquals("whatsapp", e.channel)
        val consent = b.setConsent(c.id, "whatsapp", true, "written", "анкета")
        assertEquals(listOf("whatsapp"), consent.granted)
        val m = b.quickMessage(c.id, "whatsapp", "Привіт & до зустрічі", "android")
        assertTrue(m.link.startsWith("https://wa.me/380671234567?text=%D0%9F"), m.link)
    }

    @Test
    fun anEncryptedBookNeedsItsKeyAndClientsCanBeForgotten() {
        val path = Files.createTempDirectory("kartka").resolve("secret.db").toString()
        val key = ByteArray(32) { it.toByte() }
        val b = ClientBook.openEncrypted(path, key)
        b.initBusiness(NewBusinessRec("Студія", "UA", "Europe/Kyiv", "UAH", "uk"))
        val c = b.addClient(client("Олена Шифрована", "0671234567"))
        assertFailsWith<ApiException.WrongKey> { ClientBook.openEncrypted(path, ByteArray(32)) }
        assertFailsWith<ApiException.WrongKey> { ClientBook.open(path) }
        b.forgetClient(c.id)
        assertFailsWith<ApiException.NotFound> { b.getClient(c.id) }
    }

    @Test
    fun typedErrorsCrossTheBoundary() {
        val b = book()
        val e = assertFailsWith<ApiException.Validation> { b.addClient(client("X", email = "not-an-email")) }
        assertEquals("email", e.field)
        assertFailsWith<ApiException.NotFound> { b.getClient("01234567-89ab-7def-8123-456789abcdef") }
    }

    @Test
    fun phoneBookContactsArePreviewedAndImported() {
        val b = book()
        fun contact(given: String?, family: String?, vararg numbers: String, account: String? = null) =
            ContactRec(given, family, null, numbers.map { ContactPhoneRec(it, "mobile") }, emptyList(), null, null, null, account)
        val contacts = listOf(
            contact("Олена", "Коваленко", "067 123 45 67"),
            contact("Олена", "Коваленко", "+380671234567", account = "com.whatsapp"),
            contact(null, null),
        )
        val p = b.previewImport(contacts)
        assertEquals(listOf("new", "duplicate", "invalid"), p.items.map { it.status })
        assertEquals(1, b.importContacts(contacts, emptyList()).size)
        assertEquals(0, b.importContacts(contacts, emptyList()).size)
    }

    @Test
    fun listenerHearsWritesAndVisitsFollowTheZone() {
        val b = book()
        val heard = mutableListOf<List<String>>()
        b.setChangeListener(object : ChangeListener {
            override fun clientsChanged(clientIds: List<String>) {
                heard.add(clientIds)
            }
        })
        val c = b.addClient(client("Олена", "0671234567"))
        val v = b.addVisit(NewVisitRec(c.id, "2026-07-01T07:00:00Z", 60u, listOf(ServiceRec("Манікюр", 80000, 1u)), null, 0))
        assertEquals("Europe/Kyiv", v.zone)
        assertEquals(listOf(listOf(c.id), listOf(c.id)), heard)
        assertEquals(listOf(v.id), b.agenda("2026-07-01T00:00:00+03:00", "2026-07-02T00:00:00+03:00").map { it.id })
    }

    @Test
    fun twoCardsAreMergedAndTheMergeUndone() {
        val b = book()
        val keep = b.addClient(client("Олена Коваль", "0671234567"))
        val other = b.addClient(client("Олена К.", "0501112233", email = "olena@example.com"))
        b.setConsent(keep.id, "sms", true, "written", "")
        val preview = b.previewMerge(keep.id, other.id)
        assertEquals(setOf("+380671234567", "+380501112233"), preview.phones.map { it.e164 }.toSet())
        assertEquals(listOf("sms"), preview.withdrawn)
        val undo = b.mergeClients(keep.id, other.id)
        assertEquals(listOf(keep.id), b.search("олена", 0u, 50u).map { it.id })
        assertEquals(listOf(undo), b.undoableMerges().map { it.undoId })
        b.undoMerge(undo)
        assertEquals(setOf(keep.id, other.id), b.search("олена", 0u, 50u).map { it.id }.toSet())
        // The server signs start links: an unpaired book cannot make one.
        assertFailsWith<ApiException.NotPaired> { b.telegramBotLink(keep.id) }
        b.setTelegramBot("studio_bot")
    }
}
